/*
 * filter_bind.c: a parsed filter against a table's description: every column name
 * resolved (with near matches suggested when one does not exist), every predicate given
 * one comparison class (filter_int.h), every literal read in that class, so that a filter
 * that binds can be evaluated and rendered without further checks.
 *
 * The rules keep both engines and the evaluator in agreement: a number is never
 * compared with text (MariaDB would cast the text to a double), a literal the source
 * engine cannot express is refused here (an infinite date for a MariaDB table, more than
 * 65 digits where MariaDB would read the literal as a double), and an ordering on enum
 * or set columns is refused because the engines order them differently (by declaration
 * on both, by label here).
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "filter/filter_int.h"

typedef struct binder {
    sl_filter_t *f;
    const sl_table_t *t;
    sl_err_t *err;
} binder_t;

static const char *type_label(const sl_column_t *c)
{
    return c->native && c->native[0] ? c->native : sl_type_name(c->type);
}

static int fail(binder_t *b, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(binder_t *b, size_t pos, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_err_set(b->err, SL_E_CONFIG, "%s", msg);
    sl_err_detail(b->err, "At character %zu of the filter of table \"%s\": %s", pos + 1,
                  b->t->name, b->f->text);
    return -1;
}

/* ---- columns ------------------------------------------------------------------------ */

/* Edit distance of two short names, case-insensitive; large for long names. */
static int distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63)
        return strcasecmp(a, b) ? 99 : 0;
    int row[64];
    for (size_t j = 0; j <= m; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int up = row[j];
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = diag + cost;
            if (row[j] + 1 < v)
                v = row[j] + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
        }
    }
    return row[m];
}

/* The hint of an unknown column: the near matches, or the table's columns. */
static void column_hint(binder_t *b, const char *name)
{
    char hint[480];
    size_t o = 0;
    int found = 0;
    int limit = (int)strlen(name) / 3 > 2 ? (int)strlen(name) / 3 : 2;
    for (int d = 0; d <= limit && found < 3; d++)
        for (int i = 0; i < b->t->ncolumns && found < 3; i++) {
            const char *c = b->t->columns[i].name;
            if (distance(name, c) != d)
                continue;
            o += (size_t)snprintf(hint + o, sizeof hint - o, "%s\"%s\"", found ? " or " : "", c);
            found++;
            if (o >= sizeof hint)
                break;
        }
    if (found) {
        sl_err_hint(b->err, "Perhaps you meant %s.", hint);
        return;
    }
    o = 0;
    for (int i = 0; i < b->t->ncolumns && o + 8 < sizeof hint; i++)
        o += (size_t)snprintf(hint + o, sizeof hint - o, "%s%s", i ? ", " : "",
                              b->t->columns[i].name);
    sl_err_hint(b->err, "The table's columns are: %s%s.", hint, o + 8 >= sizeof hint ? "..." : "");
}

static int resolve(binder_t *b, operand_t *o)
{
    const sl_table_t *t = b->t;
    int hit = -1, ci = 0;
    for (int i = 0; i < t->ncolumns && hit < 0; i++)
        if (strcmp(t->columns[i].name, o->text) == 0)
            hit = i;
    if (hit < 0 && !o->quoted) {
        for (int i = 0; i < t->ncolumns; i++)
            if (strcasecmp(t->columns[i].name, o->text) == 0) {
                hit = ci++ ? hit : i;
            }
        if (ci > 1) {
            fail(b, o->pos, "column reference \"%s\" is ambiguous", o->text);
            sl_err_hint(b->err, "Several columns differ only in case: quote the name to pick "
                                "one, e.g. \"%s\".", t->columns[hit].name);
            return -1;
        }
    }
    if (hit < 0) {
        fail(b, o->pos, "column \"%s\" does not exist in table \"%s\"", o->text, t->name);
        column_hint(b, o->text);
        return -1;
    }
    if (t->columns[hit].generated) {
        fail(b, o->pos, "cannot filter on generated column \"%s\"", t->columns[hit].name);
        sl_err_hint(b->err, "Its values are not part of the change stream, so CDC could not "
                            "evaluate the filter: filter on the columns it is computed from.");
        return -1;
    }
    o->col = hit;
    return 0;
}

/* ---- literals ------------------------------------------------------------------------- */

static bool all_integer(const sl_table_t *t, const node_t *n)
{
    for (int i = 0; i < n->nops; i++)
        if (n->ops[i].is_col && !sl_type_is_integer(t->columns[n->ops[i].col].type))
            return false;
    return true;
}

