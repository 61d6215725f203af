/*
 * mysql_rejects.c: the MariaDB/MySQL target's rejected rows (options.on_error "reject",
 * docs/mapping.md): the table `_sluice_rejects` in the target database, written in the
 * batch's own transaction; the savepoint the engine isolates a refused row with; and
 * the planning ops (CREATE TABLE text, PostgreSQL generated columns translated by
 * genexpr.h).
 *
 * The table is created before any data (CREATE TABLE would commit an open transaction
 * on MariaDB). Keys are looked up by their JSON text, which the engine writes the same
 * way every time.
 *
 * Thread: the writer lane's that owns the connection (the planning ops: any).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/mysql/genexpr.h"
#include "target/mysql/mysql_target.h"

#define REJ "`" SL_REJECTS_TABLE "`"
#define REJECTS_BATCH 200 /* rows per INSERT */

static int add_str(sl_buf_t *b, const char *s, sl_err_t *err)
{
    return s ? sl_mysql_add_string(b, s, strlen(s), err) : sl_buf_adds(b, "NULL", err);
}

int sl_mysql_rejects_setup(sl_target_t *base, const char *stream, bool reset, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    if (sl_mysql_exec(&tgt->my,
                      "CREATE TABLE IF NOT EXISTS " REJ " ("
                      "stream varchar(128) NOT NULL, table_name varchar(600) NOT NULL, row_key json, "
                      "column_name varchar(600), reason text NOT NULL, row_data json, position varchar(600), "
                      "rejected_at timestamp(6) NOT NULL DEFAULT current_timestamp(6), "
                      "KEY _sluice_rejects_stream (stream, table_name)"
                      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_bin",
                      err)) {
        if (err && err->code == SL_E_PRIVILEGE)
            sl_err_hint(err, "GRANT CREATE, INSERT, DELETE, SELECT ON `%s`.* TO '%s'", tgt->my.database,
                        tgt->my.user ? tgt->my.user : "");
        sl_err_prefix(err, "rejects table: ");
        return -1;
    }
    if (!reset)
        return 0;
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    int rc = sl_buf_adds(&b, "DELETE FROM " REJ " WHERE stream = ", err) || add_str(&b, stream, err) ||
             sl_mysql_exec(&tgt->my, b.data, err);
    sl_buf_free(&b);
    return rc ? -1 : 0;
}

int sl_mysql_rejects_write(sl_target_t *base, const char *stream, const sl_reject_t *rj, int n,
                           const char *clear_table, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    sl_buf_t b;
    sl_buf_init(&b, tgt->my.max_packet ? tgt->my.max_packet : 16u << 20);
    int rc = 0;
    if (clear_table)
        rc = sl_buf_adds(&b, "DELETE FROM " REJ " WHERE stream = ", err) || add_str(&b, stream, err) ||
             sl_buf_adds(&b, " AND table_name = ", err) || add_str(&b, clear_table, err) ||
             sl_mysql_exec(&tgt->my, b.data, err);
    for (int i = 0; i < n && !rc; i += REJECTS_BATCH) {
        sl_buf_reset(&b);
        rc = sl_buf_adds(&b,
                         "INSERT INTO " REJ " (stream, table_name, row_key, column_name, reason, row_data, position)"
                         " VALUES ",
                         err);
        for (int k = i; k < n && k < i + REJECTS_BATCH && !rc; k++) {
            const sl_reject_t *r = &rj[k];
            rc = sl_buf_adds(&b, k > i ? ", (" : "(", err) || add_str(&b, stream, err) || sl_buf_addc(&b, ',', err) ||
                 add_str(&b, r->table, err) || sl_buf_addc(&b, ',', err) || add_str(&b, r->key, err) ||
                 sl_buf_addc(&b, ',', err) || add_str(&b, r->column, err) || sl_buf_addc(&b, ',', err) ||
                 add_str(&b, r->reason, err) || sl_buf_addc(&b, ',', err) || add_str(&b, r->row, err) ||
                 sl_buf_addc(&b, ',', err) || add_str(&b, r->position, err) || sl_buf_addc(&b, ')', err);
        }
        if (!rc)
            rc = sl_mysql_exec(&tgt->my, b.data, err);
    }
    sl_buf_free(&b);
    if (rc)
        sl_err_prefix(err, "could not record rejected rows: ");
    return rc ? -1 : 0;
}

int sl_mysql_rejects_find(sl_target_t *base, const char *stream, const char *table, const char *key, bool *found,
                          sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    sl_buf_t b;
    sl_buf_init(&b, 1u << 20);
    char *v = NULL;
    int rc = sl_buf_adds(&b, "SELECT COUNT(*) FROM " REJ " WHERE stream = ", err) || add_str(&b, stream, err) ||
             sl_buf_adds(&b, " AND table_name = ", err) || add_str(&b, table, err) ||
             sl_buf_adds(&b, " AND row_key = ", err) || add_str(&b, key, err) ||
             sl_mysql_query_value(&tgt->my, b.data, &v, err);
    *found = rc == 0 && v && strcmp(v, "0") != 0;
    free(v);
    sl_buf_free(&b);
    return rc ? -1 : 0;
}

/* (MariaDB writes SAVEPOINT into its binlog as a statement of its own; a change stream
 * reading this server's binlog passes over it. Only a batch the server refused takes
 * this path.) */
int sl_mysql_savepoint(sl_target_t *base, sl_savepoint_op_t op, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    sl_mysql_t *my = &tgt->my;
    switch (op) {
    case SL_SAVEPOINT_SET:
        return sl_mysql_apply_flush(tgt, err) ? -1 : sl_mysql_exec(my, "SAVEPOINT sluice_row", err);
    case SL_SAVEPOINT_RELEASE: /* the held changes of the part are applied first: their error is its */
        return sl_mysql_apply_flush(tgt, err) ? -1 : sl_mysql_exec(my, "RELEASE SAVEPOINT sluice_row", err);
    case SL_SAVEPOINT_ROLLBACK:
        sl_mysql_apply_flush(tgt, NULL); /* what the failed part held: dropped */
        if (sl_mysql_exec(my, "ROLLBACK TO SAVEPOINT sluice_row", err))
            return -1;
        return sl_mysql_exec(my, "RELEASE SAVEPOINT sluice_row", err);
    }
    return sl_err_set(err, SL_E_INTERNAL, "unknown savepoint operation");
}

int sl_mysql_create_sql_op(const sl_url_t *url, const sl_table_t *t, sl_buf_t *out, sl_err_t *err)
{
    (void)url;
    return sl_mysql_create_sql(t, out, err);
}

int sl_mysql_generated(const sl_table_t *t, int col, const char *const *names, sl_buf_t *out, char *why,
                       size_t whylen, sl_err_t *err)
{
    if (!t->engine || strcmp(t->engine, "pg")) {
        snprintf(why, whylen, "only PostgreSQL expressions are translated");
        return 1;
    }
    /* the case mapping of lower() and upper() is not known here: they are refused */
    return sl_genexpr_mariadb(t, col, names, NULL, out, why, whylen, err);
}
