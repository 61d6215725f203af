/*
 * genexpr_parse.c: a PostgreSQL expression, as pg_get_expr prints a generated column's,
 * into a syntax tree (genexpr_int.h). Recursive descent over core/sqllex tokens with
 * PostgreSQL's precedence: OR < AND < NOT < IS < comparisons < other operators (||, ~~)
 * < + - < * / % < ^ < unary minus < :: casts.
 *
 * pg_get_expr's output is regular (fully parenthesized operators, casts spelled with ::
 * and format_type's names, keywords in upper case for the special forms EXTRACT,
 * SUBSTRING, TRIM, POSITION, CASE), but the parser also takes the hand-written forms of
 * the same constructs, so that the fuzzer and the tests can feed it anything. Pure and
 * bounded like every parser of sluice.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sqllex.h"
#include "core/mem.h"
#include "target/mysql/genexpr_int.h"

typedef struct parser {
    sl_sqllex_t lx;
    sl_tok_t tok;
    const char *text;
    size_t len;
    int depth, nodes;
    sl_err_t *err;
} parser_t;

static void advance(parser_t *ps)
{
    ps->tok = sl_sqllex_next(&ps->lx);
}

/* Whether the token after the current one is operator op (or keyword kw). */
static bool next_is(parser_t *ps, const char *op, const char *kw)
{
    sl_sqllex_t save = ps->lx;
    sl_tok_t t = sl_sqllex_next(&ps->lx);
    ps->lx = save;
    return op ? sl_tok_is_op(&t, op) : sl_tok_is_kw(&t, kw);
}

static int syntax(parser_t *ps)
{
    return sl_sqllex_error(ps->err, SL_E_CONFIG, "expression", ps->text, ps->len, &ps->tok, NULL);
}

static char *text_of(const sl_tok_t *t, bool lower)
{
    sl_buf_t b;
    sl_buf_init(&b, GX_MAX_TEXT);
    if (sl_sqllex_text(t, &b, NULL) || !b.data)
        sl_buf_adds(&b, "", NULL);
    if (lower)
        for (size_t i = 0; i < b.len; i++)
            b.data[i] = (char)tolower((unsigned char)b.data[i]);
    return sl_buf_steal(&b, NULL);
}

static gx_t *node(parser_t *ps, gx_kind_t kind, char *s)
{
    if (++ps->nodes > GX_MAX_NODES) {
        free(s);
        sl_err_set(ps->err, SL_E_LIMIT, "expression is too complex");
        return NULL;
    }
    gx_t *g = calloc(1, sizeof *g);
    if (!g)
        sl_oom();
    g->kind = kind;
    g->s = s;
    return g;
}

static void add(gx_t *g, gx_t *k)
{
    gx_t **a = realloc(g->a, sizeof *a * (size_t)(g->n + 1));
    if (!a)
        sl_oom();
    g->a = a;
    a[g->n++] = k;
}

void sl_gx_free(gx_t *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n; i++)
        sl_gx_free(g->a[i]);
    free(g->a);
    free(g->s);
    free(g);
}

static gx_t *expr(parser_t *ps);

static bool take_op(parser_t *ps, const char *op)
{
    if (!sl_tok_is_op(&ps->tok, op))
        return false;
    advance(ps);
    return true;
}

static bool take_kw(parser_t *ps, const char *kw)
{
    if (!sl_tok_is_kw(&ps->tok, kw))
        return false;
    advance(ps);
    return true;
}

/* A binary node of op over l and the result of sub (l consumed either way). */
static gx_t *binary(parser_t *ps, gx_t *l, const char *op, gx_t *(*sub)(parser_t *))
{
    gx_t *r = sub(ps);
    char *s = strdup(op);
    gx_t *g = r && s ? node(ps, GX_BINOP, s) : (free(s), NULL);
    if (!g) {
        sl_gx_free(l);
        sl_gx_free(r);
        return NULL;
    }
    add(g, l);
    add(g, r);
    return g;
}

/* ---- type names -------------------------------------------------------------------- */

static const char *const continuations[][2] = {
    {"double", "precision"}, {"character", "varying"}, {"bit", "varying"},
};

