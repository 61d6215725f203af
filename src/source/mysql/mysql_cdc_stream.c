/*
 * mysql_cdc_stream.c: the binlog dump of a MariaDB/MySQL change stream: where a session
 * starts (start(): from the stream's checkpoints, in the stream's kind of position),
 * the COM_BINLOG_DUMP connection, and the event groups that become transactions.
 *
 * Positions (gtid.h). File mode: (binlog file number << 32) | byte offset. A
 * transaction's xact_lsn is the offset of its first event (the GTID event, or BEGIN
 * without GTIDs); its end_lsn the offset just past its XID (or COMMIT, or the DDL
 * statement that forms a group alone). GTID mode (MariaDB, one GTID domain): both are
 * the transaction's GTID seq_no, and the stream resumes after a GTID with
 * @slave_connect_state, on any server holding the same GTIDs. Binlog order is commit
 * order, so positions grow in commit order across rotations.
 *
 * Transactions touching none of the stream's tables are not sent; instead the
 * handler's confirm() learns the position after them (server_end), so an idle stream
 * moves its checkpoints on with heartbeats. The dump thread sends a heartbeat after
 * 100 ms without events (@master_heartbeat_period), which also bounds how long a
 * fetch blocks, so stopping() is asked at least every 100 ms.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/log.h"
#include "source/mysql/mysql_cdc.h"
#include "source/mysql/mysql_ddl.h"

#define CONFIRM_EVERY_MS 1000
#define HEARTBEAT_NS "100000000" /* 100 ms */
#define READ_TIMEOUT_S 30        /* no event and no heartbeat for this long: connection lost */
#define DUMP_WRITE_TIMEOUT_S "3600"

/* ---- events --------------------------------------------------------------------- */

static int emit_begin(sl_my_cdc_t *c, sl_err_t *err)
{
    if (c->begun)
        return 0;
    c->begun = true;
    c->idx = 0;
    sl_cdc_event_t ev = {.kind = SL_CDC_BEGIN, .xact_lsn = c->xact_lsn, .commit_us = c->commit_us,
                         .table = -1};
    return c->h->on_event(c->h->ctx, &ev, err);
}

int sl_my_cdc_emit_change(sl_my_cdc_t *c, sl_change_op_t op, int table, const sl_value_t *row,
                          const sl_value_t *old, sl_err_t *err)
{
    if (!c->in_group)
        return sl_err_set(err, SL_E_PROTOCOL, "a row change outside a transaction in the binlog");
    if (emit_begin(c, err))
        return -1;
    sl_cdc_event_t ev = {.kind = SL_CDC_CHANGE, .xact_lsn = c->xact_lsn, .commit_us = c->commit_us,
                         .table = table};
    ev.change = (sl_change_t){.op = op,
                              .table = (uint32_t)table,
                              .pos = {c->xact_lsn, ++c->idx},
                              .commit_us = c->commit_us,
                              .ncols = c->tables[table]->ncolumns,
                              .row = row,
                              .old = old};
    return c->h->on_event(c->h->ctx, &ev, err);
}

static void group_start(sl_my_cdc_t *c, uint64_t at, uint32_t timestamp, bool standalone)
{
    c->in_group = true;
    c->saw_begin = false;
    c->begun = false;
    c->standalone = standalone;
    c->xact_lsn = at;
    c->commit_us = (int64_t)timestamp * 1000000;
    c->idx = 0;
}

static int group_end(sl_my_cdc_t *c, uint64_t end, uint32_t timestamp, sl_err_t *err)
{
    bool begun = c->begun;
    c->in_group = c->begun = c->saw_begin = false;
    if (end > c->boundary)
        c->boundary = end;
    if (!begun)
        return 0;
    sl_cdc_event_t ev = {.kind = SL_CDC_COMMIT, .xact_lsn = c->xact_lsn, .end_lsn = end,
                         .commit_us = timestamp ? (int64_t)timestamp * 1000000 : c->commit_us,
                         .table = -1};
    return c->h->on_event(c->h->ctx, &ev, err);
}

