/*
 * fuzz_pgoutput.c: libFuzzer target for the pgoutput decoder (source/pg/pgoutput.c).
 * Any input must decode to one message or a SL_E_PROTOCOL error, and every string
 * and value it hands back must lie inside the input. Each input is decoded twice: as a
 * message outside a stream block and as one inside (protocol 2, where changes carry an
 * xid).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source/pg/pgoutput.h"

static int inside(const uint8_t *data, size_t size, const void *p, size_t n)
{
    const uint8_t *q = p;
    return q >= data && q <= data + size && n <= (size_t)(data + size - q);
}

static void check_str(const uint8_t *data, size_t size, const char *s)
{
    if (!inside(data, size, s, strlen(s) + 1))
        abort();
}

static void check_tuple(const uint8_t *data, size_t size, const sl_pgo_datum_t *t, int n)
{
    if (n < 0 || n > SL_PGO_MAX_COLS)
        abort();
    for (int i = 0; i < n; i++)
        if (t[i].p && !inside(data, size, t[i].p, t[i].len))
            abort();
}

static void one(const uint8_t *data, size_t size, bool in_stream)
{
    static sl_pgo_msg_t m;
    sl_err_t err;
    if (sl_pgo_decode(data, size, in_stream, &m, &err)) {
        if (err.code != SL_E_PROTOCOL)
            abort();
        return;
    }
    if (!in_stream && m.xid != 0)
        abort();
    switch (m.kind) {
    case SL_PGO_RELATION:
        check_str(data, size, m.rel.nspname);
        check_str(data, size, m.rel.relname);
        for (int i = 0; i < m.rel.ncols; i++)
            check_str(data, size, m.relcols[i].name);
        break;
    case SL_PGO_TYPE:
        check_str(data, size, m.type.typname);
        break;
    case SL_PGO_ORIGIN:
        check_str(data, size, m.origin.name);
        break;
    case SL_PGO_TRUNCATE: {
        uint32_t sum = 0;
        for (int i = 0; i < m.truncate.nrels; i++)
            sum += sl_pgo_truncate_relid(&m, i);
        (void)sum;
        break;
    }
    case SL_PGO_MESSAGE:
        if (!inside(data, size, m.message.content, m.message.len))
            abort();
        break;
    default:
        break;
    }
    check_tuple(data, size, m.oldt, m.nold);
    check_tuple(data, size, m.newt, m.nnew);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, false);
    one(data, size, true);
    return 0;
}