/* A type name after :: or AS: words as format_type prints them, modifiers, []. */
static int type_name(parser_t *ps, gx_t *cast)
{
    sl_buf_t b;
    sl_buf_init(&b, GX_MAX_TEXT + 64); /* the name comes from the text, which is bounded */
    int rc = -1;
    if (ps->tok.kind != SL_TOK_WORD && ps->tok.kind != SL_TOK_QUOTED) {
        syntax(ps);
        goto out;
    }
    bool quoted = ps->tok.kind == SL_TOK_QUOTED;
    char *w = text_of(&ps->tok, !quoted);
    sl_buf_adds(&b, w, NULL);
    advance(ps);
    for (size_t i = 0; !quoted && i < sizeof continuations / sizeof continuations[0]; i++)
        if (!strcmp(w, continuations[i][0]) && sl_tok_is_kw(&ps->tok, continuations[i][1])) {
            sl_buf_printf(&b, NULL, " %s", continuations[i][1]);
            advance(ps);
        }
    while (sl_tok_is_op(&ps->tok, ".")) { /* schema-qualified: kept whole, never known */
        advance(ps);
        if (ps->tok.kind != SL_TOK_WORD && ps->tok.kind != SL_TOK_QUOTED) {
            free(w);
            syntax(ps);
            goto out;
        }
        char *x = text_of(&ps->tok, false);
        sl_buf_printf(&b, NULL, ".%s", x);
        free(x);
        advance(ps);
    }
    if (take_op(ps, "(")) {
        while (cast->nmods < 2 && ps->tok.kind == SL_TOK_NUMBER && ps->tok.n < 9) {
            cast->mods[cast->nmods++] = atoi(ps->tok.p);
            advance(ps);
            if (!take_op(ps, ","))
                break;
        }
        if (!take_op(ps, ")")) {
            free(w);
            syntax(ps);
            goto out;
        }
    }
    if (!quoted && (!strcmp(w, "timestamp") || !strcmp(w, "time"))) {
        bool with = sl_tok_is_kw(&ps->tok, "with");
        if (with || sl_tok_is_kw(&ps->tok, "without")) {
            advance(ps);
            if (!take_kw(ps, "time") || !take_kw(ps, "zone")) {
                free(w);
                syntax(ps);
                goto out;
            }
            sl_buf_adds(&b, with ? " with time zone" : " without time zone", NULL);
        }
    }
    free(w);
    while (take_op(ps, "[")) {
        if (!take_op(ps, "]")) {
            syntax(ps);
            goto out;
        }
        cast->array = true;
    }
    if (!b.data) { /* cannot happen within the bound; never leave the cast nameless */
        sl_err_set(ps->err, SL_E_LIMIT, "type name too long");
        goto out;
    }
    cast->s = sl_buf_steal(&b, NULL);
    rc = 0;
out:
    sl_buf_free(&b);
    return rc;
}

static gx_t *cast_of(parser_t *ps, gx_t *arg)
{
    gx_t *g = node(ps, GX_CAST, NULL);
    if (!g) {
        sl_gx_free(arg);
        return NULL;
    }
    add(g, arg);
    if (type_name(ps, g)) {
        sl_gx_free(g);
        return NULL;
    }
    return g;
}

/* ---- primaries ------------------------------------------------------------------------ */

/* Arguments up to the closing parenthesis (the opening one is consumed). */
static gx_t *args(parser_t *ps, gx_t *g)
{
    if (take_op(ps, ")"))
        return g;
    for (;;) {
        gx_t *a = expr(ps);
        if (!a) {
            sl_gx_free(g);
            return NULL;
        }
        add(g, a);
        if (take_op(ps, ")"))
            return g;
        if (!take_op(ps, ",")) {
            syntax(ps);
            sl_gx_free(g);
            return NULL;
        }
    }
}

/* Adds expr to g, then requires keyword or operator `then` (NULL: nothing). */
static bool part(parser_t *ps, gx_t *g, const char *kw, const char *op)
{
    gx_t *a = expr(ps);
    if (!a)
        return false;
    add(g, a);
    if ((kw && !take_kw(ps, kw)) || (op && !take_op(ps, op))) {
        syntax(ps);
        return false;
    }
    return true;
}

