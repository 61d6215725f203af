#!/usr/bin/env bash
# my_cdc_names.sh: what MariaDB streams share on their source (issue 12, item 1): the replica
# server id of the binlog dump, and streams an earlier sluice handed over.
#   1. Two streams whose names give one replica server id (my-sid-512789 and my-sid-749192
#      both derive 406960555): two binlog dumps with one id knock each other off. The second
#      fails at once with an error naming the first (its dump registers as replica
#      "sluice:<stream>") and a hint, and writes nothing; the first streams on undisturbed
#      (no interrupted session) and its target equals the source.
#   2. A stream handed over by an earlier sluice (no "cdc_source" checkpoint): the new sluice
#      resumes it from its checkpoints with no gap and no duplicate (an apply log on the
#      PostgreSQL target counts every row applied), and its positions in the log are the
#      server's ("GTID 0-1-123" or "binlog.000001:1234"), never the packed "40000000/7B".
#   3. The same for the API: a stream run by `sluice server` reports its confirmed position
#      in GET /api/v1/streams/{id}/stats (what the UI shows) as the server writes it, equal to
#      its checkpoint's packed position; deleting it with drop_slot=true deletes its
#      checkpoints (a MariaDB source keeps nothing for it).
# The earlier sluice: SLUICE_OLD_BIN when set (see pg_cdc_names.sh); without it, its state
# is made from the new one's: the "cdc_source" checkpoint deleted (a MariaDB stream has
# nothing else on the source).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc_mysql.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

SRC=sl_mycdc_nm_src
cdc_my_db "$SRC"
my_sql "$SRC" "
  CREATE TABLE t (id int NOT NULL PRIMARY KEY, v varchar(40)) ENGINE=InnoDB;
  INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_100;
  CREATE TABLE cdc_audit (id bigint NOT NULL PRIMARY KEY, v varchar(40)) ENGINE=InnoDB;
  INSERT INTO cdc_audit SELECT seq, CONCAT('x', seq) FROM seq_1_to_100;"

# Stream NAME (label LABEL) of table TABLE into a new PostgreSQL database TGT.
stream_spec() { cdc_table_stream "$1" "$2" "$(my_url "$SRC")" "$SRC" "$3" "$4"; }

# Runs stream LABEL (binary BIN, default $SLUICE_BIN) until it has handed over; sets PID.
run_until_handover() {
  cdc_start_until "$1" "cdc_my_handed_over pg $2 '$(jq -r .name "$TMPD/$1.json")'" "${3:-}"
}

rows_same() {
  cdc_my_same_pg "$1" "$SRC" "$2" "SELECT CONCAT(id, '|', v) FROM $3" "SELECT id || '|' || v FROM $3"
}

# ===== 1. one replica server id for two streams =============================================
X=my-sid-512789 Y=my-sid-749192 TGT_X=sl_mycdc_nm_x TGT_Y=sl_mycdc_nm_y
stream_spec x "$X" "$TGT_X" t
stream_spec y "$Y" "$TGT_Y" t
run_until_handover x "$TGT_X"
pid_x=$PID log_x=$CDC_LOG
wait_for "my_sql '' 'SHOW SLAVE HOSTS' | grep -q 'sluice:$X'" 30 ||
  cdc_die "$X: its binlog dump is not registered (SHOW SLAVE HOSTS)" "$log_x"
assert_eq 406960555 "$(my_sql "" "SHOW SLAVE HOSTS" | awk -F'\t' -v h="sluice:$X" '$2 == h {print $1}')" \
  "$X: the replica server id of its dump"
my_sql "$SRC" "INSERT INTO t SELECT seq, CONCAT('w', seq) FROM seq_101_to_200"
cdc_start y "$TMPD/y.json" "$TMPD/y.data"
cdc_wait_exit "$CDC_PID" 60
[ "$CDC_RC" != 124 ] || cdc_die "$Y: sluice still runs after 60 s (expected an error)"
[ "$CDC_RC" != 0 ] || cdc_die "$Y: sluice exited 0 (expected an error)"
note "$Y: exit $CDC_RC: $(grep -m1 '^error' "$CDC_LOG")"
assert_grep "^error:.*replica server id 406960555 .*in use.*sluice:$X" "$CDC_LOG" \
  "$Y: the error does not name the replica that has its server id"
assert_grep '^hint:.*another name' "$CDC_LOG" "$Y: the hint does not say how to give it another id"
cdc_my_nothing_written "$Y" pg "$TGT_Y" "$Y"
my_sql "$SRC" "INSERT INTO t SELECT seq, CONCAT('w', seq) FROM seq_201_to_300; UPDATE t SET v = 'u' WHERE id <= 10"
cdc_my_catch_up pg "$TGT_X" "$X" "$pid_x"
cdc_stop "$pid_x"
rows_same x "$TGT_X" t
if grep -q 'change stream interrupted' "$log_x"; then
  cdc_die "$X: its stream was interrupted while $Y tried to start" "$log_x"
