/*
 * filter_parse.c: the filter text into a syntax tree (filter_int.h), by recursive
 * descent over core/sqllex tokens with SQL's precedence (OR < AND < NOT < predicates).
 *
 * Pure and bounded: the text, the nesting depth and the number of nodes have maxima, so
 * hostile input (the fuzzer's, a spec pasted into the API) costs at most a few MB and a
 * shallow stack. A syntax error names the token and its position like PostgreSQL does and
 * hints at what the language has instead (functions, arithmetic, ILIKE, == ...).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sqllex.h"
#include "core/mem.h"
#include "filter/filter_int.h"

#define GRAMMAR_HINT                                                                         \
    "A filter is a condition on the table's columns: comparisons (= <> < <= > >=), "        \
    "IS [NOT] NULL, [NOT] IN (...), [NOT] BETWEEN ... AND ..., [NOT] LIKE '...', joined "   \
    "with AND, OR, NOT and parentheses; text literals in single quotes."

typedef struct parser {
    sl_sqllex_t lx;
    sl_tok_t tok;
    const char *text;
    size_t len;
    int depth;
    int nodes;
    sl_err_t *err;
} parser_t;

static void advance(parser_t *ps)
{
    ps->tok = sl_sqllex_next(&ps->lx);
}

static void *zalloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p)
        sl_oom(); /* a few KB at most: the text is bounded */
    return p;
}

static int syntax(parser_t *ps, const sl_tok_t *at, const char *hint)
{
    return sl_sqllex_error(ps->err, SL_E_CONFIG, "filter", ps->text, ps->len, at,
                           hint ? hint : GRAMMAR_HINT);
}

/* The hint for a token the language does not have where an operand or operator was
 * expected. */
static const char *hint_for(const sl_tok_t *t)
{
    static const char *const arith[] = {"+", "-", "*", "/", "%", "^", "||"};
    for (size_t i = 0; i < sizeof arith / sizeof arith[0]; i++)
        if (sl_tok_is_op(t, arith[i]))
            return "A filter has no arithmetic or concatenation: compare a column with a "
                   "literal, e.g. price > 100.";
    if (sl_tok_is_op(t, "="))
        return "Compare with a single =, e.g. region = 'EU'.";
    if (sl_tok_is_op(t, "::"))
        return "A filter has no casts: a quoted literal is read as the column's type, e.g. "
               "created_at >= '2024-01-01'.";
    if (sl_tok_is_op(t, "~~") || sl_tok_is_op(t, "~~*") || sl_tok_is_op(t, "~") ||
        sl_tok_is_op(t, "~*") || sl_tok_is_op(t, "!~") || sl_tok_is_op(t, "!~~"))
        return "Use LIKE with % and _; regular expressions are not supported.";
    if (sl_tok_is_kw(t, "ILIKE"))
        return "LIKE is case-sensitive and ILIKE is not supported: list the spellings, e.g. "
               "(code LIKE 'a%' OR code LIKE 'A%').";
    if (sl_tok_is_kw(t, "SELECT"))
        return "A filter cannot hold a subquery: it is a condition on the row's own columns.";
    if (sl_tok_is_op(t, "\"") || t->kind == SL_TOK_BAD)
        return NULL;
    if (sl_tok_is_op(t, ";"))
        return "A filter is one condition: remove the ';'.";
    return NULL;
}

static bool is_reserved(const sl_tok_t *t)
{
    static const char *const kw[] = {"AND", "OR", "NOT", "IS", "IN", "BETWEEN", "LIKE",
                                     "ILIKE", "ESCAPE", "TRUE", "FALSE", "NULL", "SELECT"};
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (sl_tok_is_kw(t, kw[i]))
            return true;
    return false;
}

static int count(parser_t *ps)
{
    if (++ps->nodes <= FILTER_MAX_NODES)
        return 0;
    sl_err_set(ps->err, SL_E_CONFIG, "filter is too complex");
    sl_err_detail(ps->err, "It holds more than %d predicates, operands and list items.",
                  FILTER_MAX_NODES);
    sl_err_hint(ps->err, "Split the table or use BETWEEN instead of long IN lists.");
    return -1;
}

