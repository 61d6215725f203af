#!/usr/bin/env bash
# bad_input.sh: every way a user can get a load wrong ends with a non-zero exit, an error on
# stderr that names the problem, a hint line, and a target left as it was (no data table
# created or changed, no broker left running). Cases: wrong passwords (source and target, both
# engines), unknown hosts, a missing source table, unknown spec fields, a target user without
# privileges (PostgreSQL and MariaDB), a target table that already holds rows (then
# truncate_insert must succeed), a missing or non-JSON spec file, and a few more invalid
# values and missing objects. Every case runs even when an earlier one fails; the failures
# are listed at the end. Runs as ctest test integration.bad_input.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
tmpdir

RUN_TIMEOUT=120
MSRC=sl_bad_mysrc PSRC=sl_bad_pgsrc PTGT=sl_bad_pgtgt MTGT=sl_bad_mytgt
NOPRIV_PG=sl_bad_nopriv NOPRIV_MY=sl_bad_readonly
MYH=127.0.0.1:$MYSQL_TCP_PORT PGH=127.0.0.1:$PGPORT

# --- the target's state --------------------------------------------------------------------

# Prints one line per data table of PostgreSQL database DB (sluice's _sluice_checkpoint left
# out): schema.table, its columns, row count and md5 of the sorted rows. One psql call (each
# table's rows are read by query_to_xml), since every case takes two fingerprints.
pg_fingerprint() {
  pg_sql "$1" "SELECT t.table_schema || '.' || t.table_name || ' ' ||
      (SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position)
         FROM information_schema.columns c
        WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name) || ' ' ||
      (xpath('/row/f/text()', query_to_xml(format(
        'SELECT count(*) || '' '' || coalesce(md5(string_agg(r::text, E''\\n'' ORDER BY r::text)), ''-'') AS f
           FROM %I.%I r', t.table_schema, t.table_name), false, true, '')))[1]::text
    FROM information_schema.tables t
   WHERE t.table_schema NOT IN ('pg_catalog', 'information_schema')
     AND t.table_name <> '_sluice_checkpoint' ORDER BY 1"
}

# The same for MariaDB database DB: table, columns, row count and CHECKSUM TABLE, in two
# calls (the table list, then one statement batch for all tables).
my_fingerprint() {
  local db=$1 t sql=
  while read -r t; do
    sql+="SELECT CONCAT('$t ', GROUP_CONCAT(CONCAT(COLUMN_NAME, ':', COLUMN_TYPE)
        ORDER BY ORDINAL_POSITION), ' ', (SELECT COUNT(*) FROM \`$t\`))
      FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '$t';
      CHECKSUM TABLE \`$t\`;"
  done < <(my_sql "$db" "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
     AND TABLE_NAME <> '_sluice_checkpoint' ORDER BY 1")
  [ -z "$sql" ] || my_sql "$db" "$sql"
}

# Both targets (the two servers are asked at the same time).
targets_fingerprint() {
  local pg
  pg_fingerprint "$PTGT" >"$TMPD/fingerprint.pg" &
  pg=$!
  my_fingerprint "$MTGT" >"$TMPD/fingerprint.my" || { wait "$pg"; return 1; }
  wait "$pg" || return 1
  echo "== postgres $PTGT"
  cat "$TMPD/fingerprint.pg"
  echo "== mariadb $MTGT"
  cat "$TMPD/fingerprint.my"
}

# Prints the pids of processes whose command line mentions DIR (a broker left behind).
procs_using() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    [ "$pid" != $$ ] || continue
    if { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "$1"; then echo "$pid"; fi
  done
}

# --- one case ----------------------------------------------------------------------------------

# expect_error NAME WANT_RC CMD SPEC RE... : runs `sluice CMD SPEC` (run with its own data dir)
# and fails unless it exits WANT_RC, stderr has an "error:" line and each regexp RE (case-
# insensitive) matches the error or detail lines, stderr has a "hint:" line, the targets are
# unchanged and no process still uses the data dir.
expect_error() {
  local name=$1 want=$2 cmd=$3 spec=$4 re before after left
  shift 4
  local out="$TMPD/$name" dir="$TMPD/$name.d"
  before=$(targets_fingerprint)
  local args=("$cmd" "$spec")
  [ "$cmd" != run ] || args+=(--data-dir "$dir" --no-progress)
  SL_RC=0
  timeout -k 5 "$RUN_TIMEOUT" "$SLUICE_BIN" "${args[@]}" >"$out.out" 2>"$out.err" || SL_RC=$?
  [ "$SL_RC" != 124 ] || die "$name: sluice $cmd still ran after ${RUN_TIMEOUT}s"
  if [ "$SL_RC" != "$want" ]; then
    sed 's/^/  | /' "$out.err" >&2
    die "$name: sluice $cmd exited $SL_RC, expected $want"
  fi
  grep -E '^(error|detail): ' "$out.err" >"$out.msg" || true
  assert_grep '^error: .+' "$out.err" "$name: an error line on stderr"
  for re in "$@"; do
    assert_grep "$re" "$out.msg" "$name: the error names the problem"
  done
  assert_grep '^hint: .+' "$out.err" "$name: a hint line on stderr"
  after=$(targets_fingerprint)
  if [ "$before" != "$after" ]; then
    diff <(echo "$before") <(echo "$after") >&2 || true
    die "$name: the target changed"
  fi
  if [ -d "$dir" ]; then
    left=$(procs_using "$dir")
    if [ -n "$left" ]; then
      # shellcheck disable=SC2086  # a list of pids
      kill -KILL $left 2>/dev/null || true
      die "$name: processes still use the data dir after sluice exited: $left"
    fi
  fi
  note "$name: ok (exit $SL_RC: $(head -n 1 "$out.msg"))"
}

FAILED=()
# Runs CMD ARGS... (a case: expect_error NAME ..., or a function) in a subshell with set -e;
# records a failure under the case's name and goes on with the next case.
run_case() {
  local rc=0 name=$1
  [ "$1" != expect_error ] || name=$2
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  set -e
  [ "$rc" = 0 ] || FAILED+=("$name")
}

# --- fixtures --------------------------------------------------------------------------------

if [ "${SLUICE_TEST_KEEP:-0}" != 1 ]; then
  on_exit "my_sql '' 'DROP DATABASE IF EXISTS $MSRC; DROP DATABASE IF EXISTS $MTGT; DROP USER IF EXISTS $NOPRIV_MY'"
  on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $PSRC WITH (FORCE); DROP DATABASE IF EXISTS $PTGT WITH (FORCE); DROP ROLE IF EXISTS $NOPRIV_PG'"
fi
my_newdb "$MSRC"
my_sql "$MSRC" "
  CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, price DECIMAL(8,2));
  INSERT INTO items SELECT seq, CONCAT('item ', seq), seq / 4 FROM seq_1_to_1000;
  CREATE TABLE other (id INT PRIMARY KEY);
  INSERT INTO other SELECT seq FROM seq_1_to_10;"
pg_newdb "$PSRC"
pg_sql "$PSRC" "
  CREATE TABLE items (id int PRIMARY KEY, name varchar(40) NOT NULL, price numeric(8,2));
  INSERT INTO items SELECT g, 'item ' || g, g / 4.0 FROM generate_series(1, 1000) g;
  CREATE TABLE other (id int PRIMARY KEY);
  INSERT INTO other SELECT generate_series(1, 10);"
pg_newdb "$PTGT"
my_newdb "$MTGT"

# A PostgreSQL role that may log in but not create anything in public (PostgreSQL 15 no
# longer grants CREATE on public to everyone), and a MariaDB user with only SELECT.
pg_sql postgres "DROP ROLE IF EXISTS $NOPRIV_PG; CREATE ROLE $NOPRIV_PG LOGIN PASSWORD 'np'"
assert_eq f "$(pg_sql "$PTGT" "SELECT has_schema_privilege('$NOPRIV_PG', 'public', 'CREATE')")" \
  "fixture: $NOPRIV_PG must not have CREATE on public"
my_sql "" "DROP USER IF EXISTS $NOPRIV_MY; CREATE USER $NOPRIV_MY@'%' IDENTIFIED BY 'ro';
  GRANT SELECT ON \`$MTGT\`.* TO $NOPRIV_MY@'%'"

MY_SRC_URL=$(my_url "$MSRC") PG_SRC_URL=$(pg_url "$PSRC")
PG_TGT_URL=$(pg_url "$PTGT") MY_TGT_URL=$(my_url "$MTGT")
spec() { echo "$TMPD/$1.json"; }

# --- a. wrong passwords --------------------------------------------------------------------
case_a_password() {
  write_spec "$(spec a1)" bad-a1 "mysql://root:wrong@$MYH/$MSRC" "$PG_TGT_URL"
  run_case expect_error a1-mysql-source-password 1 run "$(spec a1)" 'source' 'access denied|password'
  run_case expect_error a1-verify 2 verify "$(spec a1)" 'source' 'access denied|password'
  write_spec "$(spec a2)" bad-a2 "$MY_SRC_URL" "postgres://postgres:wrong@$PGH/$PTGT"
  run_case expect_error a2-pg-target-password 1 run "$(spec a2)" 'target' 'password'
  write_spec "$(spec a3)" bad-a3 "postgres://postgres:wrong@$PGH/$PSRC" "$MY_TGT_URL"
  run_case expect_error a3-pg-source-password 1 run "$(spec a3)" 'source' 'password'
  write_spec "$(spec a4)" bad-a4 "$PG_SRC_URL" "mysql://root:wrong@$MYH/$MTGT"
  run_case expect_error a4-mysql-target-password 1 run "$(spec a4)" 'target' 'access denied|password'
}

# --- b. unknown hosts ------------------------------------------------------------------------
case_b_host() {
  write_spec "$(spec b1)" bad-b1 "mysql://root:x@no-such-host.invalid:3306/db" "$PG_TGT_URL"
  run_case expect_error b1-mysql-source-host 1 run "$(spec b1)" 'no-such-host\.invalid' \
    'unknown|resolve|translate|not known'
  write_spec "$(spec b2)" bad-b2 "$MY_SRC_URL" "postgres://postgres:x@no-such-host.invalid:5432/db"
  run_case expect_error b2-pg-target-host 1 run "$(spec b2)" 'no-such-host\.invalid' \
    'unknown|resolve|translate|not known'
}

# --- c. a source table that does not exist ---------------------------------------------------
case_c_missing_table() {
  write_spec "$(spec c1)" bad-c1 "$MY_SRC_URL" "$PG_TGT_URL" '{}' '["items", "no_such_table"]'
  run_case expect_error c1-mysql-missing-table 1 run "$(spec c1)" 'no_such_table' \
    'not exist|not found|no such|missing|unknown'
  write_spec "$(spec c2)" bad-c2 "$PG_SRC_URL" "$MY_TGT_URL" '{}' '["items", "no_such_table"]'
  run_case expect_error c2-pg-missing-table 1 run "$(spec c2)" 'no_such_table' \
    'not exist|not found|no such|missing|unknown'
}

# --- d. unknown spec fields ------------------------------------------------------------------
case_d_unknown_field() {
  write_spec "$(spec d1)" bad-d1 "$MY_SRC_URL" "$PG_TGT_URL"
  jq '. + {bogus_field: 1}' "$(spec d1)" >"$TMPD/d1.tmp" && mv "$TMPD/d1.tmp" "$(spec d1)"
  run_case expect_error d1-unknown-top-field 2 run "$(spec d1)" 'bogus_field' 'unknown|unexpected|not allowed'
  write_spec "$(spec d2)" bad-d2 "$MY_SRC_URL" "$PG_TGT_URL" '{"writers": 2, "batchrows": 100}'
  run_case expect_error d2-unknown-option 2 run "$(spec d2)" 'batchrows' 'unknown|unexpected|not allowed'
  write_spec "$(spec d3)" bad-d3 "$MY_SRC_URL" "$PG_TGT_URL"
  jq '.source.tabels = ["items"]' "$(spec d3)" >"$TMPD/d3.tmp" && mv "$TMPD/d3.tmp" "$(spec d3)"
  run_case expect_error d3-unknown-source-field 2 run "$(spec d3)" 'tabels' 'unknown|unexpected|not allowed'
}

# --- e. a target user without privileges -----------------------------------------------------
case_e_privileges() {
  write_spec "$(spec e1)" bad-e1 "$MY_SRC_URL" "postgres://$NOPRIV_PG:np@$PGH/$PTGT"
  run_case expect_error e1-pg-target-no-create 1 run "$(spec e1)" 'permission|privilege|denied'
  write_spec "$(spec e2)" bad-e2 "$PG_SRC_URL" "mysql://$NOPRIV_MY:ro@$MYH/$MTGT"
  run_case expect_error e2-mysql-target-select-only 1 run "$(spec e2)" 'denied|privilege|permission'
}

# --- f. a target table that already holds rows -------------------------------------------------
# PostgreSQL target (from MariaDB) and MariaDB target (from PostgreSQL): insert refuses and
# changes nothing; truncate_insert (same stream, same data dir) then replaces the rows.
case_f_pg_target() {
  pg_sql "$PTGT" "CREATE TABLE items (id int PRIMARY KEY, name varchar(40) NOT NULL, price numeric(8,2));
    INSERT INTO items VALUES (1, 'old one', 9.99), (2, 'old two', NULL), (5000, 'not in source', 1)"
  write_spec "$(spec f1)" bad-f1 "$MY_SRC_URL" "$PG_TGT_URL" '{"write_mode": "insert"}' '["items"]'
  expect_error f1-pg-target-holds-rows 1 run "$(spec f1)" 'already holds rows' 'items'
  assert_eq 3 "$(pg_sql "$PTGT" 'SELECT count(*) FROM items')" "f1: target rows after the refusal"
  write_spec "$(spec f1)" bad-f1 "$MY_SRC_URL" "$PG_TGT_URL" '{"write_mode": "truncate_insert"}' '["items"]'
  sl_run "$TMPD/f1.trunc" run "$(spec f1)" --data-dir "$TMPD/f1-pg-target-holds-rows.d" --no-progress
  [ "$SL_RC" = 0 ] || { cat "$TMPD/f1.trunc.err" >&2; die "f1: truncate_insert exited $SL_RC"; }
  sl_run "$TMPD/f1.verify" verify "$(spec f1)"
  [ "$SL_RC" = 0 ] || { cat "$TMPD/f1.verify".{out,err} >&2; die "f1: verify exited $SL_RC"; }
  assert_grep '^all 1 tables equal$' "$TMPD/f1.verify.out" "f1: verify after truncate_insert"
  assert_eq "1000 0 item 1" "$(pg_sql "$PTGT" "SELECT count(*) || ' ' || count(*) FILTER (WHERE id = 5000)
    || ' ' || min(name) FILTER (WHERE id = 1) FROM items")" "f1: target rows after truncate_insert"
  assert_eq "$(my_sql "$MSRC" "SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, name, COALESCE(price, 'N'))
      ORDER BY id SEPARATOR ','))
      FROM (SELECT id, name, price FROM items) s")" \
    "$(pg_sql "$PTGT" "SELECT md5(string_agg(concat_ws('|', id, name, coalesce(price::text, 'N')), ','
      ORDER BY id)) FROM items")" "f1: values after truncate_insert"
  note "f1: truncate_insert replaced the rows: ok"
}
case_f_my_target() {
  my_sql "$MTGT" "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, price DECIMAL(8,2));
    INSERT INTO items VALUES (1, 'old one', 9.99), (2, 'old two', NULL), (5000, 'not in source', 1)"
  write_spec "$(spec f2)" bad-f2 "$PG_SRC_URL" "$MY_TGT_URL" '{"write_mode": "insert"}' '["items"]'
  expect_error f2-mysql-target-holds-rows 1 run "$(spec f2)" 'already holds rows' 'items'
  assert_eq 3 "$(my_sql "$MTGT" 'SELECT COUNT(*) FROM items')" "f2: target rows after the refusal"
  write_spec "$(spec f2)" bad-f2 "$PG_SRC_URL" "$MY_TGT_URL" '{"write_mode": "truncate_insert"}' '["items"]'
  sl_run "$TMPD/f2.trunc" run "$(spec f2)" --data-dir "$TMPD/f2-mysql-target-holds-rows.d" --no-progress
  [ "$SL_RC" = 0 ] || { cat "$TMPD/f2.trunc.err" >&2; die "f2: truncate_insert exited $SL_RC"; }
  sl_run "$TMPD/f2.verify" verify "$(spec f2)"
  [ "$SL_RC" = 0 ] || { cat "$TMPD/f2.verify".{out,err} >&2; die "f2: verify exited $SL_RC"; }
  assert_grep '^all 1 tables equal$' "$TMPD/f2.verify.out" "f2: verify after truncate_insert"
  assert_eq "1000 0 item 1" "$(my_sql "$MTGT" "SELECT CONCAT(COUNT(*), ' ', SUM(id = 5000), ' ',
    (SELECT name FROM items WHERE id = 1)) FROM items")" "f2: target rows after truncate_insert"
  assert_eq "$(pg_sql "$PSRC" "SELECT md5(string_agg(concat_ws('|', id, name, coalesce(price::text, 'N')), ','
      ORDER BY id)) FROM items")" \
    "$(my_sql "$MTGT" "SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, name, COALESCE(price, 'N'))
      ORDER BY id SEPARATOR ',')) FROM items")" "f2: values after truncate_insert"
  note "f2: truncate_insert replaced the rows: ok"
}

# --- g. a spec file that does not exist, or is not JSON ----------------------------------------
case_g_spec_file() {
  run_case expect_error g1-no-spec-file 2 run "$TMPD/no-such-spec.json" 'no-such-spec\.json' \
    'no such file|not found|does not exist|could not open'
  printf 'name: not json\nmode: load\n' >"$(spec g2)"
  run_case expect_error g2-not-json 2 run "$(spec g2)" 'json|invalid|parse|expected'
  : >"$(spec g3)"
  run_case expect_error g3-empty-spec 2 run "$(spec g3)" 'json|invalid|parse|expected|empty'
}

# --- h. more invalid values and missing objects ------------------------------------------------
case_h_more() {
  write_spec "$(spec h1)" bad-h1 "$MY_SRC_URL" "$PG_TGT_URL" '{"chunk_rows": 999}'
  run_case expect_error h1-chunk-rows-too-small 2 run "$(spec h1)" 'chunk_rows'
  write_spec "$(spec h2)" bad-h2 "$MY_SRC_URL" "$PG_TGT_URL" '{"write_mode": "upsert_all"}'
  run_case expect_error h2-bad-write-mode 2 run "$(spec h2)" 'write_mode'
  write_spec "$(spec h3)" bad-h3 "$MY_SRC_URL" "oracle://scott:tiger@$PGH/orcl"
  run_case expect_error h3-unknown-url-scheme 2 run "$(spec h3)" 'oracle' 'scheme'
  write_spec "$(spec h4)" bad-h4 "$MY_SRC_URL" "$PG_TGT_URL" '{"schema": "none"}' '["other"]'
  run_case expect_error h4-schema-none-missing-table 1 run "$(spec h4)" 'other' 'not exist|missing|not found'
  write_spec "$(spec h5)" bad-h5 "$MY_SRC_URL" "$PG_TGT_URL?schema=no_such_schema"
  run_case expect_error h5-missing-target-schema 1 run "$(spec h5)" 'no_such_schema'
  write_spec "$(spec h6)" bad-h6 "$MY_SRC_URL" "$(pg_url sl_bad_no_such_db)"
  run_case expect_error h6-missing-target-database 1 run "$(spec h6)" 'sl_bad_no_such_db'
  write_spec "$(spec h7)" bad-h7 "$(my_url sl_bad_no_such_db)" "$PG_TGT_URL"
  run_case expect_error h7-missing-source-database 1 run "$(spec h7)" 'sl_bad_no_such_db'
}

case_a_password
case_b_host
case_c_missing_table
case_d_unknown_field
case_e_privileges
run_case case_f_pg_target
run_case case_f_my_target
case_g_spec_file
case_h_more
if [ ${#FAILED[@]} -ne 0 ]; then
  die "bad_input: ${#FAILED[@]} case(s) failed: ${FAILED[*]}"
fi
echo "bad_input: ok"
