/*
 * err.c: filling and formatting sl_err_t (see err.h for the contract).
 */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

static bool fatal_by_default(sl_errcode_t code)
{
    switch (code) {
    case SL_E_CONNECT:
    case SL_E_BROKER:
    case SL_E_IO:
        return false;
    default:
        return true;
    }
}

int sl_err_set(sl_err_t *err, sl_errcode_t code, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->code = code;
    err->fatal = fatal_by_default(code);
    err->retriable = !err->fatal;
    err->detail[0] = '\0';
    err->hint[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

void sl_err_detail(sl_err_t *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
}

void sl_err_hint(sl_err_t *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
}

void sl_err_retriable(sl_err_t *err)
{
    if (!err)
        return;
    err->retriable = true;
    err->fatal = false;
}

void sl_err_prefix(sl_err_t *err, const char *fmt, ...)
{
    if (!err)
        return;
    char pre[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    char old[sizeof err->message];
    memcpy(old, err->message, sizeof old);
    snprintf(err->message, sizeof err->message, "%s%s", pre, old);
}

const char *sl_err_format(const sl_err_t *err, char *buf, int size)
{
    int n = snprintf(buf, size, "error: %s", err->message[0] ? err->message : "unknown error");
    if (err->detail[0] && n < size)
        n += snprintf(buf + n, size - n, "\ndetail: %s", err->detail);
    if (err->hint[0] && n < size)
        snprintf(buf + n, size - n, "\nhint: %s", err->hint);
    return buf;
}

void sl_err_clear(sl_err_t *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}
