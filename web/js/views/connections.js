// connections.js: the connections page: list, add, edit, delete, and the server checks of
// POST /connections/{id}/test shown one by one with their hints. Secrets are write-only:
// the password fields start empty and are sent only when typed into (an edited URL keeps
// its "****", which the server reads as "keep the stored secret").

import { api, enc } from '../api.js';
import { h, field, replace, errorBox, setFieldError, clearFieldErrors, showApiError } from '../dom.js';
import { KINDS, kindOfUrl, validateConnection, errorField } from '../lib/validate.js';
import { fmtTime } from '../lib/format.js';

const FIELDS = ['name', 'url', 'password', 'access_key_id', 'secret_access_key'];

export const connectionsView = {
  title: 'Connections',
  mount(root) {
    let conns = [];
    const listBox = h('div', { class: 'list' });
    const formBox = h('div');
    const pageErr = h('div');
    const addBtn = h('button', { type: 'button', class: 'primary', 'data-admin': true, onclick: () => openForm({}) }, 'Add connection');

    root.append(
      h('div', { class: 'page-head' }, h('h1', null, 'Connections'), addBtn),
      h(
        'p',
        { class: 'muted' },
        'Databases and stores that streams read from and write to. Passwords and secret keys are stored encrypted and never shown again.'
      ),
      pageErr,
      formBox,
      listBox
    );

    async function load() {
      try {
        conns = (await api('GET', '/connections')).connections || [];
        replace(pageErr);
        renderList();
      } catch (err) {
        replace(pageErr, errorBox(err));
      }
    }

    function renderList() {
      if (!conns.length) {
        replace(listBox, h('p', { class: 'empty' }, 'No connections yet. Add the database you want to copy from, then the one to copy to.'));
        return;
      }
      const rows = [];
      for (const c of conns) {
        const result = h('div', { class: 'row-extra', 'data-conn-extra': c.name });
        const roleSel = h(
          'select',
          { 'aria-label': `Check ${c.name} as`, name: 'role' },
          c.kind === 'postgres' || c.kind === 'mysql'
            ? [
                h('option', { value: 'source:cdc' }, 'as a CDC source'),
                h('option', { value: 'source:load' }, 'as a load source'),
                h('option', { value: 'target:load' }, 'as a target'),
              ]
            : [h('option', { value: 'target:load' }, 'as a target')]
        );
        const testBtn = h('button', { type: 'button', onclick: () => test(c, roleSel.value, result, testBtn) }, 'Test');
        // testing, editing and deleting need an admin key (a test is a POST)
        rows.push(
          h(
            'li',
            { class: 'conn', 'data-conn': c.name },
            h(
              'div',
              { class: 'conn-main' },
              h('div', { class: 'conn-name' }, h('strong', null, c.name), ' ', h('span', { class: 'tag' }, KINDS[c.kind]?.label || c.kind)),
              h('code', { class: 'conn-url' }, c.url),
              h('div', { class: 'muted small' }, 'updated ', fmtTime(c.updated_at))
            ),
            h(
              'div',
              { class: 'conn-actions', 'data-admin': true },
              roleSel,
              testBtn,
              h('button', { type: 'button', onclick: () => openForm(c) }, 'Edit'),
              h('button', { type: 'button', class: 'danger', onclick: () => askDelete(c, result) }, 'Delete')
            ),
            result
          )
        );
      }
      replace(listBox, h('ul', { class: 'conns', 'aria-label': 'Connections' }, rows));
    }

    async function test(c, roleMode, box, btn) {
      const [role, mode] = roleMode.split(':');
      btn.disabled = true;
      replace(box, h('p', { class: 'muted' }, `Checking ${c.name}…`));
      try {
        const r = await api('POST', `/connections/${enc(c.id)}/test`, { mode, role });
        replace(
          box,
          h(
            'div',
            { class: `checks ${r.ok ? 'all-ok' : 'some-failed'}`, 'data-ok': String(!!r.ok) },
            h('div', { class: 'checks-head' }, r.ok ? '✓ All checks passed' : '✗ Some checks failed'),
            h(
              'ul',
              null,
              (r.checks || []).map((k) =>
                h(
                  'li',
                  { class: `check ${k.ok ? 'pass' : 'fail'}`, 'data-check': k.name },
                  h('span', { class: 'mark', 'aria-label': k.ok ? 'pass' : 'fail' }, k.ok ? '✓' : '✗'),
                  h('span', { class: 'check-name' }, k.name),
                  k.message ? h('span', { class: 'check-msg' }, k.message) : null,
                  k.hint && !k.ok ? h('div', { class: 'hint' }, 'Hint: ', k.hint) : null
                )
              )
            )
          )
        );
      } catch (err) {
        replace(box, errorBox(err));
      } finally {
        btn.disabled = false;
      }
    }

    function askDelete(c, box) {
      const yes = h('button', { type: 'button', class: 'danger' }, `Delete ${c.name}`);
      const no = h('button', { type: 'button', onclick: () => replace(box) }, 'Cancel');
      const err = h('div');
      yes.addEventListener('click', async () => {
        yes.disabled = true;
        try {
          await api('DELETE', `/connections/${enc(c.id)}`);
          await load();
        } catch (e) {
          replace(err, errorBox(e));
          yes.disabled = false;
        }
      });
      replace(box, h('div', { class: 'confirm', role: 'group', 'aria-label': 'Confirm delete' },
        h('span', null, `Delete connection ${c.name}? Streams that name it must be deleted first.`), yes, no, err));
      no.focus();
    }

    function openForm(c) {
      const isNew = !c.id;
      const kind = c.kind || 'postgres';
      const kindSel = h(
        'select',
        { name: 'kind' },
        Object.entries(KINDS).map(([k, v]) => h('option', { value: k, selected: k === kind }, v.label))
      );
      const name = h('input', { name: 'name', value: c.name || '', autocomplete: 'off', spellcheck: 'false' });
      const url = h('input', { name: 'url', value: c.url || '', autocomplete: 'off', spellcheck: 'false' });
      const pw = h('input', {
        name: 'password',
        type: 'password',
        autocomplete: 'new-password',
        placeholder: isNew ? 'optional if the URL has it' : 'unchanged — type to replace',
      });
      const akid = h('input', { name: 'access_key_id', autocomplete: 'off', value: c.access_key_id || '' });
      const sak = h('input', {
        name: 'secret_access_key',
        type: 'password',
        autocomplete: 'new-password',
        placeholder: isNew ? '' : 'unchanged — type to replace',
      });
      const box = h('div', { class: 'form-errors' });
      const save = h('button', { type: 'submit', class: 'primary' }, isNew ? 'Add connection' : 'Save');
      const dbFields = h('div', null, field({ label: 'Password', input: pw, help: 'Write-only: never shown again.' }));
      const s3Fields = h(
        'div',
        null,
        field({ label: 'Access key id', input: akid }),
        field({ label: 'Secret access key', input: sak, help: 'Write-only: never shown again.' })
      );
      const urlField = field({ label: 'URL', input: url, help: `For example ${KINDS[kind].example}` });
      function syncKind() {
        const k = kindSel.value;
        url.placeholder = KINDS[k].example;
        replace(urlField.querySelector('.help'), `For example ${KINDS[k].example}`);
        dbFields.hidden = !(k === 'postgres' || k === 'mysql');
        s3Fields.hidden = k !== 's3';
      }
      kindSel.addEventListener('change', syncKind);
      url.addEventListener('change', () => {
        const k = kindOfUrl(url.value);
        if (k && k !== kindSel.value) {
          kindSel.value = k;
          syncKind();
        }
      });
      const form = h(
        'form',
        { class: 'card', novalidate: true, 'aria-label': isNew ? 'Add connection' : `Edit connection ${c.name}` },
        h('h2', null, isNew ? 'Add a connection' : `Edit ${c.name}`),
        h('div', { class: 'grid2' }, field({ label: 'Kind', input: kindSel }), field({ label: 'Name', input: name, help: 'Letters, digits, "_", "." or "-".' })),
        urlField,
        dbFields,
        s3Fields,
        box,
        h('div', { class: 'actions' }, save, h('button', { type: 'button', onclick: closeForm }, 'Cancel'))
      );
      syncKind();
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearFieldErrors(form);
        replace(box);
        const values = {
          kind: kindSel.value,
          name: name.value.trim(),
          url: url.value.trim(),
          password: pw.value,
          access_key_id: akid.value.trim(),
          secret_access_key: sak.value,
        };
        const errs = validateConnection(values);
        const bad = Object.keys(errs);
        if (bad.length) {
          for (const f of bad) setFieldError(form, f, errs[f]);
          form.querySelector(`[name="${bad[0]}"]`)?.focus();
          return;
        }
        // A secret field left empty on edit sends back the "****" the server showed, which
        // keeps the stored secret (a PUT without it would drop it).
        const secret = (typed, shown) => typed || (!isNew && shown === '****' ? shown : '');
        const body = { name: values.name, url: values.url };
        const pwv = secret(values.password, c.password);
        if (pwv && !dbFields.hidden) body.password = pwv;
        if (!s3Fields.hidden) {
          if (values.access_key_id) body.access_key_id = values.access_key_id;
          const sakv = secret(values.secret_access_key, c.secret_access_key);
          if (sakv) body.secret_access_key = sakv;
        }
        save.disabled = true;
        try {
          if (isNew) await api('POST', '/connections', body);
          else await api('PUT', `/connections/${enc(c.id)}`, body);
          closeForm();
          await load();
        } catch (err) {
          showApiError(form, box, err, errorField(err, FIELDS));
        } finally {
          save.disabled = false;
        }
      });
      replace(formBox, form);
      addBtn.hidden = true;
      (isNew ? kindSel : url).focus();
    }

    function closeForm() {
      replace(formBox);
      addBtn.hidden = false;
      addBtn.focus();
    }

    load();
  },
};
