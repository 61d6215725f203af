/*
 * fuzz_s3_xml.c: libFuzzer target for the S3 response parsers (target/store/s3_xml.c):
 * ListObjectsV2 pages, UploadId, <Error> documents. The input is copied into a buffer of
 * exactly its size, not NUL-terminated, so ASan catches any read past the end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/store/s3_xml.h"

static int on_key(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    (void)err;
    *(size_t *)ctx += strlen(key) + (size_t)(size & 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *xml = malloc(size ? size : 1);
    if (!xml)
        return 0;
    memcpy(xml, data, size);
    sl_err_t err;
    sl_buf_t next, text;
    sl_buf_init(&next, 4096);
    sl_buf_init(&text, 4096);
    size_t seen = 0;
    bool truncated;
    sl_s3_xml_list(xml, size, on_key, &seen, &truncated, &next, &err);
    sl_s3_xml_text(xml, size, "UploadId", &text, &err);
    char code[64], msg[256];
    sl_s3_xml_error(xml, size, code, sizeof code, msg, sizeof msg);
    (void)sl_s3_xml_root_is(xml, size, "Error");
    sl_buf_free(&next);
    sl_buf_free(&text);
    free(xml);
    return 0;
}
