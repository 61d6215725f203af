# shellcheck shell=bash
# cdc_mysql.sh: helpers for the MariaDB change data capture tests
# (tests/integration/my_cdc_*.sh). Source it after common.sh and cdc.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc_mysql.sh"
#
# A MariaDB source has no slot: the stream's position lives only in the target's
# _sluice_checkpoint: "cdc_start" is the hand-over position, "cdc_tables" marks the
# hand-over, and lane 0's "cdc:0" holds {"lsn", "idx", "flush"}. A position is written
# "H/L" (the high and low 32 bits of a 64-bit number, both hex) in one of two kinds:
#   file: binlog file number / byte offset (binlog.000007 at 0x7AE4D73 -> 7/7AE4D73);
#   gtid: bit 62 set, the GTID domain in bits 48-61, the seq_no of a MariaDB GTID below
#         (GTID 0-11-500 -> 40000000/1F4): the same on every server of a replication
#         topology. The URL's position=auto (default) takes gtid on MariaDB with at most
#         one GTID domain, so the tests' streams use gtid unless they ask for file.
# Catching up means: read the server's current position in the kind the stream uses (SHOW
# MASTER STATUS, or the domain's seq_no in @@gtid_binlog_pos) once the workload stopped,
# then wait until the checkpoint's flush reaches it. The helpers that ask the server use
# my_sql, so MYSQL_TCP_PORT=PORT in front of a call points them at another server.
#
# The workload is sysbench oltp_write_only (Debian package sysbench) on tables sbtest1..N,
# plus, optionally, an insert-only audit table (cdc_audit, unique ids from AUTO_INCREMENT)
# filled by a stored procedure looping on the server.

SYSBENCH=$(command -v sysbench || true)
[ -n "$SYSBENCH" ] || die "sysbench not found (Debian package sysbench)"

# --- positions --------------------------------------------------------------------------------

