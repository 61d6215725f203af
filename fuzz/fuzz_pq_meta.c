/*
 * fuzz_pq_meta.c: libFuzzer target for the Parquet metadata decoders (target/fmt/
 * parquet_meta.c over the Thrift compact reader of thrift.c): the input is parsed as a
 * FileMetaData (and, when it parses, turned into a schema tree and a table) and as a
 * PageHeader. The input is copied into a buffer of exactly its size so ASan catches any
 * read past the end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/fmt/parquet_rd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    sl_err_t err;
    pq_meta_t m;
    if (sl_pq_meta_parse(buf, size, &m, &err) == 0) {
        pq_schema_t s;
        sl_table_t *t = calloc(1, sizeof *t);
        if (t && sl_pq_schema_build(&m, &s, t, &err) == 0)
            sl_pq_schema_free(&s);
        sl_table_free(t);
        sl_pq_meta_free(&m);
    }
    pq_page_t h;
    size_t used;
    (void)sl_pq_page_parse(buf, size, &h, &used, &err);
    free(buf);
    return 0;
}
