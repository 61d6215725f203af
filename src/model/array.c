/*
 * array.c: PostgreSQL array literals as JSON arrays (see array.h).
 *
 * The literal's grammar (PostgreSQL's array_out): '{' items '}', items separated by ','
 * (';' for box, which is refused as malformed), an item a nested array, NULL, a quoted
 * string ("..." with backslash escapes) or an unquoted string (backslash escapes,
 * surrounding blanks dropped). Strings are escaped through jansson, numbers and JSON
 * elements are copied as they are, so nothing is reformatted.
 */
#include "core/mem.h"
#include "model/array.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define MAX_DEPTH 64

typedef struct ap {
    const char *p;
    size_t n, i;
    sl_type_t elem;
    sl_buf_t *out;
    sl_buf_t item; /* the current element, unescaped */
    char *why;
    size_t whylen;
    sl_err_t *err;
} ap_t;

/* Returns 1 with why: the value cannot be a JSON array. */
static int refuse(ap_t *a, const char *why)
{
    snprintf(a->why, a->whylen, "%s", why);
    return 1;
}

static void skip_blank(ap_t *a)
{
    while (a->i < a->n && isspace((unsigned char)a->p[a->i]))
        a->i++;
}

/* A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

static int emit_string(ap_t *a, const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (!j)
        return refuse(a, "an element is not valid UTF-8");
    char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j);
    if (!t)
        sl_oom();
    int rc = sl_buf_adds(a->out, t, a->err);
    free(t);
    return rc;
}

/* One element of the array, unescaped in a->item (quoted: it was in double quotes). */
static int emit_item(ap_t *a, bool quoted)
{
    const char *s = a->item.data ? a->item.data : "";
    size_t n = a->item.len;
    if (!quoted && n == 4 && !strncasecmp(s, "NULL", 4))
        return sl_buf_adds(a->out, "null", a->err);
    switch (a->elem) {
    case SL_T_INT16: case SL_T_INT32: case SL_T_INT64: case SL_T_UINT64:
    case SL_T_FLOAT32: case SL_T_FLOAT64: case SL_T_DECIMAL:
        if (!json_number(s, n))
            return refuse(a, n && (s[0] == 'N' || strchr(s, 'I')) ? "JSON has no NaN or infinite numbers"
                                                                  : "an element is not a number");
        return sl_buf_add(a->out, s, n, a->err);
    case SL_T_BOOL:
        if (n == 1 && (s[0] == 't' || s[0] == 'f'))
            return sl_buf_adds(a->out, s[0] == 't' ? "true" : "false", a->err);
        return refuse(a, "an element is not a boolean");
    case SL_T_JSON: {
        json_error_t je;
        json_t *j = json_loadb(s, n, JSON_DECODE_ANY, &je);
        if (!j)
            return refuse(a, "a json element is not JSON");
        json_decref(j);
        return sl_buf_add(a->out, s, n, a->err);
    }
    default:
        return emit_string(a, s, n);
    }
}

/* A quoted or unquoted element into a->item. */
static int read_item(ap_t *a, bool *quoted)
{
    sl_buf_reset(&a->item);
    *quoted = a->p[a->i] == '"';
    if (*quoted) {
        for (a->i++;; a->i++) {
            if (a->i >= a->n)
                return refuse(a, "the array text ends inside a quoted element");
            char c = a->p[a->i];
            if (c == '"') {
                a->i++;
                return 0;
            }
            if (c == '\\' && ++a->i >= a->n)
                return refuse(a, "the array text ends inside a quoted element");
            if (sl_buf_addc(&a->item, a->p[a->i], a->err))
                return -1;
        }
    }
    size_t trim = 0; /* length without trailing blanks (escaped blanks are kept) */
    for (; a->i < a->n && a->p[a->i] != ',' && a->p[a->i] != '}'; a->i++) {
        char c = a->p[a->i];
        if (c == '{' || c == '"')
            return refuse(a, "malformed array text");
        if (c == '\\' && ++a->i >= a->n)
            return refuse(a, "malformed array text");
        if (sl_buf_addc(&a->item, a->p[a->i], a->err))
            return -1;
        if (c == '\\' || !isspace((unsigned char)c))
            trim = a->item.len;
    }
    a->item.len = trim;
    if (!trim)
        return refuse(a, "malformed array text");
    return 0;
}

static int parse_array(ap_t *a, int depth)
{
    if (depth > MAX_DEPTH)
        return refuse(a, "the array is nested too deeply");
    if (a->i >= a->n || a->p[a->i] != '{')
        return refuse(a, "malformed array text");
    a->i++;
    int rc = sl_buf_addc(a->out, '[', a->err);
    skip_blank(a);
    if (!rc && a->i < a->n && a->p[a->i] == '}') {
        a->i++;
        return sl_buf_addc(a->out, ']', a->err);
    }
    for (bool first = true; !rc; first = false) {
        skip_blank(a);
        if (a->i >= a->n)
            return refuse(a, "the array text ends early");
        if (!first && (rc = sl_buf_addc(a->out, ',', a->err)))
            break;
        if (a->p[a->i] == '{') {
            rc = parse_array(a, depth + 1);
        } else {
            bool quoted;
            rc = read_item(a, &quoted);
            if (!rc)
                rc = emit_item(a, quoted);
        }
        if (rc)
            break;
        skip_blank(a);
        if (a->i < a->n && a->p[a->i] == ',') {
            a->i++;
            continue;
        }
        if (a->i < a->n && a->p[a->i] == '}') {
            a->i++;
            return sl_buf_addc(a->out, ']', a->err);
        }
        return refuse(a, "malformed array text");
    }
    return rc;
}

int sl_array_json(const char *p, size_t n, sl_type_t elem, sl_buf_t *out, char *why, size_t whylen,
                  sl_err_t *err)
{
    ap_t a = {.p = p, .n = n, .elem = elem, .out = out, .why = why, .whylen = whylen, .err = err};
    size_t start = out->len;
    sl_buf_init(&a.item, 1u << 30);
    skip_blank(&a);
    int rc = a.i < n && p[a.i] == '[' ? refuse(&a, "the array has explicit bounds, which a JSON array cannot keep")
                                      : parse_array(&a, 0);
    if (!rc) {
        skip_blank(&a);
        if (a.i != n)
            rc = refuse(&a, "malformed array text");
    }
    sl_buf_free(&a.item);
    if (rc && out->data) {
        out->len = start; /* out unchanged */
        out->data[start] = '\0';
    }
    return rc;
}
