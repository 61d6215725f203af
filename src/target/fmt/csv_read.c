/*
 * csv_read.c: the CSV decoder (RFC 4180), the reverse of csv.c. Records end at LF or
 * CRLF outside quotes; a quoted field may hold delimiters, doubled quotes and line
 * breaks; a UTF-8 byte order mark at the very start is skipped; empty lines are skipped.
 * An unquoted field equal to the NULL marker is NULL (the default marker "" makes an
 * empty unquoted field NULL, while "" quoted is the empty string, as csv.c writes them;
 * "\N" is PostgreSQL's and MySQL's text form).
 *
 * Input comes through a stream in chunks; a record may span any number of them. Memory:
 * the input chunk and one record (at most 1 GiB, else SL_E_LIMIT naming the line).
 * Pure apart from the stream callback; fuzzed by fuzz_csv_read.
 */
#include <stdlib.h>
#include <string.h>

#include "target/fmt/fmt_read.h"

enum { CHUNK = 256 * 1024 };
#define REC_MAX ((size_t)1 << 30)

struct sl_csvr {
    sl_fmt_stream_t in;
    char delim, quote;
    char *null_marker;     /* NULL: none */
    char *chunk;
    size_t pos, len;
    bool eof, started;
    int back[3], nback;    /* bytes given back (LIFO): a peek past a chunk's end */
    sl_buf_t rec;          /* the record's field bytes, unescaped */
    size_t *start;         /* field i: rec[start[i] .. start[i + 1]) */
    bool *null;
    sl_value_t *vals;
    int nf, cap;
    int64_t line, rec_line, records;
};

void sl_csvr_opts_default(sl_csvr_opts_t *o)
{
    o->delimiter = ',';
    o->quote = '"';
    o->null_marker = "";
}

int sl_csvr_open(sl_fmt_stream_t in, const sl_csvr_opts_t *o, sl_csvr_t **out, sl_err_t *err)
{
    if (o->delimiter == '\n' || o->delimiter == '\r' || o->delimiter == o->quote ||
        o->quote == '\n' || o->quote == '\r')
        return sl_err_set(err, SL_E_CONFIG, "the CSV delimiter and quote must differ and not be line breaks");
    sl_csvr_t *r = calloc(1, sizeof *r);
    if (!r || !(r->chunk = malloc(CHUNK))) {
        free(r);
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    }
    r->in = in;
    r->delim = o->delimiter;
    r->quote = o->quote;
    r->null_marker = o->null_marker ? sl_strdup(o->null_marker) : NULL;
    sl_buf_init(&r->rec, REC_MAX);
    r->line = 1;
    *out = r;
    return 0;
}

void sl_csvr_free(sl_csvr_t *r)
{
    if (!r)
        return;
    free(r->chunk);
    free(r->null_marker);
    sl_buf_free(&r->rec);
    free(r->start);
    free(r->null);
    free(r->vals);
    free(r);
}

int64_t sl_csvr_line(const sl_csvr_t *r) { return r->rec_line; }
int64_t sl_csvr_records(const sl_csvr_t *r) { return r->records; }

/* The next input byte (-1 at the end, -2 on a read error). */
static int get(sl_csvr_t *r, sl_err_t *err)
{
    if (r->nback)
        return r->back[--r->nback];
    if (r->pos == r->len) {
        if (r->eof)
            return -1;
        size_t got = 0;
        if (r->in.read(r->in.ctx, r->chunk, CHUNK, &got, err) < 0)
            return -2;
        r->pos = 0;
        r->len = got;
        if (got == 0) {
            r->eof = true;
            return -1;
        }
    }
    return (unsigned char)r->chunk[r->pos++];
}

static void unget(sl_csvr_t *r, int c) { r->back[r->nback++] = c; }

static int peek(sl_csvr_t *r, sl_err_t *err)
{
    int c = get(r, err);
    if (c >= 0)
        unget(r, c);
    return c;
}

