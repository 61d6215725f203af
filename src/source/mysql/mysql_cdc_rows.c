/*
 * mysql_cdc_rows.c: the events of a MariaDB/MySQL change stream that carry rows and
 * tables: TABLE_MAP (which table a table id is, with its columns), WRITE/UPDATE/DELETE
 * rows (to change events, with values from binlog.c), and DDL (mysql_ddl.h).
 *
 * DDL: ALTER TABLE ... ADD/DROP COLUMN (and index, default, comment and other
 * data-neutral clauses) on a replicated table pass; the next TABLE_MAP shows the new
 * columns and the handler gets SL_CDC_RELATION. TRUNCATE becomes a TRUNCATE change.
 * Anything else on a replicated table (RENAME, DROP, CHANGE/MODIFY COLUMN, ...) stops
 * the stream with SL_E_SCHEMA.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/mysql/mysql_cdc.h"
#include "core/mem.h"
#include "source/mysql/mysql_ddl.h"

#define MAX_TMAPS 4096

static int find_table(const sl_my_cdc_t *c, const char *db, const char *name)
{
    for (int i = 0; i < c->ntables; i++)
        if (!strcmp(sl_my_cdc_db(c, c->tables[i]), db) && !strcmp(c->tables[i]->name, name))
            return i;
    return -1;
}

static int ddl_refused(sl_my_cdc_t *c, int ti, const char *sql, size_t n, sl_err_t *err)
{
    char label[300];
    sl_table_label(c->tables[ti], label, sizeof label);
    sl_err_set(err, SL_E_SCHEMA, "replicated table \"%s\" was changed on the source: %.*s", label,
               (int)(n > 200 ? 200 : n), sql);
    sl_err_detail(err, "sluice follows ALTER TABLE ... ADD COLUMN / DROP COLUMN and TRUNCATE from the "
                       "binlog; this statement would leave the target out of line");
    sl_err_hint(err, "make the same change on the target (or leave the table out of the stream), "
                     "then run `sluice cleanup` and `sluice run --restart` to copy the table again");
    return -1;
}

typedef struct ddl_ctx {
    sl_my_cdc_t *c;
    const sl_binlog_event_t *ev;
    sl_err_t *err;
} ddl_ctx_t;

/* One table a DDL statement names: what it means for the stream. */
static int ddl_table(void *ctx, sl_my_ddl_kind_t kind, const char *db, const char *table)
{
    ddl_ctx_t *d = ctx;
    sl_my_cdc_t *c = d->c;
    const char *sql = d->ev->query.sql;
    size_t n = d->ev->query.sqllen;
    if (kind == SL_MY_DDL_DROP_DATABASE) {
        for (int i = 0; i < c->ntables; i++)
            if (!strcmp(sl_my_cdc_db(c, c->tables[i]), db))
                return ddl_refused(c, i, sql, n, d->err);
        return 0;
    }
    int ti = find_table(c, db, table);
    if (ti < 0 || kind == SL_MY_DDL_ALTER)
        return 0; /* not replicated, or followed through the next TABLE_MAP */
    if (kind == SL_MY_DDL_TRUNCATE)
        return sl_my_cdc_emit_change(c, SL_OP_TRUNCATE, ti, NULL, NULL, d->err);
    return ddl_refused(c, ti, sql, n, d->err);
}

int sl_my_cdc_on_ddl(sl_my_cdc_t *c, const sl_binlog_event_t *ev, sl_err_t *err)
{
    char defdb[SL_MY_DDL_NAME_MAX];
    snprintf(defdb, sizeof defdb, "%.*s", (int)ev->query.dblen, ev->query.db);
    ddl_ctx_t d = {c, ev, err};
    return sl_my_ddl_parse(ev->query.sql, ev->query.sqllen, defdb, ddl_table, &d);
}

void sl_my_cdc_rows_free(sl_my_cdc_t *c)
{
    free(c->before);
    free(c->after);
    free(c->oldv);
    free(c->newv);
    c->before = c->after = NULL;
    c->oldv = c->newv = NULL;
    c->capcols = c->capvals = 0;
    sl_buf_free(&c->arena_old);
    sl_buf_free(&c->arena_new);
}