/* GTID mode: the group's position, after checking it belongs to the stream's domain
 * and comes after the last one. */
static int on_gtid(sl_my_cdc_t *c, const sl_binlog_event_t *ev, uint64_t *start, sl_err_t *err)
{
    if (ev->type != SL_BL_GTID_MARIADB)
        return sl_err_set(err, SL_E_PROTOCOL, "a MySQL GTID event in a stream with MariaDB GTID positions");
    if (ev->gtid.domain != c->domain) {
        sl_err_set(err, SL_E_CONFIG, "the binlog holds a transaction of GTID domain %" PRIu32 " (GTID %" PRIu32
                   "-%" PRIu32 "-%" PRIu64 ") but stream \"%s\" follows domain %" PRIu32,
                   ev->gtid.domain, ev->gtid.domain, ev->server_id, ev->gtid.seq, c->stream, c->domain);
        sl_err_detail(err, "a stream with GTID positions follows one GTID domain, in which seq_no orders "
                           "the transactions");
        sl_err_hint(err, "run the stream with position=file in the source URL, and `sluice run --restart` "
                         "to copy the tables again");
        if (err)
            err->fatal = true;
        return -1;
    }
    if (ev->gtid.seq <= c->last_seq || ev->gtid.seq > SL_MY_GTID_SEQ_MAX) {
        sl_err_set(err, SL_E_CONFIG, "GTID %" PRIu32 "-%" PRIu32 "-%" PRIu64 " comes after seq_no %" PRIu64
                   " in the binlog", ev->gtid.domain, ev->server_id, ev->gtid.seq, c->last_seq);
        sl_err_detail(err, "GTID positions need seq_no to grow within a domain (gtid_strict_mode)");
        sl_err_hint(err, "turn on gtid_strict_mode on the server, or use position=file with "
                         "`sluice run --restart`");
        if (err)
            err->fatal = true;
        return -1;
    }
    c->last_seq = ev->gtid.seq;
    sl_my_cdc_writer(c, ev->gtid.seq, ev->server_id);
    *start = sl_my_gtid_pos(c->domain, ev->gtid.seq);
    return 0;
}

static int no_gtid(sl_my_cdc_t *c, sl_err_t *err)
{
    sl_err_set(err, SL_E_PROTOCOL, "a transaction without a GTID in the binlog of \"%s\"", c->rep.where);
    sl_err_hint(err, "use position=file in the source URL");
    return -1;
}

static int confirm(sl_my_cdc_t *c, uint64_t server_end)
{
    if (c->h->confirm)
        c->h->confirm(c->h->ctx, server_end);
    c->last_confirm_ms = sl_mono_ms();
    return 0;
}

/* One decoded event. start/end: its position, 0 when the event is not in a file
 * (artificial, heartbeat). */
