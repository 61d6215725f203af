/*
 * fmt.c: the registry of file formats (by name), the default options, codec names, and
 * the small text helpers (base64, hex, JSON strings) that the formats share.
 */
#include <string.h>

#include "target/fmt/fmt_int.h"

void sl_fmt_opts_default(sl_fmt_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->delimiter = ',';
    o->quote = '"';
    o->null_marker = "";
    o->header = true;
    o->decimal_as_number = false;
    o->codec = SL_CODEC_NONE;
    o->level = 0;
    o->row_group_bytes = INT64_C(64) << 20;
    o->page_bytes = INT64_C(1) << 20;
    o->dictionary = true;
}

const struct sl_fmt_ops *sl_fmt_lookup(const char *name)
{
    static const struct sl_fmt_ops *const all[] = {&sl_fmt_csv_ops, &sl_fmt_jsonl_ops,
                                                   &sl_fmt_parquet_ops};
    for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

int sl_codec_from_name(const char *name)
{
    static const char *const names[] = {[SL_CODEC_NONE] = "none", [SL_CODEC_GZIP] = "gzip",
                                        [SL_CODEC_ZSTD] = "zstd", [SL_CODEC_SNAPPY] = "snappy"};
    for (int i = 0; name && i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(names[i], name) == 0)
            return i;
    if (name && strcmp(name, "uncompressed") == 0)
        return SL_CODEC_NONE;
    return -1;
}

const char *sl_codec_ext(sl_codec_t c)
{
    return c == SL_CODEC_GZIP ? ".gz" : c == SL_CODEC_ZSTD ? ".zst" : "";
}

int sl_fmt_base64(sl_buf_t *b, const void *p, size_t n, sl_err_t *err)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = p;
    if (sl_buf_reserve(b, (n + 2) / 3 * 4, err) < 0)
        return -1;
    char *o = b->data + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = al[v >> 18];
        *o++ = al[(v >> 12) & 63];
        *o++ = al[(v >> 6) & 63];
        *o++ = al[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = al[v >> 18];
        *o++ = al[(v >> 12) & 63];
        *o++ = i + 1 < n ? al[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = 0;
    return 0;
}

int sl_fmt_hex(sl_buf_t *b, const void *p, size_t n, sl_err_t *err)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *s = p;
    if (sl_buf_reserve(b, 2 + 2 * n, err) < 0)
        return -1;
    char *o = b->data + b->len;
    *o++ = '\\';
    *o++ = 'x';
    for (size_t i = 0; i < n; i++) {
        *o++ = hx[s[i] >> 4];
        *o++ = hx[s[i] & 15];
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = 0;
    return 0;
}

int sl_fmt_json_str(sl_buf_t *b, const char *p, size_t n, sl_err_t *err)
{
    static const char hx[] = "0123456789abcdef";
    if (sl_buf_reserve(b, n + 2, err) < 0 || sl_buf_addc(b, '"', err) < 0)
        return -1;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (sl_buf_add(b, p + run, i - run, err) < 0)
            return -1;
        run = i + 1;
        char esc[7] = {'\\', 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hx[c >> 4];
            esc[5] = hx[c & 15];
        }
        if (sl_buf_adds(b, esc, err) < 0)
            return -1;
    }
    if (sl_buf_add(b, p + run, n - run, err) < 0)
        return -1;
    return sl_buf_addc(b, '"', err);
}
