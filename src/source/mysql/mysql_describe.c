/*
 * mysql_describe.c: a MariaDB/MySQL table's shape from information_schema
 * (TABLES, COLUMNS, CHECK_CONSTRAINTS, STATISTICS, KEY_COLUMN_USAGE,
 * REFERENTIAL_CONSTRAINTS) into an sl_table_t, with canonical types from
 * mysql_types.c and `native` set to COLUMN_TYPE verbatim so that a MySQL target
 * can recreate each column exactly.
 *
 * Runs on the calling thread, on the source's connection; reads only
 * information_schema, so it works inside or outside a snapshot transaction.
 */
#define _GNU_SOURCE /* strcasestr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "source/mysql/mysql_source.h"

#define SQL_MAX (64u * 1024u)

/* Runs "<prefix> TABLE_SCHEMA = db AND TABLE_NAME = t <suffix>" style queries: the
 * caller's SQL has two %s for the quoted schema and table literals. */
static int query_for(sl_mysql_t *my, const char *fmt, const char *table, MYSQL_RES **res,
                     sl_err_t *err)
{
    sl_buf_t db, tb, sql;
    sl_buf_init(&db, SQL_MAX);
    sl_buf_init(&tb, SQL_MAX);
    sl_buf_init(&sql, SQL_MAX);
    int rc = -1;
    if (sl_mysql_add_string(&db, my->database, strlen(my->database), err) ||
        sl_mysql_add_string(&tb, table, strlen(table), err) ||
        sl_buf_printf(&sql, err, fmt, db.data, tb.data))
        goto out;
    rc = sl_mysql_query(my, sql.data, res, err);
out:
    sl_buf_free(&db);
    sl_buf_free(&tb);
    sl_buf_free(&sql);
    return rc;
}

static int64_t to_i64(const char *s)
{
    return s ? strtoll(s, NULL, 10) : -1;
}