static int on_event(sl_my_cdc_t *c, const sl_binlog_event_t *ev, sl_err_t *err)
{
    bool placed = ev->log_pos != 0 && !(ev->flags & SL_BL_F_ARTIFICIAL) && ev->log_pos >= ev->size;
    uint64_t end = placed ? sl_my_cdc_pos(c->file, ev->log_pos) : 0;
    uint64_t start = placed ? sl_my_cdc_pos(c->file, ev->log_pos - ev->size) : 0;
    if (c->gtid) /* a group's position is its GTID, from start to end */
        end = c->in_group ? c->xact_lsn : 0;
    switch (ev->type) {
    case SL_BL_ROTATE: {
        uint32_t num;
        char base[256];
        int digits;
        if (sl_my_cdc_parse_file(ev->rotate.name, ev->rotate.namelen, base, sizeof base, &num, &digits))
            return sl_err_set(err, SL_E_PROTOCOL, "a ROTATE event to an unexpected file name \"%.*s\"",
                              (int)(ev->rotate.namelen > 200 ? 200 : ev->rotate.namelen), ev->rotate.name);
        c->file = num;
        snprintf(c->base_name, sizeof c->base_name, "%s", base);
        c->digits = digits;
        if (!c->gtid && !c->in_group && ev->rotate.pos <= UINT32_MAX &&
            sl_my_cdc_pos(num, (uint32_t)ev->rotate.pos) > c->boundary)
            c->boundary = sl_my_cdc_pos(num, (uint32_t)ev->rotate.pos);
        return 0;
    }
    case SL_BL_HEARTBEAT: {
        uint32_t num;
        if (!c->gtid && ev->heartbeat.namelen &&
            !sl_my_cdc_parse_file(ev->heartbeat.name, ev->heartbeat.namelen, NULL, 0, &num, NULL) && num == c->file &&
            !c->in_group && ev->log_pos && sl_my_cdc_pos(num, ev->log_pos) > c->boundary)
            c->boundary = sl_my_cdc_pos(num, ev->log_pos);
        if (!c->in_group) { /* a position report (source/cdc.h SL_CDC_MARK) */
            sl_cdc_event_t mark = {.kind = SL_CDC_MARK, .end_lsn = c->boundary, .table = -1};
            if (c->h->on_event(c->h->ctx, &mark, err))
                return -1;
        }
        return confirm(c, c->boundary);
    }
    case SL_BL_GTID_MARIADB:
    case SL_BL_GTID_MYSQL:
    case SL_BL_ANON_GTID:
        if (c->in_group && c->begun)
            return sl_err_set(err, SL_E_PROTOCOL, "a GTID event inside a transaction in the binlog");
        if (c->gtid && on_gtid(c, ev, &start, err))
            return -1;
        group_start(c, start, ev->timestamp,
                    ev->type == SL_BL_GTID_MARIADB && (ev->gtid.flags & SL_BL_GTID_STANDALONE));
        return 0;
    case SL_BL_QUERY:
        if (!c->in_group && c->gtid)
            return no_gtid(c, err);
        if (sl_my_ddl_is(ev->query.sql, ev->query.sqllen, "BEGIN")) {
            if (!c->in_group)
                group_start(c, start, ev->timestamp, false);
            c->saw_begin = true;
            return 0;
        }
        if (sl_my_ddl_is(ev->query.sql, ev->query.sqllen, "COMMIT") || sl_my_ddl_is(ev->query.sql, ev->query.sqllen, "ROLLBACK"))
            return c->in_group ? group_end(c, end, ev->timestamp, err) : 0;
        if (!c->in_group)
            group_start(c, start, ev->timestamp, true);
        if (sl_my_cdc_on_ddl(c, ev, err))
            return -1;
        /* DDL forms a group alone (no BEGIN before it) */
        return c->saw_begin ? 0 : group_end(c, end, ev->timestamp, err);
    case SL_BL_XID:
        return c->in_group ? group_end(c, end, ev->timestamp, err) : 0;
    case SL_BL_TABLE_MAP:
        return sl_my_cdc_on_table_map(c, ev, err);
    case SL_BL_WRITE_V1: case SL_BL_UPDATE_V1: case SL_BL_DELETE_V1:
    case SL_BL_WRITE_V2: case SL_BL_UPDATE_V2: case SL_BL_DELETE_V2:
        return sl_my_cdc_on_rows(c, ev, err);
    case SL_BL_PARTIAL_UPDATE:
    case SL_BL_TRANSACTION_PAYLOAD:
        sl_err_set(err, SL_E_CONFIG, "the binlog holds %s events, which sluice cannot read",
                   ev->type == SL_BL_PARTIAL_UPDATE ? "partial JSON update" : "compressed transaction");
        sl_err_hint(err, "SET GLOBAL %s and run `sluice run --restart`",
                    ev->type == SL_BL_PARTIAL_UPDATE ? "binlog_row_value_options = ''"
                                                     : "binlog_transaction_compression = OFF");
        return -1;
    default:
        if (ev->type >= SL_BL_QUERY_COMPRESSED && ev->type <= SL_BL_ROWS_COMPRESSED_LAST) {
            sl_err_set(err, SL_E_CONFIG, "the binlog holds compressed events (log_bin_compress)");
            sl_err_hint(err, "SET GLOBAL log_bin_compress = OFF and run `sluice run --restart`");
            return -1;
        }
        if (ev->type >= SL_BL_WRITE_V0 && ev->type <= SL_BL_DELETE_V0)
            return sl_err_set(err, SL_E_CONFIG, "the binlog holds MySQL 5.1 pre-GA row events");
        break;
    }
    return 0;
}

