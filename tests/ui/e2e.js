// e2e.js: the web UI's end-to-end test in headless Chromium (playwright-core), run by
// tests/integration/ui_e2e.sh against a real `sluice server` and real databases. It drives
// the UI as a user would: a wrong key, sign-in, an invalid connection form (nothing sent),
// a PostgreSQL and a MariaDB connection added and tested, a CDC stream made in the wizard
// and started; its page says what it copies (source → target, tables, spec), its charts
// (with their axes) and table progress (rows loaded and changes apart) move while a
// workload writes; pause (counters stop, rates show 0), an edit of the paused stream's
// spec (a bad value refused before anything is sent, then saved), resume (counters move
// again), stop, verify (the report says every table is equal) and delete. Once, while the
// stream runs, a second browser session signs in with a read-only key: it sees the
// streams, the live stream page and the connections, and none of the buttons that change
// anything. The shell script checks the data on both sides afterwards.
//
// Environment (set by ui_e2e.sh):
//   SLUICE_UI_URL       the server's base URL            SLUICE_API_KEY   the key
//   SLUICE_UI_PG_URL    source URL without password      SLUICE_UI_PG_PASSWORD
//   SLUICE_UI_MY_URL    target URL (password inline)     SLUICE_UI_TABLES tables, comma-separated
//   SLUICE_UI_STREAM    the stream's name            SLUICE_UI_READ_KEY a read-only key
//   SLUICE_UI_WORKLOAD  a command writing to the source until killed
//   SLUICE_UI_SYNCED    a command that exits 0 when the target equals the source
//   SLUICE_UI_OUT       where screenshots go; SLUICE_UI_SCREENSHOTS: a second copy (docs)

import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run tests/integration/ui_e2e.sh)`);
  return v;
};
const BASE = env('SLUICE_UI_URL');
const KEY = env('SLUICE_API_KEY');
const TABLES = env('SLUICE_UI_TABLES').split(',');
const STREAM = env('SLUICE_UI_STREAM');
const READ_KEY = env('SLUICE_UI_READ_KEY');
const OUT = env('SLUICE_UI_OUT');
const DOCS = process.env.SLUICE_UI_SCREENSHOTS || '';
const t0 = Date.now();

function note(msg) {
  console.log(`[ui_e2e.js +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value (returned) or ms pass (throws with what).
async function until(what, fn, ms = 20000, every = 200) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
    await sleep(every);
  }
}

