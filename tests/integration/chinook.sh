#!/usr/bin/env bash
# chinook.sh: bulk-loads the Chinook database (11 tables, 15,607 rows) in all four directions
# (MariaDB→PostgreSQL, PostgreSQL→MariaDB, PostgreSQL→PostgreSQL, MariaDB→MariaDB) and checks
# each copy independently of `sluice verify`: per-table row counts, an md5 over every column
# of every table printed the same way on both engines (ints, text, decimals, timestamps, NULL
# marked), sum(Total), non-ASCII names byte for byte, column types and nullability, and the
# primary keys, secondary indexes and foreign keys on the target. A rerun (same or new data
# dir) must report the load as already completed and change nothing; a damaged target must
# make verify exit 1 naming the table and the keys. Runs as ctest test integration.chinook.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
tmpdir

# --- the data ------------------------------------------------------------------------------

# Columns of each table as in the MariaDB file (CamelCase), with their kind: i integer,
# t text, d decimal, ts timestamp. The PostgreSQL file names the same things in snake_case.
declare -A COLS=(
  [Album]="AlbumId:i Title:t ArtistId:i"
  [Artist]="ArtistId:i Name:t"
  [Customer]="CustomerId:i FirstName:t LastName:t Company:t Address:t City:t State:t Country:t
    PostalCode:t Phone:t Fax:t Email:t SupportRepId:i"
  [Employee]="EmployeeId:i LastName:t FirstName:t Title:t ReportsTo:i BirthDate:ts HireDate:ts
    Address:t City:t State:t Country:t PostalCode:t Phone:t Fax:t Email:t"
  [Genre]="GenreId:i Name:t"
  [Invoice]="InvoiceId:i CustomerId:i InvoiceDate:ts BillingAddress:t BillingCity:t
    BillingState:t BillingCountry:t BillingPostalCode:t Total:d"
  [InvoiceLine]="InvoiceLineId:i InvoiceId:i TrackId:i UnitPrice:d Quantity:i"
  [MediaType]="MediaTypeId:i Name:t"
  [Playlist]="PlaylistId:i Name:t"
  [PlaylistTrack]="PlaylistId:i TrackId:i"
  [Track]="TrackId:i Name:t AlbumId:i MediaTypeId:i GenreId:i Composer:t Milliseconds:i
    Bytes:i UnitPrice:d"
)
declare -A KEY=([PlaylistTrack]="PlaylistId TrackId")
declare -A ROWS=([Album]=347 [Artist]=275 [Customer]=59 [Employee]=8 [Genre]=25 [Invoice]=412
  [InvoiceLine]=2240 [MediaType]=5 [Playlist]=18 [PlaylistTrack]=8715 [Track]=3503)
TABLES="Album Artist Customer Employee Genre Invoice InvoiceLine MediaType Playlist
  PlaylistTrack Track"

# --- one side of a load: "ENGINE DB SCHEMA NAMING" (engine pg|my, naming camel|snake) ------

# Prints NAME (CamelCase) as the side's naming spells it.
# (Pure bash: this runs thousands of times.) "InvoiceLineId" → "invoice_line_id".
name_on() {
  local s=$1 out='' c prev='' i
  if [ "$2" != snake ]; then
    printf '%s\n' "$s"
    return
  fi
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    if [[ $c == [A-Z] ]]; then
      [[ $prev != [a-z] ]] || out+=_
      out+=${c,}
    else
      out+=$c
    fi
    prev=$c
  done
  printf '%s\n' "$out"
}

# Runs SQL on a side and prints the result (one column a line).
side_sql() {
  local eng db schema naming
  read -r eng db schema naming <<<"$1"
  if [ "$eng" = pg ]; then pg_sql "$db" "$2"; else my_sql "$db" "$2"; fi
}

# Prints the quoted identifier of column/table NAME (CamelCase) on a side.
qid() {
  local eng db schema naming n
  read -r eng db schema naming <<<"$1"
  n=$(name_on "$2" "$naming")
  if [ "$eng" = pg ]; then echo "\"$n\""; else echo "\`$n\`"; fi
}

# Prints the qualified, quoted table TABLE (CamelCase) on a side.
qtable() {
  local eng db schema naming
  read -r eng db schema naming <<<"$1"
  if [ "$eng" = pg ]; then echo "\"$schema\".$(qid "$1" "$2")"; else qid "$1" "$2"; fi
}

