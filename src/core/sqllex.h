/*
 * sqllex.h: a small SQL tokenizer shared by the languages sluice reads itself: the row
 * filters of a spec (filter/filter.h) and PostgreSQL generation expressions as
 * pg_get_expr prints them (target/mysql/genexpr.h).
 *
 * It knows words (identifiers and keywords alike: the parsers decide), "quoted"
 * identifiers, `backquoted` identifiers (MySQL style, when asked for), 'strings' with ''
 * doubling, numbers (digits, an optional fraction and exponent) and operators, longest
 * match first (::, ||, <>, !=, <=, >=, ~~, !~~, ~~*, !~~*, single characters). It is pure:
 * it reads text[0..len) and never past it, and a token points into the text; the quoted
 * kinds are decoded on demand by sl_sqllex_text(). Every token carries its byte offset,
 * so that errors can name the position the way PostgreSQL does.
 */
#ifndef SL_CORE_SQLLEX_H
#define SL_CORE_SQLLEX_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

typedef enum sl_tok_kind {
    SL_TOK_END = 0,
    SL_TOK_WORD,       /* identifier or keyword, as written */
    SL_TOK_QUOTED,     /* "identifier" */
    SL_TOK_BACKQUOTED, /* `identifier` */
    SL_TOK_STRING,     /* 'string' */
    SL_TOK_NUMBER,     /* 12, 1.5, .5, 1e3 */
    SL_TOK_OP,         /* operator or punctuation */
    SL_TOK_BAD,        /* unterminated quote, stray byte: `why` says which */
} sl_tok_kind_t;

typedef struct sl_tok {
    sl_tok_kind_t kind;
    const char *p; /* the token's text as written, quotes included */
    size_t n;
    size_t pos;    /* byte offset in the text */
    bool exponent; /* a NUMBER with an exponent part */
    const char *why; /* for SL_TOK_BAD: a static description */
} sl_tok_t;

typedef struct sl_sqllex {
    const char *text;
    size_t len;
    size_t pos;
    bool backquotes; /* accept `identifiers` */
} sl_sqllex_t;

void sl_sqllex_init(sl_sqllex_t *lx, const char *text, size_t len, bool backquotes);
/* The next token (SL_TOK_END at the end, again and again). Whitespace and -- and
 * C-style comments are skipped. */
sl_tok_t sl_sqllex_next(sl_sqllex_t *lx);

/* True when tok is the operator op, or the word kw compared case-insensitively. */
bool sl_tok_is_op(const sl_tok_t *tok, const char *op);
bool sl_tok_is_kw(const sl_tok_t *tok, const char *kw);

/* Appends the decoded text of a WORD (as written), QUOTED, BACKQUOTED or STRING token
 * (quotes removed, doubled quotes undone) to out. */
int sl_sqllex_text(const sl_tok_t *tok, sl_buf_t *out, sl_err_t *err);

/* Describes a token for a syntax error: `"xyz"` (cut at 40 bytes), or "end of input". */
const char *sl_tok_describe(const sl_tok_t *tok, char *buf, size_t size);

/* True when s[0..n) is valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF); otherwise *bad, when not NULL, is the offset of the first bad byte. */
bool sl_utf8_valid(const char *s, size_t n, size_t *bad);

/* Fills err with PostgreSQL's `syntax error at or near "tok"` for text, the position
 * (1-based character, as PostgreSQL counts) and a caret line under it as detail, and the
 * hint (may be NULL). `what` names the text ("filter", "expression"). Returns -1. */
int sl_sqllex_error(sl_err_t *err, sl_errcode_t code, const char *what, const char *text,
                    size_t len, const sl_tok_t *tok, const char *hint);

#endif
