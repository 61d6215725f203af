// actions.js (view): the lifecycle buttons of a stream, shared by the streams list and the
// stream page: only those the state allows (lib/actions.js), delete behind an inline
// confirmation that offers to drop the replication slot and publication too when the
// stream has them (a cdc stream from PostgreSQL).

import { api, enc } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { allowedActions, ACTION_LABELS, hasReplicationSlot } from '../lib/actions.js';

// Buttons for stream s. onDone(action, result) runs after a successful call (result is the
// stream, or null after delete); errBox shows a failed call's error.
export function actionButtons(s, { onDone, errBox, confirmBox, exclude = [] }) {
  return allowedActions(s.state)
    .filter((a) => !exclude.includes(a))
    .map((a) => {
      const b = h('button', { type: 'button', class: a === 'delete' ? 'danger' : a === 'start' || a === 'resume' ? 'primary' : '', 'data-action': a,
        'aria-label': `${ACTION_LABELS[a]} ${s.name}` }, ACTION_LABELS[a]);
      b.addEventListener('click', async () => {
        if (a === 'delete') return askDelete(s, confirmBox, errBox, onDone, await sourceKind(s));
        b.disabled = true;
        replace(errBox);
        try {
          const r = await api('POST', `/streams/${enc(s.id)}/${a}`);
          onDone(a, r);
        } catch (err) {
          replace(errBox, errorBox(err));
        } finally {
          b.disabled = false;
        }
      });
      return b;
    });
}

// The kind of the stream's source connection when its spec names one (else null).
async function sourceKind(s) {
  const name = s.spec && s.spec.source && s.spec.source.connection;
  if (!name) return null;
  try {
    return (await api('GET', `/connections/${enc(name)}`)).kind;
  } catch {
    return null; // a deleted connection: nothing to offer
  }
}

function askDelete(s, box, errBox, onDone, kind) {
  const slot = hasReplicationSlot(s.spec, kind);
  const drop = h('input', { type: 'checkbox', name: 'drop_slot' });
  const yes = h('button', { type: 'button', class: 'danger', 'data-confirm': 'delete' }, 'Delete');
  const no = h('button', { type: 'button', onclick: () => replace(box) }, 'Cancel');
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    replace(errBox);
    try {
      await api('DELETE', `/streams/${enc(s.id)}${slot && drop.checked ? '?drop_slot=true' : ''}`);
      replace(box);
      onDone('delete', null);
    } catch (err) {
      replace(errBox, errorBox(err));
      yes.disabled = false;
    }
  });
  replace(
    box,
    h('div', { class: 'confirm', role: 'group', 'aria-label': `Delete ${s.name}` },
      h('span', null, `Delete stream ${s.name} and its broker and local state?`),
      slot ? h('label', { class: 'choice inline' }, drop, h('span', null, 'also drop its replication slot and publication on the PostgreSQL source')) : null,
      yes, no)
  );
  no.focus();
}
