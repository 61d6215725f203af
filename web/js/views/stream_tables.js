// stream_tables.js (view): the tables of a cdc stream on its page (docs/ui.md "Stream page"):
// each table's state (copying with rows copied, streaming, failed with its error, removed),
// and the actions on them: add tables, resync one (also one that failed alone), remove one
// (its target table kept, or dropped). Each action calls the API (docs/api.md "Tables of a
// stream"); the page's live stats then show the new states. They need an admin key: hidden
// (data-admin) for a read-only one.

import { api, enc } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { fmtInt } from '../lib/format.js';
import { tablesEditable, parseTableNames, stateNote, stateTone } from '../lib/stream-tables.js';

// The state cell of table row tb (stats "tables" entry).
export function tableState(tb) {
  if (!tb.state) return null;
  const note = stateNote(tb, fmtInt);
  const attrs = tb.state === 'failed' ? { class: 'small bad-text', 'data-table-error': '' }
    : { class: 'small muted', 'data-copied': String(tb.copied_rows) };
  return h('td', { 'data-table-state': tb.state },
    h('span', { class: `badge ${stateTone(tb.state)}` }, tb.state), note ? h('div', attrs, note) : null);
}

async function run(errBox, button, call, onDone) {
  button.disabled = true;
  replace(errBox);
  try {
    const r = await call();
    onDone(r);
  } catch (err) {
    replace(errBox, errorBox(err));
  } finally {
    button.disabled = false;
  }
}

// The actions cell of table row tb of stream s: resync, and remove behind a confirmation
// (box) that offers to drop the target table.
export function tableActions(s, tb, { errBox, box, onDone }) {
  if (!tablesEditable(s) || tb.state === 'removed') return h('td');
  const resync = h('button', { type: 'button', class: 'small', 'data-table-action': 'resync', 'aria-label': `Resync ${tb.name}` }, 'Resync');
  resync.addEventListener('click', () =>
    run(errBox, resync, () => api('POST', `/streams/${enc(s.id)}/tables/${enc(tb.name)}/resync`), onDone));
  const remove = h('button', { type: 'button', class: 'small danger', 'data-table-action': 'remove', 'aria-label': `Remove ${tb.name}` }, 'Remove');
  remove.addEventListener('click', () => {
    const drop = h('input', { type: 'checkbox', name: 'drop' });
    const yes = h('button', { type: 'button', class: 'danger', 'data-confirm': 'remove-table' }, 'Remove');
    const no = h('button', { type: 'button', onclick: () => replace(box) }, 'Cancel');
    yes.addEventListener('click', () =>
      run(errBox, yes, () => api('DELETE', `/streams/${enc(s.id)}/tables/${enc(tb.name)}${drop.checked ? '?drop=true' : ''}`), (r) => {
        replace(box);
        onDone(r);
      }));
    replace(box, h('div', { class: 'confirm', role: 'group', 'aria-label': `Remove ${tb.name}` },
      h('span', null, `Stop replicating ${tb.name}?`),
      h('label', { class: 'choice inline' }, drop, h('span', null, 'also drop the table on the target')),
      yes, no));
    no.focus();
  });
  return h('td', { class: 'row-actions', 'data-admin': true }, resync, ' ', remove);
}

// The "add tables" form of stream s: names separated by commas or spaces.
export function addTablesForm(s, { errBox, onDone }) {
  if (!tablesEditable(s)) return null;
  const input = h('input', { type: 'text', name: 'tables', placeholder: 'orders, public.customers', 'aria-label': 'Tables to add', size: 40 });
  const add = h('button', { type: 'submit', class: 'primary', 'data-table-action': 'add' }, 'Add tables');
  const form = h('form', { class: 'inline-form', 'data-form': 'add-tables', 'data-admin': true }, input, ' ', add,
    h('div', { class: 'help small muted' }, 'Each new table is copied while the others go on streaming.'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const tables = parseTableNames(input.value);
    if (!tables.length) return;
    run(errBox, add, () => api('POST', `/streams/${enc(s.id)}/tables`, { tables }), (r) => {
      input.value = '';
      onDone(r);
    });
  });
  return form;
}
