// Unit tests of web/js/lib/actions.js: state → allowed actions as docs/api.md states them,
// and what delete's drop_slot offers to clean up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATES, allowedActions, isAllowed, stateTone, isActive, isEditable, cleanupLabel } from '../../../web/js/lib/actions.js';

test('each state allows exactly the API actions', () => {
  const expected = {
    created: ['start', 'delete'],
    starting: ['pause', 'stop'],
    running: ['pause', 'stop'],
    paused: ['resume', 'stop', 'delete'],
    stopping: [],
    stopped: ['start', 'delete'],
    completed: ['start', 'delete'],
    failed: ['start', 'delete'],
  };
  assert.deepEqual(Object.keys(expected).sort(), [...STATES].sort());
  for (const [state, acts] of Object.entries(expected)) assert.deepEqual(allowedActions(state), acts, state);
});

test('delete is refused while data moves', () => {
  for (const s of ['starting', 'running', 'stopping']) assert.equal(isAllowed('delete', s), false, s);
});

test('the spec is edited only in a state without a process', () => {
  const editable = STATES.filter((s) => isEditable(s));
  assert.deepEqual(editable, ['created', 'paused', 'stopped', 'completed', 'failed']);
  for (const s of editable) assert.equal(isActive(s), false, `${s} has no process`);
  assert.equal(isEditable(undefined), false);
});

test('unknown states and actions allow nothing', () => {
  assert.deepEqual(allowedActions('exploded'), []);
  assert.deepEqual(allowedActions(undefined), []);
  assert.equal(isAllowed('launch', 'created'), false);
});

test('badge tones', () => {
  assert.equal(stateTone('running'), 'ok');
  assert.equal(stateTone('completed'), 'ok');
  assert.equal(stateTone('starting'), 'busy');
  assert.equal(stateTone('stopping'), 'busy');
  assert.equal(stateTone('paused'), 'warn');
  assert.equal(stateTone('failed'), 'bad');
  assert.equal(stateTone('created'), 'idle');
  assert.equal(stateTone('whatever'), 'idle');
  assert.equal(isActive('running'), true);
  assert.equal(isActive('paused'), false);
});

test('what delete with drop_slot also cleans up, by source', () => {
  assert.match(cleanupLabel('cdc', 'postgres'), /drop its replication slot and publication/);
  const my = cleanupLabel('cdc', 'mysql');
  assert.doesNotMatch(my, /slot|publication/, 'no PostgreSQL objects for a MariaDB stream');
  assert.match(my, /checkpoints on the target/);
  assert.match(cleanupLabel('cdc', null), /PostgreSQL source/, 'unknown kind: says which source has a slot');
  assert.equal(cleanupLabel('load', 'postgres'), null);
  assert.equal(cleanupLabel(undefined, 'postgres'), null);
});
