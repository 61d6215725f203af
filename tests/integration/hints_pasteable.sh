#!/usr/bin/env bash
# hints_pasteable.sh: the hints of refused privileges and logins are exact. Each GRANT a
# hint gives is pasted as it is into the server's client as an administrator, and the run
# that failed then gets past that point:
#   - a MariaDB account known as 'user'@'127.0.0.1' (not '%') lacks REPLICATION SLAVE and
#     BINLOG MONITOR: the hint names the account as the server knows it (a GRANT to
#     'user' alone fails: no such account);
#   - a PostgreSQL target role with a mixed-case name and a hyphen lacks CREATE on the
#     schema: the hint quotes the role;
#   - a wrong password given in the spec's "password" field: the hint says that field, not
#     the URL; a wrong password in the URL: the hint says the URL.
# The CDC stream that was refused at first then copies its table exactly.
source "$(dirname "$0")/../lib/common.sh"
tmpdir

src=sl_hint_src_$$ dst=sl_hint_dst_$$
my_user=sl_hint_my role=Hint-Role_$$ pw_user=sl_hint_pw
my_newdb "$src"
pg_newdb "$dst"
on_exit "my_sql '' \"DROP USER IF EXISTS '$my_user'@'127.0.0.1'\" >/dev/null 2>&1 || true"
on_exit "my_sql '' 'DROP DATABASE IF EXISTS $src' >/dev/null 2>&1 || true"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $dst WITH (FORCE)' >/dev/null 2>&1 || true"
on_exit "pg_sql postgres 'DROP ROLE IF EXISTS \"$role\"; DROP ROLE IF EXISTS $pw_user' >/dev/null 2>&1 || true"

my_sql "$src" "CREATE TABLE t (id int PRIMARY KEY, v varchar(20));
  INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_500"
my_sql "" "DROP USER IF EXISTS '$my_user'@'127.0.0.1';
  CREATE USER '$my_user'@'127.0.0.1' IDENTIFIED BY 'mypw';
  GRANT SELECT ON \`$src\`.* TO '$my_user'@'127.0.0.1'"
pg_sql postgres "DROP ROLE IF EXISTS \"$role\"; CREATE ROLE \"$role\" LOGIN PASSWORD 'pgpw';
  DROP ROLE IF EXISTS $pw_user; CREATE ROLE $pw_user LOGIN PASSWORD 'right'"
pg_sql "$dst" "GRANT CONNECT ON DATABASE $dst TO \"$role\""
my_src="mysql://$my_user@$MYSQL_HOST:$MYSQL_TCP_PORT/$src"
pg_tgt="postgres://$(printf %s "$role" | jq -sRr @uri)@$PGHOST:$PGPORT/$dst"
spec() { # spec FILE SOURCE TARGET TARGET_PASSWORD
  jq -n --arg src "$2" --arg tgt "$3" --arg tpw "$4" '{name: "hints", mode: "cdc",
    source: {url: $src, password: "mypw", tables: ["t"]}, target: {url: $tgt, password: $tpw}}' >"$1"
}
spec "$TMPD/spec.json" "$my_src" "$pg_tgt" pgpw
hint() { sed -n 's/^hint: //p' "$1"; }
paste_sql() { # paste_sql ENGINE HINT_FILE: runs the hint's GRANT as an administrator
  local h
  h=$(hint "$2")
  note "pasting: $h"
  case $1 in
    my) my_sql "" "$h" ;;
    pg) pg_sql "$dst" "$h" ;;
  esac
}
run() { # run LABEL: `sluice run` of a spec that must fail at once (at most 60 s)
  SL_RC=0
  timeout -k 5 60 "$SLUICE_BIN" run "$TMPD/spec.json" --data-dir "$TMPD/d" --no-progress \
    >"$TMPD/$1.out" 2>"$TMPD/$1.err" || SL_RC=$?
}

# 1. the MariaDB account lacks the replication privileges
run r1
[ "$SL_RC" = 1 ] || { cat "$TMPD/r1.err" >&2; die "the run without replication privileges exited $SL_RC"; }
assert_eq "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '$my_user'@'127.0.0.1'" "$(hint "$TMPD/r1.err")" \
  "the MariaDB hint names the account as the server knows it"
paste_sql my "$TMPD/r1.err"

# 2. the PostgreSQL role lacks CREATE on the target schema
run r2
[ "$SL_RC" = 1 ] || { cat "$TMPD/r2.err" >&2; die "the run without CREATE on the schema exited $SL_RC"; }
assert_eq "GRANT CREATE ON SCHEMA \"public\" TO \"$role\"" "$(hint "$TMPD/r2.err")" \
  "the PostgreSQL hint quotes the role"
paste_sql pg "$TMPD/r2.err"

# 3. now the stream runs: the initial load copies the table, then SIGTERM stops it
"$SLUICE_BIN" run "$TMPD/spec.json" --data-dir "$TMPD/d" --no-progress >"$TMPD/r3.out" 2>"$TMPD/r3.err" &
pid=$!
on_exit "kill -KILL $pid 2>/dev/null || true"
wait_for "grep -q 'streaming changes from' $TMPD/r3.err || ! kill -0 $pid" 60 || die "the stream did not start in 60 s"
# the table is copied beside the change stream: wait for its rows before stopping
wait_for "[ \"\$(pg_sql $dst 'SELECT count(*) FROM t' 2>/dev/null)\" = 500 ] || ! kill -0 $pid" 60 ||
  die "the table was not copied in 60 s"
kill -0 "$pid" 2>/dev/null || { cat "$TMPD/r3.err" >&2; die "after the pasted GRANTs the run failed"; }
kill -TERM "$pid"
SL_RC=0
wait "$pid" || SL_RC=$?
[ "$SL_RC" = 0 ] || { cat "$TMPD/r3.err" >&2; die "the stream exited $SL_RC on SIGTERM"; }
assert_eq "500|125250" "$(pg_sql "$dst" 'SELECT count(*), sum(id) FROM t')" "the table copied after the GRANTs"

# 4. a wrong password in the "password" field: the hint says so; in the URL: the URL
spec "$TMPD/spec.json" "$my_src" "postgres://$pw_user@$PGHOST:$PGPORT/$dst" wrong
run r4
assert_eq 'check the user name in the URL and the password in "target".password' "$(hint "$TMPD/r4.err")" \
  "a wrong password in the password field"
jq -n --arg src "$my_src" --arg tgt "postgres://$pw_user:wrong@$PGHOST:$PGPORT/$dst" '{name: "hints2",
  mode: "load", source: {url: $src, password: "mypw", tables: ["t"]}, target: {url: $tgt}}' >"$TMPD/spec.json"
run r5
assert_eq "check the user name and password in the URL" "$(hint "$TMPD/r5.err")" "a wrong password in the URL"
note "hints: GRANTs pasted as given work; the password hint names where the password was"
