// verify.js (view): the stream page's verify panel. "Verify" starts a job (POST
// /api/v1/streams/{id}/verify: the server compares source and target with the stream's
// stored connections, table by table); the panel follows it (GET every second while it
// runs) and shows its report: per table the row counts and checksums on both sides, equal
// or DIFFERENT, and sample keys of the rows that differ (lib/verify.js). On load it shows
// the stream's last job, if any.

import { api, enc } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { verifyView } from '../lib/verify.js';
import { fmtInt, fmtTime } from '../lib/format.js';

export function verifyPanel(s) {
  let timer = null;
  let closed = false;
  const body = h('div', { class: 'verify-body' });
  const btn = h('button', { type: 'button', 'data-action': 'verify', 'aria-label': `Verify ${s.name}` }, 'Verify');
  const el = h('section', { class: 'verify', 'aria-label': 'Verify' },
    h('div', { class: 'section-head' }, h('h2', null, 'Verify'), btn,
      h('span', { class: 'muted small' }, 'row counts and checksums per table, source against target')),
    body);

  function render(job) {
    const v = verifyView(job);
    if (!v) return replace(body);
    el.dataset.state = job.state;
    el.dataset.result = job.result || '';
    btn.disabled = job.state === 'running';
    const when = job.finished_at ? `finished ${fmtTime(job.finished_at)}` : `started ${fmtTime(job.started_at)}`;
    replace(body,
      h('p', { class: `verify-head tone-${v.tone}` }, h('strong', null, v.headline), ' ',
        h('span', { class: 'muted small' }, v.progress && job.state === 'running' ? `${v.progress} · ${when}` : when)),
      v.error ? errorBox(v.error) : null,
      v.rows.length
        ? h('div', { class: 'tables-box' }, h('table', { class: 'tables verify-table' },
            h('thead', null, h('tr', null,
              h('th', { scope: 'col' }, 'Table'), h('th', { scope: 'col', class: 'num' }, 'Source rows'),
              h('th', { scope: 'col', class: 'num' }, 'Target rows'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Checksums'),
              h('th', { scope: 'col' }, 'Result'))),
            h('tbody', null, v.rows.map((r) => h('tr', { 'data-verify-table': r.table, class: r.equal ? '' : 'differs' },
              h('th', { scope: 'row' }, r.table),
              h('td', { class: 'num' }, fmtInt(r.source_rows)), h('td', { class: 'num' }, fmtInt(r.target_rows)),
              h('td', { class: 'hide-narrow small' }, h('code', null, r.source_sum), r.equal ? null : [' / ', h('code', null, r.target_sum)]),
              h('td', null, h('span', { class: r.equal ? 'ok' : 'bad' }, r.result),
                r.samples.length ? h('ul', { class: 'samples small' }, r.samples.map((x) => h('li', null, x))) : null))))))
        : null);
  }

  async function poll() {
    timer = null;
    try {
      const job = await api('GET', `/streams/${enc(s.id)}/verify`);
      if (closed) return;
      render(job);
      if (job.state === 'running') timer = setTimeout(poll, 1000);
    } catch (err) {
      if (err.status !== 404 && !closed) replace(body, errorBox(err));
    }
  }

  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      const job = await api('POST', `/streams/${enc(s.id)}/verify`);
      render(job);
      if (!timer) timer = setTimeout(poll, 1000);
    } catch (err) {
      replace(body, errorBox(err));
      btn.disabled = false;
    }
  });

  poll();
  return {
    el,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
