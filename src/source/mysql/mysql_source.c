/*
 * mysql_source.c: the MariaDB/MySQL source ops (source.h): connection, table list,
 * the shared snapshot for parallel readers, key ranges and streaming scans.
 *
 * MariaDB cannot export a snapshot to other sessions. Parallel readers therefore
 * all start START TRANSACTION WITH CONSISTENT SNAPSHOT while the coordinator holds
 * FLUSH TABLES WITH READ LOCK (which needs RELOAD), so no commit can fall between
 * them; without that privilege the load uses one reader, the coordinator itself.
 *
 * Scans stream with mysql_use_result(): memory stays bounded whatever the table
 * size, and values are handed to the callback straight from the driver's row
 * buffer unless they need rewriting into canonical form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/log.h"
#include "source/mysql/gtid.h"
#include "source/mysql/mysql_source.h"

#define SQL_MAX (1u << 20)

static int my_connect(const sl_url_t *url, sl_source_t **out, sl_err_t *err)
{
    sl_mysql_src_t *src = calloc(1, sizeof *src);
    if (!src)
        return sl_err_set(err, SL_E_LIMIT, "out of memory opening a MySQL source");
    sl_my_posmode_t mode;
    if (sl_my_posmode_parse(url, &mode, err) || sl_mysql_connect(url, &src->my, err)) {
        free(src);
        return -1;
    }
    src->posmode = (int)mode;
    src->base.ops = &sl_mysql_source_ops;
    *out = &src->base;
    return 0;
}

static void my_close(sl_source_t *base)
{
    sl_mysql_src_t *src = (sl_mysql_src_t *)base;
    if (!src)
        return;
    sl_mysql_close(&src->my);
    free(src);
}

static int my_list_tables(sl_source_t *base, char ***names, int *n, sl_err_t *err)
{
    sl_mysql_src_t *src = (sl_mysql_src_t *)base;
    *names = NULL;
    *n = 0;
    sl_buf_t sql;
    sl_buf_init(&sql, SQL_MAX);
    MYSQL_RES *res = NULL;
    int rc = -1;
    /* SYSTEM VERSIONED is MariaDB's name for a base table with history. */
    if (sl_buf_adds(&sql, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ",
                    err) ||
        sl_mysql_add_string(&sql, src->my.database, strlen(src->my.database), err) ||
        sl_buf_adds(&sql, " AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')"
                          " AND TABLE_NAME NOT IN ('_sluice_checkpoint', '_sluice_rejects') ORDER BY TABLE_NAME", err) ||
        sl_mysql_query(&src->my, sql.data, &res, err))
        goto out;
    char **v = calloc(mysql_num_rows(res) + 1, sizeof *v);
    if (!v) {
        sl_err_set(err, SL_E_LIMIT, "out of memory listing tables");
        goto out;
    }
    MYSQL_ROW row;
    int count = 0;
    while ((row = mysql_fetch_row(res)) != NULL)
        v[count++] = sl_strdup(row[0]);
    *names = v;
    *n = count;
    mysql_free_result(res);
    res = NULL;
    /* views are copied only when named: say which ones are skipped, in one line */
    sl_buf_reset(&sql);
    if (sl_buf_adds(&sql, "SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME SEPARATOR ', '), COUNT(*) "
                          "FROM information_schema.TABLES WHERE TABLE_TYPE = 'VIEW' AND TABLE_SCHEMA = ", err) ||
        sl_mysql_add_string(&sql, src->my.database, strlen(src->my.database), err) ||
        sl_mysql_query(&src->my, sql.data, &res, err))
        goto out;
    row = mysql_fetch_row(res);
    if (row && row[0] && row[1] && strcmp(row[1], "0"))
        sl_info("skipping %s view%s of database \"%s\" (name a view in source.tables to copy it as a table): %s",
                row[1], strcmp(row[1], "1") ? "s" : "", src->my.database, row[0]);
    rc = 0;
out:
    if (res)
        mysql_free_result(res);
    sl_buf_free(&sql);
    return rc;
}

