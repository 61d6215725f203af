#!/usr/bin/env bash
# ui_e2e.sh: the web UI end to end, in headless Chromium (tests/ui/e2e.js, playwright-core
# with Debian's chromium). Starts `sluice server` with its own data dir on a free port, a
# PostgreSQL source of three tables (one with a composite key) and an empty MariaDB target.
# The browser signs in (a wrong key first), fills an invalid connection form (nothing
# sent), adds and tests both connections, creates a CDC stream in the wizard and starts it,
# watches its charts and table progress move under a psql workload, pauses (counters hold),
# resumes, lets it catch up, stops and deletes it (dropping the slot); meanwhile a second
# session signs in with a read-only key (`sluice key add`) and finds no button that
# changes anything. Then the target's
# rows are compared with the source's, row by row and with `sluice verify`, and the slot
# and publication must be gone. Screenshots land in $TMPD/screenshots, and in
# $SLUICE_UI_SCREENSHOTS too when set (docs/screenshots, relative to the repository).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
tmpdir

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
UI="$ROOT/tests/ui"
SRC=sl_ui_src TGT=sl_ui_tgt STREAM=ui-e2e
SLOT=sluice_ui_e2e_1f607741a804 # the slot and publication of stream ui-e2e (docs/cdc.md)
KEY="ui-e2e-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
CHROMIUM=${SLUICE_CHROMIUM:-/usr/bin/chromium}

command -v node >/dev/null || die "node is not installed (Debian package nodejs)"
[ -x "$CHROMIUM" ] || die "no chromium at $CHROMIUM (Debian package chromium)"
[ -d "$UI/node_modules/playwright-core" ] ||
  die "playwright-core is not installed: run \`npm install\` in tests/ui (scripts/test.sh does)"

# --- databases ------------------------------------------------------------------------
pg_newdb "$SRC"
my_newdb "$TGT"
pg_sql "$SRC" "
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, city text);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, amount numeric(10,2) NOT NULL,
                     note text NOT NULL DEFAULT '', created date NOT NULL DEFAULT '2026-01-01');
CREATE TABLE order_lines (order_id bigint, line int, sku text NOT NULL, qty int NOT NULL,
                          PRIMARY KEY (order_id, line));
INSERT INTO customers SELECT g, 'customer ' || g, (ARRAY['Zürich','Lyon','São Paulo','Kraków'])[1 + g % 4]
  FROM generate_series(1, 300) g;
INSERT INTO orders (customer_id, amount, note)
  SELECT 1 + g % 300, (g % 1000) / 7.0, 'seed ' || g FROM generate_series(1, 4000) g;
INSERT INTO order_lines SELECT o, l, 'sku-' || (o * 7 + l) % 500, 1 + (o + l) % 9
  FROM generate_series(1, 4000) o, generate_series(1, 3) l;
ANALYZE;"
seeded=$(pg_sql "$SRC" "SELECT count(*) FROM orders")
note "databases ready (${SECONDS}s)"

# The workload the browser starts and stops: inserts, updates and deletes in all tables.
cat >"$TMPD/workload.sh" <<EOF
source "$ROOT/tests/lib/common.sh"
i=0
while :; do
  i=\$((i + 1))
  pg_sql $SRC "
    WITH o AS (INSERT INTO orders (customer_id, amount, note)
               SELECT 1 + (g + \$i) % 300, (g * \$i % 997) / 3.0, 'live ' || \$i || '.' || g
               FROM generate_series(1, 25) g RETURNING id)
    INSERT INTO order_lines SELECT id, 1, 'sku-live', \$i % 7 + 1 FROM o;
    UPDATE orders SET amount = amount + 1, note = note || '+' WHERE id % 97 = \$i % 97;
    UPDATE customers SET city = 'Oslo ' || \$i WHERE id = 1 + \$i % 300;
    DELETE FROM order_lines WHERE order_id = (SELECT min(order_id) FROM order_lines) AND line = 3;" >/dev/null
  sleep 0.1
done
EOF

# Rows of each table printed the same way by both engines, compared sorted as bytes.
cat >"$TMPD/synced.sh" <<EOF
source "$ROOT/tests/lib/common.sh"
same() {
  [ "\$(pg_sql $SRC "\$1" | LC_ALL=C sort | md5sum)" = "\$(my_sql $TGT "\$2" | LC_ALL=C sort | md5sum)" ]
}
same "SELECT concat_ws('|', id, name, city) FROM customers" \
     "SELECT CONCAT_WS('|', id, name, city) FROM customers" &&
same "SELECT concat_ws('|', id, customer_id, amount, note, created) FROM orders" \
     "SELECT CONCAT_WS('|', id, customer_id, amount, note, created) FROM orders" &&
same "SELECT concat_ws('|', order_id, line, sku, qty) FROM order_lines" \
     "SELECT CONCAT_WS('|', order_id, line, sku, qty) FROM order_lines"
