/*
 * pg_schema.c: the PostgreSQL target's schema phase: creating tables (and the
 * enum types they need), truncating them, and finishing them after the data
 * (secondary indexes, identity counters, foreign keys).
 *
 * Every step is idempotent so that a run killed halfway can simply run again:
 * types, indexes and constraints that already exist are checked, not recreated.
 * Runs on the engine's schema thread, autocommit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "target/pg/pg_target.h"

#define SQL_MAX (16u << 20)

static sl_pg_t *pg_of(sl_target_t *tgt)
{
    return &((sl_pg_target_t *)tgt)->pg;
}

/* "schema"."name" into a fresh buffer (caller frees). */
static int qname(sl_buf_t *b, const char *schema, const char *name, sl_err_t *err)
{
    sl_buf_init(b, 4096);
    return sl_pg_add_qname(b, schema, name, err);
}

static int privilege_hint(sl_pg_t *pg, sl_err_t *err)
{
    char role[300];
    if (err && err->code == SL_E_PRIVILEGE)
        sl_err_hint(err, "GRANT CREATE ON SCHEMA \"%s\" TO %s",
                    pg->schema, sl_pg_role_text(pg->user, role, sizeof role));
    return -1;
}

/* ---- enums ------------------------------------------------------------------ */

/* 1 when every label the column needs is among the type's labels. */
static int enum_fits(sl_pg_t *pg, const char *qtype, const sl_column_t *c, bool *exists,
                     sl_err_t *err)
{
    const char *p[] = {qtype};
    PGresult *r = sl_pg_query(pg,
                              "SELECT to_regtype($1) IS NOT NULL, e.enumlabel FROM (SELECT 1) x"
                              " LEFT JOIN pg_enum e ON e.enumtypid = to_regtype($1)"
                              " ORDER BY e.enumsortorder",
                              1, p, err, "could not inspect an enum type");
    if (!r)
        return -1;
    *exists = PQgetvalue(r, 0, 0)[0] == 't';
    int fits = 1;
    for (int l = 0; *exists && l < c->nlabels && fits; l++) {
        fits = 0;
        for (int i = 0; i < PQntuples(r) && !fits; i++)
            fits = !PQgetisnull(r, i, 1) && !strcmp(PQgetvalue(r, i, 1), c->labels[l]);
    }
    PQclear(r);
    return fits;
}

/* Creates the enum type column c needs in the target schema, unless a type of
 * that name with (at least) the needed labels is already there. */
int sl_pg_ensure_enum(sl_pg_t *pg, const sl_table_t *t, const sl_column_t *c, sl_err_t *err)
{
    char name[256];
    sl_pg_enum_name(t, c, name, sizeof name);
    if (!name[0])
        return 0;
    sl_buf_t q, sql;
    if (qname(&q, sl_pg_tschema(pg, t), name, err))
        return -1;
    sl_buf_init(&sql, SQL_MAX);
    int rc = -1;
    /* Two rounds: another lane may create the same type between check and create. */
    for (int round = 0; round < 2; round++) {
        bool exists;
        int fits = enum_fits(pg, q.data, c, &exists, err);
        if (fits < 0)
            break;
        if (exists) {
            if (fits) {
                rc = 0;
            } else {
                sl_err_set(err, SL_E_SCHEMA,
                           "type %s already exists without every label column \"%s\" needs",
                           q.data, c->name);
                sl_err_hint(err, "drop the type, or add the missing labels with ALTER TYPE %s "
                                 "ADD VALUE",
                            q.data);
            }
            break;
        }
        sl_buf_reset(&sql);
        if (sl_buf_printf(&sql, err, "CREATE TYPE %s AS ENUM (", q.data))
            break;
        bool bad = false;
        for (int l = 0; l < c->nlabels && !bad; l++)
            bad = (l && sl_buf_adds(&sql, ", ", err)) ||
                  sl_pg_add_literal(&sql, c->labels[l], strlen(c->labels[l]), err);
        if (bad || sl_buf_addc(&sql, ')', err))
            break;
        PGresult *r = PQexec(pg->conn, sql.data);
        if (PQresultStatus(r) == PGRES_COMMAND_OK) {
            PQclear(r);
            rc = 0;
            break;
        }
        const char *st = sl_pg_sqlstate(r);
        if (round == 0 && (!strcmp(st, "42710") || !strcmp(st, "23505"))) {
            PQclear(r); /* created meanwhile: check its labels */
            continue;
        }
        sl_pg_fail(pg, r, err, "could not create an enum type");
        privilege_hint(pg, err);
        break;
    }
    sl_buf_free(&q);
    sl_buf_free(&sql);
    return rc;
}

/* ---- create ------------------------------------------------------------------ */

/* For tables from another engine, a literal default may not be a valid value here
 * (MySQL's zero dates): such defaults are dropped with a warning, not silently. */
