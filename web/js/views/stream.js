// stream.js: one stream, live: what it copies (source → target, mode, tables and their
// mappings, the spec), state and actions (Edit when no process runs, Verify), totals with
// loaded rows and change events apart, lag, position, charts of rows/s read and written and
// of lag with their axes, per-table progress with ETA (and, for a cdc stream, each table's
// state and the actions on its tables: stream_tables.js), recent errors and log lines. It
// loads the stream, its stats and last logs once, then follows GET /streams/{id}/events
// (read with fetch, lib/sse.js) and never reloads. Rates show 0 in a state without a
// process (paused, stopped…), whatever the last figures said. Unmounting closes the event
// stream.

import { api, enc, getKey, unauthorized } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { openEventStream } from '../lib/sse.js';
import { Series, niceMax, linePath, yTicks, xTicks } from '../lib/chart.js';
import { fmtInt, fmtRate, fmtBytes, fmtDuration, fmtPercent, fmtTime, fmtCount, NONE } from '../lib/format.js';
import { isActive, isEditable } from '../lib/actions.js';
import { endpointText, tableEntries, modeText, specText } from '../lib/stream-info.js';
import { actionButtons } from './actions.js';
import { openSpecEditor } from './stream-edit.js';
import { verifyPanel } from './verify.js';
import { badge } from './streams.js';
import { tableState, tableActions, addTablesForm } from './stream_tables.js';

const SPAN_MS = 120000;
const W = 600;
const H = 140;
const MAX_LOG = 300;
const MAX_ERRORS = 20;
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  return el;
}

// A line chart of one or more series with its axes (values on the left at the grid lines,
// times below); update() redraws it for the window ending now.
function lineChart({ title, lines, fmt }) {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', class: 'chart-svg', role: 'img', 'aria-label': title });
  const grid = svg('g', { class: 'grid-lines' });
  root.append(grid);
  const paths = lines.map((l) => {
    const p = svg('path', { class: `line ${l.cls}`, fill: 'none', 'vector-effect': 'non-scaling-stroke' });
    root.append(p);
    return p;
  });
  const yAxis = h('div', { class: 'axis-y small muted', 'aria-hidden': 'true' });
  const xAxis = h('div', { class: 'axis-x small muted', 'aria-hidden': 'true' },
    xTicks(SPAN_MS).map((t) => h('span', { style: `left:${(t.at * 100).toFixed(2)}%` }, t.label)));
  const legend = h('div', { class: 'legend' }, lines.map((l) => h('span', { class: `key ${l.cls}` }, l.label, ': ', h('b', { 'data-last': l.cls }, NONE))));
  const el = h('figure', { class: 'chart', 'data-chart': title },
    h('figcaption', null, title),
    h('div', { class: 'plot-area' }, yAxis, h('div', { class: 'plot' }, root)),
    xAxis,
    legend);
  let shownMax = null;
  function update(now) {
    let max = 0;
    for (const l of lines) max = Math.max(max, l.series.max());
    const ymax = niceMax(max);
    if (ymax !== shownMax) {
      shownMax = ymax;
      const ticks = yTicks(ymax);
      grid.replaceChildren(...ticks.slice(1).map((v) => svg('line', { x1: 0, x2: W, y1: H - (v / ymax) * H, y2: H - (v / ymax) * H, class: 'grid' })));
      replace(yAxis, ticks.map((v) => h('span', { style: `bottom:${((v / ymax) * 100).toFixed(2)}%`, 'data-tick': String(v) }, fmt(v))));
      el.dataset.ymax = String(ymax);
    }
    let n = 0;
    lines.forEach((l, i) => {
      paths[i].setAttribute('d', linePath(l.series.points, { t1: now, spanMs: SPAN_MS, ymax, w: W, h: H }));
      n += l.series.points.length;
      const last = l.series.last();
      replace(legend.querySelector(`[data-last="${l.cls}"]`), last == null ? NONE : fmt(last));
    });
    el.dataset.points = String(n);
  }
  return { el, update };
}

function stat(label, key) {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value', 'data-stat': key }, NONE));
}

