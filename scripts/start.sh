#!/usr/bin/env bash
# start.sh: installs what sluice needs, builds it, and starts `sluice server` on its
# embedded defaults (the embedded nats-server broker, data under ./sluice-data) with the demo
# (`--demo`: a private PostgreSQL and MariaDB with sample data, a running change stream and a
# Parquet export; docs/server.md "The demo"). `--no-demo` starts the bare server. Other
# arguments go to `sluice server`, e.g. `start.sh --no-demo --data-dir /var/lib/sluice`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
args=() demo=(--demo)
for a in "$@"; do
  if [ "$a" = --no-demo ]; then demo=(); else args+=("$a"); fi
done
bash scripts/install-deps.sh
bash scripts/build.sh
exec ./build/sluice server "${demo[@]}" "${args[@]}"
