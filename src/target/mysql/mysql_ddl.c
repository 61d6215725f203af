/*
 * mysql_ddl.c: schema work of the MariaDB/MySQL target: CREATE TABLE before the
 * data, then secondary indexes, the AUTO_INCREMENT counter and foreign keys after
 * it. The "after" steps look up what already exists so a rerun after a crash
 * skips it (finish_table and finish_fkeys are idempotent).
 *
 * Types come from mysql_literal.c: verbatim `native` types for a MySQL source,
 * the canonical mapping otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "target/mysql/mysql_target.h"

#define SQL_MAX (16u << 20)

static int run(sl_mysql_tgt_t *tgt, sl_buf_t *b, const sl_table_t *t, const char *what,
               sl_err_t *err)
{
    if (sl_mysql_exec(&tgt->my, b->data, err)) {
        sl_err_prefix(err, "table \"%s\": %s: ", t->name, what);
        return -1;
    }
    return 0;
}

/* The column's literal DEFAULT, or nothing when the canonical default cannot be
 * written as a MySQL literal (that is logged, not fatal: the data is unaffected). */
static int add_default(sl_buf_t *b, const sl_table_t *t, const sl_column_t *c, sl_err_t *err)
{
    if (!c->default_value || c->autoinc || c->generated || c->type == SL_T_GEOMETRY)
        return 0;
    sl_buf_t lit;
    sl_buf_init(&lit, SQL_MAX);
    char why[256];
    int rc = sl_mysql_literal(&lit, t, c, c->default_value, strlen(c->default_value), why,
                              sizeof why, err);
    if (rc == 1)
        sl_warn("table \"%s\", column \"%s\": default %s is not recreated: %s", t->name, c->name,
                c->default_value, why);
    else if (rc == 0)
        rc = sl_buf_adds(b, " DEFAULT ", err) || sl_buf_adds(b, lit.data, err) ? -1 : 0;
    sl_buf_free(&lit);
    return rc < 0 ? -1 : 0;
}

int sl_mysql_column_def(sl_buf_t *b, const sl_table_t *t, const sl_column_t *c, int width,
                        bool autoinc, sl_err_t *err)
{
    if (sl_mysql_add_ident(b, c->name, err) || sl_buf_addc(b, ' ', err) ||
        sl_mysql_column_type(b, t, c, width, err))
        return -1;
    if (c->target_expr) /* another engine's generated column, its expression translated */
        return sl_buf_printf(b, err, " GENERATED ALWAYS AS (%s) STORED", c->target_expr);
    if (!sl_mysql_col_written(t, c)) {
        /* Same engine: recompute it. sl_column_t does not say VIRTUAL or STORED;
         * VIRTUAL is both engines' default and is never computed by the INSERT, so
         * an expression that fails on some row (overflow in strict mode) fails on
         * read as it does at the source, not in the load. */
        return sl_buf_printf(b, err, " GENERATED ALWAYS AS (%s) VIRTUAL", c->generation_expr);
    }
    if (!c->nullable && sl_buf_adds(b, " NOT NULL", err))
        return -1;
    if (autoinc && sl_buf_adds(b, " AUTO_INCREMENT", err))
        return -1;
    return add_default(b, t, c, err);
}

/* Whether the column may keep AUTO_INCREMENT: MySQL wants an integer that leads a
 * key; the first primary key column always qualifies. */
static bool keep_autoinc(const sl_table_t *t, const sl_column_t *c)
{
    if (!c->autoinc)
        return false;
    if (sl_type_is_integer(c->type) && c->pk_pos == 1)
        return true;
    sl_info("table \"%s\", column \"%s\": not AUTO_INCREMENT on the target (MySQL needs an "
            "integer first primary key column)", t->name, c->name);
    return false;
}

