/*
 * mysql_cdc.c: MariaDB/MySQL change data capture (source/cdc.h) from the binary log,
 * read as a replica with COM_BINLOG_DUMP through MariaDB Connector/C's mariadb_rpl
 * (transport only: every event is decoded by source/mysql/binlog.h).
 *
 * Positions come in two kinds (gtid.h), fixed per stream by its first position.
 * File mode: (binlog file number << 32) | byte offset. A transaction's xact_lsn is the
 * offset of its first event (the GTID event, or BEGIN without GTIDs); its end_lsn the
 * offset just past its XID (or COMMIT, or the DDL statement that forms a group alone).
 * GTID mode (MariaDB, one GTID domain): both are the transaction's GTID seq_no, and the
 * stream resumes after a GTID with @slave_connect_state, on any server holding the
 * same GTIDs. Binlog order is commit order, so positions grow in commit order across
 * rotations. The server keeps no position for us (cdc.h `slot` false): the engine
 * keeps it in the target's checkpoints and streams from there.
 *
 * Transactions touching none of the stream's tables are not sent; instead the
 * handler's confirm() learns the position after them (server_end), so an idle stream
 * moves its checkpoints on with heartbeats. The dump thread sends a heartbeat after
 * 100 ms without events (@master_heartbeat_period), which also bounds how long a
 * fetch blocks, so stopping() is asked at least every 100 ms.
 *
 * DDL: ALTER TABLE ... ADD/DROP COLUMN (and index, default, comment and other
 * data-neutral clauses) on a replicated table pass; the next TABLE_MAP shows the new
 * columns and the handler gets SL_CDC_RELATION. TRUNCATE becomes a TRUNCATE change.
 * Anything else on a replicated table (RENAME, DROP, CHANGE/MODIFY COLUMN, ...) stops
 * the stream with SL_E_SCHEMA. Everything here runs on the stream's reader thread.
 */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <mysql.h>
#include <mariadb_rpl.h> /* after mysql.h, which it needs */

#include "core/clock.h"
#include "core/log.h"
#include "db/mysql/mysql_db.h"
#include "source/cdc.h"
#include "source/mysql/binlog.h"
#include "source/mysql/gtid.h"

#if MARIADB_PACKAGE_VERSION_ID < 30305
#error "MariaDB Connector/C 3.3.5 or later is needed (mariadb_rpl raw event data)"
#endif

#define SQL_MAX (1u << 20)
#define CONFIRM_EVERY_MS 1000
#define HEARTBEAT_NS "100000000" /* 100 ms */
#define READ_TIMEOUT_S 30        /* no event and no heartbeat for this long: connection lost */
#define MAX_TMAPS 4096
#define ARENA_MAX (1u << 30)

/* A table id the binlog uses, and what it maps to. */
typedef struct tmap_ent {
    uint64_t id;
    sl_binlog_tmap_t *tm;
    int table;               /* index in the stream, -1 when not streamed */
    const sl_table_t *t;     /* the description map was built for */
    int *map;                /* table column -> binlog column */
    uint64_t used;           /* for eviction */
} tmap_ent_t;

typedef struct my_cdc {
    sl_cdc_t base; /* first: the engine sees a sl_cdc_t */
    sl_url_t *url;
    sl_mysql_t my;     /* checks and SHOW MASTER STATUS */
    uint32_t server_id;
    char stream[128];
    sl_my_posmode_t posmode; /* the URL's position= */

    /* stream state, valid inside stream() */
    sl_mysql_t rep;
    MARIADB_RPL *rpl;
    sl_table_t **tables;
    int ntables;
    const sl_cdc_handler_t *h;
    sl_binlog_fmt_t fmt;
    char base_name[256]; /* "mysql-bin" of "mysql-bin.000012" */
    int digits;          /* width of the number */
    uint32_t file;       /* current file number */
    bool gtid;           /* positions are GTIDs of `domain` (gtid.h) */
    uint32_t domain;
    uint64_t last_seq;   /* seq_no of the last GTID seen */
    tmap_ent_t *tmaps;
    int ntmaps;
    uint64_t tick;
    sl_binlog_cell_t *before, *after;
    sl_value_t *oldv, *newv;
    int capcols, capvals;
    sl_buf_t arena_old, arena_new;
    /* the event group being read */
    bool in_group, saw_begin, begun, standalone;
    uint64_t xact_lsn;
    int64_t commit_us;
    uint32_t idx;
    uint64_t boundary;  /* last position between groups: where a restart may begin */
    int64_t last_confirm_ms;
} my_cdc_t;

const struct sl_cdc_ops sl_mysql_cdc_ops;

static uint64_t pos_of(uint32_t file, uint32_t off)
{
    return (uint64_t)file << 32 | off;
}

