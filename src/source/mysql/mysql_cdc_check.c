/*
 * mysql_cdc_check.c: what MariaDB/MySQL change data capture needs of the server,
 * checked before anything is read, each failure an error with the fix as its hint: a
 * row-based binary log with full row images and column names (no compression, no
 * partial JSON), the replication privileges, a replica server id nobody else uses,
 * and the tables.
 */
#define _GNU_SOURCE /* strcasestr */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "source/mysql/mysql_cdc.h"

/* SHOW GLOBAL VARIABLES for the names given, into vals (NULL when the server lacks
 * one); caller frees each. */
static int variables(sl_my_cdc_t *c, const char *const *names, char **vals, int n, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SL_MY_CDC_SQL_MAX);
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

static int check_server(sl_my_cdc_t *c, sl_err_t *err)
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


/* The privilege that lets an account read the binlog position: BINLOG MONITOR since
 * MariaDB 10.5 (split off REPLICATION CLIENT), REPLICATION CLIENT before and on MySQL. */
static const char *binlog_monitor(const sl_my_cdc_t *c)
{
    return c->my.mariadb && mysql_get_server_version(c->my.db) >= 100500 ? "BINLOG MONITOR" : "REPLICATION CLIENT";
}

static int check_grants(sl_my_cdc_t *c, sl_err_t *err)
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
    const char *monitor = binlog_monitor(c);
    sl_err_set(err, SL_E_PRIVILEGE, "user \"%s\" lacks the %s privilege on MySQL at \"%s\"", user,
               !slave ? "REPLICATION SLAVE" : monitor, c->my.where);
    sl_err_detail(err, "change data capture reads the binlog as a replica and asks for the current "
                       "binlog position");
    char acct[300];
    sl_err_hint(err, "GRANT REPLICATION SLAVE, %s ON *.* TO %s", monitor,
                sl_mysql_account(c->my.account, acct, sizeof acct));
    return -1;
}

/* Two binlog dumps with one server id knock each other off (the server ends the older
 * one), so a run never connects while another replica with its id is registered
 * (SHOW SLAVE HOSTS, which needs a privilege we do not insist on: without it, a
 * collision shows as error 4052 on the dump, stream_fail()). */
int sl_my_cdc_check_replicas(sl_my_cdc_t *c, sl_err_t *err)
{
    MYSQL_RES *res = NULL;
    sl_err_t ignore;
    if (sl_mysql_query(&c->my, "SHOW SLAVE HOSTS", &res, &ignore))
        return 0;
    MYSQL_ROW row;
    int rc = 0;
    while (!rc && (row = mysql_fetch_row(res)))
        if (row[0] && strtoul(row[0], NULL, 10) == c->server_id) {
            bool same = row[1] && !strcmp(row[1], c->label);
            rc = sl_err_set(err, SL_E_CONFLICT, "replica server id %" PRIu32 " of stream \"%s\" is in use on MySQL "
                            "at \"%s\" by %s\"%s\"", c->server_id, c->stream, c->my.where,
                            same ? "" : "replica ", row[1] ? row[1] : "?");
            if (same) {
                sl_err_detail(err, "another run of this stream reads the binlog (or this run's connection before, "
                                   "which the server has not ended yet)");
                sl_err_hint(err, "stop the other run of stream \"%s\"; sluice retries", c->stream);
                sl_err_retriable(err);
            } else {
                sl_err_detail(err, "two binlog readers with one server id knock each other off; sluice does not "
                                   "connect while the other one reads");
                const char *who = row[1] ? row[1] : "?";
                if (!strncmp(who, "sluice:", 7))
                    sl_err_hint(err, "give one of the two streams another name (a new name copies its tables "
                                     "again): the replica server id derives from it");
                else
                    sl_err_hint(err, "rename this stream (a new name copies the tables again), or change the "
                                     "server_id of replica \"%s\"", who);
                if (err)
                    err->fatal = true;
            }
        }
    mysql_free_result(res);
    return rc;
}

static int check_tables(sl_my_cdc_t *c, sl_table_t *const *tables, int n, sl_err_t *err)
{
    for (int i = 0; i < n; i++) {
        sl_buf_t b;
        sl_buf_init(&b, SL_MY_CDC_SQL_MAX);
        const char *db = sl_my_cdc_db(c, tables[i]);
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

int sl_my_cdc_check(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_err_t *err)
{
    sl_my_cdc_t *c = (sl_my_cdc_t *)base;
    return check_server(c, err) || check_grants(c, err) || sl_my_cdc_check_replicas(c, err) ||
                   check_tables(c, tables, n, err)
               ? -1
               : 0;
}

int sl_my_cdc_master_status(sl_my_cdc_t *c, char *file, size_t size, uint32_t *off, sl_err_t *err)
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
                    binlog_monitor(c), sl_mysql_account(c->my.account, acct, sizeof acct));
    } else {
        snprintf(file, size, "%s", row[0]);
        *off = (uint32_t)strtoul(row[1], NULL, 10);
    }
    mysql_free_result(res);
    return rc;
}