int sl_mysql_create_sql(const sl_table_t *t, sl_buf_t *b, sl_err_t *err)
{
    int *w = calloc((size_t)(t->ncolumns > 0 ? t->ncolumns : 1), sizeof *w);
    if (!w)
        sl_oom();
    int rc = -1;
    sl_mysql_widths(t, w);
    if (sl_buf_adds(b, "CREATE TABLE ", err) || sl_mysql_add_ident(b, t->name, err) || sl_buf_adds(b, " (", err))
        goto out;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if ((i && sl_buf_adds(b, ", ", err)) || sl_mysql_column_def(b, t, c, w[i], keep_autoinc(t, c), err))
            goto out;
        if (!sl_mysql_same_engine(t) && !c->cast && c->pk_pos > 0 && w[i] > 0 && (c->length == 0 || c->length > w[i]))
            sl_info("table \"%s\": key column \"%s\" is limited to %d characters to fit "
                    "InnoDB's key size; a longer value fails the load", t->name, c->name, w[i]);
    }
    int npk = sl_table_pk_count(t);
    for (int i = 0; i < npk; i++)
        if (sl_buf_adds(b, i ? ", " : ", PRIMARY KEY (", err) ||
            sl_mysql_add_ident(b, t->columns[sl_table_pk_col(t, i)].name, err))
            goto out;
    if (sl_buf_adds(b, npk ? "))" : ")", err) ||
        sl_buf_adds(b, " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin", err))
        goto out;
    rc = 0;
out:
    free(w);
    return rc;
}

int sl_mysql_tgt_create_table(sl_target_t *base, const sl_table_t *t, bool drop, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int rc = -1;
    if (drop) {
        /* foreign_key_checks is off for the session: referencing tables do not block. */
        if (sl_buf_adds(&b, "DROP TABLE IF EXISTS ", err) || sl_mysql_add_ident(&b, t->name, err) ||
            run(tgt, &b, t, "dropping", err))
            goto out;
        sl_buf_reset(&b);
    }
    if (sl_mysql_create_sql(t, &b, err))
        goto out;
    sl_debug("%s", b.data);
    rc = run(tgt, &b, t, "creating", err);
out:
    sl_buf_free(&b);
    return rc;
}

/* Names of the existing objects of a table from an information_schema view. */
static int existing_names(sl_mysql_tgt_t *tgt, const char *sql_prefix, const sl_table_t *t,
                          const char *suffix, MYSQL_RES **res, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int rc = sl_buf_adds(&b, sql_prefix, err) ||
             sl_mysql_add_string(&b, t->name, strlen(t->name), err) ||
             sl_buf_adds(&b, suffix, err) || sl_mysql_query(&tgt->my, b.data, res, err)
                 ? -1
                 : 0;
    sl_buf_free(&b);
    return rc;
}

static bool in_result(MYSQL_RES *res, const char *name)
{
    mysql_data_seek(res, 0);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL)
        if (row[0] && strcmp(row[0], name) == 0)
            return true;
    return false;
}

