#!/usr/bin/env bash
# start.sh: installs what sluice needs, builds it, and starts `sluice server` on its
# embedded defaults (the embedded nats-server broker, data under ./sluice-data).
# Arguments go to `sluice server`, e.g. `start.sh --data-dir /var/lib/sluice`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec ./build/sluice server "$@"