fi
note "1: $Y refused to take the replica server id of $X, which streamed on"

# ===== 2. a stream an earlier sluice handed over ============================================
L=My-Legacy TGT_L=sl_mycdc_nm_l
stream_spec legacy "$L" "$TGT_L" cdc_audit
run_until_handover legacy "$TGT_L" "${SLUICE_OLD_BIN:-$SLUICE_BIN}"
cdc_my_catch_up pg "$TGT_L" "$L" "$PID"
cdc_stop "$PID"
[ -n "${SLUICE_OLD_BIN:-}" ] ||
  pg_sql "$TGT_L" "DELETE FROM _sluice_checkpoint WHERE stream = '$L' AND key = 'cdc_source'"
assert_eq "" "$(cdc_my_ckpt pg "$TGT_L" "$L" cdc_source)" "$L: no cdc_source checkpoint, as an earlier sluice left it"
cdc_apply_log_create "$TGT_L"
my_sql "$SRC" "INSERT INTO cdc_audit SELECT seq, CONCAT('while stopped ', seq) FROM seq_101_to_300"
cdc_start legacy2 "$TMPD/legacy.json" "$TMPD/legacy.data"
PID=$CDC_PID
my_sql "$SRC" "INSERT INTO cdc_audit SELECT seq, CONCAT('after the upgrade ', seq) FROM seq_301_to_500"
cdc_my_catch_up pg "$TGT_L" "$L" "$PID"
cdc_stop "$PID"
rows_same legacy "$TGT_L" cdc_audit
cdc_apply_log_check "$TGT_L" 400 100 399
assert_grep 'streaming changes from (GTID [0-9]+-[0-9]+-[0-9]+|[A-Za-z0-9_.-]+\.[0-9]+:[0-9]+)$' "$CDC_LOG" \
  "$L: the log does not show the position as the server writes it"
if grep -E ' [0-9A-F]{1,8}/[0-9A-F]{1,8}( |$)' "$CDC_LOG" | grep -v '^===' | grep -q .; then
  cdc_die "$L: a packed position in the log"
fi
note "2: $L resumed from the checkpoints of an earlier sluice with each row applied once"

# ===== 3. the position in the API ============================================================
S=my-api TGT_S=sl_mycdc_nm_api
cdc_pg_db "$TGT_S"
srv_start srv "$TMPD/srv.data"
api_ok 201 POST '/api/v1/streams?start=true' "$(jq -nc --arg name "$S" --arg src "$(my_url "$SRC")" \
  --arg tgt "$(pg_url "$TGT_S")" '{name: $name, mode: "cdc", source: {url: $src, tables: ["t"]}, target: {url: $tgt}}')"
sid=$(jq -r .id <<<"$API_BODY")
wait_for "cdc_my_handed_over pg $TGT_S $S" 90 || { tail -n 30 "$SRV_LOG" >&2; die "$S: no hand-over after 90 s"; }
my_sql "$SRC" "INSERT INTO t SELECT seq, CONCAT('api', seq) FROM seq_301_to_400"
cdc_my_catch_up pg "$TGT_S" "$S"
# Prints the packed position P as the server writes it.
server_pos() {
  local p=$1 file
  if [ "$(cdc_my_pos_kind "$p")" = gtid ]; then
    echo "GTID $(cdc_my_pos_domain "$p")-$(my_sql "" "SELECT @@server_id")-$((16#${p#*/} & 0xFFFFFFFF))"
  else
    file=$(my_sql "" "SHOW MASTER STATUS" | cut -f1)
    printf '%s.%06d:%d\n' "${file%.*}" "$((16#${p%/*}))" "$((16#${p#*/}))"
  fi
}
api_pos_is_ckpt() {
  api_ok 200 GET "/api/v1/streams/$sid/stats"
  API_POS=$(jq -r .position <<<"$API_BODY")
  CKPT_POS=$(server_pos "$(cdc_my_flush pg "$TGT_S" "$S")")
  [ "$API_POS" = "$CKPT_POS" ]
}
wait_for api_pos_is_ckpt 30 || die "$S: the API's position \"$API_POS\" is not its checkpoint's \"$CKPT_POS\""
note "3: the API says $S is at $API_POS, as its checkpoint says"
api_ok 200 POST "/api/v1/streams/$sid/stop"
srv_wait_state "$sid" stopped 60
api_ok 204 DELETE "/api/v1/streams/$sid?drop_slot=true"
assert_eq 0 "$(pg_sql "$TGT_S" "SELECT count(*) FROM _sluice_checkpoint WHERE stream = '$S'")" \
  "$S: checkpoints after delete with drop_slot=true"
srv_stop
note "ok"