static gx_t *special(parser_t *ps, const char *name)
{
    gx_t *g = NULL;
    if (!strcmp(name, "extract")) {
        if (ps->tok.kind != SL_TOK_WORD && ps->tok.kind != SL_TOK_STRING)
            return syntax(ps), NULL;
        g = node(ps, GX_EXTRACT, text_of(&ps->tok, true));
        advance(ps);
        if (g && (!take_kw(ps, "FROM") || !part(ps, g, NULL, ")")))
            goto fail;
        return g;
    }
    if (!strcmp(name, "trim")) {
        const char *side = take_kw(ps, "LEADING") ? "LEADING" : take_kw(ps, "TRAILING") ? "TRAILING"
                                                                                          : "BOTH";
        take_kw(ps, "BOTH");
        g = node(ps, GX_TRIM, strdup(side));
        if (!g)
            return NULL;
        gx_t *chars = NULL;
        if (!take_kw(ps, "FROM")) {
            if (!(chars = expr(ps)))
                goto fail;
            if (!take_kw(ps, "FROM")) {
                sl_gx_free(chars);
                syntax(ps);
                goto fail;
            }
        }
        if (!part(ps, g, NULL, ")")) {
            sl_gx_free(chars);
            goto fail;
        }
        if (chars)
            add(g, chars);
        return g;
    }
    if (!strcmp(name, "position")) {
        g = node(ps, GX_POSITION, NULL);
        if (g && (!part(ps, g, "IN", NULL) || !part(ps, g, NULL, ")")))
            goto fail;
        return g;
    }
    /* substring: SUBSTRING(x FROM a [FOR b]) or the plain call form */
    g = node(ps, GX_SUBSTRING, NULL);
    if (!g)
        return NULL;
    gx_t *a = expr(ps);
    if (!a)
        goto fail;
    add(g, a);
    if (take_kw(ps, "FROM")) {
        if (!(a = expr(ps)))
            goto fail;
        add(g, a);
        if (take_kw(ps, "FOR") && !part(ps, g, NULL, NULL))
            goto fail;
        if (!take_op(ps, ")")) {
            syntax(ps);
            goto fail;
        }
        return g;
    }
    g->kind = GX_FUNC;
    g->s = strdup("substring");
    if (take_op(ps, ")"))
        return g;
    if (!take_op(ps, ",")) {
        syntax(ps);
        goto fail;
    }
    return args(ps, g);
fail:
    sl_gx_free(g);
    return NULL;
}

static gx_t *case_expr(parser_t *ps)
{
    gx_t *g = node(ps, GX_CASE, NULL);
    if (!g)
        return NULL;
    if (!sl_tok_is_kw(&ps->tok, "WHEN")) {
        g->has_operand = true;
        if (!part(ps, g, NULL, NULL))
            goto fail;
    }
    if (!sl_tok_is_kw(&ps->tok, "WHEN")) {
        syntax(ps);
        goto fail;
    }
    while (take_kw(ps, "WHEN"))
        if (!part(ps, g, "THEN", NULL) || !part(ps, g, NULL, NULL))
            goto fail;
    if (take_kw(ps, "ELSE")) {
        g->has_else = true;
        if (!part(ps, g, NULL, NULL))
            goto fail;
    }
    if (!take_kw(ps, "END")) {
        syntax(ps);
        goto fail;
    }
    return g;
fail:
    sl_gx_free(g);
    return NULL;
}