/* "mysql-bin.000012" -> base "mysql-bin", number 12, 6 digits. */
static int parse_file(const char *name, size_t n, char *base, size_t size, uint32_t *num, int *digits)
{
    const char *dot = NULL;
    for (size_t i = 0; i < n; i++)
        if (name[i] == '.')
            dot = name + i;
    if (!dot || dot == name || (size_t)(dot - name) >= size)
        return -1;
    uint64_t v = 0;
    int d = 0;
    for (const char *s = dot + 1; s < name + n; s++, d++) {
        if (*s < '0' || *s > '9' || d > 9)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (d == 0 || v > UINT32_MAX)
        return -1;
    if (base) {
        memcpy(base, name, (size_t)(dot - name));
        base[dot - name] = '\0';
    }
    *num = (uint32_t)v;
    if (digits)
        *digits = d;
    return 0;
}

static void pos_text(const my_cdc_t *c, uint64_t pos, char *buf, size_t size)
{
    sl_my_pos_text(pos, c->base_name, c->digits, buf, size);
}

/* ---- open / close ------------------------------------------------------------- */

static uint32_t derive_server_id(const char *stream)
{
    uint32_t h = 2166136261u;
    for (const char *s = stream ? stream : ""; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return 100000u + h % (4000000000u - 100000u);
}

static int my_open(const char *url, const char *stream, sl_cdc_t **out, sl_err_t *err)
{
    my_cdc_t *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    if (sl_url_parse(url, &c->url, err) || sl_my_posmode_parse(c->url, &c->posmode, err) ||
        sl_mysql_connect(c->url, &c->my, err)) {
        sl_url_free(c->url);
        free(c);
        return -1;
    }
    c->base.ops = &sl_mysql_cdc_ops;
    snprintf(c->stream, sizeof c->stream, "%s", stream ? stream : "");
    c->server_id = derive_server_id(stream);
    sl_buf_init(&c->arena_old, ARENA_MAX);
    sl_buf_init(&c->arena_new, ARENA_MAX);
    *out = &c->base;
    return 0;
}

static void tmaps_clear(my_cdc_t *c)
{
    for (int i = 0; i < c->ntmaps; i++) {
        sl_binlog_tmap_free(c->tmaps[i].tm);
        free(c->tmaps[i].map);
    }
    free(c->tmaps);
    c->tmaps = NULL;
    c->ntmaps = 0;
}

static void my_close(sl_cdc_t *base)
{
    my_cdc_t *c = (my_cdc_t *)base;
    if (!c)
        return;
    tmaps_clear(c);
    free(c->before);
    free(c->after);
    free(c->oldv);
    free(c->newv);
    sl_buf_free(&c->arena_old);
    sl_buf_free(&c->arena_new);
    sl_mysql_close(&c->my);
    sl_url_free(c->url);
    free(c);
}

/* ---- check ------------------------------------------------------------------------ */

/* SHOW GLOBAL VARIABLES for the names given, into vals (NULL when the server lacks
 * one); caller frees each. */
static int variables(my_cdc_t *c, const char *const *names, char **vals, int n, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int rc = sl_buf_adds(&b, "SHOW GLOBAL VARIABLES WHERE Variable_name IN (", err);
    for (int i = 0; i < n && !rc; i++)
        rc = (i && sl_buf_adds(&b, ", ", err)) || sl_mysql_add_string(&b, names[i], strlen(names[i]), err);
    rc = rc || sl_buf_addc(&b, ')', err);
    MYSQL_RES *res = NULL;
    rc = rc || sl_mysql_query(&c->my, b.data, &res, err);
    sl_buf_free(&b);
    for (int i = 0; i < n; i++)
        vals[i] = NULL;
    if (rc)
        return -1;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)))
        for (int i = 0; i < n; i++)
            if (row[0] && row[1] && !strcasecmp(row[0], names[i]))
                vals[i] = sl_strdup(row[1]);
    mysql_free_result(res);
    return 0;
}

static bool is_on(const char *v)
{
    return v && (!strcasecmp(v, "ON") || !strcmp(v, "1"));
}

enum { V_LOG_BIN, V_FORMAT, V_IMAGE, V_METADATA, V_SERVER_ID, V_EXPIRE_DAYS, V_EXPIRE_SECS,
       V_COMPRESS_MY, V_COMPRESS_MARIA, V_VALUE_OPTS, V_COUNT };

static int check_server(my_cdc_t *c, sl_err_t *err)
{
    static const char *const names[V_COUNT] = {
        "log_bin", "binlog_format", "binlog_row_image", "binlog_row_metadata", "server_id",
        "expire_logs_days", "binlog_expire_logs_seconds", "binlog_transaction_compression",
        "log_bin_compress", "binlog_row_value_options"};
    char *v[V_COUNT];
    if (variables(c, names, v, V_COUNT, err))
        return -1;
    int rc = 0;
    const char *where = c->my.where;
    if (!is_on(v[V_LOG_BIN])) {
        rc = sl_err_set(err, SL_E_CONFIG, "MySQL at \"%s\" does not write a binary log (log_bin = %s)",
                        where, v[V_LOG_BIN] ? v[V_LOG_BIN] : "?");
        sl_err_detail(err, "change data capture reads the changes from the binary log");
        sl_err_hint(err, "start the server with log_bin (e.g. log_bin = mysql-bin in my.cnf), "
                         "binlog_format = ROW and binlog_row_image = FULL");
    } else if (!v[V_FORMAT] || strcasecmp(v[V_FORMAT], "ROW")) {
        rc = sl_err_set(err, SL_E_CONFIG, "MySQL at \"%s\" has binlog_format = %s", where,
                        v[V_FORMAT] ? v[V_FORMAT] : "?");
        sl_err_detail(err, "change data capture needs the rows themselves, not the statements");
        sl_err_hint(err, "SET GLOBAL binlog_format = 'ROW' (and in my.cnf); sessions that are "
                         "already connected keep the old format until they reconnect");
    } else if (!v[V_IMAGE] || strcasecmp(v[V_IMAGE], "FULL")) {
        rc = sl_err_set(err, SL_E_CONFIG, "MySQL at \"%s\" has binlog_row_image = %s", where,
                        v[V_IMAGE] ? v[V_IMAGE] : "?");
        sl_err_detail(err, "updates and deletes must carry the whole old row");
        sl_err_hint(err, "SET GLOBAL binlog_row_image = 'FULL' (and in my.cnf)");
    } else if (!v[V_METADATA] || strcasecmp(v[V_METADATA], "FULL")) {
        rc = sl_err_set(err, SL_E_CONFIG, "MySQL at \"%s\" has binlog_row_metadata = %s", where,
                        v[V_METADATA] ? v[V_METADATA] : "(not supported)");
        sl_err_detail(err, "the binlog must name the columns of each row (MariaDB 10.5+, MySQL 8.0+)");
        sl_err_hint(err, "SET GLOBAL binlog_row_metadata = 'FULL' (and in my.cnf)");
    } else if (is_on(v[V_COMPRESS_MY]) || is_on(v[V_COMPRESS_MARIA])) {
        rc = sl_err_set(err, SL_E_CONFIG, "MySQL at \"%s\" compresses its binary log", where);
        sl_err_detail(err, "sluice cannot read compressed binlog events");
        sl_err_hint(err, "SET GLOBAL %s = OFF (and in my.cnf)",
                    is_on(v[V_COMPRESS_MY]) ? "binlog_transaction_compression" : "log_bin_compress");
    } else if (v[V_VALUE_OPTS] && strcasestr(v[V_VALUE_OPTS], "PARTIAL_JSON")) {
        rc = sl_err_set(err, SL_E_CONFIG, "MySQL at \"%s\" logs partial JSON updates", where);
        sl_err_hint(err, "SET GLOBAL binlog_row_value_options = '' (and in my.cnf)");
    } else if (v[V_SERVER_ID] && strtoul(v[V_SERVER_ID], NULL, 10) == c->server_id) {
        rc = sl_err_set(err, SL_E_CONFLICT, "the replica server id %" PRIu32 " of stream \"%s\" is "
                        "the server_id of MySQL at \"%s\"", c->server_id, c->stream, where);
        sl_err_detail(err, "sluice derives its replica server id from the stream name");
        sl_err_hint(err, "rename the stream, or change the server's server_id");
    } else {
        double days = v[V_EXPIRE_DAYS] ? strtod(v[V_EXPIRE_DAYS], NULL) : 0;
        double secs = v[V_EXPIRE_SECS] ? strtod(v[V_EXPIRE_SECS], NULL) : 0;
        if (secs <= 0)
            secs = days * 86400;
        if (secs > 0 && secs < 86400)
            sl_warn("MySQL at \"%s\" keeps binlogs for only %.0f s: a stream stopped longer than that "
                    "must copy its tables again (raise binlog_expire_logs_seconds)", where, secs);
    }
    for (int i = 0; i < V_COUNT; i++)
        free(v[i]);
    return rc;
}

