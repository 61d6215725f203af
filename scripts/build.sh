#!/usr/bin/env bash
# build.sh [--asan] [CMAKE_ARGS...]: configures and builds sluice and its tests.
#
#   build.sh           gcc (the default cc) into build/
#   build.sh --asan    clang with ASan+UBSan (-DSLUICE_SANITIZE=ON) into build-asan/
#
# Warnings are errors when CI=true (-DSLUICE_WERROR=ON). Further arguments go to the
# configure step, e.g. build.sh -DCMAKE_BUILD_TYPE=Debug. Reconfiguring an existing build
# directory is cheap, so this is safe to run again and again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dir=build
# Both builds are test builds: they carry the test-only fault hooks (SLUICE_TEST_HOOKS,
# e.g. SLUICE_TEST_FILE_CRASH for tests/integration/files_kill.sh). A release build is a
# plain `cmake` configure, which leaves them out.
args=(-DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DSLUICE_TEST_HOOKS=ON)
if [ "${1:-}" = --asan ]; then
  shift
  dir=build-asan
  args+=(-DSLUICE_SANITIZE=ON -DCMAKE_C_COMPILER=clang)
fi
if [ "${CI:-}" = true ]; then
  args+=(-DSLUICE_WERROR=ON)
fi

cmake -S . -B "$dir" "${args[@]}" "$@"
cmake --build "$dir" -j "$(nproc)"
