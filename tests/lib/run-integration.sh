#!/usr/bin/env bash
# run-integration.sh SCRIPT: how ctest runs one integration test. It checks that the test
# servers' environment is there (failing, not skipping, when it is not), then runs SCRIPT.
#
# Under a sanitizer pass (scripts/test.sh sets SLUICE_SANITIZER_LOG_DIR), every sanitized
# process the test starts (sluice, its stream children, a killed run) writes its reports to
# files DIR/<test>.<pid> instead of stderr, where a test that only checks exit codes, or
# kills the process, would miss them. Any such file fails the test, and is printed.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: run-integration.sh SCRIPT" >&2; exit 2; }
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dir=${SLUICE_SANITIZER_LOG_DIR:-}
if [ -z "$dir" ]; then
  exec bash "$1"
fi
mkdir -p "$dir"
prefix=$dir/$(basename "$1" .sh)
rm -f "$prefix".*
for v in ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS; do
  [ -z "${!v:-}" ] || export "$v=${!v}:log_path=$prefix"
done
rc=0
bash "$1" || rc=$?
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