/* ---- the replication stream ---------------------------------------------------- */

/* The server ended our dump because another replica connected with our server id
 * (MariaDB error 4052; MySQL says so in error 1236). */
static int kicked(sl_my_cdc_t *c, const char *msg, sl_err_t *err)
{
    if (sl_my_cdc_check_replicas(c, err))
        return -1; /* it names the other one */
    sl_err_set(err, SL_E_CONFLICT, "another replica with server id %" PRIu32 " (that of stream \"%s\") connected to "
               "MySQL at \"%s\", which ended this stream's binlog dump", c->server_id, c->stream, c->rep.where);
    sl_err_detail(err, "%s", msg ? msg : "");
    sl_err_hint(err, "stop the other run of stream \"%s\", or give the other replica another server_id; grant "
                     "REPLICATION MASTER ADMIN (MariaDB) so that sluice can see who it is (SHOW SLAVE HOSTS)",
                c->stream);
    if (err)
        err->fatal = true;
    return -1;
}

static int stream_fail(sl_my_cdc_t *c, uint64_t at, sl_err_t *err)
{
    unsigned int no = mysql_errno(c->rep.db);
    const char *msg = mysql_error(c->rep.db);
    if (!no && c->rpl) {
        no = mariadb_rpl_errno(c->rpl);
        msg = mariadb_rpl_error(c->rpl);
    }
    char where[128];
    sl_my_cdc_pos_text(c, at, where, sizeof where);
    if (no == 4052 || (no == 1236 && msg && strstr(msg, "same server_uuid/server_id")))
        return kicked(c, msg, err);
    if (no == 1236) { /* ER_MASTER_FATAL_ERROR_READING_BINLOG */
        sl_err_set(err, SL_E_NOT_FOUND, "could not read the binlog of MySQL at \"%s\" at %s: %s",
                   c->rep.where, where, msg);
        sl_err_detail(err, "the changes since the stream's last position cannot be read");
        sl_err_hint(err, "the binlog at %s was purged; run `sluice run --restart` to copy again, and "
                         "raise binlog retention (binlog_expire_logs_seconds)", where);
        if (err) {
            err->fatal = true;
            err->retriable = false;
        }
        return -1;
    }
    if (no == 0 || (no >= 2000 && no < 3000)) { /* client errors: the connection */
        sl_err_set(err, SL_E_CONNECT, "lost the replication connection to MySQL at \"%s\" at %s: %s",
                   c->rep.where, where, msg && msg[0] ? msg : "connection closed");
        sl_err_hint(err, "sluice reconnects and resumes from the last committed position");
        sl_err_retriable(err);
        return -1;
    }
    sl_mysql_fail_code(no, mysql_sqlstate(c->rep.db), msg, "read the binlog", c->rep.database,
                       c->rep.user, err);
    sl_err_detail(err, "at %s", where);
    return -1;
}

