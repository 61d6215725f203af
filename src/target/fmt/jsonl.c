/*
 * jsonl.c: the JSONL encoder: one JSON object per line, keys are the column names in
 * table order, NULL is null. Typed values:
 *   bool                 true / false
 *   int16..int64, uint64 JSON numbers with every digit (no rounding: a reader that keeps
 *                        numbers as doubles, like JavaScript's JSON.parse, loses digits
 *                        beyond 2^53; DuckDB and Python keep them)
 *   float32/64           JSON numbers; NaN, Infinity, -Infinity are not JSON numbers and
 *                        are written as the strings "NaN", "Infinity", "-Infinity"
 *   decimal, money       strings with every digit ("-12.50"), or numbers when
 *                        decimal_as_number (NaN stays the string "NaN")
 *   bytes, geometry      base64 strings (RFC 4648, padded)
 *   date, time           "YYYY-MM-DD", "HH:MM:SS[.ffffff]"
 *   timestamp            "YYYY-MM-DDTHH:MM:SS[.ffffff]" (ISO 8601, no zone)
 *   timestamptz          "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (UTC); ±infinity as strings
 *   json                 embedded as the JSON value itself (line breaks between tokens
 *                        become spaces, so one row stays one line)
 *   everything else      the canonical text as a JSON string
 *
 * Ownership and threads: see fmt.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/fmt/fmt_int.h"

struct sl_fmt_enc {
    const sl_table_t *t;
    sl_fmt_opts_t o;
    sl_fmt_out_t *out;
    char **keys; /* "\"name\":" per column, escaped once */
};

static bool is(const sl_value_t *v, const char *s)
{
    return (size_t)v->len == strlen(s) && memcmp(v->p, s, (size_t)v->len) == 0;
}

/* The value of column i, not NULL. */
static int value(struct sl_fmt_enc *e, int i, const sl_value_t *v, sl_err_t *err)
{
    sl_buf_t *b = sl_fmt_out_buf(e->out);
    const char *p = v->p;
    size_t n = (size_t)v->len;
    switch (e->t->columns[i].type) {
    case SL_T_BOOL: {
        bool x;
        if (sl_fmtv_bool(p, n, &x) < 0)
            return sl_fmtv_error(err, e->t, i, v, "not a boolean");
        return sl_buf_adds(b, x ? "true" : "false", err);
    }
    case SL_T_INT16:
    case SL_T_INT32:
    case SL_T_INT64: {
        int64_t x;
        if (sl_fmtv_i64(p, n, &x) < 0)
            return sl_fmtv_error(err, e->t, i, v, "not an integer");
        return sl_buf_add(b, p, n, err);
    }
    case SL_T_UINT64: {
        uint64_t x;
        if (sl_fmtv_u64(p, n, &x) < 0)
            return sl_fmtv_error(err, e->t, i, v, "not an unsigned integer");
        return sl_buf_add(b, p, n, err);
    }
    case SL_T_FLOAT32:
    case SL_T_FLOAT64: {
        double x;
        if (sl_fmtv_f64(p, n, &x) < 0)
            return sl_fmtv_error(err, e->t, i, v, "not a floating-point number");
        if (is(v, "NaN") || is(v, "Infinity") || is(v, "-Infinity"))
            return sl_fmt_json_str(b, p, n, err);
        /* JSON wants a digit before and after '.'; canonical text already has them. */
        return sl_buf_add(b, p, n, err);
    }
    case SL_T_DECIMAL:
    case SL_T_MONEY:
        if (e->o.decimal_as_number && !is(v, "NaN")) {
            for (size_t k = 0; k < n; k++)
                if (!strchr("0123456789-.", p[k]))
                    return sl_fmtv_error(err, e->t, i, v, "not a decimal number");
            return sl_buf_add(b, p, n, err);
        }
        return sl_fmt_json_str(b, p, n, err);
    case SL_T_BYTES:
    case SL_T_GEOMETRY:
        return sl_buf_addc(b, '"', err) < 0 || sl_fmt_base64(b, p, n, err) < 0
                   ? -1 : sl_buf_addc(b, '"', err);
    case SL_T_TIMESTAMP:
    case SL_T_TIMESTAMPTZ: {
        int64_t us;
        int inf;
        if (sl_fmtv_timestamp(p, n, &us, &inf) < 0)
            return sl_fmtv_error(err, e->t, i, v, "not a timestamp");
        if (inf)
            return sl_fmt_json_str(b, p, n, err);
        const char *sp = memchr(p, ' ', n);
        size_t k = sp ? (size_t)(sp - p) : n;
        if (sl_buf_addc(b, '"', err) < 0 || sl_buf_add(b, p, k, err) < 0)
            return -1;
        if (k < n && sl_buf_addc(b, 'T', err) < 0)
            return -1;
        size_t rest = k < n ? n - k - 1 : 0;
        const char *r = p + k + 1;
        if (e->t->columns[i].type == SL_T_TIMESTAMPTZ && rest >= 3 &&
            memcmp(r + rest - 3, "+00", 3) == 0) {
            if (sl_buf_add(b, r, rest - 3, err) < 0 || sl_buf_addc(b, 'Z', err) < 0)
                return -1;
        } else if (sl_buf_add(b, r, rest, err) < 0) {
            return -1;
        }
        return sl_buf_addc(b, '"', err);
    }
    case SL_T_JSON: {
        size_t at = b->len;
        if (n == 0)
            return sl_fmtv_error(err, e->t, i, v, "empty JSON text");
        if (sl_buf_add(b, p, n, err) < 0)
            return -1;
        for (size_t k = at; k < b->len; k++) /* raw CR/LF only occur between tokens */
            if (b->data[k] == '\n' || b->data[k] == '\r')
                b->data[k] = ' ';
        return 0;
    }
    default:
        return sl_fmt_json_str(b, p, n, err);
    }
}

