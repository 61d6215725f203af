#!/usr/bin/env bash
# refs.sh: nothing in the repository cites a document it does not contain.
#
# Every document named in a tracked text file (a name ending in .md, in code comments,
# docs, scripts or tests) must exist relative to the citing file, the repository root or
# docs/. A document outside the repository is cited by its full URL (https://github.com/…),
# which this check skips.
# Prints each dangling citation as FILE:LINE and fails.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files)
else
  files=$(find . -type f -not -path '*/node_modules/*' -not -path './build*' -not -path './.git/*' |
    sed 's|^\./||')
fi

status=0
checked=0
while IFS=: read -r file line token; do
  case $token in //*) continue ;; esac # part of a URL
  case $token in /*|./usr/*) continue ;; esac # a path on an installed system (the package)
  checked=$((checked + 1))
  dir=$(dirname "$file")
  found=
  for cand in "$dir/$token" "$token" "docs/$token"; do
    # inside the repository only: a document of a neighbouring checkout does not count
    if [ -e "$cand" ] && [[ $(realpath "$cand") == "$root"/* ]]; then
      found=1
      break
    fi
  done
  [ -n "$found" ] && continue
  echo "refs.sh: $file:$line cites $token, which the repository does not contain" >&2
  status=1
done < <(grep -v -E 'package-lock\.json$|\.(png|jpg|svg|ico|parquet|gz|zst|bin)$|^fuzz/corpus/' <<<"$files" |
  while IFS= read -r f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
  xargs -0 grep -HnoE '[A-Za-z0-9_./~-]*[A-Za-z0-9_-]\.md\b' 2>/dev/null || true)

[ "$checked" -gt 50 ] || { echo "refs.sh: only $checked citations found: is the scan broken?" >&2; exit 1; }
[ "$status" = 0 ] && echo "refs.sh: $checked citations of documents, all in the repository"
exit "$status"