static gx_t *primary(parser_t *ps)
{
    sl_tok_t t = ps->tok;
    gx_t *g;
    switch (t.kind) {
    case SL_TOK_NUMBER:
        g = node(ps, GX_NUM, text_of(&t, false));
        advance(ps);
        return g;
    case SL_TOK_STRING:
        g = node(ps, GX_STR, text_of(&t, false));
        advance(ps);
        return g;
    case SL_TOK_OP:
        if (!take_op(ps, "("))
            break;
        g = expr(ps);
        if (g && !take_op(ps, ")")) {
            syntax(ps);
            sl_gx_free(g);
            return NULL;
        }
        return g;
    case SL_TOK_WORD:
    case SL_TOK_QUOTED: {
        bool quoted = t.kind == SL_TOK_QUOTED;
        if (!quoted) {
            if (take_kw(ps, "NULL"))
                return node(ps, GX_NULL, NULL);
            if (sl_tok_is_kw(&t, "TRUE") || sl_tok_is_kw(&t, "FALSE")) {
                advance(ps);
                return node(ps, GX_BOOL, strdup(sl_tok_is_kw(&t, "TRUE") ? "t" : "f"));
            }
            if (take_kw(ps, "CASE"))
                return case_expr(ps);
            if (sl_tok_is_kw(&t, "ARRAY") && next_is(ps, "[", NULL)) {
                advance(ps);
                advance(ps);
                g = node(ps, GX_ARRAY, NULL);
                while (g && !take_op(ps, "]")) {
                    if (g->n && !take_op(ps, ",")) {
                        syntax(ps);
                        sl_gx_free(g);
                        return NULL;
                    }
                    if (!part(ps, g, NULL, NULL)) {
                        sl_gx_free(g);
                        return NULL;
                    }
                }
                return g;
            }
            if (sl_tok_is_kw(&t, "CAST") && next_is(ps, "(", NULL)) {
                advance(ps);
                advance(ps);
                gx_t *a = expr(ps);
                if (!a)
                    return NULL;
                if (!take_kw(ps, "AS")) {
                    sl_gx_free(a);
                    syntax(ps);
                    return NULL;
                }
                g = cast_of(ps, a);
                if (g && !take_op(ps, ")")) {
                    syntax(ps);
                    sl_gx_free(g);
                    return NULL;
                }
                return g;
            }
        }
        char *name = text_of(&t, !quoted);
        advance(ps);
        if (!quoted && take_op(ps, ".")) { /* pg_catalog.lower(...) */
            char *fn = ps->tok.kind == SL_TOK_WORD || ps->tok.kind == SL_TOK_QUOTED
                           ? text_of(&ps->tok, ps->tok.kind == SL_TOK_WORD) : NULL;
            if (!fn || !next_is(ps, "(", NULL)) {
                free(fn);
                free(name);
                syntax(ps);
                return NULL;
            }
            advance(ps);
            if (strcmp(name, "pg_catalog")) {
                size_t n = strlen(name) + strlen(fn) + 2;
                char *q = malloc(n);
                if (!q)
                    sl_oom();
                snprintf(q, n, "%s.%s", name, fn);
                free(fn);
                fn = q;
            }
            free(name);
            name = fn;
        } else if (!sl_tok_is_op(&ps->tok, "(")) {
            return node(ps, GX_COL, name);
        }
        advance(ps); /* ( */
        if (!quoted && (!strcmp(name, "extract") || !strcmp(name, "trim") ||
                        !strcmp(name, "position") || !strcmp(name, "substring"))) {
            g = special(ps, name);
            free(name);
            return g;
        }
        g = node(ps, GX_FUNC, name);
        return g ? args(ps, g) : NULL;
    }
    default:
        break;
    }
    syntax(ps);
    return NULL;
}

/* ---- operators ------------------------------------------------------------------------ */

static gx_t *postfix(parser_t *ps)
{
    gx_t *g = primary(ps);
    while (g && take_op(ps, "::"))
        g = cast_of(ps, g);
    return g;
}

static gx_t *unary(parser_t *ps)
{
    if (sl_tok_is_op(&ps->tok, "-") || sl_tok_is_op(&ps->tok, "+")) {
        bool neg = ps->tok.p[0] == '-';
        if (++ps->depth > GX_MAX_DEPTH) {
            sl_err_set(ps->err, SL_E_LIMIT, "expression nests too deeply");
            return NULL;
        }
        advance(ps);
        gx_t *a = unary(ps);
        ps->depth--;
        if (!a || !neg)
            return a;
        gx_t *g = node(ps, GX_NEG, NULL);
        if (!g) {
            sl_gx_free(a);
            return NULL;
        }
        add(g, a);
        return g;
    }
    return postfix(ps);
}

static gx_t *level_pow(parser_t *ps)
{
    gx_t *g = unary(ps);
    while (g && take_op(ps, "^"))
        g = binary(ps, g, "^", unary);
    return g;
}

static gx_t *level_mul(parser_t *ps)
{
    gx_t *g = level_pow(ps);
    for (;;) {
        const char *op = sl_tok_is_op(&ps->tok, "*") ? "*" : sl_tok_is_op(&ps->tok, "/") ? "/"
                         : sl_tok_is_op(&ps->tok, "%") ? "%" : NULL;
        if (!g || !op)
            return g;
        advance(ps);
        g = binary(ps, g, op, level_pow);
    }
}

static gx_t *level_add(parser_t *ps)
{
    gx_t *g = level_mul(ps);
    for (;;) {
        const char *op = sl_tok_is_op(&ps->tok, "+") ? "+" : sl_tok_is_op(&ps->tok, "-") ? "-" : NULL;
        if (!g || !op)
            return g;
        advance(ps);
        g = binary(ps, g, op, level_mul);
    }
}

static gx_t *level_other(parser_t *ps)
{
    static const char *const ops[] = {"||", "~~", "!~~", "~~*", "!~~*", "~", "!~", "~*", "!~*"};
    gx_t *g = level_add(ps);
    for (;;) {
        const char *op = NULL;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !op; i++)
            if (sl_tok_is_op(&ps->tok, ops[i]))
                op = ops[i];
        if (!op && sl_tok_is_kw(&ps->tok, "LIKE"))
            op = "~~";
        if (!op && sl_tok_is_kw(&ps->tok, "NOT") && next_is(ps, NULL, "LIKE")) {
            advance(ps);
            op = "!~~";
        }
        if (!g || !op)
            return g;
        advance(ps);
        g = binary(ps, g, op, level_add);
    }
}

