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
  pause: ['running'],
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