/* The stream's kind of position must be the one the URL asks for. */
static int check_kind(sl_my_cdc_t *c, uint64_t start, sl_err_t *err)
{
    bool gtid = sl_my_pos_is_gtid(start);
    if (c->posmode == SL_MY_POS_AUTO || (c->posmode == SL_MY_POS_GTID) == gtid)
        return 0;
    sl_err_set(err, SL_E_CONFIG, "stream \"%s\" keeps %s positions but the source URL asks for position=%s",
               c->stream, gtid ? "gtid" : "file", sl_my_posmode_name(c->posmode));
    sl_err_detail(err, "a stream's kind of position (gtid or file) is fixed when its initial load hands "
                       "over; its checkpoints are in that kind");
    sl_err_hint(err, "use position=%s (or leave position= out), or run `sluice run --restart` to copy the "
                     "tables again with position=%s",
                gtid ? "gtid" : "file", sl_my_posmode_name(c->posmode));
    if (err)
        err->fatal = true;
    return -1;
}

/* GTID mode: @slave_connect_state for the GTID of position `start`. */
static int gtid_connect_state(sl_my_cdc_t *c, uint64_t start, char *state, size_t size, sl_err_t *err)
{
    c->gtid = true;
    c->domain = sl_my_pos_domain(start);
    c->last_seq = sl_my_pos_seq(start);
    if (!c->my.mariadb) {
        sl_err_set(err, SL_E_CONFIG, "stream \"%s\" keeps MariaDB GTID positions but \"%s\" is MySQL",
                   c->stream, c->my.where);
        sl_err_hint(err, "point the source URL at a MariaDB server of the stream's replication topology");
        if (err)
            err->fatal = true;
        return -1;
    }
    if (c->last_seq == 0) { /* nothing of the domain yet: from the oldest binlog */
        state[0] = '\0';
        return 0;
    }
    char *binlog_state = NULL;
    if (sl_mysql_query_value(&c->my, "SELECT @@global.gtid_binlog_state", &binlog_state, err))
        return -1;
    uint32_t sid = 0;
    bool found = sl_my_gtid_writer(binlog_state ? binlog_state : "", c->domain, c->last_seq, &sid);
    if (!found) {
        /* a replica of the stream's source that is behind will get there */
        char *slave_pos = NULL;
        sl_err_t ignored;
        uint64_t applied = 0;
        bool replica = false;
        if (!sl_mysql_query_value(&c->my, "SELECT @@global.gtid_slave_pos", &slave_pos, &ignored) && slave_pos &&
            sl_my_gtid_list_seq(slave_pos, c->domain, &applied, &replica) < 0)
            replica = false;
        free(slave_pos);
        sl_err_set(err, SL_E_NOT_FOUND, "the binlog of MariaDB at \"%s\" does not reach GTID %" PRIu32 "-x-%" PRIu64
                   ", where stream \"%s\" goes on", c->my.where, c->domain, c->last_seq, c->stream);
        sl_err_detail(err, "gtid_binlog_state: %.300s", binlog_state ? binlog_state : "(empty)");
        sl_err_hint(err, "point the source URL at a server that has applied the stream's transactions (a "
                         "replica that is behind must catch up first); if the binlog was reset or purged, run "
                         "`sluice run --restart`");
        free(binlog_state);
        if (replica)
            sl_err_retriable(err);
        else if (err)
            err->fatal = true;
        return -1;
    }
    free(binlog_state);
    sl_my_cdc_writer(c, c->last_seq, sid);
    snprintf(state, size, "%" PRIu32 "-%" PRIu32 "-%" PRIu64, c->domain, sid, c->last_seq);
    return 0;
}

/* Where the next dump starts: the file and offset, or the GTID connect state, for
 * position `start`, after checking that the server still holds it, and that no other
 * replica reads with our server id. */