static int start_snapshot(sl_mysql_t *my, sl_err_t *err)
{
    if (sl_mysql_exec(my, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", err) ||
        sl_mysql_exec(my, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", err)) {
        sl_err_prefix(err, "starting the snapshot: ");
        return -1;
    }
    return 0;
}

/* "mysql-bin.000012" and 1234 -> 12 << 32 | 1234 (source/cdc.h); 0 when not a binlog name. */
static uint64_t binlog_pos(const char *file, const char *offset)
{
    const char *dot = file ? strrchr(file, '.') : NULL;
    if (!dot || !dot[1] || !offset)
        return 0;
    char *end;
    unsigned long long num = strtoull(dot + 1, &end, 10), off = strtoull(offset, NULL, 10);
    if (*end || num > UINT32_MAX || off > UINT32_MAX)
        return 0;
    return (uint64_t)num << 32 | off;
}

/* The binlog position of SHOW MASTER STATUS (0 when binary logging is off). */
static int master_pos(sl_mysql_t *my, uint64_t *pos, sl_err_t *err)
{
    MYSQL_RES *res = NULL;
    *pos = 0;
    if (sl_mysql_query(my, "SHOW MASTER STATUS", &res, err))
        return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && row[0] && row[1])
        *pos = binlog_pos(row[0], row[1]);
    mysql_free_result(res);
    return 0;
}

/* MariaDB: the binlog file and offset of this connection's consistent snapshot
 * (*file NULL on a server that reports none; caller frees). */
static int snapshot_file_pos(sl_mysql_src_t *src, char **file, uint64_t *pos, sl_err_t *err)
{
    MYSQL_RES *res = NULL;
    char *off = NULL;
    *file = NULL;
    *pos = 0;
    if (sl_mysql_query(&src->my, "SHOW STATUS LIKE 'binlog_snapshot_%'", &res, err))
        return -1;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        if (row[0] && row[1] && !strcasecmp(row[0], "Binlog_snapshot_file"))
            *file = sl_strdup(row[1]);
        else if (row[0] && row[1] && !strcasecmp(row[0], "Binlog_snapshot_position"))
            off = sl_strdup(row[1]);
    }
    mysql_free_result(res);
    *pos = binlog_pos(*file, off);
    free(off);
    return 0;
}

static int my_snapshot_position(sl_source_t *base, uint64_t *pos, sl_err_t *err)
{
    sl_mysql_src_t *src = (sl_mysql_src_t *)base;
    char *file = NULL;
    *pos = 0;
    /* the stream's kind of position (gtid.h): an error here when position=gtid cannot be */
    bool gtid = false;
    uint32_t domain = 0;
    if (sl_my_gtid_mode(&src->my, (sl_my_posmode_t)src->posmode, &gtid, &domain, err))
        return -1;
    /* MariaDB: the binlog position of this connection's consistent snapshot */
    if (snapshot_file_pos(src, &file, pos, err))
        return -1;
    /* a stream with GTID positions starts at the GTID of that binlog position */
    int rc = *pos && gtid ? sl_my_gtid_at(&src->my, file, (uint32_t)*pos, domain, pos, err) : 0;
    free(file);
    if (rc)
        return -1;
    if (!*pos)
        *pos = src->lock_pos; /* MySQL (never GTID): what SHOW MASTER STATUS said under the lock */
    if (!*pos) {
        sl_err_set(err, SL_E_CONFIG, "the binlog position of the snapshot is unknown");
        sl_err_detail(err, "binary logging is off, or this server reports no Binlog_snapshot_file and "
                           "FLUSH TABLES WITH READ LOCK was not allowed");
        char u[300];
        sl_err_hint(err, "turn on log_bin (log_bin = ON in the server's configuration, then restart it), or "
                         "GRANT RELOAD ON *.* TO %s",
                    sl_mysql_account(src->my.account, u, sizeof u));
        return -1;
    }
    return 0;
}

static int my_snapshot_export(sl_source_t *base, char **token, int *max_readers, sl_err_t *err)
{
    sl_mysql_src_t *src = (sl_mysql_src_t *)base;
    sl_err_t ferr;
    *token = NULL;
    /* FTWRL waits for running statements and blocks every writer meanwhile: do not
     * wait long behind a slow query, fall back to one reader instead. */
    if (sl_mysql_exec(&src->my, "SET SESSION lock_wait_timeout = 10", err))
        return -1;
    int frc = sl_mysql_exec(&src->my, "FLUSH TABLES WITH READ LOCK", &ferr);
    if (sl_mysql_exec(&src->my, "SET SESSION lock_wait_timeout = DEFAULT", err))
        return -1;
    if (frc == 0) {
        src->ftwrl = true;
        /* for a cdc hand-over (snapshot_position); a plain load does not need it, so a
         * missing privilege (BINLOG MONITOR) is no reason to fail here */
        sl_err_t ignored;
        if (master_pos(&src->my, &src->lock_pos, &ignored))
            src->lock_pos = 0;
        *token = sl_strdup("ftwrl");
        *max_readers = 64;
        sl_info("MySQL snapshot: parallel readers share one consistent snapshot, taken under "
                "FLUSH TABLES WITH READ LOCK");
        return 0;
    }
    if (ferr.code == SL_E_CONNECT) {
        *err = ferr;
        return -1;
    }
    char u[300];
    sl_warn("MySQL snapshot: the load uses one reader connection because FLUSH TABLES WITH "
            "READ LOCK failed (%s); it needs the RELOAD privilege (GRANT RELOAD ON *.* TO %s)",
            ferr.message, sl_mysql_account(src->my.account, u, sizeof u));
    if (start_snapshot(&src->my, err))
        return -1;
    *token = sl_strdup("single");
    *max_readers = 1;
    sl_info("MySQL snapshot: single reader in its own consistent snapshot");
    return 0;
}