void sl_my_cdc_tmaps_clear(sl_my_cdc_t *c)
{
    for (int i = 0; i < c->ntmaps; i++) {
        sl_binlog_tmap_free(c->tmaps[i].tm);
        free(c->tmaps[i].map);
    }
    free(c->tmaps);
    c->tmaps = NULL;
    c->ntmaps = 0;
}

static sl_my_tmap_ent_t *tmap_find(sl_my_cdc_t *c, uint64_t id)
{
    for (int i = 0; i < c->ntmaps; i++)
        if (c->tmaps[i].id == id) {
            c->tmaps[i].used = ++c->tick;
            return &c->tmaps[i];
        }
    return NULL;
}

static void ensure_cells(sl_my_cdc_t *c, int ncols)
{
    if (ncols > c->capcols) {
        free(c->before);
        free(c->after);
        c->before = calloc((size_t)ncols, sizeof *c->before);
        c->after = calloc((size_t)ncols, sizeof *c->after);
        if (!c->before || !c->after)
            sl_oom();
        c->capcols = ncols;
    }
}

static void ensure_vals(sl_my_cdc_t *c, int n)
{
    if (n > c->capvals) {
        free(c->oldv);
        free(c->newv);
        c->oldv = calloc((size_t)n, sizeof *c->oldv);
        c->newv = calloc((size_t)n, sizeof *c->newv);
        if (!c->oldv || !c->newv)
            sl_oom();
        c->capvals = n;
    }
}

int sl_my_cdc_on_table_map(sl_my_cdc_t *c, const sl_binlog_event_t *ev, sl_err_t *err)
{
    /* perf: the TABLE_MAP the entry holds already, sent again before the next statement */
    uint64_t same_id;
    sl_my_tmap_ent_t *same;
    if (!sl_binlog_table_id(ev, &c->fmt, &same_id, NULL) && (same = tmap_find(c, same_id)) &&
        sl_binlog_tmap_same(same->tm, ev))
        return 0;
    sl_binlog_tmap_t *tm = NULL;
    if (sl_binlog_tmap_decode(ev, &c->fmt, &tm, err))
        return -1;
    sl_my_tmap_ent_t *e = tmap_find(c, tm->table_id);
    if (!e) {
        if (c->ntmaps == MAX_TMAPS) { /* evict the least recently used */
            int lru = 0;
            for (int i = 1; i < c->ntmaps; i++)
                if (c->tmaps[i].used < c->tmaps[lru].used)
                    lru = i;
            sl_binlog_tmap_free(c->tmaps[lru].tm);
            free(c->tmaps[lru].map);
            c->tmaps[lru] = c->tmaps[--c->ntmaps];
        }
        sl_my_tmap_ent_t *p = realloc(c->tmaps, sizeof *p * (size_t)(c->ntmaps + 1));
        if (!p)
            sl_oom();
        c->tmaps = p;
        e = &c->tmaps[c->ntmaps++];
        memset(e, 0, sizeof *e);
        e->id = tm->table_id;
        e->used = ++c->tick;
    }
    sl_binlog_tmap_free(e->tm);
    e->tm = tm;
    e->t = NULL; /* mapped again at its first row */
    e->table = find_table(c, tm->db, tm->table);
    return 0;
}

static int columns_differ(sl_my_cdc_t *c, sl_my_tmap_ent_t *e, sl_err_t *err)
{
    const sl_table_t *t = c->tables[e->table];
    char label[300];
    sl_table_label(t, label, sizeof label);
    sl_buf_t a, b;
    sl_buf_init(&a, 64 * 1024);
    sl_buf_init(&b, 64 * 1024);
    for (int j = 0; j < e->tm->ncols; j++)
        sl_buf_printf(&a, NULL, "%s%.*s (type %u)", j ? ", " : "", (int)e->tm->cols[j].name.len,
                      e->tm->cols[j].name.p ? e->tm->cols[j].name.p : "?", e->tm->cols[j].type);
    for (int i = 0; i < t->ncolumns; i++)
        sl_buf_printf(&b, NULL, "%s%s %s", i ? ", " : "", t->columns[i].name,
                      t->columns[i].native ? t->columns[i].native : sl_type_name(t->columns[i].type));
    sl_err_set(err, SL_E_SCHEMA, "the columns of table \"%s\" in the binlog do not match the stream's", label);
    sl_err_detail(err, "the binlog has (%s); the stream's description has (%s)", a.data ? a.data : "",
                  b.data ? b.data : "");
    sl_err_hint(err, "%s", e->tm->has_names ? "run `sluice run --restart` to copy the table again with its new shape"
                                            : "SET GLOBAL binlog_row_metadata = 'FULL' so that the binlog names the columns");
    sl_buf_free(&a);
    sl_buf_free(&b);
    return -1;
}

