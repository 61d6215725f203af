#!/usr/bin/env bash
# options.sh SLUICE_BIN [--write]: the option tables in docs/ are `sluice options` output.
#
# A table in docs/*.md sits between
#   <!-- sluice options NAME: generated … -->   and   <!-- end sluice options -->
# and must be exactly what `sluice options NAME` prints from the property tables that parse
# specs and URLs (src/engine/options.c). Fails with a diff when they drift, and when a table
# of `sluice options` is in no document. --write rewrites the blocks instead.
set -euo pipefail
bin=${1:?usage: options.sh SLUICE_BIN [--write]}
write=${2:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
declare -A seen=()
for doc in "$root"/docs/*.md; do
  grep -q '^<!-- sluice options ' "$doc" || continue
  out="$tmp/$(basename "$doc")"
  : >"$out"
  name=
  while IFS= read -r line || [ -n "$line" ]; do
    if [ -z "$name" ] && [[ $line =~ ^\<!--\ sluice\ options\ ([a-z0-9]+): ]]; then
      name=${BASH_REMATCH[1]}
      seen[$name]=1
      printf '%s\n' "$line" >>"$out"
      "$bin" options "$name" >>"$out" || { echo "options.sh: $doc: \`sluice options $name\` failed" >&2; status=1; }
    elif [ -n "$name" ] && [ "$line" = '<!-- end sluice options -->' ]; then
      name=
      printf '%s\n' "$line" >>"$out"
    elif [ -z "$name" ]; then
      printf '%s\n' "$line" >>"$out"
    fi
  done <"$doc"
  if [ -n "$name" ]; then
    echo "options.sh: $doc: <!-- sluice options $name … --> has no <!-- end sluice options -->" >&2
    status=1
  elif ! cmp -s "$doc" "$out"; then
    if [ "$write" = --write ]; then
      cp "$out" "$doc"
      echo "options.sh: rewrote the option tables of ${doc#"$root"/}"
    else
      echo "options.sh: the option tables of ${doc#"$root"/} differ from \`sluice options\`:" >&2
      diff -u "$doc" "$out" >&2 || true
      status=1
    fi
  fi
done
for name in $("$bin" options --help | awk '/^tables:/ {t = 1; next} t && NF {print $1}'); do
  if [ -z "${seen[$name]:-}" ]; then
    echo "options.sh: no document in docs/ holds the table of \`sluice options $name\`" >&2
    status=1
  fi
done
if [ "$status" != 0 ] && [ "$write" != --write ]; then
  echo "options.sh: regenerate with: bash tests/docs/options.sh build/sluice --write" >&2
fi
exit "$status"
