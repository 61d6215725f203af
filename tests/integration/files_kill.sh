#!/usr/bin/env bash
# files_kill.sh: a load from PostgreSQL into Parquet files (local store) is SIGKILLed four
# times at random moments and rerun; the end state must be exactly once: every data file
# listed in the manifest and nothing else (no temp, spool or intent file left, no file of a
# dead run), every row of the source exactly once (count, distinct keys and an md5 over the
# rows in key order, read by DuckDB), the keyless table's multiset of rows equal, and each
# file's row count in the manifest equal to what DuckDB reads from it. At least one kill
# must land while the table was partially written. Before the kills, three runs crash
# (SLUICE_TEST_FILE_CRASH) in each window of storing a file, so that roll-back and
# roll-forward of intent records are exercised every time. The four killed runs read the
# source through a throttle (tests/lib/throttle.mjs, 1 MB/s), so that the load cannot end
# before its kill on a fast machine, and the second run is killed once it has stored a file:
# that kill lands mid-table on any machine. SLUICE_TEST_SEED replays the delays.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/files.sh"
tmpdir

SEED=${SLUICE_TEST_SEED:-$(($(date +%s) % 32768))}
RANDOM=$SEED
note "seed $SEED"
SRC=sl_fk_src NBIG=100000 NDUP=20000
OUT=$TMPD/out
[ "${SLUICE_TEST_KEEP:-0}" = 1 ] || on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $SRC WITH (FORCE)'"
pg_newdb "$SRC"
pg_sql "$SRC" "
  CREATE TABLE big (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(12,3) NOT NULL,
    created timestamptz NOT NULL, note text);
  INSERT INTO big SELECT n * 3, 'name-' || n || CASE WHEN n % 5 = 0 THEN ' ünïcødé €😀' ELSE '' END,
    (n % 100000) / 7.0, timestamptz '2024-01-01 00:00:00+00' + n * interval '1 second',
    CASE WHEN n % 3 = 0 THEN NULL ELSE repeat('x', n % 50) END FROM generate_series(1, $NBIG) n;
  CREATE TABLE dup (a int, b text);
  INSERT INTO dup SELECT n % 1000, 'v' || (n % 777) FROM generate_series(1, $NDUP) n;"

TARGET="file://$OUT?format=parquet&compression=zstd&rotate_rows=6000"
OPTS='{"writers": 2, "batch_rows": 2000, "chunk_rows": 10000}'
write_spec "$TMPD/spec.json" files_kill "$(pg_url $SRC)" "$TARGET" "$OPTS"
# The same stream, its source read through the throttle: ~9 MB of COPY data take >= 9 s.
throttle_start src "$PGPORT" 1000000
write_spec "$TMPD/slow.json" files_kill "$(pg_url_via "$THROTTLE_PORT" $SRC)" "$TARGET" "$OPTS"

