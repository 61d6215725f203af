#!/usr/bin/env bash
# run-integration.sh SCRIPT: how ctest runs one integration test. It checks that the test
# servers' environment is there (failing, not skipping, when it is not), then runs SCRIPT.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: run-integration.sh SCRIPT" >&2; exit 2; }
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
exec bash "$1"