# Prints an SQL expression giving row TABLE as one text value, every column printed the same
# way on both engines, '|'-separated, NULL as <NULL>.
row_expr() {
  local side=$1 table=$2 eng c name kind q e parts=()
  eng=${side%% *}
  for c in ${COLS[$table]}; do
    name=${c%%:*} kind=${c#*:} q=$(qid "$side" "$name")
    if [ "$eng" = pg ]; then
      case $kind in
      t) e=$q ;;
      ts) e="to_char($q, 'YYYY-MM-DD HH24:MI:SS.US')" ;;
      *) e="$q::text" ;;
      esac
      parts+=("coalesce($e, '<NULL>')")
    else
      case $kind in
      t) e=$q ;;
      ts) e="DATE_FORMAT($q, '%Y-%m-%d %H:%i:%s.%f')" ;;
      *) e="CAST($q AS CHAR)" ;;
      esac
      parts+=("COALESCE($e, '<NULL>')")
    fi
  done
  local IFS=,
  if [ "$eng" = pg ]; then echo "concat_ws('|', ${parts[*]})"; else echo "CONCAT_WS('|', ${parts[*]})"; fi
}

# Prints the ORDER BY list (the key) of TABLE on a side.
order_by() {
  local side=$1 table=$2 k cols=() first
  first=${COLS[$table]%%:*}
  for k in ${KEY[$table]:-$first}; do cols+=("$(qid "$side" "$k")"); done
  local IFS=,
  echo "${cols[*]}"
}

# Prints an SQL statement that gives "TABLE ROWS MD5" for TABLE (CamelCase) on a side: the
# md5 over the rows of row_expr, newline-separated, in key order.
digest_sql() {
  local side=$1 table=$2 eng row ord t
  eng=${side%% *} row=$(row_expr "$side" "$table") ord=$(order_by "$side" "$table")
  t=$(qtable "$side" "$table")
  if [ "$eng" = pg ]; then
    printf "%s\n" "SELECT '$table ' || count(*) || ' ' || md5(coalesce(string_agg($row, E'\\n' ORDER BY $ord), '')) FROM $t;"
  else
    printf "%s\n" "SELECT CONCAT('$table ', COUNT(*), ' ', MD5(COALESCE(GROUP_CONCAT($row ORDER BY $ord SEPARATOR '\\n'), ''))) FROM $t;"
  fi
}

# Prints "TABLE ROWS MD5" for every Chinook table on a side (one client call; the SQL is
# built once per side).
declare -A DIGEST_SQL=()
digest_all() {
  local t sql=
  if [ -z "${DIGEST_SQL[$1]:-}" ]; then
    [ "${1%% *}" = pg ] || sql="SET SESSION group_concat_max_len = 1073741824;"
    for t in $TABLES; do sql+=$'\n'$(digest_sql "$1" "$t"); done
    DIGEST_SQL[$1]=$sql
  fi
  side_sql "$1" "${DIGEST_SQL[$1]}"
}

# Prints the rows of TABLE on a side, as digest_sql sees them (for showing a difference).
rows_of() {
  side_sql "$1" "SELECT $(row_expr "$1" "$2") FROM $(qtable "$1" "$2") ORDER BY $(order_by "$1" "$2")"
}

# Prints the columns of a side as "table#position column type nullable", one a line, sorted;
# types normalised: int, varchar(N), dec(P,S), datetime (timestamp without time zone).
columns_of() {
  local eng db schema naming
  read -r eng db schema naming <<<"$1"
  if [ "$eng" = pg ]; then
    pg_sql "$db" "SELECT table_name || '#' || ordinal_position || ' ' || column_name || ' ' ||
        CASE data_type WHEN 'integer' THEN 'int'
          WHEN 'character varying' THEN 'varchar(' || character_maximum_length || ')'
          WHEN 'numeric' THEN 'dec(' || numeric_precision || ',' || numeric_scale || ')'
          WHEN 'timestamp without time zone' THEN 'datetime' ELSE data_type END
        || ' ' || is_nullable
      FROM information_schema.columns
     WHERE table_schema = '$schema' AND table_name <> '_sluice_checkpoint'"
  else
    my_sql "$db" "SELECT CONCAT(TABLE_NAME, '#', ORDINAL_POSITION, ' ', COLUMN_NAME, ' ',
        CASE DATA_TYPE WHEN 'int' THEN 'int'
          WHEN 'varchar' THEN CONCAT('varchar(', CHARACTER_MAXIMUM_LENGTH, ')')
          WHEN 'decimal' THEN CONCAT('dec(', NUMERIC_PRECISION, ',', NUMERIC_SCALE, ')')
          ELSE DATA_TYPE END, ' ', IS_NULLABLE)
      FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> '_sluice_checkpoint'"
  fi | LC_ALL=C sort
}

