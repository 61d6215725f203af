/*
 * mysql_db.c: opening a MariaDB/MySQL session the way sluice needs it, and mapping
 * server errors onto sl_err_t (see mysql_db.h).
 *
 * Every session gets the same settings whatever the server's defaults are, because
 * the value conversions depend on them: utf8mb4 text, UTC for TIMESTAMP columns, a
 * strict sql_mode (a bad value is an error, never a silent truncation or a zero
 * date), and network timeouts long enough for a streaming scan whose consumer
 * stalls on back-pressure.
 */
#include "db/mysql/mysql_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "model/schema.h" /* sl_strdup */

static const char *const session_sql[] = {
    "SET NAMES utf8mb4",
    "SET time_zone = '+00:00'",
    ("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,"
     "ERROR_FOR_DIVISION_BY_ZERO'"),
    "SET SESSION net_write_timeout = 3600, net_read_timeout = 3600",
};

/* How a server error number is classified. */
typedef struct errclass {
    unsigned int num;
    sl_errcode_t code;
    bool retriable;
} errclass_t;

static const errclass_t error_classes[] = {
    /* the connection went away or the server is busy: the same call may work later */
    {1040, SL_E_CONNECT, true},  /* too many connections */
    {1053, SL_E_CONNECT, true},  /* server shutdown in progress */
    {1317, SL_E_CONNECT, true},  /* query interrupted */
    {1927, SL_E_CONNECT, true},  /* connection killed */
    {2002, SL_E_CONNECT, true},  {2003, SL_E_CONNECT, true}, {2006, SL_E_CONNECT, true},
    {2013, SL_E_CONNECT, true},  {2055, SL_E_CONNECT, true},
    /* lock conflicts: the transaction was (or must be) rolled back; a retry usually
     * succeeds. sl_errcode_t has no "transient conflict" code; IO is the closest. */
    {1205, SL_E_IO, true},       /* lock wait timeout */
    {1213, SL_E_IO, true},       /* deadlock */
    /* privileges */
    {1044, SL_E_PRIVILEGE, false}, {1142, SL_E_PRIVILEGE, false},
    {1143, SL_E_PRIVILEGE, false}, {1227, SL_E_PRIVILEGE, false},
    {1370, SL_E_PRIVILEGE, false},
    /* missing objects */
    {1049, SL_E_NOT_FOUND, false}, {1146, SL_E_NOT_FOUND, false},
    {1054, SL_E_SCHEMA, false},    /* unknown column */
    {1071, SL_E_SCHEMA, false},    /* key too long */
    {1170, SL_E_SCHEMA, false},    /* BLOB/TEXT key without a length */
    /* values the target cannot hold or constraints they break */
    {1048, SL_E_DATA, false},  {1062, SL_E_DATA, false}, {1264, SL_E_DATA, false},
    {1265, SL_E_DATA, false},  {1292, SL_E_DATA, false}, {1364, SL_E_DATA, false},
    {1366, SL_E_DATA, false},  {1367, SL_E_DATA, false}, {1406, SL_E_DATA, false},
    {1416, SL_E_DATA, false},  {1451, SL_E_DATA, false}, {1452, SL_E_DATA, false},
    {1690, SL_E_DATA, false},  {3037, SL_E_DATA, false}, {3140, SL_E_DATA, false},
    {4025, SL_E_DATA, false},  /* CHECK constraint failed (MariaDB; JSON columns) */
};