static int check_defaults(sl_pg_t *pg, const sl_table_t *t, bool *keep, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        keep[i] = true;
        if (!c->default_value || sl_pg_same_engine(t))
            continue;
        sl_buf_reset(&b);
        if (sl_buf_adds(&b, "SELECT ", err) || sl_pg_default_sql(t, c, sl_pg_tschema(pg, t), &b, err)) {
            if (err && err->code != SL_E_DATA) { /* a NUL byte is a bad default, not a bug */
                sl_buf_free(&b);
                return -1;
            }
            keep[i] = false;
        } else {
            PGresult *r = PQexec(pg->conn, b.data);
            const char *st = sl_pg_sqlstate(r);
            if (PQresultStatus(r) != PGRES_TUPLES_OK && (!strncmp(st, "22", 2) || !strcmp(st, "42804")))
                keep[i] = false;
            else if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                sl_pg_fail(pg, r, err, "could not check a column default");
                sl_buf_free(&b);
                return -1;
            }
            PQclear(r);
        }
        if (!keep[i])
            sl_warn("table \"%s\": default '%s' of column \"%s\" is not a valid PostgreSQL value; "
                    "the column is created without a default",
                    t->name, c->default_value, c->name);
    }
    sl_buf_free(&b);
    return 0;
}

int sl_pg_target_create_table(sl_target_t *tgt, const sl_table_t *t, bool drop, sl_err_t *err)
{
    sl_pg_t *pg = pg_of(tgt);
    char what[300];
    snprintf(what, sizeof what, "could not create table \"%s.%s\"", sl_pg_tschema(pg, t), t->name);
    sl_buf_t q, sql;
    if (qname(&q, sl_pg_tschema(pg, t), t->name, err))
        return -1;
    sl_buf_init(&sql, SQL_MAX);
    bool *keep = calloc((size_t)(t->ncolumns ? t->ncolumns : 1), sizeof *keep);
    int rc = -1;
    if (!keep)
        sl_oom();
    if (drop && (sl_buf_printf(&sql, err, "DROP TABLE IF EXISTS %s CASCADE", q.data) ||
                 sl_pg_exec(pg, sql.data, err, what))) {
        privilege_hint(pg, err);
        goto out;
    }
    for (int i = 0; i < t->ncolumns; i++)
        if (sl_pg_ensure_enum(pg, t, &t->columns[i], err))
            goto out;
    if (check_defaults(pg, t, keep, err))
        goto out;
    sl_buf_reset(&sql);
    if (sl_pg_create_sql(t, sl_pg_tschema(pg, t), keep, &sql, err))
        goto out;
    if (sl_pg_exec(pg, sql.data, err, what)) {
        privilege_hint(pg, err);
        sl_err_detail(err, "%.900s", sql.data);
        goto out;
    }
    rc = 0;
out:
    free(keep);
    sl_buf_free(&q);
    sl_buf_free(&sql);
    return rc;
}

/* Runs "<prefix> "schema"."table"" for the verb; a missing privilege gets a hint
 * naming the GRANT. */
static int table_cmd(sl_target_t *tgt, const sl_table_t *t, const char *prefix, const char *verb,
                     const char *privilege, sl_err_t *err)
{
    sl_pg_t *pg = pg_of(tgt);
    sl_buf_t sql;
    sl_buf_init(&sql, 4096);
    char what[300];
    snprintf(what, sizeof what, "could not %s table \"%s.%s\"", verb, sl_pg_tschema(pg, t), t->name);
    int rc = sl_buf_adds(&sql, prefix, err) || sl_pg_add_qname(&sql, sl_pg_tschema(pg, t), t->name, err) ||
             sl_pg_exec(pg, sql.data, err, what);
    sl_buf_free(&sql);
    char role[300];
    if (rc && err && err->code == SL_E_PRIVILEGE)
        sl_err_hint(err, "GRANT %s ON \"%s\".\"%s\" TO %s", privilege, sl_pg_tschema(pg, t), t->name,
                    sl_pg_role_text(pg->user, role, sizeof role));
    return rc ? -1 : 0;
}

int sl_pg_target_truncate_table(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    return table_cmd(tgt, t, "TRUNCATE ", "truncate", "TRUNCATE", err);
}

int sl_pg_target_drop_table(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    sl_pg_t *pg = pg_of(tgt);
    sl_buf_t sql;
    sl_buf_init(&sql, 4096);
    char what[300];
    snprintf(what, sizeof what, "could not drop table \"%s.%s\"", pg->schema, t->name);
    int rc = sl_buf_adds(&sql, "DROP TABLE IF EXISTS ", err) || sl_pg_add_qname(&sql, pg->schema, t->name, err) ||
             sl_pg_exec(pg, sql.data, err, what);
    sl_buf_free(&sql);
    if (rc && err && err->code == SL_E_PRIVILEGE)
        sl_err_hint(err, "only the table's owner drops it: drop it as \"%s\"'s owner", t->name);
    return rc ? -1 : 0;
}

