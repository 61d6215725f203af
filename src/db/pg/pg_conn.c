/*
 * pg_conn.c: opening PostgreSQL connections and classifying PostgreSQL errors,
 * shared by the source and the target (see pg.h).
 *
 * The session settings applied after connecting are part of the type contract:
 * with them PostgreSQL's own text output already is sluice's canonical text for
 * dates, times, intervals, floats and bytea, so readers never reformat values.
 */
#include "db/pg/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "model/schema.h"

static const char session_sql[] =
    "SET DateStyle = ISO; SET IntervalStyle = iso_8601; SET extra_float_digits = 3; "
    "SET TimeZone = 'UTC'; SET client_encoding = 'UTF8'; SET bytea_output = 'hex'";

/* The first line of a libpq message, without libpq's own "connection to server at
 * ... failed: " preamble (our message already says where) and severity tag. */
static void first_line(const char *msg, char *out, size_t size)
{
    const char *p = msg ? msg : "";
    const char *f = strstr(p, " failed: ");
    if (f && strncmp(p, "connection to server", 20) == 0)
        p = f + 9;
    if (strncmp(p, "FATAL:  ", 8) == 0)
        p += 8;
    else if (strncmp(p, "ERROR:  ", 8) == 0)
        p += 8;
    size_t n = strcspn(p, "\n");
    snprintf(out, size, "%.*s", (int)n, p);
}

static void connect_fail(const sl_pg_t *pg, const char *libpq_msg, const char *dbname,
                         const char *user, sl_err_t *err)
{
    char line[400];
    first_line(libpq_msg, line, sizeof line);
    if (strstr(line, "database \"") && strstr(line, "does not exist")) {
        sl_err_set(err, SL_E_NOT_FOUND, "database \"%s\" does not exist on PostgreSQL at \"%s\"",
                   dbname, pg->where);
        sl_err_hint(err, "create it (CREATE DATABASE \"%s\") or fix the database in the URL path",
                    dbname);
        return;
    }
    sl_err_set(err, SL_E_CONNECT, "could not connect to PostgreSQL at \"%s\": %s", pg->where, line);
    if (strstr(line, "password authentication failed") || strstr(line, "no password supplied") ||
        strstr(line, "role \"") || strstr(line, "pg_hba.conf")) {
        /* Retrying cannot fix credentials. */
        err->fatal = true;
        err->retriable = false;
        if (strstr(line, "pg_hba.conf"))
            sl_err_hint(err, "the server's pg_hba.conf does not admit user \"%s\" from here",
                        user ? user : "");
        else
            sl_err_hint(err, SL_URL_HINT_PASSWORD);
    } else if (strstr(line, "could not translate host name") ||
               strstr(line, "Connection refused") || strstr(line, "timeout expired") ||
               strstr(line, "No such file or directory") || strstr(line, "No route to host")) {
        sl_err_hint(err, "check host and port; is the server running?");
    }
}

/* Server NOTICEs ("table does not exist, skipping") would otherwise go straight to
 * stderr through libpq's default processor, past our log and its progress display. */
static void on_notice(void *arg, const char *msg)
{
    sl_debug("postgres: %.*s", (int)strcspn(msg, "\n"), msg);
}

static char app_name[64] = "sluice";

void sl_pg_application_name(const char *name) { snprintf(app_name, sizeof app_name, "%s", name); }

int sl_pg_connect(const sl_url_t *url, sl_pg_t *pg, sl_err_t *err)
{
    memset(pg, 0, sizeof *pg);
    char port[16] = "";
    if (url->port)
        snprintf(port, sizeof port, "%d", url->port);
    const char *sslmode = sl_url_param(url, "sslmode");
    const char *schema = sl_url_param(url, "schema");
    const char *dbname = url->path && url->path[0] ? url->path : NULL;

    const char *keys[10], *vals[10];
    int n = 0;
    const char *kv[][2] = {
        {"host", url->host},          {"port", port},
        {"user", url->user},          {"password", url->password},
        {"dbname", dbname},           {"sslmode", sslmode},
        {"application_name", app_name}, {"connect_timeout", "10"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        if (kv[i][1] && kv[i][1][0]) {
            keys[n] = kv[i][0];
            vals[n++] = kv[i][1];
        }
    }
    keys[n] = vals[n] = NULL;

    char where[300];
    snprintf(where, sizeof where, "%s:%s", url->host ? url->host : "localhost",
             port[0] ? port : "5432");
    pg->where = sl_strdup(where);

    PGconn *conn = PQconnectdbParams(keys, vals, 0);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        connect_fail(pg, conn ? PQerrorMessage(conn) : "out of memory", dbname ? dbname : "",
                     url->user, err);
        PQfinish(conn);
        sl_pg_disconnect(pg);
        return -1;
    }
    pg->conn = conn;
    PQsetNoticeProcessor(conn, on_notice, NULL);
    pg->schema = sl_strdup(schema && schema[0] ? schema : "public");
    pg->user = sl_strdup(PQuser(conn));
    pg->dbname = sl_strdup(PQdb(conn));
    if (sl_pg_exec(pg, session_sql, err, "could not set up the PostgreSQL session")) {
        sl_pg_disconnect(pg);
        return -1;
    }
    return 0;
}

