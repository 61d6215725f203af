/*
 * pg_apply.c: CDC on the PostgreSQL target: applying row changes (apply_changes)
 * inside the writer's open transaction, and adding or dropping columns.
 *
 * apply_changes checks the changes and copies them into the hold
 * (target/apply_set.h); they are applied when the hold is full or when the writer goes
 * on with anything else on the connection (the checkpoint, COMMIT), which calls
 * sl_pg_pipeline_flush(). Then each queue of the hold is planned and its steps are
 * sent in one libpq pipeline: groups as set statements (pg_apply_set.c), the rest one
 * change per statement (pg_apply_row.c), and all the results are read in one go. So
 * the changes of a whole batch cost about one round trip, and a table's changes are
 * applied a few hundred rows per statement even when the source interleaves tables.
 *
 * What a table allows is read once a minute from the target's catalog: a table no
 * foreign key touches may have its changes applied before or after other tables'
 * within the transaction (readers see only the committed result); a table with no
 * unique index but its primary key may have changes of different keys reordered.
 * The column types read there are what set statements cast their text arrays to.
 *
 * Runs on the writer lane's thread; add_column and drop_column run autocommit on the
 * engine's schema thread.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "target/apply.h"
#include "target/pg/pg_apply.h"

#define SQL_MAX (16u << 20)
#define PARAM_MAX (256u << 20) /* a change comes from one bus message, far below this */
#define PIPELINE_MAX 4096      /* statements sent before their results are read */
#define HOLD_CHANGES 131072
#define HOLD_BYTES (32u << 20)
#define INFO_TTL_MS 60000
#define INSERT_NOW 256 /* inserts applied at once, not held (as many as go through COPY) */

struct sl_pg_apply *sl_pg_apply_of(sl_pg_target_t *g)
{
    if (!g->apply) {
        g->apply = calloc(1, sizeof *g->apply);
        if (!g->apply)
            sl_oom();
        sl_buf_init(&g->apply->sql, SQL_MAX);
        sl_buf_init(&g->apply->params, PARAM_MAX);
        sl_apply_hold_init(&g->apply->hold, HOLD_CHANGES, HOLD_BYTES);
    }
    return g->apply;
}

void sl_pg_apply_params(struct sl_pg_apply *a, int nparams)
{
    if (nparams <= a->cap)
        return;
    free(a->offs);
    free(a->vals);
    a->offs = calloc((size_t)nparams, sizeof *a->offs);
    a->vals = calloc((size_t)nparams, sizeof *a->vals);
    if (!a->offs || !a->vals)
        sl_oom();
    a->cap = nparams;
}

static void info_clear(sl_pg_tinfo_t *in)
{
    for (int i = 0; i < in->ncols; i++) {
        free(in->cols[i]);
        free(in->types[i]);
    }
    free(in->cols);
    free(in->types);
    free(in->name);
    memset(in, 0, sizeof *in);
}

void sl_pg_apply_free(struct sl_pg_apply *a)
{
    if (!a)
        return;
    for (int i = 0; i < SL_PG_STMT_CACHE; i++)
        free(a->stmts[i].sql);
    sl_buf_free(&a->sql);
    sl_buf_free(&a->params);
    free(a->offs);
    free(a->vals);
    sl_apply_hold_free(&a->hold);
    sl_apply_plan_free(&a->plan);
    free(a->pend);
    free(a->pchs);
    for (int i = 0; i < a->ninfo; i++)
        info_clear(&a->info[i]);
    free(a->info);
    free(a);
}

const char *sl_pg_apply_label(const sl_pg_target_t *g, const sl_table_t *t, char *buf, size_t size)
{
    snprintf(buf, size, "%s.%s", sl_pg_tschema(&g->pg, t), t->name);
    return buf;
}

