/*
 * fuzz_http.c: libFuzzer target for the control plane's request parsing
 * (control/route.c): routing, the JSON body checks of each route and query values.
 * Input: "METHOD PATH\n" then the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl ? (size_t)(nl - data) : size;
    char *line = malloc(head + 1);
    if (!line)
        return 0;
    memcpy(line, data, head);
    line[head] = '\0';
    char *sp = strchr(line, ' ');
    const char *method = line, *path = "";
    if (sp) {
        *sp = '\0';
        path = sp + 1;
    }
    sl_route_match_t m;
    sl_api_err_t e;
    if (sl_route_match(method, path, &m) == SL_MATCH_OK && nl) {
        json_t *body = NULL;
        const char *b = (const char *)nl + 1;
        size_t blen = size - head - 1;
        if (sl_req_json_object(b, blen, &body, &e) == 0) {
            switch (m.route->id) {
            case SL_R_CONN_CREATE:
            case SL_R_CONN_PUT: sl_req_connection(body, &e); break;
            case SL_R_CONN_TEST: sl_req_conn_test(body, &e); break;
            case SL_R_STREAM_CREATE:
            case SL_R_STREAM_PUT: sl_req_stream(body, &e); break;
            default: {
                static const char *const keys[] = {"a", "b", NULL};
                sl_req_known_fields(body, "a body", keys, &e);
            }
            }
            json_decref(body);
        }
        bool flag;
        int n;
        sl_req_bool(m.id, false, &flag, "x", &e);
        sl_req_int(m.id, 1, 1, 1000, &n, "limit", &e);
    }
    free(line);
    return 0;
}