static void set_text(operand_t *o, const sl_tok_t *t)
{
    sl_buf_t b;
    sl_buf_init(&b, FILTER_MAX_TEXT);
    if (sl_sqllex_text(t, &b, NULL) || !b.data) /* bounded by the text itself */
        sl_buf_adds(&b, "", NULL);
    o->text = sl_buf_steal(&b, &o->len);
}

/* An operand: a column, a literal, -number, or DATE/TIME/TIMESTAMP 'text'. */
static int operand(parser_t *ps, operand_t *o)
{
    sl_tok_t t = ps->tok;
    memset(o, 0, sizeof *o);
    o->pos = t.pos;
    o->col = -1;
    if (count(ps))
        return -1;
    if (t.kind == SL_TOK_WORD) {
        if (sl_tok_is_kw(&t, "TRUE") || sl_tok_is_kw(&t, "FALSE")) {
            o->lit = LIT_BOOL;
            o->text = strdup(sl_tok_is_kw(&t, "TRUE") ? "t" : "f");
            o->len = 1;
            if (!o->text)
                sl_oom();
            advance(ps);
            return 0;
        }
        if (sl_tok_is_kw(&t, "NULL")) {
            o->lit = LIT_NULL;
            advance(ps);
            return 0;
        }
        if (is_reserved(&t))
            return syntax(ps, &t, hint_for(&t));
        static const struct {
            const char *kw;
            litkind_t lit;
        } typed[] = {{"DATE", LIT_DATE}, {"TIME", LIT_TIME}, {"TIMESTAMP", LIT_TIMESTAMP}};
        for (size_t i = 0; i < 3; i++) {
            if (!sl_tok_is_kw(&t, typed[i].kw))
                continue;
            sl_sqllex_t save = ps->lx;
            sl_tok_t s = sl_sqllex_next(&ps->lx);
            if (s.kind == SL_TOK_STRING) {
                o->lit = typed[i].lit;
                set_text(o, &s);
                advance(ps);
                return 0;
            }
            ps->lx = save; /* a column that happens to be called date */
        }
    }
    if (t.kind == SL_TOK_WORD || t.kind == SL_TOK_QUOTED || t.kind == SL_TOK_BACKQUOTED) {
        o->is_col = true;
        o->quoted = t.kind != SL_TOK_WORD;
        set_text(o, &t);
        if (o->len == 0) {
            sl_err_set(ps->err, SL_E_CONFIG, "zero-length delimited identifier at character %zu",
                       t.pos + 1);
            sl_err_hint(ps->err, "Name a column between the quotes.");
            return -1;
        }
        advance(ps);
        if (sl_tok_is_op(&ps->tok, "("))
            return syntax(ps, &ps->tok,
                          "A filter cannot call functions: compare the column itself, e.g. "
                          "code = 'ab' rather than lower(code) = 'ab'.");
        if (sl_tok_is_op(&ps->tok, "."))
            return syntax(ps, &ps->tok, "Name the column alone, without its table or schema.");
        return 0;
    }
    if (t.kind == SL_TOK_STRING) {
        o->lit = LIT_STRING;
        set_text(o, &t);
        advance(ps);
        return 0;
    }
    bool neg = false;
    if (sl_tok_is_op(&t, "-")) {
        sl_sqllex_t save = ps->lx;
        sl_tok_t s = sl_sqllex_next(&ps->lx);
        ps->lx = save;
        if (s.kind != SL_TOK_NUMBER)
            return syntax(ps, &t, hint_for(&t));
        neg = true;
        advance(ps);
        t = ps->tok;
    }
    if (t.kind == SL_TOK_NUMBER) {
        if (t.exponent)
            return syntax(ps, &t, "Write the number without an exponent, e.g. 1500 for 1.5e3.");
        o->lit = LIT_NUMBER;
        o->len = t.n + neg + (t.p[0] == '.');
        o->text = zalloc(o->len + 1);
        size_t k = 0;
        if (neg)
            o->text[k++] = '-';
        if (t.p[0] == '.')
            o->text[k++] = '0';
        memcpy(o->text + k, t.p, t.n);
        advance(ps);
        return 0;
    }
    return syntax(ps, &t, hint_for(&t));
}