static int plan(sl_my_cdc_t *c, uint64_t start, sl_err_t *err)
{
    char file[512];
    uint32_t off = 0, num;
    c->planned = false;
    c->gtid = false;
    c->plan_gtid[0] = '\0';
    if (check_kind(c, start, err) || sl_my_cdc_check_replicas(c, err) ||
        sl_my_cdc_master_status(c, file, sizeof file, &off, err))
        return -1;
    if (sl_my_cdc_parse_file(file, strlen(file), c->base_name, sizeof c->base_name, &num, &c->digits))
        return sl_err_set(err, SL_E_PROTOCOL, "unexpected binlog file name \"%s\"", file);
    if (sl_my_pos_is_gtid(start)) {
        if (gtid_connect_state(c, start, c->plan_gtid, sizeof c->plan_gtid, err))
            return -1;
        file[0] = '\0';
        off = 4;
    } else if (start) {
        if (start > sl_my_cdc_pos(num, off)) { /* past the end of this server's binlog */
            char at[128], head[128];
            sl_my_cdc_pos_text(c, start, at, sizeof at);
            sl_my_cdc_pos_text(c, sl_my_cdc_pos(num, off), head, sizeof head);
            sl_err_set(err, SL_E_CONFIG, "stream \"%s\" goes on at %s, beyond the end of the binlog of MySQL at "
                       "\"%s\" (%s)", c->stream, at, c->my.where, head);
            sl_err_detail(err, "the binlog was reset (RESET MASTER), or the source URL names another server; "
                               "binlog file positions are only valid on the server that wrote them");
            sl_err_hint(err, "run `sluice run --restart` to copy the tables again; on MariaDB, GTID positions "
                             "(position=gtid) can resume on a replica");
            if (err)
                err->fatal = true;
            return -1;
        }
        num = (uint32_t)(start >> 32);
        off = (uint32_t)start;
        snprintf(file, sizeof file, "%s.%0*" PRIu32, c->base_name, c->digits, num);
    }
    if (off < 4)
        off = 4;
    c->file = num;
    c->boundary = c->gtid ? start : sl_my_cdc_pos(num, off);
    snprintf(c->plan_file, sizeof c->plan_file, "%s", file);
    c->plan_off = off;
    c->plan_pos = start;
    c->planned = true;
    return 0;
}

/* MariaDB keeps no position for a replica: the stream goes on from the lowest
 * position its lane checkpoints may confirm. */
int sl_my_cdc_start(sl_cdc_t *base, const sl_cdc_mark_t *mark, uint64_t *start, sl_err_t *err)
{
    *start = mark->lowest;
    return plan((sl_my_cdc_t *)base, *start, err);
}

static int start_dump(sl_my_cdc_t *c, uint64_t start, sl_err_t *err)
{
    if ((!c->planned || c->plan_pos != start) && plan(c, start, err))
        return -1;
    c->planned = false; /* a plan is for one dump: the next session looks again */
    if (sl_mysql_connect(c->url, &c->rep, err))
        return -1;
    char *alg = NULL;
    if (sl_mysql_query_value(&c->rep, "SELECT @@global.binlog_checksum", &alg, err))
        return -1;
    bool crc = alg && !strcasecmp(alg, "CRC32");
    free(alg);
    static const char *const setup[] = {
        "SET @master_binlog_checksum = @@global.binlog_checksum",
        "SET @source_binlog_checksum = @@global.binlog_checksum",
        "SET @mariadb_slave_capability = 4",
        "SET @master_heartbeat_period = " HEARTBEAT_NS,
        "SET @source_heartbeat_period = " HEARTBEAT_NS,
        /* while the reader copies a table (engine/cdc_copy.c) it reads no event for a
         * while: the dump thread waits that long before it gives up on us */
        "SET SESSION net_write_timeout = " DUMP_WRITE_TIMEOUT_S,
    };
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++)
        if (sl_mysql_exec(&c->rep, setup[i], err))
            return -1;
    if (c->gtid) {
        char sql[160];
        snprintf(sql, sizeof sql, "SET @slave_connect_state = '%s'", c->plan_gtid);
        if (sl_mysql_exec(&c->rep, sql, err) || sl_mysql_exec(&c->rep, "SET @slave_gtid_strict_mode = 1", err) ||
            sl_mysql_exec(&c->rep, "SET @slave_gtid_ignore_duplicates = 0", err))
            return -1;
    }
    /* a server that stops sending (not even heartbeats) is a lost connection */
    struct timeval tv = {.tv_sec = READ_TIMEOUT_S};
    int fd = (int)mysql_get_socket(c->rep.db);
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sl_binlog_fmt_init(&c->fmt, crc, true);
    c->rpl = mariadb_rpl_init(c->rep.db);
    if (!c->rpl)
        return stream_fail(c, c->boundary, err);
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_FILENAME, c->plan_file, strlen(c->plan_file));
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_START, (unsigned long)c->plan_off);
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_SERVER_ID, (unsigned int)c->server_id);
    /* registers the dump as replica c->label (SHOW SLAVE HOSTS), see mysql_cdc.c */
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_HOST, c->label, strlen(c->label));
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_FLAGS, 0u);
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_VERIFY_CHECKSUM, 0u); /* binlog.c checks it */
    if (mariadb_rpl_open(c->rpl))
        return stream_fail(c, c->boundary, err);
    char at[128];
    sl_my_cdc_pos_text(c, c->boundary, at, sizeof at);
    sl_debug("streaming the binlog of MySQL at \"%s\" from %s as replica %" PRIu32, c->rep.where, at,
             c->server_id);
    return 0;
}

