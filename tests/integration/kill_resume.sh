#!/usr/bin/env bash
# kill_resume.sh: a load that is SIGKILLed at random moments three times (and once more
# while its keyless table is half loaded), and restarted each time, ends with exactly the
# source's rows: none lost, none doubled. Once MariaDB → PostgreSQL (400k keyed rows with int,
# varchar, decimal, datetime(6), nullable text; 50k rows of a table without a primary key,
# duplicate rows on purpose), once PostgreSQL → MariaDB (generate_series, 300k keyed + 30k
# keyless). After the second kill the data dir is replaced by a new one (the broker's store
# lost). Each kill is recorded with the target's row count at that moment; at least one
# must land while rows were partially loaded, so the test cannot pass by killing before or
# after the work. The killed runs read the source through a throttle (tests/lib/throttle.mjs,
# 4 MB/s), so that a fast machine cannot finish the load before the kills: the second kill,
# which follows the first rows of its run on the target, lands mid-load on any machine.
# The final run reads directly. Set SLUICE_TEST_SEED to replay the delays.
# Runs as ctest test integration.kill_resume.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
tmpdir

SEED=${SLUICE_TEST_SEED:-$(($(date +%s) % 32768))}
RANDOM=$SEED
note "seed $SEED (SLUICE_TEST_SEED=$SEED replays the kill delays)"
OPTIONS='{"writers": 3, "batch_rows": 2000, "chunk_rows": 20000}'
RUN_TIMEOUT=240 # seconds for the final, uninterrupted run
RATE=4000000    # bytes/s of the killed runs' source connections