int sl_pg_apply_nul(const sl_table_t *t, const sl_change_t *ch, int col, const char *label,
                    sl_err_t *err)
{
    char key[600];
    sl_err_set(err, SL_E_DATA, "could not write %s into table \"%s\", column \"%s\": the value "
                               "contains a NUL byte",
               sl_apply_key_text(t, ch, key, sizeof key), label, t->columns[col].name);
    sl_err_detail(err, "PostgreSQL text types cannot store the byte 0x00");
    sl_err_hint(err, "clean the value at the source, or set options.on_error to \"reject\" (docs/mapping.md)");
    return -1;
}

/* ---- what a table allows ---------------------------------------------------------- */

/* Reads the catalog of table name (in schema) into in (found false when there is no such
 * table). */
static int info_read(sl_pg_target_t *g, const char *schema, const char *name, sl_pg_tinfo_t *in, sl_err_t *err)
{
    static const char sql[] =
        "SELECT a.attname, quote_ident(tn.nspname) || '.' || quote_ident(ty.typname),"
        " EXISTS (SELECT FROM pg_constraint c WHERE c.contype = 'f'"
        "   AND (c.conrelid = r.oid OR c.confrelid = r.oid)),"
        " EXISTS (SELECT FROM pg_constraint c WHERE c.contype = 'f'"
        "   AND c.conrelid = r.oid AND c.confrelid = r.oid)"
        " OR EXISTS (SELECT FROM pg_index i WHERE i.indrelid = r.oid AND i.indisunique"
        "   AND NOT i.indisprimary)"
        " OR EXISTS (SELECT FROM pg_constraint c WHERE c.contype = 'x' AND c.conrelid = r.oid)"
        " FROM pg_class r JOIN pg_namespace rn ON rn.oid = r.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " JOIN pg_type ty ON ty.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = ty.typnamespace"
        " WHERE rn.nspname = $1 AND r.relname = $2 ORDER BY a.attnum";
    const char *p[] = {schema, name};
    char what[400];
    snprintf(what, sizeof what, "could not read the catalog of table \"%s.%s\"", schema, name);
    PGresult *r = sl_pg_query(&g->pg, sql, 2, p, err, what);
    if (!r)
        return -1;
    info_clear(in);
    in->name = sl_strdup(name);
    in->read_ms = sl_mono_ms();
    int n = PQntuples(r);
    in->found = n > 0;
    in->movable = n > 0 && PQgetvalue(r, 0, 2)[0] == 'f';
    in->leveled = n > 0 && PQgetvalue(r, 0, 3)[0] == 'f';
    in->cols = calloc((size_t)(n ? n : 1), sizeof *in->cols);
    in->types = calloc((size_t)(n ? n : 1), sizeof *in->types);
    if (!in->cols || !in->types)
        sl_oom();
    for (int i = 0; i < n; i++) {
        in->cols[i] = sl_strdup(PQgetvalue(r, i, 0));
        in->types[i] = sl_strdup(PQgetvalue(r, i, 1));
    }
    in->ncols = n;
    PQclear(r);
    return 0;
}

static bool info_has_columns(const sl_pg_tinfo_t *in, const sl_table_t *t)
{
    for (int i = 0; i < t->ncolumns; i++) {
        bool hit = false;
        for (int j = 0; j < in->ncols && !hit; j++)
            hit = !strcmp(in->cols[j], t->columns[i].name);
        if (!hit && !sl_pg_is_recreated_generated(t, &t->columns[i]))
            return false;
    }
    return true;
}

/* The index of t's entry in a->info, read or refreshed as needed; -1 on error. */
static int info_of(sl_pg_target_t *g, const sl_table_t *t, sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    int at = -1;
    for (int i = 0; i < a->ninfo && at < 0; i++)
        if (!strcmp(a->info[i].name, t->name))
            at = i;
    int64_t now = sl_mono_ms();
    if (at >= 0) {
        sl_pg_tinfo_t *in = &a->info[at];
        bool fresh = now - in->read_ms < INFO_TTL_MS;
        /* a column added since: read again, unless that was just done */
        if (fresh && (info_has_columns(in, t) || now - in->read_ms < 1000))
            return at;
    } else {
        sl_pg_tinfo_t *info = realloc(a->info, (size_t)(a->ninfo + 1) * sizeof *info);
        if (!info)
            sl_oom();
        a->info = info;
        at = a->ninfo++;
        memset(&a->info[at], 0, sizeof a->info[at]);
    }
    if (info_read(g, sl_pg_tschema(&g->pg, t), t->name, &a->info[at], err)) {
        info_clear(&a->info[at]);
        a->info[at] = a->info[--a->ninfo];
        return -1;
    }
    return at;
}