static int check_grants(my_cdc_t *c, sl_err_t *err)
{
    MYSQL_RES *res = NULL;
    if (sl_mysql_query(&c->my, "SHOW GRANTS", &res, err))
        return -1;
    bool slave = false, client = false;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        const char *g = row[0] ? row[0] : "";
        if (!strcasestr(g, " ON *.*"))
            continue;
        bool all = strcasestr(g, "ALL PRIVILEGES") != NULL;
        slave = slave || all || strcasestr(g, "REPLICATION SLAVE") || strcasestr(g, "REPLICATION REPLICA");
        client = client || all || strcasestr(g, "REPLICATION CLIENT") || strcasestr(g, "BINLOG MONITOR") ||
                 strcasestr(g, "SUPER");
    }
    mysql_free_result(res);
    if (slave && client)
        return 0;
    const char *user = c->my.user ? c->my.user : "";
    sl_err_set(err, SL_E_PRIVILEGE, "user \"%s\" lacks the %s privilege on MySQL at \"%s\"", user,
               !slave ? "REPLICATION SLAVE"
               : c->my.mariadb && mysql_get_server_version(c->my.db) >= 100500 ? "BINLOG MONITOR"
                                                                              : "REPLICATION CLIENT",
               c->my.where);
    sl_err_detail(err, "change data capture reads the binlog as a replica and asks for the current "
                       "binlog position");
    /* MariaDB 10.5 split BINLOG MONITOR off REPLICATION CLIENT */
    char acct[300];
    bool monitor = c->my.mariadb && mysql_get_server_version(c->my.db) >= 100500;
    sl_err_hint(err, "GRANT REPLICATION SLAVE, %s ON *.* TO %s", monitor ? "BINLOG MONITOR" : "REPLICATION CLIENT",
                sl_mysql_account(c->my.account, acct, sizeof acct));
    return -1;
}

/* Another replica registered with our server id would make the server drop one of us. */
static int check_replicas(my_cdc_t *c, sl_err_t *err)
{
    MYSQL_RES *res = NULL;
    sl_err_t ignore;
    if (sl_mysql_query(&c->my, "SHOW SLAVE HOSTS", &res, &ignore))
        return 0; /* needs a privilege we do not insist on */
    MYSQL_ROW row;
    int rc = 0;
    while ((row = mysql_fetch_row(res)) && !rc)
        if (row[0] && strtoul(row[0], NULL, 10) == c->server_id) {
            rc = sl_err_set(err, SL_E_CONFLICT, "a replica with server id %" PRIu32 " already reads "
                            "from MySQL at \"%s\"", c->server_id, c->my.where);
            sl_err_detail(err, "sluice derives the replica server id of stream \"%s\" from its name; "
                               "another run of this stream, or another replica, uses it", c->stream);
            sl_err_hint(err, "stop the other run of this stream, or rename the stream");
            sl_err_retriable(err);
        }
    mysql_free_result(res);
    return rc;
}

static const char *db_of(const my_cdc_t *c, const sl_table_t *t)
{
    return t->schema && t->schema[0] ? t->schema : c->my.database;
}

static int check_tables(my_cdc_t *c, sl_table_t *const *tables, int n, sl_err_t *err)
{
    for (int i = 0; i < n; i++) {
        sl_buf_t b;
        sl_buf_init(&b, SQL_MAX);
        const char *db = db_of(c, tables[i]);
        char *engine = NULL;
        int rc = sl_buf_adds(&b, "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ", err) ||
                 sl_mysql_add_string(&b, db, strlen(db), err) ||
                 sl_buf_adds(&b, " AND TABLE_NAME = ", err) ||
                 sl_mysql_add_string(&b, tables[i]->name, strlen(tables[i]->name), err) ||
                 sl_mysql_query_value(&c->my, b.data, &engine, err);
        sl_buf_free(&b);
        if (rc)
            return -1;
        if (!engine)
            return sl_err_set(err, SL_E_NOT_FOUND, "table \"%s.%s\" does not exist", db, tables[i]->name);
        free(engine);
    }
    return 0;
}