// The API, called directly (to read counters independently of the page).
async function apiGet(p) {
  const r = await fetch(BASE + '/api/v1' + p, { headers: { Authorization: `Bearer ${KEY}` } });
  if (!r.ok) throw new Error(`GET ${p}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

async function shot(page, name) {
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  if (DOCS) fs.copyFileSync(file, path.join(DOCS, `${name}.png`));
}

let workload = null;
function startWorkload() {
  workload = spawn('bash', ['-c', env('SLUICE_UI_WORKLOAD')], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
}
function stopWorkload() {
  if (workload && workload.exitCode === null) {
    try {
      process.kill(-workload.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  workload = null;
}
const synced = () => spawnSync('bash', ['-c', env('SLUICE_UI_SYNCED')], { stdio: 'ignore' }).status === 0;

const browser = await chromium.launch({
  executablePath: process.env.SLUICE_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
let failed = false;
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 820 } });
  ctx.setDefaultTimeout(15000);
  const page = await ctx.newPage();
  const requests = [];
  const foreign = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin !== new URL(BASE).origin) foreign.push(r.url());
    if (u.pathname.startsWith('/api/')) requests.push(`${r.method()} ${u.pathname}${u.search}`);
  });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    // the browser logs each 4xx answer; the test causes a 401 and a 409 on purpose
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()))
      pageErrors.push(m.text());
  });

  // --- sign-in: a wrong key is refused with a message; the right one is kept ----------
  await page.goto(BASE + '/');
  await page.waitForURL(/#\/signin$/);
  const keyInput = page.getByLabel('API key');
  await keyInput.fill('not-the-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.field[data-field="key"] .field-error', { hasText: 'refused' }).waitFor();
  assert.equal(await keyInput.getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice.apiKey')), null, 'a refused key is not kept');
  await shot(page, 'signin-error');
  note('a wrong key shows a sign-in error');
  await keyInput.fill(KEY);
  await keyInput.press('Enter'); // keyboard submits
  await page.getByRole('heading', { name: 'Streams' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice.apiKey')), KEY);
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
  note('signed in');

  // --- connections: an invalid entry sends nothing; then add and test two ------------
  await page.getByRole('link', { name: 'Connections' }).click();
  await page.getByRole('heading', { name: 'Connections' }).waitFor();
  await page.getByRole('button', { name: 'Add connection' }).click();
  const form = page.getByRole('form', { name: 'Add connection' });
  const sentBefore = requests.filter((r) => r.startsWith('POST ') || r.startsWith('PUT ')).length;
  await form.getByLabel('Kind').selectOption('postgres');
  await form.getByLabel('Name').fill('bad name!');
  await form.getByLabel('URL').fill('localhost:5432/shop');
  await form.getByRole('button', { name: 'Add connection' }).click();
  await form.locator('.field[data-field="name"] .field-error', { hasText: 'letters' }).waitFor();
  await form.locator('.field[data-field="url"] .field-error', { hasText: 'must start with' }).waitFor();
  await sleep(500);
  assert.equal(requests.filter((r) => r.startsWith('POST ') || r.startsWith('PUT ')).length, sentBefore,
    'an invalid form sent a request');
  assert.equal(await page.evaluate(() => document.activeElement?.name), 'name', 'focus moves to the first bad field');
  await shot(page, 'connection-invalid');
  note('an invalid connection form shows messages and sends nothing');

  async function addConnection(kind, name, url, password) {
    await form.getByLabel('Kind').selectOption(kind);
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('URL').fill(url);
    if (password) await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Add connection' }).click();
    await page.locator(`li.conn[data-conn="${name}"]`).waitFor();
  }
  await addConnection('postgres', 'pg-source', env('SLUICE_UI_PG_URL'), env('SLUICE_UI_PG_PASSWORD'));
  await page.getByRole('button', { name: 'Add connection' }).click();
  await addConnection('mysql', 'maria-target', env('SLUICE_UI_MY_URL'));
  // secrets are write-only: the listed URL masks the inline password
  const myUrlShown = await page.locator('li.conn[data-conn="maria-target"] .conn-url').textContent();
  assert.match(myUrlShown, /\*\*\*\*/, 'the MariaDB password is masked');
  assert.ok(!myUrlShown.includes(new URL(env('SLUICE_UI_MY_URL')).password), 'the password is not shown');

  // an API error lands next to its cause: a name that is taken
  await page.getByRole('button', { name: 'Add connection' }).click();
  await form.getByLabel('Kind').selectOption('postgres');
  await form.getByLabel('Name').fill('pg-source');
  await form.getByLabel('URL').fill(env('SLUICE_UI_PG_URL'));
  const conflict = page.waitForResponse((r) => r.url().endsWith('/api/v1/connections') && r.request().method() === 'POST');
  await form.getByRole('button', { name: 'Add connection' }).click();
  assert.equal((await conflict).status(), 409);
  const nameErr = form.locator('.field[data-field="name"] .field-error');
  await until('the server error under Name', async () => (await nameErr.textContent()).length > 0);
  note(`a taken name: "${await nameErr.textContent()}" under the Name field`);
  await form.getByRole('button', { name: 'Cancel' }).click();

  // edit keeps the write-only secrets (the source's in the password field, the target's in
  // its URL): the form shows none, saving sends "****" back; the tests below then connect
  for (const name of ['pg-source', 'maria-target']) {
    await page.locator(`li.conn[data-conn="${name}"]`).getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: `Edit connection ${name}` });
    assert.equal(await edit.getByLabel('Password').inputValue(), '', 'no secret in the edit form');
    const url = await edit.getByLabel('URL').inputValue();
    if (name === 'maria-target') assert.match(url, /\*\*\*\*/);
    const put = page.waitForRequest((r) => r.method() === 'PUT');
    await edit.getByRole('button', { name: 'Save' }).click();
    assert.ok(!(await put).postData().includes(env('SLUICE_UI_PG_PASSWORD')), 'a secret sent back in clear');
    await edit.waitFor({ state: 'detached' });
  }

  async function testConnection(name, as) {
    const li = page.locator(`li.conn[data-conn="${name}"]`);
    await li.getByLabel(`Check ${name} as`).selectOption(as);
    await li.getByRole('button', { name: 'Test' }).click();
    const checks = li.locator('.checks');
    await checks.waitFor({ timeout: 30000 });
    const names = await checks.locator('li.check').evaluateAll((els) => els.map((e) => `${e.dataset.check}:${e.classList.contains('pass') ? 'pass' : 'fail'}`));
    note(`test of ${name} (${as}): ${names.join(' ')}`);
    assert.equal(await checks.getAttribute('data-ok'), 'true', `${name}: some checks failed: ${names.join(' ')}`);
    return names;
  }
  const pgChecks = await testConnection('pg-source', 'source:cdc'); // connects: the edit kept the password
  assert.ok(pgChecks.some((c) => c.startsWith('wal_level:')), 'the PostgreSQL CDC checks include wal_level');
  await testConnection('maria-target', 'target:load');
  await shot(page, 'connections');

  // --- the wizard: a CDC stream of a few tables, started on create -------------------
  await page.getByRole('link', { name: 'New stream' }).click();
  await page.getByLabel('Stream name').fill('bad name');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('.field[data-field="name"] .field-error', { hasText: 'letters' }).waitFor();
  await page.getByLabel('Stream name').fill(STREAM);
  await page.getByLabel('Source connection').selectOption('pg-source');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('group', { name: 'Tables to copy' }).waitFor();
  note('wizard: the source\'s tables are listed');
  // Next with nothing picked says so, and sends nothing
  const beforeTables = requests.length;
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('.field[data-field="tables"] .field-error', { hasText: 'at least one' }).waitFor();
  assert.equal(requests.length, beforeTables);
  for (const t of TABLES) await page.getByRole('checkbox', { name: new RegExp(`^${t}\\b`) }).check();
  await shot(page, 'wizard-tables');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Target connection').selectOption('maria-target');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio', { name: /Change data capture/ }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  // the options step is the server's option table (GET /api/v1/options): its bounds, and
  // only the choices a cdc stream accepts (no "upsert", which the server refuses)
  assert.ok(requests.includes('GET /api/v1/options'), 'the wizard reads the option table');
  const choices = await page.getByLabel('write_mode').locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(choices, ['', 'insert', 'truncate_insert']);
  assert.deepEqual(await page.getByLabel('ordering').locator('option').evaluateAll((os) => os.map((o) => o.value)),
                   ['', 'transaction', 'key']);
  await page.getByLabel('batch_rows').fill('many');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('.field[data-field="batch_rows"] .field-error', { hasText: 'whole number' }).waitFor();
  await page.getByLabel('batch_rows').fill('2000000'); // above the server's 1,000,000
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('.field[data-field="batch_rows"] .field-error', { hasText: 'from 1 to 1000000' }).waitFor();
  await page.getByLabel('batch_rows').fill('500');
  await page.getByLabel('writers').fill('1');
  await page.getByRole('button', { name: 'Next' }).click();
  const specText = await page.locator('pre[data-spec]').textContent();
  const spec = JSON.parse(specText);
  spec.source.tables?.sort(); // in the catalog's order
  assert.deepEqual(spec, {
    name: STREAM,
    mode: 'cdc',
    source: { connection: 'pg-source', tables: [...TABLES].sort() },
    target: { connection: 'maria-target' },
    options: { initial_load: true, writers: 1, batch_rows: 500 },
  });
  await shot(page, 'wizard-review');
  startWorkload(); // writes to the source from here until we stop it
  note('workload started');
  await page.getByRole('button', { name: 'Create stream' }).click();
  await page.waitForURL(/#\/streams\/[^/]+$/);
  assert.ok(requests.includes('POST /api/v1/streams?start=true'), 'the stream is created and started in one call');
  note('stream created and started from the wizard');

  // --- the stream page, live -----------------------------------------------------------
  const badge = page.locator('h1 .badge');
  await until('state running', async () => (await badge.textContent()) === 'running', 60000);
  await page.locator('.live', { hasText: 'live' }).waitFor();
  const written = async () => Number(await page.locator('[data-stat="rows_written"]').getAttribute('data-value'));
  const chart = page.locator('figure[data-chart="Rows per second"]');
  const chartState = async () => ({
    points: Number(await chart.getAttribute('data-points')),
    d: await chart.locator('path.line.written').getAttribute('d'),
  });
  const tableRows = async () =>
    Object.fromEntries(await page.locator('tr[data-table]').evaluateAll((els) => els.map((e) => [e.dataset.table, Number(e.dataset.rowsWritten)])));
  await until('rows written', async () => (await written()) > 0, 60000);
  const c1 = await chartState();
  const tr1 = await tableRows();
  const w1 = await written();
  await until('the chart and counters to move', async () => {
    const c = await chartState();
    return c.points >= c1.points + 3 && c.d !== c1.d && (await written()) > w1;
  }, 30000);
  const tr2 = await until('table progress to change', async () => {
    const t = await tableRows();
    return Object.keys(t).some((k) => t[k] > (tr1[k] || 0)) ? t : null;
  }, 30000);
  assert.ok(Object.keys(tr2).length >= TABLES.length, `one progress row per table: ${JSON.stringify(tr2)}`);
  // what it copies: source → target by connection, the tables, the spec (secrets masked)
  const overview = page.locator('section.overview');
  assert.equal(await overview.locator('[data-endpoint="source"] b').textContent(), 'pg-source');
  assert.equal(await overview.locator('[data-endpoint="target"] b').textContent(), 'maria-target');
  assert.deepEqual((await overview.locator('[data-table-entry]').evaluateAll((els) => els.map((e) => e.dataset.tableEntry))).sort(),
    [...TABLES].sort());
  assert.match(await overview.locator('[data-mode]').textContent(), /Change data capture/);
  const shownSpec = JSON.parse(await overview.locator('pre[data-spec]').textContent());
  assert.deepEqual(shownSpec.target, { connection: 'maria-target' });
  // the charts have axes: values at the grid lines up to the top, times from −2 min to now
  const yLabels = await chart.locator('.axis-y span').allTextContents();
  assert.ok(yLabels.length >= 5, `y axis labels: ${yLabels}`);
  assert.equal(Number(await chart.locator('.axis-y span').last().getAttribute('data-tick')), Number(await chart.getAttribute('data-ymax')));
  assert.deepEqual(await chart.locator('.axis-x span').allTextContents(), ['−2 min', '−90 s', '−1 min', '−30 s', 'now']);
  // rows loaded (the initial copy) and change events are counted apart
  const kinds = async () => page.locator('tr[data-table]').evaluateAll((els) =>
    Object.fromEntries(els.map((e) => [e.dataset.table, [Number(e.dataset.rowsLoaded), Number(e.dataset.changesApplied)]])));
  const k = await until('changes counted apart from loaded rows', async () => {
    const v = await kinds();
    return Object.values(v).some(([, c]) => c > 0) ? v : null;
  }, 30000);
  const orders = Object.entries(k).find(([n]) => n.endsWith('orders'))[1];
  assert.ok(orders[0] >= 4000, `orders: ${orders[0]} rows loaded, the seed had 4000`);
  note(`loaded and changes apart: ${JSON.stringify(k)}`);
  const logCount = await page.locator('ol.log li').count();
  note(`live: ${await written()} rows written, ${(await chartState()).points} chart points, tables ${JSON.stringify(tr2)}, ${logCount} log lines`);

  // --- pause: the counters stop while the workload goes on; resume: they move ---------
  await page.getByRole('button', { name: `Pause ${STREAM}` }).click();
  await until('state paused', async () => (await badge.textContent()) === 'paused', 30000);
  // what was in flight lands: wait (10 s at most) for two equal readings a second apart,
  // then the counters must hold for 3 s while the workload goes on
  let prev = (await apiGet(`/streams/${STREAM}/stats`)).totals;
  const p1 = await until('the counters to settle after pause', async () => {
    await sleep(1000);
    const cur = (await apiGet(`/streams/${STREAM}/stats`)).totals;
    const same = cur.rows_written === prev.rows_written && cur.rows_read === prev.rows_read;
    prev = cur;
    return same ? cur : null;
  }, 10000, 0);
  const ui1 = await written();
  await sleep(3000);
  const p2 = (await apiGet(`/streams/${STREAM}/stats`)).totals;
  assert.equal(p2.rows_written, p1.rows_written, 'rows written while paused');
  assert.equal(p2.rows_read, p1.rows_read, 'rows read while paused');
  assert.equal(await written(), ui1, 'the page shows no rows written while paused');
  assert.ok(workload && workload.exitCode === null, 'the workload runs during the pause');
  note(`paused: counters held at ${p2.rows_written} written for 3 s`);
  // nothing moves, and the page says so: rates 0 (the last figures before the pause do not stay)
  assert.equal(await page.locator('[data-stat="rows_per_sec_read"]').textContent(), '0 rows/s');
  assert.equal(await page.locator('[data-stat="rows_per_sec_written"]').textContent(), '0 rows/s');
  assert.deepEqual([...new Set(await page.locator('td[data-rate]').allTextContents())], ['0 rows/s']);
  const apiRates = (await apiGet(`/streams/${STREAM}/stats`)).totals;
  assert.deepEqual([apiRates.rows_per_sec_read, apiRates.rows_per_sec_written], [0, 0], 'the API says 0 too');

  // --- edit the paused stream's spec: a bad value is refused before anything is sent -------
  await page.getByRole('button', { name: `Edit ${STREAM}` }).click();
  const editor = page.getByRole('form', { name: `Edit stream ${STREAM}` });
  const specBox = editor.getByLabel(`Spec of ${STREAM}`);
  const before = JSON.parse(await specBox.inputValue());
  assert.deepEqual(before.options, { initial_load: true, writers: 1, batch_rows: 500 });
  const puts = () => requests.filter((r) => r.startsWith('PUT ')).length;
  const putsBefore = puts();
  await specBox.fill(JSON.stringify({ ...before, options: { ...before.options, batch_rows: 2000000 } }, null, 2));
  await editor.locator('[data-path="options.batch_rows"]', { hasText: 'from 1 to 1000000' }).waitFor();
  assert.ok(await editor.getByRole('button', { name: 'Save' }).isDisabled(), 'Save is off while the spec is wrong');
  await specBox.fill('{\n  "name": "x",\n  "mode" "cdc"\n}');
  await editor.locator('.spec-check', { hasText: 'not valid JSON at line 3' }).waitFor();
  await specBox.fill(JSON.stringify({ ...before, options: { ...before.options, batch_rows: 'lots' } }, null, 2));
  await editor.locator('[data-path="options.batch_rows"]').waitFor();
  await shot(page, 'stream-edit');
  await specBox.press('Control+Enter'); // does nothing while invalid
  assert.equal(puts(), putsBefore, 'nothing is sent while the spec is wrong');
  await specBox.fill(JSON.stringify({ ...before, options: { ...before.options, batch_rows: 800 } }, null, 2));
  await editor.getByRole('button', { name: 'Save' }).click();
  await editor.waitFor({ state: 'detached' });
  assert.equal(puts(), putsBefore + 1);
  assert.equal((await apiGet(`/streams/${STREAM}`)).spec.options.batch_rows, 800, 'the new spec is stored');
  assert.equal(JSON.parse(await overview.locator('pre[data-spec]').textContent()).options.batch_rows, 800, 'the page shows it');
  note('edited the paused stream: batch_rows 500 → 800');
  await page.getByRole('button', { name: `Resume ${STREAM}` }).click();
  await until('state running again', async () => (await badge.textContent()) === 'running', 30000);
  await until('counters to move after resume', async () => (await apiGet(`/streams/${STREAM}/stats`)).totals.rows_written > p2.rows_written, 30000);
  await until('the page to show it', async () => (await written()) > ui1, 15000);
  note('resumed: counters move again');
  await sleep(2500); // a few more points on the charts for the screenshots
  await shot(page, 'stream');
  await page.setViewportSize({ width: 390, height: 844 });
  await sleep(300);
  await shot(page, 'stream-narrow');
  await page.setViewportSize({ width: 1280, height: 820 });

  // the streams list, with the running stream
  await page.getByRole('link', { name: 'Streams', exact: true }).click();
  const row = page.locator(`tr[data-stream="${STREAM}"]`);
  await row.locator('.badge', { hasText: 'running' }).waitFor();
  assert.deepEqual(await row.locator('[data-action]').evaluateAll((els) => els.map((e) => e.dataset.action)), ['pause', 'stop'],
    'a running stream offers pause and stop');
  await shot(page, 'streams');

  // --- a read-only key, in a session of its own: everything shows, nothing can change ---
  {
    const ro = await browser.newContext({ viewport: { width: 1280, height: 820 } });
    ro.setDefaultTimeout(15000);
    const rp = await ro.newPage();
    const sent = [];
    rp.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/')) sent.push(`${r.request().method()} ${u.pathname} ${r.status()}`);
    });
    rp.on('pageerror', (e) => pageErrors.push(`read-only session: ${e}`));
    await rp.goto(BASE + '/');
    await rp.getByLabel('API key').fill(READ_KEY);
    await rp.getByRole('button', { name: 'Sign in' }).click();
    await rp.getByRole('heading', { name: 'Streams' }).waitFor();
    assert.equal(await rp.evaluate(() => sessionStorage.getItem('sluice.role')), 'read');
    assert.ok(await rp.locator('#role', { hasText: 'read-only' }).isVisible(), 'the read-only badge shows');
    const roRow = rp.locator(`tr[data-stream="${STREAM}"]`);
    await roRow.locator('.badge', { hasText: 'running' }).waitFor();
    const visibleActions = async (scope) => {
      let n = 0;
      for (const b of await scope.locator('[data-action]').all()) if (await b.isVisible()) n++;
      return n;
    };
    assert.equal(await visibleActions(roRow), 0, 'no lifecycle buttons in the list');
    for (const l of await rp.getByRole('link', { name: 'New stream' }).all()) assert.ok(!(await l.isVisible()), 'New stream is hidden');
    await shot(rp, 'streams-readonly');
    // the stream page is live (its event stream is a GET) and offers no action
    await roRow.getByRole('link', { name: STREAM }).click();
    await rp.locator('.live', { hasText: 'live' }).waitFor();
    const w0 = Number(await rp.locator('[data-stat="rows_written"]').getAttribute('data-value'));
    await until('the read-only page to see rows move', async () =>
      Number(await rp.locator('[data-stat="rows_written"]').getAttribute('data-value')) > w0, 30000);
    assert.equal(await visibleActions(rp), 0, 'no action buttons on the stream page');
    for (const b of await rp.locator('main button').all())
      assert.ok(!(await b.isVisible()) || !/^(Pause|Stop|Start|Resume|Delete|Edit|Verify)\b/.test((await b.textContent()).trim()),
        `a button that changes things shows: ${await b.textContent()}`);
    // connections: listed, without Add, Test, Edit or Delete
    await rp.getByRole('link', { name: 'Connections' }).click();
    await rp.locator('li.conn[data-conn="pg-source"]').waitFor();
    assert.equal(await rp.locator('li.conn').count(), 2);
    for (const name of ['Add connection', 'Test', 'Edit', 'Delete'])
      for (const b of await rp.getByRole('button', { name, exact: true }).all())
        assert.ok(!(await b.isVisible()), `"${name}" shows for a read-only key`);
    // the wizard is not for a read-only key
    await rp.goto(BASE + '/#/new');
    await rp.waitForURL(/#\/streams$/);
    assert.deepEqual(sent.filter((s) => !s.startsWith('GET ') || / (401|403)$/.test(s)), [],
      'the read-only session sent a change or was refused');
    note(`read-only session: ${sent.length} GETs, no buttons that change anything`);
    await ro.close();
  }

  // --- stop the workload, let the stream catch up, stop, delete ------------------------
  stopWorkload();
  note('workload stopped; waiting for the target to catch up');
  await until('the target to equal the source', async () => synced(), 60000, 1000);
  note('target caught up');
  await row.getByRole('link', { name: STREAM }).click();
  await page.getByRole('button', { name: `Stop ${STREAM}` }).click();
  await until('state stopped', async () => (await badge.textContent()) === 'stopped', 60000);
  assert.deepEqual(await page.locator('.page-head [data-action]').evaluateAll((els) => els.map((e) => e.dataset.action)), ['start', 'delete', 'edit']);
  note('stopped');
  // verify: the server compares both sides with the stored connections
  await page.getByRole('button', { name: `Verify ${STREAM}` }).click();
  const ver = page.locator('section.verify');
  await until('the verify job to end', async () => (await ver.getAttribute('data-state')) === 'done', 60000);
  assert.equal(await ver.getAttribute('data-result'), 'equal');
  assert.equal(await ver.locator('tr[data-verify-table]').count(), TABLES.length);
  await ver.locator('.verify-head', { hasText: `All ${TABLES.length} tables equal` }).waitFor();
  await ver.scrollIntoViewIfNeeded();
  await shot(page, 'stream-verify');
  note('verified: every table equal');
  // delete from the list: the confirmation opens under the stream's row and survives the
  // list's 2 s refreshes
  await page.getByRole('link', { name: 'Streams', exact: true }).click();
  await row.getByRole('button', { name: `Delete ${STREAM}` }).click();
  const confirm = page.locator(`tr[data-extra-for="${STREAM}"] .confirm`);
  await confirm.getByRole('checkbox', { name: /drop its replication slot/ }).check();
  await sleep(2500);
  assert.ok(await confirm.getByRole('checkbox', { name: /drop its replication slot/ }).isChecked(), 'the confirmation survives a refresh');
  await confirm.locator('[data-confirm="delete"]').click();
  await until('the stream to leave the list', async () => (await page.locator(`tr[data-stream="${STREAM}"]`).count()) === 0);
  assert.ok(requests.some((r) => r.startsWith('DELETE /api/v1/streams/') && r.endsWith('?drop_slot=true')), 'delete asked to drop the slot');
  const left = await apiGet('/streams');
  assert.ok(!left.streams.some((s) => s.name === STREAM), 'the API no longer lists the stream');
  note('deleted with drop_slot');

  // connections are deleted once no stream names them
  await page.getByRole('link', { name: 'Connections' }).click();
  for (const name of ['maria-target', 'pg-source']) {
    const li = page.locator(`li.conn[data-conn="${name}"]`);
    await li.getByRole('button', { name: 'Delete' }).click();
    await li.getByRole('button', { name: `Delete ${name}` }).click();
    await li.waitFor({ state: 'detached' });
  }
  assert.deepEqual((await apiGet('/connections')).connections, []);
  note('connections deleted');

  assert.deepEqual(foreign, [], 'requests to another origin');
  assert.deepEqual(pageErrors, [], 'errors in the page');
} catch (e) {
  failed = true;
  console.error(e);
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages[0]) await pages[0].screenshot({ path: path.join(OUT, 'failure.png'), fullPage: true });
  } catch {
    /* best effort */
  }
} finally {
  stopWorkload();
  await browser.close();
}
note(failed ? 'FAILED' : 'passed');
process.exit(failed ? 1 : 0);