static int my_snapshot_import(sl_source_t *base, const char *token, sl_err_t *err)
{
    sl_mysql_src_t *src = (sl_mysql_src_t *)base;
    if (!token || (strcmp(token, "ftwrl") != 0 && strcmp(token, "single") != 0)) {
        sl_err_set(err, SL_E_CONFIG, "unknown MySQL snapshot token \"%s\"", token ? token : "");
        sl_err_hint(err, "the token must come from snapshot_export of a MySQL source");
        return -1;
    }
    return start_snapshot(&src->my, err);
}

static int my_snapshot_release(sl_source_t *base, sl_err_t *err)
{
    sl_mysql_src_t *src = (sl_mysql_src_t *)base;
    if (!src->ftwrl)
        return 0; /* "single": this connection already reads inside its snapshot */
    /* Join the snapshot while the lock still holds, so this connection can read
     * too; UNLOCK TABLES does not end a transaction started after FTWRL. */
    if (start_snapshot(&src->my, err))
        return -1;
    if (sl_mysql_exec(&src->my, "UNLOCK TABLES", err))
        return -1;
    src->ftwrl = false;
    sl_info("MySQL snapshot: released FLUSH TABLES WITH READ LOCK");
    return 0;
}

int sl_mysql_src_copy_snapshot(sl_source_t *base, uint64_t *pos, sl_err_t *err)
{
    sl_mysql_src_t *src = (sl_mysql_src_t *)base;
    char *file = NULL;
    *pos = 0;
    if (src->my.mariadb) { /* its consistent snapshot says its own binlog position */
        int rc = start_snapshot(&src->my, err) || snapshot_file_pos(src, &file, pos, err) ? -1 : 0;
        free(file);
        if (rc == 0 && !*pos)
            rc = sl_err_set(err, SL_E_CONFIG, "MariaDB reports no binlog position for a consistent snapshot");
        return rc;
    }
    /* MySQL: the position seen under a brief FLUSH TABLES WITH READ LOCK */
    char *token = NULL;
    int maxr;
    src->lock_pos = 0;
    int rc = my_snapshot_export(base, &token, &maxr, err) || my_snapshot_release(base, err) ? -1 : 0;
    free(token);
    *pos = src->lock_pos;
    if (rc == 0 && !*pos) {
        rc = sl_err_set(err, SL_E_CONFIG, "the binlog position of a snapshot to copy in is unknown");
        sl_err_detail(err, "MySQL reports it only under FLUSH TABLES WITH READ LOCK, which was refused");
        sl_err_hint(err, "grant RELOAD (GRANT RELOAD ON *.* TO the user)");
    }
    return rc;
}

static int add_table_ref(sl_buf_t *b, const sl_mysql_t *my, const sl_table_t *t, sl_err_t *err)
{
    if (sl_mysql_add_ident(b, my->database, err) || sl_buf_addc(b, '.', err))
        return -1;
    return sl_mysql_add_ident(b, t->name, err);
}

