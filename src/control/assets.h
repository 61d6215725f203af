/*
 * assets.h: the web UI's files (web/), compiled into the binary so that `sluice server`
 * needs no network and no files at run time. The HTTP server serves them at / without a
 * key (they hold no data; every call they make goes through the authenticated API).
 */
#ifndef SL_CONTROL_ASSETS_H
#define SL_CONTROL_ASSETS_H

#include <stddef.h>

typedef struct sl_asset {
    const char *path;         /* "/index.html", "/app.js", … */
    const char *content_type; /* "text/html; charset=utf-8", … */
    const unsigned char *data;
    size_t len;
} sl_asset_t;

/* The asset at path ("/" is "/index.html"); NULL when there is none. The query string
 * must already be cut off. */
const sl_asset_t *sl_asset_find(const char *path);

#endif
