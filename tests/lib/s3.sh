# shellcheck shell=bash
# s3.sh: helpers for the S3 tests (tests/integration/files_s3_*.sh). Needs common.sh and
# files.sh. The test S3 server is s3rver behind tests/s3/proxy.js (SigV4 checks, counters,
# fault injection), started by scripts/test-servers.sh; sluice talks to the proxy, the tests
# read back from s3rver directly (tests/s3/fetch.js), never through sluice's S3 code.

S3_TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../s3" && pwd)
for v in SLUICE_TEST_S3_ENDPOINT SLUICE_TEST_S3_DIRECT SLUICE_TEST_S3_BUCKET SLUICE_TEST_S3_ACCESS_KEY \
  SLUICE_TEST_S3_SECRET_KEY; do
  [ -n "${!v:-}" ] || die "$v is not set: the S3 test server did not start (scripts/test-servers.sh)"
done
# This run's prefix in the shared bucket.
S3_RUN="$(basename "$0" .sh)-$(date +%s)-$$"

# s3_url NAME [SECRET] [EXTRA]: the target URL of load NAME under this run's prefix, with
# the test credentials (or SECRET) and the query parameters EXTRA ("&format=csv…").
s3_url() {
  echo "s3://$SLUICE_TEST_S3_ACCESS_KEY:${2:-$SLUICE_TEST_S3_SECRET_KEY}@$SLUICE_TEST_S3_BUCKET/$S3_RUN/$1?endpoint=$SLUICE_TEST_S3_ENDPOINT&region=us-east-1${3:-}"
}

# s3_fetch NAME ARGS...: tests/s3/fetch.js on load NAME's prefix, straight from s3rver:
# --list prints "KEY<TAB>SIZE<TAB>ETAG" lines, --dest DIR downloads everything.
s3_fetch() {
  local name=$1
  shift
  node "$S3_TEST_DIR/fetch.js" --endpoint "$SLUICE_TEST_S3_DIRECT" --bucket "$SLUICE_TEST_S3_BUCKET" \
    --prefix "$S3_RUN/$name" "$@"
}

# The proxy's count of S3 operation OP (PutObject, UploadPart, …) since its last reset.
s3_proxy_count() {
  local stats
  stats=$(curl -sf "$SLUICE_TEST_S3_ENDPOINT/__proxy/stats") || die "the S3 proxy does not answer"
  jq -r --arg op "$1" '.ops[$op] // 0' <<<"$stats"
}
s3_proxy_reset() { curl -sf -X POST "$SLUICE_TEST_S3_ENDPOINT/__proxy/reset" || die "the S3 proxy does not answer"; }
