# shellcheck shell=bash
# files.sh: helpers for the file-target tests (tests/integration/files_*.sh). Needs
# common.sh. Reading goes through tests/files/ (npm @duckdb/node-api, hyparquet, installed
# by scripts/test.sh), never through sluice.

FILES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../files" && pwd)

# Runs one DuckDB query (in-memory database, TimeZone UTC) and prints the rows, columns
# separated by tabs, NULL as \N: duck "SELECT count(*) FROM read_parquet('x/*.parquet')".
duck() {
  [ -d "$FILES_DIR/node_modules/@duckdb/node-api" ] || die "npm packages missing in $FILES_DIR (run npm install there)"
  (cd "$FILES_DIR" && node --input-type=module -e '
import { DuckDBInstance } from "@duckdb/node-api";
const db = await DuckDBInstance.create(":memory:");
const c = await db.connect();
await c.run("SET TimeZone = '"'"'UTC'"'"'");
const r = await c.runAndReadAll(process.argv.at(-1));
for (const row of r.getRowsJson())
  console.log(row.map((v) => (v === null ? "\\N" : typeof v === "object" ? JSON.stringify(v) : String(v))).join("\t"));
' "$1")
}

# Prints the data objects under target directory DIR (relative paths, sorted), leaving out
# sluice's own state (_sluice/).
data_objects() {
  (cd "$1" && find . -path ./_sluice -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort)
}

# Prints the files that manifest FILE lists (sorted).
manifest_objects() {
  jq -r '.tables[].files[].key' "$1" | LC_ALL=C sort
}

# Fails unless the target directory DIR of stream NAME is consistent: the data objects are
# exactly those of the manifest, no temp file, no intent record and no spool file is left,
# and each table's row count in the manifest is the sum of its files' counts.
assert_consistent() {
  local dir=$1 name=$2 m=$1/_sluice/$2/manifest.json
  [ -f "$m" ] || die "$name: no manifest at $m"
  diff <(data_objects "$dir") <(manifest_objects "$m") >"$TMPD/objects.diff" ||
    { cat "$TMPD/objects.diff" >&2; die "$name: data objects differ from the manifest (< disk, > manifest)"; }
  [ -z "$(find "$dir" -name '.*.tmp-*' -print -quit)" ] || die "$name: a temp file is left: $(find "$dir" -name '.*.tmp-*')"
  [ -z "$(find "$dir/_sluice/$2" -path '*/intent/*' -type f -print -quit)" ] || die "$name: an intent record is left"
  [ -z "$(find "$dir/_sluice/.spool" -type f -print -quit 2>/dev/null)" ] || die "$name: a spool file is left"
  jq -e '[.tables[] | (.rows == ([.files[].rows] | add))] | all' "$m" >/dev/null ||
    die "$name: a table's rows in the manifest are not the sum of its files'"
}
