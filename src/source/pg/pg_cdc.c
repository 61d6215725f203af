/*
 * pg_cdc.c: PostgreSQL change data capture (source/cdc.h) with a logical replication
 * slot and the pgoutput plugin, protocol version 1: the ops table, the replication
 * connection, the names of the stream's slot and publication, positions and the state
 * recorded at the hand-over. pg_cdc.h lists the other files.
 *
 * The session options set at connect time (DateStyle, IntervalStyle, TimeZone,
 * extra_float_digits, bytea_output, lc_monetary, client_encoding) make the walsender
 * print values as the COPY path of pg_scan.c reads them (pg_cdc_stream.c does the
 * rest).
 *
 * State: {"slot": "<name>", "publication": "<name>"}, recorded at the hand-over, so
 * that a stream keeps its names whatever a later sluice would derive. A stream without
 * one that was handed over (legacy) uses the names an earlier sluice derived; a new
 * stream, names that cannot collide (sl_pg_cdc_name).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/log.h"
#include "core/mem.h"
#include "source/pg/pg_cdc.h"

/* How the walsender must print values: the settings db/pg/pg_conn.c SETs on normal
 * connections, plus lc_monetary=C so that money prints as "$1,234.56" whatever the
 * server's locale, and we can take it apart without guessing separators. */
static const char session_options[] =
    "-c DateStyle=ISO -c IntervalStyle=iso_8601 -c extra_float_digits=3 -c TimeZone=UTC "
    "-c bytea_output=hex -c lc_monetary=C";

#define PREFIX_MAX 40 /* of the readable part of a name: 7 + 40 + 1 + 12 <= 63 */
#define HASH_HEX 12

const struct sl_cdc_ops sl_pg_cdc_ops;

/* ---- names ----------------------------------------------------------------- */

void sl_pg_cdc_name(const char *stream, bool legacy, char *buf, size_t size)
{
    if (!size)
        return;
    const char *s = stream ? stream : "";
    size_t max = size - 1 < SL_PG_CDC_NAME_MAX ? size - 1 : SL_PG_CDC_NAME_MAX;
    size_t keep = legacy ? max : (max > 7 + 1 + HASH_HEX ? max - 7 - 1 - HASH_HEX : 0);
    if (!legacy && keep > PREFIX_MAX)
        keep = PREFIX_MAX;
    size_t n = (size_t)snprintf(buf, max + 1, "sluice_");
    if (n > max)
        n = max;
    for (size_t i = 0; s[i] && i < keep && n < max; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch - 'A' + 'a'); /* ASCII only, whatever the locale */
        buf[n++] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ? (char)ch : '_';
    }
    if (!legacy && n + 1 + HASH_HEX <= max) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL);
        buf[n++] = '_';
        for (int i = 0; i < HASH_HEX; i++)
            buf[n++] = "0123456789abcdef"[(md[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    }
    buf[n] = '\0';
}

/* A recorded name: what sl_pg_cdc_name makes, so it needs no quoting in option strings. */
static bool name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > SL_PG_CDC_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static int names_from_state(sl_pg_cdc_t *c, const char *state, sl_err_t *err)
{
    json_error_t je;
    json_t *j = json_loads(state, 0, &je);
    const char *slot = json_string_value(json_object_get(j, "slot"));
    const char *pub = json_string_value(json_object_get(j, "publication"));
    int rc = 0;
    if (name_ok(slot) && name_ok(pub)) {
        snprintf(c->slot, sizeof c->slot, "%s", slot);
        snprintf(c->pub, sizeof c->pub, "%s", pub);
    } else {
        rc = sl_cdc_bad_state(c->stream, state, "a replication slot and publication", err);
    }
    json_decref(j);
    return rc;
}

static char *pg_state(sl_cdc_t *base)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    json_t *j = json_pack("{s:s, s:s}", "slot", c->slot, "publication", c->pub);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s)
        sl_oom();
    return s;
}

/* ---- positions ------------------------------------------------------------- */

static void pg_pos_format(sl_cdc_t *base, uint64_t pos, char *buf, size_t size)
{
    (void)base;
    sl_lsn_format(pos, buf, size);
}

