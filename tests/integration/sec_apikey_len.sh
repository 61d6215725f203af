#!/usr/bin/env bash
# sec_apikey_len.sh: --api-key-file uses the whole key (issue 12, defect 10).
#
# - A 600-character key from the file: the key itself gets 200, its first 511 characters
#   (what the server used to keep) and the key with one more character get 401.
# - A 4096-byte key (the documented maximum) works.
# - A 5000-byte key: the server refuses to start, saying the key is too long and what the
#   limit is. The same for SLUICE_API_KEY.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
unset SLUICE_API_KEY

# key N: N random characters [0-9a-f].
key() { head -c $(($1 / 2 + 1)) /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-"$1" | tr -d '\n'; }

K600=$(key 600)
printf '%s\n' "$K600" >"$TMPD/k600"
srv_start k600 "$TMPD/d600" --api-key-file "$TMPD/k600"
KEY=$K600 api_ok 200 GET /api/v1/streams
KEY=${K600:0:511} api_ok 401 GET /api/v1/streams
KEY=${K600}x api_ok 401 GET /api/v1/streams
srv_stop

K4096=$(key 4096)
printf '%s' "$K4096" >"$TMPD/k4096"
srv_start k4096 "$TMPD/d4096" --api-key-file "$TMPD/k4096"
KEY=$K4096 api_ok 200 GET /api/v1/streams
KEY=${K4096:0:4095} api_ok 401 GET /api/v1/streams
srv_stop

key 5000 >"$TMPD/k5000"
sl_run "$TMPD/long" server --listen 127.0.0.1:0 --data-dir "$TMPD/d5000" --api-key-file "$TMPD/k5000"
[ "$SL_RC" != 0 ] || die "the server started with a 5000-byte key"
assert_grep "the API key in \".*k5000\" is longer than 4096 bytes" "$TMPD/long.err" "the refusal of a 5000-byte key file"
assert_grep "^hint: " "$TMPD/long.err" "a hint"
SLUICE_API_KEY=$(key 5000) sl_run "$TMPD/longenv" server --listen 127.0.0.1:0 --data-dir "$TMPD/d5000"
[ "$SL_RC" != 0 ] || die "the server started with a 5000-byte SLUICE_API_KEY"
assert_grep "the API key in SLUICE_API_KEY is longer than 4096 bytes" "$TMPD/longenv.err" "the refusal of a long SLUICE_API_KEY"
note "ok"
