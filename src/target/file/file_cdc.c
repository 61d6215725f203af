/*
 * file_cdc.c: change records of a CDC stream into files. Every change becomes one
 * row of a derived table: five leading columns, then the source table's columns.
 *
 *   _op         "insert", "update", "delete" or "truncate"
 *   _pos        the change's position "<lsn 16 hex>.<idx 8 hex>": sorting by it as
 *               text replays the stream in order
 *   _commit_ts  the source transaction's commit time (timestamptz, UTC)
 *   _unchanged  JSON array of the columns an UPDATE did not send (PostgreSQL TOAST);
 *               they are NULL in the row and keep their old value; NULL when none
 *   _old_key    JSON object of the old key when an UPDATE changed it (or the source
 *               sent the whole old row); NULL otherwise
 *
 * The row: INSERT and UPDATE the new row, DELETE the old row as the source sent it
 * (the key, other columns NULL unless REPLICA IDENTITY FULL), TRUNCATE all NULL.
 *
 * The initial load of a cdc stream writes its rows with the same leading columns
 * (change_columns=true, which the spec sets for a cdc stream): _op "read", _pos the
 * zero position (before every change), the other three NULL; so a table's snapshot and
 * change files have one schema and sorting their union by _pos replays the table.
 *
 * Thread: the connection's thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "target/file/file_int.h"

#define NLEAD SL_FILE_NLEAD

/* The leading columns, as they are added to the derived table. */
static const sl_column_t lead[NLEAD] = {
    {.name = "_op", .type = SL_T_TEXT, .scale = -1},
    {.name = "_pos", .type = SL_T_TEXT, .scale = -1},
    {.name = "_commit_ts", .type = SL_T_TIMESTAMPTZ, .nullable = true, .scale = 6},
    {.name = "_unchanged", .type = SL_T_JSON, .nullable = true, .scale = -1},
    {.name = "_old_key", .type = SL_T_JSON, .nullable = true, .scale = -1},
};

sl_table_t *sl_file_change_shape(const sl_table_t *t, sl_err_t *err)
{
    for (int i = 0; i < NLEAD; i++)
        if (sl_table_find_col(t, lead[i].name) >= 0) {
            sl_err_set(err, SL_E_SCHEMA, "table \"%s\" has a column \"%s\", which change files use themselves",
                       t->name, lead[i].name);
            sl_err_hint(err, "leave the table out of the stream, or rename the column");
            return NULL;
        }
    sl_col_edit_t *cols = calloc((size_t)(NLEAD + t->ncolumns), sizeof *cols);
    if (!cols)
        sl_oom();
    for (int i = 0; i < NLEAD; i++)
        cols[i].from = &lead[i];
    for (int i = 0; i < t->ncolumns; i++)
        cols[NLEAD + i] = (sl_col_edit_t){.from = &t->columns[i],
                                          .flags = SL_COL_NULLABLE | SL_COL_NO_KEY | SL_COL_NO_DEFAULT};
    sl_table_t *out = NULL;
    int rc = sl_table_derive(t, cols, NLEAD + t->ncolumns, SL_TABLE_NO_INDEXES, &out, err);
    free(cols);
    return rc ? NULL : out;
}

void sl_file_snapshot_lead(sl_value_t *vals)
{
    static const char op[] = "read", pos[] = "0000000000000000.00000000";
    vals[0] = (sl_value_t){op, (int64_t)sizeof op - 1};
    vals[1] = (sl_value_t){pos, (int64_t)sizeof pos - 1};
    for (int i = 2; i < NLEAD; i++)
        vals[i] = (sl_value_t){NULL, -1};
}

static json_t *value_json(const sl_column_t *c, const sl_value_t *v)
{
    if (v->len < 0)
        return json_null();
    if (sl_type_is_binary(c->type)) {
        size_t n = (size_t)v->len;
        char *hex = malloc(2 * n + 3);
        if (!hex)
            sl_oom();
        hex[0] = '\\';
        hex[1] = 'x';
        for (size_t i = 0; i < n; i++)
            snprintf(hex + 2 + 2 * i, 3, "%02x", (unsigned char)v->p[i]);
        json_t *s = json_stringn(hex, 2 * n + 2);
        free(hex);
        return s;
    }
    json_t *s = json_stringn(v->p, (size_t)v->len);
    return s ? s : json_null();
}