int sl_pg_target_delete_all(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    return table_cmd(tgt, t, "DELETE FROM ", "empty", "DELETE", err);
}

/* ---- finish: indexes, identities --------------------------------------------- */

/* Who holds the relation name cand in the target schema: 0 nobody, 1 an index of
 * table q, 2 something else. */
static int name_owner(sl_pg_t *pg, const sl_table_t *t, const char *cand, const char *q, sl_err_t *err)
{
    sl_buf_t qc;
    if (qname(&qc, sl_pg_tschema(pg, t), cand, err))
        return -1;
    const char *p[] = {qc.data, q};
    PGresult *r = sl_pg_query(pg,
                              "SELECT to_regclass($1) IS NOT NULL, EXISTS (SELECT 1 FROM pg_index"
                              " WHERE indexrelid = to_regclass($1) AND indrelid = to_regclass($2))",
                              2, p, err, "could not look up an index name");
    sl_buf_free(&qc);
    if (!r)
        return -1;
    int owner = PQgetvalue(r, 0, 0)[0] != 't' ? 0 : PQgetvalue(r, 0, 1)[0] == 't' ? 1 : 2;
    PQclear(r);
    return owner;
}

/* Index names are global to a schema in PostgreSQL (MySQL's are per table): when
 * the source's name is taken by another table, "<table>_<name>" is used. Both
 * candidates are tried in a fixed order, so a rerun finds what it created. */
static int create_index(sl_pg_t *pg, const sl_table_t *t, const sl_index_t *x, const char *q,
                        sl_err_t *err)
{
    char cands[2][300];
    snprintf(cands[0], sizeof cands[0], "%s", x->name);
    snprintf(cands[1], sizeof cands[1], "%s_%s", t->name, x->name);
    sl_buf_t sql;
    sl_buf_init(&sql, SQL_MAX);
    for (int k = 0; k < 2; k++) {
        int owner = name_owner(pg, t, cands[k], q, err);
        if (owner == 2)
            continue;
        if (owner != 0) {
            sl_buf_free(&sql);
            return owner == 1 ? 0 : -1;
        }
        sl_buf_reset(&sql);
        bool bad = sl_buf_printf(&sql, err, "CREATE %sINDEX IF NOT EXISTS ",
                                 x->unique ? "UNIQUE " : "") ||
                   sl_pg_add_ident(&sql, cands[k], err) || sl_buf_printf(&sql, err, " ON %s (", q);
        for (int i = 0; i < x->ncolumns && !bad; i++)
            bad = (i && sl_buf_adds(&sql, ", ", err)) || sl_pg_add_ident(&sql, x->columns[i], err);
        char what[400];
        snprintf(what, sizeof what, "could not create index \"%s\" on table \"%s.%s\"", cands[k],
                 sl_pg_tschema(pg, t), t->name);
        /* IF NOT EXISTS also "succeeds" when another lane took the name just now,
         * hence the second look. */
        if (bad || sl_buf_addc(&sql, ')', err) || sl_pg_exec(pg, sql.data, err, what) ||
            (owner = name_owner(pg, t, cands[k], q, err)) < 0) {
            sl_buf_free(&sql);
            return -1;
        }
        if (owner == 1) {
            sl_buf_free(&sql);
            return 0;
        }
    }
    sl_buf_free(&sql);
    sl_err_set(err, SL_E_SCHEMA, "could not name index \"%s\" of table \"%s.%s\"", x->name,
               sl_pg_tschema(pg, t), t->name);
    sl_err_detail(err, "\"%s\" and \"%s\" are both taken by other relations in schema \"%s\"",
                  cands[0], cands[1], sl_pg_tschema(pg, t));
    sl_err_hint(err, "rename or drop one of them in the target");
    return -1;
}

/* Moves the identity sequence past the largest loaded value, so that the
 * application's next insert does not collide. */
