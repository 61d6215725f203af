/*
 * apply.c: see apply.h. The rules both database targets follow when they apply
 * row changes, kept in one place so PostgreSQL and MariaDB/MySQL agree on them.
 */
#include "target/apply.h"

#include <stdio.h>
#include <string.h>

#include "model/types.h"

static const char *op_name(sl_change_op_t op)
{
    switch (op) {
    case SL_OP_INSERT: return "insert";
    case SL_OP_UPDATE: return "update";
    case SL_OP_DELETE: return "delete";
    case SL_OP_TRUNCATE: return "truncate";
    default: break; /* copy rows and marks never reach a target (engine/cdc_copy_lane.c) */
    }
    return "change";
}

static int bad(const sl_table_t *t, const sl_change_t *ch, const char *why, sl_err_t *err)
{
    char lsn[32];
    sl_lsn_format(ch->pos.lsn, lsn, sizeof lsn);
    sl_err_set(err, SL_E_PROTOCOL, "malformed %s for table \"%s\" at %s/%u: %s", op_name(ch->op),
               t->name, lsn, ch->pos.idx, why);
    return -1;
}

int sl_apply_check(const sl_table_t *t, const sl_change_t *ch, sl_err_t *err)
{
    if (ch->op == SL_OP_TRUNCATE)
        return 0;
    if (ch->op != SL_OP_INSERT && ch->op != SL_OP_UPDATE && ch->op != SL_OP_DELETE)
        return bad(t, ch, "unknown operation", err);
    if (ch->ncols != t->ncolumns) {
        char why[96];
        snprintf(why, sizeof why, "%d columns, the table has %d", ch->ncols, t->ncolumns);
        return bad(t, ch, why, err);
    }
    if (ch->op != SL_OP_DELETE && !ch->row)
        return bad(t, ch, "no new row", err);
    if (ch->op == SL_OP_INSERT) {
        for (int i = 0; i < t->ncolumns; i++)
            if (ch->row[i].len == SL_VALUE_UNCHANGED) {
                char why[300];
                snprintf(why, sizeof why, "column \"%.200s\" is marked unchanged",
                         t->columns[i].name);
                return bad(t, ch, why, err);
            }
        return 0;
    }
    int npk = sl_table_pk_count(t);
    if (!npk && !ch->old)
        return bad(t, ch, "no old row for a table without a primary key (REPLICA IDENTITY "
                          "FULL is needed)", err);
    if (ch->op == SL_OP_DELETE && !ch->old)
        return bad(t, ch, "no old row", err);
    const sl_value_t *key = sl_apply_key_row(ch);
    for (int k = 0; k < npk; k++) {
        int ci = sl_table_pk_col(t, k);
        if (ci < 0)
            return bad(t, ch, "the primary key has a gap", err);
        if (key[ci].len < 0) {
            char why[300];
            snprintf(why, sizeof why, "key column \"%.200s\" is %s", t->columns[ci].name,
                     key[ci].len == SL_VALUE_UNCHANGED ? "marked unchanged" : "NULL");
            return bad(t, ch, why, err);
        }
    }
    return 0;
}

const sl_value_t *sl_apply_key_row(const sl_change_t *ch)
{
    return ch->old ? ch->old : ch->row;
}

int sl_apply_insert_run(const sl_change_t *chs, int i, int n)
{
    int j = i;
    while (j < n && chs[j].op == SL_OP_INSERT)
        j++;
    return j - i;
}

/* Appends one value for a message at buf[*n..size). */
static void show_value(const sl_column_t *c, const sl_value_t *v, char *buf, int size, int *n)
{
    if (*n >= size)
        return;
    int left = size - *n;
    if (v->len == SL_VALUE_UNCHANGED) {
        *n += snprintf(buf + *n, (size_t)left, "(unchanged)");
    } else if (v->len < 0) {
        *n += snprintf(buf + *n, (size_t)left, "NULL");
    } else if (sl_type_is_binary(c->type)) {
        *n += snprintf(buf + *n, (size_t)left, "\\x");
        for (int64_t i = 0; i < v->len && i < 32 && *n < size; i++)
            *n += snprintf(buf + *n, (size_t)(size - *n), "%02x", (unsigned char)v->p[i]);
        if (v->len > 32 && *n < size)
            *n += snprintf(buf + *n, (size_t)(size - *n), "...");
    } else {
        int show = v->len > 64 ? 64 : (int)v->len;
        *n += snprintf(buf + *n, (size_t)left, "%.*s%s", show, v->p, v->len > 64 ? "..." : "");
    }
}

const char *sl_apply_key_text(const sl_table_t *t, const sl_change_t *ch, char *buf, int size)
{
    int npk = sl_table_pk_count(t);
    const sl_value_t *key = npk ? sl_apply_key_row(ch) : ch->old;
    if (!key || ch->ncols != t->ncolumns) {
        snprintf(buf, (size_t)size, "change %u", ch->pos.idx);
        return buf;
    }
    int n = snprintf(buf, (size_t)size, "%s", npk ? "key=(" : "row=(");
    int shown = npk ? npk : t->ncolumns;
    for (int i = 0; i < shown && n < size; i++) {
        int ci = npk ? sl_table_pk_col(t, i) : i;
        if (ci < 0)
            break;
        if (i)
            n += snprintf(buf + n, (size_t)(size - n), ", ");
        show_value(&t->columns[ci], &key[ci], buf, size, &n);
    }
    if (n < size)
        snprintf(buf + n, (size_t)(size - n), ")");
    return buf;
}

int sl_apply_missing(const sl_table_t *t, const sl_change_t *ch, const char *label, sl_err_t *err)
{
    char key[600];
    sl_err_set(err, SL_E_NOT_FOUND, "%s of a row missing from the target table \"%s\"",
               op_name(ch->op), label);
    sl_err_detail(err, "%s", sl_apply_key_text(t, ch, key, sizeof key));
    sl_err_hint(err, "the target has diverged from the source: run `sluice verify`, then "
                     "reload the table with --restart");
    return -1;
}