static int pg_pos_parse(const char *text, uint64_t *pos)
{
    return sl_lsn_parse(text, pos);
}

/* ---- connection ------------------------------------------------------------ */

void sl_pg_cdc_first_line(const char *msg, char *out, size_t size)
{
    const char *p = msg ? msg : "";
    const char *f = strstr(p, " failed: ");
    if (f && !strncmp(p, "connection to server", 20))
        p = f + 9;
    if (!strncmp(p, "FATAL:  ", 8) || !strncmp(p, "ERROR:  ", 8))
        p += 8;
    snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
}

static void connect_fail(const sl_url_t *u, const char *where, const char *msg, sl_err_t *err)
{
    char line[400];
    sl_pg_cdc_first_line(msg, line, sizeof line);
    const char *user = u->user ? u->user : "the URL's user";
    if (strstr(line, "replication role") || strstr(line, "permission denied to start WAL")) {
        sl_err_set(err, SL_E_PRIVILEGE,
                   "could not open a replication connection to PostgreSQL at \"%s\": %s", where,
                   line);
        sl_err_detail(err, "change data capture reads the changes through a replication slot");
        char role[300];
        sl_err_hint(err, "ALTER ROLE %s REPLICATION", sl_pg_role_text(u->user, role, sizeof role));
        return;
    }
    if (strstr(line, "max_wal_senders")) {
        sl_err_set(err, SL_E_CONFIG,
                   "could not open a replication connection to PostgreSQL at \"%s\": %s", where,
                   line);
        sl_err_hint(err, "raise max_wal_senders in postgresql.conf and restart the server, or "
                         "stop another replication client");
        sl_err_retriable(err); /* another sender may go away */
        return;
    }
    if (strstr(line, "database \"") && strstr(line, "does not exist")) {
        sl_err_set(err, SL_E_NOT_FOUND, "could not connect to PostgreSQL at \"%s\": %s", where,
                   line);
        sl_err_hint(err, "fix the database in the URL path");
        return;
    }
    sl_err_set(err, SL_E_CONNECT, "could not open a replication connection to PostgreSQL at \"%s\": %s",
               where, line);
    if (strstr(line, "password") || strstr(line, "role \"") || strstr(line, "pg_hba.conf")) {
        if (err) { /* retrying cannot fix credentials */
            err->fatal = true;
            err->retriable = false;
        }
        /* PostgreSQL names the client's address: "no pg_hba.conf entry for replication
         * connection from host "10.0.0.7", user "repl", …" */
        const char *from = strstr(line, "from host \"");
        int hlen = from ? (int)strcspn(from + 11, "\"") : 0;
        if (strstr(line, "pg_hba.conf") && from)
            sl_err_hint(err, "allow it in the server's pg_hba.conf, e.g. `host replication %s %.*s/32 scram-sha-256`, "
                             "then SELECT pg_reload_conf()",
                        user, hlen, from + 11);
        else if (strstr(line, "pg_hba.conf"))
            sl_err_hint(err, "allow replication connections of user \"%s\" in the server's pg_hba.conf", user);
        else
            sl_err_hint(err, SL_URL_HINT_PASSWORD);
    } else {
        sl_err_retriable(err);
        sl_err_hint(err, "check host and port; is the server running?");
    }
}

/* Server NOTICEs ("publication does not exist, skipping") go to our log, not to
 * stderr past the progress display. */
