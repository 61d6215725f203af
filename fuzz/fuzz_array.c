/*
 * fuzz_array.c: libFuzzer target for PostgreSQL array literals as JSON arrays
 * (model/array.h). The first byte picks the element type, the rest is the literal: the
 * converter must never crash or read out of bounds, must leave its output unchanged when
 * it refuses, and what it accepts must be JSON (jansson parses it back).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/array.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const sl_type_t elems[] = {SL_T_INT32, SL_T_FLOAT64, SL_T_DECIMAL, SL_T_BOOL, SL_T_JSON, SL_T_TEXT, SL_T_DATE};
    if (size < 1)
        return 0;
    sl_type_t elem = elems[data[0] % (sizeof elems / sizeof elems[0])];
    sl_buf_t out;
    sl_buf_init(&out, 1u << 20);
    sl_buf_adds(&out, "x", NULL);
    char why[128];
    sl_err_t err = {0};
    int rc = sl_array_json((const char *)data + 1, size - 1, elem, &out, why, sizeof why, &err);
    if (rc == 1 && (out.len != 1 || out.data[1] != '\0'))
        abort(); /* a refusal leaves the output as it was */
    if (rc == 0) {
        json_error_t je;
        /* \u0000 is valid JSON (a NUL byte the literal held), which jansson takes only when asked */
        json_t *j = json_loadb(out.data + 1, out.len - 1, JSON_ALLOW_NUL, &je);
        if (!json_is_array(j))
            abort();
        json_decref(j);
    }
    sl_buf_free(&out);
    return 0;
}