# Processes this test started; whatever is still alive at exit is killed by pid.
STARTED=()
kill_started() {
  local p
  for p in "${STARTED[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
on_exit kill_started

# Prints the pids of the children of process PID (all its threads'), space-separated.
children_of() {
  cat /proc/"$1"/task/*/children 2>/dev/null | tr '\n' ' ' || true
}

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# Prints a random delay in milliseconds between LO and HI.
rand_ms() { echo $(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1))); }

# kill_cycles LABEL SPEC DIR TOTAL: starts `sluice run` in the background four times and
# SIGKILLs it: (1) and (3) after a random delay of 0.3-2.5 s, (2) once this run has written
# rows (plus up to 0.5 s), (4) as soon as this run has changed the keyless table and left it
# partially loaded (if the run finishes first, that is noted, not failed). After each kill
# the target's row count goes to KILL_COUNTS. Runs 3 and 4 use DIR.new, as if the broker's
# store had been lost; the final run must use it too. The direction's helpers: COUNT_FN
# prints the target's rows (0 while tables are missing), KEYLESS_FN the keyless table's,
# DETAIL_FN the count per table (for the log), KEYLESS_TOTAL the keyless table's source rows.
# Fails if a killed sluice leaves its broker child running, or a run fails by itself.
kill_cycles() {
  local label=$1 spec=$2 dir=$3 total=$4 i what delay pid kids deadline n k k0 last=0 rc p
  KILL_COUNTS=()
  for i in 1 2 3 4; do
    # From the third run on, a new data dir: the broker's store is lost, and nothing may
    # depend on it (the target's checkpoints are the record).
    [ "$i" != 3 ] || dir=$dir.new
    "$SLUICE_BIN" run "$spec" --data-dir "$dir" --no-progress >>"$TMPD/$label.bg.log" 2>&1 &
    pid=$!
    STARTED+=("$pid")
    kids=
    case $i in
    2)
      deadline=$(($(now_ms) + 120000))
      until [ "$($COUNT_FN)" -gt "$last" ] || ! kill -0 "$pid" 2>/dev/null; do
        [ "$(now_ms)" -lt "$deadline" ] || die "$label: run $i wrote no row in 120 s"
        kids="$kids $(children_of "$pid")"
        sleep 0.05
      done
      delay=$(rand_ms 0 500)
      what="once rows appeared, +$delay ms"
      ;;
    4)
      deadline=$(($(now_ms) + 120000)) k0=$($KEYLESS_FN)
      while kill -0 "$pid" 2>/dev/null; do
        k=$($KEYLESS_FN)
        if [ "$k" != "$k0" ] && [ "$k" -gt 0 ] && [ "$k" -lt "$KEYLESS_TOTAL" ]; then break; fi
        [ "$(now_ms)" -lt "$deadline" ] || die "$label: run $i did not reach the keyless table in 120 s"
        kids="$kids $(children_of "$pid")"
      done
      delay=0
      what="keyless table partially loaded"
      ;;
    *)
      delay=$(rand_ms 300 2500)
      what="after $delay ms"
      ;;
    esac
    deadline=$(($(now_ms) + delay))
    while [ "$(now_ms)" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
      kids="$kids $(children_of "$pid")"
      sleep 0.05
    done
    kids="$kids $(children_of "$pid")"
    for p in $kids; do STARTED+=("$p"); done
    rc=0
    if kill -KILL "$pid" 2>/dev/null; then
      { wait "$pid"; } 2>/dev/null || rc=$?
      n=$($COUNT_FN)
      note "$label: kill $i ($what): target holds $n of $total rows ($($DETAIL_FN))"
    else
      { wait "$pid"; } 2>/dev/null || rc=$?
      n=$($COUNT_FN)
      note "$label: run $i ended by itself (exit $rc) before the kill ($what); target holds $n of $total rows"
      [ "$rc" = 0 ] || { tail -n 20 "$TMPD/$label.bg.log" >&2; die "$label: run $i failed with exit $rc"; }
    fi
    KILL_COUNTS+=("$n")
    last=$n
    # The broker child must not outlive a killed sluice (it would hold the store).
    for p in $kids; do
      wait_for "! kill -0 $p" 15 ||
        die "$label: nats-server child $p of SIGKILLed sluice $pid still runs after 15 s"
    done
  done
}

# Fails unless some count in KILL_COUNTS lies strictly between 0 and TOTAL.
assert_partial_kill() {
  local label=$1 total=$2 n
  for n in "${KILL_COUNTS[@]}"; do
    if [ "$n" -gt 0 ] && [ "$n" -lt "$total" ]; then return 0; fi
  done
  die "$label: no kill landed while rows were partially loaded (counts: ${KILL_COUNTS[*]} of $total)"
}

# Runs the final, uninterrupted load and checks sluice's own verdict.
final_run() {
  local label=$1 spec=$2 dir=$3 ntables=$4 t0
  t0=$(now_ms)
  SL_RC=0
  timeout -k 10 "$RUN_TIMEOUT" "$SLUICE_BIN" run "$spec" --data-dir "$dir" --no-progress \
    >"$TMPD/$label.final.out" 2>"$TMPD/$label.final.err" || SL_RC=$?
  [ "$SL_RC" = 0 ] || {
    tail -n 30 "$TMPD/$label.final.err" >&2
    die "$label: the final run exited $SL_RC (124: still running after ${RUN_TIMEOUT}s)"
  }
  note "$label: final run completed in $(($(now_ms) - t0)) ms"
  sl_run "$TMPD/$label.verify" verify "$spec"
  [ "$SL_RC" = 0 ] || { cat "$TMPD/$label.verify".{out,err} >&2; die "$label: verify exited $SL_RC"; }
  assert_grep "^all $ntables tables equal$" "$TMPD/$label.verify.out" "$label: verify summary"
}

# Fails with MSG unless files A and B are equal; shows the start of a diff.
assert_same_file() {
  cmp -s "$1" "$2" && return 0
  echo "FAIL: $3 (< source, > target)" >&2
  diff "$1" "$2" | head -n 20 >&2
  exit 1
}

# Row expressions, the same text on both engines (NULL as <NULL>).
pg_keyed_row="concat_ws('|', id::text, name, amount::text,
  to_char(created, 'YYYY-MM-DD HH24:MI:SS.US'), coalesce(note, '<NULL>'))"
my_keyed_row="CONCAT_WS('|', CAST(id AS CHAR), name, CAST(amount AS CHAR),
  DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s.%f'), COALESCE(note, '<NULL>'))"
pg_dup_row="concat_ws('|', coalesce(a::text, '<NULL>'), coalesce(b, '<NULL>'), coalesce(c::text, '<NULL>'))"
my_dup_row="CONCAT_WS('|', COALESCE(CAST(a AS CHAR), '<NULL>'), COALESCE(b, '<NULL>'),
  COALESCE(CAST(c AS CHAR), '<NULL>'))"

# check_tables LABEL PG_DB MY_DB KEYED DUP KEYED_ROWS DUP_ROWS: compares the keyed and the
# keyless table between PostgreSQL database PG_DB and MariaDB database MY_DB (either may be
# the source): counts, no duplicate keys, values in key order, the keyless multiset.
check_tables() {
  local label=$1 pdb=$2 mdb=$3 keyed=$4 dup=$5 nkeyed=$6 ndup=$7 side
  assert_eq "$nkeyed $nkeyed" "$(pg_sql "$pdb" "SELECT count(*) || ' ' || count(DISTINCT id) FROM $keyed")" \
    "$label: PostgreSQL $keyed count(*) and count(DISTINCT id)"
  assert_eq "$nkeyed $nkeyed" "$(my_sql "$mdb" "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT id)) FROM $keyed")" \
    "$label: MariaDB $keyed COUNT(*) and COUNT(DISTINCT id)"
  pg_sql "$pdb" "SELECT $pg_keyed_row FROM $keyed ORDER BY id" >"$TMPD/$label.keyed.pg"
  my_sql "$mdb" "SELECT $my_keyed_row FROM $keyed ORDER BY id" >"$TMPD/$label.keyed.my"
  assert_eq "$nkeyed" "$(wc -l <"$TMPD/$label.keyed.pg")" "$label: $keyed rows printed"
  assert_same_file "$TMPD/$label.keyed.pg" "$TMPD/$label.keyed.my" "$label: $keyed values in id order"

  # Keyless: the multiset of rows (sorted) and the size of every duplicate group.
  assert_eq "$ndup" "$(pg_sql "$pdb" "SELECT count(*) FROM $dup")" "$label: PostgreSQL $dup rows"
  assert_eq "$ndup" "$(my_sql "$mdb" "SELECT COUNT(*) FROM $dup")" "$label: MariaDB $dup rows"
  pg_sql "$pdb" "SELECT $pg_dup_row FROM $dup" | LC_ALL=C sort >"$TMPD/$label.dup.pg"
  my_sql "$mdb" "SELECT $my_dup_row FROM $dup" | LC_ALL=C sort >"$TMPD/$label.dup.my"
  assert_eq "$(md5sum <"$TMPD/$label.dup.pg")" "$(md5sum <"$TMPD/$label.dup.my")" "$label: md5 of $dup sorted rows"
  pg_sql "$pdb" "SELECT r || '#' || count(*) FROM (SELECT $pg_dup_row AS r FROM $dup) s GROUP BY r" |
    LC_ALL=C sort >"$TMPD/$label.grp.pg"
  my_sql "$mdb" "SELECT CONCAT(r, '#', COUNT(*)) FROM (SELECT $my_dup_row AS r FROM $dup) s GROUP BY r" |
    LC_ALL=C sort >"$TMPD/$label.grp.my"
  assert_same_file "$TMPD/$label.grp.pg" "$TMPD/$label.grp.my" "$label: $dup rows per duplicate group"
  for side in pg my; do
    grep -q '#[2-9]$' "$TMPD/$label.grp.$side" || die "$label: $dup has no duplicate rows on $side"
  done
}

# ===== MariaDB → PostgreSQL ==================================================================
MSRC=sl_kr_mysrc PTGT=sl_kr_my2pg
if [ "${SLUICE_TEST_KEEP:-0}" != 1 ]; then
  on_exit "my_sql '' 'DROP DATABASE IF EXISTS $MSRC'"
  on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $PTGT WITH (FORCE)'"
fi
my_newdb "$MSRC"
my_sql "$MSRC" "
  CREATE TABLE big (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, amount DECIMAL(12,3) NOT NULL,
    created DATETIME(6) NOT NULL, note TEXT NULL);
  INSERT INTO big
  SELECT n * 10 + n % 7, CONCAT('name-', n, IF(n % 5 = 0, ' ünïcødé €😀', '')),
         ((n * 7919) % 2000000 - 1000000) / 1000,
         TIMESTAMP'2020-01-01 00:00:00' + INTERVAL n * 1234567 MICROSECOND,
         CASE n % 3 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE REPEAT(CHAR(97 + n % 26 USING utf8mb4), n % 50) END
    FROM (SELECT CAST(seq AS SIGNED) AS n FROM seq_1_to_400000) s;
  CREATE TABLE dup (a INT, b VARCHAR(20), c DECIMAL(8,2));
  INSERT INTO dup
  SELECT n % 20000, IF(n % 20000 % 11 = 0, NULL, CONCAT('v', n % 20000 % 13)), (n % 20000) / 100
    FROM (SELECT CAST(seq AS SIGNED) AS n FROM seq_1_to_50000) s;"
pg_newdb "$PTGT"
write_spec "$TMPD/my2pg.json" kr-my2pg "$(my_url "$MSRC")" "$(pg_url "$PTGT")" "$OPTIONS"
throttle_start my "$MYSQL_TCP_PORT" "$RATE"
write_spec "$TMPD/my2pg.slow.json" kr-my2pg "$(my_url_via "$THROTTLE_PORT" "$MSRC")" "$(pg_url "$PTGT")" "$OPTIONS"

# Rows on the PostgreSQL target, 0 while the tables do not exist yet.
my2pg_count() {
  pg_sql "$PTGT" "SELECT (SELECT count(*) FROM big) + (SELECT count(*) FROM dup)" 2>/dev/null || echo 0
}
my2pg_keyless() { pg_sql "$PTGT" "SELECT count(*) FROM dup" 2>/dev/null || echo 0; }
my2pg_detail() {
  pg_sql "$PTGT" "SELECT 'big ' || (SELECT count(*) FROM big) || ', dup ' || (SELECT count(*) FROM dup)" 2>/dev/null || true
}

COUNT_FN=my2pg_count KEYLESS_FN=my2pg_keyless DETAIL_FN=my2pg_detail KEYLESS_TOTAL=50000
kill_cycles my2pg "$TMPD/my2pg.slow.json" "$TMPD/my2pg.d" 450000
throttle_stop my
assert_partial_kill my2pg 450000
xmax_before=$(pg_sql "$PTGT" "SELECT txid_current()")
final_run my2pg "$TMPD/my2pg.json" "$TMPD/my2pg.d.new" 2
check_tables my2pg "$PTGT" "$MSRC" big dup 400000 50000
assert_eq "id" "$(pg_sql "$PTGT" "SELECT string_agg(a.attname, ',') FROM pg_index i
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
  WHERE i.indrelid = 'big'::regclass AND i.indisprimary")" "my2pg: primary key of big"
assert_eq "a,b,c" "$(pg_sql "$PTGT" "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)
  FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'dup'")" \
  "my2pg: columns of the keyless table"
kept=$(pg_sql "$PTGT" "SELECT (SELECT count(*) FROM big WHERE xmin::text::bigint < $xmax_before)
  + (SELECT count(*) FROM dup WHERE xmin::text::bigint < $xmax_before)")
note "my2pg: $kept rows were written before the final run and kept"

# ===== PostgreSQL → MariaDB ==================================================================
PSRC=sl_kr_pgsrc MTGT=sl_kr_pg2my
if [ "${SLUICE_TEST_KEEP:-0}" != 1 ]; then
  on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $PSRC WITH (FORCE)'"
  on_exit "my_sql '' 'DROP DATABASE IF EXISTS $MTGT'"
fi
pg_newdb "$PSRC"
pg_sql "$PSRC" "
  CREATE TABLE gen (id bigint PRIMARY KEY, name varchar(64) NOT NULL, amount numeric(12,2) NOT NULL,
    created timestamp(6) NOT NULL, note text);
  INSERT INTO gen
  SELECT g * 7 + g % 5, 'label-' || g || CASE WHEN g % 4 = 0 THEN ' ñandú €😀' ELSE '' END,
         ((g * 7919) % 2000000 - 1000000) / 100.0,
         timestamp '2021-06-01' + g * interval '1234567 microseconds',
         CASE g % 3 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE repeat(chr(97 + (g % 26)::int), (g % 60)::int) END
    FROM generate_series(1::bigint, 300000) g;
  CREATE TABLE gen_dup (a int, b text, c numeric(8,2));
  INSERT INTO gen_dup
  SELECT g % 12000, CASE WHEN g % 12000 % 11 = 0 THEN NULL ELSE 'v' || (g % 12000 % 13) END,
         (g % 12000) / 100.0
    FROM generate_series(1, 30000) g;
  ANALYZE gen; ANALYZE gen_dup;"
my_newdb "$MTGT"
write_spec "$TMPD/pg2my.json" kr-pg2my "$(pg_url "$PSRC")" "$(my_url "$MTGT")" "$OPTIONS"
throttle_start pg "$PGPORT" "$RATE"
write_spec "$TMPD/pg2my.slow.json" kr-pg2my "$(pg_url_via "$THROTTLE_PORT" "$PSRC")" "$(my_url "$MTGT")" "$OPTIONS"

pg2my_count() {
  my_sql "$MTGT" "SELECT (SELECT COUNT(*) FROM gen) + (SELECT COUNT(*) FROM gen_dup)" 2>/dev/null || echo 0
}
pg2my_keyless() { my_sql "$MTGT" "SELECT COUNT(*) FROM gen_dup" 2>/dev/null || echo 0; }
pg2my_detail() {
  my_sql "$MTGT" "SELECT CONCAT('gen ', (SELECT COUNT(*) FROM gen), ', gen_dup ', (SELECT COUNT(*) FROM gen_dup))" 2>/dev/null || true
}

COUNT_FN=pg2my_count KEYLESS_FN=pg2my_keyless DETAIL_FN=pg2my_detail KEYLESS_TOTAL=30000
kill_cycles pg2my "$TMPD/pg2my.slow.json" "$TMPD/pg2my.d" 330000
throttle_stop pg
assert_partial_kill pg2my 330000
final_run pg2my "$TMPD/pg2my.json" "$TMPD/pg2my.d.new" 2
# The column names differ from the MariaDB→PostgreSQL tables only by the table names.
check_tables pg2my "$PSRC" "$MTGT" gen gen_dup 300000 30000
assert_eq "id" "$(my_sql "$MTGT" "SELECT GROUP_CONCAT(COLUMN_NAME) FROM information_schema.STATISTICS
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'gen' AND INDEX_NAME = 'PRIMARY'")" \
  "pg2my: primary key of gen"
assert_eq "a,b,c" "$(my_sql "$MTGT" "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION)
  FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'gen_dup'")" \
  "pg2my: columns of the keyless table"
echo "kill_resume: ok"
