# shellcheck shell=bash
# cdc_bigtx.sh: helpers for the large-transaction tests (tests/integration/cdc_bigtx*.sh).
# Source it after common.sh and cdc.sh. The table under test is `big` (id, grp, ...): its
# state is "count(*) sum(grp)", which every source transaction of the tests changes as a
# whole; `small` gets single-row transactions meanwhile.

# Prints "ROWS SUM" of big in PostgreSQL (ENGINE pg, default) or MariaDB (my) database DB.
bigtx_state() {
  local db=$1 engine=${2:-pg}
  if [ "$engine" = pg ]; then
    pg_sql "$db" "SELECT count(*) || ' ' || coalesce(sum(grp), 0) FROM big"
  else
    my_sql "$db" "SELECT CONCAT(COUNT(*), ' ', COALESCE(SUM(grp), 0)) FROM big"
  fi
}

# The apply log on PostgreSQL target DB's big: a trigger (ENABLE ALWAYS, so it fires
# whatever session_replication_role sluice uses) logs every row operation sluice makes in
# big_applied, inside sluice's own transaction (a rolled-back one leaves no log).
bigtx_apply_log() {
  pg_sql "$1" "
    CREATE TABLE big_applied (id bigint NOT NULL, op text NOT NULL);
    CREATE FUNCTION big_applied_log() RETURNS trigger LANGUAGE plpgsql AS \$\$
    BEGIN
      INSERT INTO big_applied VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, TG_OP);
      RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END \$\$;
    CREATE TRIGGER big_applied_log BEFORE INSERT OR UPDATE OR DELETE ON big
      FOR EACH ROW EXECUTE FUNCTION big_applied_log();
    ALTER TABLE big ENABLE ALWAYS TRIGGER big_applied_log;"
}