static int my_key_range(sl_source_t *base, const sl_table_t *t, int64_t *min, int64_t *max,
                        bool *has_rows, sl_err_t *err)
{
    sl_mysql_src_t *src = (sl_mysql_src_t *)base;
    *has_rows = false;
    int k = sl_table_pk_col(t, 0);
    if (sl_table_pk_count(t) != 1 || k < 0 || !sl_type_is_integer(t->columns[k].type))
        return sl_err_set(err, SL_E_INTERNAL,
                          "key_range needs a one-column integer primary key (table \"%s\")",
                          t->name);
    const char *col = t->columns[k].name;
    sl_buf_t sql;
    sl_buf_init(&sql, SQL_MAX);
    MYSQL_RES *res = NULL;
    int rc = -1;
    if (sl_buf_adds(&sql, "SELECT MIN(", err) || sl_mysql_add_ident(&sql, col, err) ||
        sl_buf_adds(&sql, "), MAX(", err) || sl_mysql_add_ident(&sql, col, err) ||
        sl_buf_adds(&sql, ") FROM ", err) || add_table_ref(&sql, &src->my, t, err) ||
        sl_mysql_query(&src->my, sql.data, &res, err))
        goto out;
    MYSQL_ROW row = mysql_fetch_row(res);
    rc = 0;
    if (row && row[0] && row[1]) {
        /* BIGINT UNSIGNED keys above INT64_MAX do not fit the interface. */
        if (row[1][0] != '-' && strtoull(row[1], NULL, 10) > (unsigned long long)INT64_MAX) {
            rc = sl_err_set(err, SL_E_LIMIT, "key of table \"%s\" exceeds the int64 range",
                            t->name);
            sl_err_detail(err, "Largest %s is %s.", col, row[1]);
            goto out;
        }
        *min = strtoll(row[0], NULL, 10);
        *max = strtoll(row[1], NULL, 10);
        *has_rows = true;
    }
out:
    if (res)
        mysql_free_result(res);
    sl_buf_free(&sql);
    return rc;
}

/* Appends a key bound value as a literal the server compares in the column's own
 * type: integers and decimals bare (a quoted string would compare as DOUBLE and
 * go wrong past 2^53), bits as b'..', bytes as x'..', the rest as strings. */
static int add_key_literal(sl_buf_t *b, const sl_column_t *c, const char *p, size_t n,
                           sl_err_t *err)
{
    switch (c->type) {
    case SL_T_INT16: case SL_T_INT32: case SL_T_INT64: case SL_T_UINT64:
        if (!sl_mysql_is_integer(p, n))
            goto bad;
        return sl_buf_add(b, p, n, err);
    case SL_T_DECIMAL: case SL_T_FLOAT32: case SL_T_FLOAT64:
        if (!sl_mysql_is_float(p, n))
            goto bad;
        return sl_buf_add(b, p, n, err);
    case SL_T_BIT:
        if (strspn(p, "01") != n)
            goto bad;
        return sl_buf_adds(b, "b'", err) || sl_buf_add(b, p, n, err) || sl_buf_addc(b, '\'', err);
    case SL_T_BYTES: case SL_T_GEOMETRY:
        return sl_mysql_add_hex(b, p, n, err);
    case SL_T_TIMESTAMPTZ:
        if (n >= 3 && memcmp(p + n - 3, "+00", 3) == 0)
            n -= 3;
        return sl_mysql_add_string(b, p, n, err);
    default:
        return sl_mysql_add_string(b, p, n, err);
    }
bad:
    sl_err_set(err, SL_E_PROTOCOL, "bad key bound \"%.*s\" for column \"%s\"", (int)n, p, c->name);
    return -1;
}

/* Appends "`k1` op1 v1 AND (`k1`, `k2`...) op (v1, v2...)": the row comparison is
 * exact, the leading single-column term lets the optimizer use a range on the
 * primary key (MariaDB does not turn a row comparison into a range by itself). */