static node_t *new_node(nkind_t kind, size_t pos, int nops)
{
    node_t *n = zalloc(sizeof *n);
    n->kind = kind;
    n->pos = pos;
    n->nops = nops;
    n->ops = nops ? zalloc(sizeof *n->ops * (size_t)nops) : NULL;
    return n;
}

static void add_op(node_t *n, const operand_t *o)
{
    operand_t *p = realloc(n->ops, sizeof *p * (size_t)(n->nops + 1));
    if (!p)
        sl_oom();
    n->ops = p;
    p[n->nops++] = *o;
}

static void add_kid(node_t *n, node_t *k)
{
    node_t **p = realloc(n->kids, sizeof *p * (size_t)(n->nkids + 1));
    if (!p)
        sl_oom();
    n->kids = p;
    p[n->nkids++] = k;
}

static void free_operand(operand_t *o)
{
    if (o)
        free(o->text);
}

void sl_filter_node_free(node_t *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->nkids; i++)
        sl_filter_node_free(n->kids[i]);
    free(n->kids);
    for (int i = 0; i < n->nops; i++)
        free_operand(&n->ops[i]);
    free(n->ops);
    free_operand(n->escape);
    free(n->escape);
    free(n->pattern);
    free(n);
}

static node_t *parse_or(parser_t *ps);

static int expect(parser_t *ps, const char *op)
{
    if (sl_tok_is_op(&ps->tok, op)) {
        advance(ps);
        return 0;
    }
    return syntax(ps, &ps->tok, hint_for(&ps->tok));
}

