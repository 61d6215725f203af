/*
 * pg_apply.c: CDC on the PostgreSQL target: applying row changes (apply_changes)
 * inside the writer's open transaction, and adding or dropping columns.
 *
 * A run of INSERTs goes through COPY FROM STDIN exactly as a load batch does
 * (sl_pg_copy_row), a single INSERT through a prepared INSERT (one round trip
 * instead of two). UPDATE and DELETE are prepared statements with text parameters,
 * cached on the connection per statement text, which is what makes them distinct
 * per (table, operation, column set). Parameters are the canonical text, which
 * PostgreSQL reads with the same input functions COPY uses; bytes are sent as the
 * bytea hex text "\x..." that COPY sends too. So a value lands the same whichever
 * path writes it.
 *
 * Rows are found by primary key. A keyless table matches one row on every column
 * of the old row with IS NOT DISTINCT FROM and updates or deletes it by ctid.
 * Runs on the writer lane's thread; add_column and drop_column run autocommit on
 * the engine's schema thread.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "target/apply.h"
#include "target/pg/pg_target.h"

#define STMT_CACHE_MAX 128
#define SQL_MAX (16u << 20)
#define PARAM_MAX (256u << 20) /* a change comes from one bus message, far below this */
#define COPY_CHUNK (256u << 10)
#define NO_VALUE SIZE_MAX      /* a NULL parameter in sl_pg_apply.offs */

typedef struct stmt {
    uint64_t hash;
    char *sql; /* owned; NULL for a free slot */
    uint64_t used;
    char name[24];
} stmt_t;

struct sl_pg_apply {
    stmt_t stmts[STMT_CACHE_MAX];
    uint64_t tick, next_id;
    sl_buf_t sql;    /* the statement being built */
    sl_buf_t params; /* its parameter values, each NUL-terminated */
    size_t *offs;    /* offset of each parameter in params, NO_VALUE for NULL */
    const char **vals;
    int nparams, cap;
};

void sl_pg_apply_free(struct sl_pg_apply *a)
{
    if (!a)
        return;
    for (int i = 0; i < STMT_CACHE_MAX; i++)
        free(a->stmts[i].sql);
    sl_buf_free(&a->sql);
    sl_buf_free(&a->params);
    free(a->offs);
    free(a->vals);
    free(a);
}

static struct sl_pg_apply *apply_of(sl_pg_target_t *g, int ncols)
{
    if (!g->apply) {
        g->apply = calloc(1, sizeof *g->apply);
        if (!g->apply)
            abort();
        sl_buf_init(&g->apply->sql, SQL_MAX);
        sl_buf_init(&g->apply->params, PARAM_MAX);
    }
    struct sl_pg_apply *a = g->apply;
    int need = 2 * ncols + 1; /* a column is at most in SET and in WHERE */
    if (need > a->cap) {
        free(a->offs);
        free(a->vals);
        a->offs = calloc((size_t)need, sizeof *a->offs);
        a->vals = calloc((size_t)need, sizeof *a->vals);
        if (!a->offs || !a->vals)
            abort();
        a->cap = need;
    }
    return a;
}

/* Forgets every prepared statement (after a schema change: parameter types were
 * fixed when they were prepared). Autocommit only. */
static void forget_statements(sl_pg_target_t *g)
{
    struct sl_pg_apply *a = g->apply;
    if (!a)
        return;
    bool any = false;
    for (int i = 0; i < STMT_CACHE_MAX; i++) {
        any = any || a->stmts[i].sql;
        free(a->stmts[i].sql);
        a->stmts[i].sql = NULL;
    }
    if (any)
        sl_pg_exec(&g->pg, "DEALLOCATE ALL", NULL, "could not deallocate statements");
}

/* ---- building statements ------------------------------------------------------- */

static void start(struct sl_pg_apply *a)
{
    sl_buf_reset(&a->sql);
    sl_buf_reset(&a->params);
    a->nparams = 0;
}

/* Appends "$n" to the statement and v as its value. Returns 1 when a text value
 * holds a NUL byte (PostgreSQL text cannot), -1 on a buffer limit. */
