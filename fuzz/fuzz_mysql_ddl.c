/*
 * fuzz_mysql_ddl.c: libFuzzer target for the binlog DDL reader (source/mysql/mysql_ddl.c).
 * Any statement must be read without reading past its end (the input is copied into a
 * buffer of exactly its size), every table it names must be a NUL-terminated name that
 * fits the buffer, and a non-zero return of the callback must come back unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source/mysql/mysql_ddl.h"

typedef struct count {
    int n, stop;
} count_t;

static int visit(void *ctx, sl_my_ddl_kind_t kind, const char *db, const char *table)
{
    count_t *c = ctx;
    if ((unsigned)kind > SL_MY_DDL_DROP_DATABASE || strlen(db) >= SL_MY_DDL_NAME_MAX ||
        strlen(table) >= SL_MY_DDL_NAME_MAX || (kind == SL_MY_DDL_DROP_DATABASE && table[0]))
        abort();
    return ++c->n == c->stop ? 42 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = malloc(size ? size : 1);
    if (!sql)
        return 0;
    memcpy(sql, data, size);
    count_t c = {0, 0};
    if (sl_my_ddl_parse(sql, size, "db", visit, &c) != 0)
        abort();
    count_t stop = {0, 2};
    int rc = sl_my_ddl_parse(sql, size, "db", visit, &stop);
    if (rc != (c.n >= 2 ? 42 : 0))
        abort();
    (void)sl_my_ddl_is(sql, size, "BEGIN");
    (void)sl_my_ddl_is(sql, size, "COMMIT");
    free(sql);
    return 0;
}
