/*
 * test_pgoutput.c: unit tests of the pgoutput decoder (src/source/pg/pgoutput.c):
 * each message kind built byte by byte as proto.c writes it (protocol 1, and protocol
 * 2's stream messages and the xid that changes carry inside a stream block), every
 * truncation of a valid message, and the bounds on counts that come from the network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "source/pg/pgoutput.h"

static sl_pgo_msg_t msg;

/* A message under construction. */
typedef struct mb {
    unsigned char b[4096];
    size_t n;
} mb_t;

static void p8(mb_t *m, unsigned v) { m->b[m->n++] = (unsigned char)v; }
static void p16(mb_t *m, unsigned v) { p8(m, v >> 8), p8(m, v & 0xff); }
static void p32(mb_t *m, uint32_t v) { p16(m, v >> 16), p16(m, v & 0xffff); }
static void p64(mb_t *m, uint64_t v) { p32(m, (uint32_t)(v >> 32)), p32(m, (uint32_t)v); }
static void pstr(mb_t *m, const char *s)
{
    memcpy(m->b + m->n, s, strlen(s) + 1);
    m->n += strlen(s) + 1;
}
static void ptext(mb_t *m, const char *s)
{
    p8(m, 't');
    p32(m, (uint32_t)strlen(s));
    memcpy(m->b + m->n, s, strlen(s));
    m->n += strlen(s);
}

/* Decodes a heap copy of the exact size, so that ASan catches any read past the
 * end; the copy lives until the next call, as msg points into it. in_stream: inside a
 * stream block. */
static int decode_in(const mb_t *m, bool in_stream, sl_err_t *err)
{
    static unsigned char *copy;
    free(copy);
    copy = malloc(m->n ? m->n : 1);
    memcpy(copy, m->b, m->n);
    return sl_pgo_decode(copy, m->n, in_stream, &msg, err);
}

static int decode(const mb_t *m, sl_err_t *err) { return decode_in(m, false, err); }

/* Every strict prefix of a valid message must fail cleanly. */
static void assert_truncations_fail_in(const mb_t *m, bool in_stream)
{
    for (size_t cut = 0; cut < m->n; cut++) {
        unsigned char *copy = malloc(cut ? cut : 1);
        memcpy(copy, m->b, cut);
        sl_err_t err = {0};
        assert_int_equal(sl_pgo_decode(copy, cut, in_stream, &msg, &err), -1);
        assert_int_equal(err.code, SL_E_PROTOCOL);
        free(copy);
    }
}

static void assert_truncations_fail(const mb_t *m) { assert_truncations_fail_in(m, false); }