static int add_param(struct sl_pg_apply *a, const sl_column_t *c, const sl_value_t *v,
                     sl_err_t *err)
{
    if (sl_buf_printf(&a->sql, err, "$%d", a->nparams + 1))
        return -1;
    if (v->len < 0) {
        a->offs[a->nparams++] = NO_VALUE;
        return 0;
    }
    size_t n = (size_t)v->len;
    a->offs[a->nparams++] = a->params.len;
    if (sl_type_is_binary(c->type)) {
        static const char hexdig[] = "0123456789abcdef";
        if (sl_buf_add(&a->params, "\\x", 2, err) || sl_buf_reserve(&a->params, 2 * n + 1, err))
            return -1;
        char *o = a->params.data + a->params.len;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)v->p[i];
            *o++ = hexdig[ch >> 4];
            *o++ = hexdig[ch & 15];
        }
        a->params.len += 2 * n;
    } else {
        if (memchr(v->p, '\0', n))
            return 1;
        if (sl_buf_add(&a->params, v->p, n, err))
            return -1;
    }
    return sl_buf_add(&a->params, "", 1, err); /* the terminator is part of the value */
}

/* Whether PostgreSQL can compare values of column c with "=": json, xml and the
 * geometric types have no equality operator (or, for box and circle, one that
 * compares areas), so a keyless match leaves them out. */
static bool has_equality(const sl_table_t *t, const sl_column_t *c)
{
    static const char *const none[] = {"json", "xml", "point", "line", "lseg",
                                       "box", "path", "polygon", "circle"};
    if (!sl_pg_same_engine(t) || !c->native || !c->native[0])
        return (c->type == SL_T_ARRAY ? c->elem : c->type) != SL_T_JSON;
    const char *s = strrchr(c->native, '.');
    s = s ? s + 1 : c->native;
    if (*s == '"')
        s++;
    size_t n = strcspn(s, "\"[( ");
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        if (n == strlen(none[i]) && !strncasecmp(s, none[i], n))
            return false;
    return true;
}

/* Appends the WHERE clause that finds the row ch changes. */
static int add_where(struct sl_pg_apply *a, const sl_pg_t *pg, const sl_table_t *t,
                     const sl_change_t *ch, int *bad, sl_err_t *err)
{
    sl_buf_t *s = &a->sql;
    int npk = sl_table_pk_count(t), rc;
    if (npk) {
        const sl_value_t *key = sl_apply_key_row(ch);
        for (int k = 0; k < npk; k++) {
            int ci = sl_table_pk_col(t, k);
            if (sl_buf_adds(s, k ? " AND " : " WHERE ", err) ||
                sl_pg_add_ident(s, t->columns[ci].name, err) || sl_buf_adds(s, " = ", err))
                return -1;
            if ((rc = add_param(a, &t->columns[ci], &key[ci], err)) != 0) {
                *bad = ci;
                return rc;
            }
        }
        return 0;
    }
    if (sl_buf_adds(s, " WHERE ctid = (SELECT ctid FROM ", err) ||
        sl_pg_add_qname(s, sl_pg_tschema(pg, t), t->name, err))
        return -1;
    bool first = true;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if (sl_pg_is_recreated_generated(t, c) || !has_equality(t, c) ||
            ch->old[i].len == SL_VALUE_UNCHANGED)
            continue;
        if (sl_buf_adds(s, first ? " WHERE " : " AND ", err) || sl_pg_add_ident(s, c->name, err) ||
            sl_buf_adds(s, " IS NOT DISTINCT FROM ", err))
            return -1;
        first = false;
        if ((rc = add_param(a, c, &ch->old[i], err)) != 0) {
            *bad = i;
            return rc;
        }
    }
    if (first)
        return sl_err_set(err, SL_E_SCHEMA, "table \"%s\" has no primary key and no column that "
                                            "can be compared, so rows cannot be matched", t->name);
    return sl_buf_adds(s, " LIMIT 1)", err);
}