static int my_check(sl_cdc_t *base, sl_table_t *const *tables, int n, bool need_slot, sl_err_t *err)
{
    (void)need_slot;
    my_cdc_t *c = (my_cdc_t *)base;
    return check_server(c, err) || check_grants(c, err) || check_replicas(c, err) ||
                   check_tables(c, tables, n, err)
               ? -1
               : 0;
}

static int my_nothing(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_err_t *err)
{
    (void)base, (void)tables, (void)n, (void)err;
    return 0;
}

static int my_slot_state(sl_cdc_t *base, sl_cdc_slot_t *st, sl_err_t *err)
{
    (void)base, (void)err;
    *st = (sl_cdc_slot_t){.exists = true};
    return 0;
}

static int my_slot_create(sl_cdc_t *base, char **snapshot, uint64_t *consistent, sl_err_t *err)
{
    (void)base, (void)snapshot, (void)consistent;
    return sl_err_set(err, SL_E_INTERNAL, "slot_create is not for MySQL: the binlog needs no slot");
}

static int my_drop(sl_cdc_t *base, sl_err_t *err)
{
    (void)base, (void)err;
    return 0;
}

/* ---- DDL ------------------------------------------------------------------------ */

typedef struct lex {
    const char *p, *end;
} lex_t;

static void lex_space(lex_t *l)
{
    for (;;) {
        while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
            l->p++;
        if (l->end - l->p >= 2 && l->p[0] == '/' && l->p[1] == '*') {
            const char *e = l->p + 2;
            while (e + 1 < l->end && !(e[0] == '*' && e[1] == '/'))
                e++;
            l->p = e + 1 < l->end ? e + 2 : l->end;
            continue;
        }
        if (l->end - l->p >= 2 && l->p[0] == '-' && l->p[1] == '-') {
            while (l->p < l->end && *l->p != '\n')
                l->p++;
            continue;
        }
        return;
    }
}

/* Consumes keyword w (case-insensitive, whole word). */
static bool lex_kw(lex_t *l, const char *w)
{
    lex_space(l);
    size_t n = strlen(w);
    if ((size_t)(l->end - l->p) < n || strncasecmp(l->p, w, n))
        return false;
    const char *after = l->p + n;
    if (after < l->end && (isalnum((unsigned char)*after) || *after == '_'))
        return false;
    l->p = after;
    return true;
}

/* An identifier, `quoted` or bare, into out. */
static bool lex_ident(lex_t *l, char *out, size_t size)
{
    lex_space(l);
    size_t n = 0;
    if (l->p < l->end && *l->p == '`') {
        l->p++;
        while (l->p < l->end) {
            if (*l->p == '`') {
                if (l->p + 1 < l->end && l->p[1] == '`')
                    l->p++;
                else
                    break;
            }
            if (n + 1 < size)
                out[n++] = *l->p;
            l->p++;
        }
        if (l->p >= l->end)
            return false;
        l->p++;
    } else {
        while (l->p < l->end && (isalnum((unsigned char)*l->p) || *l->p == '_' || *l->p == '$' ||
                                 (unsigned char)*l->p >= 0x80)) {
            if (n + 1 < size)
                out[n++] = *l->p;
            l->p++;
        }
    }
    out[n] = '\0';
    return n > 0;
}

/* [db.]table; db defaults to the statement's database. */
static bool lex_table(lex_t *l, const char *defdb, char *db, char *tbl, size_t size)
{
    if (!lex_ident(l, tbl, size))
        return false;
    lex_space(l);
    if (l->p < l->end && *l->p == '.') {
        l->p++;
        snprintf(db, size, "%s", tbl);
        return lex_ident(l, tbl, size);
    }
    snprintf(db, size, "%s", defdb);
    return true;
}

static int find_table(const my_cdc_t *c, const char *db, const char *name)
{
    for (int i = 0; i < c->ntables; i++)
        if (!strcmp(db_of(c, c->tables[i]), db) && !strcmp(c->tables[i]->name, name))
            return i;
    return -1;
}

/* Whether one ALTER TABLE clause leaves the rows as they are for a target (columns
 * added or dropped are handled through the next TABLE_MAP). */
static bool clause_ok(lex_t *l)
{
    if (lex_kw(l, "ADD")) {
        if (lex_kw(l, "PRIMARY") || lex_kw(l, "PERIOD") || lex_kw(l, "SYSTEM"))
            return false;
        return true; /* [COLUMN] col, INDEX, KEY, UNIQUE, CONSTRAINT, FOREIGN KEY, ... */
    }
    if (lex_kw(l, "DROP"))
        return !(lex_kw(l, "PRIMARY") || lex_kw(l, "SYSTEM") || lex_kw(l, "PERIOD"));
    if (lex_kw(l, "ALTER")) {
        lex_kw(l, "COLUMN");
        char col[256];
        if (!lex_ident(l, col, sizeof col))
            return false;
        return lex_kw(l, "SET") || lex_kw(l, "DROP"); /* SET/DROP DEFAULT, SET (IN)VISIBLE */
    }
    if (lex_kw(l, "RENAME"))
        return lex_kw(l, "INDEX") || lex_kw(l, "KEY");
    static const char *const neutral[] = {"ALGORITHM", "LOCK", "FORCE", "COMMENT", "ENGINE",
                                          "AUTO_INCREMENT", "ROW_FORMAT", "KEY_BLOCK_SIZE",
                                          "STATS_PERSISTENT", "STATS_AUTO_RECALC", "STATS_SAMPLE_PAGES",
                                          "ENABLE", "DISABLE", "ANALYZE", "OPTIMIZE"};
    for (size_t i = 0; i < sizeof neutral / sizeof neutral[0]; i++)
        if (lex_kw(l, neutral[i]))
            return true;
    return false;
}