# Prints the keys of a side, one a line, sorted and without duplicates:
#   pk TABLE(COLS)   idx TABLE(COLS)   fk TABLE(COLS)->REFTABLE(REFCOLS)
keys_of() {
  local eng db schema naming
  read -r eng db schema naming <<<"$1"
  if [ "$eng" = pg ]; then
    pg_sql "$db" "
      SELECT CASE c.contype WHEN 'p' THEN 'pk ' ELSE 'fk ' END || t.relname || '(' ||
             string_agg(a.attname, ',' ORDER BY k.ord) || ')' ||
             CASE WHEN c.contype = 'f' THEN '->' ||
               CASE WHEN rn.nspname = n.nspname THEN '' ELSE rn.nspname || '.' END ||
               r.relname || '(' || string_agg(ra.attname, ',' ORDER BY k.ord) || ')' ELSE '' END
        FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        CROSS JOIN LATERAL unnest(c.conkey, coalesce(c.confkey, c.conkey))
          WITH ORDINALITY AS k(att, ratt, ord)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.att
        LEFT JOIN pg_class r ON r.oid = c.confrelid
        LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
        LEFT JOIN pg_attribute ra ON ra.attrelid = r.oid AND ra.attnum = k.ratt
       WHERE n.nspname = '$schema' AND c.contype IN ('p', 'f') AND t.relname <> '_sluice_checkpoint'
       GROUP BY c.oid, c.contype, t.relname, n.nspname, rn.nspname, r.relname;
      SELECT 'idx ' || t.relname || '(' || string_agg(a.attname, ',' ORDER BY k.ord) || ')'
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(att, ord)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.att
       WHERE n.nspname = '$schema' AND NOT i.indisprimary AND t.relname <> '_sluice_checkpoint'
       GROUP BY i.indexrelid, t.relname"
  else
    my_sql "$db" "
      SELECT CONCAT(IF(INDEX_NAME = 'PRIMARY', 'pk ', 'idx '), TABLE_NAME, '(',
             GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX), ')')
        FROM information_schema.STATISTICS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> '_sluice_checkpoint'
       GROUP BY TABLE_NAME, INDEX_NAME;
      SELECT CONCAT('fk ', TABLE_NAME, '(', GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION),
             ')->', IF(REFERENCED_TABLE_SCHEMA = TABLE_SCHEMA, '', CONCAT(REFERENCED_TABLE_SCHEMA, '.')),
             REFERENCED_TABLE_NAME, '(',
             GROUP_CONCAT(REFERENCED_COLUMN_NAME ORDER BY ORDINAL_POSITION), ')')
        FROM information_schema.KEY_COLUMN_USAGE
       WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL
       GROUP BY TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME"
  fi | LC_ALL=C sort -u
}

# Fails with MSG unless the outputs of commands SRC_CMD and TGT_CMD are the same; shows a diff.
assert_same_output() {
  local src_cmd=$1 tgt_cmd=$2 msg=$3
  eval "$src_cmd" >"$TMPD/cmp.src"
  eval "$tgt_cmd" >"$TMPD/cmp.tgt"
  cmp -s "$TMPD/cmp.src" "$TMPD/cmp.tgt" && return 0
  echo "FAIL: $msg (< source, > target)" >&2
  diff "$TMPD/cmp.src" "$TMPD/cmp.tgt" | head -n 30 >&2
  exit 1
}

# --- one load, checked -----------------------------------------------------------------------