/* Looks the table (or view) up in TABLES; 0 with *found false when it is not there. */
static int read_table_row(sl_mysql_t *my, const char *name, sl_table_t *t, bool *found,
                          sl_err_t *err)
{
    MYSQL_RES *res;
    *found = false;
    if (query_for(my,
                  "SELECT TABLE_TYPE, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH "
                  "FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                  name, &res, err))
        return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && row[0]) {
        *found = true;
        /* a view is copied as a table by a load (engine/mapping.h) */
        t->view = strcmp(row[0], "VIEW") == 0;
        t->est_rows = t->view ? -1 : to_i64(row[1]);
        if (!t->view && row[2] && row[3])
            t->est_bytes = to_i64(row[2]) + to_i64(row[3]);
    }
    mysql_free_result(res);
    return 0;
}

enum { C_NAME, C_DTYPE, C_CTYPE, C_NULLABLE, C_DEFAULT, C_EXTRA, C_CHARSET, C_GENEXPR };

static int read_columns(sl_mysql_t *my, sl_table_t *t, sl_err_t *err)
{
    MYSQL_RES *res;
    if (query_for(my,
                  "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, "
                  "EXTRA, CHARACTER_SET_NAME, GENERATION_EXPRESSION "
                  "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
                  "ORDER BY ORDINAL_POSITION",
                  t->name, &res, err))
        return -1;
    MYSQL_ROW row;
    int rc = 0;
    while ((row = mysql_fetch_row(res)) != NULL) {
        sl_column_t *c = sl_table_add_col(t);
        if (!c) {
            rc = sl_err_set(err, SL_E_LIMIT, "out of memory describing table \"%s\"", t->name);
            break;
        }
        c->name = sl_strdup(row[C_NAME]);
        c->native = sl_strdup(row[C_CTYPE]);
        c->nullable = row[C_NULLABLE] && strcmp(row[C_NULLABLE], "YES") == 0;
        c->charset = sl_strdup(row[C_CHARSET]);
        const char *extra = row[C_EXTRA] ? row[C_EXTRA] : "";
        c->autoinc = strcasestr(extra, "auto_increment") != NULL;
        if (strcasestr(extra, "GENERATED") && !strcasestr(extra, "DEFAULT_GENERATED")) {
            c->generated = true;
            c->generation_expr = sl_strdup(row[C_GENEXPR]);
        }
        if (sl_mysql_map_type(c, row[C_DTYPE], row[C_CTYPE])) {
            rc = sl_err_set(err, SL_E_SCHEMA, "column \"%s\" of table \"%s\" has unsupported type %s",
                            c->name, t->name, row[C_CTYPE]);
            sl_err_hint(err, "leave the table out of the stream or change the column's type");
            break;
        }
        c->default_value = sl_mysql_parse_default(c, row[C_DEFAULT], extra, my->mariadb);
    }
    mysql_free_result(res);
    if (rc == 0 && t->ncolumns == 0)
        rc = sl_err_set(err, SL_E_SCHEMA, "table \"%s\" has no columns visible to this user",
                        t->name);
    return rc;
}

/* MariaDB stores JSON as LONGTEXT plus CHECK (json_valid(`col`)): turn those back
 * into JSON. MySQL has a real JSON type and a CHECK_CONSTRAINTS view without
 * TABLE_NAME, so this runs on MariaDB only. */
static int detect_json(sl_mysql_t *my, sl_table_t *t, sl_err_t *err)
{
    bool any = false;
    for (int i = 0; i < t->ncolumns; i++)
        any |= t->columns[i].type == SL_T_TEXT && strcasecmp(t->columns[i].native, "longtext") == 0;
    if (!any || !my->mariadb)
        return 0;
    MYSQL_RES *res;
    if (query_for(my,
                  "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                  "WHERE CONSTRAINT_SCHEMA = %s AND TABLE_NAME = %s",
                  t->name, &res, err))
        return -1;
    MYSQL_ROW row;
    sl_buf_t want;
    sl_buf_init(&want, SQL_MAX);
    while ((row = mysql_fetch_row(res)) != NULL) {
        for (int i = 0; i < t->ncolumns && row[0]; i++) {
            sl_column_t *c = &t->columns[i];
            if (c->type != SL_T_TEXT || strcasecmp(c->native, "longtext") != 0)
                continue;
            sl_buf_reset(&want);
            if (sl_buf_adds(&want, "json_valid(", err) || sl_mysql_add_ident(&want, c->name, err) ||
                sl_buf_addc(&want, ')', err))
                break;
            if (strcasecmp(row[0], want.data) == 0) {
                c->type = SL_T_JSON;
                c->length = 0;
            }
        }
    }
    sl_buf_free(&want);
    mysql_free_result(res);
    return 0;
}

enum { S_INDEX, S_NONUNIQUE, S_SEQ, S_COLUMN, S_SUBPART, S_TYPE };

static char **add_str(char ***v, int *n, const char *s)
{
    char **nv = realloc(*v, sizeof **v * (size_t)(*n + 1));
    if (!nv)
        sl_oom(); /* like sl_strdup: schema building has no sensible OOM path */
    *v = nv;
    nv[(*n)++] = sl_strdup(s);
    return nv;
}

/* Primary key positions and secondary indexes. An index that sl_index_t cannot
 * express (a prefix length, an expression, FULLTEXT or SPATIAL) is skipped with a
 * warning rather than recreated wrongly. */
static int read_indexes(sl_mysql_t *my, sl_table_t *t, sl_err_t *err)
{
    MYSQL_RES *res;
    if (query_for(my,
                  "SELECT INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, INDEX_TYPE "
                  "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
                  "ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX",
                  t->name, &res, err))
        return -1;
    MYSQL_ROW row;
    sl_index_t *ix = NULL;
    char *cur = NULL;     /* name of the index being read */
    bool skip = false;    /* the current index cannot be represented */
    while ((row = mysql_fetch_row(res)) != NULL) {
        const char *name = row[S_INDEX];
        bool primary = strcmp(name, "PRIMARY") == 0;
        const char *why = NULL;
        if (!row[S_COLUMN])
            why = "it indexes an expression";
        else if (row[S_SUBPART])
            why = "it indexes a column prefix";
        else if (row[S_TYPE] && (!strcmp(row[S_TYPE], "FULLTEXT") || !strcmp(row[S_TYPE], "SPATIAL")))
            why = "FULLTEXT and SPATIAL indexes are not carried over";
        if (primary) {
            int c = row[S_COLUMN] ? sl_table_find_col(t, row[S_COLUMN]) : -1;
            if (c >= 0)
                t->columns[c].pk_pos = atoi(row[S_SEQ]);
            if (why)
                sl_warn("table \"%s\": primary key uses a column prefix; the target key "
                        "uses whole columns", t->name);
            continue;
        }
        if (!cur || strcmp(cur, name) != 0) {
            free(cur);
            cur = sl_strdup(name);
            skip = false;
            ix = NULL;
        }
        if (skip)
            continue;
        if (why) {
            sl_warn("table \"%s\": index \"%s\" is not recreated on the target: %s", t->name,
                    name, why);
            if (ix) { /* drop the half-read index: it is the last one added */
                for (int i = 0; i < ix->ncolumns; i++)
                    free(ix->columns[i]);
                free(ix->columns);
                free(ix->name);
                t->nindexes--;
            }
            skip = true;
            ix = NULL;
            continue;
        }
        if (!ix) {
            ix = sl_table_add_index(t);
            if (!ix)
                sl_oom();
            ix->name = sl_strdup(name);
            ix->unique = row[S_NONUNIQUE] && strcmp(row[S_NONUNIQUE], "0") == 0;
        }
        add_str(&ix->columns, &ix->ncolumns, row[S_COLUMN]);
    }
    free(cur);
    mysql_free_result(res);
    return 0;
}

enum { F_NAME, F_COLUMN, F_REFSCHEMA, F_REFTABLE, F_REFCOLUMN, F_UPDATE, F_DELETE };

static int read_fkeys(sl_mysql_t *my, sl_table_t *t, sl_err_t *err)
{
    MYSQL_RES *res;
    if (query_for(my,
                  "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, "
                  "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE "
                  "FROM information_schema.KEY_COLUMN_USAGE k "
                  "JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
                  "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = "
                  "k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME "
                  "WHERE k.TABLE_SCHEMA = %s AND k.TABLE_NAME = %s "
                  "AND k.REFERENCED_TABLE_NAME IS NOT NULL "
                  "ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
                  t->name, &res, err))
        return -1;
    MYSQL_ROW row;
    sl_fkey_t *fk = NULL;
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (!fk || strcmp(fk->name, row[F_NAME]) != 0) {
            fk = sl_table_add_fkey(t);
            if (!fk)
                sl_oom();
            fk->name = sl_strdup(row[F_NAME]);
            fk->ref_table = sl_strdup(row[F_REFTABLE]);
            /* Same database: the target resolves it in its own namespace. */
            if (row[F_REFSCHEMA] && strcmp(row[F_REFSCHEMA], my->database) != 0) {
                fk->ref_schema = sl_strdup(row[F_REFSCHEMA]);
                sl_warn("table \"%s\": foreign key \"%s\" references database \"%s\"; the "
                        "target looks for table \"%s\" in its own database",
                        t->name, fk->name, fk->ref_schema, fk->ref_table);
            }
            fk->on_update = sl_strdup(row[F_UPDATE] ? row[F_UPDATE] : "NO ACTION");
            fk->on_delete = sl_strdup(row[F_DELETE] ? row[F_DELETE] : "NO ACTION");
        }
        /* columns and ref_columns grow together: sl_fkey_t has one count for both. */
        int n = fk->ncolumns;
        add_str(&fk->columns, &fk->ncolumns, row[F_COLUMN]);
        add_str(&fk->ref_columns, &n, row[F_REFCOLUMN]);
    }
    mysql_free_result(res);
    return 0;
}

