#!/usr/bin/env bash
# fresh-check.sh: proves the README's two commands on a pristine Debian 12 root, as a new
# user's machine would run them: nothing installed beyond Debian's minimal base, nothing
# beside the repository.
#
#   1. mmdebstrap (installed here when missing) builds a minimal bookworm root in a temp dir
#      (from the mirror in this machine's apt sources, default deb.debian.org);
#   2. the repository's HEAD goes in as `git archive` (what a clone holds: no build dirs, no
#      node_modules, no uncommitted change) at /root/sluice; this machine's site-local CA
#      certificates (/usr/local/share/ca-certificates) go in too, for HTTPS through a proxy;
#   3. in a chroot (with /proc, /sys, /dev and /dev/shm mounted):
#      - `bash scripts/start.sh --listen 127.0.0.1:PORT --data-dir /root/sluice-data`: must
#        install, build and start the server; passes when GET /healthz answers, then the
#        server is stopped with SIGTERM and must exit (a free PORT rather than 8020, which
#        another server on this machine may hold: the chroot shares the network);
#      - `bash scripts/test.sh`: the whole suite, as the README says.
#   On exit (success, failure or Ctrl-C) every process still running in the root is killed,
#   the mounts are undone and the root is removed (FRESH_KEEP=1 keeps it).
#
# FRESH_ROOT=DIR reuses a root kept by an earlier run (FRESH_KEEP=1, or a failed run) instead
# of a new one: quicker when fixing a failure, but no longer pristine (packages installed,
# old build dirs removed with the old copy of the repository).
#
# usage: scripts/fresh-check.sh [--skip-test]   (as root; takes long: the test suite runs
# from a cold start. --skip-test stops after the first command.) The log of each step is in
# the root under /root/fresh-*.log and is printed on failure; timings are printed at the end.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
run_tests=1
[ "${1:-}" != --skip-test ] || run_tests=0
SUITE=bookworm
START_TIMEOUT=${FRESH_START_TIMEOUT:-3600} # s for start.sh to install, build and answer

die() { echo "fresh-check: $*" >&2; exit 1; }
note() { echo "fresh-check: $(date +%T) $*"; }
[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap, chroot, mounts)"
command -v git >/dev/null || die "git is needed to export the repository"

if ! command -v mmdebstrap >/dev/null; then
  note "installing mmdebstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap </dev/null >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap </dev/null >/dev/null; } ||
    die "could not install mmdebstrap"
fi

if [ -n "${FRESH_ROOT:-}" ]; then
  [ -x "$FRESH_ROOT/bin/bash" ] || die "FRESH_ROOT=$FRESH_ROOT holds no root"
  ROOT=$(cd "$FRESH_ROOT" && pwd)
else
  ROOT=$(mktemp -d /var/tmp/sluice-fresh.XXXXXX)
  chmod 755 "$ROOT"
fi