/* Builds the UPDATE, DELETE or INSERT statement of ch with its parameters. */
static int build(struct sl_pg_apply *a, const sl_pg_t *pg, const sl_table_t *t,
                 const sl_change_t *ch, int *bad, sl_err_t *err)
{
    sl_buf_t *s = &a->sql;
    int rc;
    start(a);
    if (ch->op == SL_OP_DELETE) {
        if (sl_buf_adds(s, "DELETE FROM ", err) || sl_pg_add_qname(s, sl_pg_tschema(pg, t), t->name, err))
            return -1;
        return add_where(a, pg, t, ch, bad, err);
    }
    bool ins = ch->op == SL_OP_INSERT, first = true;
    if (sl_buf_adds(s, ins ? "INSERT INTO " : "UPDATE ", err) ||
        sl_pg_add_qname(s, sl_pg_tschema(pg, t), t->name, err) || sl_buf_adds(s, ins ? " (" : " SET ", err))
        return -1;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if (sl_pg_is_recreated_generated(t, c) || ch->row[i].len == SL_VALUE_UNCHANGED)
            continue; /* PostgreSQL computes it / the target keeps its value */
        if ((!first && sl_buf_adds(s, ", ", err)) || sl_pg_add_ident(s, c->name, err))
            return -1;
        first = false;
        if (ins)
            continue;
        if (sl_buf_adds(s, " = ", err))
            return -1;
        if ((rc = add_param(a, c, &ch->row[i], err)) != 0) {
            *bad = i;
            return rc;
        }
    }
    if (ins) {
        if (sl_buf_adds(s, ") VALUES (", err))
            return -1;
        first = true;
        for (int i = 0; i < t->ncolumns; i++) {
            if (sl_pg_is_recreated_generated(t, &t->columns[i]))
                continue;
            if (!first && sl_buf_adds(s, ", ", err))
                return -1;
            first = false;
            if ((rc = add_param(a, &t->columns[i], &ch->row[i], err)) != 0) {
                *bad = i;
                return rc;
            }
        }
        return sl_buf_addc(s, ')', err);
    }
    if (first) { /* every value unchanged: the row must still exist */
        int ci = sl_table_pk_count(t) ? sl_table_pk_col(t, 0) : 0;
        if (sl_pg_add_ident(s, t->columns[ci].name, err) || sl_buf_adds(s, " = ", err) ||
            sl_pg_add_ident(s, t->columns[ci].name, err))
            return -1;
    }
    return add_where(a, pg, t, ch, bad, err);
}

/* ---- running statements -------------------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* The prepared statement for a->sql, preparing it (and evicting the least recently
 * used one when the cache is full) on first use. NULL with err set on failure. */
static const stmt_t *prepared(sl_pg_target_t *g, struct sl_pg_apply *a, const char *what,
                              sl_err_t *err)
{
    uint64_t h = fnv1a(a->sql.data, a->sql.len);
    stmt_t *slot = NULL;
    for (int i = 0; i < STMT_CACHE_MAX; i++) {
        stmt_t *st = &a->stmts[i];
        if (st->sql && st->hash == h && !strcmp(st->sql, a->sql.data)) {
            st->used = ++a->tick;
            return st;
        }
        if (!slot || !st->sql || (slot->sql && st->used < slot->used))
            slot = st;
    }
    if (sl_pg_pipeline_flush(g, err))
        return NULL;
    if (slot->sql) {
        char sql[64];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", slot->name);
        if (sl_pg_exec(&g->pg, sql, err, what))
            return NULL;
        free(slot->sql);
        slot->sql = NULL;
    }
    snprintf(slot->name, sizeof slot->name, "sl_apply_%llu", (unsigned long long)++a->next_id);
    PGresult *r = PQprepare(g->pg.conn, slot->name, a->sql.data, a->nparams, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        sl_pg_fail(&g->pg, r, err, what);
        return NULL;
    }
    PQclear(r);
    slot->sql = sl_strdup(a->sql.data);
    slot->hash = h;
    slot->used = ++a->tick;
    return slot;
}

static int nul_byte(const sl_table_t *t, const sl_change_t *ch, int col, const char *label,
                    sl_err_t *err)
{
    char key[600];
    sl_err_set(err, SL_E_DATA, "could not write %s into table \"%s\", column \"%s\": the value "
                               "contains a NUL byte",
               sl_apply_key_text(t, ch, key, sizeof key), label, t->columns[col].name);
    sl_err_detail(err, "PostgreSQL text types cannot store the byte 0x00");
    sl_err_hint(err, "clean the value at the source, or map the column to a binary type");
    return -1;
}

/* Applies one UPDATE or DELETE (or a lone INSERT) with a prepared statement. */
/* ---- pipelining ------------------------------------------------------------------ */

/* Single INSERTs, UPDATEs and DELETEs are sent in libpq pipeline mode and their results
 * read in one go before the next synchronous statement (a COPY, the checkpoint,
 * COMMIT), so that a batch of changes that alternate between tables costs one round
 * trip, not one per change. Each pending statement keeps what its error message needs;
 * an error is reported by the flush, still inside the writer's transaction. */
