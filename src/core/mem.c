/*
 * mem.c: the out-of-memory policy (core/mem.h).
 */
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sl_oom(void)
{
    static const char msg[] = "sluice: out of memory\n";
    /* write(2), not stdio or the logger: they may need the memory that ran out */
    ssize_t rc = write(2, msg, sizeof msg - 1);
    (void)rc;
    abort();
}

char *sl_strdup(const char *s)
{
    if (!s)
        return NULL;
    char *p = strdup(s);
    if (!p)
        sl_oom();
    return p;
}
