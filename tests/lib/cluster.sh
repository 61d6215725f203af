# shellcheck shell=bash
# cluster.sh: a NATS JetStream cluster of three nats-server nodes on loopback ports, for
# tests/integration/cluster.sh (docs/cluster.md). Source it after common.sh:
#
#   cluster_nats_start            starts nodes 1..3 under $TMPD/nats (clients need the user
#                                 "sluice" with $NATS_PASSWORD; routes their own user), waits
#                                 until each one's /healthz says JetStream is ready
#   cluster_nats_stop I           SIGKILLs node I;   cluster_nats_start_one I starts it again
#   cluster_nats_url [I…]         the URL of nodes I… (default all): comma-separated
#                                 nats://sluice:PASSWORD@127.0.0.1:PORT, the form --nats takes
#   cluster_proxy_start P…        a cluster_proxy.py in front of nodes P… (cluster_proxy.py):
#                                 sets PROXY_PID and PROXY_URL; cluster_proxy_cut / _heal
#
# The nodes advertise no client URLs to clients (cluster.no_advertise), so that a client
# given the proxy's ports cannot find its way around it. Everything started here is killed at
# exit.

NATS_PASSWORD="np$RANDOM$RANDOM$RANDOM"
NATS_ROUTE_PASSWORD="rp$RANDOM$RANDOM"
NATS_PORT=() NATS_CPORT=() NATS_HPORT=() NATS_PID=()
CLUSTER_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cluster_exit() {
  local p
  for p in "${NATS_PID[@]}" ${PROXY_PID:-}; do kill -KILL "$p" 2>/dev/null || true; done
}
on_exit cluster_exit

# Writes node I's config.
cluster_nats_conf() {
  local i=$1 j routes=""
  for j in 1 2 3; do
    [ "$j" = "$i" ] || routes+="    nats-route://route:$NATS_ROUTE_PASSWORD@127.0.0.1:${NATS_CPORT[$j]}"$'\n'
  done
  mkdir -p "$TMPD/nats/n$i"
  cat >"$TMPD/nats/n$i.conf" <<EOF
server_name: n$i
listen: 127.0.0.1:${NATS_PORT[$i]}
http: 127.0.0.1:${NATS_HPORT[$i]}
max_payload: 8MB
jetstream { store_dir: "$TMPD/nats/n$i", max_memory_store: 64MB, max_file_store: 4GB }
authorization { user: sluice, password: "$NATS_PASSWORD" }
cluster {
  name: sluice-test
  listen: 127.0.0.1:${NATS_CPORT[$i]}
  no_advertise: true
  authorization { user: route, password: "$NATS_ROUTE_PASSWORD" }
  routes [
$routes  ]
}
EOF
  chmod 600 "$TMPD/nats/n$i.conf"
}

cluster_nats_start_one() {
  local i=$1
  nats-server -c "$TMPD/nats/n$i.conf" >>"$TMPD/nats/n$i.log" 2>&1 &
  NATS_PID[$i]=$!
}

# Waits until every running node's /healthz answers ok (JetStream ready, meta leader known).
# A node started again is ready once its server and JetStream are (js-server-only): its
# replicas of busy streams may take minutes to catch up on a loaded machine, and nothing
# here waits for them.
cluster_nats_ready() {
  local i
  for i in "$@"; do
    wait_for "curl -fsS 'http://127.0.0.1:${NATS_HPORT[$i]}/healthz?js-server-only=true' | grep -q ok" 120 ||
      { tail -n 20 "$TMPD/nats/n$i.log" >&2; die "nats node $i is not ready"; }
  done
}

cluster_nats_start() {
  local i
  mkdir -p "$TMPD/nats"
  for i in 1 2 3; do
    NATS_PORT[$i]=$(free_port)
    NATS_CPORT[$i]=$(free_port)
    NATS_HPORT[$i]=$(free_port)
  done
  for i in 1 2 3; do cluster_nats_conf "$i"; done
  for i in 1 2 3; do cluster_nats_start_one "$i"; done
  cluster_nats_ready 1 2 3
  note "nats cluster: 127.0.0.1:${NATS_PORT[1]},${NATS_PORT[2]},${NATS_PORT[3]}"
}

cluster_nats_stop() {
  kill -KILL "${NATS_PID[$1]}" 2>/dev/null || true
  wait "${NATS_PID[$1]}" 2>/dev/null || true
}

# The URL of nodes I… (or of the ports given with -p P…).
cluster_nats_url() {
  local ports=() i url=""
  if [ "${1:-}" = -p ]; then
    shift
    ports=("$@")
  else
    for i in "${@:-1 2 3}"; do
      for j in $i; do ports+=("${NATS_PORT[$j]}"); done
    done
  fi
  for i in "${ports[@]}"; do
    if [ -z "$url" ]; then url="nats://sluice:$NATS_PASSWORD@127.0.0.1:$i"; else url+=",nats://127.0.0.1:$i"; fi
  done
  echo "$url"
}

# A cut-able proxy in front of nodes I… ; PROXY_URL the URL through it.
cluster_proxy_start() {
  local i args=() ports=()
  for i in "$@"; do
    local p
    p=$(free_port)
    ports+=("$p")
    args+=("$p:${NATS_PORT[$i]}")
  done
  python3 "$CLUSTER_LIBDIR/cluster_proxy.py" "${args[@]}" >"$TMPD/proxy.out" 2>&1 &
  PROXY_PID=$!
  wait_for "grep -q ready '$TMPD/proxy.out'" 10 || die "the proxy did not start"
  PROXY_URL=$(cluster_nats_url -p "${ports[@]}")
}
cluster_proxy_cut() { kill -USR1 "$PROXY_PID"; }
cluster_proxy_heal() { kill -USR2 "$PROXY_PID"; }