# A probe on target database DB (ENGINE pg, default, or my): one session records the
# state of big every 5 ms (each in a transaction of its own, so each sees what is
# committed) into probe_seen, until bigtx_probe_check. Usage: bigtx_probe_start DB [ENGINE].
bigtx_probe_start() {
  local db=$1 engine=${2:-pg}
  if [ "$engine" = pg ]; then
    pg_sql "$db" "CREATE TABLE probe_seen (at timestamptz, state text); CREATE TABLE probe_stop (x int)"
    pg_sql "$db" "DO \$\$ BEGIN
      LOOP
        INSERT INTO probe_seen SELECT clock_timestamp(), count(*) || ' ' || coalesce(sum(grp), 0) FROM big;
        COMMIT;
        EXIT WHEN EXISTS (SELECT 1 FROM probe_stop);
        PERFORM pg_sleep(0.005);
      END LOOP;
    END \$\$" >"$TMPD/probe.$db.out" 2>&1 &
  else
    # autocommit: each statement sees the latest committed state (a snapshot of its own)
    my_sql "$db" <<'SQL'
CREATE TABLE probe_seen (at datetime(6), state varchar(60));
CREATE TABLE probe_stop (x int);
DELIMITER //
CREATE PROCEDURE probe_loop() BEGIN
  DECLARE s varchar(60);
  WHILE NOT EXISTS (SELECT 1 FROM probe_stop) DO
    -- a plain SELECT reads without locks (INSERT ... SELECT would lock big's rows)
    SELECT CONCAT(COUNT(*), ' ', COALESCE(SUM(grp), 0)) INTO s FROM big;
    INSERT INTO probe_seen VALUES (NOW(6), s);
    DO SLEEP(0.005);
  END WHILE;
END //
DELIMITER ;
SQL
    my_sql "$db" "CALL probe_loop()" >"$TMPD/probe.$db.out" 2>&1 &
  fi
  eval "BIGTX_PROBE_$db=\$!"
  CDC_BG_PIDS+=("$!")
}

# Runs SQL on the probe's database (ENGINE pg or my).
bigtx_probe_sql() { if [ "$2" = pg ]; then pg_sql "$1" "$3"; else my_sql "$1" "$3"; fi; }

# Asserts that every state the probe of DB (ENGINE) saw so far is one of STATE... (each
# "ROWS SUM"). Usage: bigtx_probe_only DB ENGINE STATE...
bigtx_probe_only() {
  local db=$1 engine=$2 list="" st bad
  shift 2
  for st in "$@"; do list="$list${list:+, }'$st'"; done
  bad=$(bigtx_probe_sql "$db" "$engine" "SELECT state, COUNT(*) FROM probe_seen WHERE state NOT IN ($list)
    GROUP BY state ORDER BY MIN(at) LIMIT 10" | tr '\t|' '  ' | sed 's/ \([0-9]*\)$/ (x\1)/' | paste -sd, -)
  [ -z "$bad" ] || die "the target $db showed part of a source transaction: rows and sum $bad (expected only: $*)"
}

# Stops the probe of DB (ENGINE) and asserts that the states it saw are exactly STATE...:
# none in between, and each of them at least once (the probe ran throughout).
bigtx_probe_check() {
  local db=$1 engine=$2 want seen n pidvar="BIGTX_PROBE_$1"
  shift 2
  bigtx_probe_sql "$db" "$engine" "INSERT INTO probe_stop VALUES (1)"
  wait "${!pidvar}" || { cat "$TMPD/probe.$db.out" >&2; die "the probe of $db failed"; }
  want=$(printf '%s\n' "$@" | LC_ALL=C sort -u)
  seen=$(bigtx_probe_sql "$db" "$engine" "SELECT DISTINCT state FROM probe_seen" | LC_ALL=C sort -u)
  n=$(bigtx_probe_sql "$db" "$engine" "SELECT COUNT(*) FROM probe_seen")
  note "probe of $db: $n samples, states seen: $(echo "$seen" | paste -sd, -)"
  [ "$seen" = "$want" ] ||
    die "the target $db showed other states than the source's transactions make: $(echo "$seen" | paste -sd, -) (expected: $(echo "$want" | paste -sd, -))"
}

# The sampler of pg_cdc_kill.sh: one session on PostgreSQL target DB reads the slot's
# confirmed_flush_lsn, THEN (in a later statement) the flush LSN of the checkpoint of
# stream NAME, every 50 ms, into lsn_samples, until bigtx_sampler_stop.
# Usage: bigtx_sampler_start DB SLOT NAME.
bigtx_sampler_start() {
  local db=$1 slot=$2 name=$3
  pg_sql "$db" "CREATE TABLE lsn_samples (at timestamptz, confirmed pg_lsn, flush pg_lsn);
    CREATE TABLE lsn_samples_stop (x int)"
  pg_sql "$db" "DO \$\$
  DECLARE cf pg_lsn; ck pg_lsn;
  BEGIN
    LOOP
      SELECT confirmed_flush_lsn INTO cf FROM pg_replication_slots WHERE slot_name = '$slot';
      SELECT (position::json->>'flush')::pg_lsn INTO ck FROM _sluice_checkpoint
       WHERE stream = '$name' AND key = 'cdc:0';
      INSERT INTO lsn_samples VALUES (clock_timestamp(), cf, ck);
      COMMIT;
      EXIT WHEN EXISTS (SELECT 1 FROM lsn_samples_stop);
      PERFORM pg_sleep(0.05);
    END LOOP;
  END \$\$" >"$TMPD/sampler.out" 2>&1 &
  BIGTX_SAMPLER=$!
  CDC_BG_PIDS+=("$BIGTX_SAMPLER")
}

# Stops the sampler and asserts confirmed <= flush in every sample (at least MIN of them).
bigtx_sampler_stop() {
  local db=$1 min=$2 both bad
  pg_sql "$db" "INSERT INTO lsn_samples_stop VALUES (1)"
  wait "$BIGTX_SAMPLER" || { cat "$TMPD/sampler.out" >&2; die "the sampler failed"; }
  IFS='|' read -r both bad < <(pg_sql "$db" "SELECT
    count(*) FILTER (WHERE confirmed IS NOT NULL AND flush IS NOT NULL),
    count(*) FILTER (WHERE confirmed > flush) FROM lsn_samples")
  note "sampler: $both samples, $bad with confirmed_flush_lsn > checkpoint flush"
  if [ "$bad" != 0 ]; then
    pg_sql "$db" "SELECT to_char(at, 'HH24:MI:SS.MS'), confirmed, flush FROM lsn_samples
      WHERE confirmed > flush ORDER BY at LIMIT 10" >&2
    die "the slot confirmed a position past the target's checkpoint (time, confirmed, flush)"
  fi
  [ "$both" -ge "$min" ] || die "the sampler took only $both samples"
}

# Single-row transactions into `small` of PostgreSQL (ENGINE pg) or MariaDB (my) database
# DB, one every few ms, in the background until bigtx_small_stop (which sets a row in the
# unreplicated table small_stop).
bigtx_small_start() {
  local db=$1 engine=${2:-pg}
  BIGTX_SMALL_DB=$db BIGTX_SMALL_ENGINE=$engine
  if [ "$engine" = pg ]; then
    pg_sql "$db" "CREATE TABLE IF NOT EXISTS small_stop (x int); DELETE FROM small_stop"
    pg_sql "$db" "DO \$\$ BEGIN
      FOR i IN 1 .. 1000000 LOOP
        INSERT INTO small (v) VALUES (i);
        COMMIT;
        PERFORM pg_sleep(0.003);
        EXIT WHEN i % 20 = 0 AND EXISTS (SELECT 1 FROM small_stop);
      END LOOP;
    END \$\$" >"$TMPD/small.out" 2>&1 &
  else
    my_sql "$db" "CREATE TABLE IF NOT EXISTS small_stop (x int); DELETE FROM small_stop"
    (
      while [ "$(my_sql "$db" "INSERT INTO small (v) VALUES (1); INSERT INTO small (v) VALUES (2);
          SELECT COUNT(*) FROM small_stop")" = 0 ]; do :; done
    ) >"$TMPD/small.out" 2>&1 &
  fi
  BIGTX_SMALL=$!
  CDC_BG_PIDS+=("$BIGTX_SMALL")
}

bigtx_small_stop() {
  if [ "$BIGTX_SMALL_ENGINE" = pg ]; then
    pg_sql "$BIGTX_SMALL_DB" "INSERT INTO small_stop VALUES (1)"
  else
    my_sql "$BIGTX_SMALL_DB" "INSERT INTO small_stop VALUES (1)"
  fi
  wait "$BIGTX_SMALL" || { cat "$TMPD/small.out" >&2; die "the small transactions failed"; }
}

# SIGKILLs sluice PID while its lane is in the middle of applying a large transaction: as
# soon as one of its sessions on the target (ENGINE pg: PostgreSQL database DB; my: MariaDB)
# has had a transaction open for 300 ms. Fails if that is not seen within 120 s. LABEL
# names the run in messages.
bigtx_kill_mid_apply() {
  local pid=$1 db=$2 label=$3 engine=${4:-pg} deadline n kids p
  deadline=$(($(now_ms) + 120000))
  while :; do
    cdc_alive "$pid" || cdc_die "$label: sluice exited before the kill"
    if [ "$engine" = pg ]; then
      n=$(pg_sql "$db" "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'
        AND application_name = 'sluice' AND xact_start < now() - interval '300 ms'")
    else
      n=$(my_sql "" "SELECT COUNT(*) FROM information_schema.innodb_trx t
        JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
        WHERE p.db = '$db' AND t.trx_started < NOW() - INTERVAL 0.3 SECOND")
    fi
    [ "$n" = 0 ] || break
    [ "$(now_ms)" -lt "$deadline" ] || cdc_die "$label: no lane transaction open for 300 ms on $db within 120 s"
    sleep 0.02
  done
  kids=$(cdc_children "$pid")
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  for p in $kids; do
    wait_for "! kill -0 $p" 15 || die "child $p of SIGKILLed sluice $pid still runs after 15 s"
  done
  note "$label: SIGKILLed while a lane was applying (state then: $(bigtx_state "$db" "$engine"))"
}
