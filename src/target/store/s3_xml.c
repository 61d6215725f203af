/*
 * s3_xml.c: see s3_xml.h. Every scan is bounded by an end pointer.
 */
#include "target/store/s3_xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds the next element <name>…</name> (or <name/>, or <name attr…>) in [p, end): sets
 * its content range and where the element ends. Returns false when there is none. */
static bool find_elem(const char *p, const char *end, const char *name, const char **cb,
                      const char **ce, const char **after)
{
    size_t n = strlen(name);
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            return false;
        p = lt + 1;
        if ((size_t)(end - p) < n + 1 || memcmp(p, name, n) != 0)
            continue;
        char c = p[n];
        if (c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\r' && c != '\n')
            continue;
        const char *gt = memchr(p + n, '>', (size_t)(end - p - (ptrdiff_t)n));
        if (!gt)
            return false;
        if (gt[-1] == '/') { /* <name/>: empty */
            *cb = *ce = gt;
            *after = gt + 1;
            return true;
        }
        const char *q = gt + 1;
        while (q < end) {
            const char *c2 = memchr(q, '<', (size_t)(end - q));
            if (!c2)
                return false;
            if ((size_t)(end - c2) >= n + 3 && c2[1] == '/' && memcmp(c2 + 2, name, n) == 0 &&
                c2[2 + n] == '>') {
                *cb = gt + 1;
                *ce = c2;
                *after = c2 + n + 3;
                return true;
            }
            q = c2 + 1;
        }
        return false;
    }
    return false;
}

static int put_utf8(sl_buf_t *out, unsigned long cp, sl_err_t *err)
{
    char u[4];
    int n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sl_buf_add(out, u, (size_t)n, err);
}

/* Appends [p, end) with entities decoded. */
static int decode(const char *p, const char *end, sl_buf_t *out, sl_err_t *err)
{
    static const struct {
        const char *name;
        char c;
    } ents[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (sl_buf_add(out, p, (size_t)(stop - p), err))
            return -1;
        if (!amp)
            return 0;
        const char *semi = memchr(amp, ';', (size_t)(end - amp));
        if (!semi || semi - amp > 12)
            return sl_err_set(err, SL_E_PROTOCOL, "malformed XML entity in an S3 response");
        const char *nm = amp + 1;
        size_t nl = (size_t)(semi - nm);
        bool done = false;
        for (size_t i = 0; i < sizeof ents / sizeof ents[0] && !done; i++)
            if (strlen(ents[i].name) == nl && !memcmp(nm, ents[i].name, nl)) {
                if (sl_buf_addc(out, ents[i].c, err))
                    return -1;
                done = true;
            }
        if (!done) {
            char num[16];
            if (nl < 2 || nm[0] != '#' || nl >= sizeof num)
                return sl_err_set(err, SL_E_PROTOCOL, "unknown XML entity in an S3 response");
            memcpy(num, nm + 1, nl - 1);
            num[nl - 1] = '\0';
            char *e;
            bool hx = num[0] == 'x' || num[0] == 'X';
            unsigned long cp = strtoul(hx ? num + 1 : num, &e, hx ? 16 : 10);
            if (*e || e == (hx ? num + 1 : num) || cp == 0 || cp > 0x10FFFF)
                return sl_err_set(err, SL_E_PROTOCOL, "bad XML character reference in an S3 response");
            if (put_utf8(out, cp, err))
                return -1;
        }
        p = semi + 1;
    }
    return 0;
}

bool sl_s3_xml_root_is(const char *xml, size_t len, const char *name)
{
    const char *p = xml, *end = xml + len;
    size_t n = strlen(name);
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p >= end || *p != '<')
            return false;
        if (end - p >= 2 && (p[1] == '?' || p[1] == '!')) { /* declaration or comment */
            const char *gt = memchr(p, '>', (size_t)(end - p));
            if (!gt)
                return false;
            p = gt + 1;
            continue;
        }
        p++;
        if ((size_t)(end - p) < n + 1 || memcmp(p, name, n) != 0)
            return false;
        char c = p[n];
        return c == '>' || c == ' ' || c == '/' || c == '\t' || c == '\r' || c == '\n';
    }
    return false;
}

