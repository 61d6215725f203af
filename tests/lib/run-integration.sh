#!/usr/bin/env bash
# run-integration.sh SCRIPT: how ctest runs one integration test. It checks that the test
# servers' environment is there (failing, not skipping, when it is not), then runs SCRIPT.
#
# With server lanes (scripts/test.sh, -DSLUICE_TEST_LANES=ON), ctest names the lane this
# test holds in CTEST_RESOURCE_GROUP_0_SERVERS ("id:LANE,slots:1"), and the lane's servers
# are those of SLUICE_TEST_LANES_DIR/LANE/env.sh. Without a lane (ctest run by hand without
# the resource spec), a lock on the servers' dir keeps two tests from sharing them at once.
#
# Under a sanitizer pass (scripts/test.sh sets SLUICE_SANITIZER_LOG_DIR), every sanitized
# process the test starts (sluice, its stream children, a killed run) writes its reports to
# files DIR/<test>.<pid> instead of stderr, where a test that only checks exit codes, or
# kills the process, would miss them. Any such file fails the test, and is printed.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: run-integration.sh SCRIPT" >&2; exit 2; }
if [ -n "${CTEST_RESOURCE_GROUP_0_SERVERS:-}" ]; then
  lane=${CTEST_RESOURCE_GROUP_0_SERVERS#id:}
  lane=${lane%%,*}
  [ -f "${SLUICE_TEST_LANES_DIR:-}/$lane/env.sh" ] ||
    { echo "FAIL: no env.sh for server lane '$lane' under SLUICE_TEST_LANES_DIR='${SLUICE_TEST_LANES_DIR:-}'" >&2; exit 1; }
  # shellcheck disable=SC1090
  source "$SLUICE_TEST_LANES_DIR/$lane/env.sh"
fi
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

locked=0
if [ "${SLUICE_TEST_LANES:-0}" = 1 ] && [ -z "${CTEST_RESOURCE_GROUP_0_SERVERS:-}" ]; then
  exec 9>"${SLUICE_TEST_DIR:?}/tests.lock"
  flock 9
  locked=1
fi

dir=${SLUICE_SANITIZER_LOG_DIR:-}
if [ -z "$dir" ] && [ "$locked" = 0 ]; then
  exec bash "$1"
fi
# The test runs as a child, fd 9 closed (nothing it leaves behind may hold the lock).
if [ -z "$dir" ]; then
  rc=0
  bash "$1" 9>&- || rc=$?
  exit "$rc"
fi
mkdir -p "$dir"
prefix=$dir/$(basename "$1" .sh)
rm -f "$prefix".*
for v in ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS; do
  [ -z "${!v:-}" ] || export "$v=${!v}:log_path=$prefix"
done
rc=0
bash "$1" 9>&- || rc=$?
reports=$(find "$dir" -maxdepth 1 -name "$(basename "$prefix").*" -size +0 | sort)
if [ -n "$reports" ]; then
  for f in $reports; do
    echo "==== sanitizer report $f:" >&2
    head -n 300 "$f" >&2
  done
  echo "FAIL: $(wc -l <<<"$reports") sanitizer report(s) from processes of this test" >&2
  exit 1
fi
exit "$rc"
