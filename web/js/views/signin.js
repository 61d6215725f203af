// signin.js: the sign-in page. The key is checked with a real call (GET /whoami, which
// also says whether it is read-only or admin) before it is kept in sessionStorage; a
// refused key shows an error under the field.

import { api, setKey, setRole } from '../api.js';
import { h, field, setFieldError, errorBox, replace } from '../dom.js';

export const signinView = {
  title: 'Sign in',
  mount(root) {
    const input = h('input', {
      type: 'password',
      name: 'key',
      autocomplete: 'current-password',
      required: true,
      spellcheck: 'false',
    });
    const box = h('div', { class: 'form-errors' });
    const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
    const form = h(
      'form',
      { class: 'card narrow', novalidate: true, 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title' }, 'Sign in to sluice'),
      h(
        'p',
        { class: 'muted' },
        'Enter an API key of this server: SLUICE_API_KEY, the key file given with --api-key-file, ' +
          'the key `sluice server` printed on its first start, or one made by `sluice key add` ' +
          '(a read-only key shows everything and changes nothing). It is kept for this browser session only.'
      ),
      field({ label: 'API key', input }),
      box,
      h('div', { class: 'actions' }, button)
    );
    const msg = sessionStorage.getItem('sluice.signinMessage');
    if (msg) {
      sessionStorage.removeItem('sluice.signinMessage');
      replace(box, errorBox({ message: msg }));
    }
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      replace(box);
      setFieldError(form, 'key', null);
      const key = input.value.trim();
      if (!key) {
        setFieldError(form, 'key', 'Enter the API key.');
        input.focus();
        return;
      }
      button.disabled = true;
      try {
        const me = await api('GET', '/whoami', undefined, { key, quiet401: true });
        setKey(key);
        setRole(me.role);
        const after = sessionStorage.getItem('sluice.after');
        sessionStorage.removeItem('sluice.after');
        location.hash = after && !after.startsWith('/signin') ? '#' + after : '#/streams';
      } catch (err) {
        if (err.status === 401) {
          setFieldError(form, 'key', 'This key was refused by the server (401 unauthorized). Check it and try again.');
          input.focus();
          input.select();
        } else replace(box, errorBox(err));
      } finally {
        button.disabled = false;
      }
    });
    root.append(form);
    input.focus();
  },
};
