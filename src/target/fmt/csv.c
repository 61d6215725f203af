/*
 * csv.c: the CSV encoder (RFC 4180): an optional header row with the column names, then
 * one record per row, CRLF line ends, fields quoted when they hold the delimiter, the
 * quote, CR or LF, when they are empty strings, or when they equal the NULL marker; a
 * quote inside a quoted field is doubled.
 *
 * Values are their canonical text (model/types.h) except binary ones (bytes, geometry),
 * written "\x" + lowercase hex as PostgreSQL prints bytea. NULL is the NULL marker,
 * unquoted; with the default marker "" a NULL is an empty unquoted field and an empty
 * string is "" (quoted), so the two stay apart. The whole file may be gzip or zstd
 * compressed (out.c).
 *
 * Ownership and threads: see fmt.h.
 */
#include <stdlib.h>
#include <string.h>

#include "target/fmt/fmt_int.h"

struct sl_fmt_enc {
    const sl_table_t *t;
    sl_fmt_opts_t o;
    size_t null_len;
    sl_fmt_out_t *out;
    sl_buf_t tmp; /* hex of binary values */
};

static bool needs_quotes(const struct sl_fmt_enc *e, const char *p, size_t n)
{
    if (n == 0 || (e->null_len && n == e->null_len && memcmp(p, e->o.null_marker, n) == 0))
        return true;
    for (size_t i = 0; i < n; i++)
        if (p[i] == e->o.delimiter || p[i] == e->o.quote || p[i] == '\r' || p[i] == '\n')
            return true;
    return false;
}

static int field(struct sl_fmt_enc *e, const char *p, size_t n, sl_err_t *err)
{
    sl_buf_t *b = sl_fmt_out_buf(e->out);
    if (!needs_quotes(e, p, n))
        return sl_buf_add(b, p, n, err);
    if (sl_buf_addc(b, e->o.quote, err) < 0)
        return -1;
    for (;;) {
        const char *q = memchr(p, e->o.quote, n);
        size_t k = q ? (size_t)(q - p) + 1 : n;
        if (sl_buf_add(b, p, k, err) < 0 || (q && sl_buf_addc(b, e->o.quote, err) < 0))
            return -1;
        p += k;
        n -= k;
        if (!q)
            break;
    }
    return sl_buf_addc(b, e->o.quote, err);
}

static int csv_open(const sl_table_t *t, const sl_fmt_opts_t *o, sl_fmt_sink_t sink,
                    sl_fmt_enc_t **out, sl_err_t *err)
{
    if (o->delimiter == o->quote || o->delimiter == '\r' || o->delimiter == '\n' ||
        o->delimiter == 0 || o->quote == 0 || o->quote == '\r' || o->quote == '\n') {
        sl_err_set(err, SL_E_CONFIG, "invalid CSV delimiter or quote character");
        sl_err_hint(err, "The delimiter and the quote must differ and be neither NUL, CR nor LF.");
        return -1;
    }
    const char *nm = o->null_marker ? o->null_marker : "";
    if (strchr(nm, '\r') || strchr(nm, '\n') || strchr(nm, o->quote) || strchr(nm, o->delimiter)) {
        sl_err_set(err, SL_E_CONFIG, "invalid CSV NULL marker \"%s\"", nm);
        sl_err_hint(err, "The NULL marker cannot hold the delimiter, the quote, CR or LF.");
        return -1;
    }
    struct sl_fmt_enc *e = calloc(1, sizeof *e);
    if (!e)
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    e->t = t;
    e->o = *o;
    e->o.null_marker = nm;
    e->null_len = strlen(nm);
    sl_buf_init(&e->tmp, (size_t)2 << 30);
    if (sl_fmt_out_open(sink, o->codec, o->level, &e->out, err) < 0) {
        free(e);
        return -1;
    }
    if (o->header) {
        sl_buf_t *b = sl_fmt_out_buf(e->out);
        for (int i = 0; i < t->ncolumns; i++) {
            const char *nme = t->columns[i].name;
            if ((i && sl_buf_addc(b, o->delimiter, err) < 0) || field(e, nme, strlen(nme), err) < 0)
                goto fail;
        }
        if (sl_buf_add(b, "\r\n", 2, err) < 0)
            goto fail;
    }
    *out = e;
    return 0;
fail:
    sl_fmt_out_free(e->out);
    sl_buf_free(&e->tmp);
    free(e);
    return -1;
}

static int csv_write_row(sl_fmt_enc_t *e, const sl_value_t *vals, sl_err_t *err)
{
    sl_buf_t *b = sl_fmt_out_buf(e->out);
    for (int i = 0; i < e->t->ncolumns; i++) {
        const sl_value_t *v = &vals[i];
        if (i && sl_buf_addc(b, e->o.delimiter, err) < 0)
            return -1;
        if (v->len < 0) {
            if (sl_buf_add(b, e->o.null_marker, e->null_len, err) < 0)
                return -1;
        } else if (sl_type_is_binary(e->t->columns[i].type)) {
            sl_buf_reset(&e->tmp);
            if (sl_fmt_hex(&e->tmp, v->p, (size_t)v->len, err) < 0 ||
                field(e, e->tmp.data, e->tmp.len, err) < 0)
                return -1;
        } else if (field(e, v->p, (size_t)v->len, err) < 0) {
            return -1;
        }
    }
    if (sl_buf_add(b, "\r\n", 2, err) < 0)
        return -1;
    if (e->tmp.cap > (1u << 20)) {
        sl_buf_free(&e->tmp);
        sl_buf_init(&e->tmp, (size_t)2 << 30);
    }
    return sl_fmt_out_flush_maybe(e->out, err);
}

static int csv_finish(sl_fmt_enc_t *e, sl_err_t *err) { return sl_fmt_out_finish(e->out, err); }

static void csv_free(sl_fmt_enc_t *e)
{
    if (!e)
        return;
    sl_fmt_out_free(e->out);
    sl_buf_free(&e->tmp);
    free(e);
}

static uint64_t csv_size(const sl_fmt_enc_t *e) { return sl_fmt_out_size(e->out); }

const struct sl_fmt_ops sl_fmt_csv_ops = {
    .name = "csv",
    .ext = "csv",
    .open = csv_open,
    .write_row = csv_write_row,
    .finish = csv_finish,
    .free = csv_free,
    .size = csv_size,
};