#define PIPELINE_MAX 256

struct sl_pg_pending {
    char op;
    char *what;  /* "could not update key=(…) in table …" */
    char *label; /* the table */
    char *key;   /* "key=(…)" */
};

static void pending_clear(sl_pg_target_t *g)
{
    for (int i = 0; i < g->npend; i++) {
        free(g->pend[i].what);
        free(g->pend[i].label);
        free(g->pend[i].key);
    }
    g->npend = 0;
}

int sl_pg_pipeline_flush(sl_pg_target_t *g, sl_err_t *err)
{
    PGconn *conn = g->pg.conn;
    if (!conn || PQpipelineStatus(conn) == PQ_PIPELINE_OFF)
        return 0;
    sl_err_t first = {0};
    bool failed = false;
    if (!PQpipelineSync(conn)) {
        sl_pg_fail(&g->pg, NULL, &first, "could not send pipelined changes");
        failed = true;
    }
    for (int i = 0; i < g->npend && !failed; i++) {
        PGresult *r = PQgetResult(conn);
        if (!r) {
            sl_pg_fail(&g->pg, NULL, &first, g->pend[i].what);
            failed = true;
            break;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK) {
            if (g->pend[i].op != SL_OP_INSERT && !strcmp(PQcmdTuples(r), "0")) {
                sl_err_set(&first, SL_E_NOT_FOUND, "%s of a row missing from the target table \"%s\"",
                           g->pend[i].op == SL_OP_UPDATE ? "update" : "delete", g->pend[i].label);
                sl_err_detail(&first, "%s", g->pend[i].key);
                sl_err_hint(&first, "the target has diverged from the source: run `sluice verify`, then "
                                    "reload the table with --restart");
                failed = true;
            }
            PQclear(r);
        } else if (st == PGRES_PIPELINE_ABORTED) {
            PQclear(r);
        } else {
            sl_pg_fail(&g->pg, r, &first, g->pend[i].what); /* clears r */
            failed = true;
        }
        while ((r = PQgetResult(conn)) && PQresultStatus(r) != PGRES_PIPELINE_SYNC)
            PQclear(r); /* the end of this statement's results (NULL) */
        if (r) { /* a sync already: nothing more to read */
            PQclear(r);
            pending_clear(g);
            PQexitPipelineMode(conn);
            goto out;
        }
    }
    /* the rest after a failure, up to the sync */
    for (int guard = 0; guard < 4 * (g->npend + 2) && PQstatus(conn) == CONNECTION_OK; guard++) {
        PGresult *r = PQgetResult(conn);
        if (r && PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        PQclear(r);
    }
    pending_clear(g);
    if (!PQexitPipelineMode(conn) && !failed) {
        sl_err_set(&first, SL_E_INTERNAL, "could not leave pipeline mode: %s", PQerrorMessage(conn));
        failed = true;
    }
out:
    if (failed) {
        if (err)
            *err = first;
        return -1;
    }
    return 0;
}

static int pipeline_send(sl_pg_target_t *g, const stmt_t *st, struct sl_pg_apply *a, const sl_table_t *t,
                         const sl_change_t *ch, const char *label, const char *what, sl_err_t *err)
{
    PGconn *conn = g->pg.conn;
    if (g->npend >= PIPELINE_MAX && sl_pg_pipeline_flush(g, err))
        return -1;
    if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(conn))
        return sl_err_set(err, SL_E_INTERNAL, "could not enter pipeline mode: %s", PQerrorMessage(conn));
    if (g->npend == g->cappend) {
        int cap = g->cappend ? g->cappend * 2 : 64;
        struct sl_pg_pending *p = realloc(g->pend, sizeof *p * (size_t)cap);
        if (!p)
            abort();
        g->pend = p;
        g->cappend = cap;
    }
    if (!PQsendQueryPrepared(conn, st->name, a->nparams, a->vals, NULL, NULL, 0)) {
        sl_pg_fail(&g->pg, NULL, err, what);
        sl_err_t ignored;
        sl_pg_pipeline_flush(g, &ignored);
        return -1;
    }
    char key[600];
    struct sl_pg_pending *p = &g->pend[g->npend++];
    p->op = (char)ch->op;
    p->what = sl_strdup(what);
    p->label = sl_strdup(label);
    p->key = sl_strdup(sl_apply_key_text(t, ch, key, sizeof key));
    return 0;
}

