/*
 * mysql_split.c: key_sample for MariaDB/MySQL sources: the boundaries that cut a
 * table with a composite, text or BIGINT UNSIGNED primary key into stripes.
 */
#include <stdlib.h>
#include <string.h>

#include "source/key_sample.h"
#include "source/mysql/mysql_source.h"

int sl_mysql_src_key_sample(sl_source_t *base, const sl_table_t *t, int64_t every, char ***keys,
                            int *n, sl_err_t *err)
{
    sl_mysql_src_t *src = (sl_mysql_src_t *)base;
    sl_key_sample_clear(keys, NULL);
    *n = 0;
    sl_buf_t ref, sql;
    sl_buf_init(&ref, 4096);
    sl_buf_init(&sql, 1 << 16);
    MYSQL_RES *res = NULL;
    int rc = -1;
    int npk = sl_table_pk_count(t);
    sl_value_t vals[npk > 0 ? npk : 1];
    char scratch[(npk > 0 ? npk : 1) * SL_MYV_SCRATCH];
    if (sl_mysql_add_ident(&ref, src->my.database, err) || sl_buf_addc(&ref, '.', err) ||
        sl_mysql_add_ident(&ref, t->name, err) ||
        sl_key_sample_sql(&sql, t, ref.data, every, sl_mysql_add_ident, err) ||
        sl_mysql_query(&src->my, sql.data, &res, err)) {
        sl_err_prefix(err, "table \"%s\": ", t->name);
        goto out;
    }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *lens = mysql_fetch_lengths(res);
        for (int i = 0; i < npk; i++) {
            const sl_column_t *c = &t->columns[sl_table_pk_col(t, i)];
            if (!row[i] || sl_mysql_canon_value(sl_mysql_value_kind(c), c, row[i], lens[i],
                                                scratch + (size_t)i * SL_MYV_SCRATCH, &vals[i]) <= 0) {
                sl_err_set(err, SL_E_PROTOCOL, "table \"%s\": unexpected key value in column \"%s\"",
                           t->name, c->name);
                goto out;
            }
        }
        if (sl_key_sample_add(keys, n, vals, npk, err))
            goto out;
    }
    rc = 0;
out:
    if (rc)
        sl_key_sample_clear(keys, n);
    if (res)
        mysql_free_result(res);
    sl_buf_free(&ref);
    sl_buf_free(&sql);
    return rc;
}