static int reset_identity(sl_pg_t *pg, const sl_table_t *t, const sl_column_t *c, const char *q,
                          sl_err_t *err)
{
    sl_buf_t col, sql;
    sl_buf_init(&col, 1024);
    sl_buf_init(&sql, 8192);
    char what[400];
    snprintf(what, sizeof what, "could not reset the identity of \"%s\" in table \"%s.%s\"", c->name,
             sl_pg_tschema(pg, t), t->name);
    const char *p[] = {q, c->name};
    PGresult *r = NULL;
    if (!sl_pg_add_ident(&col, c->name, err) &&
        !sl_buf_printf(&sql, err,
                       "SELECT CASE WHEN max(%s) IS NULL OR max(%s) < 1"
                       " THEN setval(pg_get_serial_sequence($1, $2), 1, false)"
                       " ELSE setval(pg_get_serial_sequence($1, $2), max(%s), true) END FROM %s",
                       col.data, col.data, col.data, q))
        r = sl_pg_query(pg, sql.data, 2, p, err, what);
    sl_buf_free(&col);
    sl_buf_free(&sql);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int sl_pg_target_finish_table(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    sl_pg_t *pg = pg_of(tgt);
    sl_buf_t q;
    if (qname(&q, sl_pg_tschema(pg, t), t->name, err))
        return -1;
    int rc = 0;
    for (int i = 0; i < t->nindexes && !rc; i++)
        rc = create_index(pg, t, &t->indexes[i], q.data, err);
    for (int i = 0; i < t->ncolumns && !rc; i++)
        if (sl_pg_is_identity(t, &t->columns[i]))
            rc = reset_identity(pg, t, &t->columns[i], q.data, err);
    if (rc)
        privilege_hint(pg, err);
    sl_buf_free(&q);
    return rc;
}

/* ---- finish: foreign keys -------------------------------------------------------- */

static const char *fk_action(const char *a)
{
    static const char *ok[] = {"NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"};
    for (size_t i = 0; a && i < sizeof ok / sizeof ok[0]; i++)
        if (!strcasecmp(a, ok[i]))
            return ok[i];
    return "NO ACTION";
}

static int add_fkey(sl_pg_t *pg, const sl_table_t *t, const sl_fkey_t *f, const char *q,
                    sl_err_t *err)
{
    sl_buf_t ref, sql;
    if (qname(&ref, sl_pg_tschema(pg, t), f->ref_table, err))
        return -1;
    sl_buf_init(&sql, SQL_MAX);
    char what[400];
    snprintf(what, sizeof what, "could not add foreign key \"%s\" to table \"%s.%s\"", f->name,
             sl_pg_tschema(pg, t), t->name);
    int rc = -1;
    /* conname is type name: the cast clips long names the way CREATE does. */
    const char *p[] = {q, f->name, ref.data};
    PGresult *r = sl_pg_query(pg,
                              "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid ="
                              " to_regclass($1) AND conname = $2::name), to_regclass($3) IS NOT NULL",
                              3, p, err, what);
    if (!r)
        goto out;
    bool exists = PQgetvalue(r, 0, 0)[0] == 't', has_ref = PQgetvalue(r, 0, 1)[0] == 't';
    PQclear(r);
    if (exists) {
        rc = 0;
        goto out;
    }
    if (!has_ref) {
        sl_warn("table \"%s\": foreign key \"%s\" skipped: the referenced table %s is not in the "
                "target", t->name, f->name, ref.data);
        rc = 0;
        goto out;
    }
    bool bad = sl_buf_printf(&sql, err, "ALTER TABLE %s ADD CONSTRAINT ", q) ||
               sl_pg_add_ident(&sql, f->name, err) || sl_buf_adds(&sql, " FOREIGN KEY (", err);
    for (int i = 0; i < f->ncolumns && !bad; i++)
        bad = (i && sl_buf_adds(&sql, ", ", err)) || sl_pg_add_ident(&sql, f->columns[i], err);
    bad = bad || sl_buf_printf(&sql, err, ") REFERENCES %s (", ref.data);
    for (int i = 0; i < f->ncolumns && !bad; i++)
        bad = (i && sl_buf_adds(&sql, ", ", err)) || sl_pg_add_ident(&sql, f->ref_columns[i], err);
    bad = bad || sl_buf_printf(&sql, err, ") ON DELETE %s ON UPDATE %s", fk_action(f->on_delete),
                               fk_action(f->on_update));
    if (!bad && !sl_pg_exec(pg, sql.data, err, what))
        rc = 0;
out:
    sl_buf_free(&ref);
    sl_buf_free(&sql);
    return rc;
}

int sl_pg_target_finish_fkeys(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    sl_pg_t *pg = pg_of(tgt);
    sl_buf_t q;
    if (qname(&q, sl_pg_tschema(pg, t), t->name, err))
        return -1;
    int rc = 0, i = 0;
    for (; i < t->nfkeys && !rc; i++)
        rc = add_fkey(pg, t, &t->fkeys[i], q.data, err);
    char role[300];
    if (rc && err && err->code == SL_E_PRIVILEGE)
        sl_err_hint(err, "GRANT REFERENCES ON \"%s\".\"%s\" TO %s; ALTER TABLE \"%s\".\"%s\" OWNER TO %s",
                    sl_pg_tschema(pg, t), t->fkeys[i - 1].ref_table, sl_pg_role_text(pg->user, role, sizeof role),
                    sl_pg_tschema(pg, t), t->name, role);
    sl_buf_free(&q);
    return rc;
}