int sl_mysql_src_describe(sl_source_t *base, const char *name, sl_table_t **out, sl_err_t *err)
{
    sl_mysql_src_t *src = (sl_mysql_src_t *)base;
    sl_mysql_t *my = &src->my;
    *out = NULL;
    sl_table_t *t = calloc(1, sizeof *t);
    if (!t)
        return sl_err_set(err, SL_E_LIMIT, "out of memory describing table \"%s\"", name);
    t->engine = sl_strdup("mysql");
    t->schema = sl_strdup(my->database);
    t->est_rows = t->est_bytes = -1;
    bool found;
    if (read_table_row(my, name, t, &found, err))
        goto fail;
    /* "db.table" is accepted when it names this database. */
    size_t dblen = strlen(my->database);
    if (!found && strncmp(name, my->database, dblen) == 0 && name[dblen] == '.' && name[dblen + 1]) {
        name += dblen + 1;
        if (read_table_row(my, name, t, &found, err))
            goto fail;
    }
    if (!found) {
        sl_err_set(err, SL_E_NOT_FOUND, "table \"%s\" does not exist in database \"%s\"", name,
                   my->database);
        sl_err_hint(err, "check the table name (names are case-sensitive) and that the user "
                         "may see it");
        goto fail;
    }
    t->name = sl_strdup(name);
    t->old_full = true; /* the binlog's row images are whole (binlog_row_image=FULL is required) */
    if (read_columns(my, t, err) || detect_json(my, t, err) || read_indexes(my, t, err) ||
        read_fkeys(my, t, err))
        goto fail;
    *out = t;
    return 0;
fail:
    sl_table_free(t);
    return -1;
}
