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

# A probe on PostgreSQL target DB: one session records the state of big every 5 ms (each
# in its own transaction, so each sees what is committed) into probe_seen, until
# bigtx_probe_check. Usage: bigtx_probe_start DB.
bigtx_probe_start() {
  local db=$1
  pg_sql "$db" "CREATE TABLE probe_seen (at timestamptz, state text); CREATE TABLE probe_stop (x int)"
  pg_sql "$db" "DO \$\$ BEGIN
    LOOP
      INSERT INTO probe_seen SELECT clock_timestamp(), count(*) || ' ' || coalesce(sum(grp), 0) FROM big;
      COMMIT;
      EXIT WHEN EXISTS (SELECT 1 FROM probe_stop);
      PERFORM pg_sleep(0.005);
    END LOOP;
  END \$\$" >"$TMPD/probe.out" 2>&1 &
  BIGTX_PROBE=$!
  CDC_BG_PIDS+=("$BIGTX_PROBE")
}

# Asserts that every state the probe saw so far is one of STATE... (each "ROWS SUM").
bigtx_probe_only() {
  local db=$1 list="" st bad
  shift
  for st in "$@"; do list="$list${list:+, }'$st'"; done
  bad=$(pg_sql "$db" "SELECT string_agg(state || ' (x' || n || ')', ', ') FROM
    (SELECT state, count(*) n FROM probe_seen WHERE state NOT IN ($list) GROUP BY state ORDER BY min(at) LIMIT 10) s")
  [ -z "$bad" ] || die "the target showed part of a source transaction: rows and sum $bad (expected only: $*)"
}

# Stops the probe and asserts that the states it saw are exactly STATE... (each "ROWS SUM"):
# none in between, and each of them at least once (the probe ran throughout).
bigtx_probe_check() {
  local db=$1 want seen n
  shift
  pg_sql "$db" "INSERT INTO probe_stop VALUES (1)"
  wait "$BIGTX_PROBE" || { cat "$TMPD/probe.out" >&2; die "the probe failed"; }
  want=$(printf '%s\n' "$@" | LC_ALL=C sort -u)
  seen=$(pg_sql "$db" "SELECT DISTINCT state FROM probe_seen" | LC_ALL=C sort -u)
  n=$(pg_sql "$db" "SELECT count(*) FROM probe_seen")
  note "probe: $n samples, states seen: $(echo "$seen" | tr '\n' ',' | sed 's/,$//')"
  if [ "$seen" != "$want" ]; then
    pg_sql "$db" "SELECT state, count(*), min(at), max(at) FROM probe_seen GROUP BY state ORDER BY min(at)" >&2
    die "the target showed other states than the source's transactions make (expected: $(echo "$want" | tr '\n' ','))"
  fi
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
