/*
 * key_sample.c: see key_sample.h.
 */
#include "source/key_sample.h"

#include <inttypes.h>
#include <stdlib.h>

#include <jansson.h>

static int add_key_list(sl_buf_t *b, const sl_table_t *t,
                        int (*add_ident)(sl_buf_t *, const char *, sl_err_t *), sl_err_t *err)
{
    int npk = sl_table_pk_count(t);
    for (int i = 0; i < npk; i++)
        if ((i && sl_buf_adds(b, ", ", err)) || add_ident(b, t->columns[sl_table_pk_col(t, i)].name, err))
            return -1;
    return 0;
}

int sl_key_sample_sql(sl_buf_t *b, const sl_table_t *t, const char *table_ref, int64_t every,
                      int (*add_ident)(sl_buf_t *, const char *, sl_err_t *), sl_err_t *err)
{
    if (sl_table_pk_count(t) == 0 || every < 1)
        return sl_err_set(err, SL_E_INTERNAL, "key sample of table \"%s\" without a primary key", t->name);
    return sl_buf_adds(b, "SELECT ", err) || add_key_list(b, t, add_ident, err) ||
           sl_buf_adds(b, " FROM (SELECT ", err) || add_key_list(b, t, add_ident, err) ||
           sl_buf_adds(b, ", ROW_NUMBER() OVER (ORDER BY ", err) || add_key_list(b, t, add_ident, err) ||
           sl_buf_printf(b, err, ") AS sl_rn FROM %s) AS sl_s WHERE MOD(sl_rn, %" PRId64 ") = 0 ORDER BY sl_rn",
                         table_ref, every);
}

int sl_key_sample_add(char ***keys, int *nkeys, const sl_value_t *vals, int n, sl_err_t *err)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        if (vals[i].len < 0) {
            json_decref(a);
            return sl_err_set(err, SL_E_INTERNAL, "NULL in a primary key");
        }
        json_array_append_new(a, json_stringn_nocheck(vals[i].p, (size_t)vals[i].len));
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    char **v = realloc(*keys, sizeof *v * (size_t)(*nkeys + 1));
    if (!s || !v) {
        free(s);
        return sl_err_set(err, SL_E_LIMIT, "out of memory sampling keys");
    }
    *keys = v;
    v[(*nkeys)++] = s;
    return 0;
}

static void keys_free(char **keys, int n)
{
    for (int i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

void sl_key_sample_clear(char ***keys, int *n)
{
    if (n) {
        keys_free(*keys, *n);
        *n = 0;
    }
    *keys = NULL;
}
