/*
 * mysql_ddl.c: the DDL statements of the binlog, as far as a change stream cares
 * (mysql_ddl.h). A lexer just large enough for that: whitespace and comments,
 * case-insensitive whole-word keywords, `quoted` and bare identifiers, [db.]table, and
 * skipping to the next top-level comma of an ALTER TABLE clause list (over quoted
 * strings and parentheses).
 */
#include "source/mysql/mysql_ddl.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct lex {
    const char *p, *end;
} lex_t;

static void lex_space(lex_t *l)
{
    for (;;) {
        while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
            l->p++;
        if (l->end - l->p >= 2 && l->p[0] == '/' && l->p[1] == '*') {
            const char *e = l->p + 2;
            while (e + 1 < l->end && !(e[0] == '*' && e[1] == '/'))
                e++;
            l->p = e + 1 < l->end ? e + 2 : l->end;
            continue;
        }
        if (l->end - l->p >= 2 && l->p[0] == '-' && l->p[1] == '-') {
            while (l->p < l->end && *l->p != '\n')
                l->p++;
            continue;
        }
        return;
    }
}

/* Consumes keyword w (case-insensitive, whole word). */
static bool lex_kw(lex_t *l, const char *w)
{
    lex_space(l);
    size_t n = strlen(w);
    if ((size_t)(l->end - l->p) < n || strncasecmp(l->p, w, n))
        return false;
    const char *after = l->p + n;
    if (after < l->end && (isalnum((unsigned char)*after) || *after == '_'))
        return false;
    l->p = after;
    return true;
}

/* An identifier, `quoted` or bare, into out (cut to size). */
static bool lex_ident(lex_t *l, char *out, size_t size)
{
    lex_space(l);
    size_t n = 0;
    if (l->p < l->end && *l->p == '`') {
        l->p++;
        while (l->p < l->end) {
            if (*l->p == '`') {
                if (l->p + 1 < l->end && l->p[1] == '`')
                    l->p++;
                else
                    break;
            }
            if (n + 1 < size)
                out[n++] = *l->p;
            l->p++;
        }
        if (l->p >= l->end)
            return false;
        l->p++;
    } else {
        while (l->p < l->end &&
               (isalnum((unsigned char)*l->p) || *l->p == '_' || *l->p == '$' || (unsigned char)*l->p >= 0x80)) {
            if (n + 1 < size)
                out[n++] = *l->p;
            l->p++;
        }
    }
    out[n] = '\0';
    return n > 0;
}

/* [db.]table; db defaults to the statement's database. */
static bool lex_table(lex_t *l, const char *defdb, char *db, char *tbl, size_t size)
{
    if (!lex_ident(l, tbl, size))
        return false;
    lex_space(l);
    if (l->p < l->end && *l->p == '.') {
        l->p++;
        snprintf(db, size, "%s", tbl);
        return lex_ident(l, tbl, size);
    }
    snprintf(db, size, "%s", defdb ? defdb : "");
    return true;
}

/* Whether one ALTER TABLE clause leaves the rows as they are for a target (columns
 * added or dropped are handled through the next TABLE_MAP). */
static bool clause_ok(lex_t *l)
{
    if (lex_kw(l, "ADD")) {
        if (lex_kw(l, "PRIMARY") || lex_kw(l, "PERIOD") || lex_kw(l, "SYSTEM"))
            return false;
        return true; /* [COLUMN] col, INDEX, KEY, UNIQUE, CONSTRAINT, FOREIGN KEY, ... */
    }
    if (lex_kw(l, "DROP"))
        return !(lex_kw(l, "PRIMARY") || lex_kw(l, "SYSTEM") || lex_kw(l, "PERIOD"));
    if (lex_kw(l, "ALTER")) {
        lex_kw(l, "COLUMN");
        char col[SL_MY_DDL_NAME_MAX];
        if (!lex_ident(l, col, sizeof col))
            return false;
        return lex_kw(l, "SET") || lex_kw(l, "DROP"); /* SET/DROP DEFAULT, SET (IN)VISIBLE */
    }
    if (lex_kw(l, "RENAME"))
        return lex_kw(l, "INDEX") || lex_kw(l, "KEY");
    static const char *const neutral[] = {"ALGORITHM", "LOCK", "FORCE", "COMMENT", "ENGINE",
                                          "AUTO_INCREMENT", "ROW_FORMAT", "KEY_BLOCK_SIZE",
                                          "STATS_PERSISTENT", "STATS_AUTO_RECALC", "STATS_SAMPLE_PAGES",
                                          "ENABLE", "DISABLE", "ANALYZE", "OPTIMIZE"};
    for (size_t i = 0; i < sizeof neutral / sizeof neutral[0]; i++)
        if (lex_kw(l, neutral[i]))
            return true;
    return false;
}