static void test_begin_commit(void **state)
{
    mb_t m = {0};
    p8(&m, 'B');
    p64(&m, 0x16B3748);
    p64(&m, 1000000); /* 2000-01-01 00:00:01 */
    p32(&m, 742);
    sl_err_t err = {0};
    assert_int_equal(decode(&m, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_BEGIN);
    assert_true(msg.begin.final_lsn == 0x16B3748);
    assert_true(msg.begin.commit_us == INT64_C(946684801000000));
    assert_int_equal(msg.begin.xid, 742);
    assert_truncations_fail(&m);

    mb_t c = {0};
    p8(&c, 'C');
    p8(&c, 0);
    p64(&c, 0x16B3748);
    p64(&c, 0x16B3778);
    p64(&c, (uint64_t)-1000000); /* before 2000 */
    assert_int_equal(decode(&c, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_COMMIT);
    assert_true(msg.commit.commit_lsn == 0x16B3748);
    assert_true(msg.commit.end_lsn == 0x16B3778);
    assert_true(msg.commit.commit_us == INT64_C(946684799000000));
    assert_truncations_fail(&c);

    /* trailing bytes are not ignored */
    p8(&c, 0);
    assert_int_equal(decode(&c, &err), -1);
    assert_int_equal(err.code, SL_E_PROTOCOL);
}

static void test_relation(void **state)
{
    mb_t m = {0};
    p8(&m, 'R');
    p32(&m, 16385);
    pstr(&m, "public");
    pstr(&m, "Order Items");
    p8(&m, 'd');
    p16(&m, 2);
    p8(&m, 1), pstr(&m, "id"), p32(&m, 23), p32(&m, 0xffffffff);
    p8(&m, 0), pstr(&m, "note"), p32(&m, 1043), p32(&m, 24);
    sl_err_t err = {0};
    assert_int_equal(decode(&m, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_RELATION);
    assert_int_equal(msg.rel.relid, 16385);
    assert_string_equal(msg.rel.nspname, "public");
    assert_string_equal(msg.rel.relname, "Order Items");
    assert_int_equal(msg.rel.replident, 'd');
    assert_int_equal(msg.rel.ncols, 2);
    assert_true(msg.relcols[0].key);
    assert_string_equal(msg.relcols[0].name, "id");
    assert_int_equal(msg.relcols[0].type, 23);
    assert_int_equal(msg.relcols[0].typmod, -1);
    assert_false(msg.relcols[1].key);
    assert_string_equal(msg.relcols[1].name, "note");
    assert_int_equal(msg.relcols[1].typmod, 24);
    assert_truncations_fail(&m);
}

static void test_insert(void **state)
{
    mb_t m = {0};
    p8(&m, 'I');
    p32(&m, 16385);
    p8(&m, 'N');
    p16(&m, 4);
    ptext(&m, "42");
    p8(&m, 'n');
    ptext(&m, "");
    p8(&m, 'b'), p32(&m, 2), p8(&m, 0), p8(&m, 0xff);
    sl_err_t err = {0};
    assert_int_equal(decode(&m, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_INSERT);
    assert_int_equal(msg.row.relid, 16385);
    assert_int_equal(msg.nold, 0);
    assert_int_equal(msg.nnew, 4);
    assert_int_equal(msg.newt[0].kind, 't');
    assert_int_equal(msg.newt[0].len, 2);
    assert_memory_equal(msg.newt[0].p, "42", 2);
    assert_int_equal(msg.newt[1].kind, 'n');
    assert_null(msg.newt[1].p);
    assert_int_equal(msg.newt[2].kind, 't'); /* empty text is not NULL */
    assert_int_equal(msg.newt[2].len, 0);
    assert_int_equal(msg.newt[3].kind, 'b');
    assert_int_equal(msg.newt[3].len, 2);
    assert_int_equal((unsigned char)msg.newt[3].p[1], 0xff);
    assert_truncations_fail(&m);

    /* an insert must carry 'N' */
    m.b[5] = 'K';
    assert_int_equal(decode(&m, &err), -1);
}

static void test_update(void **state)
{
    sl_err_t err = {0};
    /* key unchanged, a TOASTed value unchanged: no old tuple, 'u' in the new one */
    mb_t m = {0};
    p8(&m, 'U');
    p32(&m, 7);
    p8(&m, 'N');
    p16(&m, 3);
    ptext(&m, "1");
    p8(&m, 'u');
    ptext(&m, "x");
    assert_int_equal(decode(&m, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_UPDATE);
    assert_int_equal(msg.row.old_kind, 0);
    assert_int_equal(msg.nold, 0);
    assert_int_equal(msg.nnew, 3);
    assert_int_equal(msg.newt[1].kind, 'u');
    assert_truncations_fail(&m);

    /* key changed: 'K' with the old key, then 'N' */
    mb_t k = {0};
    p8(&k, 'U');
    p32(&k, 7);
    p8(&k, 'K');
    p16(&k, 3);
    ptext(&k, "1");
    p8(&k, 'n');
    p8(&k, 'n');
    p8(&k, 'N');
    p16(&k, 3);
    ptext(&k, "2");
    ptext(&k, "a");
    ptext(&k, "b");
    assert_int_equal(decode(&k, &err), 0);
    assert_int_equal(msg.row.old_kind, 'K');
    assert_int_equal(msg.nold, 3);
    assert_memory_equal(msg.oldt[0].p, "1", 1);
    assert_int_equal(msg.oldt[1].kind, 'n');
    assert_int_equal(msg.nnew, 3);
    assert_memory_equal(msg.newt[0].p, "2", 1);
    assert_truncations_fail(&k);

    /* REPLICA IDENTITY FULL: 'O' */
    k.b[5] = 'O';
    assert_int_equal(decode(&k, &err), 0);
    assert_int_equal(msg.row.old_kind, 'O');

    /* an old tuple must be followed by 'N' */
    k.b[5 + 1 + 2 + 6 + 2] = 'X';
    assert_int_equal(decode(&k, &err), -1);
}

static void test_delete(void **state)
{
    sl_err_t err = {0};
    mb_t m = {0};
    p8(&m, 'D');
    p32(&m, 7);
    p8(&m, 'K');
    p16(&m, 2);
    ptext(&m, "1");
    p8(&m, 'n');
    assert_int_equal(decode(&m, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_DELETE);
    assert_int_equal(msg.row.old_kind, 'K');
    assert_int_equal(msg.nold, 2);
    assert_int_equal(msg.nnew, 0);
    assert_truncations_fail(&m);

    m.b[5] = 'N'; /* a delete without an old key */
    assert_int_equal(decode(&m, &err), -1);
    assert_int_equal(err.code, SL_E_PROTOCOL);
}

static void test_truncate(void **state)
{
    sl_err_t err = {0};
    mb_t m = {0};
    p8(&m, 'T');
    p32(&m, 2);
    p8(&m, 1);
    p32(&m, 16385);
    p32(&m, 16390);
    assert_int_equal(decode(&m, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_TRUNCATE);
    assert_int_equal(msg.truncate.nrels, 2);
    assert_int_equal(msg.truncate.options, 1);
    assert_int_equal(sl_pgo_truncate_relid(&msg, 0), 16385);
    assert_int_equal(sl_pgo_truncate_relid(&msg, 1), 16390);
    assert_truncations_fail(&m);

    /* a relation count larger than the message */
    mb_t big = {0};
    p8(&big, 'T');
    p32(&big, 0x7fffffff);
    p8(&big, 0);
    p32(&big, 1);
    assert_int_equal(decode(&big, &err), -1);
    big.b[1] = 0xff; /* negative as Int32 */
    assert_int_equal(decode(&big, &err), -1);
}

static void test_origin_type_message(void **state)
{
    sl_err_t err = {0};
    mb_t o = {0};
    p8(&o, 'O');
    p64(&o, 99);
    pstr(&o, "node_a");
    assert_int_equal(decode(&o, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_ORIGIN);
    assert_string_equal(msg.origin.name, "node_a");
    assert_truncations_fail(&o);

    mb_t y = {0};
    p8(&y, 'Y');
    p32(&y, 16400);
    pstr(&y, "public");
    pstr(&y, "mood");
    assert_int_equal(decode(&y, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_TYPE);
    assert_string_equal(msg.type.typname, "mood");
    assert_truncations_fail(&y);

    mb_t mm = {0};
    p8(&mm, 'M');
    p8(&mm, 1);
    p64(&mm, 5);
    pstr(&mm, "sluice");
    p32(&mm, 3);
    memcpy(mm.b + mm.n, "a\0b", 3);
    mm.n += 3;
    assert_int_equal(decode(&mm, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_MESSAGE);
    assert_string_equal(msg.message.prefix, "sluice");
    assert_int_equal(msg.message.len, 3);
    assert_truncations_fail(&mm);
}

static void test_bounds(void **state)
{
    sl_err_t err = {0};
    /* more columns than any PostgreSQL tuple can have */
    mb_t m = {0};
    p8(&m, 'I');
    p32(&m, 1);
    p8(&m, 'N');
    p16(&m, SL_PGO_MAX_COLS + 1);
    for (int i = 0; i < SL_PGO_MAX_COLS + 1; i++)
        p8(&m, 'n');
    assert_int_equal(decode(&m, &err), -1);
    assert_int_equal(err.code, SL_E_PROTOCOL);

    /* exactly the maximum is fine */
    m.n = 6;
    p16(&m, SL_PGO_MAX_COLS);
    for (int i = 0; i < SL_PGO_MAX_COLS; i++)
        p8(&m, 'n');
    assert_int_equal(decode(&m, &err), 0);
    assert_int_equal(msg.nnew, SL_PGO_MAX_COLS);

    /* a value length beyond the message, and one that is negative as Int32 */
    mb_t v = {0};
    p8(&v, 'I');
    p32(&v, 1);
    p8(&v, 'N');
    p16(&v, 1);
    p8(&v, 't');
    p32(&v, 1000);
    p8(&v, 'x');
    assert_int_equal(decode(&v, &err), -1);
    v.n = 8;
    p32(&v, 0xffffffff);
    assert_int_equal(decode(&v, &err), -1);

    /* an unknown column kind and an unterminated string */
    mb_t k = {0};
    p8(&k, 'I');
    p32(&k, 1);
    p8(&k, 'N');
    p16(&k, 1);
    p8(&k, 'z');
    assert_int_equal(decode(&k, &err), -1);
    mb_t s = {0};
    p8(&s, 'Y');
    p32(&s, 1);
    memcpy(s.b + s.n, "abc", 3);
    s.n += 3;
    assert_int_equal(decode(&s, &err), -1);

    /* unknown message kinds (two-phase commit's are not asked for) and empty input */
    mb_t u = {0};
    p8(&u, 'P');
    p32(&u, 1);
    assert_int_equal(decode(&u, &err), -1);
    assert_int_equal(err.code, SL_E_PROTOCOL);
    assert_int_equal(sl_pgo_decode(NULL, 0, false, &msg, &err), -1);
    assert_int_equal(sl_pgo_decode("", 0, true, &msg, &err), -1);
}

/* Protocol 2: Stream Start, Stop, Commit and Abort as proto.c writes them. */
static void test_stream_messages(void **state)
{
    sl_err_t err = {0};
    mb_t s = {0};
    p8(&s, 'S');
    p32(&s, 9001);
    p8(&s, 1);
    assert_int_equal(decode(&s, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_STREAM_START);
    assert_int_equal(msg.stream_start.xid, 9001);
    assert_true(msg.stream_start.first);
    assert_truncations_fail(&s);
    s.b[5] = 0; /* a later block of the same transaction */
    assert_int_equal(decode(&s, &err), 0);
    assert_false(msg.stream_start.first);

    mb_t e = {0};
    p8(&e, 'E');
    assert_int_equal(decode_in(&e, true, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_STREAM_STOP);
    p8(&e, 0);
    assert_int_equal(decode_in(&e, true, &err), -1); /* trailing bytes */

    mb_t c = {0};
    p8(&c, 'c');
    p32(&c, 9001);
    p8(&c, 0);
    p64(&c, 0x5000010);
    p64(&c, 0x5000040);
    p64(&c, 2000000);
    assert_int_equal(decode(&c, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_STREAM_COMMIT);
    assert_int_equal(msg.stream_commit.xid, 9001);
    assert_true(msg.stream_commit.commit_lsn == 0x5000010);
    assert_true(msg.stream_commit.end_lsn == 0x5000040);
    assert_true(msg.stream_commit.commit_us == INT64_C(946684802000000));
    assert_truncations_fail(&c);

    mb_t a = {0};
    p8(&a, 'A');
    p32(&a, 9001);
    p32(&a, 9003);
    assert_int_equal(decode(&a, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_STREAM_ABORT);
    assert_int_equal(msg.stream_abort.xid, 9001);
    assert_int_equal(msg.stream_abort.subxid, 9003);
    assert_truncations_fail(&a);
}

/* Inside a stream block the changes, relations, types and messages carry their
 * (sub)transaction's xid after the kind byte; outside, the same bytes are not read so. */
static void test_stream_xids(void **state)
{
    sl_err_t err = {0};
    mb_t m = {0};
    p8(&m, 'I');
    p32(&m, 9003); /* a subtransaction of 9001 */
    p32(&m, 16385);
    p8(&m, 'N');
    p16(&m, 1);
    ptext(&m, "7");
    assert_int_equal(decode_in(&m, true, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_INSERT);
    assert_int_equal(msg.xid, 9003);
    assert_int_equal(msg.row.relid, 16385);
    assert_int_equal(msg.nnew, 1);
    assert_memory_equal(msg.newt[0].p, "7", 1);
    assert_truncations_fail_in(&m, true);
    /* read as protocol 1, the xid is the relation and 'N' is not where it must be */
    assert_int_equal(decode_in(&m, false, &err), -1);

    mb_t d = {0};
    p8(&d, 'D');
    p32(&d, 9001);
    p32(&d, 16385);
    p8(&d, 'K');
    p16(&d, 1);
    ptext(&d, "7");
    assert_int_equal(decode_in(&d, true, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_DELETE);
    assert_int_equal(msg.xid, 9001);
    assert_int_equal(msg.nold, 1);

    mb_t r = {0};
    p8(&r, 'R');
    p32(&r, 9001);
    p32(&r, 16385);
    pstr(&r, "public");
    pstr(&r, "t");
    p8(&r, 'd');
    p16(&r, 1);
    p8(&r, 1), pstr(&r, "id"), p32(&r, 20), p32(&r, 0xffffffff);
    assert_int_equal(decode_in(&r, true, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_RELATION);
    assert_int_equal(msg.xid, 9001);
    assert_string_equal(msg.rel.relname, "t");
    assert_truncations_fail_in(&r, true);

    mb_t t = {0};
    p8(&t, 'T');
    p32(&t, 9001);
    p32(&t, 1);
    p8(&t, 0);
    p32(&t, 16385);
    assert_int_equal(decode_in(&t, true, &err), 0);
    assert_int_equal(msg.truncate.nrels, 1);
    assert_int_equal(sl_pgo_truncate_relid(&msg, 0), 16385);

    /* the stream messages themselves read the same inside and outside a block, and
     * protocol 1 messages outside a block carry no xid */
    mb_t b = {0};
    p8(&b, 'B');
    p64(&b, 1);
    p64(&b, 0);
    p32(&b, 5);
    assert_int_equal(decode_in(&b, true, &err), 0);
    assert_int_equal(msg.xid, 0);
    mb_t o = {0};
    p8(&o, 'O');
    p64(&o, 3);
    pstr(&o, "node");
    assert_int_equal(decode_in(&o, true, &err), 0);
    assert_int_equal(msg.kind, SL_PGO_ORIGIN);
}

static void test_timestamps(void **state)
{
    assert_true(sl_pgo_unix_us(0) == SL_PGO_EPOCH_OFFSET_US);
    assert_true(sl_pgo_unix_us(INT64_MAX) == INT64_MAX);
    assert_true(sl_pgo_unix_us(INT64_MIN) == INT64_MIN + SL_PGO_EPOCH_OFFSET_US);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_begin_commit),
        cmocka_unit_test(test_relation),
        cmocka_unit_test(test_insert),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_origin_type_message),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_stream_messages),
        cmocka_unit_test(test_stream_xids),
        cmocka_unit_test(test_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