/* Skips to the next top-level comma of a clause list; false at the end. */
static bool next_clause(lex_t *l)
{
    int depth = 0;
    while (l->p < l->end) {
        char ch = *l->p;
        if (ch == '\'' || ch == '"' || ch == '`') {
            l->p++;
            while (l->p < l->end && *l->p != ch) {
                if (*l->p == '\\' && ch != '`')
                    l->p++;
                l->p++;
            }
        } else if (ch == '(') {
            depth++;
        } else if (ch == ')') {
            depth--;
        } else if (ch == ',' && depth == 0) {
            l->p++;
            return true;
        }
        if (l->p < l->end)
            l->p++;
    }
    return false;
}

static int ddl_refused(my_cdc_t *c, int ti, const char *sql, size_t n, sl_err_t *err)
{
    char label[300];
    sl_table_label(c->tables[ti], label, sizeof label);
    sl_err_set(err, SL_E_SCHEMA, "replicated table \"%s\" was changed on the source: %.*s", label,
               (int)(n > 200 ? 200 : n), sql);
    sl_err_detail(err, "sluice follows ALTER TABLE ... ADD COLUMN / DROP COLUMN and TRUNCATE from the "
                       "binlog; this statement would leave the target out of line");
    sl_err_hint(err, "make the same change on the target (or leave the table out of the stream), "
                     "then run `sluice cleanup` and `sluice run --restart` to copy the table again");
    return -1;
}

static int emit_change(my_cdc_t *c, sl_change_op_t op, int table, const sl_value_t *row,
                       const sl_value_t *old, sl_err_t *err);

/* A QUERY event other than BEGIN/COMMIT: TRUNCATE becomes a change, DDL that a
 * target cannot follow on a replicated table stops the stream. */
static int on_ddl(my_cdc_t *c, const sl_binlog_event_t *ev, sl_err_t *err)
{
    char defdb[256], db[256], tbl[256];
    snprintf(defdb, sizeof defdb, "%.*s", (int)ev->query.dblen, ev->query.db);
    lex_t l = {ev->query.sql, ev->query.sql + ev->query.sqllen};
    const char *sql = ev->query.sql;
    size_t n = ev->query.sqllen;
    int ti;
    if (lex_kw(&l, "TRUNCATE")) {
        lex_kw(&l, "TABLE");
        if (lex_table(&l, defdb, db, tbl, sizeof db) && (ti = find_table(c, db, tbl)) >= 0)
            return emit_change(c, SL_OP_TRUNCATE, ti, NULL, NULL, err);
        return 0;
    }
    if (lex_kw(&l, "ALTER")) {
        lex_kw(&l, "ONLINE");
        lex_kw(&l, "IGNORE");
        if (!lex_kw(&l, "TABLE"))
            return 0;
        if (lex_kw(&l, "IF"))
            lex_kw(&l, "EXISTS");
        if (!lex_table(&l, defdb, db, tbl, sizeof db) || (ti = find_table(c, db, tbl)) < 0)
            return 0;
        do {
            lex_t at = l;
            lex_space(&at);
            if (at.p >= at.end)
                break;
            if (!clause_ok(&at))
                return ddl_refused(c, ti, sql, n, err);
        } while (next_clause(&l));
        return 0;
    }
    bool drop = false, rename = false;
    if (lex_kw(&l, "DROP")) {
        lex_kw(&l, "TEMPORARY");
        if (lex_kw(&l, "DATABASE") || lex_kw(&l, "SCHEMA")) {
            if (lex_kw(&l, "IF"))
                lex_kw(&l, "EXISTS");
            if (lex_ident(&l, db, sizeof db))
                for (int i = 0; i < c->ntables; i++)
                    if (!strcmp(db_of(c, c->tables[i]), db))
                        return ddl_refused(c, i, sql, n, err);
            return 0;
        }
        drop = lex_kw(&l, "TABLE") || lex_kw(&l, "TABLES");
        if (drop && lex_kw(&l, "IF"))
            lex_kw(&l, "EXISTS");
    } else if (lex_kw(&l, "RENAME")) {
        rename = lex_kw(&l, "TABLE") || lex_kw(&l, "TABLES");
    } else if (lex_kw(&l, "CREATE")) {
        if (lex_kw(&l, "OR") && lex_kw(&l, "REPLACE")) {
            lex_kw(&l, "TEMPORARY");
            drop = lex_kw(&l, "TABLE");
        }
    }
    if (!drop && !rename)
        return 0;
    /* every table named (RENAME: both sides of each pair) */
    for (;;) {
        if (!lex_table(&l, defdb, db, tbl, sizeof db))
            return 0;
        if ((ti = find_table(c, db, tbl)) >= 0)
            return ddl_refused(c, ti, sql, n, err);
        if (rename && lex_kw(&l, "TO"))
            continue;
        lex_space(&l);
        if (l.p < l.end && *l.p == ',') {
            l.p++;
            continue;
        }
        return 0;
    }
}

/* ---- events --------------------------------------------------------------------- */

static int emit_begin(my_cdc_t *c, sl_err_t *err)
{
    if (c->begun)
        return 0;
    c->begun = true;
    c->idx = 0;
    sl_cdc_event_t ev = {.kind = SL_CDC_BEGIN, .xact_lsn = c->xact_lsn, .commit_us = c->commit_us,
                         .table = -1};
    return c->h->on_event(c->h->ctx, &ev, err);
}

