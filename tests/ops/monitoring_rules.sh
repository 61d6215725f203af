#!/usr/bin/env bash
# monitoring_rules.sh: the Prometheus alerting rules in monitoring/prometheus/ are valid
# (`promtool check rules`) and fire on exactly the series they should (`promtool test
# rules` with sluice-alerts.test.yml: each alert on a failing stream, none on a healthy
# one); the Grafana dashboard is valid JSON whose queries name only sluice's metrics.
set -euo pipefail
root=${SLUICE_SOURCE_DIR:?}
dir=$root/monitoring/prometheus
promtool check rules "$dir/sluice-alerts.yml"
(cd "$dir" && promtool test rules sluice-alerts.test.yml)

dash=$root/monitoring/grafana/sluice-dashboard.json
jq -e '.panels | length > 0' "$dash" >/dev/null
# every metric the rules and the dashboard use is one that src/monitor/prom.c exports
# (or the rejects counter of docs/monitoring.md)
used=$( { jq -r '.. | .expr? // empty' "$dash"; grep -h 'expr:' -A6 "$dir/sluice-alerts.yml"; } |
  grep -o '\bsluice_[a-z_]*' | sort -u)
known=$(grep -o '"sluice_[a-z_]*"' "$root/src/monitor/prom.c" | tr -d '"' | sort -u)
for m in $used; do
  if ! grep -qx "$m" <<<"$known"; then
    echo "monitoring_rules: $m is used by the rules or the dashboard but sluice does not export it" >&2
    exit 1
  fi
done
echo "monitoring_rules: ok ($(wc -w <<<"$used") metrics used)"
