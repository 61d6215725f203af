/*
 * store.c: the store registry (by URL scheme) and the key check every store applies
 * before touching a key (store.h: keys cannot escape the store's root).
 */
#include <stdbool.h>
#include <string.h>

#include "target/store/store.h"

extern const struct sl_store_ops sl_local_store_ops;
extern const struct sl_store_ops sl_s3_store_ops;

const struct sl_store_ops *sl_store_lookup(const char *scheme)
{
    if (!scheme)
        return NULL;
    if (!strcmp(scheme, "file"))
        return &sl_local_store_ops;
    if (!strcmp(scheme, "s3"))
        return &sl_s3_store_ops;
    return NULL;
}

bool sl_store_key_ok(const char *key)
{
    if (!key || !key[0] || key[0] == '/' || strstr(key, ".."))
        return false;
    const char *seg = key;
    for (const char *p = key;; p++) {
        if (*p == '\\' || ((unsigned char)*p < 0x20 && *p))
            return false;
        if (*p == '/' || !*p) {
            size_t n = (size_t)(p - seg);
            /* empty segments ("a//b", a trailing "/") and "." are refused */
            if (n == 0 || (n == 1 && seg[0] == '.'))
                return false;
            if (!*p)
                return true;
            seg = p + 1;
        }
    }
}