static int apply_one(sl_pg_target_t *g, const sl_table_t *t, const sl_change_t *ch,
                     const char *label, sl_err_t *err)
{
    struct sl_pg_apply *a = apply_of(g, t->ncolumns);
    int bad = -1;
    int rc = build(a, &g->pg, t, ch, &bad, err);
    if (rc == 1)
        return nul_byte(t, ch, bad, label, err);
    if (rc)
        return -1;
    char key[600], what[1024];
    const char *verb = ch->op == SL_OP_INSERT ? "insert" : ch->op == SL_OP_UPDATE ? "update"
                                                                                   : "delete";
    snprintf(what, sizeof what, "could not %s %s in table \"%s\"", verb,
             sl_apply_key_text(t, ch, key, sizeof key), label);
    const stmt_t *st = prepared(g, a, what, err);
    if (!st)
        return -1;
    for (int i = 0; i < a->nparams; i++)
        a->vals[i] = a->offs[i] == NO_VALUE ? NULL : a->params.data + a->offs[i];
    return pipeline_send(g, st, a, t, ch, label, what, err);
}

/* Fills err from the failed COPY of chs[0..n), naming the change its context line
 * points at. */
static int copy_failed(sl_pg_t *pg, const sl_table_t *t, const sl_change_t *chs, int n,
                       PGresult *r, const char *label, sl_err_t *err)
{
    long line;
    char col[256], key[600], what[1024];
    sl_pg_copy_context(r ? PQresultErrorField(r, PG_DIAG_CONTEXT) : NULL, &line, col, sizeof col);
    if (line <= 0 || line > n)
        snprintf(what, sizeof what, "could not insert into table \"%s\"", label);
    else if (col[0])
        snprintf(what, sizeof what, "could not insert %s into table \"%s\", column \"%s\"",
                 sl_apply_key_text(t, &chs[line - 1], key, sizeof key), label, col);
    else
        snprintf(what, sizeof what, "could not insert %s into table \"%s\"",
                 sl_apply_key_text(t, &chs[line - 1], key, sizeof key), label);
    return sl_pg_fail(pg, r, err, what);
}

/* Writes the INSERTs chs[0..n) with one COPY. */
static int insert_run(sl_pg_target_t *g, const sl_table_t *t, const sl_change_t *chs, int n,
                      const char *label, sl_err_t *err)
{
    sl_pg_t *pg = &g->pg;
    if (sl_pg_pipeline_flush(g, err) || sl_pg_copy_start(pg, t, label, err))
        return -1;
    sl_buf_t *b = &g->copy;
    sl_buf_reset(b);
    int rc = 0, bad = -1;
    for (int i = 0; i < n && !rc; i++) {
        rc = sl_pg_copy_row(t, chs[i].row, b, &bad, err);
        if (rc == 1)
            nul_byte(t, &chs[i], bad, label, err);
        else if (!rc && b->len >= COPY_CHUNK)
            rc = sl_pg_copy_send(pg, b, label, err);
    }
    if (rc) {
        sl_pg_copy_abort(pg, "sluice stopped this COPY");
        sl_buf_reset(b);
        return -1;
    }
    PGresult *r;
    rc = sl_pg_copy_end(pg, b, label, &r, err);
    return rc == 1 ? copy_failed(pg, t, chs, n, r, label, err) : rc;
}

int sl_pg_target_apply_changes(sl_target_t *tgt, const sl_table_t *t, const sl_change_t *chs,
                               int n, sl_err_t *err)
{
    sl_pg_target_t *g = (sl_pg_target_t *)tgt;
    char label[300];
    snprintf(label, sizeof label, "%s.%s", sl_pg_tschema(&g->pg, t), t->name);
    for (int i = 0; i < n; i++)
        if (sl_apply_check(t, &chs[i], err))
            return -1;
    for (int i = 0; i < n;) {
        const sl_change_t *ch = &chs[i];
        int run = sl_apply_insert_run(chs, i, n);
        if (run > 1) {
            if (insert_run(g, t, ch, run, label, err))
                return -1;
            i += run;
            continue;
        }
        if (ch->op == SL_OP_TRUNCATE) {
            sl_buf_t q;
            sl_buf_init(&q, SQL_MAX);
            char what[400];
            snprintf(what, sizeof what, "could not truncate table \"%s\"", label);
            int rc = sl_pg_pipeline_flush(g, err) || sl_buf_adds(&q, "TRUNCATE ", err) ||
                     sl_pg_add_qname(&q, sl_pg_tschema(&g->pg, t), t->name, err) ||
                     sl_pg_exec(&g->pg, q.data, err, what);
            sl_buf_free(&q);
            if (rc)
                return -1;
        } else if (apply_one(g, t, ch, label, err)) {
            return -1;
        }
        i++;
    }
    return 0;
}

