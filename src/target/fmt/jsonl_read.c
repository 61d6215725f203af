/*
 * jsonl_read.c: the JSONL decoder, the reverse of jsonl.c: one JSON object per line
 * (LF or CRLF; blank lines skipped; a UTF-8 byte order mark at the start skipped). Each
 * line gives its keys in order with their values: strings unescaped (\uXXXX and
 * surrogate pairs to UTF-8), numbers, booleans and nested objects or arrays as the JSON
 * text the line holds (validated, never reformatted, so decimals keep every digit and
 * nested values stay exactly as written).
 *
 * Memory: one input chunk and one line (at most 1 GiB, else SL_E_LIMIT naming the line).
 * The object parser is pure (fuzzed by fuzz_jsonl_read).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/fmt/fmt_read.h"

enum { CHUNK = 256 * 1024, MAX_DEPTH = 512 };
#define LINE_MAX_BYTES ((size_t)1 << 30)

/* --- the object parser ------------------------------------------------------------------ */

typedef struct jp {
    const char *p, *end, *start;
    sl_buf_t *scratch;
    sl_err_t *err;
} jp_t;

static int jerr(jp_t *j, const char *what)
{
    sl_err_set(j->err, SL_E_DATA, "invalid JSON: %s", what);
    sl_err_detail(j->err, "At byte %zu of the line.", (size_t)(j->p - j->start) + 1);
    return -1;
}

static void ws(jp_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(jp_t *j, uint32_t *v)
{
    if (j->end - j->p < 4)
        return jerr(j, "a \\u escape is cut off");
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = j->p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return jerr(j, "a \\u escape with a non-hex digit");
        *v = *v << 4 | (uint32_t)d;
    }
    j->p += 4;
    return 0;
}