static gx_t *level_cmp(parser_t *ps)
{
    static const char *const ops[] = {"=", "<>", "!=", "<", "<=", ">", ">="};
    gx_t *g = level_other(ps);
    const char *op = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !op; i++)
        if (sl_tok_is_op(&ps->tok, ops[i]))
            op = ops[i];
    if (!g || !op)
        return g;
    advance(ps);
    if (!strcmp(op, "!="))
        op = "<>";
    bool any = sl_tok_is_kw(&ps->tok, "ANY") || sl_tok_is_kw(&ps->tok, "SOME");
    if ((any || sl_tok_is_kw(&ps->tok, "ALL")) && next_is(ps, "(", NULL)) {
        advance(ps);
        advance(ps);
        gx_t *q = node(ps, GX_ANY, strdup(op));
        if (!q) {
            sl_gx_free(g);
            return NULL;
        }
        q->array = !any;
        add(q, g);
        if (!part(ps, q, NULL, ")")) {
            sl_gx_free(q);
            return NULL;
        }
        return q;
    }
    return binary(ps, g, op, level_other);
}

static gx_t *level_is(parser_t *ps)
{
    static const char *const tests[] = {"NULL", "TRUE", "FALSE", "UNKNOWN"};
    gx_t *g = level_cmp(ps);
    while (g && take_kw(ps, "IS")) {
        bool not = take_kw(ps, "NOT");
        const char *what = NULL;
        for (size_t i = 0; i < 4 && !what; i++)
            if (take_kw(ps, tests[i]))
                what = tests[i];
        bool distinct = !what && take_kw(ps, "DISTINCT");
        if (!what && !(distinct && take_kw(ps, "FROM"))) {
            sl_gx_free(g);
            syntax(ps);
            return NULL;
        }
        char s[32];
        snprintf(s, sizeof s, "%s%s", not ? "NOT " : "", distinct ? "DISTINCT FROM" : what);
        gx_t *is = node(ps, GX_IS, strdup(s));
        if (!is) {
            sl_gx_free(g);
            return NULL;
        }
        add(is, g);
        g = is;
        if (distinct) {
            gx_t *r = level_cmp(ps);
            if (!r) {
                sl_gx_free(g);
                return NULL;
            }
            add(g, r);
        }
    }
    return g;
}

static gx_t *level_not(parser_t *ps)
{
    if (!sl_tok_is_kw(&ps->tok, "NOT"))
        return level_is(ps);
    if (++ps->depth > GX_MAX_DEPTH) {
        sl_err_set(ps->err, SL_E_LIMIT, "expression nests too deeply");
        return NULL;
    }
    advance(ps);
    gx_t *a = level_not(ps);
    ps->depth--;
    gx_t *g = a ? node(ps, GX_NOT, NULL) : NULL;
    if (!g) {
        sl_gx_free(a);
        return NULL;
    }
    add(g, a);
    return g;
}

static gx_t *level_and(parser_t *ps)
{
    gx_t *g = level_not(ps);
    while (g && take_kw(ps, "AND"))
        g = binary(ps, g, "AND", level_not);
    return g;
}

static gx_t *expr(parser_t *ps)
{
    if (++ps->depth > GX_MAX_DEPTH) {
        sl_err_set(ps->err, SL_E_LIMIT, "expression nests too deeply");
        return NULL;
    }
    gx_t *g = level_and(ps);
    while (g && take_kw(ps, "OR"))
        g = binary(ps, g, "OR", level_and);
    ps->depth--;
    return g;
}

int sl_gx_parse(const char *text, gx_t **out, sl_err_t *err)
{
    size_t len = strlen(text);
    if (len > GX_MAX_TEXT)
        return sl_err_set(err, SL_E_LIMIT, "expression is too long (%zu bytes)", len);
    sl_err_t local;
    if (!err)
        err = &local;
    parser_t ps = {.text = text, .len = len, .err = err};
    sl_err_clear(err);
    sl_sqllex_init(&ps.lx, text, len, false);
    advance(&ps);
    gx_t *g = expr(&ps);
    if (g && ps.tok.kind != SL_TOK_END) {
        syntax(&ps);
        sl_gx_free(g);
        g = NULL;
    }
    if (!g) {
        if (err->code == SL_OK)
            syntax(&ps);
        return -1;
    }
    *out = g;
    return 0;
}