static int add_bound(sl_buf_t *b, const sl_table_t *t, const char *json, const char *op1,
                     const char *op, sl_err_t *err)
{
    int npk = sl_table_pk_count(t);
    json_error_t jerr;
    json_t *arr = json_loads(json, JSON_DECODE_ANY, &jerr);
    sl_buf_t *lits = calloc((size_t)(npk > 0 ? npk : 1), sizeof *lits);
    int rc = -1;
    if (!lits) {
        json_decref(arr);
        return sl_err_set(err, SL_E_LIMIT, "out of memory building a scan");
    }
    for (int i = 0; i < npk; i++)
        sl_buf_init(&lits[i], SQL_MAX);
    if (!arr || !json_is_array(arr) || (int)json_array_size(arr) != npk) {
        sl_err_set(err, SL_E_PROTOCOL, "bad key bound %s for table \"%s\"", json, t->name);
        sl_err_detail(err, "Expected a JSON array of %d primary key values.", npk);
        goto free_lits;
    }
    for (int i = 0; i < npk; i++) {
        const sl_column_t *c = &t->columns[sl_table_pk_col(t, i)];
        json_t *v = json_array_get(arr, (size_t)i);
        char num[64];
        const char *p;
        size_t n;
        if (json_is_string(v)) {
            p = json_string_value(v);
            n = json_string_length(v);
        } else if (json_is_integer(v)) {
            n = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            p = num;
        } else if (json_is_real(v)) {
            n = (size_t)snprintf(num, sizeof num, "%.17g", json_real_value(v));
            p = num;
        } else {
            sl_err_set(err, SL_E_PROTOCOL, "bad key bound %s for table \"%s\": NULL key value",
                       json, t->name);
            goto free_lits;
        }
        if (add_key_literal(&lits[i], c, p, n, err))
            goto free_lits;
    }
    const sl_column_t *k1 = &t->columns[sl_table_pk_col(t, 0)];
    if (sl_mysql_add_ident(b, k1->name, err) || sl_buf_printf(b, err, " %s ", npk > 1 ? op1 : op) ||
        sl_buf_adds(b, lits[0].data, err))
        goto free_lits;
    if (npk > 1) {
        if (sl_buf_adds(b, " AND (", err))
            goto free_lits;
        for (int i = 0; i < npk; i++)
            if ((i && sl_buf_adds(b, ", ", err)) ||
                sl_mysql_add_ident(b, t->columns[sl_table_pk_col(t, i)].name, err))
                goto free_lits;
        if (sl_buf_printf(b, err, ") %s (", op))
            goto free_lits;
        for (int i = 0; i < npk; i++)
            if ((i && sl_buf_adds(b, ", ", err)) || sl_buf_adds(b, lits[i].data, err))
                goto free_lits;
        if (sl_buf_addc(b, ')', err))
            goto free_lits;
    }
    rc = 0;
free_lits:
    for (int i = 0; i < npk; i++)
        sl_buf_free(&lits[i]);
    free(lits);
    json_decref(arr);
    return rc;
}

static int build_scan_sql(sl_buf_t *b, const sl_mysql_t *my, const sl_scan_t *scan, sl_err_t *err)
{
    const sl_table_t *t = scan->table;
    if (sl_buf_adds(b, "SELECT ", err))
        return -1;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if (i && sl_buf_adds(b, ", ", err))
            return -1;
        /* FLOAT prints with 6 digits (lossy); the DOUBLE cast is exact. */
        const char *wrap = c->type == SL_T_FLOAT32    ? "CAST(%s AS DOUBLE)"
                           : c->type == SL_T_GEOMETRY ? "ST_AsBinary(%s)"
                                                      : "%s";
        sl_buf_t id;
        sl_buf_init(&id, SQL_MAX);
        int rc = sl_mysql_add_ident(&id, c->name, err) || sl_buf_printf(b, err, wrap, id.data);
        sl_buf_free(&id);
        if (rc)
            return -1;
    }
    if (sl_buf_adds(b, " FROM ", err) || add_table_ref(b, my, t, err))
        return -1;
    int npk = sl_table_pk_count(t);
    if ((scan->after_key || scan->upto_key) && npk == 0)
        return sl_err_set(err, SL_E_INTERNAL, "key bounds on table \"%s\" without a primary key",
                          t->name);
    if (scan->after_key && (sl_buf_adds(b, " WHERE ", err) ||
                            add_bound(b, t, scan->after_key, ">=", ">", err)))
        return -1;
    if (scan->upto_key && (sl_buf_adds(b, scan->after_key ? " AND " : " WHERE ", err) ||
                           add_bound(b, t, scan->upto_key, "<=", "<=", err)))
        return -1;
    if (scan->filter && (sl_buf_adds(b, scan->after_key || scan->upto_key ? " AND " : " WHERE ", err) ||
                         sl_filter_sql(scan->filter, SL_FILTER_MARIADB, b, err)))
        return -1;
    if (scan->key_eq && (!npk || sl_buf_adds(b, scan->after_key || scan->upto_key || scan->filter ? " AND " : " WHERE ", err) ||
                         add_bound(b, t, scan->key_eq, "=", "=", err)))
        return npk ? -1 : sl_err_set(err, SL_E_INTERNAL, "a key given for table \"%s\" without a primary key",
                                     t->name);
    for (int i = 0; i < npk; i++)
        if (sl_buf_adds(b, i ? ", " : " ORDER BY ", err) ||
            sl_mysql_add_ident(b, t->columns[sl_table_pk_col(t, i)].name, err))
            return -1;
    if (scan->limit > 0 && sl_buf_printf(b, err, " LIMIT %lld", (long long)scan->limit))
        return -1;
    return 0;
}