static int emit_change(my_cdc_t *c, sl_change_op_t op, int table, const sl_value_t *row,
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

static void group_start(my_cdc_t *c, uint64_t at, uint32_t timestamp, bool standalone)
{
    c->in_group = true;
    c->saw_begin = false;
    c->begun = false;
    c->standalone = standalone;
    c->xact_lsn = at;
    c->commit_us = (int64_t)timestamp * 1000000;
    c->idx = 0;
}

static int group_end(my_cdc_t *c, uint64_t end, uint32_t timestamp, sl_err_t *err)
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

static tmap_ent_t *tmap_find(my_cdc_t *c, uint64_t id)
{
    for (int i = 0; i < c->ntmaps; i++)
        if (c->tmaps[i].id == id) {
            c->tmaps[i].used = ++c->tick;
            return &c->tmaps[i];
        }
    return NULL;
}

static void ensure_cells(my_cdc_t *c, int ncols)
{
    if (ncols > c->capcols) {
        free(c->before);
        free(c->after);
        c->before = calloc((size_t)ncols, sizeof *c->before);
        c->after = calloc((size_t)ncols, sizeof *c->after);
        if (!c->before || !c->after)
            abort();
        c->capcols = ncols;
    }
}

static void ensure_vals(my_cdc_t *c, int n)
{
    if (n > c->capvals) {
        free(c->oldv);
        free(c->newv);
        c->oldv = calloc((size_t)n, sizeof *c->oldv);
        c->newv = calloc((size_t)n, sizeof *c->newv);
        if (!c->oldv || !c->newv)
            abort();
        c->capvals = n;
    }
}

static int on_table_map(my_cdc_t *c, const sl_binlog_event_t *ev, sl_err_t *err)
{
    /* perf: the TABLE_MAP the entry holds already, sent again before the next statement */
    uint64_t same_id;
    tmap_ent_t *same;
    if (!sl_binlog_table_id(ev, &c->fmt, &same_id, NULL) && (same = tmap_find(c, same_id)) &&
        sl_binlog_tmap_same(same->tm, ev))
        return 0;
    sl_binlog_tmap_t *tm = NULL;
    if (sl_binlog_tmap_decode(ev, &c->fmt, &tm, err))
        return -1;
    tmap_ent_t *e = tmap_find(c, tm->table_id);
    if (!e) {
        if (c->ntmaps == MAX_TMAPS) { /* evict the least recently used */
            int lru = 0;
            for (int i = 1; i < c->ntmaps; i++)
                if (c->tmaps[i].used < c->tmaps[lru].used)
                    lru = i;
            sl_binlog_tmap_free(c->tmaps[lru].tm);
            free(c->tmaps[lru].map);
            c->tmaps[lru] = c->tmaps[--c->ntmaps];
        }
        tmap_ent_t *p = realloc(c->tmaps, sizeof *p * (size_t)(c->ntmaps + 1));
        if (!p)
            abort();
        c->tmaps = p;
        e = &c->tmaps[c->ntmaps++];
        memset(e, 0, sizeof *e);
        e->id = tm->table_id;
        e->used = ++c->tick;
    }
    sl_binlog_tmap_free(e->tm);
    e->tm = tm;
    e->t = NULL; /* mapped again at its first row */
    e->table = find_table(c, tm->db, tm->table);
    return 0;
}

static int columns_differ(my_cdc_t *c, tmap_ent_t *e, sl_err_t *err)
{
    const sl_table_t *t = c->tables[e->table];
    char label[300];
    sl_table_label(t, label, sizeof label);
    sl_buf_t a, b;
    sl_buf_init(&a, 64 * 1024);
    sl_buf_init(&b, 64 * 1024);
    for (int j = 0; j < e->tm->ncols; j++)
        sl_buf_printf(&a, NULL, "%s%.*s (type %u)", j ? ", " : "", (int)e->tm->cols[j].name.len,
                      e->tm->cols[j].name.p ? e->tm->cols[j].name.p : "?", e->tm->cols[j].type);
    for (int i = 0; i < t->ncolumns; i++)
        sl_buf_printf(&b, NULL, "%s%s %s", i ? ", " : "", t->columns[i].name,
                      t->columns[i].native ? t->columns[i].native : sl_type_name(t->columns[i].type));
    sl_err_set(err, SL_E_SCHEMA, "the columns of table \"%s\" in the binlog do not match the stream's", label);
    sl_err_detail(err, "the binlog has (%s); the stream's description has (%s)", a.data ? a.data : "",
                  b.data ? b.data : "");
    sl_err_hint(err, "%s", e->tm->has_names ? "run `sluice run --restart` to copy the table again with its new shape"
                                            : "SET GLOBAL binlog_row_metadata = 'FULL' so that the binlog names the columns");
    sl_buf_free(&a);
    sl_buf_free(&b);
    return -1;
}

/* Maps the entry's columns to the stream's table, telling the handler first when the
 * table changed (as pg_cdc.c does with a Relation message). */
static int tmap_map(my_cdc_t *c, tmap_ent_t *e, sl_err_t *err)
{
    const sl_table_t *t = c->tables[e->table];
    int *map = realloc(e->map, sizeof *map * (size_t)(t->ncolumns ? t->ncolumns : 1));
    if (!map)
        abort();
    e->map = map;
    if (!sl_binlog_map_columns(e->tm, t, map)) {
        e->t = t;
        return 0;
    }
    if (!e->tm->has_names)
        return columns_differ(c, e, err);
    const char **names = calloc((size_t)e->tm->ncols, sizeof *names);
    char *buf = malloc(e->tm->ncols * 65u * 4 + 1);
    if (!names || !buf)
        abort();
    size_t at = 0;
    for (int j = 0; j < e->tm->ncols; j++) {
        size_t len = e->tm->cols[j].name.len < 256 ? e->tm->cols[j].name.len : 255;
        memcpy(buf + at, e->tm->cols[j].name.p, len);
        buf[at + len] = '\0';
        names[j] = buf + at;
        at += len + 1;
        if (at + 256 > e->tm->ncols * 65u * 4)
            break;
    }
    sl_cdc_event_t ev = {.kind = SL_CDC_RELATION, .xact_lsn = c->xact_lsn, .commit_us = c->commit_us,
                         .table = e->table, .nrelcols = e->tm->ncols, .relcols = names};
    int rc = c->h->on_event(c->h->ctx, &ev, err);
    free(names);
    free(buf);
    if (rc)
        return rc;
    t = c->tables[e->table];
    map = realloc(e->map, sizeof *map * (size_t)(t->ncolumns ? t->ncolumns : 1));
    if (!map)
        abort();
    e->map = map;
    if (sl_binlog_map_columns(e->tm, t, map))
        return columns_differ(c, e, err);
    e->t = t;
    return 0;
}

static int on_rows(my_cdc_t *c, const sl_binlog_event_t *ev, sl_err_t *err)
{
    uint64_t id;
    if (sl_binlog_table_id(ev, &c->fmt, &id, err))
        return -1;
    tmap_ent_t *e = tmap_find(c, id);
    if (!e)
        return sl_err_set(err, SL_E_PROTOCOL, "a rows event for table id %" PRIu64 " without its TABLE_MAP", id);
    if (e->table < 0)
        return 0;
    if (e->t != c->tables[e->table] && tmap_map(c, e, err))
        return -1;
    sl_binlog_rows_t rows;
    if (sl_binlog_rows_decode(ev, &c->fmt, &rows, err))
        return -1;
    const sl_table_t *t = e->t;
    ensure_cells(c, e->tm->ncols);
    ensure_vals(c, t->ncolumns ? t->ncolumns : 1);
    int rc;
    while ((rc = sl_binlog_rows_next(&rows, e->tm, c->before, c->after, err)) == 1) {
        const sl_value_t *row = NULL, *old = NULL;
        if (rows.kind != 'I') {
            if (sl_binlog_row_values(e->tm, t, e->map, c->before, false, &c->arena_old, c->oldv, err))
                return -1;
            old = c->oldv;
        }
        if (rows.kind != 'D') {
            if (sl_binlog_row_values(e->tm, t, e->map, c->after, true, &c->arena_new, c->newv, err))
                return -1;
            row = c->newv;
        }
        sl_change_op_t op = rows.kind == 'I' ? SL_OP_INSERT : rows.kind == 'U' ? SL_OP_UPDATE : SL_OP_DELETE;
        if (emit_change(c, op, e->table, row, old, err))
            return -1;
    }
    return rc < 0 ? -1 : 0;
}

static bool query_is(const sl_binlog_event_t *ev, const char *word)
{
    lex_t l = {ev->query.sql, ev->query.sql + ev->query.sqllen};
    if (!lex_kw(&l, word))
        return false;
    lex_space(&l);
    return l.p >= l.end || *l.p == ';';
}

/* GTID mode: the group's position, after checking it belongs to the stream's domain
 * and comes after the last one. */
static int on_gtid(my_cdc_t *c, const sl_binlog_event_t *ev, uint64_t *start, sl_err_t *err)
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
    *start = sl_my_gtid_pos(c->domain, ev->gtid.seq);
    return 0;
}

