// verify.js: a verify job (docs/api.md "Verify") as the stream page shows it: a headline
// with a tone, and one row per table. Pure; tests in tests/ui/unit/verify.test.js.

// A checksum shortened for a table cell: the first 12 hex digits ("–" when none).
export function shortSum(s) {
  return typeof s === 'string' && s ? s.slice(0, 12) : '–';
}

// {headline, tone: "busy" | "ok" | "bad" | "warn", rows: [{table, source_rows, target_rows,
// source_sum, target_sum, result: "equal" | "DIFFERENT" | problem text, samples: []}],
// error: {message, detail?, hint?} | null, progress: "3 of 12 tables" | null}.
export function verifyView(job) {
  if (!job) return null;
  const report = job.report || null;
  const rows = (report?.tables || []).map((t) => ({
    table: t.table,
    source_rows: t.source_rows,
    target_rows: t.target_rows,
    source_sum: shortSum(t.source_checksum),
    target_sum: shortSum(t.target_checksum),
    result: t.problem ? t.problem : t.equal ? 'equal' : 'DIFFERENT',
    equal: !!t.equal,
    samples: t.samples || [],
  }));
  const differ = rows.filter((r) => !r.equal).length;
  let headline, tone;
  if (job.state === 'running') {
    headline = 'Verifying…';
    tone = 'busy';
  } else if (job.result === 'equal') {
    headline = `All ${rows.length} table${rows.length === 1 ? '' : 's'} equal`;
    tone = 'ok';
  } else if (job.result === 'different') {
    headline = `${differ} of ${rows.length} table${rows.length === 1 ? '' : 's'} differ`;
    tone = 'bad';
  } else {
    headline = 'Verify could not compare the tables';
    tone = 'warn';
  }
  // progress of a running job: its log says "verify: table X (3 of 12): …"
  let progress = null;
  for (const l of job.log || []) {
    const m = /\((\d+) of (\d+)\)/.exec(l);
    if (m) progress = `${m[1]} of ${m[2]} tables`;
  }
  const error = job.error || (report && report.error) || null;
  return { headline, tone, rows, error, progress };
}
