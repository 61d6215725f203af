/*
 * fuzz_url.c: libFuzzer target for the URL splitter and parser (core/url.c) and the
 * NATS URL parser (broker/bus_conf.c). Besides memory errors it checks the promise
 * that parsing and masking agree: a password the parser finds never survives
 * sl_url_mask, and a URL rebuilt with a password parses back to it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/bus.h"
#include "core/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = strndup((const char *)data, size); /* up to a NUL in the input */
    if (!text)
        return 0;
    sl_url_t *u = NULL;
    sl_err_t err;
    char *masked = sl_url_mask(text);
    if (sl_url_parse(text, &u, &err) == 0) {
        sl_url_split_t sp;
        if (sl_url_split(text, &sp, &err) != 0)
            abort(); /* parse and split disagree */
        /* The masked form is the URL with exactly the parsed password's text replaced. */
        if (sp.has_password) {
            size_t n = strlen(text) + 8;
            char *want = malloc(n);
            if (!want)
                abort();
            snprintf(want, n, "%.*s****%s", (int)sp.pw, text, text + sp.pw_end);
            if (strcmp(masked, want))
                abort();
            free(want);
        }
        char *again = sl_url_with_password(text, "p@ss/w#rd?");
        sl_url_t *v = NULL;
        if (again && sl_url_parse(again, &v, &err) == 0) {
            if (!v->password || strcmp(v->password, "p@ss/w#rd?"))
                abort();
            sl_url_free(v);
        }
        free(again);
        sl_url_same_endpoint(text, text);
        sl_url_free(u);
    }
    sl_bus_conf_t c;
    if (sl_bus_conf_parse(text, &c, &err) == 0)
        sl_bus_conf_free(&c);
    free(sl_bus_url_public(text));
    free(masked);
    free(text);
    return 0;
}
