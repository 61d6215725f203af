// dom.js: a small helper to build DOM nodes without innerHTML (no markup injection from API
// data), and the shared ways to show an API error and a field's message.

// h('div', {class: 'x', onclick: fn}, child, 'text', [children]) → element. Attributes
// starting with "on" become listeners; null/false attributes and children are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// Replaces el's children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// An API error as a block: message, detail and hint (role=alert so screen readers say it).
export function errorBox(err, extraClass = '') {
  if (!err) return null;
  return h(
    'div',
    { class: `error ${extraClass}`.trim(), role: 'alert' },
    h('strong', null, err.message || String(err)),
    err.detail ? h('div', { class: 'detail' }, err.detail) : null,
    err.hint ? h('div', { class: 'hint' }, 'Hint: ', err.hint) : null
  );
}

let uid = 0;
// A labelled form field: {label, name, input (element), help, error}. The message element
// is linked by aria-describedby and filled by setFieldError.
export function field({ label, input, help }) {
  const id = input.id || `f${++uid}`;
  input.id = id;
  const msg = h('div', { class: 'field-error', id: `${id}-err`, 'aria-live': 'polite' });
  const helpEl = help ? h('div', { class: 'help', id: `${id}-help` }, help) : null;
  input.setAttribute('aria-describedby', [helpEl ? `${id}-help` : null, `${id}-err`].filter(Boolean).join(' '));
  return h('div', { class: 'field', 'data-field': input.name || '' }, h('label', { for: id }, label), input, helpEl, msg);
}

// Shows message (or clears it with null) under the field whose input is named name in form.
export function setFieldError(form, name, message) {
  const wrap = form.querySelector(`.field[data-field="${name}"]`);
  if (!wrap) return false;
  const input = wrap.querySelector('input, select, textarea');
  const msg = wrap.querySelector('.field-error');
  replace(msg, message || '');
  if (input) input.setAttribute('aria-invalid', message ? 'true' : 'false');
  wrap.classList.toggle('invalid', !!message);
  return true;
}

// Clears every field message in form.
export function clearFieldErrors(form) {
  for (const w of form.querySelectorAll('.field')) {
    w.classList.remove('invalid');
    const m = w.querySelector('.field-error');
    if (m) m.replaceChildren();
    const i = w.querySelector('input, select, textarea');
    if (i) i.removeAttribute('aria-invalid');
  }
}

// Shows an API error next to its field when errorField finds one, else in box (a container
// element for form-level errors). Returns the field name used, or null.
export function showApiError(form, box, err, fieldName) {
  if (fieldName && setFieldError(form, fieldName, [err.message, err.hint ? ` Hint: ${err.hint}` : ''].join(''))) {
    const i = form.querySelector(`.field[data-field="${fieldName}"] input, .field[data-field="${fieldName}"] select`);
    if (i) i.focus();
    replace(box);
    return fieldName;
  }
  replace(box, errorBox(err));
  return null;
}