int sl_mysql_fail_code(unsigned int errnum, const char *sqlstate, const char *msg,
                       const char *what, const char *database, const char *user,
                       sl_err_t *err)
{
    sl_errcode_t code = SL_E_INTERNAL;
    bool retriable = false;
    for (size_t i = 0; i < sizeof error_classes / sizeof error_classes[0]; i++) {
        if (error_classes[i].num == errnum) {
            code = error_classes[i].code;
            retriable = error_classes[i].retriable;
            break;
        }
    }
    sl_err_set(err, code, "could not %s: %s", what, msg && msg[0] ? msg : "unknown error");
    sl_err_detail(err, "MySQL error %u (SQLSTATE %s).", errnum,
                  sqlstate && sqlstate[0] ? sqlstate : "HY000");
    if (retriable)
        sl_err_retriable(err);
    else if (err)
        err->fatal = true, err->retriable = false;
    const char *db = database && database[0] ? database : "*";
    char u[300];
    sl_mysql_account(user, u, sizeof u);
    switch (errnum) {
    case 1044: case 1142: case 1143: case 1370:
        sl_err_hint(err, "grant the privilege named above, e.g. GRANT SELECT, INSERT, UPDATE, "
                         "DELETE, CREATE, DROP, INDEX, ALTER, REFERENCES ON `%s`.* TO %s", db, u);
        break;
    case 1227:
        sl_err_hint(err, "grant the global privilege named above, e.g. GRANT RELOAD ON *.* TO %s", u);
        break;
    case 1205: case 1213:
        sl_err_hint(err, "another session holds conflicting locks; the batch is retried");
        break;
    case 1062:
        sl_err_hint(err, "the target already holds a row with this key: use write_mode "
                         "\"upsert\" or \"truncate_insert\", or empty the table");
        break;
    case 1452:
        sl_err_hint(err, "the referenced row is missing in the target");
        break;
    default:
        break;
    }
    return -1;
}

/* Appends p[0..len) in single quotes (a quote doubled) to buf at n; returns the new n. */
static size_t quoted(char *buf, size_t n, size_t size, const char *p, size_t len)
{
    if (n + 1 < size)
        buf[n++] = '\'';
    for (size_t i = 0; i < len && n + 2 < size; i++) {
        if (p[i] == '\'')
            buf[n++] = '\'';
        buf[n++] = p[i];
    }
    if (n + 1 < size)
        buf[n++] = '\'';
    return n;
}

const char *sl_mysql_account(const char *who, char *buf, size_t size)
{
    if (!who || !who[0]) {
        snprintf(buf, size, "CURRENT_USER");
        return buf;
    }
    const char *at = strrchr(who, '@');
    const char *host = at ? at + 1 : "%";
    size_t n = quoted(buf, 0, size, who, at ? (size_t)(at - who) : strlen(who));
    if (n + 1 < size)
        buf[n++] = '@';
    n = quoted(buf, n, size, host, strlen(host));
    buf[n] = '\0';
    return buf;
}

int sl_mysql_fail(sl_mysql_t *my, sl_err_t *err, const char *what)
{
    if (!my->db)
        return sl_err_set(err, SL_E_INTERNAL, "could not %s: not connected", what);
    return sl_mysql_fail_code(mysql_errno(my->db), mysql_sqlstate(my->db), mysql_error(my->db),
                              what, my->database, my->account ? my->account : my->user, err);
}

/* Maps a failed mysql_real_connect(): the message names the server, the hint says
 * what to check. */
static int connect_fail(sl_mysql_t *my, sl_err_t *err)
{
    if (!err)
        return -1;
    unsigned int num = mysql_errno(my->db);
    const char *msg = mysql_error(my->db);
    sl_errcode_t code = num == 1049 ? SL_E_NOT_FOUND : num == 1044 ? SL_E_PRIVILEGE : SL_E_CONNECT;
    sl_err_set(err, code, "could not connect to MySQL at \"%s\": %s", my->where, msg);
    sl_err_detail(err, "MySQL error %u.", num);
    switch (num) {
    case 1045:
        sl_err_hint(err, SL_URL_HINT_PASSWORD);
        err->fatal = true, err->retriable = false;
        break;
    case 1049:
        sl_err_hint(err, "create the database (CREATE DATABASE `%s`) or fix the URL path",
                    my->database);
        break;
    case 1044: {
        char u[300];
        sl_mysql_account(my->user, u, sizeof u);
        sl_err_hint(err, "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER, REFERENCES ON `%s`.* "
                         "TO %s",
                    my->database, u);
        break;
    }
    case 2005:
        sl_err_hint(err, "unknown host: check the host name in the URL");
        err->fatal = true, err->retriable = false;
        break;
    case 2002: case 2003:
        sl_err_hint(err, "check the host and port; is the server running?");
        break;
    default:
        break;
    }
    return -1;
}

