// wizard.js: the new-stream wizard: source → tables → target → mode → options → review →
// create (optionally start). Each step checks its answers before Next (nothing is sent
// while a step is invalid); the review shows the exact JSON that POST /streams receives.
// An API error on create is shown next to the answer it is about, on that answer's step.
// The options step is built from GET /api/v1/options, the table the server parses with.

import { api, enc } from '../api.js';
import { h, field, replace, errorBox, setFieldError, clearFieldErrors } from '../dom.js';
import { KINDS, isDatabase, validateStreamName, validateOptions, formOptions, errorField } from '../lib/validate.js';
import { buildSpec, tableRef, estimatedRows } from '../lib/spec.js';
import { fmtInt } from '../lib/format.js';

const STEPS = ['Source', 'Tables', 'Target', 'Mode', 'Options', 'Review'];
// Which step holds each answer an API error may name (the options' are added once the
// option table is read).
const FIELD_STEP = { name: 0, source: 0, tables: 1, target: 2, mode: 3, initial_load: 3 };

// The help line of an option of the table.
function optionHelp(o) {
  const d = o.default === null || o.default === undefined ? '' : ` Default ${o.type === 'int' ? fmtInt(o.default) : o.default}.`;
  return `${o.doc}.${d}`;
}

export const wizardView = {
  title: 'New stream',
  mount(root) {
    const a = {
      name: '',
      source: null, // {connection, kind, id}
      tables: [], // picked [{schema, name, est_rows, has_primary_key}]
      target: null,
      mode: 'cdc',
      initial_load: true,
      options: {},
      start: true,
    };
    let conns = [];
    let optTable = []; // `options` of GET /api/v1/options
    let catalog = null; // tables of a.source
    let catalogFor = null;
    let step = 0;
    let pendingError = null; // {field, err} to show after rendering a step
    const stepsNav = h('ol', { class: 'steps', 'aria-label': 'Steps' });
    const body = h('div', { class: 'card' });
    const pageErr = h('div');
    root.append(h('div', { class: 'page-head' }, h('h1', null, 'New stream')), stepsNav, pageErr, body);

    function renderSteps() {
      replace(
        stepsNav,
        STEPS.map((s, i) =>
          h('li', { class: i === step ? 'current' : i < step ? 'done' : '', 'aria-current': i === step ? 'step' : null }, `${i + 1}. ${s}`)
        )
      );
    }

    function nav(form, { next = 'Next', onNext }) {
      const back = step > 0 ? h('button', { type: 'button', onclick: () => go(step - 1) }, 'Back') : null;
      const box = h('div', { class: 'form-errors' });
      form.append(box, h('div', { class: 'actions' }, back, h('button', { type: 'submit', class: 'primary' }, next)));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearFieldErrors(form);
        replace(box);
        await onNext(form, box);
      });
      return box;
    }

    function go(i) {
      step = i;
      render();
    }

    function showPending(form, box) {
      if (!pendingError) return;
      const { fieldName, err } = pendingError;
      pendingError = null;
      const msg = err.message + (err.hint ? ` Hint: ${err.hint}` : '');
      if (!fieldName || !setFieldError(form, fieldName, msg)) replace(box, errorBox(err));
    }

    function dbConns() {
      return conns.filter((c) => isDatabase(c.kind));
    }

    function connSelect(name, list, selected, label) {
      return h(
        'select',
        { name, 'aria-label': label },
        h('option', { value: '' }, '— choose —'),
        list.map((c) => h('option', { value: c.name, selected: selected === c.name }, `${c.name} (${KINDS[c.kind]?.label || c.kind})`))
      );
    }

    // Step 1: name and source.
    function stepSource() {
      const name = h('input', { name: 'name', value: a.name, autocomplete: 'off', spellcheck: 'false' });
      const list = dbConns();
      const src = connSelect('source', list, a.source?.connection, 'Source connection');
      const form = h(
        'form',
        { novalidate: true, 'aria-label': 'Source' },
        h('h2', null, 'Where do the rows come from?'),
        field({ label: 'Stream name', input: name, help: 'Letters, digits, "-" and "_"; names the stream everywhere.' }),
        field({ label: 'Source connection', input: src, help: list.length ? 'A PostgreSQL or MySQL/MariaDB connection.' : null }),
        list.length ? null : h('p', { class: 'empty' }, 'No database connection yet: ', h('a', { href: '#/connections' }, 'add one'), ' first.')
      );
      const box = nav(form, {
        onNext: () => {
          a.name = name.value.trim();
          const c = list.find((x) => x.name === src.value);
          const e1 = validateStreamName(a.name);
          if (e1) setFieldError(form, 'name', e1);
          if (!c) setFieldError(form, 'source', 'Choose the connection to read from.');
          if (e1 || !c) return form.querySelector('[aria-invalid="true"]')?.focus();
          if (a.source?.connection !== c.name) a.tables = [];
          a.source = { connection: c.name, kind: c.kind, id: c.id };
          go(1);
        },
      });
      showPending(form, box);
      return form;
    }

    // Step 2: tables from the source's catalog.
    function stepTables() {
      const form = h('form', { novalidate: true, 'aria-label': 'Tables' }, h('h2', null, `Tables of ${a.source.connection}`));
      const listBox = h('div', { class: 'field', 'data-field': 'tables' }, h('p', { class: 'muted' }, 'Reading the catalog…'), h('div', { class: 'field-error', 'aria-live': 'polite' }));
      const total = h('p', { class: 'muted', 'aria-live': 'polite' });
      form.append(listBox, total);
      const picked = new Set(a.tables.map((t) => `${t.schema}.${t.name}`));
      const box = nav(form, {
        onNext: () => {
          a.tables = (catalog || []).filter((t) => picked.has(`${t.schema}.${t.name}`));
          if (!a.tables.length) {
            setFieldError(form, 'tables', 'Pick at least one table.');
            return;
          }
          go(2);
        },
      });
      const showTotal = () => {
        const sel = (catalog || []).filter((t) => picked.has(`${t.schema}.${t.name}`));
        replace(total, `${sel.length} of ${(catalog || []).length} tables picked, about ${fmtInt(estimatedRows(sel) ?? 0)} rows.`);
      };
      const draw = () => {
        const boxes = catalog.map((t) => {
          const key = `${t.schema}.${t.name}`;
          const cb = h('input', { type: 'checkbox', name: 'table', value: key, checked: picked.has(key) });
          cb.addEventListener('change', () => {
            if (cb.checked) picked.add(key);
            else picked.delete(key);
            if (picked.size) setFieldError(form, 'tables', null);
            showTotal();
          });
          return h(
            'label',
            { class: 'table-pick' },
            cb,
            h('span', { class: 'tname' }, tableRef(a.source.kind, t)),
            h('span', { class: 'muted' }, t.est_rows == null ? 'no estimate' : `~${fmtInt(t.est_rows)} rows`),
            t.has_primary_key ? null : h('span', { class: 'tag warn', title: 'Without a primary key the table is copied as one chunk; CDC updates and deletes need a key.' }, 'no primary key')
          );
        });
        const all = h('button', { type: 'button', onclick: () => { catalog.forEach((t) => picked.add(`${t.schema}.${t.name}`)); draw(); } }, 'Select all');
        const none = h('button', { type: 'button', onclick: () => { picked.clear(); draw(); } }, 'Select none');
        const err = listBox.querySelector('.field-error');
        replace(
          listBox,
          h('fieldset', null, h('legend', null, 'Tables to copy'), h('div', { class: 'actions left' }, all, none),
            catalog.length ? h('div', { class: 'table-list' }, boxes) : h('p', { class: 'empty' }, 'This database has no tables.')),
          err
        );
        showTotal();
      };
      (async () => {
        try {
          if (catalogFor !== a.source.connection) {
            catalog = (await api('GET', `/connections/${enc(a.source.id || a.source.connection)}/tables`)).tables || [];
            catalogFor = a.source.connection;
          }
          draw();
        } catch (err) {
          replace(listBox, errorBox(err), h('div', { class: 'field-error' }));
        }
      })();
      showPending(form, box);
      return form;
    }

    // Step 3: target.
    function stepTarget() {
      const list = conns.filter((c) => c.name !== a.source.connection);
      const tgt = connSelect('target', list, a.target?.connection, 'Target connection');
      const form = h(
        'form',
        { novalidate: true, 'aria-label': 'Target' },
        h('h2', null, 'Where do they go?'),
        field({ label: 'Target connection', input: tgt, help: 'A database, file folder or S3 connection other than the source.' })
      );
      const box = nav(form, {
        onNext: () => {
          const c = list.find((x) => x.name === tgt.value);
          if (!c) {
            setFieldError(form, 'target', 'Choose the connection to write to.');
            return tgt.focus();
          }
          a.target = { connection: c.name, kind: c.kind, id: c.id };
          go(3);
        },
      });
      showPending(form, box);
      return form;
    }

    // Step 4: mode.
    function stepMode() {
      const radio = (v, label, help) =>
        h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'mode', value: v, checked: a.mode === v }), h('span', null, h('strong', null, label), h('br'), h('span', { class: 'muted' }, help)));
      const il = h('input', { type: 'checkbox', name: 'initial_load', checked: a.initial_load });
      const ilLabel = h('label', { class: 'choice', 'data-field': 'initial_load' }, il, h('span', null, 'Copy the existing rows first (initial load from a consistent snapshot)'));
      const form = h(
        'form',
        { novalidate: true, 'aria-label': 'Mode' },
        h('h2', null, 'Copy once, or keep in sync?'),
        h('fieldset', { class: 'field', 'data-field': 'mode' }, h('legend', null, 'Mode'),
          radio('load', 'Load', 'Copy the tables once; the stream completes when done.'),
          radio('cdc', 'Change data capture (CDC)', 'Then stream every change from the WAL / binlog until stopped.'),
          h('div', { class: 'field-error', 'aria-live': 'polite' })),
        ilLabel
      );
      const sync = () => {
        const m = form.querySelector('input[name=mode]:checked')?.value;
        ilLabel.hidden = m !== 'cdc';
      };
      form.addEventListener('change', sync);
      sync();
      const box = nav(form, {
        onNext: () => {
          a.mode = form.querySelector('input[name=mode]:checked')?.value || 'load';
          a.initial_load = il.checked;
          go(4);
        },
      });
      showPending(form, box);
      return form;
    }

    // Step 5: options (empty = the server's default), those of the table that matter in the mode.
    function stepOptions() {
      const offered = formOptions(optTable, a.mode);
      const ints = offered
        .filter((o) => o.type === 'int')
        .map((o) =>
          field({ label: o.name, input: h('input', { name: o.name, inputmode: 'numeric', value: a.options[o.name] ?? '', placeholder: 'default' }), help: optionHelp(o) })
        );
      const enums = offered
        .filter((o) => o.type === 'enum')
        .map((o) =>
          field({
            label: o.name,
            input: h('select', { name: o.name }, h('option', { value: '' }, 'default'), o.choices.map((c) => h('option', { value: c.value, selected: a.options[o.name] === c.value }, c.value))),
            help: optionHelp(o),
          })
        );
      const form = h('form', { novalidate: true, 'aria-label': 'Options' }, h('h2', null, 'Options'),
        h('p', { class: 'muted' }, 'Leave a field empty for the default (docs/spec.md).'),
        h('div', { class: 'grid2' }, ints, enums));
      const box = nav(form, {
        onNext: () => {
          const o = {};
          for (const el of form.querySelectorAll('input[name], select[name]')) o[el.name] = el.value.trim();
          const errs = validateOptions(o, optTable, a.mode);
          const bad = Object.keys(errs);
          for (const f of bad) setFieldError(form, f, errs[f]);
          if (bad.length) return form.querySelector(`[name="${bad[0]}"]`)?.focus();
          a.options = o;
          go(5);
        },
      });
      showPending(form, box);
      return form;
    }

    // Step 6: review and create.
    function stepReview() {
      const spec = buildSpec(a, optTable);
      const start = h('input', { type: 'checkbox', name: 'start', checked: a.start });
      const form = h(
        'form',
        { novalidate: true, 'aria-label': 'Review' },
        h('h2', null, 'Review'),
        h('p', { class: 'muted' }, 'This is the stream spec sent to POST /api/v1/streams:'),
        h('pre', { class: 'json', 'data-spec': '' }, JSON.stringify(spec, null, 2)),
        h('label', { class: 'choice' }, start, h('span', null, 'Start the stream right away'))
      );
      const box = nav(form, {
        next: 'Create stream',
        onNext: async () => {
          a.start = start.checked;
          const btn = form.querySelector('button[type=submit]');
          btn.disabled = true;
          try {
            const s = await api('POST', `/streams${a.start ? '?start=true' : ''}`, spec);
            location.hash = `#/streams/${enc(s.id || s.name)}`;
          } catch (err) {
            btn.disabled = false;
            const f = errorField(err, Object.keys(FIELD_STEP));
            if (f !== null && FIELD_STEP[f] !== undefined && FIELD_STEP[f] !== 5) {
              pendingError = { fieldName: f, err };
              go(FIELD_STEP[f]);
            } else replace(box, errorBox(err));
          }
        },
      });
      showPending(form, box);
      return form;
    }

    function render() {
      renderSteps();
      const f = [stepSource, stepTables, stepTarget, stepMode, stepOptions, stepReview][step]();
      replace(body, f);
      const first = f.querySelector('input:not([type=hidden]), select, button');
      if (first) first.focus();
    }

    (async () => {
      try {
        const [c, t] = await Promise.all([api('GET', '/connections'), api('GET', '/options')]);
        conns = c.connections || [];
        optTable = t.options || [];
        for (const o of optTable) FIELD_STEP[o.name] ??= 4;
        render();
      } catch (err) {
        replace(pageErr, errorBox(err));
      }
    })();
  },
};