static bool any_type(const sl_table_t *t, const node_t *n, sl_type_t ty)
{
    for (int i = 0; i < n->nops; i++)
        if (n->ops[i].is_col && t->columns[n->ops[i].col].type == ty)
            return true;
    return false;
}

static const char *cls_name(cls_t c)
{
    static const char *const names[] = {"", "number", "number", "text", "boolean",
                                        "date or timestamp", "time"};
    return names[c];
}

static int bool_text(const char *s, size_t n)
{
    static const char *const yes[] = {"t", "true", "y", "yes", "on", "1"};
    static const char *const no[] = {"f", "false", "n", "no", "off", "0"};
    for (size_t i = 0; i < 6; i++) {
        if (n == strlen(yes[i]) && strncasecmp(s, yes[i], n) == 0)
            return 1;
        if (n == strlen(no[i]) && strncasecmp(s, no[i], n) == 0)
            return 0;
    }
    return -1;
}

static bool is_uuid(char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
        s[i] = (char)tolower((unsigned char)s[i]);
    }
    return true;
}

static int bad_literal(binder_t *b, const operand_t *o, const char *what)
{
    return fail(b, o->pos, "invalid input syntax for %s: \"%.100s\"", what,
                o->text ? o->text : "NULL");
}

static bool is_integer(const char *s, size_t n)
{
    size_t k = n && s[0] == '-';
    return n > k && strspn(s + k, "0123456789") == n - k;
}

static bool is_finite(const char *s)
{
    return strcmp(s, "NaN") != 0 && !strstr(s, "Infinity");
}

/* Significant digits of a decimal literal. */
static size_t digits(const char *s)
{
    s += strspn(s, "-0.");
    size_t d = 0;
    for (; *s; s++)
        d += *s >= '0' && *s <= '9';
    return d;
}

/* Reads literal o in class c (the predicate n's). */
static int bind_literal(binder_t *b, const node_t *n, operand_t *o, cls_t c)
{
    const sl_table_t *t = b->t;
    fval_t *v = &o->v;
    memset(v, 0, sizeof *v);
    if (o->lit == LIT_NULL) {
        v->null = true;
        return 0;
    }
    bool zoned = false;
    switch (c) {
    case CLS_EXACT:
        if (o->lit == LIT_BOOL && all_integer(t, n)) { /* MariaDB's BOOLEAN is tinyint(1) */
            v->s = o->text[0] == 't' ? "1" : "0";
            v->n = 1;
            return 0;
        }
        if (o->lit == LIT_STRING) {
            bool ok = all_integer(t, n) ? is_integer(o->text, o->len)
                                        : sl_filter_is_decimal(o->text, o->len);
            if (!ok)
                return bad_literal(b, o, all_integer(t, n) ? "an integer" : "a number");
            if (b->f->mysql && !is_finite(o->text))
                return fail(b, o->pos, "MariaDB numbers have no %s", o->text);
        } else if (o->lit != LIT_NUMBER) {
            goto mismatch;
        }
        if (b->f->mysql && digits(o->text) > 65) {
            fail(b, o->pos, "numeric literal %.40s... has more than 65 digits", o->text);
            sl_err_hint(b->err, "MariaDB would read it as a double; shorten it.");
            return -1;
        }
        v->s = o->text;
        v->n = o->len;
        return 0;
    case CLS_FLOAT:
        if (o->lit != LIT_NUMBER && o->lit != LIT_STRING)
            goto mismatch;
        if (sl_filter_read(SL_T_FLOAT64, CLS_FLOAT, o->text, o->len, v))
            return bad_literal(b, o, "a double precision number");
        if (b->f->mysql && !isfinite(v->d))
            return fail(b, o->pos, "MariaDB numbers have no %s", o->text);
        return 0;
    case CLS_TEXT:
        if (o->lit != LIT_STRING)
            goto mismatch;
        if (any_type(t, n, SL_T_UUID) && !is_uuid(o->text, o->len))
            return bad_literal(b, o, "type uuid");
        v->s = o->text;
        v->n = o->len;
        return 0;
    case CLS_BOOL:
        if (o->lit == LIT_BOOL || o->lit == LIT_STRING) {
            int x = bool_text(o->text, o->len);
            if (x < 0)
                return bad_literal(b, o, "type boolean");
            v->i = x;
            return 0;
        }
        goto mismatch;
    case CLS_INSTANT:
        if (o->lit != LIT_STRING && o->lit != LIT_DATE && o->lit != LIT_TIMESTAMP)
            goto mismatch;
        if (sl_filter_instant(o->text, o->len, &v->i, &o->with_time, &zoned) ||
            (o->lit == LIT_DATE && o->with_time))
            return bad_literal(b, o, o->lit == LIT_DATE ? "type date" : "a date or timestamp");
        if (zoned && !any_type(t, n, SL_T_TIMESTAMPTZ)) {
            fail(b, o->pos, "time zone in a literal compared with a timestamp without time zone");
            sl_err_hint(b->err, "Write the local time without an offset.");
            return -1;
        }
        if (b->f->mysql && (v->i == INT64_MAX || v->i == INT64_MIN || strstr(o->text, "BC")))
            return fail(b, o->pos, "MariaDB has no date \"%s\"", o->text);
        o->with_time = o->with_time || o->lit == LIT_TIMESTAMP || any_type(t, n, SL_T_TIMESTAMP) ||
                       any_type(t, n, SL_T_TIMESTAMPTZ);
        return 0;
    case CLS_TIME:
        if (o->lit != LIT_STRING && o->lit != LIT_TIME)
            goto mismatch;
        if (sl_filter_time(o->text, o->len, &v->i) ||
            (!b->f->mysql && (v->i < 0 || v->i > INT64_C(86400000000))))
            return bad_literal(b, o, "type time");
        if (b->f->mysql && (v->i > INT64_C(3020399000000) || v->i < -INT64_C(3020399000000)))
            return bad_literal(b, o, "a MariaDB time");
        return 0;
    default:
        break;
    }
mismatch:;
    const char *what = o->lit == LIT_NUMBER    ? "a number"
                       : o->lit == LIT_STRING  ? "a quoted literal"
                       : o->lit == LIT_BOOL    ? "a boolean"
                       : o->lit == LIT_TIME    ? "a time"
                                               : "a date";
    fail(b, o->pos, "cannot compare a %s column with %s", cls_name(c), what);
    sl_err_hint(b->err, c == CLS_TEXT ? "Quote the value: text compares with text, e.g. code = '42'."
                : c == CLS_BOOL       ? "Compare with TRUE or FALSE."
                : c == CLS_INSTANT    ? "Quote the date, e.g. created >= '2024-01-01'."
                                      : "Compare with a literal of the column's type.");
    return -1;
}

