/*
 * plan.c: cutting tables into stripes and the plan's JSON form (see plan.h).
 */
#include "core/mem.h"
#include "engine/plan.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_plan_free(sl_plan_t *plan)
{
    if (!plan)
        return;
    for (int i = 0; i < plan->ntables; i++)
        sl_map_free(plan->maps[i]);
    free(plan->maps);
    free(plan->tables);
    for (int i = 0; i < plan->nstripes; i++) {
        free(plan->stripes[i].after_key);
        free(plan->stripes[i].upto_key);
        free(plan->stripes[i].unit);
    }
    free(plan->stripes);
    memset(plan, 0, sizeof *plan);
}

bool sl_plan_keyed(const sl_table_t *t)
{
    int npk = sl_table_pk_count(t);
    if (npk == 0)
        return false;
    for (int i = 0; i < npk; i++) {
        int c = sl_table_pk_col(t, i);
        if (c < 0 || sl_type_is_binary(t->columns[c].type))
            return false;
    }
    return true;
}

static void add_stripe(sl_plan_t *plan, int table, char *after, char *upto)
{
    sl_stripe_t *s = realloc(plan->stripes, sizeof *s * (size_t)(plan->nstripes + 1));
    if (!s)
        sl_oom();
    plan->stripes = s;
    s[plan->nstripes].table = table;
    s[plan->nstripes].after_key = after;
    s[plan->nstripes].upto_key = upto;
    s[plan->nstripes].unit = NULL;
    plan->nstripes++;
}

/* A file source: one stripe per unit (owned by the plan from here on). */
static int add_units(sl_plan_t *plan, int idx, const sl_table_t *t, sl_source_t *src, int chunk_rows,
                     sl_err_t *err)
{
    char **units = NULL;
    int n = 0;
    if (src->ops->units(src, t, chunk_rows, &units, &n, err))
        return -1;
    for (int i = 0; i < n; i++) {
        add_stripe(plan, idx, NULL, NULL);
        plan->stripes[plan->nstripes - 1].unit = units[i];
    }
    if (n == 0) /* no file yet: an empty stripe, so that the table is still created */
        add_stripe(plan, idx, NULL, NULL);
    free(units);
    return 0;
}

static char *int_key(int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "[\"%" PRId64 "\"]", v);
    return sl_strdup(buf);
}

/* Appends m to the plan's maps and tables; returns its index. */
static int push_map(sl_plan_t *plan, sl_map_t *m)
{
    sl_map_t **mv = realloc(plan->maps, sizeof *mv * (size_t)(plan->ntables + 1));
    sl_table_t **tv = mv ? realloc(plan->tables, sizeof *tv * (size_t)(plan->ntables + 1)) : NULL;
    if (!tv)
        sl_oom();
    plan->maps = mv;
    plan->tables = tv;
    mv[plan->ntables] = m;
    tv[plan->ntables] = m->tgt;
    return plan->ntables++;
}