STARTED=()
kill_started() {
  local p
  for p in "${STARTED[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
on_exit kill_started
children_of() { cat /proc/"$1"/task/*/children 2>/dev/null | tr '\n' ' ' || true; }
now_ms() { date +%s%3N; }
rand_ms() { echo $(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1))); }
# Rows of table big in durable files (the manifest's count; 0 before there is one).
durable_rows() { jq -r '.tables.big.rows // 0' "$OUT/_sluice/files_kill/manifest.json" 2>/dev/null || echo 0; }

# Each crash window of storing a file, deterministically: the run exits (as if killed) right
# after the intent record, after the data files, after the checkpoint; the next run must
# roll the first back and the other two forward.
for step in after_intent after_data after_ckpt; do
  SL_RC=0
  SLUICE_TEST_FILE_CRASH=$step "$SLUICE_BIN" run "$TMPD/spec.json" --data-dir "$TMPD/data-$step" \
    --no-progress >>"$TMPD/bg.log" 2>&1 || SL_RC=$?
  assert_eq 137 "$SL_RC" "the run with SLUICE_TEST_FILE_CRASH=$step exits as killed"
  note "crashed $step: $(durable_rows) of $NBIG rows of big durable"
done

PARTIAL=0
for i in 1 2 3 4; do
  "$SLUICE_BIN" run "$TMPD/slow.json" --data-dir "$TMPD/data$i" --no-progress >>"$TMPD/bg.log" 2>&1 &
  pid=$!
  STARTED+=("$pid")
  kids=
  if [ "$i" = 2 ]; then
    # once this run has stored a file, plus up to 0.3 s
    before=$(durable_rows) deadline=$(($(now_ms) + 60000))
    until [ "$(durable_rows)" -gt "$before" ] || ! kill -0 "$pid" 2>/dev/null; do
      [ "$(now_ms)" -lt "$deadline" ] || die "run $i stored no file in 60 s"
      kids="$kids $(children_of "$pid")"
      sleep 0.05
    done
    delay=$(rand_ms 0 300)
  else
    delay=$(rand_ms 300 1500)
  fi
  deadline=$(($(now_ms) + delay))
  while [ "$(now_ms)" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
    kids="$kids $(children_of "$pid")"
    sleep 0.05
  done
  kids="$kids $(children_of "$pid")"
  for p in $kids; do STARTED+=("$p"); done
  rc=0
  if kill -KILL "$pid" 2>/dev/null; then
    { wait "$pid"; } 2>/dev/null || true
    n=$(durable_rows)
    note "kill $i after $delay ms: $n of $NBIG rows of big durable"
    if [ "$n" -gt 0 ] && [ "$n" -lt "$NBIG" ]; then PARTIAL=1; fi
  else
    { wait "$pid"; } 2>/dev/null || rc=$?
    note "run $i ended by itself (exit $rc) before the kill"
    [ "$rc" = 0 ] || { tail -n 20 "$TMPD/bg.log" >&2; die "run $i failed with exit $rc"; }
  fi
  for p in $kids; do wait_for "! kill -0 $p" 15 || die "child $p of the killed sluice still runs"; done
done
[ "$PARTIAL" = 1 ] || die "no kill landed while big was partially written"
throttle_stop src

sl_run "$TMPD/final" run "$TMPD/spec.json" --data-dir "$TMPD/data-final" --no-progress
[ "$SL_RC" = 0 ] || { tail -n 30 "$TMPD/final.err" >&2; die "the final run exited $SL_RC"; }
cat "$TMPD/final.err" >>"$TMPD/bg.log"
assert_grep "rolling back unfinished files" "$TMPD/bg.log" "the intent of a crash before the data files is rolled back"
[ "$(grep -c "rolling forward" "$TMPD/bg.log")" -ge 2 ] || die "the crashes after the data files were not rolled forward"

# --- the object set and the manifest ------------------------------------------------------
assert_consistent "$OUT" files_kill
M=$OUT/_sluice/files_kill/manifest.json
assert_eq "$NBIG $NDUP" "$(jq -r '"\(.tables.big.rows) \(.tables.dup.rows)"' "$M")" "manifest row counts"
# every file's count in the manifest is what the file holds
jq -r '.tables[].files[] | "\(.key)\t\(.rows)"' "$M" | LC_ALL=C sort >"$TMPD/counts.manifest"
duck "SELECT replace(filename, '$OUT/', ''), count(*) FROM read_parquet('$OUT/*/*.parquet', filename = true)
  GROUP BY 1 ORDER BY 1" | LC_ALL=C sort >"$TMPD/counts.files"
diff "$TMPD/counts.manifest" "$TMPD/counts.files" >&2 || die "per-file row counts differ (< manifest, > files)"
note "$(wc -l <"$TMPD/counts.files") data files"

# --- every row exactly once -----------------------------------------------------------------
pg_row="concat_ws('|', id::text, name, amount::text, (extract(epoch FROM created) * 1000000)::bigint::text,
  coalesce(note, '<NULL>'))"
duck_row="concat_ws('|', id::VARCHAR, name, amount::VARCHAR, epoch_us(created)::VARCHAR, coalesce(note, '<NULL>'))"
expect=$(pg_sql "$SRC" "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || md5(string_agg($pg_row, E'\n' ORDER BY id)) FROM big")
got=$(duck "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || md5(string_agg($duck_row, chr(10) ORDER BY id))
  FROM read_parquet('$OUT/big/*.parquet')")
assert_eq "$expect" "$got" "big: count, distinct ids and md5 of the rows in id order"
expect=$(pg_sql "$SRC" "SELECT count(*) || ' ' || md5(string_agg(a::text || '|' || b, E'\n' ORDER BY a, b)) FROM dup")
got=$(duck "SELECT count(*) || ' ' || md5(string_agg(a::VARCHAR || '|' || b, chr(10) ORDER BY a, b))
  FROM read_parquet('$OUT/dup/*.parquet')")
assert_eq "$expect" "$got" "dup (keyless): count and md5 of the sorted rows"
note "ok: $NBIG + $NDUP rows exactly once after 4 kills"