static const char *op_name(sl_change_op_t op)
{
    switch (op) {
    case SL_OP_INSERT:
        return "insert";
    case SL_OP_UPDATE:
        return "update";
    case SL_OP_DELETE:
        return "delete";
    case SL_OP_TRUNCATE:
        return "truncate";
    case SL_OP_COPY: /* a row the stream copied beside its changes: a snapshot row */
        return "read";
    default: /* marks never reach a target (engine/cdc_copy_lane.c) */
        break;
    }
    return "?";
}

int sl_file_write_changes(ftgt_t *ft, fslot_t *s, const sl_table_t *t, const sl_change_t *chs, int n,
                          sl_err_t *err)
{
    sl_table_t *shape = sl_file_change_shape(t, err);
    if (!shape)
        return -1;
    fpart_t *p = NULL;
    int rc = sl_file_part_get(ft, s, shape, t->name, NULL, &p, err);
    sl_table_free(shape);
    if (rc)
        return -1;
    s->dirty = true;
    int nc = t->ncolumns;
    sl_value_t *vals = calloc((size_t)(nc + NLEAD), sizeof *vals);
    if (!vals)
        sl_oom();
    for (int k = 0; k < n && rc == 0; k++) {
        const sl_change_t *c = &chs[k];
        char pos[40], ts[48];
        snprintf(pos, sizeof pos, "%016" PRIX64 ".%08X", c->pos.lsn, c->pos.idx);
        vals[0] = (sl_value_t){op_name(c->op), (int64_t)strlen(op_name(c->op))};
        vals[1] = (sl_value_t){pos, (int64_t)strlen(pos)};
        vals[2] = (sl_value_t){NULL, -1};
        if (c->commit_us > 0) {
            time_t sec = (time_t)(c->commit_us / 1000000);
            struct tm tm;
            gmtime_r(&sec, &tm);
            size_t m = strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
            snprintf(ts + m, sizeof ts - m, ".%06d+00", (int)(c->commit_us % 1000000));
            vals[2] = (sl_value_t){ts, (int64_t)strlen(ts)};
        }
        json_t *unchanged = NULL, *oldkey = NULL;
        const sl_value_t *row = c->op == SL_OP_DELETE ? c->old : c->op == SL_OP_TRUNCATE ? NULL : c->row;
        for (int i = 0; i < nc; i++) {
            sl_value_t v = row ? row[i] : (sl_value_t){NULL, -1};
            if (v.len == SL_VALUE_UNCHANGED) {
                if (!unchanged)
                    unchanged = json_array();
                json_array_append_new(unchanged, json_string(t->columns[i].name));
                v = (sl_value_t){NULL, -1};
            }
            vals[NLEAD + i] = v;
        }
        if (c->op == SL_OP_UPDATE && c->old) {
            oldkey = json_object();
            int npk = sl_table_pk_count(t);
            for (int i = 0; i < (npk ? npk : nc); i++) {
                int ci = npk ? sl_table_pk_col(t, i) : i;
                json_object_set_new(oldkey, t->columns[ci].name, value_json(&t->columns[ci], &c->old[ci]));
            }
        }
        char *ut = unchanged ? json_dumps(unchanged, JSON_COMPACT) : NULL;
        char *ot = oldkey ? json_dumps(oldkey, JSON_COMPACT) : NULL;
        vals[3] = ut ? (sl_value_t){ut, (int64_t)strlen(ut)} : (sl_value_t){NULL, -1};
        vals[4] = ot ? (sl_value_t){ot, (int64_t)strlen(ot)} : (sl_value_t){NULL, -1};
        if (ft->o.fmt->write_row(p->enc, vals, err)) {
            sl_err_prefix(err, "table \"%s\", change at %s: ", t->name, pos);
            rc = -1;
        } else {
            if (p->rows == 0)
                p->first = c->pos;
            p->last = c->pos;
            p->rows++;
        }
        free(ut);
        free(ot);
        json_decref(unchanged);
        json_decref(oldkey);
    }
    free(vals);
    return rc;
}
