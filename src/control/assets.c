/*
 * assets.c: STUB until the web UI's build embeds web/ (see assets.h): one page saying the
 * UI is not built.
 */
#include <string.h>

#include "control/assets.h"

static const char index_html[] =
    "<!doctype html><meta charset=utf-8><title>sluice</title>"
    "<p>The sluice web UI is not built yet; use the REST API (docs/api.md) or the CLI.</p>\n";

static const sl_asset_t assets[] = {
    {"/index.html", "text/html; charset=utf-8", (const unsigned char *)index_html,
     sizeof index_html - 1},
};

const sl_asset_t *sl_asset_find(const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
        if (strcmp(assets[i].path, path) == 0)
            return &assets[i];
    return NULL;
}
