/*
 * pg_split.c: key_sample for PostgreSQL sources: the boundaries that cut a table
 * with a composite, text or other non-integer primary key into stripes.
 */
#include <stdlib.h>
#include <string.h>

#include "source/key_sample.h"
#include "source/pg/pg_source.h"

int sl_pg_source_key_sample(sl_source_t *src, const sl_table_t *t, int64_t every, char ***keys,
                            int *n, sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_source_t *)src)->pg;
    sl_key_sample_clear(keys, NULL);
    *n = 0;
    sl_buf_t ref, sql;
    sl_buf_init(&ref, 4096);
    sl_buf_init(&sql, 1 << 16);
    int rc = -1;
    PGresult *r = NULL;
    int npk = sl_table_pk_count(t);
    sl_value_t *vals = calloc((size_t)(npk > 0 ? npk : 1), sizeof *vals);
    if (!vals)
        return sl_err_set(err, SL_E_LIMIT, "out of memory sampling keys");
    if (sl_pg_add_qname(&ref, t->schema, t->name, err) ||
        sl_key_sample_sql(&sql, t, ref.data, every, sl_pg_add_ident, err))
        goto out;
    char what[300];
    snprintf(what, sizeof what, "could not sample the keys of \"%s.%s\"", t->schema, t->name);
    if (!(r = sl_pg_query(pg, sql.data, 0, NULL, err, what)))
        goto out;
    for (int row = 0; row < PQntuples(r); row++) {
        for (int i = 0; i < npk; i++) {
            const sl_column_t *c = &t->columns[sl_table_pk_col(t, i)];
            vals[i].p = PQgetvalue(r, row, i);
            vals[i].len = PQgetisnull(r, row, i) ? -1 : PQgetlength(r, row, i);
            if (c->type == SL_T_TEXT && c->fixed) /* canonical CHAR(n) has no pad */
                while (vals[i].len > 0 && vals[i].p[vals[i].len - 1] == ' ')
                    vals[i].len--;
        }
        if (sl_key_sample_add(keys, n, vals, npk, err))
            goto out;
    }
    rc = 0;
out:
    if (rc)
        sl_key_sample_clear(keys, n);
    PQclear(r);
    free(vals);
    sl_buf_free(&ref);
    sl_buf_free(&sql);
    return rc;
}