static int my_scan(sl_source_t *base, const sl_scan_t *scan, sl_row_fn fn, void *ctx,
                   sl_err_t *err)
{
    sl_mysql_src_t *src = (sl_mysql_src_t *)base;
    const sl_table_t *t = scan->table;
    int ncols = t->ncolumns;
    sl_buf_t sql;
    sl_buf_init(&sql, SQL_MAX);
    int rc = -1;
    sl_mysql_vkind_t *kinds = calloc((size_t)ncols, sizeof *kinds);
    sl_value_t *vals = calloc((size_t)ncols, sizeof *vals);
    char *scratch = malloc((size_t)ncols * SL_MYV_SCRATCH);
    bool *warned = calloc((size_t)ncols, sizeof *warned);
    if (!kinds || !vals || !scratch || !warned) {
        sl_err_set(err, SL_E_LIMIT, "out of memory scanning table \"%s\"", t->name);
        goto out;
    }
    for (int i = 0; i < ncols; i++)
        kinds[i] = sl_mysql_value_kind(&t->columns[i]);
    if (build_scan_sql(&sql, &src->my, scan, err))
        goto out;
    sl_debug("scan: %s", sql.data);
    if (mysql_real_query(src->my.db, sql.data, sql.len)) {
        sl_mysql_fail(&src->my, err, "scan the table");
        sl_err_prefix(err, "table \"%s\": ", t->name);
        goto out;
    }
    MYSQL_RES *res = mysql_use_result(src->my.db);
    if (!res) {
        sl_mysql_fail(&src->my, err, "scan the table");
        sl_err_prefix(err, "table \"%s\": ", t->name);
        goto out;
    }
    if ((int)mysql_num_fields(res) != ncols) {
        sl_err_set(err, SL_E_INTERNAL, "scan of table \"%s\" returned %u columns, expected %d",
                   t->name, mysql_num_fields(res), ncols);
        mysql_free_result(res);
        goto out;
    }
    MYSQL_ROW row;
    rc = 0;
    while (rc == 0 && (row = mysql_fetch_row(res)) != NULL) {
        unsigned long *lens = mysql_fetch_lengths(res);
        for (int i = 0; i < ncols && rc == 0; i++) {
            if (!row[i]) {
                vals[i].p = NULL;
                vals[i].len = -1;
                continue;
            }
            const sl_column_t *c = &t->columns[i];
            int got = sl_mysql_canon_value(kinds[i], c, row[i], lens[i],
                                           scratch + (size_t)i * SL_MYV_SCRATCH, &vals[i]);
            if (got == 0) {
                vals[i].p = NULL;
                vals[i].len = -1;
                if (!warned[i]) {
                    warned[i] = true;
                    sl_warn("table \"%s\", column \"%s\": zero date \"%.*s\" read as NULL "
                            "(no other engine has zero dates)", t->name, c->name,
                            (int)lens[i], row[i]);
                }
            } else if (got < 0) {
                rc = sl_err_set(err, SL_E_PROTOCOL,
                                "unexpected value \"%.*s\" in column \"%s\" of table \"%s\"",
                                (int)(lens[i] > 64 ? 64 : lens[i]), row[i], c->name, t->name);
            }
        }
        if (rc == 0)
            rc = fn(ctx, vals, ncols, err);
    }
    if (rc == 0 && mysql_errno(src->my.db)) {
        sl_mysql_fail(&src->my, err, "read rows");
        sl_err_prefix(err, "table \"%s\": ", t->name);
        rc = -1;
    }
    /* Frees the result after reading what is left of it, so the connection stays
     * usable after a callback stopped the scan early. */
    mysql_free_result(res);
out:
    sl_buf_free(&sql);
    free(kinds);
    free(vals);
    free(scratch);
    free(warned);
    return rc;
}

const struct sl_source_ops sl_mysql_source_ops = {
    .name = "mysql",
    .connect = my_connect,
    .close = my_close,
    .list_tables = my_list_tables,
    .describe = sl_mysql_src_describe,
    .snapshot_export = my_snapshot_export,
    .snapshot_import = my_snapshot_import,
    .snapshot_release = my_snapshot_release,
    .snapshot_position = my_snapshot_position,
    .key_range = my_key_range,
    .key_sample = sl_mysql_src_key_sample,
    .scan = my_scan,
};