/* ---- the pipeline ----------------------------------------------------------------- */

/* What pending statement p was doing, for an error message. */
static void pend_what(sl_pg_target_t *g, const sl_pg_pend_t *p, char *buf, size_t size)
{
    struct sl_pg_apply *a = g->apply;
    char label[300], key[600];
    sl_pg_apply_label(g, p->t, label, sizeof label);
    const sl_change_t *ch = a->pchs[p->first];
    if (p->kind == PEND_TRUNCATE) {
        snprintf(buf, size, "could not truncate table \"%s\"", label);
        return;
    }
    sl_change_op_t op = p->kind == PEND_ROW       ? ch->op
                        : p->kind == PEND_INSERTS ? SL_OP_INSERT
                        : p->kind == PEND_UPDATES ? SL_OP_UPDATE
                                                  : SL_OP_DELETE;
    const char *verb = op == SL_OP_INSERT ? "insert" : op == SL_OP_UPDATE ? "update" : "delete";
    sl_apply_key_text(p->t, ch, key, sizeof key);
    if (p->kind == PEND_ROW)
        snprintf(buf, size, "could not %s %s in table \"%s\"", verb, key, label);
    else
        snprintf(buf, size, "could not %s %d rows (%s and %d more) in table \"%s\"", verb, p->n,
                 key, p->n - 1, label);
}

int sl_pg_apply_send(sl_pg_target_t *g, sl_pg_pend_kind_t kind, const sl_table_t *t,
                     const sl_change_t *const *chs, int n, int info, const char *what,
                     sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    PGconn *conn = g->pg.conn;
    const sl_pg_stmt_t *st = NULL;
    if (kind != PEND_TRUNCATE && !(st = sl_pg_apply_prepared(g, what, err)))
        return -1;
    if (a->npend >= PIPELINE_MAX && sl_pg_apply_drain(g, err))
        return -1;
    if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(conn))
        return sl_err_set(err, SL_E_INTERNAL, "could not enter pipeline mode: %s", PQerrorMessage(conn));
    for (int i = 0; i < a->nparams; i++)
        a->vals[i] = a->offs[i] == SL_PG_NO_VALUE ? NULL : a->params.data + a->offs[i];
    int ok = st ? PQsendQueryPrepared(conn, st->name, a->nparams, a->vals, NULL, NULL, 0)
                : PQsendQueryParams(conn, a->sql.data, 0, NULL, NULL, NULL, NULL, 0);
    if (!ok) {
        sl_pg_fail(&g->pg, NULL, err, what);
        sl_pg_apply_drain(g, NULL);
        return -1;
    }
    if (a->npend == a->cappend) {
        a->cappend = a->cappend ? 2 * a->cappend : 64;
        a->pend = realloc(a->pend, (size_t)a->cappend * sizeof *a->pend);
        if (!a->pend)
            sl_oom();
    }
    if (a->npchs + n > a->cappchs) {
        while (a->npchs + n > a->cappchs)
            a->cappchs = a->cappchs ? 2 * a->cappchs : 1024;
        a->pchs = realloc(a->pchs, (size_t)a->cappchs * sizeof *a->pchs);
        if (!a->pchs)
            sl_oom();
    }
    memcpy(a->pchs + a->npchs, chs, (size_t)n * sizeof *chs);
    a->pend[a->npend++] = (sl_pg_pend_t){.kind = kind, .t = t, .first = a->npchs, .n = n, .info = info};
    a->npchs += n;
    return 0;
}

/* Checks the result r of pending statement p (COMMAND_OK or TUPLES_OK). Returns 1
 * with *suspect set when a set UPDATE updated too few rows (which one is missing is
 * asked after the pipeline), -1 with err set when a row is missing, else 0. */