void sl_pg_disconnect(sl_pg_t *pg)
{
    if (!pg)
        return;
    if (pg->conn)
        PQfinish(pg->conn);
    free(pg->schema);
    free(pg->where);
    free(pg->user);
    free(pg->dbname);
    memset(pg, 0, sizeof *pg);
}

const char *sl_pg_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

int sl_pg_fail(sl_pg_t *pg, PGresult *res, sl_err_t *err, const char *what)
{
    const char *state = sl_pg_sqlstate(res);
    const char *prim = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char line[400];
    if (!prim) {
        first_line(PQerrorMessage(pg->conn), line, sizeof line);
        prim = line[0] ? line : "unknown error";
    }
    bool lost = !pg->conn || PQstatus(pg->conn) == CONNECTION_BAD || !strncmp(state, "08", 2);

    sl_errcode_t code = SL_E_INTERNAL;
    bool retry = false;
    if (lost || !strcmp(state, "57P01") || !strcmp(state, "57P02") || !strcmp(state, "57P03") ||
        !strcmp(state, "53300")) {
        code = SL_E_CONNECT; /* the server went away or is not taking connections */
        retry = true;
    } else if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")) {
        code = SL_E_CONFLICT; /* serialization failure, deadlock, lock timeout */
        retry = true;
    } else if (!strcmp(state, "42501")) {
        code = SL_E_PRIVILEGE;
    } else if (!strncmp(state, "22", 2) || !strncmp(state, "23", 2)) {
        code = SL_E_DATA;
    } else if (!strcmp(state, "0A000")) {
        code = SL_E_SCHEMA; /* e.g. TRUNCATE of a table other tables reference */
    } else if (!strcmp(state, "42P01") || !strcmp(state, "3F000") || !strcmp(state, "42704")) {
        code = SL_E_NOT_FOUND;
    } else if (!strncmp(state, "42", 2)) {
        code = SL_E_SCHEMA;
    } else if (!strcmp(state, "57014")) {
        code = SL_E_CANCELED;
    } else if (!strncmp(state, "53", 2)) {
        code = SL_E_LIMIT; /* disk full, out of memory: an operator must act */
    }
    sl_err_set(err, code, "%s: %s", what, prim);
    if (retry)
        sl_err_retriable(err);
    else if (err) {
        err->fatal = true;
        err->retriable = false;
    }
    const char *det = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
    if (det && state[0])
        sl_err_detail(err, "%s (SQLSTATE %s)", det, state);
    else if (det)
        sl_err_detail(err, "%s", det);
    else if (state[0])
        sl_err_detail(err, "SQLSTATE %s", state);
    if (hint)
        sl_err_hint(err, "%s", hint);
    else if (code == SL_E_PRIVILEGE)
        sl_err_hint(err, "GRANT the privilege named above to %s (as the object's owner or a "
                         "superuser)", pg->user ? pg->user : "the URL's user");
    else if (lost)
        sl_err_hint(err, "the connection to PostgreSQL at \"%s\" was lost; sluice retries",
                    pg->where ? pg->where : "?");
    PQclear(res);
    return -1;
}

PGresult *sl_pg_query(sl_pg_t *pg, const char *sql, int nparams, const char *const *params,
                      sl_err_t *err, const char *what)
{
    PGresult *res = nparams ? PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL, 0)
                            : PQexec(pg->conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    sl_pg_fail(pg, res, err, what);
    return NULL;
}

int sl_pg_exec(sl_pg_t *pg, const char *sql, sl_err_t *err, const char *what)
{
    PGresult *res = sl_pg_query(pg, sql, 0, NULL, err, what);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}