export const streamView = {
  title: 'Stream',
  mount(root, { id }) {
    let s = null;
    let es = null;
    let closed = false;
    const head = h('div', { class: 'page-head' });
    const live = h('span', { class: 'live', 'aria-live': 'polite' }, 'connecting…');
    const errBox = h('div', { 'aria-live': 'polite' });
    const confirmBox = h('div');
    const failBox = h('div');
    const rateSeries = { read: new Series(150), written: new Series(150) };
    const lagSeries = new Series(150);
    const rateChart = lineChart({
      title: 'Rows per second',
      lines: [
        { label: 'read', cls: 'read', series: rateSeries.read },
        { label: 'written', cls: 'written', series: rateSeries.written },
      ],
      fmt: (v) => fmtCount(v) + '/s',
    });
    const overview = h('section', { class: 'card overview', 'aria-label': 'What it copies' });
    const editBox = h('div');
    let verify = null;
    const verifyBox = h('div');
    const lagChart = lineChart({ title: 'Lag (seconds)', lines: [{ label: 'lag', cls: 'lag', series: lagSeries }], fmt: fmtDuration });
    const statKeys = [
      ['Rows read', 'rows_read'],
      ['Rows written', 'rows_written'],
      ['Rows loaded', 'rows_loaded'],
      ['Changes applied', 'changes_applied'],
      ['Rows rejected', 'rows_rejected'],
      ['Read', 'rows_per_sec_read'],
      ['Written', 'rows_per_sec_written'],
      ['Lag', 'lag_seconds'],
      ['Slot lag', 'slot_bytes'],
      ['Phase', 'phase'],
      ['Position', 'position'],
      ['Bytes read', 'bytes_read'],
      ['Bytes written', 'bytes_written'],
      ['Batches', 'batches'],
      ['Redeliveries', 'redeliveries'],
      ['Duplicates skipped', 'duplicates_skipped'],
      ['Errors', 'errors'],
    ];
    const stats = h('div', { class: 'stats' }, statKeys.map(([l, k]) => stat(l, k)));
    const tablesBox = h('div', { class: 'tables-box' }, h('p', { class: 'muted' }, 'No table statistics yet.'));
    const tablesErr = h('div', { 'aria-live': 'polite' });
    const tablesConfirm = h('div');
    const tablesForm = h('div');
    let lastTables = [];
    const errorsList = h('ul', { class: 'errors-list' });
    const logList = h('ol', { class: 'log', 'aria-label': 'Log lines' });
    const updated = h('span');
    root.append(
      head,
      errBox,
      confirmBox,
      failBox,
      editBox,
      overview,
      h('section', { 'aria-label': 'Totals' }, stats, h('div', { class: 'right muted small' }, live, ' · stats at ', updated)),
      h('section', { class: 'charts', 'aria-label': 'Charts' }, rateChart.el, lagChart.el),
      h('section', { 'aria-label': 'Tables' }, h('h2', null, 'Tables'), tablesErr, tablesConfirm, tablesForm, tablesBox),
      verifyBox,
      h('section', { class: 'cols2' },
        h('div', null, h('h2', null, 'Recent errors'), errorsList),
        h('div', null, h('h2', null, 'Log'), h('div', { class: 'log-box' }, logList)))
    );
    replace(errorsList, h('li', { class: 'muted none' }, 'None.'));

    function renderHead() {
      const edit = isEditable(s.state)
        ? h('button', { type: 'button', 'data-action': 'edit', 'aria-label': `Edit ${s.name}`,
            onclick: () => openSpecEditor(s, editBox, (r) => {
              s = r;
              document.title = `sluice · ${s.name}`;
              renderOverview();
              setState(r.state, r.error);
            }) }, 'Edit')
        : null;
      replace(
        head,
        h('h1', null, h('a', { href: '#/streams', class: 'up', 'aria-label': 'All streams' }, 'Streams'), ' / ', s.name, ' ', badge(s.state)),
        h('div', { class: 'row-actions' }, actionButtons(s, {
          errBox,
          confirmBox,
          onDone: (a, r) => {
            if (a === 'delete') location.hash = '#/streams';
            else if (r) setState(r.state, r.error);
          },
        }), edit)
      );
      replace(failBox, s.error ? errorBox(s.error, 'stream-error') : null);
      replace(tablesForm, addTablesForm(s, { errBox: tablesErr, onDone: onTablesChanged }));
      if (!isEditable(s.state)) replace(editBox); /* a running stream's spec is not edited */
    }

    // A table action answered: the stream record (with its spec's tables) is new.
    function onTablesChanged(r) {
      if (r && r.stream) {
        s = r.stream;
        renderHead();
        renderOverview();
      }
      renderTables(lastTables, isActive(s.state));
    }

    // source → target, the mode, the tables (with a mapping, when an entry has one) and the
    // spec, as the server returns it (secrets masked)
    function renderOverview() {
      const src = endpointText(s.spec?.source), tgt = endpointText(s.spec?.target);
      const side = (e, label) => h('span', { class: `endpoint ${e.kind}`, 'data-endpoint': label },
        e.kind === 'connection' ? [h('span', { class: 'muted small' }, 'connection '), h('b', null, e.text)] : h('code', null, e.text));
      const tables = tableEntries(s.spec);
      replace(overview,
        h('div', { class: 'route' }, side(src, 'source'), h('span', { class: 'arrow', 'aria-label': 'to' }, ' → '), side(tgt, 'target')),
        h('div', { class: 'muted small', 'data-mode': s.spec?.mode || 'load' }, modeText(s.spec)),
        h('div', { class: 'copies-tables' }, h('span', { class: 'muted small' }, 'Tables: '),
          tables === null
            ? h('span', { 'data-tables': 'all' }, 'every table of the source')
            : h('ul', { class: 'inline-list', 'data-tables': String(tables.length) }, tables.map((t) =>
                h('li', { 'data-table-entry': t.name }, h('code', null, t.name),
                  t.mapping ? h('details', { class: 'mapping' }, h('summary', null, 'mapping'), h('pre', { class: 'json' }, t.mapping)) : null)))),
        h('details', { class: 'spec' }, h('summary', null, 'Spec'), h('pre', { class: 'json', 'data-spec': '' }, specText(s.spec))));
    }

    function setState(state, error) {
      if (!s) return;
      const was = s.state;
      s.state = state;
      s.error = error || null;
      renderHead();
      root.dataset.state = state;
      if (was !== state && !isActive(state)) zeroRates();
    }

    // No process, nothing moves: the rates and the charts say 0 at once.
    function zeroRates(now = Date.now()) {
      setStat('rows_per_sec_read', fmtRate(0));
      setStat('rows_per_sec_written', fmtRate(0));
      rateSeries.read.push(now, 0);
      rateSeries.written.push(now, 0);
      rateChart.update(now);
      for (const td of tablesBox.querySelectorAll('td[data-rate]')) replace(td, fmtRate(0));
    }

    function setStat(k, v) {
      const el = stats.querySelector(`[data-stat="${k}"]`);
      if (el) {
        replace(el, v);
      }
    }

    function applyStats(st, now = Date.now()) {
      const t = { ...(st.totals || {}) };
      const moving = isActive(st.state || s?.state);
      if (!moving) t.rows_per_sec_read = t.rows_per_sec_written = 0;
      setStat('rows_read', fmtInt(t.rows_read));
      setStat('rows_written', fmtInt(t.rows_written));
      setStat('rows_loaded', fmtInt(t.rows_loaded));
      setStat('changes_applied', fmtInt(t.changes_applied));
      setStat('rows_rejected', fmtInt(t.rows_rejected ?? 0));
      stats.querySelector('[data-stat="rows_written"]').dataset.value = String(t.rows_written ?? '');
      stats.querySelector('[data-stat="rows_read"]').dataset.value = String(t.rows_read ?? '');
      setStat('rows_per_sec_read', fmtRate(t.rows_per_sec_read));
      setStat('rows_per_sec_written', fmtRate(t.rows_per_sec_written));
      setStat('bytes_read', fmtBytes(t.bytes_read));
      setStat('bytes_written', fmtBytes(t.bytes_written));
      setStat('batches', fmtInt(t.batches));
      setStat('redeliveries', fmtInt(t.redeliveries));
      setStat('duplicates_skipped', fmtInt(t.duplicates_skipped));
      setStat('errors', fmtInt(t.errors));
      setStat('lag_seconds', st.lag ? fmtDuration(st.lag.seconds) : NONE);
      setStat('slot_bytes', st.lag ? fmtBytes(st.lag.slot_bytes) : NONE);
      setStat('phase', st.phase || NONE);
      setStat('position', st.position || NONE);
      replace(updated, fmtTime(st.updated_at));
      rateSeries.read.push(now, t.rows_per_sec_read);
      rateSeries.written.push(now, t.rows_per_sec_written);
      if (st.lag) lagSeries.push(now, st.lag.seconds);
      rateChart.update(now);
      lagChart.update(now);
      renderTables(st.tables || [], moving);
    }

    // per table: progress, rows loaded and change events apart (read and applied), the
    // estimate, rows/s and ETA
    function renderTables(tables, moving) {
      if (!tables.length) return;
      lastTables = tables;
      const states = tables.some((tb) => tb.state);
      const rows = tables.map((tb) => {
        const p = typeof tb.progress === 'number' ? tb.progress : null;
        return h(
          'tr',
          { 'data-table': tb.name, 'data-rows-written': String(tb.rows_written ?? 0),
            'data-rows-loaded': String(tb.rows_loaded ?? 0), 'data-changes-applied': String(tb.changes_applied ?? 0),
            'data-rows-rejected': String(tb.rows_rejected ?? 0) },
          h('th', { scope: 'row' }, tb.name),
          h('td', { class: 'bar-cell' },
            p == null
              ? h('span', { class: 'muted small' }, !moving ? s?.state || '' : tb.changes_applied ? 'streaming' : tb.rows_written ? 'loaded' : 'waiting')
              : h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(p * 100), 'aria-label': `${tb.name} progress` },
                  h('div', { class: 'fill', style: `width:${(Math.max(0, Math.min(1, p)) * 100).toFixed(1)}%` }),
                  h('span', null, fmtPercent(p)))),
          h('td', { class: 'num' }, fmtInt(tb.rows_loaded)),
          h('td', { class: 'num', title: `${fmtInt(tb.changes_read)} read from the source` }, fmtInt(tb.changes_applied)),
          // rows options.on_error "reject" recorded in _sluice_rejects (docs/mapping.md)
          h('td', { class: 'num' }, fmtInt(tb.rows_rejected ?? 0)),
          h('td', { class: 'num hide-narrow' }, tb.est_rows == null ? NONE : fmtInt(tb.est_rows)),
          h('td', { class: 'num', 'data-rate': '' }, fmtRate(moving ? tb.rows_per_sec : 0)),
          h('td', { class: 'num' }, p != null && p >= 1 ? 'done' : tb.eta_seconds == null ? NONE : fmtDuration(tb.eta_seconds)),
          states ? tableState(tb) : null,
          states ? tableActions(s, tb, { errBox: tablesErr, box: tablesConfirm, onDone: onTablesChanged }) : null
        );
      });
      const col = (c, cls) => h('th', { scope: 'col', class: cls || '' }, c);
      replace(
        tablesBox,
        h('table', { class: 'tables' },
          h('thead', null, h('tr', null, col('Table'), col('Progress'), col('Loaded', 'num'), col('Changes', 'num'), col('Rejected', 'num'),
            col('Estimated', 'num hide-narrow'), col('Rows/s', 'num'), col('ETA', 'num'),
            states ? col('State') : null, states ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')) : null)),
          h('tbody', null, rows))
      );
    }

    function addLog(l) {
      const li = h('li', { class: `lvl-${l.level || 'info'}` }, h('time', null, fmtTime(l.ts)), ' ', h('span', { class: 'lvl' }, l.level || ''), ' ', l.message);
      logList.append(li);
      while (logList.children.length > MAX_LOG) logList.firstChild.remove();
      const box = logList.parentElement;
      if (box && box.scrollHeight - box.scrollTop - box.clientHeight < 80) box.scrollTop = box.scrollHeight;
      if (l.level === 'error' || l.level === 'fatal') addError({ message: l.message, ts: l.ts });
    }

    function addError(e) {
      errorsList.querySelector('.none')?.remove();
      errorsList.prepend(h('li', null, h('time', null, fmtTime(e.ts || new Date().toISOString())), ' ', e.message || String(e), e.hint ? h('div', { class: 'hint' }, 'Hint: ', e.hint) : null));
      while (errorsList.children.length > MAX_ERRORS) errorsList.lastChild.remove();
    }

    function onEvent({ event, data }) {
      if (event === 'stats' && data && typeof data === 'object') applyStats(data);
      else if (event === 'state' && data) setState(data.state, data.error);
      else if (event === 'log' && data) addLog(data);
      else if (event === 'error' && data) addError(data.error || data);
    }

    function onStatus(st, info) {
      if (st === 'open') replace(live, h('span', { class: 'dot ok' }), ' live');
      else if (st === 'retry') replace(live, h('span', { class: 'dot warn' }), ` reconnecting in ${fmtDuration(info.delayMs / 1000)}`);
      else if (st === 'unauthorized') {
        replace(live, 'signed out');
        unauthorized();
      }
    }

    (async () => {
      try {
        s = await api('GET', `/streams/${enc(id)}`);
        if (closed) return;
        document.title = `sluice · ${s.name}`;
        setState(s.state, s.error);
        renderOverview();
        verify = verifyPanel(s);
        replace(verifyBox, verify.el);
        const [st, logs] = await Promise.all([
          api('GET', `/streams/${enc(id)}/stats`).catch(() => null),
          api('GET', `/streams/${enc(id)}/logs?limit=100`).catch(() => null),
        ]);
        if (closed) return;
        if (st) applyStats(st);
        for (const l of logs?.lines || []) addLog(l);
        es = openEventStream({ url: `/api/v1/streams/${enc(s.id)}/events`, key: getKey(), onEvent, onStatus });
      } catch (err) {
        replace(errBox, errorBox(err));
      }
    })();

    return () => {
      closed = true;
      if (es) es.close();
      if (verify) verify.close();
    };
  },
};