static int no_gtid(my_cdc_t *c, sl_err_t *err)
{
    sl_err_set(err, SL_E_PROTOCOL, "a transaction without a GTID in the binlog of \"%s\"", c->rep.where);
    sl_err_hint(err, "use position=file in the source URL");
    return -1;
}

static int confirm(my_cdc_t *c, uint64_t server_end)
{
    if (c->h->confirm)
        c->h->confirm(c->h->ctx, server_end);
    c->last_confirm_ms = sl_mono_ms();
    return 0;
}

/* One decoded event. start/end: its position, 0 when the event is not in a file
 * (artificial, heartbeat). */
static int on_event(my_cdc_t *c, const sl_binlog_event_t *ev, sl_err_t *err)
{
    bool placed = ev->log_pos != 0 && !(ev->flags & SL_BL_F_ARTIFICIAL) && ev->log_pos >= ev->size;
    uint64_t end = placed ? pos_of(c->file, ev->log_pos) : 0;
    uint64_t start = placed ? pos_of(c->file, ev->log_pos - ev->size) : 0;
    if (c->gtid) /* a group's position is its GTID, from start to end */
        end = c->in_group ? c->xact_lsn : 0;
    switch (ev->type) {
    case SL_BL_ROTATE: {
        uint32_t num;
        char base[256];
        int digits;
        if (parse_file(ev->rotate.name, ev->rotate.namelen, base, sizeof base, &num, &digits))
            return sl_err_set(err, SL_E_PROTOCOL, "a ROTATE event to an unexpected file name \"%.*s\"",
                              (int)(ev->rotate.namelen > 200 ? 200 : ev->rotate.namelen), ev->rotate.name);
        c->file = num;
        snprintf(c->base_name, sizeof c->base_name, "%s", base);
        c->digits = digits;
        if (!c->gtid && !c->in_group && ev->rotate.pos <= UINT32_MAX &&
            pos_of(num, (uint32_t)ev->rotate.pos) > c->boundary)
            c->boundary = pos_of(num, (uint32_t)ev->rotate.pos);
        return 0;
    }
    case SL_BL_HEARTBEAT: {
        uint32_t num;
        if (!c->gtid && ev->heartbeat.namelen &&
            !parse_file(ev->heartbeat.name, ev->heartbeat.namelen, NULL, 0, &num, NULL) && num == c->file &&
            !c->in_group && ev->log_pos && pos_of(num, ev->log_pos) > c->boundary)
            c->boundary = pos_of(num, ev->log_pos);
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
        if (query_is(ev, "BEGIN")) {
            if (!c->in_group)
                group_start(c, start, ev->timestamp, false);
            c->saw_begin = true;
            return 0;
        }
        if (query_is(ev, "COMMIT") || query_is(ev, "ROLLBACK"))
            return c->in_group ? group_end(c, end, ev->timestamp, err) : 0;
        if (!c->in_group)
            group_start(c, start, ev->timestamp, true);
        if (on_ddl(c, ev, err))
            return -1;
        /* DDL forms a group alone (no BEGIN before it) */
        return c->saw_begin ? 0 : group_end(c, end, ev->timestamp, err);
    case SL_BL_XID:
        return c->in_group ? group_end(c, end, ev->timestamp, err) : 0;
    case SL_BL_TABLE_MAP:
        return on_table_map(c, ev, err);
    case SL_BL_WRITE_V1: case SL_BL_UPDATE_V1: case SL_BL_DELETE_V1:
    case SL_BL_WRITE_V2: case SL_BL_UPDATE_V2: case SL_BL_DELETE_V2:
        return on_rows(c, ev, err);
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

static int stream_fail(my_cdc_t *c, uint64_t at, sl_err_t *err)
{
    unsigned int no = mysql_errno(c->rep.db);
    const char *msg = mysql_error(c->rep.db);
    if (!no && c->rpl) {
        no = mariadb_rpl_errno(c->rpl);
        msg = mariadb_rpl_error(c->rpl);
    }
    char where[128];
    pos_text(c, at, where, sizeof where);
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

static int current_position(my_cdc_t *c, char *file, size_t size, uint32_t *off, sl_err_t *err)
{
    MYSQL_RES *res = NULL;
    if (sl_mysql_query(&c->my, "SHOW MASTER STATUS", &res, err))
        return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    int rc = 0;
    if (!row || !row[0] || !row[1]) {
        rc = sl_err_set(err, SL_E_CONFIG, "MySQL at \"%s\" reports no binlog position", c->my.where);
        char acct[300];
        sl_err_hint(err, "turn on log_bin (log_bin = ON in the server's configuration, then restart it), and GRANT %s "
                         "ON *.* TO %s",
                    c->my.mariadb && mysql_get_server_version(c->my.db) >= 100500 ? "BINLOG MONITOR"
                                                                                  : "REPLICATION CLIENT",
                    sl_mysql_account(c->my.account, acct, sizeof acct));
    } else {
        snprintf(file, size, "%s", row[0]);
        *off = (uint32_t)strtoul(row[1], NULL, 10);
    }
    mysql_free_result(res);
    return rc;
}

/* The stream's kind of position must be the one the URL asks for. */
static int check_kind(my_cdc_t *c, uint64_t start, sl_err_t *err)
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
static int gtid_connect_state(my_cdc_t *c, uint64_t start, char *state, size_t size, sl_err_t *err)
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
    snprintf(state, size, "%" PRIu32 "-%" PRIu32 "-%" PRIu64, c->domain, sid, c->last_seq);
    return 0;
}

static int start_dump(my_cdc_t *c, uint64_t start, sl_err_t *err)
{
    char file[512];
    uint32_t off = 0;
    char gstate[96];
    c->gtid = false;
    if (check_kind(c, start, err))
        return -1;
    if (current_position(c, file, sizeof file, &off, err))
        return -1;
    uint32_t num;
    if (parse_file(file, strlen(file), c->base_name, sizeof c->base_name, &num, &c->digits))
        return sl_err_set(err, SL_E_PROTOCOL, "unexpected binlog file name \"%s\"", file);
    if (sl_my_pos_is_gtid(start)) {
        if (gtid_connect_state(c, start, gstate, sizeof gstate, err))
            return -1;
        file[0] = '\0';
        off = 4;
    } else if (start) {
        if (start > pos_of(num, off)) { /* past the end of this server's binlog */
            char at[128], head[128];
            pos_text(c, start, at, sizeof at);
            pos_text(c, pos_of(num, off), head, sizeof head);
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
    c->boundary = c->gtid ? start : pos_of(num, off);

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
    };
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++)
        if (sl_mysql_exec(&c->rep, setup[i], err))
            return -1;
    if (c->gtid) {
        char sql[160];
        snprintf(sql, sizeof sql, "SET @slave_connect_state = '%s'", gstate);
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
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_FILENAME, file, strlen(file));
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_START, (unsigned long)off);
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_SERVER_ID, (unsigned int)c->server_id);
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_FLAGS, 0u);
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_VERIFY_CHECKSUM, 0u); /* binlog.c checks it */
    if (mariadb_rpl_open(c->rpl))
        return stream_fail(c, c->boundary, err);
    char at[128];
    pos_text(c, c->boundary, at, sizeof at);
    sl_debug("streaming the binlog of MySQL at \"%s\" from %s as replica %" PRIu32, c->rep.where, at,
             c->server_id);
    return 0;
}

