// actions.js (view): the lifecycle buttons of a stream, shared by the streams list and the
// stream page: only those the state allows (lib/actions.js), delete behind an inline
// confirmation that offers, for a cdc stream, to clean up its source too (drop_slot: the
// replication slot and publication of a PostgreSQL source) and its checkpoints.

import { api, enc, canWrite } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { allowedActions, ACTION_LABELS, cleanupLabel } from '../lib/actions.js';
import { kindOfUrl } from '../lib/validate.js';

// Buttons for stream s. onDone(action, result) runs after a successful call (result is the
// stream, or null after delete); errBox shows a failed call's error. None for a read-only
// key: every action needs admin.
export function actionButtons(s, { onDone, errBox, confirmBox, exclude = [] }) {
  if (!canWrite()) return [];
  return allowedActions(s.state)
    .filter((a) => !exclude.includes(a))
    .map((a) => {
      const b = h('button', { type: 'button', class: a === 'delete' ? 'danger' : a === 'start' || a === 'resume' ? 'primary' : '', 'data-action': a, 'data-admin': true,
        'aria-label': `${ACTION_LABELS[a]} ${s.name}` }, ACTION_LABELS[a]);
      b.addEventListener('click', async () => {
        if (a === 'delete') return askDelete(s, confirmBox, errBox, onDone);
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

function askDelete(s, box, errBox, onDone) {
  // the source's kind: from its URL, or from its connection (looked up; the label is
  // neutral until then)
  const mode = s.spec?.mode;
  const src = s.spec?.source || {};
  const label = cleanupLabel(mode, src.url ? kindOfUrl(src.url) : null);
  const drop = label ? h('input', { type: 'checkbox', name: 'drop_slot' }) : null;
  const text = label ? h('span', null, label) : null;
  if (label && !src.url && src.connection) {
    api('GET', `/connections/${enc(src.connection)}`)
      .then((c) => c && c.kind && replace(text, cleanupLabel(mode, c.kind)))
      .catch(() => {});
  }
  const yes = h('button', { type: 'button', class: 'danger', 'data-confirm': 'delete' }, 'Delete');
  const no = h('button', { type: 'button', onclick: () => replace(box) }, 'Cancel');
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    replace(errBox);
    try {
      await api('DELETE', `/streams/${enc(s.id)}${drop && drop.checked ? '?drop_slot=true' : ''}`);
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
      drop ? h('label', { class: 'choice inline' }, drop, text) : null,
      yes, no)
  );
  no.focus();
}