int sl_plan_add_map(sl_plan_t *plan, sl_map_t *m, sl_source_t *src, int chunk_rows, sl_err_t *err)
{
    int idx = push_map(plan, m);
    const sl_table_t *t = m->scan;
    if (src->ops->units)
        return add_units(plan, idx, t, src, chunk_rows, err);

    int pkc = sl_table_pk_col(t, 0);
    bool int_key_table = sl_table_pk_count(t) == 1 && pkc >= 0 &&
                         (t->columns[pkc].type == SL_T_INT16 || t->columns[pkc].type == SL_T_INT32 ||
                          t->columns[pkc].type == SL_T_INT64);
    if (!int_key_table) {
        /* Other keys (composite, text, uuid, BIGINT UNSIGNED): sample every chunk_rows-th
         * key in one index scan, when the table is large enough to be worth cutting. */
        char **keys = NULL;
        int nkeys = 0;
        if (sl_plan_keyed(t) && src->ops->key_sample && t->est_rows >= 2 * (int64_t)chunk_rows &&
            src->ops->key_sample(src, t, chunk_rows, &keys, &nkeys, err))
            return -1;
        char *prev = NULL;
        for (int i = 0; i < nkeys; i++) {
            add_stripe(plan, idx, prev, keys[i]);
            prev = sl_strdup(keys[i]);
        }
        add_stripe(plan, idx, prev, NULL);
        free(keys);
        return 0;
    }
    int64_t min, max;
    bool has_rows;
    if (src->ops->key_range(src, t, &min, &max, &has_rows, err))
        return -1;
    if (!has_rows) {
        add_stripe(plan, idx, NULL, NULL);
        return 0;
    }
    __int128 span = (__int128)max - min + 1;
    __int128 n = t->est_rows > 0 ? (t->est_rows + chunk_rows - 1) / chunk_rows : span / chunk_rows;
    if (n > span)
        n = span;
    if (n > 4096)
        n = 4096;
    if (n < 1)
        n = 1;
    /* stripe i holds keys in (a_i, a_{i+1}], a_0 = -inf, a_n = +inf */
    char *prev = NULL;
    for (int i = 1; i < (int)n; i++) {
        int64_t a = (int64_t)((__int128)min - 1 + span * i / n);
        char *k = int_key(a);
        add_stripe(plan, idx, prev, sl_strdup(k));
        prev = k;
    }
    add_stripe(plan, idx, prev, NULL);
    return 0;
}

char *sl_plan_to_json(const sl_plan_t *plan)
{
    json_t *root = json_object();
    json_object_set_new(root, "version", json_integer(1));
    json_t *tables = json_array();
    for (int i = 0; i < plan->ntables; i++)
        json_array_append_new(tables, sl_map_to_json(plan->maps[i]));
    json_object_set_new(root, "tables", tables);
    json_t *stripes = json_array();
    for (int i = 0; i < plan->nstripes; i++) {
        const sl_stripe_t *s = &plan->stripes[i];
        json_t *j = json_object();
        json_object_set_new(j, "table", json_integer(s->table));
        json_object_set_new(j, "after", s->after_key ? json_string(s->after_key) : json_null());
        json_object_set_new(j, "upto", s->upto_key ? json_string(s->upto_key) : json_null());
        if (s->unit)
            json_object_set_new(j, "unit", json_string(s->unit));
        json_array_append_new(stripes, j);
    }
    json_object_set_new(root, "stripes", stripes);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text)
        sl_oom();
    return text;
}

int sl_plan_from_json(const char *text, sl_plan_t *plan, sl_err_t *err)
{
    memset(plan, 0, sizeof *plan);
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root)
        return sl_err_set(err, SL_E_PROTOCOL, "the stored load plan is not valid JSON: %s", je.text);
    int rc = -1;
    const json_t *tables = json_object_get(root, "tables");
    const json_t *stripes = json_object_get(root, "stripes");
    if (!json_is_array(tables) || !json_is_array(stripes)) {
        sl_err_set(err, SL_E_PROTOCOL, "the stored load plan is malformed");
        goto done;
    }
    size_t i;
    json_t *e;
    json_array_foreach(tables, i, e)
    {
        sl_map_t *m;
        if (sl_map_from_json(e, &m, err))
            goto done;
        push_map(plan, m);
    }
    json_array_foreach(stripes, i, e)
    {
        const json_t *t = json_object_get(e, "table");
        const json_t *a = json_object_get(e, "after");
        const json_t *u = json_object_get(e, "upto");
        if (!json_is_integer(t) || json_integer_value(t) < 0 ||
            json_integer_value(t) >= plan->ntables) {
            sl_err_set(err, SL_E_PROTOCOL, "the stored load plan has a bad stripe");
            goto done;
        }
        add_stripe(plan, (int)json_integer_value(t),
                   json_is_string(a) ? sl_strdup(json_string_value(a)) : NULL,
                   json_is_string(u) ? sl_strdup(json_string_value(u)) : NULL);
        const json_t *un = json_object_get(e, "unit");
        if (json_is_string(un))
            plan->stripes[plan->nstripes - 1].unit = sl_strdup(json_string_value(un));
    }
    rc = 0;
done:
    json_decref(root);
    if (rc)
        sl_plan_free(plan);
    return rc;
}