static int stream_loop(sl_my_cdc_t *c, sl_err_t *err)
{
    const sl_cdc_handler_t *h = c->h;
    c->last_confirm_ms = sl_mono_ms();
    for (;;) {
        if (h->stopping(h->ctx)) {
            confirm(c, c->boundary);
            char at[128];
            sl_my_cdc_pos_text(c, c->boundary, at, sizeof at);
            sl_debug("binlog stream \"%s\" stopped at %s", c->stream, at);
            return 0;
        }
        if (sl_mono_ms() - c->last_confirm_ms >= CONFIRM_EVERY_MS)
            confirm(c, c->boundary);
        /* mariadb_rpl_fetch frees an event it fails on: always let it allocate */
        MARIADB_RPL_EVENT *rev = mariadb_rpl_fetch(c->rpl, NULL);
        if (!rev)
            return stream_fail(c, c->boundary, err);
        if (rev->raw_data_ofs > rev->raw_data_size) {
            mariadb_free_rpl_event(rev);
            return sl_err_set(err, SL_E_PROTOCOL, "a binlog packet shorter than its header");
        }
        sl_binlog_event_t ev;
        int rc = sl_binlog_event_decode(rev->raw_data + rev->raw_data_ofs,
                                        rev->raw_data_size - rev->raw_data_ofs, &c->fmt, &ev, err);
        if (!rc)
            rc = on_event(c, &ev, err);
        mariadb_free_rpl_event(rev);
        if (rc) {
            if (err && err->code == SL_E_PROTOCOL) {
                char at[128];
                sl_my_cdc_pos_text(c, c->boundary, at, sizeof at);
                sl_err_prefix(err, "binlog after %s: ", at);
            }
            return -1;
        }
    }
}

static void stream_end(sl_my_cdc_t *c)
{
    if (c->rpl)
        mariadb_rpl_close(c->rpl);
    c->rpl = NULL;
    sl_mysql_close(&c->rep); /* ends the dump on the server */
    sl_my_cdc_tmaps_clear(c);
    c->tables = NULL;
    c->h = NULL;
}

int sl_my_cdc_stream(sl_cdc_t *base, uint64_t start, sl_table_t **tables, int n, const sl_cdc_handler_t *h,
                     sl_err_t *err)
{
    sl_my_cdc_t *c = (sl_my_cdc_t *)base;
    c->tables = tables;
    c->ntables = n;
    c->h = h;
    c->in_group = c->begun = c->saw_begin = false;
    c->xact_lsn = 0;
    c->commit_us = 0;
    int rc = start_dump(c, start, err);
    if (!rc)
        rc = stream_loop(c, err);
    stream_end(c);
    return rc;
}

