// app.js: the UI's entry point: a hash router (#/signin, #/connections, #/new,
// #/streams, #/streams/{id}) that mounts one view at a time into <main>. A view is
// {mount(root, params) → unmount?}; the router calls the returned unmount before the next
// view so that timers and event streams end with their page.

import { api, getKey, clearKey, getRole, setRole, canWrite, setUnauthorizedHandler } from './api.js';
import { signinView } from './views/signin.js';
import { connectionsView } from './views/connections.js';
import { wizardView } from './views/wizard.js';
import { streamsView } from './views/streams.js';
import { streamView } from './views/stream.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let unmount = null;

const roleBadge = document.getElementById('role');

// Marks the page with the key's role (body[data-role]: style.css hides [data-admin] for
// "read") and shows the read-only badge.
function showRole() {
  const role = getKey() ? getRole() : null;
  if (role) document.body.dataset.role = role;
  else delete document.body.dataset.role;
  roleBadge.hidden = role !== 'read';
}

async function route() {
  const hash = location.hash.replace(/^#/, '') || '/streams';
  const parts = hash.split('/').filter(Boolean).map(decodeURIComponent);
  if (!getKey() && parts[0] !== 'signin') {
    sessionStorage.setItem('sluice.after', hash);
    location.hash = '#/signin';
    return;
  }
  if (getKey() && !getRole()) {
    // a key kept from before roles existed: ask the server once
    try {
      setRole((await api('GET', '/whoami')).role);
    } catch (err) {
      if (err.status === 401) return; // the handler went to sign-in
    }
  }
  showRole();
  if (parts[0] === 'new' && !canWrite()) {
    location.hash = '#/streams'; // a read-only key cannot create streams
    return;
  }
  if (typeof unmount === 'function') unmount();
  unmount = null;
  main.replaceChildren();
  nav.hidden = !getKey();
  for (const a of nav.querySelectorAll('a')) {
    const on = a.dataset.nav === (parts[0] === 'streams' && parts[1] ? 'streams' : parts[0]);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  let view;
  let params = {};
  switch (parts[0]) {
    case 'signin':
      view = signinView;
      break;
    case 'connections':
      view = connectionsView;
      break;
    case 'new':
      view = wizardView;
      break;
    case 'streams':
      if (parts[1]) {
        view = streamView;
        params = { id: parts[1] };
      } else view = streamsView;
      break;
    default:
      location.hash = '#/streams';
      return;
  }
  document.title = `sluice · ${view.title || parts[0]}`;
  unmount = view.mount(main, params);
}

setUnauthorizedHandler(() => {
  clearKey();
  sessionStorage.setItem('sluice.signinMessage', 'Your key was refused; sign in again.');
  location.hash = '#/signin';
});

document.getElementById('signout').addEventListener('click', () => {
  clearKey();
  location.hash = '#/signin';
});

window.addEventListener('hashchange', route);
route();