/* ---- predicates --------------------------------------------------------------------- */

static int bind_pred(binder_t *b, node_t *n)
{
    const sl_table_t *t = b->t;
    cls_t c = CLS_NONE;
    int first = -1;
    bool exact = false, flt = false;
    for (int i = 0; i < n->nops; i++) {
        operand_t *o = &n->ops[i];
        if (!o->is_col)
            continue;
        if (resolve(b, o))
            return -1;
        const sl_column_t *col = &t->columns[o->col];
        cls_t oc = sl_filter_type_cls(col->type);
        if (oc == CLS_NONE && n->kind != N_ISNULL) {
            fail(b, o->pos, "column \"%s\" of type %s cannot be compared in a filter", col->name,
                 type_label(col));
            sl_err_hint(b->err, "Only IS [NOT] NULL applies to it.");
            return -1;
        }
        exact |= oc == CLS_EXACT;
        flt |= oc == CLS_FLOAT;
        if (first >= 0 && oc != c && !((oc == CLS_EXACT || oc == CLS_FLOAT) &&
                                       (c == CLS_EXACT || c == CLS_FLOAT))) {
            const sl_column_t *fc = &t->columns[n->ops[first].col];
            return fail(b, o->pos, "cannot compare column \"%s\" (%s) with column \"%s\" (%s)",
                        fc->name, type_label(fc), col->name, type_label(col));
        }
        if (first < 0)
            first = i;
        c = oc;
    }
    if (first < 0) {
        fail(b, n->pos, "a condition compares literals only");
        sl_err_hint(b->err, "Name a column, e.g. status = 'open'.");
        return -1;
    }
    if (exact && flt)
        c = CLS_FLOAT;
    n->cls = c;
    const sl_column_t *fc = &t->columns[n->ops[first].col];
    switch (n->kind) {
    case N_ISNULL:
        if (!n->ops[0].is_col)
            return fail(b, n->pos, "IS NULL needs a column");
        return 0;
    case N_BOOLCOL:
        if (c != CLS_BOOL) {
            fail(b, n->pos, "column \"%s\" is not boolean", fc->name);
            sl_err_hint(b->err, "A condition compares it, e.g. %s = 1.", fc->name);
            return -1;
        }
        return 0;
    case N_LIKE:
        if (!n->ops[0].is_col || c != CLS_TEXT) {
            fail(b, n->pos, "LIKE needs a text column");
            sl_err_hint(b->err, "Column \"%s\" is %s: compare it with = < > or BETWEEN.", fc->name,
                        type_label(fc));
            return -1;
        }
        break;
    default:
        break;
    }
    bool ordered = (n->kind == N_CMP && n->op != CMP_EQ && n->op != CMP_NE) || n->kind == N_BETWEEN;
    if (ordered && (any_type(t, n, SL_T_ENUM) || any_type(t, n, SL_T_SET))) {
        fail(b, n->pos, "cannot order enum or set column \"%s\" in a filter", fc->name);
        sl_err_hint(b->err, "Compare it with =, <>, IN or LIKE.");
        return -1;
    }
    for (int i = 0; i < n->nops; i++) {
        operand_t *o = &n->ops[i];
        if (o->is_col || (n->kind == N_LIKE && i == 1))
            continue;
        if (bind_literal(b, n, o, c))
            return -1;
        if (fc->type == SL_T_ENUM && o->lit == LIT_STRING) {
            bool label = false;
            for (int k = 0; k < fc->nlabels && !label; k++)
                label = strcmp(fc->labels[k], o->text) == 0;
            if (!label) {
                bad_literal(b, o, "the enum column's labels");
                sl_err_hint(b->err, "Column \"%s\" takes one of its %d labels, e.g. '%s'.",
                            fc->name, fc->nlabels, fc->nlabels ? fc->labels[0] : "");
                return -1;
            }
        }
    }
    return 0;
}