static void on_notice(void *arg, const char *msg)
{
    (void)arg;
    sl_debug("postgres: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* A replication=database connection with the canonical session options, filling
 * the sl_pg_t that pg.h's query and error helpers work on. */
static int rep_connect(const sl_url_t *u, sl_pg_t *pg, sl_err_t *err)
{
    memset(pg, 0, sizeof *pg);
    char port[16] = "";
    if (u->port)
        snprintf(port, sizeof port, "%d", u->port);
    const char *schema = sl_url_param(u, "schema");
    const char *kv[][2] = {
        {"host", u->host},
        {"port", port},
        {"user", u->user},
        {"password", u->password},
        {"dbname", u->path && u->path[0] ? u->path : NULL},
        {"sslmode", sl_url_param(u, "sslmode")},
        {"application_name", "sluice"},
        {"connect_timeout", "10"},
        {"replication", "database"},
        {"client_encoding", "UTF8"},
        {"options", session_options},
    };
    const char *keys[16], *vals[16];
    int n = 0;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (kv[i][1] && kv[i][1][0])
            keys[n] = kv[i][0], vals[n++] = kv[i][1];
    keys[n] = vals[n] = NULL;

    char where[300];
    snprintf(where, sizeof where, "%s:%s", u->host ? u->host : "localhost",
             port[0] ? port : "5432");
    PGconn *conn = PQconnectdbParams(keys, vals, 0);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        connect_fail(u, where, conn ? PQerrorMessage(conn) : "out of memory", err);
        PQfinish(conn);
        return -1;
    }
    pg->conn = conn;
    PQsetNoticeProcessor(conn, on_notice, NULL);
    pg->where = sl_strdup(where);
    pg->schema = sl_strdup(schema && schema[0] ? schema : "public");
    pg->user = sl_strdup(PQuser(conn));
    pg->dbname = sl_strdup(PQdb(conn));
    return 0;
}

static int pg_open(const char *url, const sl_cdc_id_t *id, sl_cdc_t **out, sl_err_t *err)
{
    sl_pg_cdc_t *c = calloc(1, sizeof *c);
    if (!c)
        sl_oom();
    c->base.ops = &sl_pg_cdc_ops;
    snprintf(c->stream, sizeof c->stream, "%s", id->stream ? id->stream : "");
    c->legacy = id->legacy && !id->state;
    c->cut_short = id->cut_short;
    if (id->state) {
        if (names_from_state(c, id->state, err)) {
            free(c);
            return -1;
        }
    } else {
        sl_pg_cdc_name(c->stream, c->legacy, c->slot, sizeof c->slot);
        snprintf(c->pub, sizeof c->pub, "%s", c->slot);
    }
    sl_url_t *u;
    if (sl_url_parse(url, &u, err)) {
        free(c);
        return -1;
    }
    int rc = rep_connect(u, &c->pg, err);
    sl_url_free(u);
    if (rc) {
        free(c);
        return -1;
    }
    c->version = PQserverVersion(c->pg.conn);
    *out = &c->base;
    return 0;
}

static void pg_close(sl_cdc_t *base)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    if (!c)
        return;
    sl_pg_cdc_stream_free(c);
    sl_pg_disconnect(&c->pg);
    free(c);
}

/* ---- SQL helpers (simple protocol only: this is a walsender) --------------- */

const char *sl_pg_cdc_schema(const sl_pg_cdc_t *c, const sl_table_t *t)
{
    return t->schema && t->schema[0] ? t->schema : c->pg.schema;
}

int sl_pg_cdc_add_lit(sl_buf_t *b, const char *s, sl_err_t *err)
{
    return sl_pg_add_literal(b, s, strlen(s), err);
}

PGresult *sl_pg_cdc_query(sl_pg_cdc_t *c, const sl_buf_t *sql, sl_err_t *err, const char *what)
{
    return sl_pg_query(&c->pg, sql->data, 0, NULL, err, what);
}

static int pg_check(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_err_t *err)
{
    sl_pg_cdc_t *c = (sl_pg_cdc_t *)base;
    return sl_pg_cdc_check_server(c, err) || sl_pg_cdc_check_tables(c, tables, n, err) ? -1 : 0;
}

const struct sl_cdc_ops sl_pg_cdc_ops = {
    .name = "postgres",
    .byte_positions = true,
    .open = pg_open,
    .close = pg_close,
    .check = pg_check,
    .prepare = sl_pg_cdc_prepare,
    .state = pg_state,
    .start = sl_pg_cdc_start,
    .forget = sl_pg_cdc_forget,
    .pos_format = pg_pos_format,
    .pos_parse = pg_pos_parse,
    .stream = sl_pg_cdc_stream,
    .pos_next = sl_pg_cdc_pos_next,
    .snap_take = sl_pg_cdc_snap_take,
    .snap_done = sl_pg_cdc_snap_done,
    .ping = sl_pg_cdc_ping,
    .publish = sl_pg_cdc_publish_op,
    .key_ordered = sl_pg_cdc_key_ordered,
};