static int end_field(sl_csvr_t *r, size_t at, bool quoted, sl_err_t *err)
{
    if (r->nf + 1 >= r->cap) {
        int nc = r->cap ? r->cap * 2 : 16;
        size_t *s = realloc(r->start, (size_t)nc * sizeof *s);
        if (s)
            r->start = s;
        bool *nl = s ? realloc(r->null, (size_t)nc * sizeof *nl) : NULL;
        if (nl)
            r->null = nl;
        sl_value_t *v = nl ? realloc(r->vals, (size_t)nc * sizeof *v) : NULL;
        if (!v)
            return sl_err_set(err, SL_E_LIMIT, "out of memory reading a CSV record");
        r->vals = v;
        r->cap = nc;
    }
    size_t n = r->rec.len - at;
    r->start[r->nf] = at;
    r->null[r->nf] = !quoted && r->null_marker && strlen(r->null_marker) == n &&
                     (n == 0 || memcmp(r->rec.data + at, r->null_marker, n) == 0);
    r->nf++;
    return 0;
}

static int add(sl_csvr_t *r, int c, sl_err_t *err)
{
    if (sl_buf_addc(&r->rec, (char)c, err) < 0) {
        sl_err_set(err, SL_E_LIMIT, "CSV record on line %lld is larger than 1 GB",
                   (long long)r->rec_line);
        return -1;
    }
    return 0;
}

/* Drops a UTF-8 byte order mark at the start of the input. */
static int bom(sl_csvr_t *r, sl_err_t *err)
{
    static const int mark[3] = {0xEF, 0xBB, 0xBF};
    int got[3], k = 0;
    r->started = true;
    for (; k < 3; k++) {
        got[k] = get(r, err);
        if (got[k] == -2)
            return -1;
        if (got[k] != mark[k])
            break;
    }
    if (k == 3)
        return 0;
    for (int i = got[k] < 0 ? k - 1 : k; i >= 0; i--) /* give back what was not a mark */
        unget(r, got[i]);
    return 0;
}

int sl_csvr_next(sl_csvr_t *r, const sl_value_t **vals, int *n, sl_err_t *err)
{
    int c;
    if (!r->started && bom(r, err) < 0)
        return -1;
    /* skip empty lines */
    for (;;) {
        c = get(r, err);
        if (c == -2)
            return -1;
        if (c == -1)
            return 0;
        if (c == '\n') {
            r->line++;
        } else if (c == '\r' && peek(r, err) == '\n') {
            continue;
        } else {
            unget(r, c);
            break;
        }
    }
    sl_buf_reset(&r->rec);
    r->nf = 0;
    r->rec_line = r->line;
    for (;;) { /* one field per turn */
        size_t at = r->rec.len;
        bool quoted = false;
        c = get(r, err);
        if (c == r->quote) {
            quoted = true;
            for (;;) {
                c = get(r, err);
                if (c < 0) {
                    if (c == -2)
                        return -1;
                    sl_err_set(err, SL_E_DATA, "unterminated quoted CSV field on line %lld",
                               (long long)r->rec_line);
                    sl_err_hint(err, "Check the file's quoting; a quote inside a quoted field "
                                     "is written twice.");
                    return -1;
                }
                if (c == r->quote) {
                    if (peek(r, err) != r->quote)
                        break;
                    get(r, err);
                } else if (c == '\n') {
                    r->line++;
                }
                if (add(r, c, err) < 0)
                    return -1;
            }
            c = get(r, err);
            if (c >= 0 && c != r->delim && c != '\n' && !(c == '\r' && peek(r, err) == '\n')) {
                sl_err_set(err, SL_E_DATA, "unexpected character after a quoted CSV field on line %lld",
                           (long long)r->line);
                sl_err_detail(err, "A closing quote must be followed by the delimiter or the end of the line.");
                return -1;
            }
        } else {
            while (c >= 0 && c != r->delim && c != '\n') {
                if (c == '\r' && peek(r, err) == '\n')
                    break;
                if (add(r, c, err) < 0)
                    return -1;
                c = get(r, err);
            }
        }
        if (c == -2 || end_field(r, at, quoted, err) < 0)
            return -1;
        if (c == r->delim)
            continue;
        if (c == '\r')
            get(r, err); /* the LF of CRLF */
        if (c == '\r' || c == '\n')
            r->line++;
        break;
    }
    for (int i = 0; i < r->nf; i++) {
        size_t end = i + 1 < r->nf ? r->start[i + 1] : r->rec.len;
        r->vals[i].p = r->rec.data ? r->rec.data + r->start[i] : "";
        r->vals[i].len = r->null[i] ? -1 : (int64_t)(end - r->start[i]);
    }
    r->records++;
    *vals = r->vals;
    *n = r->nf;
    return 1;
}