/* ---- columns --------------------------------------------------------------------- */

/* Runs "ALTER TABLE <t> <rest>" autocommit. */
static int alter(sl_pg_target_t *g, const sl_table_t *t, const sl_buf_t *rest, const char *what,
                 sl_err_t *err)
{
    sl_buf_t q;
    sl_buf_init(&q, SQL_MAX);
    int rc = sl_buf_adds(&q, "ALTER TABLE ", err) ||
             sl_pg_add_qname(&q, sl_pg_tschema(&g->pg, t), t->name, err) || sl_buf_addc(&q, ' ', err) ||
             sl_buf_add(&q, rest->data, rest->len, err) || sl_pg_exec(&g->pg, q.data, err, what)
                 ? -1
                 : 0;
    sl_buf_free(&q);
    forget_statements(g);
    return rc;
}

/* "ADD COLUMN IF NOT EXISTS ..." for c; with_default false leaves its default out. */
static int add_column_sql(sl_pg_t *pg, const sl_table_t *t, const sl_column_t *c,
                          bool with_default, sl_buf_t *b, sl_err_t *err)
{
    sl_buf_reset(b);
    if (sl_buf_adds(b, "ADD COLUMN IF NOT EXISTS ", err) || sl_pg_add_ident(b, c->name, err) ||
        sl_buf_addc(b, ' ', err) || sl_pg_ddl_type(t, c, sl_pg_tschema(pg, t), b, err))
        return -1;
    if (sl_pg_is_recreated_generated(t, c))
        return sl_buf_printf(b, err, " GENERATED ALWAYS AS (%s) STORED", c->generation_expr);
    if (!with_default || !c->default_value)
        return 0;
    if (sl_buf_adds(b, " DEFAULT ", err) || sl_pg_default_sql(t, c, sl_pg_tschema(pg, t), b, err))
        return -1;
    /* Rows that exist get the default, so NOT NULL holds; without one it could not. */
    return !c->nullable ? sl_buf_adds(b, " NOT NULL", err) : 0;
}

int sl_pg_target_add_column(sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c,
                            sl_err_t *err)
{
    sl_pg_target_t *g = (sl_pg_target_t *)tgt;
    char what[600];
    snprintf(what, sizeof what, "could not add column \"%s\" to table \"%s.%s\"", c->name,
             sl_pg_tschema(&g->pg, t), t->name);
    if (sl_pg_ensure_enum(&g->pg, t, c, err))
        return -1;
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int rc = add_column_sql(&g->pg, t, c, true, &b, err) ? -1 : alter(g, t, &b, what, err);
    if (rc && c->default_value && err && err->code == SL_E_DATA) {
        /* A default from another engine PostgreSQL cannot read (a MySQL zero date):
         * the column matters more than its default. */
        sl_warn("table \"%s\", column \"%s\": default %s is not recreated: %s", t->name, c->name,
                c->default_value, err->message);
        rc = add_column_sql(&g->pg, t, c, false, &b, err) ? -1 : alter(g, t, &b, what, err);
    }
    sl_buf_free(&b);
    return rc;
}

int sl_pg_target_drop_column(sl_target_t *tgt, const sl_table_t *t, const char *name,
                             sl_err_t *err)
{
    sl_pg_target_t *g = (sl_pg_target_t *)tgt;
    char what[600];
    snprintf(what, sizeof what, "could not drop column \"%s\" of table \"%s.%s\"", name,
             sl_pg_tschema(&g->pg, t), t->name);
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int rc = sl_buf_adds(&b, "DROP COLUMN IF EXISTS ", err) || sl_pg_add_ident(&b, name, err)
                 ? -1
                 : alter(g, t, &b, what, err);
    sl_buf_free(&b);
    return rc;
}
