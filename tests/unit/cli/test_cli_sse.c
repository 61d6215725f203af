/*
 * test_cli_sse.c: unit tests of the server-sent events parser (src/cli/client_sse.c) that
 * `sluice stream watch` reads the server's events with: events split across chunks at
 * every position, multi-line data, comments and pings, the three line endings (also \r
 * and \n in different chunks), field edge cases, BOM, id/retry, the size limit, and a
 * callback that stops the feed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/client_sse.h"

/* The events seen, as "type|data" lines. */
typedef struct seen {
    char text[4096];
    int n;
    int stop_after; /* 0 = never stop */
} seen_t;

static int collect(const char *event, const char *data, size_t len, void *arg)
{
    seen_t *s = arg;
    assert_int_equal(strlen(data), len); /* NUL-terminated, no embedded NUL here */
    size_t used = strlen(s->text);
    snprintf(s->text + used, sizeof s->text - used, "%s|%s\n", event, data);
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

/* Feeds text in chunks of at most `step` bytes (0 = whole) to a fresh parser. */
static void feed_steps(const char *text, size_t len, size_t step, seen_t *s)
{
    sl_sse_t p;
    sl_sse_init(&p, 1 << 16);
    sl_err_t err = {0};
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < len;) {
        size_t n = step == 0 || len - i < step ? len - i : step;
        assert_int_equal(sl_sse_feed(&p, text + i, n, collect, s, &err), 0);
        i += n;
    }
    sl_sse_free(&p);
}

static void feed(const char *text, seen_t *s)
{
    feed_steps(text, strlen(text), 0, s);
}

static void test_basic_events(void **state)
{
    seen_t s;
    feed("event: state\ndata: {\"state\": \"running\"}\n\n"
         "event: stats\ndata: {\"a\":1}\n\n"
         "data: plain\n\n",
         &s);
    assert_string_equal(s.text, "state|{\"state\": \"running\"}\n"
                                "stats|{\"a\":1}\n"
                                "message|plain\n");
}

static void test_every_split_gives_the_same_events(void **state)
{
    const char *text = "event: stats\r\ndata: {\"rows\": 1}\r\n\r\n"
                       ": ping\n\n"
                       "event: log\rdata: line one\rdata: line two\r\r"
                       "data: last\n\n";
    const char *want = "stats|{\"rows\": 1}\nlog|line one\nline two\nmessage|last\n";
    size_t len = strlen(text);
    seen_t s;
    for (size_t step = 1; step <= len; step++) {
        feed_steps(text, len, step, &s);
        assert_string_equal(s.text, want);
    }
    /* Two chunks, split at every position. */
    for (size_t cut = 0; cut <= len; cut++) {
        sl_sse_t p;
        sl_sse_init(&p, 1 << 16);
        sl_err_t err = {0};
        memset(&s, 0, sizeof s);
        assert_int_equal(sl_sse_feed(&p, text, cut, collect, &s, &err), 0);
        assert_int_equal(sl_sse_feed(&p, text + cut, len - cut, collect, &s, &err), 0);
        assert_string_equal(s.text, want);
        sl_sse_free(&p);
    }
}

static void test_multiline_data(void **state)
{
    seen_t s;
    feed("data: {\ndata:   \"a\": 1\ndata: }\n\n", &s);
    assert_string_equal(s.text, "message|{\n  \"a\": 1\n}\n");
    assert_int_equal(s.n, 1);
}

static void test_comments_and_pings(void **state)
{
    seen_t s;
    feed(": ping\n\n:\n\n: another comment\nevent: state\n: in between\ndata: x\n\n", &s);
    assert_string_equal(s.text, "state|x\n");
}