# check_load LABEL SOURCE_SIDE TARGET_SIDE SOURCE_URL TARGET_URL
check_load() {
  local label=$1 src=$2 tgt=$3 src_url=$4 tgt_url=$5
  local dir="$TMPD/$label" spec="$TMPD/$label.json" t t0 tn n s d total
  local tnaming=${tgt##* }
  write_spec "$spec" "chinook-$label" "$src_url" "$tgt_url" \
    '{"writers": 2, "batch_rows": 1000, "chunk_rows": 1000}'

  t0=$(date +%s%3N)
  sl_run "$TMPD/$label.run" run "$spec" --data-dir "$dir" --no-progress
  [ "$SL_RC" = 0 ] || { cat "$TMPD/$label.run.err" >&2; die "$label: sluice run exited $SL_RC"; }
  note "$label: loaded in $(($(date +%s%3N) - t0)) ms"

  # sluice's own verdict first, then ours.
  sl_run "$TMPD/$label.verify" verify "$spec"
  [ "$SL_RC" = 0 ] || { cat "$TMPD/$label.verify".{out,err} >&2; die "$label: verify exited $SL_RC"; }
  assert_grep '^all 11 tables equal$' "$TMPD/$label.verify.out" "$label: verify summary"
  assert_eq 11 "$(grep -cE '[0-9][[:space:]]+equal$' "$TMPD/$label.verify.out")" "$label: verify equal lines"

  # Row counts and values, table by table, on both sides.
  local -A sdig ddig
  while read -r t n d; do sdig[$t]="$n $d"; done < <(digest_all "$src")
  while read -r t n d; do ddig[$t]="$n $d"; done < <(digest_all "$tgt")
  total=0
  for t in $TABLES; do
    s=${sdig[$t]:-} d=${ddig[$t]:-}
    assert_eq "${ROWS[$t]}" "${s%% *}" "$label: source rows of $t"
    if [ "$s" != "$d" ]; then
      rows_of "$src" "$t" >"$TMPD/rows.src"
      rows_of "$tgt" "$t" >"$TMPD/rows.tgt"
      diff "$TMPD/rows.src" "$TMPD/rows.tgt" | head -n 20 >&2 || true
      assert_eq "$s" "$d" "$label: rows and md5 of $t (source vs target)"
    fi
    total=$((total + ${d%% *}))
  done
  assert_eq 15607 "$total" "$label: rows on the target"

  # Same engine: the whole row text must match too (types included), via common.sh.
  if [ "${src%% *}" = "${tgt%% *}" ]; then
    for t in $TABLES; do
      local ord
      ord=$(order_by "$src" "$t")
      read -r _ sdb sschema _ <<<"$src"
      read -r _ tdb tschema _ <<<"$tgt"
      tn=$(name_on "$t" "$tnaming")
      if [ "${src%% *}" = pg ]; then
        assert_eq "$(pg_table_digest "$sdb" "$sschema.$tn" "$ord")" \
          "$(pg_table_digest "$tdb" "$tschema.$tn" "$ord")" "$label: pg_table_digest of $t"
      else
        assert_eq "$(my_table_digest "$sdb" "$tn" "$ord")" \
          "$(my_table_digest "$tdb" "$tn" "$ord")" "$label: my_table_digest of $t"
      fi
    done
  fi

  # Money adds up to the cent.
  local inv tot sum_sql
  inv=$(qtable "$src" Invoice) tot=$(qid "$src" Total)
  sum_sql="SELECT CAST(sum($tot) AS CHAR(20))"
  [ "${src%% *}" = my ] || sum_sql="SELECT sum($tot)::text"
  assert_eq 2328.60 "$(side_sql "$src" "$sum_sql FROM $inv")" "$label: source sum(Total)"
  inv=$(qtable "$tgt" Invoice) tot=$(qid "$tgt" Total)
  sum_sql="SELECT CAST(sum($tot) AS CHAR(20))"
  [ "${tgt%% *}" = my ] || sum_sql="SELECT sum($tot)::text"
  assert_eq 2328.60 "$(side_sql "$tgt" "$sum_sql FROM $inv")" "$label: target sum(Total)"

  # Non-ASCII names arrive as the same characters (not double-encoded, not replaced).
  local side fn ln city cust stats=()
  for side in "$src" "$tgt"; do
    fn=$(qid "$side" FirstName) ln=$(qid "$side" LastName) city=$(qid "$side" City)
    cust=$(qtable "$side" Customer)
    if [ "${side%% *}" = pg ]; then
      stats+=("$(side_sql "$side" "SELECT count(*) FILTER (WHERE octet_length($fn || $ln || $city)
          <> char_length($fn || $ln || $city)) || ' ' || sum(char_length($fn || $ln || $city))
          || ' ' || sum(octet_length($fn || $ln || $city)) FROM $cust")")
    else
      stats+=("$(side_sql "$side" "SELECT CONCAT(SUM(LENGTH(CONCAT($fn, $ln, $city))
          <> CHAR_LENGTH(CONCAT($fn, $ln, $city))), ' ', SUM(CHAR_LENGTH(CONCAT($fn, $ln, $city))),
          ' ', SUM(LENGTH(CONCAT($fn, $ln, $city)))) FROM $cust")")
    fi
  done
  [ "${stats[0]%% *}" -ge 10 ] || die "$label: expected non-ASCII customer names in the source: ${stats[0]}"
  assert_eq "${stats[0]}" "${stats[1]}" "$label: non-ASCII customers, characters, bytes"
  local id
  id=$(qid "$tgt" CustomerId)
  assert_eq "Luís|Gonçalves|São José dos Campos" "$(side_sql "$tgt" "SELECT CONCAT_WS('|',
    $(qid "$tgt" FirstName), $(qid "$tgt" LastName), $(qid "$tgt" City))
    FROM $(qtable "$tgt" Customer) WHERE $id = 1")" "$label: customer 1 on the target"

  # Schema: columns, types, nullability; primary keys, indexes and foreign keys.
  assert_same_output "columns_of '$src'" "columns_of '$tgt'" "$label: columns (type, nullability)"
  assert_same_output "keys_of '$src'" "keys_of '$tgt'" "$label: primary keys, indexes, foreign keys"
  keys_of "$tgt" >"$TMPD/keys.tgt"
  assert_eq 11 "$(grep -c '^pk ' "$TMPD/keys.tgt")" "$label: primary keys on the target"
  assert_eq 11 "$(grep -c '^fk ' "$TMPD/keys.tgt")" "$label: foreign keys on the target"
  assert_eq 11 "$(grep -c '^idx ' "$TMPD/keys.tgt")" "$label: secondary indexes on the target"
  grep -qx "fk $(name_on Track "$tnaming")($(name_on AlbumId "$tnaming"))->$(name_on Album "$tnaming")($(name_on AlbumId "$tnaming"))" \
    "$TMPD/keys.tgt" || die "$label: no foreign key Track(AlbumId) -> Album(AlbumId) on the target"
  grep -qx "pk $(name_on PlaylistTrack "$tnaming")($(name_on PlaylistId "$tnaming"),$(name_on TrackId "$tnaming"))" \
    "$TMPD/keys.tgt" || die "$label: no composite primary key on PlaylistTrack on the target"

  # A rerun finds the load complete, exits 0 and changes nothing.
  local before after
  before=$(digest_all "$tgt")
  sl_run "$TMPD/$label.rerun" run "$spec" --data-dir "$dir" --no-progress
  [ "$SL_RC" = 0 ] || { cat "$TMPD/$label.rerun.err" >&2; die "$label: rerun exited $SL_RC"; }
  cat "$TMPD/$label.rerun.out" "$TMPD/$label.rerun.err" >"$TMPD/$label.rerun.all"
  assert_grep 'already completed' "$TMPD/$label.rerun.all" "$label: rerun says the load already completed"
  after=$(digest_all "$tgt")
  assert_eq "$before" "$after" "$label: rerun changed the target"
  # So does a rerun with a new data dir: the record of completion is on the target.
  sl_run "$TMPD/$label.rerun2" run "$spec" --data-dir "$dir.new" --no-progress
  [ "$SL_RC" = 0 ] || { cat "$TMPD/$label.rerun2.err" >&2; die "$label: rerun (new data dir) exited $SL_RC"; }
  cat "$TMPD/$label.rerun2.out" "$TMPD/$label.rerun2.err" >"$TMPD/$label.rerun2.all"
  assert_grep 'already completed' "$TMPD/$label.rerun2.all" "$label: rerun (new data dir) says already completed"
  after=$(digest_all "$tgt")
  assert_eq "$before" "$after" "$label: rerun (new data dir) changed the target"
  assert_eq 15607 "$(awk '{ n += $2 } END { print n }' <<<"$after")" "$label: rows on the target after the reruns"

  # Negative control: damage the target; verify must notice and say where.
  local il ilid qty cid fname
  il=$(qtable "$tgt" InvoiceLine) ilid=$(qid "$tgt" InvoiceLineId) qty=$(qid "$tgt" Quantity)
  cid=$(qid "$tgt" CustomerId) fname=$(qid "$tgt" FirstName)
  side_sql "$tgt" "DELETE FROM $il WHERE $ilid = 17;
    UPDATE $il SET $qty = $qty + 10 WHERE $ilid = 99;
    UPDATE $(qtable "$tgt" Customer) SET $fname = 'Luis' WHERE $cid = 1" >/dev/null
  sl_run "$TMPD/$label.verify2" verify "$spec"
  [ "$SL_RC" = 1 ] || { cat "$TMPD/$label.verify2".{out,err} >&2; die "$label: verify of a damaged target exited $SL_RC, not 1"; }
  local vout="$TMPD/$label.verify2.out" ilt ct
  ilt=$(name_on InvoiceLine "$tnaming") ct=$(name_on Customer "$tnaming")
  assert_grep "^(public\.)?${ilt}[[:space:]]+2240[[:space:]]+2239[[:space:]]+DIFFERENT" "$vout" "$label: verify names $ilt"
  assert_grep "^(public\.)?${ct}[[:space:]]+59[[:space:]]+59[[:space:]]+DIFFERENT" "$vout" "$label: verify names $ct"
  assert_grep "$(name_on InvoiceLineId "$tnaming")[ =:]+17\b" "$vout" "$label: verify names the deleted row's key"
  assert_grep "$(name_on InvoiceLineId "$tnaming")[ =:]+99\b" "$vout" "$label: verify names the changed row's key"
  assert_grep "$(name_on CustomerId "$tnaming")[ =:]+1\b" "$vout" "$label: verify names the changed customer's key"
  assert_grep '^2 of 11 tables differ' "$vout" "$label: verify summary of a damaged target"
  assert_eq 9 "$(grep -cE '[0-9][[:space:]]+equal$' "$vout")" "$label: the other tables stay equal"
  note "$label: ok"
}

# --- the four directions ----------------------------------------------------------------------

MY_SRC=sl_chinook_src PG_SRC=sl_chinook_src
MY2PG=sl_chinook_my2pg PG2PG=sl_chinook_pg2pg PG2MY=sl_chinook_pg2my MY2MY=sl_chinook_my2my
if [ "${SLUICE_TEST_KEEP:-0}" != 1 ]; then
  on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $PG_SRC WITH (FORCE); DROP DATABASE IF EXISTS $MY2PG WITH (FORCE); DROP DATABASE IF EXISTS $PG2PG WITH (FORCE)'"
  on_exit "my_sql '' 'DROP DATABASE IF EXISTS $MY_SRC; DROP DATABASE IF EXISTS $PG2MY; DROP DATABASE IF EXISTS $MY2MY'"
fi
chinook_mysql "$MY_SRC"
chinook_pg "$PG_SRC"
pg_newdb "$MY2PG"
pg_newdb "$PG2PG"
pg_sql "$PG2PG" 'CREATE SCHEMA copy'
my_newdb "$PG2MY"
my_newdb "$MY2MY"

check_load my2pg "my $MY_SRC - camel" "pg $MY2PG public camel" \
  "$(my_url "$MY_SRC")" "$(pg_url "$MY2PG")"
check_load pg2my "pg $PG_SRC public snake" "my $PG2MY - snake" \
  "$(pg_url "$PG_SRC")" "$(my_url "$PG2MY")"
check_load pg2pg "pg $PG_SRC public snake" "pg $PG2PG copy snake" \
  "$(pg_url "$PG_SRC")" "$(pg_url "$PG2PG")?schema=copy"
check_load my2my "my $MY_SRC - camel" "my $MY2MY - camel" \
  "$(my_url "$MY_SRC")" "$(my_url "$MY2MY")"
echo "chinook: ok"