# Prints the kind of position P ("H/L" hex): gtid when bit 62 is set, else file; nothing
# when P is not a position.
cdc_my_pos_kind() {
  local p=$1
  [[ "$p" =~ ^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$ ]] || return 0
  if (((16#${p%/*} >> 30) & 1)); then echo gtid; else echo file; fi
}

# Prints the GTID domain of gtid position P.
cdc_my_pos_domain() { echo $(((16#${1%/*} >> 16) & 0x3FFF)); }

# Prints the kind sluice's position=auto picks on the server: gtid on MariaDB whose
# @@gtid_binlog_state has at most one domain, else file.
cdc_my_auto_kind() {
  local maria state n
  IFS=$'\t' read -r maria state < <(my_sql "" "SELECT @@version LIKE '%MariaDB%', @@GLOBAL.gtid_binlog_state" 2>/dev/null) || true
  if [ "$maria" != 1 ]; then echo file; return 0; fi
  n=$(tr ',' '\n' <<<"$state" | sed -n 's/^[[:space:]]*\([0-9]*\)-.*/\1/p' | sort -u | wc -l)
  if [ "$n" -le 1 ]; then echo gtid; else echo file; fi
}

# Prints the seq_no of GTID domain DOMAIN in GTID list LIST ("0-11-500,1-2-7"; 0 when the
# domain is absent).
cdc_my_gtid_seq() {
  local list=$1 domain=$2 g seq=0
  for g in ${list//,/ }; do
    [ "${g%%-*}" != "$domain" ] || seq=${g##*-}
  done
  echo "$seq"
}

# Prints the source server's current position, as sluice writes it, in the kind given by
# WHAT: "file" (SHOW MASTER STATUS: binlog.000007 at 0x7AE4D73 -> 7/7AE4D73), "gtid" (the
# seq_no of domain CDC_MY_GTID_DOMAIN, default 0, in @@gtid_binlog_pos -> 40000000/1F4),
# a position (its kind, and its domain for gtid), or nothing / "auto" (what sluice's
# position=auto would pick on this server).
cdc_my_master_pos() {
  local what=${1:-auto} kind domain=${CDC_MY_GTID_DOMAIN:-0} file pos _ list
  case $what in
  file | gtid) kind=$what ;;
  auto) kind=$(cdc_my_auto_kind) ;;
  *)
    kind=$(cdc_my_pos_kind "$what")
    [ -n "$kind" ] || die "cdc_my_master_pos: '$what' is neither a kind (file, gtid, auto) nor a position"
    [ "$kind" != gtid ] || domain=$(cdc_my_pos_domain "$what")
    ;;
  esac
  if [ "$kind" = gtid ]; then
    list=$(my_sql "" "SELECT @@GLOBAL.gtid_binlog_pos") || die "cdc_my_master_pos: cannot read @@gtid_binlog_pos"
    printf '%X/%X\n' "$((0x40000000 | domain << 16))" "$(cdc_my_gtid_seq "$list" "$domain")"
    return 0
  fi
  IFS=$'\t' read -r file pos _ < <(my_sql "" "SHOW MASTER STATUS")
  if [ -z "$file" ] || [ -z "$pos" ]; then die "SHOW MASTER STATUS printed nothing: is log_bin on?"; fi
  printf '%X/%X\n' "$((10#${file##*.}))" "$pos"
}

# Prints position "H/L" as one decimal number (H << 32 | L), for comparing positions of one
# kind (a gtid position is positive: bit 62, not 63).
cdc_my_pos_num() {
  local p=$1
  [[ "$p" =~ ^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$ ]] || { echo -1; return 0; }
  echo $(((16#${p%/*} << 32) | 16#${p#*/}))
}

# Succeeds when position A >= position B (both "H/L", of the same kind: positions of
# different kinds do not compare, and fail here).
cdc_my_pos_ge() {
  [ "$(cdc_my_pos_kind "$1")" = "$(cdc_my_pos_kind "$2")" ] || return 1
  [ "$(cdc_my_pos_num "$1")" -ge "$(cdc_my_pos_num "$2")" ]
}

# Prints the position column of checkpoint KEY of stream STREAM on the target (ENGINE pg or
# my, database DB); empty when there is none (or no checkpoint table).
cdc_my_ckpt() {
  local engine=$1 db=$2 stream=${3//\'/\'\'} key=$4
  if [ "$engine" = pg ]; then
    pg_sql "$db" "SELECT position FROM _sluice_checkpoint
      WHERE stream = '$stream' AND key = '$key'" 2>/dev/null || true
  else
    my_sql "$db" "SELECT position FROM _sluice_checkpoint
      WHERE stream = '$stream' AND \`key\` = '$key'" 2>/dev/null || true
  fi
}

# Succeeds once the stream has handed over to streaming (checkpoint "cdc_tables" exists on
# the target) and its initial copy, which runs beside the change stream, is done.
cdc_my_handed_over() { [ -n "$(cdc_my_ckpt "$1" "$2" "$3" cdc_tables)" ] && cdc_copied "$@"; }

# Prints how far the target has applied the stream: the lowest flush over its lanes'
# checkpoints (cdc:0, cdc:1, ...), or the hand-over position while there is none yet
# (nothing happened since).
cdc_my_flush() {
  local engine=$1 db=$2 stream=${3//\'/\'\'} f min='' minn=''
  if [ "$engine" = pg ]; then
    f=$(pg_sql "$db" "SELECT position::json->>'flush' FROM _sluice_checkpoint
      WHERE stream = '$stream' AND key LIKE 'cdc:%'" 2>/dev/null || true)
  else
    f=$(my_sql "$db" "SELECT JSON_UNQUOTE(JSON_EXTRACT(position, '\$.flush')) FROM _sluice_checkpoint
      WHERE stream = '$stream' AND \`key\` LIKE 'cdc:%'" 2>/dev/null || true)
  fi
  for f in $f; do
    if [ -z "$min" ] || [ "$(cdc_my_pos_num "$f")" -lt "$minn" ]; then
      min=$f minn=$(cdc_my_pos_num "$f")
    fi
  done
  [ -n "$min" ] || min=$(cdc_my_ckpt "$1" "$2" "$3" cdc_start)
  echo "$min"
}

# Succeeds when stream STREAM on the target (ENGINE pg or my, database DB) has applied
# everything written on the source so far: its flush >= cdc_my_master_pos in the kind of
# the flush (or of KIND, optional: file, gtid, or a position).
cdc_my_caught_up() {
  local f
  f=$(cdc_my_flush "$1" "$2" "$3")
  [ -n "$f" ] || return 1
  cdc_my_pos_ge "$f" "$(cdc_my_master_pos "${4:-$f}")"
}

# Waits until stream STREAM on the target (ENGINE, DB) has applied everything written on
# the source so far: takes P = the server's current position now, in the kind the stream
# uses (that of its flush; KIND, optional, when there is none yet: file, gtid or auto),
# then polls until the flush >= P (up to TIMEOUT s, default 60). Fails at once if sluice
# PID (optional) exits meanwhile, or if the flush is of another kind than P.
cdc_my_catch_up() {
  local engine=$1 db=$2 stream=$3 pid=${4:-} timeout=${5:-60} kind=${6:-} pos t0 deadline f
  t0=$(now_ms)
  f=$(cdc_my_flush "$engine" "$db" "$stream")
  [ -z "$(cdc_my_pos_kind "$f")" ] || kind=$f
  pos=$(cdc_my_master_pos "${kind:-auto}")
  deadline=$((t0 + timeout * 1000))
  while :; do
    f=$(cdc_my_flush "$engine" "$db" "$stream")
    if [ -n "$(cdc_my_pos_kind "$f")" ] && [ "$(cdc_my_pos_kind "$f")" != "$(cdc_my_pos_kind "$pos")" ]; then
      cdc_die "stream $stream: its flush $f is a $(cdc_my_pos_kind "$f") position, the server's $pos a $(cdc_my_pos_kind "$pos") one"
    fi
    ! cdc_my_pos_ge "$f" "$pos" || break
    if [ -n "$pid" ] && ! cdc_alive "$pid"; then
      cdc_wait_exit "$pid" 1
      cdc_die "sluice exited ($CDC_RC) before applying up to source position $pos"
    fi
    [ "$(now_ms)" -lt "$deadline" ] ||
      cdc_die "stream $stream did not reach source position $pos within ${timeout}s (flush: ${f:-none})"
    sleep 0.2
  done
  note "caught up: $stream at $f >= source position $pos ($(cdc_my_pos_kind "$pos")) after $(($(now_ms) - t0)) ms"
}

# --- the sysbench workload ---------------------------------------------------------------------

# sysbench oltp_write_only's arguments for database DB with TABLES tables of SIZE rows.
cdc_sb_args() {
  echo "oltp_write_only --db-driver=mysql --mysql-host=$MYSQL_HOST --mysql-port=$MYSQL_TCP_PORT" \
    "--mysql-user=root --mysql-password=${MYSQL_PWD:-mypass} --mysql-db=$1 --tables=$2 --table-size=$3"
}

# Creates sbtest1..TABLES with SIZE rows each in MariaDB database DB.
cdc_sb_prepare() {
  local db=$1 tables=$2 size=$3
  # shellcheck disable=SC2046
  "$SYSBENCH" $(cdc_sb_args "$db" "$tables" "$size") prepare >"$TMPD/sysbench-prepare.$db.log" 2>&1 ||
    { cat "$TMPD/sysbench-prepare.$db.log" >&2; die "sysbench prepare failed"; }
}

# The sysbench tables as a JSON array: cdc_sb_tables N.
cdc_sb_tables() { seq 1 "$1" | sed 's/^/sbtest/' | jq -R . | jq -cs .; }

# Starts oltp_write_only on DB (TABLES x SIZE as prepared) in the background until
# cdc_sb_stop LABEL: runs of 2 s one after the other, THREADS threads at RATE transactions
# a second in all (each: an index update, a non-index update, a delete and an insert of
# the same id). Each run's exit status goes to $TMPD/LABEL.rcs, its report to
# $TMPD/LABEL.sysbench.log.
cdc_sb_start() {
  local label=$1 db=$2 tables=$3 size=$4 rate=${5:-150} threads=${6:-3} args
  args=$(cdc_sb_args "$db" "$tables" "$size")
  rm -f "$TMPD/$label.stop" "$TMPD/$label.rcs"
  (
    set +e
    while [ ! -e "$TMPD/$label.stop" ] && [ ! -e "$TMPD/stop.all" ]; do
      # shellcheck disable=SC2086
      "$SYSBENCH" $args --time=2 --rate="$rate" --threads="$threads" --report-interval=0 \
        --mysql-ignore-errors=1213,1205,1020 run >>"$TMPD/$label.sysbench.log" 2>&1
      echo "$? $(date +%T.%3N)" >>"$TMPD/$label.rcs"
    done
  ) &
  CDC_BG_PIDS+=("$!")
  eval "CDC_SB_PID_$label=$!"
}

# Stops sysbench workload LABEL (the run in progress finishes first) and fails if a run
# failed or none ran. Notes the runs and transactions.
cdc_sb_stop() {
  local label=$1 pidvar="CDC_SB_PID_$1" pid bad tx
  pid=${!pidvar}
  touch "$TMPD/$label.stop"
  wait_for "! kill -0 $pid" 30 || die "sysbench workload $label did not stop within 30 s"
  wait "$pid" 2>/dev/null || true
  [ -s "$TMPD/$label.rcs" ] || die "sysbench workload $label did no run"
  bad=$(awk '$1 != 0' "$TMPD/$label.rcs" | wc -l)
  tx=$(awk '/^ *transactions:/ {s += $2} END {print s + 0}' "$TMPD/$label.sysbench.log")
  # shellcheck disable=SC2034  # read by the tests
  CDC_SB_TX=$tx
  note "sysbench $label: $(wc -l <"$TMPD/$label.rcs") runs, $tx transactions, $bad runs failed"
  if [ "$bad" != 0 ]; then
    tail -n 30 "$TMPD/$label.sysbench.log" >&2
    die "sysbench workload $label: $bad runs failed"
  fi
}

# --- the audit workload --------------------------------------------------------------------------

# Creates the insert-only table cdc_audit and the procedure cdc_audit_loop() in DB. The
# procedure inserts until a row appears in cdc_audit_stop: single-row autocommit inserts
# and, every 5th round, a transaction of 3 rows; ~200 rows/s.
cdc_my_audit_init() {
  my_sql "$1" "
    CREATE TABLE cdc_audit (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, client int NOT NULL,
      note varchar(40), amount decimal(12,2), at datetime(6) NOT NULL) ENGINE=InnoDB;
    CREATE TABLE cdc_audit_stop (x int) ENGINE=InnoDB;"
  my_sql "$1" <<'SQL'
DELIMITER //
    CREATE PROCEDURE cdc_audit_loop(IN client int)
    BEGIN
      DECLARE i int DEFAULT 0;
      WHILE NOT EXISTS (SELECT 1 FROM cdc_audit_stop) DO
        SET i = i + 1;
        IF i % 5 = 0 THEN
          START TRANSACTION;
          INSERT INTO cdc_audit (client, note, amount, at) VALUES
            (client, CONCAT('tx ', i, ' a'), i / 100, NOW(6)),
            (client, CONCAT('tx ', i, ' b'), -i / 7, NOW(6));
          INSERT INTO cdc_audit (client, note, amount, at) VALUES (client, NULL, NULL, NOW(6));
          COMMIT;
        ELSE
          INSERT INTO cdc_audit (client, note, amount, at) VALUES (client, CONCAT('row ', i), i, NOW(6));
        END IF;
        DO SLEEP(0.005);
      END WHILE;
    END //
SQL
}

# Starts the audit loop on DB in the background (one session); stop it with
# cdc_my_audit_stop DB.
cdc_my_audit_start() {
  my_sql "$1" "DELETE FROM cdc_audit_stop"
  my_sql "$1" "CALL cdc_audit_loop(1)" >"$TMPD/audit-loop.log" 2>&1 &
  CDC_BG_PIDS+=("$!")
  CDC_AUDIT_PID=$!
}
cdc_my_audit_stop() {
  my_sql "$1" "INSERT INTO cdc_audit_stop VALUES (1)"
  wait_for "! kill -0 $CDC_AUDIT_PID" 30 || die "the audit loop did not stop"
  wait "$CDC_AUDIT_PID" || { cat "$TMPD/audit-loop.log" >&2; die "the audit loop failed"; }
}

# --- comparing ---------------------------------------------------------------------------------

# Asserts that MariaDB table TABLE is the same in databases SRC and TGT (my_table_digest:
# count and md5 of every column in ORDER order).
cdc_my_same_my() {
  local src=$1 tgt=$2 table=$3 order=$4
  assert_eq "$(my_table_digest "$src" "$table" "$order")" "$(my_table_digest "$tgt" "$table" "$order")" \
    "$table: rows and md5 on the source (expected) and the MariaDB target (actual)"
}

# Asserts that the rows of MY_QUERY on MariaDB database SRC and PG_QUERY on PostgreSQL
# database TGT are the same lines (each query prints one text line per row; sorted as
# bytes before comparing). LABEL names the files in $TMPD.
cdc_my_same_pg() {
  local label=$1 src=$2 tgt=$3
  my_sql "$src" "$4" | LC_ALL=C sort >"$TMPD/$label.src"
  pg_sql "$tgt" "$5" | LC_ALL=C sort >"$TMPD/$label.tgt"
  [ -s "$TMPD/$label.src" ] || die "$label: no rows on the source"
  cdc_same_file "$TMPD/$label.src" "$TMPD/$label.tgt" "$label: rows (MariaDB source, PostgreSQL target)"
}

# Asserts that sbtest1..N of MariaDB SRC equal the target (ENGINE pg or my, database TGT),
# value by value.
cdc_sb_same() {
  local src=$1 engine=$2 tgt=$3 n=$4 i
  for i in $(seq 1 "$n"); do
    if [ "$engine" = my ]; then
      cdc_my_same_my "$src" "$tgt" "sbtest$i" id
    else
      cdc_my_same_pg "sbtest$i" "$src" "$tgt" "SELECT CONCAT_WS('|', id, k, c, pad) FROM sbtest$i" \
        "SELECT concat_ws('|', id, k, c::text, pad::text) FROM sbtest$i"
    fi
  done
  note "sbtest1..$n: the same rows on both sides ($(my_sql "$src" "SELECT COUNT(*) FROM sbtest1") in sbtest1)"
}

# Checks cdc_audit of MariaDB source SRC against the target (ENGINE pg or my, database
# TGT): the same count, no id twice, the same ids and rows.
cdc_my_audit_same() {
  local src=$1 engine=$2 tgt=$3 n
  n=$(my_sql "$src" "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT id)) FROM cdc_audit")
  my_sql "$src" "SELECT CONCAT_WS('|', id, client, IFNULL(note, '<NULL>'), IFNULL(amount, '<NULL>'),
      DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f')) FROM cdc_audit ORDER BY id" >"$TMPD/audit.src"
  if [ "$engine" = pg ]; then
    assert_eq "$n" "$(pg_sql "$tgt" "SELECT count(*) || ' ' || count(DISTINCT id) FROM cdc_audit")" \
      "cdc_audit: count(*) and count(DISTINCT id), source (expected) and target"
    pg_sql "$tgt" "SELECT concat_ws('|', id, client, coalesce(note, '<NULL>'),
        coalesce(amount::text, '<NULL>'), to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'))
      FROM cdc_audit ORDER BY id" >"$TMPD/audit.tgt"
  else
    assert_eq "$n" "$(my_sql "$tgt" "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT id)) FROM cdc_audit")" \
      "cdc_audit: count(*) and count(DISTINCT id), source (expected) and target"
    my_sql "$tgt" "SELECT CONCAT_WS('|', id, client, IFNULL(note, '<NULL>'), IFNULL(amount, '<NULL>'),
        DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f')) FROM cdc_audit ORDER BY id" >"$TMPD/audit.tgt"
  fi
  cdc_same_file "$TMPD/audit.src" "$TMPD/audit.tgt" "cdc_audit rows in id order"
  note "cdc_audit: ${n% *} rows on both sides, each id once"
}

# Asserts that nothing of stream NAME was written to the target (ENGINE pg or my, database
# DB): no table but (perhaps) _sluice_checkpoint, and no checkpoint of the stream.
cdc_my_nothing_written() {
  local label=$1 engine=$2 db=$3 name=$4
  if [ "$engine" = pg ]; then
    assert_eq "" "$(pg_sql "$db" "SELECT string_agg(tablename, ',') FROM pg_tables
      WHERE schemaname = 'public' AND tablename <> '_sluice_checkpoint'")" "$label: tables on the target"
    if [ "$(pg_sql "$db" "SELECT to_regclass('_sluice_checkpoint') IS NOT NULL")" = t ]; then
      assert_eq 0 "$(pg_sql "$db" "SELECT count(*) FROM _sluice_checkpoint WHERE stream = '$name'")" \
        "$label: checkpoints on the target"
    fi
  else
    assert_eq "" "$(my_sql "$db" "SELECT GROUP_CONCAT(TABLE_NAME) FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> '_sluice_checkpoint'" | sed 's/^NULL$//')" \
      "$label: tables on the target"
    if [ -n "$(my_sql "$db" "SHOW TABLES LIKE '\\_sluice\\_checkpoint'")" ]; then
      assert_eq 0 "$(my_sql "$db" "SELECT COUNT(*) FROM _sluice_checkpoint WHERE stream = '$name'")" \
        "$label: checkpoints on the target"
    fi
  fi
}

# Cell-by-cell dumps: dump_pg and dump_my of tests/lib/dump.sh.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/dump.sh"
