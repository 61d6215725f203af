// actions.js: a stream's lifecycle as docs/api.md states it — which actions each state
// allows, and how a state's badge looks. Pure; tests in tests/ui/unit/actions.test.js.
//
//   created → starting → running ⇄ paused → stopping → stopped | completed | failed

export const STATES = [
  'created',
  'starting',
  'running',
  'paused',
  'stopping',
  'stopped',
  'completed',
  'failed',
];

// The states each action may start from (the server answers 409 invalid_state otherwise).
const FROM = {
  start: ['created', 'stopped', 'completed', 'failed'],
  pause: ['starting', 'running'],
  resume: ['paused'],
  stop: ['starting', 'running', 'paused'],
  delete: ['created', 'paused', 'stopped', 'completed', 'failed'],
};

export const ACTION_LABELS = {
  start: 'Start',
  pause: 'Pause',
  resume: 'Resume',
  stop: 'Stop',
  delete: 'Delete',
};

// The actions allowed in state, in the order the UI shows them. An unknown state allows
// nothing but delete is not offered either: the UI waits for the server to say more.
export function allowedActions(state) {
  return Object.keys(FROM).filter((a) => FROM[a].includes(state));
}

// Whether action is allowed in state.
export function isAllowed(action, state) {
  return (FROM[action] || []).includes(state);
}

// The states whose spec may be changed (PUT /api/v1/streams/{id}): those without a process.
// A paused stream resumes, a stopped one starts, with the new spec.
export const EDITABLE = ['created', 'paused', 'stopped', 'completed', 'failed'];

export function isEditable(state) {
  return EDITABLE.includes(state);
}

// The badge's tone for state: "ok" (running, completed), "busy" (starting, stopping),
// "warn" (paused), "bad" (failed), "idle" (created, stopped, unknown).
export function stateTone(state) {
  switch (state) {
    case 'running':
    case 'completed':
      return 'ok';
    case 'starting':
    case 'stopping':
      return 'busy';
    case 'paused':
      return 'warn';
    case 'failed':
      return 'bad';
    default:
      return 'idle';
  }
}

// Whether a stream in state moves data (stats arrive every second).
export function isActive(state) {
  return state === 'starting' || state === 'running' || state === 'stopping';
}

// What deleting a stream with drop_slot=true also cleans up (docs/api.md: what `sluice
// cleanup` does), by the stream's mode and the kind of its source ('postgres', 'mysql', or
// null while unknown). null for a load: it leaves nothing to clean up on its source.
export function cleanupLabel(mode, kind) {
  if (mode !== 'cdc') return null;
  if (kind === 'mysql') return 'also delete its checkpoints on the target (a MariaDB/MySQL source keeps nothing for the stream)';
  if (kind === 'postgres') return 'also drop its replication slot and publication, and delete its checkpoints on the target';
  return 'also drop its replication slot and publication (PostgreSQL source), and delete its checkpoints on the target';
}
