// Unit tests of web/js/lib/actions.js: state → allowed actions as docs/api.md states them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATES, allowedActions, isAllowed, stateTone, isActive, isEditable } from '../../../web/js/lib/actions.js';

test('each state allows exactly the API actions', () => {
  const expected = {
    created: ['start', 'delete'],
    starting: ['stop'],
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