EOF

# --- the server -------------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
SLUICE_API_KEY=$KEY "$SLUICE_BIN" server --listen "127.0.0.1:$PORT" --data-dir "$TMPD/data" \
  >"$TMPD/server.log" 2>&1 &
server=$!
on_exit "kill $server 2>/dev/null; wait $server 2>/dev/null"
wait_for "curl -fsS $BASE/healthz" 30 || { cat "$TMPD/server.log" >&2; die "sluice server does not answer on $BASE"; }
# the UI is embedded: its page, scripts and styles come from the binary
curl -fsS "$BASE/" | grep -q '<script type="module" src="/js/app.js">' || die "GET / is not the UI's page"
ct=$(curl -fsS -o /dev/null -w '%{content_type}' "$BASE/js/app.js")
[[ "$ct" == text/javascript* ]] || die "GET /js/app.js: content type $ct"
note "server on $BASE (${SECONDS}s)"
# a read-only key, added to the running server
READ_KEY=$("$SLUICE_BIN" key add ui-read --role read --data-dir "$TMPD/data" | sed -n 's/^api key: //p')
[ -n "$READ_KEY" ] || die "sluice key add printed no key"

# --- the browser ------------------------------------------------------------------------
mkdir -p "$TMPD/screenshots"
docs=""
if [ -n "${SLUICE_UI_SCREENSHOTS:-}" ]; then
  docs=$SLUICE_UI_SCREENSHOTS
  [[ "$docs" == /* ]] || docs="$ROOT/$docs"
  mkdir -p "$docs"
fi
my_url=$(my_url "$TGT")
# the source's password goes in the form's write-only field, the target's stays in its URL
pg_plain=$(pg_url "$SRC" | sed -E 's#://([^:@/]+):[^@]*@#://\1@#')
pg_pass=$(pg_url "$SRC" | sed -nE 's#^[a-z]+://[^:@/]+:([^@]*)@.*#\1#p')
[ -n "$pg_pass" ] || die "SLUICE_TEST_PG_URL has no password to type into the form"
rc=0
SLUICE_UI_URL=$BASE SLUICE_API_KEY=$KEY SLUICE_UI_READ_KEY=$READ_KEY SLUICE_UI_STREAM=$STREAM \
  SLUICE_UI_PG_URL=$pg_plain SLUICE_UI_PG_PASSWORD=$pg_pass SLUICE_UI_MY_URL=$my_url \
  SLUICE_UI_TABLES=customers,orders,order_lines \
  SLUICE_UI_WORKLOAD="bash $TMPD/workload.sh" SLUICE_UI_SYNCED="bash $TMPD/synced.sh" \
  SLUICE_UI_OUT="$TMPD/screenshots" SLUICE_UI_SCREENSHOTS=$docs SLUICE_CHROMIUM=$CHROMIUM \
  timeout 300 node "$UI/e2e.js" || rc=$?
if [ "$rc" != 0 ]; then
  echo "--- server log (last 60 lines) ---" >&2
  tail -n 60 "$TMPD/server.log" >&2
  keep=$(mktemp -d "${TMPDIR:-/tmp}/sluice-ui_e2e-failure.XXXXXX")
  cp -r "$TMPD/screenshots" "$TMPD/server.log" "$keep/" 2>/dev/null || true
  die "the browser test failed ($rc); screenshots and the server log kept in $keep"
fi

# --- the data ---------------------------------------------------------------------------
note "browser test passed (${SECONDS}s)"
live=$(($(pg_sql "$SRC" "SELECT count(*) FROM orders") - seeded))
[ "$live" -gt 50 ] || die "the workload inserted only $live orders: the test proved little"
bash "$TMPD/synced.sh" || die "the target's rows differ from the source's after the stream stopped"
assert_eq "$(pg_sql "$SRC" "SELECT count(*) FROM order_lines")" \
  "$(my_sql "$TGT" "SELECT COUNT(*) FROM order_lines")" "order_lines rows"
write_spec "$TMPD/verify.json" "$STREAM" "$(pg_url "$SRC")" "$my_url" '{}' \
  '["customers", "orders", "order_lines"]'
sl_run "$TMPD/verify" verify "$TMPD/verify.json"
[ "$SL_RC" = 0 ] || { cat "$TMPD/verify.out" "$TMPD/verify.err" >&2; die "sluice verify: $SL_RC"; }
# delete with drop_slot removed the slot and the publication
assert_eq 0 "$(pg_sql "$SRC" "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$SLOT'")" \
  "replication slots left after delete with drop_slot"
assert_eq 0 "$(pg_sql "$SRC" "SELECT count(*) FROM pg_publication WHERE pubname = '$SLOT'")" \
  "publications left after delete with drop_slot"
note "passed (${SECONDS}s): $live orders written by the workload, target equal to the source"
