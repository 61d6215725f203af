#!/usr/bin/env bash
# server_check.sh: POST /api/v1/check, `sluice check` from the API. A PostgreSQL source (a
# stored connection whose password is in its own field) and a MariaDB target (URL inline):
#   - without scan: 200, the job would run; per table the target after the mapping (a
#     renamed table, an excluded column absent from its columns and its DDL), the risks of
#     the columns MariaDB may refuse (NaN, Infinity, infinite dates);
#   - with ?scan=true: 200, would_run false under on_error fail, the rows holding a value
#     MariaDB refuses counted per table with their keys, and the casts that carry them;
#     the same report as `sluice check --scan --json` of the spec with the password written
#     out; under on_error reject the job would run;
#   - the check wrote nothing: the target database still has no table, the source's rows
#     are as they were;
#   - a spec that does not parse is 400 (as POST /api/v1/streams answers), so is a
#     scan that is not a boolean;
#   - no password in any API answer or server log.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
tmpdir

SRC=sl_chk_src MY=sl_chk_tgt ROLE=sl_chk_reader PW='Che-ck.api%pw'
pg_newdb "$SRC"
my_newdb "$MY"
on_exit "pg_sql postgres 'DROP ROLE IF EXISTS $ROLE' >/dev/null 2>&1 || true"
pg_sql postgres "DROP ROLE IF EXISTS $ROLE; CREATE ROLE $ROLE LOGIN PASSWORD '$PW'"
pg_sql "$SRC" "CREATE TABLE customers (id int PRIMARY KEY, email text, ssn text, region text);
  INSERT INTO customers SELECT g, 'c' || g || '@example.com', 'ssn' || g, CASE WHEN g % 2 = 0 THEN 'EU' ELSE 'US' END
  FROM generate_series(1, 500) g;
  CREATE TABLE odd (id int PRIMARY KEY, n numeric, f float8, d date);
  INSERT INTO odd SELECT g, g * 1.5, g / 4.0, DATE '2000-01-01' + g FROM generate_series(1, 100) g;
  UPDATE odd SET n = 'NaN' WHERE id = 7;
  UPDATE odd SET f = 'Infinity' WHERE id = 8;
  UPDATE odd SET d = 'infinity' WHERE id = 9;
  GRANT SELECT ON ALL TABLES IN SCHEMA public TO $ROLE"
SRC_SUM=$(pg_sql "$SRC" "SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM odd o")

srv_start srv "$TMPD/data"
export SLUICE_URL=$SRV_URL SLUICE_API_KEY=$SRV_KEY
api_ok 201 POST /api/v1/connections "$(jq -nc --arg url "postgres://$ROLE@$PGHOST:$PGPORT/$SRC" --arg pw "$PW" \
  '{name: "chk-src", url: $url, password: $pw}')"

# spec ON_ERROR [SOURCE_ENDPOINT]: the spec, from the stored connection unless given
spec() {
  local src=${2:-'{"connection": "chk-src"}'}
  jq -nc --arg url "$(my_url "$MY")" --argjson src "$src" --arg on "$1" '{name: "chk", mode: "load",
    source: ($src + {tables: [{name: "customers", target: "clients", exclude: ["ssn"], where: "region = '"'EU'"'"},
                              "odd"]}),
    target: {url: $url}, options: {on_error: $on}}'
}

# --- 1. without scan ---------------------------------------------------------------------------
api_ok 200 POST /api/v1/check "$(spec fail)"
R=$API_BODY
assert_eq "true false" "$(jq -r '"\(.would_run) \(.scan)"' <<<"$R")" "without scan: the job would run"
assert_eq "clients" "$(jq -r '.tables[] | select(.source == "public.customers") | .target' <<<"$R")" \
  "the renamed table"
assert_eq "id email region" \
  "$(jq -r '[.tables[] | select(.source == "public.customers") | .columns[].target] | join(" ")' <<<"$R")" \
  "the columns after the mapping: ssn left out"
