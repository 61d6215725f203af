/*
 * fuzz_spec.c: libFuzzer target for the stream spec parser (engine/spec.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    sl_spec_t *spec = NULL;
    sl_err_t err;
    if (sl_spec_parse(text, &spec, &err) == 0)
        sl_spec_free(spec);
    free(text);
    return 0;
}
