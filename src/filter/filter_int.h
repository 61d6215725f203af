/*
 * filter_int.h: what the files of src/filter/ share and nobody else needs: the syntax
 * tree (filter_parse.c builds it, filter_bind.c types it, filter_eval.c and filter_sql.c
 * walk it) and the canonical value helpers of filter_value.c.
 *
 * A predicate compares in one class, fixed at bind time from its columns and literals:
 * exact numbers, floats, text, booleans, instants (dates and timestamps) or times. Bound
 * literals hold their value in that class (fval_t), so evaluation parses only the row's
 * values.
 */
#ifndef SL_FILTER_FILTER_INT_H
#define SL_FILTER_FILTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter/filter.h"

#define FILTER_MAX_TEXT (64u << 10) /* bytes of filter text */
#define FILTER_MAX_DEPTH 64         /* nested parentheses and NOTs */
#define FILTER_MAX_NODES 10000      /* predicates, operands and list items together */

typedef enum cls {
    CLS_NONE = 0, /* only IS [NOT] NULL */
    CLS_EXACT,    /* integers, decimals, money: canonical decimal text */
    CLS_FLOAT,    /* doubles (float32 values widened) */
    CLS_TEXT,     /* bytes, compared with memcmp */
    CLS_BOOL,     /* 0 / 1 */
    CLS_INSTANT,  /* µs since the epoch, UTC; dates at midnight */
    CLS_TIME,     /* signed µs */
} cls_t;

/* One comparable value. Instants: INT64_MIN / INT64_MAX are -infinity / infinity. */
typedef struct fval {
    bool null;
    const char *s; /* EXACT, TEXT: the text (borrowed: a literal's or a row's) */
    size_t n;
    double d;      /* FLOAT */
    int64_t i;     /* BOOL, INSTANT, TIME */
} fval_t;

typedef enum litkind {
    LIT_NULL,
    LIT_NUMBER, /* text holds the digits, sign included */
    LIT_STRING,
    LIT_BOOL,   /* text "t" / "f" */
    LIT_DATE,   /* DATE '...' */
    LIT_TIME,   /* TIME '...' */
    LIT_TIMESTAMP,
} litkind_t;

typedef struct operand {
    bool is_col;
    size_t pos;    /* offset in the filter text */
    char *text;    /* column name or literal text (decoded), owned */
    size_t len;
    bool quoted;   /* a quoted column name */
    litkind_t lit;
    /* bound */
    int col;       /* column index, -1 for a literal */
    fval_t v;      /* a literal's value in the predicate's class */
    bool with_time; /* an instant literal with a time of day (rendered as a timestamp) */
} operand_t;

typedef enum nkind { N_AND, N_OR, N_NOT, N_CMP, N_ISNULL, N_IN, N_BETWEEN, N_LIKE, N_BOOLCOL } nkind_t;
typedef enum cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE } cmp_t;

typedef struct node {
    nkind_t kind;
    size_t pos;
    bool neg;          /* IS NOT NULL, NOT IN, NOT BETWEEN, NOT LIKE */
    cmp_t op;          /* N_CMP */
    cls_t cls;         /* bound comparison class */
    struct node **kids; /* N_AND, N_OR (n-ary), N_NOT (one) */
    int nkids;
    operand_t *ops;    /* CMP: 2; BETWEEN: x, lo, hi; IN: x then the list; LIKE: x, pattern;
                          ISNULL, BOOLCOL: the column */
    int nops;
    operand_t *escape; /* LIKE ... ESCAPE 'c', NULL when absent */
    char *pattern;     /* LIKE, bound: the pattern with \ as its escape character */
    size_t plen;
} node_t;

typedef struct fcol {
    char *name;
    sl_type_t type;
    bool key;
} fcol_t;

struct sl_filter {
    char *text;
    node_t *root;
    bool bound;
    /* copied from the table at bind time */
    char *schema, *table;
    bool mysql;      /* the table's engine: which literals are valid */
    fcol_t *cols;
    int ncols;
    bool keyless;
};

/* ---- filter_parse.c ---- */
void sl_filter_node_free(node_t *n);

/* ---- filter_value.c: canonical text into comparable values ---- */
/* The comparison class of a column type (CLS_NONE when only IS NULL applies). */
cls_t sl_filter_type_cls(sl_type_t t);
/* Reads the canonical text p[0..n) of a column of type t as a value of class c.
 * Returns -1 when it is not valid. */
int sl_filter_read(sl_type_t t, cls_t c, const char *p, size_t n, fval_t *out);
/* Orders two non-NULL values of class c: <0, 0, >0. */
int sl_filter_cmp(cls_t c, const fval_t *a, const fval_t *b);
/* Exact decimal text (-?digits[.digits], NaN, Infinity, -Infinity): true if valid. */
bool sl_filter_is_decimal(const char *p, size_t n);
/* Date, timestamp (with an optional offset, converted to UTC; BC allowed) or time text
 * to µs. *with_time says whether a timestamp had a time of day; *zoned whether it had an
 * offset. Return -1 when invalid. */
int sl_filter_instant(const char *p, size_t n, int64_t *us, bool *with_time, bool *zoned);
int sl_filter_time(const char *p, size_t n, int64_t *us);
/* Formats an instant as "YYYY-MM-DD" (when !with_time) or "YYYY-MM-DD HH:MM:SS[.ffffff]"
 * followed by zone (may be NULL), " BC" appended for years before 1; "infinity" /
 * "-infinity". Returns buf. */
const char *sl_filter_instant_text(int64_t us, bool with_time, const char *zone, char *buf,
                                   size_t size);
/* Formats a time as "[-]HH:MM:SS[.ffffff]". */
const char *sl_filter_time_text(int64_t us, char *buf, size_t size);
/* SQL LIKE on UTF-8: pat uses \ as escape, % and _ as wildcards (characters). */
bool sl_filter_like(const char *s, size_t n, const char *pat, size_t pn);

#endif
