/*
 * mysql_text.c: pure text helpers shared by the MariaDB/MySQL source and target
 * (see mysql_db.h): quoting identifiers and strings, bit strings, and the checks
 * that keep a canonical value from being reinterpreted by the server (an integer
 * key compared as a string, a decimal silently rounded).
 */
#include "db/mysql/mysql_db.h"

#include <string.h>

int sl_mysql_add_ident(sl_buf_t *b, const char *name, sl_err_t *err)
{
    if (sl_buf_addc(b, '`', err))
        return -1;
    for (const char *s = name; *s; s++) {
        if (*s == '`' && sl_buf_addc(b, '`', err))
            return -1;
        if (sl_buf_addc(b, *s, err))
            return -1;
    }
    return sl_buf_addc(b, '`', err);
}

int sl_mysql_add_string(sl_buf_t *b, const char *p, size_t n, sl_err_t *err)
{
    /* Worst case every byte doubles, plus the quotes. */
    if (sl_buf_reserve(b, 2 * n + 2, err))
        return -1;
    char *o = b->data + b->len;
    *o++ = '\'';
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        char esc = 0;
        switch (c) {
        case '\0': esc = '0'; break;
        case '\n': esc = 'n'; break;
        case '\r': esc = 'r'; break;
        case '\\': esc = '\\'; break;
        case '\'': esc = '\''; break;
        case '"': esc = '"'; break;
        case '\032': esc = 'Z'; break;
        default: break;
        }
        if (esc) {
            *o++ = '\\';
            *o++ = esc;
        } else {
            *o++ = c;
        }
    }
    *o++ = '\'';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

int sl_mysql_add_hex(sl_buf_t *b, const void *p, size_t n, sl_err_t *err)
{
    static const char hex[] = "0123456789abcdef";
    if (sl_buf_reserve(b, 2 * n + 3, err))
        return -1;
    const unsigned char *s = p;
    char *o = b->data + b->len;
    *o++ = 'x';
    *o++ = '\'';
    for (size_t i = 0; i < n; i++) {
        *o++ = hex[s[i] >> 4];
        *o++ = hex[s[i] & 15];
    }
    *o++ = '\'';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

int sl_mysql_bits_to_text(const unsigned char *p, size_t n, int nbits, char *out)
{
    if (nbits < 0)
        nbits = 0;
    /* Bit i (0 = least significant) lives in byte n-1-i/8. */
    for (size_t i = 0; i < n * 8; i++) {
        int bit = (p[n - 1 - i / 8] >> (i % 8)) & 1;
        if ((int)i < nbits)
            out[nbits - 1 - (int)i] = bit ? '1' : '0';
        else if (bit)
            return -1;
    }
    for (int i = (int)(n * 8); i < nbits; i++)
        out[nbits - 1 - i] = '0';
    out[nbits] = '\0';
    return 0;
}

static size_t digits(const char *p, size_t n, size_t i)
{
    size_t start = i;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    return i - start;
}

bool sl_mysql_is_integer(const char *p, size_t n)
{
    size_t i = (n > 0 && p[0] == '-') ? 1 : 0;
    size_t d = digits(p, n, i);
    return d > 0 && d <= 20 && i + d == n;
}

/* Reads [sign] digits [. digits] from p; returns where it stopped, or 0 when no
 * digit was read. The shared prefix of plain decimals and floats. */
static size_t number_prefix(const char *p, size_t n)
{
    size_t i = (n > 0 && (p[0] == '-' || p[0] == '+')) ? 1 : 0;
    size_t ip = digits(p, n, i);
    i += ip;
    size_t fp = 0;
    if (i < n && p[i] == '.') {
        i++;
        fp = digits(p, n, i);
        i += fp;
    }
    return ip || fp ? i : 0;
}

bool sl_mysql_is_plain_decimal(const char *p, size_t n)
{
    size_t i = number_prefix(p, n);
    return i > 0 && i == n;
}

bool sl_mysql_is_float(const char *p, size_t n)
{
    size_t i = number_prefix(p, n);
    if (i == 0)
        return false;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '-' || p[i] == '+'))
            i++;
        size_t ep = digits(p, n, i);
        if (ep == 0 || ep > 4)
            return false;
        i += ep;
    }
    return i == n;
}

void sl_mysql_decimal_digits(const char *p, size_t n, int *intdigits, int *fracdigits)
{
    size_t i = (n > 0 && (p[0] == '-' || p[0] == '+')) ? 1 : 0;
    while (i < n && p[i] == '0')
        i++;
    size_t ip = digits(p, n, i);
    i += ip;
    int fp = 0;
    if (i < n && p[i] == '.') {
        size_t f0 = i + 1;
        size_t fl = digits(p, n, f0);
        while (fl > 0 && p[f0 + fl - 1] == '0')
            fl--;
        fp = (int)fl;
    }
    *intdigits = (int)ip;
    *fracdigits = fp;
}

size_t sl_mysql_trim_fraction(const char *p, size_t n)
{
    const char *dot = memchr(p, '.', n);
    if (!dot)
        return n;
    size_t end = n;
    while (end > (size_t)(dot - p) + 1 && p[end - 1] == '0')
        end--;
    if (end == (size_t)(dot - p) + 1)
        end--; /* nothing left after the '.' */
    return end;
}

bool sl_mysql_is_zero_date(const char *p, size_t n)
{
    /* YYYY-MM-DD: a zero month or day has no calendar date, and year 0 does not
     * exist in the proleptic Gregorian calendar other engines use. */
    if (n < 10 || p[4] != '-' || p[7] != '-')
        return false;
    bool year0 = memcmp(p, "0000", 4) == 0;
    bool month0 = p[5] == '0' && p[6] == '0';
    bool day0 = p[8] == '0' && p[9] == '0';
    return year0 || month0 || day0;
}