static int stream_loop(my_cdc_t *c, sl_err_t *err)
{
    const sl_cdc_handler_t *h = c->h;
    c->last_confirm_ms = sl_mono_ms();
    for (;;) {
        if (h->stopping(h->ctx)) {
            confirm(c, c->boundary);
            char at[128];
            pos_text(c, c->boundary, at, sizeof at);
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
                pos_text(c, c->boundary, at, sizeof at);
                sl_err_prefix(err, "binlog after %s: ", at);
            }
            return -1;
        }
    }
}

static void stream_end(my_cdc_t *c)
{
    if (c->rpl)
        mariadb_rpl_close(c->rpl);
    c->rpl = NULL;
    sl_mysql_close(&c->rep); /* ends the dump on the server */
    tmaps_clear(c);
    c->tables = NULL;
    c->h = NULL;
}

static int my_stream(sl_cdc_t *base, uint64_t start, sl_table_t **tables, int n, const sl_cdc_handler_t *h,
                     sl_err_t *err)
{
    my_cdc_t *c = (my_cdc_t *)base;
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

const struct sl_cdc_ops sl_mysql_cdc_ops = {
    .name = "mysql",
    .slot = false,
    .open = my_open,
    .close = my_close,
    .check = my_check,
    .publication_ensure = my_nothing,
    .slot_state = my_slot_state,
    .slot_create = my_slot_create,
    .drop = my_drop,
    .stream = my_stream,
};
