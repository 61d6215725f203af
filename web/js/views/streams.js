// streams.js: the streams list: state badge, mode, rows/s, lag, rows written and the
// actions each state allows. Refreshed every 2 s (one GET /streams) while shown.

import { api, enc } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { stateTone } from '../lib/actions.js';
import { fmtRate, fmtDuration, fmtInt, fmtPercent } from '../lib/format.js';
import { actionButtons } from './actions.js';

export function badge(state) {
  return h('span', { class: `badge ${stateTone(state)}`, 'data-state': state }, state);
}

export const streamsView = {
  title: 'Streams',
  mount(root) {
    const listBox = h('div', { class: 'list' });
    const errBox = h('div', { 'aria-live': 'polite' }); // the list's own errors
    // Each stream's confirmation and action errors sit in a row under it; the nodes are kept
    // across the 2 s refreshes so that an open confirmation or an error stays put.
    const extras = new Map();
    const extraFor = (name) => {
      if (!extras.has(name)) extras.set(name, { err: h('div', { 'aria-live': 'polite' }), confirm: h('div') });
      return extras.get(name);
    };
    root.append(
      h('div', { class: 'page-head' }, h('h1', null, 'Streams'), h('a', { class: 'button primary', href: '#/new', 'data-admin': true }, 'New stream')),
      errBox,
      listBox
    );
    let timer = null;
    let busy = false;

    async function load() {
      if (busy) return;
      busy = true;
      try {
        const streams = (await api('GET', '/streams')).streams || [];
        render(streams);
      } catch (err) {
        if (err.status !== 401) replace(errBox, errorBox(err));
      } finally {
        busy = false;
      }
    }

    function render(streams) {
      if (!streams.length) {
        replace(listBox, h('p', { class: 'empty' }, 'No streams yet.', h('span', { 'data-admin': true }, ' ', h('a', { href: '#/new' }, 'Create one'), ' — you will need two connections.')));
        return;
      }
      // Keep the focused button across refreshes (keyboard users).
      const focused = document.activeElement?.closest?.('[data-stream]') ? {
        s: document.activeElement.closest('[data-stream]').dataset.stream,
        a: document.activeElement.dataset.action,
      } : null;
      const active = document.activeElement; // a kept confirmation's button keeps the focus
      for (const name of [...extras.keys()]) if (!streams.some((s) => s.name === name)) extras.delete(name);
      replace(errBox);
      const rows = streams.map((s) => {
        const sum = s.summary || {};
        const ex = extraFor(s.name);
        return [h(
          'tr',
          { 'data-stream': s.name },
          h('th', { scope: 'row' }, h('a', { href: `#/streams/${enc(s.id)}` }, s.name)),
          h('td', null, badge(s.state), s.error ? h('div', { class: 'small bad-text', title: s.error.hint || '' }, s.error.message) : null),
          h('td', { class: 'hide-narrow' }, s.spec?.mode || 'load'),
          h('td', { class: 'num', 'data-col': 'rate' }, fmtRate(sum.rows_per_sec)),
          h('td', { class: 'num', 'data-col': 'lag' }, sum.lag_seconds == null ? '–' : fmtDuration(sum.lag_seconds)),
          h('td', { class: 'num hide-narrow', 'data-col': 'written' }, fmtInt(sum.rows_written), sum.progress != null ? ` (${fmtPercent(sum.progress)})` : ''),
          h('td', { class: 'row-actions' }, actionButtons(s, { onDone: () => load(), errBox: ex.err, confirmBox: ex.confirm }))
        ),
        h('tr', { class: 'row-extra', 'data-extra-for': s.name }, h('td', { colspan: 7 }, ex.confirm, ex.err))];
      });
      replace(
        listBox,
        h('table', { class: 'streams' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Stream'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Mode'),
            h('th', { scope: 'col', class: 'num' }, 'Rows/s'), h('th', { scope: 'col', class: 'num' }, 'Lag'), h('th', { scope: 'col', class: 'num hide-narrow' }, 'Rows written'), h('th', { scope: 'col' }, 'Actions'))),
          h('tbody', null, rows))
      );
      if (active && active !== document.activeElement && listBox.contains(active)) active.focus();
      if (focused) listBox.querySelector(`[data-stream="${CSS.escape(focused.s)}"] [data-action="${focused.a}"]`)?.focus();
    }

    load();
    timer = setInterval(load, 2000);
    return () => clearInterval(timer);
  },
};
