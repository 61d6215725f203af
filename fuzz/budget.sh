#!/usr/bin/env bash
# budget.sh FUZZER CORPUS SECONDS ARTIFACTS: runs libFuzzer binary FUZZER for SECONDS of
# fuzzing, starting from the committed corpus directory CORPUS (read only: new inputs go to
# a temp dir that is removed). Registered by fuzz/CMakeLists.txt as ctest test
# fuzz_budget.<name> (label fuzz_budget) for every fuzz_<name>.c when configured with
# -DSLUICE_FUZZ=ON; scripts/test.sh runs them in CI.
#
# A crash, leak, timeout (10 s on one input) or out-of-memory fails the test; the input
# that did it stays in ARTIFACTS (crash-<sha1>, leak-…, timeout-…, oom-…) and is printed
# below as base64, so that a CI log alone is enough to replay it:
#   base64 -d >input <<<'…'; build-fuzz/fuzz/fuzz_<name> input
# and to keep it as a regression seed, copy it into fuzz/corpus/<name>/.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: budget.sh FUZZER CORPUS SECONDS ARTIFACTS" >&2; exit 2; }
fuzzer=$1 corpus=$2 seconds=$3 artifacts=$4
name=$(basename "$fuzzer")
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT

rc=0
# -use_value_profile: also keeps inputs that bring compared values closer (magic numbers);
# -timeout: an input that takes 10 s is a bug (decoders are linear).
"$fuzzer" "$work" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -use_value_profile=1 -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
  >"$work/log" 2>&1 || rc=$?
if [ "$rc" = 0 ]; then
  grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$work/log" |
    tr '\n' ' ' | sed "s/^/$name: ${seconds} s, /; s/ $/\n/"
  exit 0
fi
grep -v '^#[0-9]' "$work/log" | tail -n 60 # the report, without the progress lines
echo "FAIL: $name exited $rc after fuzzing; its input(s):"
found=0
for f in "$artifacts/$name"-*; do
  [ -f "$f" ] || continue
  found=1
  echo "--- $f ($(stat -c %s "$f") bytes), base64:"
  base64 -w 100 "$f" | head -c 20000
  echo
done
[ "$found" = 1 ] || echo "(no artifact written: see the log above)"
exit 1