/* Maps the entry's columns to the stream's table, telling the handler first when the
 * table changed (as pg_cdc.c does with a Relation message). */
static int tmap_map(sl_my_cdc_t *c, sl_my_tmap_ent_t *e, sl_err_t *err)
{
    const sl_table_t *t = c->tables[e->table];
    int *map = realloc(e->map, sizeof *map * (size_t)(t->ncolumns ? t->ncolumns : 1));
    if (!map)
        sl_oom();
    e->map = map;
    if (!sl_binlog_map_columns(e->tm, t, map)) {
        e->t = t;
        return 0;
    }
    if (!e->tm->has_names)
        return columns_differ(c, e, err);
    const char **names = calloc((size_t)e->tm->ncols, sizeof *names);
    char *buf = malloc(e->tm->ncols * 65u * 4 + 1);
    if (!names || !buf)
        sl_oom();
    size_t at = 0;
    for (int j = 0; j < e->tm->ncols; j++) {
        size_t len = e->tm->cols[j].name.len < 256 ? e->tm->cols[j].name.len : 255;
        memcpy(buf + at, e->tm->cols[j].name.p, len);
        buf[at + len] = '\0';
        names[j] = buf + at;
        at += len + 1;
        if (at + 256 > e->tm->ncols * 65u * 4)
            break;
    }
    sl_cdc_event_t ev = {.kind = SL_CDC_RELATION, .xact_lsn = c->xact_lsn, .commit_us = c->commit_us,
                         .table = e->table, .nrelcols = e->tm->ncols, .relcols = names};
    int rc = c->h->on_event(c->h->ctx, &ev, err);
    free(names);
    free(buf);
    if (rc)
        return rc;
    t = c->tables[e->table];
    map = realloc(e->map, sizeof *map * (size_t)(t->ncolumns ? t->ncolumns : 1));
    if (!map)
        sl_oom();
    e->map = map;
    if (sl_binlog_map_columns(e->tm, t, map))
        return columns_differ(c, e, err);
    e->t = t;
    return 0;
}

int sl_my_cdc_on_rows(sl_my_cdc_t *c, const sl_binlog_event_t *ev, sl_err_t *err)
{
    uint64_t id;
    if (sl_binlog_table_id(ev, &c->fmt, &id, err))
        return -1;
    sl_my_tmap_ent_t *e = tmap_find(c, id);
    if (!e)
        return sl_err_set(err, SL_E_PROTOCOL, "a rows event for table id %" PRIu64 " without its TABLE_MAP", id);
    if (e->table < 0)
        return 0;
    if (e->t != c->tables[e->table] && tmap_map(c, e, err))
        return -1;
    sl_binlog_rows_t rows;
    if (sl_binlog_rows_decode(ev, &c->fmt, &rows, err))
        return -1;
    const sl_table_t *t = e->t;
    ensure_cells(c, e->tm->ncols);
    ensure_vals(c, t->ncolumns ? t->ncolumns : 1);
    int rc;
    while ((rc = sl_binlog_rows_next(&rows, e->tm, c->before, c->after, err)) == 1) {
        const sl_value_t *row = NULL, *old = NULL;
        if (rows.kind != 'I') {
            if (sl_binlog_row_values(e->tm, t, e->map, c->before, false, &c->arena_old, c->oldv, err))
                return -1;
            old = c->oldv;
        }
        if (rows.kind != 'D') {
            if (sl_binlog_row_values(e->tm, t, e->map, c->after, true, &c->arena_new, c->newv, err))
                return -1;
            row = c->newv;
        }
        sl_change_op_t op = rows.kind == 'I' ? SL_OP_INSERT : rows.kind == 'U' ? SL_OP_UPDATE : SL_OP_DELETE;
        if (sl_my_cdc_emit_change(c, op, e->table, row, old, err))
            return -1;
    }
    return rc < 0 ? -1 : 0;
}