int sl_s3_xml_text(const char *xml, size_t len, const char *name, sl_buf_t *out, sl_err_t *err)
{
    const char *cb, *ce, *after;
    sl_buf_reset(out);
    if (!find_elem(xml, xml + len, name, &cb, &ce, &after))
        return 0;
    if (sl_buf_add(out, "", 0, err) || decode(cb, ce, out, err))
        return -1;
    return 1;
}

static void text_into(const char *xml, size_t len, const char *name, char *dst, size_t sz)
{
    sl_buf_t b;
    sl_err_t err;
    sl_buf_init(&b, sz > 0 ? sz - 1 : 0);
    dst[0] = '\0';
    /* Too long: keep the raw prefix rather than nothing. */
    const char *cb, *ce, *after;
    if (sl_s3_xml_text(xml, len, name, &b, &err) == 1)
        snprintf(dst, sz, "%s", b.data);
    else if (find_elem(xml, xml + len, name, &cb, &ce, &after))
        snprintf(dst, sz, "%.*s", (int)(ce - cb), cb);
    sl_buf_free(&b);
}

void sl_s3_xml_error(const char *xml, size_t len, char *code, size_t codesz, char *msg,
                     size_t msgsz)
{
    text_into(xml, len, "Code", code, codesz);
    text_into(xml, len, "Message", msg, msgsz);
}

int sl_s3_xml_list(const char *xml, size_t len, sl_s3_xml_key_fn fn, void *ctx, bool *truncated,
                   sl_buf_t *next, sl_err_t *err)
{
    const char *p = xml, *end = xml + len;
    const char *cb, *ce, *after;
    sl_buf_t key;
    sl_buf_init(&key, 64 * 1024);
    int rc = -1;
    *truncated = false;
    sl_buf_reset(next);
    while (find_elem(p, end, "Contents", &cb, &ce, &after)) {
        const char *kb, *ke, *ka, *sb, *se, *sa;
        if (!find_elem(cb, ce, "Key", &kb, &ke, &ka) || !find_elem(cb, ce, "Size", &sb, &se, &sa)) {
            sl_err_set(err, SL_E_PROTOCOL, "malformed S3 list response: an entry lacks Key or Size");
            goto done;
        }
        sl_buf_reset(&key);
        if (sl_buf_add(&key, "", 0, err) || decode(kb, ke, &key, err))
            goto done;
        char num[24];
        size_t sn = (size_t)(se - sb);
        char *e;
        if (sn == 0 || sn >= sizeof num)
            goto bad_size;
        memcpy(num, sb, sn);
        num[sn] = '\0';
        unsigned long long size = strtoull(num, &e, 10);
        if (*e || num[0] == '-')
            goto bad_size;
        if (fn(ctx, key.data, (uint64_t)size, err))
            goto done;
        p = after;
    }
    if (find_elem(xml, end, "IsTruncated", &cb, &ce, &after))
        *truncated = (size_t)(ce - cb) == 4 && !memcmp(cb, "true", 4);
    if (*truncated) {
        if (sl_s3_xml_text(xml, len, "NextContinuationToken", next, err) < 0)
            goto done;
        if (!next->len) {
            sl_err_set(err, SL_E_PROTOCOL,
                       "malformed S3 list response: truncated without a continuation token");
            goto done;
        }
    }
    rc = 0;
    goto done;
bad_size:
    sl_err_set(err, SL_E_PROTOCOL, "malformed S3 list response: bad Size of \"%s\"", key.data);
done:
    sl_buf_free(&key);
    return rc;
}

/* Appends s with & < > " ' escaped. */
static int xml_escape(sl_buf_t *out, const char *s, sl_err_t *err)
{
    for (; *s; s++) {
        const char *r = NULL;
        switch (*s) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&quot;"; break;
        case '\'': r = "&apos;"; break;
        default: break;
        }
        if (r ? sl_buf_adds(out, r, err) : sl_buf_addc(out, *s, err))
            return -1;
    }
    return 0;
}

int sl_s3_xml_complete_body(sl_buf_t *out, char *const *etags, int n, sl_err_t *err)
{
    if (sl_buf_adds(out, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
                    err))
        return -1;
    for (int i = 0; i < n; i++)
        if (sl_buf_printf(out, err, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1) ||
            xml_escape(out, etags[i], err) || sl_buf_adds(out, "</ETag></Part>", err))
            return -1;
    return sl_buf_adds(out, "</CompleteMultipartUpload>", err);
}