int sl_mysql_connect(const sl_url_t *url, sl_mysql_t *my, sl_err_t *err)
{
    memset(my, 0, sizeof *my);
    const char *host = url->host && url->host[0] ? url->host : "localhost";
    unsigned int port = url->port > 0 ? (unsigned int)url->port : 3306;
    snprintf(my->where, sizeof my->where, "%s:%u", host, port);
    my->database = sl_strdup(url->path ? url->path : "");
    my->user = sl_strdup(url->user);
    if (!my->database || !my->database[0]) {
        sl_mysql_close(my);
        sl_err_set(err, SL_E_CONFIG, "MySQL URL names no database");
        sl_err_hint(err, "put the database in the URL path: mysql://user@host:3306/DATABASE");
        return -1;
    }
    my->db = mysql_init(NULL);
    if (!my->db) {
        sl_mysql_close(my);
        return sl_err_set(err, SL_E_INTERNAL, "could not allocate a MySQL connection handle");
    }
    unsigned int timeout = 10;
    my_bool off = 0;
    mysql_optionsv(my->db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(my->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_optionsv(my->db, MYSQL_OPT_LOCAL_INFILE, &off);
    /* CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, not the rows it
     * changed, so the CDC target can tell "no such row" from "same values". */
    if (!mysql_real_connect(my->db, host, url->user, url->password, my->database, port, NULL,
                            CLIENT_FOUND_ROWS)) {
        connect_fail(my, err);
        sl_mysql_close(my);
        return -1;
    }
    for (size_t i = 0; i < sizeof session_sql / sizeof session_sql[0]; i++) {
        if (sl_mysql_exec(my, session_sql[i], err)) {
            sl_err_prefix(err, "MySQL at \"%s\": ", my->where);
            sl_mysql_close(my);
            return -1;
        }
    }
    const char *info = mysql_get_server_info(my->db);
    my->mariadb = info && strstr(info, "MariaDB") != NULL;
    char *mp = NULL;
    if (sl_mysql_query_value(my, "SELECT @@max_allowed_packet", &mp, err)) {
        sl_mysql_close(my);
        return -1;
    }
    my->max_packet = mp ? strtoul(mp, NULL, 10) : 0;
    free(mp);
    /* the account as the server knows it ("user@host"), for hints a GRANT can be pasted from */
    if (sl_mysql_query_value(my, "SELECT CURRENT_USER()", &my->account, err)) {
        sl_mysql_close(my);
        return -1;
    }
    if (my->max_packet < 65536)
        my->max_packet = 65536;
    sl_debug("connected to MySQL at %s (server %s, max_allowed_packet %lu)", my->where,
             info ? info : "?", my->max_packet);
    return 0;
}

void sl_mysql_close(sl_mysql_t *my)
{
    if (!my)
        return;
    if (my->db)
        mysql_close(my->db);
    free(my->database);
    free(my->user);
    free(my->account);
    memset(my, 0, sizeof *my);
}

int sl_mysql_exec(sl_mysql_t *my, const char *sql, sl_err_t *err)
{
    if (mysql_real_query(my->db, sql, strlen(sql)))
        return sl_mysql_fail(my, err, "run a statement");
    /* A statement that unexpectedly returns rows must not leave them pending. */
    MYSQL_RES *res = mysql_store_result(my->db);
    if (res)
        mysql_free_result(res);
    else if (mysql_field_count(my->db) != 0)
        return sl_mysql_fail(my, err, "read a result");
    return 0;
}

int sl_mysql_query(sl_mysql_t *my, const char *sql, MYSQL_RES **res, sl_err_t *err)
{
    *res = NULL;
    if (mysql_real_query(my->db, sql, strlen(sql)))
        return sl_mysql_fail(my, err, "run a query");
    *res = mysql_store_result(my->db);
    if (!*res)
        return sl_mysql_fail(my, err, "read a query result");
    return 0;
}

int sl_mysql_query_value(sl_mysql_t *my, const char *sql, char **out, sl_err_t *err)
{
    MYSQL_RES *res;
    *out = NULL;
    if (sl_mysql_query(my, sql, &res, err))
        return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && row[0]) {
        unsigned long *len = mysql_fetch_lengths(res);
        *out = malloc(len[0] + 1);
        if (!*out) {
            mysql_free_result(res);
            return sl_err_set(err, SL_E_LIMIT, "out of memory reading a query result");
        }
        memcpy(*out, row[0], len[0]);
        (*out)[len[0]] = '\0';
    }
    mysql_free_result(res);
    return 0;
}