# Kills every process whose root directory is inside $ROOT, TERM first, then KILL.
kill_inside() {
  local sig pid r left
  for sig in TERM KILL; do
    left=0
    for pid in /proc/[0-9]*; do
      pid=${pid#/proc/}
      r=$(readlink "/proc/$pid/root" 2>/dev/null) || continue
      case $r in "$ROOT" | "$ROOT"/*) kill "-$sig" "$pid" 2>/dev/null && left=1 ;; esac
    done
    [ "$left" = 1 ] || return 0
    sleep 3
  done
}
cleanup() {
  local rc=$? m
  set +e
  kill_inside
  # Unmount everything under the root, deepest first.
  for m in $(findmnt -rn -o TARGET | grep -E "^$ROOT(/|$)" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  if findmnt -rn -o TARGET | grep -qE "^$ROOT(/|$)"; then
    echo "fresh-check: mounts left under $ROOT; not removing it" >&2
  elif [ "${FRESH_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
    echo "fresh-check: the root is kept in $ROOT (rm -rf --one-file-system it when done)" >&2
  else
    rm -rf --one-file-system "$ROOT"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The host's Debian mirror (deb822 or one-line sources), else deb.debian.org.
mirror=$(sed -nE 's/^URIs: *(http[^ ]*\/debian)\/?$/\1/p; s/^deb +(\[[^]]*\] +)?(http[^ ]*\/debian)\/? +bookworm .*/\2/p' \
  /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1) || true
mirror=${mirror:-http://deb.debian.org/debian}
t0=$(date +%s)
if [ -n "${FRESH_ROOT:-}" ]; then
  note "reusing the root $ROOT (not pristine)"
else
  note "mmdebstrap $SUITE into $ROOT from $mirror"
  mmdebstrap --variant=minbase --include=ca-certificates "$SUITE" "$ROOT" \
    "deb $mirror $SUITE main" "deb $mirror $SUITE-updates main" \
    "deb ${mirror%/debian}/debian-security $SUITE-security main" >"$ROOT.mmdebstrap.log" 2>&1 ||
    { tail -n 40 "$ROOT.mmdebstrap.log" >&2; rm -f "$ROOT.mmdebstrap.log"; die "mmdebstrap failed"; }
  rm -f "$ROOT.mmdebstrap.log"
fi
t_root=$(($(date +%s) - t0))

note "copying the repository (git archive HEAD of $repo) to /root/sluice"
rm -rf "$ROOT/root/sluice" "$ROOT/root/sluice-data"
mkdir -p "$ROOT/root/sluice"
git -C "$repo" archive --format=tar HEAD | tar -x -C "$ROOT/root/sluice"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# The site's own CA certificates (/usr/local/share/ca-certificates: e.g. the CA of a proxy
# that intercepts HTTPS), as any machine on this network has them; without them npm cannot
# reach its registry from the root. Public certificates only, nothing secret.
extra_ca=
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$ROOT/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  chroot "$ROOT" update-ca-certificates >/dev/null
  extra_ca=NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
mount --make-rslave "$ROOT/dev"
mkdir -p "$ROOT/dev/shm"
mount -t tmpfs -o mode=1777 shm "$ROOT/dev/shm"

# Runs a command line in the chroot, in the repository, with a clean environment, in place
# of the calling (sub)shell: the caller's pid becomes the command's.
in_root() {
  exec env -i HOME=/root TERM=dumb LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    ${extra_ca:+"$extra_ca"} chroot "$ROOT" /bin/bash -c "cd /root/sluice && $1"
}
show_log() {
  echo "---- last lines of $1:" >&2
  tail -n "${2:-60}" "$ROOT$1" >&2 || true
}

# --- 1. bash scripts/start.sh -----------------------------------------------------------
# shellcheck source=lib/free-port.sh
source "$here/lib/free-port.sh"
port=$(free_port)
t0=$(date +%s)
note "1/2: bash scripts/start.sh (install, build, serve on 127.0.0.1:$port)"
(in_root "exec bash scripts/start.sh --listen 127.0.0.1:$port --data-dir /root/sluice-data") \
  >"$ROOT/root/fresh-start.log" 2>&1 &
spid=$!
deadline=$(($(date +%s) + START_TIMEOUT))
until curl -sf --max-time 5 "http://127.0.0.1:$port/healthz" >"$ROOT/root/fresh-healthz.json" 2>/dev/null; do
  if ! kill -0 "$spid" 2>/dev/null; then
    wait "$spid" || true
    show_log /root/fresh-start.log
    die "scripts/start.sh exited before the server answered /healthz"
  fi
  [ "$(date +%s)" -lt "$deadline" ] || { show_log /root/fresh-start.log; die "no /healthz answer within ${START_TIMEOUT}s"; }
  sleep 2
done
t_start=$(($(date +%s) - t0))
grep -q '"ok"' "$ROOT/root/fresh-healthz.json" || die "/healthz answered $(cat "$ROOT/root/fresh-healthz.json")"
note "the server answers /healthz after ${t_start} s: $(cat "$ROOT/root/fresh-healthz.json")"
kill -TERM "$spid"
rc=0
timeout 60 tail --pid="$spid" -f /dev/null || { show_log /root/fresh-start.log; die "the server did not stop within 60 s of SIGTERM"; }
wait "$spid" || rc=$?
[ "$rc" = 0 ] || { show_log /root/fresh-start.log; die "the server exited $rc on SIGTERM"; }
note "the server stopped on SIGTERM (exit 0)"
kill_inside # nothing of the first command may outlive it (its broker, a demo's databases)

# --- 2. bash scripts/test.sh ------------------------------------------------------------
t_test=skipped
if [ "$run_tests" = 1 ]; then
  t0=$(date +%s)
  note "2/2: bash scripts/test.sh (log: $ROOT/root/fresh-test.log)"
  rc=0
  (in_root "bash scripts/test.sh") >"$ROOT/root/fresh-test.log" 2>&1 || rc=$?
  t_test="$(($(date +%s) - t0)) s"
  if [ "$rc" != 0 ]; then
    show_log /root/fresh-test.log 200
    die "scripts/test.sh exited $rc after ${t_test}"
  fi
  note "scripts/test.sh passed in ${t_test}"
  grep -A8 '^==================== test.sh: .* s in all' "$ROOT/root/fresh-test.log" || true
fi
note "ok: root ${t_root} s, start.sh to /healthz ${t_start} s, test.sh: ${t_test}"