/* Appends ", ADD [UNIQUE] INDEX `n` (`c`(prefix), ...)" or returns 1 to skip it. */
static int add_index_clause(sl_buf_t *b, const sl_table_t *t, const sl_index_t *ix, const int *w,
                            bool first, sl_err_t *err)
{
    sl_buf_t cols;
    sl_buf_init(&cols, SQL_MAX);
    int rc = 0;
    for (int i = 0; i < ix->ncolumns && rc == 0; i++) {
        int ci = sl_table_find_col(t, ix->columns[i]);
        if (ci < 0) {
            sl_warn("table \"%s\": index \"%s\" skipped: no column \"%s\"", t->name, ix->name,
                    ix->columns[i]);
            rc = 1;
            break;
        }
        int prefix = sl_mysql_index_prefix(t, &t->columns[ci], w[ci], ix->ncolumns);
        if (prefix && ix->unique) {
            sl_warn("table \"%s\": unique index \"%s\" skipped: column \"%s\" is too long for "
                    "a MySQL key and a prefix would not enforce uniqueness",
                    t->name, ix->name, ix->columns[i]);
            rc = 1;
            break;
        }
        if (prefix)
            sl_info("table \"%s\": index \"%s\" covers the first %d characters of column \"%s\"",
                    t->name, ix->name, prefix, ix->columns[i]);
        if ((i && sl_buf_adds(&cols, ", ", err)) || sl_mysql_add_ident(&cols, ix->columns[i], err) ||
            (prefix && sl_buf_printf(&cols, err, "(%d)", prefix)))
            rc = -1;
    }
    if (rc == 0 &&
        (sl_buf_adds(b, first ? " ADD " : ", ADD ", err) ||
         sl_buf_adds(b, ix->unique ? "UNIQUE INDEX " : "INDEX ", err) ||
         sl_mysql_add_ident(b, ix->name, err) || sl_buf_printf(b, err, " (%s)", cols.data)))
        rc = -1;
    sl_buf_free(&cols);
    return rc;
}