/* LIKE: the pattern rewritten with \ as its escape character. */
static int bind_like(binder_t *b, node_t *n)
{
    const operand_t *p = &n->ops[1];
    const char *esc = "\\";
    size_t elen = 1;
    if (n->escape) {
        esc = n->escape->text;
        elen = n->escape->len;
        size_t k = elen ? ((unsigned char)esc[0] < 0xc0 ? 1 : (unsigned char)esc[0] < 0xe0 ? 2
                           : (unsigned char)esc[0] < 0xf0 ? 3 : 4) : 0;
        if (k != elen) {
            fail(b, n->escape->pos, "invalid escape string");
            sl_err_hint(b->err, "Escape string must be empty or one character.");
            return -1;
        }
    }
    char *out = malloc(2 * p->len + 1);
    if (!out)
        sl_oom();
    size_t o = 0;
    for (size_t i = 0; i < p->len; i++) {
        if (elen && p->len - i >= elen && memcmp(p->text + i, esc, elen) == 0) {
            i += elen;
            if (i >= p->len) {
                free(out);
                return fail(b, p->pos, "LIKE pattern must not end with escape character");
            }
            char c = p->text[i];
            if (c == '%' || c == '_' || c == '\\')
                out[o++] = '\\';
            out[o++] = c; /* continuation bytes of a multibyte character follow as literals */
            continue;
        }
        if (p->text[i] == '\\')
            out[o++] = '\\';
        out[o++] = p->text[i];
    }
    out[o] = '\0';
    free(n->pattern);
    n->pattern = out;
    n->plen = o;
    return 0;
}

static int bind_node(binder_t *b, node_t *n)
{
    switch (n->kind) {
    case N_AND: case N_OR: case N_NOT:
        for (int i = 0; i < n->nkids; i++)
            if (bind_node(b, n->kids[i]))
                return -1;
        return 0;
    case N_LIKE:
        return bind_pred(b, n) || bind_like(b, n) ? -1 : 0;
    default:
        return bind_pred(b, n);
    }
}

int sl_filter_bind(sl_filter_t *f, const sl_table_t *t, sl_err_t *err)
{
    binder_t b = {.f = f, .t = t, .err = err};
    f->bound = false;
    f->mysql = t->engine && strcmp(t->engine, "mysql") == 0;
    if (bind_node(&b, f->root))
        return -1;
    for (int i = 0; i < f->ncols; i++)
        free(f->cols[i].name);
    free(f->cols);
    free(f->schema);
    free(f->table);
    f->schema = t->schema ? sl_strdup(t->schema) : NULL;
    f->table = sl_strdup(t->name);
    f->ncols = t->ncolumns;
    f->cols = calloc((size_t)(t->ncolumns ? t->ncolumns : 1), sizeof *f->cols);
    if (!f->cols)
        sl_oom();
    for (int i = 0; i < t->ncolumns; i++) {
        f->cols[i].name = sl_strdup(t->columns[i].name);
        f->cols[i].type = t->columns[i].type;
        f->cols[i].key = t->columns[i].pk_pos > 0;
    }
    f->keyless = sl_table_pk_count(t) == 0;
    f->bound = true;
    return 0;
}