static void free_keys(struct sl_fmt_enc *e)
{
    for (int i = 0; e->keys && i < e->t->ncolumns; i++)
        free(e->keys[i]);
    free(e->keys);
}

static int jsonl_open(const sl_table_t *t, const sl_fmt_opts_t *o, sl_fmt_sink_t sink,
                      sl_fmt_enc_t **out, sl_err_t *err)
{
    struct sl_fmt_enc *e = calloc(1, sizeof *e);
    if (!e || !(e->keys = calloc((size_t)t->ncolumns + 1, sizeof *e->keys))) {
        free(e);
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    }
    e->t = t;
    e->o = *o;
    for (int i = 0; i < t->ncolumns; i++) {
        sl_buf_t k;
        sl_buf_init(&k, 1 << 20);
        if (sl_fmt_json_str(&k, t->columns[i].name, strlen(t->columns[i].name), err) < 0 ||
            sl_buf_addc(&k, ':', err) < 0) {
            sl_buf_free(&k);
            goto fail;
        }
        e->keys[i] = sl_buf_steal(&k, NULL);
    }
    if (sl_fmt_out_open(sink, o->codec, o->level, &e->out, err) < 0)
        goto fail;
    *out = e;
    return 0;
fail:
    free_keys(e);
    free(e);
    return -1;
}

static int jsonl_write_row(sl_fmt_enc_t *e, const sl_value_t *vals, sl_err_t *err)
{
    sl_buf_t *b = sl_fmt_out_buf(e->out);
    size_t start = b->len;
    if (sl_buf_addc(b, '{', err) < 0)
        return -1;
    for (int i = 0; i < e->t->ncolumns; i++) {
        if ((i && sl_buf_addc(b, ',', err) < 0) || sl_buf_adds(b, e->keys[i], err) < 0)
            goto fail;
        if (vals[i].len < 0 ? sl_buf_adds(b, "null", err) < 0 : value(e, i, &vals[i], err) < 0)
            goto fail;
    }
    if (sl_buf_add(b, "}\n", 2, err) < 0)
        goto fail;
    return sl_fmt_out_flush_maybe(e->out, err);
fail:
    b->len = start; /* a refused row leaves nothing behind */
    b->data[start] = 0;
    return -1;
}

static int jsonl_finish(sl_fmt_enc_t *e, sl_err_t *err) { return sl_fmt_out_finish(e->out, err); }

static void jsonl_free(sl_fmt_enc_t *e)
{
    if (!e)
        return;
    sl_fmt_out_free(e->out);
    free_keys(e);
    free(e);
}

static uint64_t jsonl_size(const sl_fmt_enc_t *e) { return sl_fmt_out_size(e->out); }

const struct sl_fmt_ops sl_fmt_jsonl_ops = {
    .name = "jsonl",
    .ext = "jsonl",
    .open = jsonl_open,
    .write_row = jsonl_write_row,
    .finish = jsonl_finish,
    .free = jsonl_free,
    .size = jsonl_size,
};