static int add_indexes(sl_mysql_tgt_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    if (t->nindexes == 0)
        return 0;
    MYSQL_RES *have = NULL;
    if (existing_names(tgt, "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS "
                            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ", t, "", &have, err))
        return -1;
    int *w = calloc((size_t)(t->ncolumns > 0 ? t->ncolumns : 1), sizeof *w);
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int rc = -1, added = 0;
    if (!w || sl_buf_adds(&b, "ALTER TABLE ", err) || sl_mysql_add_ident(&b, t->name, err))
        goto out;
    sl_mysql_widths(t, w);
    for (int i = 0; i < t->nindexes; i++) {
        if (in_result(have, t->indexes[i].name))
            continue;
        int r = add_index_clause(&b, t, &t->indexes[i], w, added == 0, err);
        if (r < 0)
            goto out;
        added += r == 0;
    }
    /* One ALTER: InnoDB builds every new index in a single pass over the table. */
    rc = added ? run(tgt, &b, t, "adding indexes", err) : 0;
out:
    free(w);
    sl_buf_free(&b);
    mysql_free_result(have);
    return rc;
}

/* Moves the AUTO_INCREMENT counter past the largest loaded value. */
static int reset_autoinc(sl_mysql_tgt_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    const sl_column_t *c = NULL;
    for (int i = 0; i < t->ncolumns && !c; i++)
        if (t->columns[i].autoinc && sl_type_is_integer(t->columns[i].type) &&
            t->columns[i].pk_pos == 1)
            c = &t->columns[i];
    if (!c)
        return 0;
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    char *max = NULL;
    int rc = -1;
    if (sl_buf_adds(&b, "SELECT MAX(", err) || sl_mysql_add_ident(&b, c->name, err) ||
        sl_buf_adds(&b, ") FROM ", err) || sl_mysql_add_ident(&b, t->name, err) ||
        sl_mysql_query_value(&tgt->my, b.data, &max, err))
        goto out;
    rc = 0;
    if (!max || max[0] == '-')
        goto out; /* empty table, or only negative keys: the counter is already right */
    unsigned long long next = strtoull(max, NULL, 10);
    if (next == ~0ULL)
        goto out; /* nothing past the largest value */
    sl_buf_reset(&b);
    if (sl_buf_adds(&b, "ALTER TABLE ", err) || sl_mysql_add_ident(&b, t->name, err) ||
        sl_buf_printf(&b, err, " AUTO_INCREMENT = %llu", next + 1) ||
        run(tgt, &b, t, "setting AUTO_INCREMENT", err))
        rc = -1;
out:
    free(max);
    sl_buf_free(&b);
    return rc;
}

int sl_mysql_tgt_finish_table(sl_target_t *base, const sl_table_t *t, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    return add_indexes(tgt, t, err) || reset_autoinc(tgt, t, err) ? -1 : 0;
}

/* InnoDB knows RESTRICT, CASCADE, SET NULL and NO ACTION, not SET DEFAULT. */
static const char *fk_rule(const sl_table_t *t, const sl_fkey_t *fk, const char *rule)
{
    if (!rule || !rule[0])
        return "NO ACTION";
    if (strcasecmp(rule, "SET DEFAULT") == 0) {
        sl_warn("table \"%s\": foreign key \"%s\": InnoDB has no SET DEFAULT action; NO ACTION "
                "is used", t->name, fk->name);
        return "NO ACTION";
    }
    return rule;
}

static int add_fkey(sl_mysql_tgt_t *tgt, const sl_table_t *t, const sl_fkey_t *fk,
                    const char *name, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int built = sl_buf_adds(&b, "ALTER TABLE ", err) || sl_mysql_add_ident(&b, t->name, err) ||
                sl_buf_adds(&b, " ADD CONSTRAINT ", err) || sl_mysql_add_ident(&b, name, err) ||
                sl_buf_adds(&b, " FOREIGN KEY (", err);
    for (int i = 0; i < fk->ncolumns && !built; i++)
        built = (i && sl_buf_adds(&b, ", ", err)) || sl_mysql_add_ident(&b, fk->columns[i], err);
    built = built || sl_buf_adds(&b, ") REFERENCES ", err) ||
            sl_mysql_add_ident(&b, fk->ref_table, err) || sl_buf_adds(&b, " (", err);
    for (int i = 0; i < fk->ncolumns && !built; i++)
        built = (i && sl_buf_adds(&b, ", ", err)) || sl_mysql_add_ident(&b, fk->ref_columns[i], err);
    built = built || sl_buf_printf(&b, err, ") ON DELETE %s ON UPDATE %s",
                                   fk_rule(t, fk, fk->on_delete), fk_rule(t, fk, fk->on_update));
    int rc = built ? -1 : run(tgt, &b, t, "adding a foreign key", err);
    if (rc && err && err->code == SL_E_DATA)
        sl_err_hint(err, "rows of \"%s\" reference rows missing from \"%s\"", t->name, fk->ref_table);
    sl_buf_free(&b);
    return rc;
}

int sl_mysql_tgt_finish_fkeys(sl_target_t *base, const sl_table_t *t, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    if (t->nfkeys == 0)
        return 0;
    /* Foreign key names are unique per database in InnoDB, per table elsewhere. */
    MYSQL_RES *mine = NULL, *all = NULL;
    int rc = -1;
    if (existing_names(tgt, "SELECT CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS "
                            "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ", t,
                       " AND CONSTRAINT_TYPE = 'FOREIGN KEY'", &mine, err) ||
        existing_names(tgt, "SELECT CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS "
                            "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME <> ", t,
                       " AND CONSTRAINT_TYPE = 'FOREIGN KEY'", &all, err))
        goto out;
    /* With checks on, ADD FOREIGN KEY validates the loaded rows. */
    if (sl_mysql_exec(&tgt->my, "SET SESSION foreign_key_checks = 1", err))
        goto out;
    rc = 0;
    for (int i = 0; i < t->nfkeys && rc == 0; i++) {
        const sl_fkey_t *fk = &t->fkeys[i];
        char name[65];
        snprintf(name, sizeof name, "%s", fk->name);
        if (in_result(all, name)) /* taken by another table: qualify it */
            snprintf(name, sizeof name, "%s_%s", t->name, fk->name);
        if (in_result(mine, name))
            continue;
        rc = add_fkey(tgt, t, fk, name, err);
    }
    sl_err_t ignored;
    if (sl_mysql_exec(&tgt->my, "SET SESSION foreign_key_checks = 0", rc ? &ignored : err))
        rc = -1;
out:
    if (mine)
        mysql_free_result(mine);
    if (all)
        mysql_free_result(all);
    return rc;
}
