// stream-edit.js: the stream page's spec editor. The spec as JSON (secrets masked as the
// API returns them; a "****" left in place keeps the stored secret), checked as it is typed
// against the spec's shape and the option table of GET /api/v1/options (lib/spec-edit.js),
// with the options listed beside it; Save sends PUT /api/v1/streams/{id} only once the
// check passes, and shows the server's error otherwise. Offered in the states without a
// process (lib/actions.js EDITABLE).

import { api, enc } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { checkSpecText, editNotes } from '../lib/spec-edit.js';
import { specText } from '../lib/stream-info.js';

let optionsCache = null;
async function optionTable() {
  if (!optionsCache) optionsCache = api('GET', '/options').then((r) => r.options || []);
  return optionsCache;
}

function optionsHelp(table) {
  return h('details', { class: 'options-help' },
    h('summary', null, 'Options'),
    h('ul', null, table.map((o) => h('li', null, h('code', null, o.name), ` (${o.type}${
      o.type === 'enum' ? ': ' + (o.choices || []).filter((c) => (c.modes || []).length).map((c) => c.value).join(', ')
        : o.min !== undefined && o.min !== null ? `, ${o.min}${o.max !== undefined && o.max !== null ? '–' + o.max : '+'}` : ''
    }${o.default !== null && o.default !== undefined ? `, default ${o.default}` : ''}): ${o.doc}`))));
}

// Opens the editor for stream s in box. onSaved(stream) gets the stream the server returns.
export async function openSpecEditor(s, box, onSaved) {
  let table = [];
  try {
    table = await optionTable();
  } catch (err) {
    optionsCache = null;
    replace(box, errorBox(err));
    return;
  }
  const ta = h('textarea', { name: 'spec', rows: 18, spellcheck: 'false', class: 'spec-editor',
    'aria-label': `Spec of ${s.name}`, 'aria-describedby': 'spec-check' }, specText(s.spec));
  ta.value = specText(s.spec);
  const check = h('div', { id: 'spec-check', class: 'spec-check', 'aria-live': 'polite' });
  const notes = h('div', { class: 'muted small' });
  const apiErr = h('div');
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
  const cancel = h('button', { type: 'button', onclick: () => replace(box) }, 'Cancel');

  function refresh() {
    const { spec, errors } = checkSpecText(ta.value, table);
    ta.setAttribute('aria-invalid', errors.length ? 'true' : 'false');
    save.disabled = errors.length > 0;
    replace(check, errors.length
      ? h('ul', { class: 'field-error' }, errors.map((e) => h('li', { 'data-path': e.path }, e.path ? h('code', null, e.path) : null, e.path ? ': ' : '', e.message)))
      : h('span', { class: 'ok' }, 'The spec is valid.'));
    replace(notes, editNotes(s.spec, spec).map((n) => h('div', null, n)));
    return errors.length === 0 ? spec : null;
  }
  ta.addEventListener('input', refresh);

  const form = h('form', { class: 'card spec-edit', 'aria-label': `Edit stream ${s.name}` },
    h('h2', null, 'Edit the spec'),
    h('p', { class: 'muted small' }, s.state === 'paused'
      ? 'Resume runs the new spec from where the stream paused.'
      : 'The next start runs the new spec from the stream\'s checkpoints.',
      ' Secrets shown as **** are kept as they are. Ctrl+Enter saves, Escape cancels.'),
    ta, check, notes, optionsHelp(table), apiErr,
    h('div', { class: 'actions' }, cancel, save));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const spec = refresh();
    if (!spec) {
      ta.focus();
      return;
    }
    save.disabled = true;
    replace(apiErr);
    try {
      const r = await api('PUT', `/streams/${enc(s.id)}`, spec);
      replace(box);
      onSaved(r);
    } catch (err) {
      replace(apiErr, errorBox(err));
      save.disabled = false;
    }
  });
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') replace(box);
    else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit(); /* Ctrl+Enter saves, once the check passes */
    }
  });
  replace(box, form);
  refresh();
  ta.focus();
}
