/*
 * sqllex.c: see sqllex.h.
 */
#include "core/sqllex.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void sl_sqllex_init(sl_sqllex_t *lx, const char *text, size_t len, bool backquotes)
{
    lx->text = text;
    lx->len = len;
    lx->pos = 0;
    lx->backquotes = backquotes;
}

static bool is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_ident_char(unsigned char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Skips whitespace and comments; returns false on an unterminated comment. */
static bool skip_space(sl_sqllex_t *lx)
{
    const char *s = lx->text;
    for (;;) {
        while (lx->pos < lx->len && s[lx->pos] && strchr(" \t\r\n\f\v", s[lx->pos]))
            lx->pos++;
        if (lx->pos + 1 < lx->len && s[lx->pos] == '-' && s[lx->pos + 1] == '-') {
            while (lx->pos < lx->len && s[lx->pos] != '\n')
                lx->pos++;
        } else if (lx->pos + 1 < lx->len && s[lx->pos] == '/' && s[lx->pos + 1] == '*') {
            size_t i = lx->pos + 2;
            while (i + 1 < lx->len && !(s[i] == '*' && s[i + 1] == '/'))
                i++;
            if (i + 1 >= lx->len)
                return false;
            lx->pos = i + 2;
        } else {
            return true;
        }
    }
}

/* A quoted token starting at lx->pos with quote character q (doubled inside). */
static sl_tok_t quoted(sl_sqllex_t *lx, char q, sl_tok_kind_t kind, const char *unterminated)
{
    sl_tok_t t = {.kind = kind, .p = lx->text + lx->pos, .pos = lx->pos};
    size_t i = lx->pos + 1;
    for (;;) {
        if (i >= lx->len) {
            t.kind = SL_TOK_BAD;
            t.why = unterminated;
            t.n = lx->len - lx->pos;
            lx->pos = lx->len;
            return t;
        }
        if (lx->text[i] == q) {
            if (i + 1 < lx->len && lx->text[i + 1] == q) {
                i += 2;
                continue;
            }
            break;
        }
        i++;
    }
    t.n = i + 1 - lx->pos;
    lx->pos = i + 1;
    return t;
}

static const char *const operators[] = {
    "!~~*", "!~~", "~~*", "::", "||", "<>", "!=", "<=", ">=", "~~", "!~*", "!~", "~*",
};

sl_tok_t sl_sqllex_next(sl_sqllex_t *lx)
{
    if (!skip_space(lx)) {
        sl_tok_t t = {.kind = SL_TOK_BAD, .p = lx->text + lx->pos, .n = lx->len - lx->pos,
                      .pos = lx->pos, .why = "unterminated /* comment"};
        lx->pos = lx->len;
        return t;
    }
    const char *s = lx->text;
    size_t start = lx->pos;
    sl_tok_t t = {.kind = SL_TOK_END, .p = s + start, .pos = start};
    if (start >= lx->len)
        return t;
    unsigned char c = (unsigned char)s[start];
    if (c == '\'')
        return quoted(lx, '\'', SL_TOK_STRING, "unterminated quoted string");
    if (c == '"')
        return quoted(lx, '"', SL_TOK_QUOTED, "unterminated quoted identifier");
    if (c == '`' && lx->backquotes)
        return quoted(lx, '`', SL_TOK_BACKQUOTED, "unterminated quoted identifier");
    size_t i = start;
    if (is_digit(c) || (c == '.' && i + 1 < lx->len && is_digit((unsigned char)s[i + 1]))) {
        while (i < lx->len && is_digit((unsigned char)s[i]))
            i++;
        if (i < lx->len && s[i] == '.') {
            i++;
            while (i < lx->len && is_digit((unsigned char)s[i]))
                i++;
        }
        if (i < lx->len && (s[i] == 'e' || s[i] == 'E')) {
            size_t j = i + 1;
            if (j < lx->len && (s[j] == '+' || s[j] == '-'))
                j++;
            if (j < lx->len && is_digit((unsigned char)s[j])) {
                while (j < lx->len && is_digit((unsigned char)s[j]))
                    j++;
                i = j;
                t.exponent = true;
            }
        }
        t.kind = SL_TOK_NUMBER;
        if (i < lx->len && is_ident_char((unsigned char)s[i])) {
            t.kind = SL_TOK_BAD;
            t.why = "trailing junk after numeric literal";
            while (i < lx->len && is_ident_char((unsigned char)s[i]))
                i++;
        }
    } else if (is_ident_start(c)) {
        while (i < lx->len && is_ident_char((unsigned char)s[i]))
            i++;
        t.kind = SL_TOK_WORD;
    } else {
        t.kind = SL_TOK_OP;
        i++;
        for (size_t k = 0; k < sizeof operators / sizeof operators[0]; k++) {
            size_t n = strlen(operators[k]);
            if (start + n <= lx->len && memcmp(s + start, operators[k], n) == 0) {
                i = start + n;
                break;
            }
        }
        if (c < 0x20 || c == 0x7f || !strchr("=<>!(),+-*/%^~[].;:|&@#?`$", c)) {
            t.kind = SL_TOK_BAD;
            t.why = "unexpected character";
        }
    }
    t.n = i - start;
    lx->pos = i;
    return t;
}

bool sl_tok_is_op(const sl_tok_t *tok, const char *op)
{
    return tok->kind == SL_TOK_OP && tok->n == strlen(op) && memcmp(tok->p, op, tok->n) == 0;
}

bool sl_tok_is_kw(const sl_tok_t *tok, const char *kw)
{
    return tok->kind == SL_TOK_WORD && tok->n == strlen(kw) && strncasecmp(tok->p, kw, tok->n) == 0;
}

int sl_sqllex_text(const sl_tok_t *tok, sl_buf_t *out, sl_err_t *err)
{
    if (tok->kind != SL_TOK_QUOTED && tok->kind != SL_TOK_BACKQUOTED && tok->kind != SL_TOK_STRING)
        return sl_buf_add(out, tok->p, tok->n, err);
    char q = tok->p[0];
    if (sl_buf_add(out, "", 0, err) || sl_buf_reserve(out, tok->n, err))
        return -1; /* the first add leaves "" rather than no text for '' */
    for (size_t i = 1; i + 1 < tok->n; i++) {
        if (sl_buf_addc(out, tok->p[i], err))
            return -1;
        if (tok->p[i] == q)
            i++; /* the second of a doubled quote */
    }
    return 0;
}

const char *sl_tok_describe(const sl_tok_t *tok, char *buf, size_t size)
{
    if (tok->kind == SL_TOK_END) {
        snprintf(buf, size, "end of input");
        return buf;
    }
    int n = tok->n > 40 ? 40 : (int)tok->n;
    snprintf(buf, size, "\"%.*s%s\"", n, tok->p, tok->n > 40 ? "..." : "");
    return buf;
}

/* Characters (UTF-8 code points) in s[0..n). */
static size_t chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

/* Moves i back or forward to a UTF-8 character boundary. */
static size_t boundary(const char *s, size_t len, size_t i)
{
    while (i > 0 && i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
        i--;
    return i;
}

int sl_sqllex_error(sl_err_t *err, sl_errcode_t code, const char *what, const char *text,
                    size_t len, const sl_tok_t *tok, const char *hint)
{
    char d[64];
    if (tok->kind == SL_TOK_END)
        sl_err_set(err, code, "syntax error at end of %s", what);
    else if (tok->kind == SL_TOK_BAD)
        sl_err_set(err, code, "%s at or near %s", tok->why, sl_tok_describe(tok, d, sizeof d));
    else
        sl_err_set(err, code, "syntax error at or near %s", sl_tok_describe(tok, d, sizeof d));
    /* A window of the text around the position, one line, with a caret under it. */
    size_t pos = tok->pos > len ? len : tok->pos;
    size_t from = boundary(text, len, pos > 60 ? pos - 60 : 0);
    size_t to = boundary(text, len, pos + 60 < len ? pos + 60 : len);
    char line[400];
    size_t o = 0;
    for (size_t i = from; i < to && o + 1 < sizeof line; i++)
        line[o++] = (text[i] == '\n' || text[i] == '\t' || text[i] == '\r') ? ' ' : text[i];
    line[o] = '\0';
    size_t col = chars(text + from, pos - from) + (from ? 3 : 0);
    char caret[200];
    size_t k = 0;
    for (; k < col && k + 2 < sizeof caret; k++)
        caret[k] = ' ';
    caret[k++] = '^';
    caret[k] = '\0';
    sl_err_detail(err, "at character %zu of the %s:\n%s%s%s\n%s", chars(text, pos) + 1, what,
                  from ? "..." : "", line, to < len ? "..." : "", caret);
    if (hint)
        sl_err_hint(err, "%s", hint);
    return -1;
}

bool sl_utf8_valid(const char *s, size_t n, size_t *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        size_t k = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3
                 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
        bool ok = k && i + k <= n;
        for (size_t j = 1; ok && j < k; j++)
            ok = (u[i + j] & 0xc0) == 0x80;
        /* overlong three- and four-byte forms, surrogates, past U+10FFFF */
        if (ok && k == 3)
            ok = !(c == 0xe0 && u[i + 1] < 0xa0) && !(c == 0xed && u[i + 1] >= 0xa0);
        if (ok && k == 4)
            ok = !(c == 0xf0 && u[i + 1] < 0x90) && !(c == 0xf4 && u[i + 1] >= 0x90);
        if (!ok) {
            if (bad)
                *bad = i;
            return false;
        }
        i += k;
    }
    return true;
}