static void test_cr_then_lf_in_the_next_chunk(void **state)
{
    /* "\r" ends one chunk, "\n" starts the next: one line end, not an empty line that
     * would dispatch "a" alone. */
    sl_sse_t p;
    sl_sse_init(&p, 1024);
    sl_err_t err = {0};
    seen_t s;
    memset(&s, 0, sizeof s);
    assert_int_equal(sl_sse_feed(&p, "data: a\r", 8, collect, &s, &err), 0);
    assert_int_equal(sl_sse_feed(&p, "\ndata: b\r", 9, collect, &s, &err), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(sl_sse_feed(&p, "\n\r\n", 3, collect, &s, &err), 0);
    assert_string_equal(s.text, "message|a\nb\n");
    sl_sse_free(&p);
}

static void test_field_edge_cases(void **state)
{
    seen_t s;
    /* No colon: the whole line is the field name, the value empty. One leading space is
     * removed, not two. Unknown fields are ignored. An event without data dispatches
     * nothing, and the event type resets after each dispatch. */
    feed("data\n\n"
         "data:\n\n"
         "data:x\n\n"
         "data:  two spaces\n\n"
         "foo: bar\nevent: lonely\n\n"
         "event: typed\ndata: 1\n\n"
         "data: 2\n\n",
         &s);
    assert_string_equal(s.text, "message|\n"
                                "message|\n"
                                "message|x\n"
                                "message| two spaces\n"
                                "typed|1\n"
                                "message|2\n");
}

static void test_unterminated_event_waits(void **state)
{
    sl_sse_t p;
    sl_sse_init(&p, 1024);
    sl_err_t err = {0};
    seen_t s;
    memset(&s, 0, sizeof s);
    const char *t = "event: stats\ndata: {}\n";
    assert_int_equal(sl_sse_feed(&p, t, strlen(t), collect, &s, &err), 0);
    assert_int_equal(s.n, 0);
    /* A reconnection forgets the half event. */
    sl_sse_reset(&p);
    assert_int_equal(sl_sse_feed(&p, "data: fresh\n\n", 13, collect, &s, &err), 0);
    assert_string_equal(s.text, "message|fresh\n");
    sl_sse_free(&p);
}

static void test_bom_id_and_retry(void **state)
{
    seen_t s;
    feed("\xEF\xBB\xBF" "data: after bom\n\n", &s);
    assert_string_equal(s.text, "message|after bom\n");
    /* A BOM split over chunks. */
    feed_steps("\xEF\xBB\xBF" "data: split\n\n", 16, 1, &s);
    assert_string_equal(s.text, "message|split\n");
    /* Bytes that only start like a BOM are data. */
    feed("\xEF" "x: y\ndata: z\n\n", &s);
    assert_string_equal(s.text, "message|z\n");

    sl_sse_t p;
    sl_sse_init(&p, 1024);
    sl_err_t err = {0};
    memset(&s, 0, sizeof s);
    const char *t = "id: 42\nretry: 2500\nretry: soon\ndata: x\n\n";
    assert_int_equal(sl_sse_feed(&p, t, strlen(t), collect, &s, &err), 0);
    assert_string_equal(p.last_id, "42");
    assert_int_equal(p.retry_ms, 2500);
    sl_sse_free(&p);
}

static void test_limit(void **state)
{
    sl_sse_t p;
    sl_sse_init(&p, 64);
    sl_err_t err = {0};
    seen_t s;
    memset(&s, 0, sizeof s);
    char big[200];
    memset(big, 'x', sizeof big);
    /* A line longer than the limit, arriving in pieces. */
    assert_int_equal(sl_sse_feed(&p, "data: ", 6, collect, &s, &err), 0);
    assert_int_equal(sl_sse_feed(&p, big, 50, collect, &s, &err), 0);
    assert_int_equal(sl_sse_feed(&p, big, 50, collect, &s, &err), -1);
    assert_int_equal(err.code, SL_E_LIMIT);
    sl_sse_free(&p);
    /* The same limit when the whole line comes in one chunk (a long comment, here). */
    sl_sse_init(&p, 64);
    char line[100];
    memset(line, 'c', sizeof line);
    line[0] = ':';
    line[99] = '\n';
    assert_int_equal(sl_sse_feed(&p, line, sizeof line, collect, &s, &err), -1);
    assert_int_equal(err.code, SL_E_LIMIT);
    sl_sse_free(&p);
    /* An event of many short lines, longer than the limit in all. */
    sl_sse_init(&p, 64);
    int rc = 0;
    for (int i = 0; i < 20 && rc == 0; i++)
        rc = sl_sse_feed(&p, "data: 0123456789\n", 17, collect, &s, &err);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, SL_E_LIMIT);
    assert_int_equal(s.n, 0);
    sl_sse_free(&p);
}

static void test_callback_stops(void **state)
{
    sl_sse_t p;
    sl_sse_init(&p, 1024);
    sl_err_t err = {0};
    seen_t s;
    memset(&s, 0, sizeof s);
    s.stop_after = 1;
    const char *t = "event: state\ndata: stopped\n\nevent: stats\ndata: {}\n\n";
    assert_int_equal(sl_sse_feed(&p, t, strlen(t), collect, &s, &err), 1);
    assert_string_equal(s.text, "state|stopped\n");
    sl_sse_free(&p);
    sl_sse_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_events),
        cmocka_unit_test(test_every_split_gives_the_same_events),
        cmocka_unit_test(test_multiline_data),
        cmocka_unit_test(test_comments_and_pings),
        cmocka_unit_test(test_cr_then_lf_in_the_next_chunk),
        cmocka_unit_test(test_field_edge_cases),
        cmocka_unit_test(test_unterminated_event_waits),
        cmocka_unit_test(test_bom_id_and_retry),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_callback_stops),
    };
    return cmocka_run_group_tests_name("cli_sse", tests, NULL, NULL);
}