static bool is_cmp(const sl_tok_t *t, cmp_t *op)
{
    static const struct {
        const char *s;
        cmp_t op;
    } ops[] = {{"=", CMP_EQ}, {"<>", CMP_NE}, {"!=", CMP_NE}, {"<", CMP_LT},
               {"<=", CMP_LE}, {">", CMP_GT}, {">=", CMP_GE}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (sl_tok_is_op(t, ops[i].s)) {
            *op = ops[i].op;
            return true;
        }
    return false;
}

/* The rest of `x [NOT] IN (...)`, `x [NOT] BETWEEN a AND b`, `x [NOT] LIKE 'p'`, after
 * the keyword; n already holds x. */
static int tail_in(parser_t *ps, node_t *n)
{
    if (expect(ps, "("))
        return -1;
    for (;;) {
        operand_t o;
        if (operand(ps, &o)) {
            free_operand(&o);
            return -1;
        }
        add_op(n, &o);
        if (sl_tok_is_op(&ps->tok, ")"))
            break;
        if (expect(ps, ","))
            return -1;
    }
    advance(ps);
    return 0;
}

static int tail_like(parser_t *ps, node_t *n)
{
    if (ps->tok.kind != SL_TOK_STRING)
        return syntax(ps, &ps->tok, "LIKE takes a quoted pattern, e.g. name LIKE 'ab%'.");
    operand_t o;
    if (operand(ps, &o)) {
        free_operand(&o);
        return -1;
    }
    add_op(n, &o);
    if (!sl_tok_is_kw(&ps->tok, "ESCAPE"))
        return 0;
    advance(ps);
    if (ps->tok.kind != SL_TOK_STRING)
        return syntax(ps, &ps->tok, "ESCAPE takes one quoted character, e.g. ESCAPE '!'.");
    n->escape = zalloc(sizeof *n->escape);
    return operand(ps, n->escape);
}

static node_t *predicate(parser_t *ps)
{
    sl_tok_t start = ps->tok;
    if (sl_tok_is_op(&start, "(")) {
        if (++ps->depth > FILTER_MAX_DEPTH) {
            syntax(ps, &start, "The filter nests parentheses too deeply.");
            return NULL;
        }
        advance(ps);
        node_t *e = parse_or(ps);
        if (e && expect(ps, ")")) {
            sl_filter_node_free(e);
            return NULL;
        }
        ps->depth--;
        return e;
    }
    operand_t x;
    if (operand(ps, &x)) {
        free_operand(&x);
        return NULL;
    }
    node_t *n = NULL;
    cmp_t op;
    sl_tok_t t = ps->tok;
    if (is_cmp(&t, &op)) {
        advance(ps);
        n = new_node(N_CMP, t.pos, 0);
        n->op = op;
        add_op(n, &x);
        operand_t y;
        if (operand(ps, &y)) {
            free_operand(&y);
            goto fail;
        }
        add_op(n, &y);
        if (is_cmp(&ps->tok, &op)) {
            syntax(ps, &ps->tok, "Join two comparisons with AND, e.g. a > 1 AND a < 5.");
            goto fail;
        }
        return n;
    }
    if (sl_tok_is_kw(&t, "IS")) {
        n = new_node(N_ISNULL, t.pos, 0);
        add_op(n, &x);
        advance(ps);
        if (sl_tok_is_kw(&ps->tok, "NOT")) {
            n->neg = true;
            advance(ps);
        }
        if (!sl_tok_is_kw(&ps->tok, "NULL")) {
            syntax(ps, &ps->tok, "IS takes NULL or NOT NULL; for a boolean column write "
                                 "flag = TRUE.");
            goto fail;
        }
        advance(ps);
        return n;
    }
    bool neg = false;
    if (sl_tok_is_kw(&t, "NOT")) {
        neg = true;
        advance(ps);
        t = ps->tok;
        if (!sl_tok_is_kw(&t, "IN") && !sl_tok_is_kw(&t, "BETWEEN") && !sl_tok_is_kw(&t, "LIKE")) {
            free_operand(&x);
            syntax(ps, &t, "NOT after an operand takes IN, BETWEEN or LIKE.");
            return NULL;
        }
    }
    if (sl_tok_is_kw(&t, "IN") || sl_tok_is_kw(&t, "BETWEEN") || sl_tok_is_kw(&t, "LIKE")) {
        n = new_node(sl_tok_is_kw(&t, "IN") ? N_IN : sl_tok_is_kw(&t, "LIKE") ? N_LIKE : N_BETWEEN,
                     t.pos, 0);
        n->neg = neg;
        add_op(n, &x);
        advance(ps);
        int rc;
        if (n->kind == N_IN) {
            rc = tail_in(ps, n);
        } else if (n->kind == N_LIKE) {
            rc = tail_like(ps, n);
        } else {
            if (sl_tok_is_kw(&ps->tok, "SYMMETRIC")) {
                syntax(ps, &ps->tok, "BETWEEN SYMMETRIC is not supported: put the smaller "
                                     "bound first.");
                goto fail;
            }
            operand_t lo, hi;
            rc = operand(ps, &lo);
            add_op(n, &lo);
            if (!rc && !sl_tok_is_kw(&ps->tok, "AND")) {
                syntax(ps, &ps->tok, "BETWEEN takes two bounds joined with AND.");
                goto fail;
            }
            if (!rc) {
                advance(ps);
                rc = operand(ps, &hi);
                add_op(n, &hi);
            }
        }
        if (rc)
            goto fail;
        return n;
    }
    /* A lone operand: a boolean column, if the condition ends here. */
    if (x.is_col && (t.kind == SL_TOK_END || sl_tok_is_op(&t, ")") || sl_tok_is_kw(&t, "AND") ||
                     sl_tok_is_kw(&t, "OR"))) {
        n = new_node(N_BOOLCOL, x.pos, 0);
        add_op(n, &x);
        return n;
    }
    free_operand(&x);
    syntax(ps, &t, hint_for(&t));
    return NULL;
fail:
    sl_filter_node_free(n);
    return NULL;
}

static node_t *parse_not(parser_t *ps)
{
    if (!sl_tok_is_kw(&ps->tok, "NOT"))
        return predicate(ps);
    size_t pos = ps->tok.pos;
    if (count(ps))
        return NULL;
    if (++ps->depth > FILTER_MAX_DEPTH) {
        syntax(ps, &ps->tok, "The filter nests NOT too deeply.");
        return NULL;
    }
    advance(ps);
    node_t *k = parse_not(ps);
    ps->depth--;
    if (!k)
        return NULL;
    node_t *n = new_node(N_NOT, pos, 0);
    add_kid(n, k);
    return n;
}

/* One level of an n-ary AND or OR. */
static node_t *nary(parser_t *ps, const char *kw, nkind_t kind, node_t *(*sub)(parser_t *))
{
    node_t *first = sub(ps);
    if (!first || !sl_tok_is_kw(&ps->tok, kw))
        return first;
    node_t *n = new_node(kind, first->pos, 0);
    add_kid(n, first);
    while (sl_tok_is_kw(&ps->tok, kw)) {
        advance(ps);
        node_t *k = count(ps) ? NULL : sub(ps);
        if (!k) {
            sl_filter_node_free(n);
            return NULL;
        }
        add_kid(n, k);
    }
    return n;
}

static node_t *parse_and(parser_t *ps)
{
    return nary(ps, "AND", N_AND, parse_not);
}

static node_t *parse_or(parser_t *ps)
{
    return nary(ps, "OR", N_OR, parse_and);
}

int sl_filter_parse(const char *text, sl_filter_t **out, sl_err_t *err)
{
    size_t len = strlen(text);
    if (len > FILTER_MAX_TEXT) {
        sl_err_set(err, SL_E_CONFIG, "filter is too long");
        sl_err_detail(err, "It has %zu bytes; the limit is %u.", len, FILTER_MAX_TEXT);
        return -1;
    }
    size_t bad;
    if (!sl_utf8_valid(text, len, &bad)) {
        sl_err_set(err, SL_E_CONFIG, "filter is not valid UTF-8");
        sl_err_detail(err, "The byte at offset %zu (0x%02x) does not start or continue a UTF-8 "
                           "character.", bad, (unsigned char)text[bad]);
        sl_err_hint(err, "Write the filter, and its text literals, in UTF-8.");
        return -1;
    }
    parser_t ps = {.text = text, .len = len, .err = err};
    sl_sqllex_init(&ps.lx, text, len, true);
    advance(&ps);
    if (ps.tok.kind == SL_TOK_END) {
        sl_err_set(err, SL_E_CONFIG, "filter is empty");
        sl_err_hint(err, "Write a condition such as region = 'EU', or leave \"where\" out.");
        return -1;
    }
    node_t *root = parse_or(&ps);
    if (root && ps.tok.kind != SL_TOK_END) {
        syntax(&ps, &ps.tok,
               sl_tok_is_op(&ps.tok, ")") ? "This parenthesis closes nothing." : hint_for(&ps.tok));
        sl_filter_node_free(root);
        root = NULL;
    }
    if (!root)
        return -1;
    sl_filter_t *f = zalloc(sizeof *f);
    f->text = strdup(text);
    if (!f->text)
        sl_oom();
    f->root = root;
    *out = f;
    return 0;
}

void sl_filter_free(sl_filter_t *f)
{
    if (!f)
        return;
    sl_filter_node_free(f->root);
    free(f->text);
    free(f->schema);
    free(f->table);
    for (int i = 0; i < f->ncols; i++)
        free(f->cols[i].name);
    free(f->cols);
    free(f);
}

const char *sl_filter_text(const sl_filter_t *f)
{
    return f->text;
}
