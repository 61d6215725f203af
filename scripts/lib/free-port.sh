# shellcheck shell=bash
# free-port.sh: free_port [PORT...] prints a loopback TCP port that nothing listens on (read
# from /proc, no extra tools needed), avoiding the ports given as arguments; returns 1 when
# 200 tries found none. Another process may still take the port before the caller binds it:
# callers retry on a new port when their server cannot bind. Sourced by
# scripts/test-servers.sh and tests/lib/my_pair.sh.
free_port() {
  local used=" $* " port _ addr st
  while read -r _ addr _ st _; do
    if [ "$st" = 0A ]; then used+="$((16#${addr##*:})) "; fi
  done < <(grep -hv local_address /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 30000))
    case "$used" in *" $port "*) continue ;; esac
    echo "$port"
    return 0
  done
  return 1
}
