/*
 * assets.c: the web UI's files (web/), compiled in (see assets.h). The arrays and the table
 * come from web_assets.inc, which web/embed.cmake generates from web/ at build time (no
 * npm, no bundler: the files are embedded as written). Immutable data; any thread.
 */
#include <string.h>

#include "control/assets.h"

#include "web_assets.inc"

const sl_asset_t *sl_asset_find(const char *path)
{
    if (path == NULL)
        return NULL;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
        if (strcmp(assets[i].path, path) == 0)
            return &assets[i];
    return NULL;
}