static int check(sl_pg_target_t *g, const sl_pg_pend_t *p, PGresult *r, sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    char label[300];
    const sl_change_t *ch = a->pchs[p->first];
    switch (p->kind) {
    case PEND_ROW:
        if (ch->op != SL_OP_INSERT && !strcmp(PQcmdTuples(r), "0"))
            return sl_apply_missing(p->t, ch, sl_pg_apply_label(g, p->t, label, sizeof label), err);
        return 0;
    case PEND_UPDATES:
        return strtol(PQcmdTuples(r), NULL, 10) == p->n ? 0 : 1;
    case PEND_DELETES:
        if (PQntuples(r) > 0) {
            long ord = strtol(PQgetvalue(r, 0, 0), NULL, 10);
            if (ord >= 1 && ord <= p->n)
                ch = a->pchs[p->first + ord - 1];
            return sl_apply_missing(p->t, ch, sl_pg_apply_label(g, p->t, label, sizeof label), err);
        }
        return 0;
    default:
        return 0;
    }
}

int sl_pg_apply_drain(sl_pg_target_t *g, sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    PGconn *conn = g->pg.conn;
    if (!a || !conn || PQpipelineStatus(conn) == PQ_PIPELINE_OFF) {
        if (a)
            a->npend = 0;
        return 0;
    }
    sl_err_t first = {0};
    bool failed = false;
    int suspect = -1;
    char what[1024];
    if (!PQpipelineSync(conn)) {
        sl_pg_fail(&g->pg, NULL, &first, "could not send pipelined changes");
        failed = true;
    }
    for (int i = 0; i < a->npend && !failed; i++) {
        const sl_pg_pend_t *p = &a->pend[i];
        PGresult *r = PQgetResult(conn);
        if (!r) {
            pend_what(g, p, what, sizeof what);
            sl_pg_fail(&g->pg, NULL, &first, what);
            failed = true;
            break;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            int rc = check(g, p, r, &first);
            if (rc < 0)
                failed = true;
            else if (rc > 0 && suspect < 0)
                suspect = i;
            PQclear(r);
        } else if (st == PGRES_PIPELINE_ABORTED) {
            PQclear(r);
        } else {
            pend_what(g, p, what, sizeof what);
            sl_pg_fail(&g->pg, r, &first, what); /* clears r */
            failed = true;
        }
        while ((r = PQgetResult(conn)) && PQresultStatus(r) != PGRES_PIPELINE_SYNC)
            PQclear(r); /* the end of this statement's results (NULL) */
        if (r) { /* a sync already: nothing more to read */
            PQclear(r);
            a->npend = 0;
            PQexitPipelineMode(conn);
            goto out;
        }
    }
    /* the rest after a failure, up to the sync */
    for (int guard = 0; guard < 4 * (a->npend + 2) && PQstatus(conn) == CONNECTION_OK; guard++) {
        PGresult *r = PQgetResult(conn);
        if (r && PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        PQclear(r);
    }
    if (!PQexitPipelineMode(conn) && !failed) {
        sl_err_set(&first, SL_E_INTERNAL, "could not leave pipeline mode: %s", PQerrorMessage(conn));
        failed = true;
    }
out:
    if (!failed && suspect >= 0 && err) {
        /* a set UPDATE missed a row: name it (the pipeline is over, the rows it updated
         * are there, the missing one is not) */
        sl_pg_pend_t p = a->pend[suspect];
        a->npend = 0;
        char label[300];
        const sl_change_t *ch = sl_pg_apply_missing(g, p.t, p.info, a->pchs + p.first, p.n, &first);
        if (ch || !first.code)
            sl_apply_missing(p.t, ch ? ch : a->pchs[p.first],
                             sl_pg_apply_label(g, p.t, label, sizeof label), &first);
        failed = true;
    }
    a->npend = 0;
    if (failed) {
        if (err)
            *err = first;
        return -1;
    }
    return 0;
}

/* ---- the hold --------------------------------------------------------------------- */

/* Sends the changes of queue q: plans them and sends each step. */
static int send_queue(sl_pg_target_t *g, sl_apply_queue_t *q, sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    const sl_table_t *t = q->t;
    /* read by apply_changes (no query here: the pipeline may be on) */
    int info = -1;
    for (int i = 0; i < a->ninfo && info < 0; i++)
        if (!strcmp(a->info[i].name, t->name))
            info = i;
    const sl_pg_tinfo_t *in = info >= 0 ? &a->info[info] : NULL;
    bool sets = in && in->found && info_has_columns(in, t);
    sl_apply_mode_t mode = {.leveled = sets && in->leveled,
                            .group_updates = false, /* not leveled: a unique index orders them */
                            .set_min = sets ? 8 : 1 << 30,
                            .set_max = 10000};
    if (mode.leveled)
        sl_apply_merge(&a->plan, q);
    sl_apply_plan_build(&a->plan, t, q->chs, q->n, &mode);
    for (int s = 0; s < a->plan.nsteps; s++) {
        const sl_apply_step_t *st = &a->plan.steps[s];
        const sl_change_t *const *chs = a->plan.order + st->first;
        int rc;
        if (st->kind == SL_STEP_ONE) {
            rc = sl_pg_apply_one(g, t, chs[0], err);
        } else if (st->kind == SL_STEP_TRUNCATE) {
            char label[300], what[400];
            snprintf(what, sizeof what, "could not truncate table \"%s\"",
                     sl_pg_apply_label(g, t, label, sizeof label));
            sl_buf_reset(&a->sql);
            a->nparams = 0;
            rc = sl_buf_adds(&a->sql, "TRUNCATE ", err) ||
                         sl_pg_add_qname(&a->sql, sl_pg_tschema(&g->pg, t), t->name, err) ||
                         sl_pg_apply_send(g, PEND_TRUNCATE, t, chs, 1, info, what, err)
                     ? -1
                     : 0;
        } else {
            rc = sl_pg_apply_step(g, t, info, chs, st->n, st->kind, err);
        }
        if (rc)
            return -1;
    }
    return 0;
}

int sl_pg_pipeline_flush(sl_pg_target_t *g, sl_err_t *err)
{
    struct sl_pg_apply *a = g->apply;
    if (!a)
        return 0;
    int rc = 0;
    for (int i = 0; err && i < a->hold.nq && !rc; i++)
        rc = send_queue(g, &a->hold.q[i], err);
    if (rc)
        sl_pg_apply_drain(g, NULL);
    else
        rc = sl_pg_apply_drain(g, err);
    sl_apply_hold_reset(&a->hold);
    a->npchs = 0;
    return rc;
}

int sl_pg_target_apply_changes(sl_target_t *tgt, const sl_table_t *t, const sl_change_t *chs,
                               int n, sl_err_t *err)
{
    sl_pg_target_t *g = (sl_pg_target_t *)tgt;
    for (int i = 0; i < n; i++)
        if (sl_apply_check(t, &chs[i], err))
            return -1;
    struct sl_pg_apply *a = sl_pg_apply_of(g);
    int info = info_of(g, t, err);
    if (info < 0)
        return -1;
    if (a->hold.nchanges == 0 && n >= INSERT_NOW && sl_apply_insert_run(chs, 0, n) == n) {
        /* Only inserts and nothing held: one COPY now keeps every order and saves the
         * copy into the hold (an insert-only stream). */
        const sl_change_t **p = malloc((size_t)n * sizeof *p);
        if (!p)
            sl_oom();
        for (int i = 0; i < n; i++)
            p[i] = &chs[i];
        int rc = sl_pg_apply_step(g, t, info, p, n, SL_STEP_INSERT, err);
        free(p);
        return rc;
    }
    sl_apply_hold_add(&a->hold, t, a->info[info].found && a->info[info].movable, chs, n);
    return sl_apply_hold_full(&a->hold) ? sl_pg_pipeline_flush(g, err) : 0;
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
    sl_pg_apply_forget(g);
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
