# shellcheck shell=bash
# bench/runs.sh: the runs of sluice that bench/cdc.sh and bench/cdc_mysql.sh compare,
# sourced by both. SLUICE_BIN is the build measured; with SLUICE_BIN_BASE (e.g. a build
# of main) each drain runs for both builds, BENCH_REPEAT times (default 1) in turns: new1,
# base1, new2, base2, ... On a shared, noisy machine the ratio of neighbouring runs says
# more than either time. Needs ratio() and $dir.

bench_repeat=${BENCH_REPEAT:-1}
RUNS=() # "label binary" per run, in the order they drain
bench_runs_init() {
  local r
  for r in $(seq 1 "$bench_repeat"); do
    RUNS+=("new$r $SLUICE_BIN")
    [ -z "${SLUICE_BIN_BASE:-}" ] || RUNS+=("base$r $SLUICE_BIN_BASE")
  done
}

# bench_runs_summary TIMES N REF_MS REF_LABEL: from TIMES (lines "label ms ..."), per
# build the median, min and max time for N changes and the median's ratio to the
# reference, then new/base per round.
bench_runs_summary() {
  local times=$1 n=$2 ref=$3 reflabel=$4 b r tn tb
  for b in new base; do
    grep -q "^$b" "$times" || continue
    awk -v b="$b" '$1 ~ "^" b {print $2}' "$times" | sort -n |
      awk -v b="$b" -v ref="$ref" -v rl="$reflabel" -v n="$n" '
        { t[NR] = $1 }
        END {
          med = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
          printf "sluice %-4s: median %.1f s (%d changes/s), min %.1f s, max %.1f s over %d runs; median %.2fx %s\n",
            b, med / 1000, n * 1000 / med, t[1] / 1000, t[NR] / 1000, NR, med / ref, rl
        }'
  done
  for r in $(seq 1 "$bench_repeat"); do
    tn=$(awk -v l="new$r" '$1 == l {print $2}' "$times")
    tb=$(awk -v l="base$r" '$1 == l {print $2}' "$times")
    [ -z "$tn" ] || [ -z "$tb" ] || echo "round $r: new/base $(ratio "$tn" "$tb")"
  done
}
