/*
 * buf.h: a growable byte buffer with a hard maximum (after curl's dynbuf).
 *
 * The buffer owns its memory; sl_buf_free() releases it. Appending past `max` fails
 * with SL_E_LIMIT instead of growing, so input from the network can never make
 * sluice allocate without bound. The content is always NUL-terminated (not counted
 * in len), so text can be passed to C string functions.
 */
#ifndef SL_CORE_BUF_H
#define SL_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct sl_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} sl_buf_t;

void sl_buf_init(sl_buf_t *b, size_t max);
void sl_buf_free(sl_buf_t *b);
void sl_buf_reset(sl_buf_t *b); /* len = 0, keeps the allocation */
int sl_buf_reserve(sl_buf_t *b, size_t extra, sl_err_t *err);
int sl_buf_add(sl_buf_t *b, const void *p, size_t n, sl_err_t *err);
int sl_buf_adds(sl_buf_t *b, const char *s, sl_err_t *err);
int sl_buf_addc(sl_buf_t *b, char c, sl_err_t *err);
int sl_buf_printf(sl_buf_t *b, sl_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Unsigned LEB128 varint. */
int sl_buf_add_varint(sl_buf_t *b, uint64_t v, sl_err_t *err);
/* Hands the memory to the caller (who frees it with free()) and resets b. */
char *sl_buf_steal(sl_buf_t *b, size_t *len);

#endif