ddl=$(jq -r '.tables[] | select(.source == "public.customers") | .ddl' <<<"$R")
assert_grep 'CREATE TABLE `clients`' <(echo "$ddl") "the target's DDL names the target table"
grep -q ssn <<<"$ddl" && die "the DDL keeps the excluded column: $ddl"
assert_eq "region = 'EU'" "$(jq -r '.tables[] | select(.source == "public.customers") | .where' <<<"$R")" "the filter"
assert_eq "d f n" "$(jq -r '[.tables[] | select(.source == "public.odd") | .risks[].column] | sort | unique | join(" ")' \
  <<<"$R")" "the columns of odd MariaDB may refuse"
assert_eq "absent absent" "$(jq -r '[.tables[].target_state] | join(" ")' <<<"$R")" "nothing on the target yet"

# --- 2. with scan ------------------------------------------------------------------------------
api_ok 200 POST '/api/v1/check?scan=true' "$(spec fail)"
R=$API_BODY
assert_eq "false true" "$(jq -r '"\(.would_run) \(.scan)"' <<<"$R")" "with scan under on_error fail: refused"
assert_eq "100 3" "$(jq -r '.tables[] | select(.source == "public.odd") | "\(.scanned_rows) \(.refused_rows)"' <<<"$R")" \
  "odd: every row scanned, the three with a value MariaDB refuses counted"
assert_eq '7 n|8 f|9 d' "$(jq -r '[.tables[] | select(.source == "public.odd") | .refused[] |
  "\(.key[0]) \(.column)"] | sort | join("|")' <<<"$R")" "each refused value by key and column"
assert_eq "d f n" "$(jq -r '.tables[] | select(.source == "public.odd") | .casts | keys | join(" ")' <<<"$R")" \
  "a cast for each column that held a refused value"
assert_eq "250 0" "$(jq -r '.tables[] | select(.source == "public.customers") | "\(.scanned_rows) \(.refused_rows)"' \
  <<<"$R")" "customers: only the rows the filter keeps are scanned, none refused"
# the same report as the CLI's, for the same spec with the password written out
spec fail "$(jq -nc --arg url "postgres://$ROLE@$PGHOST:$PGPORT/$SRC" --arg pw "$PW" '{url: $url, password: $pw}')" \
  >"$TMPD/cli.json"
sl_run "$TMPD/cli" check "$TMPD/cli.json" --scan --json
assert_eq 1 "$SL_RC" "sluice check --scan exits 1"
assert_eq "$(jq -cS .tables "$TMPD/cli.out")" "$(jq -cS .tables <<<"$R")" \
  "the API's report is the CLI's"

api_ok 200 POST '/api/v1/check?scan=true' "$(spec reject)"
assert_eq "true 3" "$(jq -r '"\(.would_run) \(.tables[] | select(.source == "public.odd") | .refused_rows)"' <<<"$API_BODY")" \
  "under on_error reject the job would run (the rows are counted still)"

# --- 3. nothing written ------------------------------------------------------------------------
assert_eq 0 "$(my_sql "$MY" "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$MY'")" \
  "the check created nothing on the target"
assert_eq "$SRC_SUM" "$(pg_sql "$SRC" "SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM odd o")" \
  "the source's rows are as they were"

# --- 4. bad requests ---------------------------------------------------------------------------
api_ok 400 POST /api/v1/check "$(spec fail | jq -c '.options.bogus = 1')"
assert_eq "unknown_field" "$(jq -r .error.code <<<"$API_BODY")" "an unknown option: 400 unknown_field"
api_ok 400 POST /api/v1/check "$(spec fail | jq -c '.source.connection = "nope"')"
api_ok 400 POST '/api/v1/check?scan=maybe' "$(spec fail)"
api_ok 400 POST /api/v1/check ''
KEY=none api_ok 401 POST /api/v1/check "$(spec fail)"

srv_stop srv
srv_no_secret "$PW" "$TMPD/data"
echo "server_check: ok"