static int utf8(jp_t *j, uint32_t cp)
{
    char b[4];
    int n;
    if (cp < 0x80) {
        b[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    return sl_buf_add(j->scratch, b, (size_t)n, j->err);
}

/* A string at j->p (the opening quote): unescaped into scratch when out is set (then
 * *off and *len say where), else only checked. */
static int string(jp_t *j, bool out, size_t *off, int64_t *len)
{
    j->p++;
    size_t at = out ? j->scratch->len : 0;
    const char *run = j->p;
    for (;;) {
        if (j->p >= j->end)
            return jerr(j, "a string is not terminated");
        unsigned char c = (unsigned char)*j->p;
        if (c == '"' || c == '\\') {
            if (out && sl_buf_add(j->scratch, run, (size_t)(j->p - run), j->err) < 0)
                return -1;
            if (c == '"')
                break;
            j->p++;
            if (j->p >= j->end)
                return jerr(j, "a string is not terminated");
            char e = *j->p++;
            uint32_t cp;
            const char *m = strchr("\"\\/bfnrt", e);
            if (e && m) {
                static const char to[] = "\"\\/\b\f\n\r\t";
                if (out && sl_buf_addc(j->scratch, to[m - "\"\\/bfnrt"], j->err) < 0)
                    return -1;
            } else if (e == 'u') {
                if (hex4(j, &cp) < 0)
                    return -1;
                if (cp >= 0xD800 && cp < 0xDC00) { /* a high surrogate: its low half follows */
                    uint32_t lo;
                    if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
                        return jerr(j, "a lone UTF-16 surrogate");
                    j->p += 2;
                    if (hex4(j, &lo) < 0)
                        return -1;
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return jerr(j, "a lone UTF-16 surrogate");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return jerr(j, "a lone UTF-16 surrogate");
                }
                if (out && utf8(j, cp) < 0)
                    return -1;
            } else {
                return jerr(j, "an unknown escape in a string");
            }
            run = j->p;
            continue;
        }
        if (c < 0x20)
            return jerr(j, "a control character in a string");
        j->p++;
    }
    j->p++; /* the closing quote */
    if (out) {
        *off = at;
        *len = (int64_t)(j->scratch->len - at);
    }
    return 0;
}

static int number(jp_t *j)
{
    const char *p = j->p, *e = j->end;
    if (p < e && *p == '-')
        p++;
    if (p >= e || *p < '0' || *p > '9')
        return jerr(j, "a malformed number");
    if (*p == '0')
        p++;
    else
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    if (p < e && *p == '.') {
        const char *d = ++p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return jerr(j, "a malformed number");
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        const char *d = p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return jerr(j, "a malformed number");
    }
    j->p = p;
    return 0;
}

static int literal(jp_t *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return jerr(j, "an unknown literal");
    j->p += n;
    return 0;
}

/* An object key of a nested value and its ':' (checked, not copied). */
static int key(jp_t *j)
{
    if (j->p >= j->end || *j->p != '"')
        return jerr(j, "an object key is not a string");
    if (string(j, false, NULL, NULL) < 0)
        return -1;
    ws(j);
    if (j->p >= j->end || *j->p++ != ':')
        return jerr(j, "a ':' is missing after a key");
    return 0;
}

/* A nested object or array at j->p, checked (not copied). */
static int nested(jp_t *j)
{
    char stack[MAX_DEPTH];
    int depth = 0;
    bool want_value = true; /* after '[', ',' or ':' */
    for (;;) {
        ws(j);
        if (j->p >= j->end)
            return jerr(j, "a nested value is not closed");
        char c = *j->p;
        if (want_value) {
            if (c == '{' || c == '[') {
                if (depth == MAX_DEPTH)
                    return jerr(j, "values nested more than 512 deep");
                stack[depth++] = c;
                j->p++;
                ws(j);
                if (j->p < j->end && *j->p == (c == '{' ? '}' : ']')) {
                    j->p++;
                    depth--;
                    if (depth == 0)
                        return 0;
                    want_value = false;
                    continue;
                }
                if (c == '{' && key(j) < 0)
                    return -1;
                want_value = true;
                continue;
            }
            if (c == '"') {
                if (string(j, false, NULL, NULL) < 0)
                    return -1;
            } else if (c == 't' || c == 'f' || c == 'n') {
                if (literal(j, c == 't' ? "true" : c == 'f' ? "false" : "null") < 0)
                    return -1;
            } else if (number(j) < 0) {
                return -1;
            }
            want_value = false;
            continue;
        }
        char open = stack[depth - 1];
        if (c == ',') {
            j->p++;
            if (open == '{') {
                ws(j);
                if (key(j) < 0)
                    return -1;
            }
            want_value = true;
        } else if (c == (open == '{' ? '}' : ']')) {
            j->p++;
            if (--depth == 0)
                return 0;
        } else {
            return jerr(j, "a ',' or a closing bracket is missing");
        }
    }
}

bool sl_json_is_container(const char *p, size_t n)
{
    jp_t j = {.p = p, .end = p + n, .start = p, .err = NULL};
    ws(&j);
    if (j.p >= j.end || (*j.p != '{' && *j.p != '['))
        return false;
    if (nested(&j) < 0)
        return false;
    ws(&j);
    return j.p == j.end;
}

static int grow_kv(sl_jsonl_kv_t **kv, int n, int *cap, sl_err_t *err)
{
    if (n < *cap)
        return 0;
    int nc = *cap ? *cap * 2 : 16;
    sl_jsonl_kv_t *p = realloc(*kv, (size_t)nc * sizeof *p);
    if (!p)
        return sl_err_set(err, SL_E_LIMIT, "out of memory reading JSON");
    *kv = p;
    *cap = nc;
    return 0;
}

int sl_json_object_parse(const char *p, size_t n, sl_jsonl_kv_t **kv, int *nkv, int *cap,
                         sl_buf_t *scratch, sl_err_t *err)
{
    jp_t j = {.p = p, .end = p + n, .start = p, .scratch = scratch, .err = err};
    if (err)
        sl_err_clear(err);
    sl_buf_reset(scratch);
    *nkv = 0;
    ws(&j);
    if (j.p >= j.end || *j.p != '{')
        return jerr(&j, "the line is not a JSON object");
    j.p++;
    ws(&j);
    bool first = true;
    while (j.p < j.end && *j.p != '}') {
        if (!first) {
            if (*j.p != ',')
                return jerr(&j, "a ',' or '}' is missing");
            j.p++;
            ws(&j);
        }
        first = false;
        if (grow_kv(kv, *nkv, cap, err) < 0)
            return -1;
        sl_jsonl_kv_t *e = &(*kv)[*nkv];
        size_t koff = 0, voff = 0;
        if (j.p >= j.end || *j.p != '"')
            return jerr(&j, "an object key is not a string");
        if (string(&j, true, &koff, &e->key.len) < 0)
            return -1;
        ws(&j);
        if (j.p >= j.end || *j.p++ != ':')
            return jerr(&j, "a ':' is missing after a key");
        ws(&j);
        if (j.p >= j.end)
            return jerr(&j, "a value is missing");
        const char *vs = j.p;
        char c = *j.p;
        if (c == '"') {
            e->kind = SL_JK_STRING;
            if (string(&j, true, &voff, &e->val.len) < 0)
                return -1;
        } else {
            if (c == '{' || c == '[') {
                e->kind = c == '{' ? SL_JK_OBJECT : SL_JK_ARRAY;
                if (nested(&j) < 0)
                    return -1;
            } else if (c == 't' || c == 'f') {
                e->kind = SL_JK_BOOL;
                if (literal(&j, c == 't' ? "true" : "false") < 0)
                    return -1;
            } else if (c == 'n') {
                e->kind = SL_JK_NULL;
                if (literal(&j, "null") < 0)
                    return -1;
            } else {
                e->kind = SL_JK_NUMBER;
                if (number(&j) < 0)
                    return -1;
            }
            e->val.p = vs;
            e->val.len = e->kind == SL_JK_NULL ? -1 : (int64_t)(j.p - vs);
        }
        /* offsets into scratch until it stops growing */
        e->key.p = (const char *)(uintptr_t)koff;
        if (e->kind == SL_JK_STRING)
            e->val.p = (const char *)(uintptr_t)voff;
        (*nkv)++;
        ws(&j);
    }
    if (j.p >= j.end)
        return jerr(&j, "the object is not closed");
    j.p++;
    ws(&j);
    if (j.p != j.end)
        return jerr(&j, "text follows the object");
    for (int i = 0; i < *nkv; i++) {
        sl_jsonl_kv_t *e = &(*kv)[i];
        const char *base = scratch->data ? scratch->data : "";
        e->key.p = base + (uintptr_t)e->key.p;
        if (e->kind == SL_JK_STRING)
            e->val.p = base + (uintptr_t)e->val.p;
    }
    return 0;
}

/* --- the line reader ---------------------------------------------------------------- */

struct sl_jsonlr {
    sl_fmt_stream_t in;
    char *chunk;
    size_t pos, len;
    bool eof, started;
    sl_buf_t line, scratch;
    sl_jsonl_kv_t *kv;
    int nkv, cap;
    int64_t lineno, rec_line;
};

int sl_jsonlr_open(sl_fmt_stream_t in, sl_jsonlr_t **out, sl_err_t *err)
{
    sl_jsonlr_t *r = calloc(1, sizeof *r);
    if (!r || !(r->chunk = malloc(CHUNK))) {
        free(r);
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    }
    r->in = in;
    sl_buf_init(&r->line, LINE_MAX_BYTES);
    sl_buf_init(&r->scratch, LINE_MAX_BYTES);
    *out = r;
    return 0;
}

void sl_jsonlr_free(sl_jsonlr_t *r)
{
    if (!r)
        return;
    free(r->chunk);
    sl_buf_free(&r->line);
    sl_buf_free(&r->scratch);
    free(r->kv);
    free(r);
}

int64_t sl_jsonlr_line(const sl_jsonlr_t *r) { return r->rec_line; }

/* The next line into r->line (without its LF): 1, or 0 at the end. */
static int read_line(sl_jsonlr_t *r, sl_err_t *err)
{
    sl_buf_reset(&r->line);
    bool any = false;
    for (;;) {
        if (r->pos == r->len) {
            if (r->eof)
                return any ? 1 : 0;
            size_t got = 0;
            if (r->in.read(r->in.ctx, r->chunk, CHUNK, &got, err) < 0)
                return -1;
            r->pos = 0;
            r->len = got;
            if (got == 0) {
                r->eof = true;
                continue;
            }
        }
        any = true;
        const char *s = r->chunk + r->pos, *nl = memchr(s, '\n', r->len - r->pos);
        size_t n = nl ? (size_t)(nl - s) : r->len - r->pos;
        if (sl_buf_add(&r->line, s, n, err) < 0) {
            sl_err_set(err, SL_E_LIMIT, "JSONL line %lld is longer than 1 GB",
                       (long long)r->lineno + 1);
            return -1;
        }
        r->pos += n + (nl ? 1 : 0);
        if (nl)
            return 1;
    }
}

int sl_jsonlr_next(sl_jsonlr_t *r, const sl_jsonl_kv_t **kv, int *n, sl_err_t *err)
{
    for (;;) {
        int rc = read_line(r, err);
        if (rc <= 0)
            return rc;
        r->lineno++;
        char *p = r->line.data;
        size_t len = r->line.len;
        if (!r->started) {
            r->started = true;
            if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
                p += 3, len -= 3;
        }
        if (len && p[len - 1] == '\r')
            len--;
        size_t k = 0;
        while (k < len && (p[k] == ' ' || p[k] == '\t'))
            k++;
        if (k == len)
            continue; /* a blank line */
        r->rec_line = r->lineno;
        if (sl_json_object_parse(p, len, &r->kv, &r->nkv, &r->cap, &r->scratch, err) < 0) {
            if (err && err->code == SL_E_DATA)
                sl_err_prefix(err, "line %lld: ", (long long)r->lineno);
            return -1;
        }
        *kv = r->kv;
        *n = r->nkv;
        return 1;
    }
}