/* Skips to the next top-level comma of a clause list; false at the end. */
static bool next_clause(lex_t *l)
{
    int depth = 0;
    while (l->p < l->end) {
        char ch = *l->p;
        if (ch == '\'' || ch == '"' || ch == '`') {
            l->p++;
            while (l->p < l->end && *l->p != ch) {
                if (*l->p == '\\' && ch != '`' && l->p + 1 < l->end)
                    l->p++;
                l->p++;
            }
        } else if (ch == '(') {
            depth++;
        } else if (ch == ')') {
            depth--;
        } else if (ch == ',' && depth == 0) {
            l->p++;
            return true;
        }
        if (l->p < l->end)
            l->p++;
    }
    return false;
}

/* ALTER [ONLINE] [IGNORE] TABLE [IF EXISTS] t clause[, clause ...] (after ALTER). */
static int alter(lex_t *l, const char *defdb, sl_my_ddl_fn fn, void *ctx)
{
    char db[SL_MY_DDL_NAME_MAX], tbl[SL_MY_DDL_NAME_MAX];
    lex_kw(l, "ONLINE");
    lex_kw(l, "IGNORE");
    if (!lex_kw(l, "TABLE"))
        return 0;
    if (lex_kw(l, "IF"))
        lex_kw(l, "EXISTS");
    if (!lex_table(l, defdb, db, tbl, sizeof db))
        return 0;
    sl_my_ddl_kind_t kind = SL_MY_DDL_ALTER;
    do {
        lex_t at = *l;
        lex_space(&at);
        if (at.p >= at.end)
            break;
        if (!clause_ok(&at)) {
            kind = SL_MY_DDL_ALTER_REFUSED;
            break;
        }
    } while (next_clause(l));
    return fn(ctx, kind, db, tbl);
}

int sl_my_ddl_parse(const char *sql, size_t n, const char *defdb, sl_my_ddl_fn fn, void *ctx)
{
    char db[SL_MY_DDL_NAME_MAX], tbl[SL_MY_DDL_NAME_MAX];
    lex_t l = {sql, sql + n};
    if (lex_kw(&l, "TRUNCATE")) {
        lex_kw(&l, "TABLE");
        return lex_table(&l, defdb, db, tbl, sizeof db) ? fn(ctx, SL_MY_DDL_TRUNCATE, db, tbl) : 0;
    }
    if (lex_kw(&l, "ALTER"))
        return alter(&l, defdb, fn, ctx);
    bool drop = false, rename = false;
    if (lex_kw(&l, "DROP")) {
        lex_kw(&l, "TEMPORARY");
        if (lex_kw(&l, "DATABASE") || lex_kw(&l, "SCHEMA")) {
            if (lex_kw(&l, "IF"))
                lex_kw(&l, "EXISTS");
            return lex_ident(&l, db, sizeof db) ? fn(ctx, SL_MY_DDL_DROP_DATABASE, db, "") : 0;
        }
        drop = lex_kw(&l, "TABLE") || lex_kw(&l, "TABLES");
        if (drop && lex_kw(&l, "IF"))
            lex_kw(&l, "EXISTS");
    } else if (lex_kw(&l, "RENAME")) {
        rename = lex_kw(&l, "TABLE") || lex_kw(&l, "TABLES");
    } else if (lex_kw(&l, "CREATE")) {
        if (lex_kw(&l, "OR") && lex_kw(&l, "REPLACE")) {
            lex_kw(&l, "TEMPORARY");
            drop = lex_kw(&l, "TABLE");
        }
    }
    if (!drop && !rename)
        return 0;
    /* every table named (RENAME: both sides of each pair) */
    for (;;) {
        if (!lex_table(&l, defdb, db, tbl, sizeof db))
            return 0;
        int rc = fn(ctx, SL_MY_DDL_REPLACE, db, tbl);
        if (rc)
            return rc;
        if (rename && lex_kw(&l, "TO"))
            continue;
        lex_space(&l);
        if (l.p < l.end && *l.p == ',') {
            l.p++;
            continue;
        }
        return 0;
    }
}

bool sl_my_ddl_is(const char *sql, size_t n, const char *word)
{
    lex_t l = {sql, sql + n};
    if (!lex_kw(&l, word))
        return false;
    lex_space(&l);
    return l.p >= l.end || *l.p == ';';
}
