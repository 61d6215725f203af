/*
 * test_control_state.c: the stream lifecycle table (control/state.c): the API's state
 * strings, which action each state allows (pause and stop also while starting), where
 * each action leads, and the state after a child's exit.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control/state.h"

static void test_names_round_trip(void **state)
{
    (void)state;
    const char *want[] = {"created", "starting", "running", "paused", "stopping", "stopped", "completed", "failed"};
    for (int i = 0; i < SL_ST_COUNT; i++) {
        sl_state_t s;
        assert_string_equal(sl_state_name((sl_state_t)i), want[i]);
        assert_true(sl_state_parse(want[i], &s));
        assert_int_equal(s, i);
    }
    sl_state_t s;
    assert_false(sl_state_parse("Running", &s));
    assert_false(sl_state_parse(NULL, &s));
}

/* actions[a] lists the states a is allowed from, as the API documents them. */
static void test_allowed(void **state)
{
    (void)state;
    static const struct {
        sl_action_t a;
        const char *from;
    } want[] = {
        {SL_ACT_START, "created, stopped, completed, failed"},
        {SL_ACT_RESUME, "paused"},
        {SL_ACT_PAUSE, "starting, running"},
        {SL_ACT_STOP, "starting, running, paused"},
        {SL_ACT_EDIT, "created, paused, stopped, completed, failed"},
        {SL_ACT_DELETE, "created, paused, stopped, completed, failed"},
        {SL_ACT_UP, "starting"},
        {SL_ACT_RECOVER, "starting, running"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char buf[200];
        assert_string_equal(sl_state_allowed_list(want[i].a, buf, sizeof buf), want[i].from);
        for (int s = 0; s < SL_ST_COUNT; s++)
            assert_int_equal(sl_state_allows((sl_state_t)s, want[i].a),
                             strstr(want[i].from, sl_state_name((sl_state_t)s)) != NULL);
    }
    assert_false(sl_state_allows(SL_ST_COUNT, SL_ACT_START));
}

static void test_next(void **state)
{
    (void)state;
    assert_int_equal(sl_state_next(SL_ST_CREATED, SL_ACT_START), SL_ST_STARTING);
    assert_int_equal(sl_state_next(SL_ST_PAUSED, SL_ACT_RESUME), SL_ST_STARTING);
    assert_int_equal(sl_state_next(SL_ST_STARTING, SL_ACT_PAUSE), SL_ST_STOPPING);
    assert_int_equal(sl_state_next(SL_ST_RUNNING, SL_ACT_STOP), SL_ST_STOPPING);
    assert_int_equal(sl_state_next(SL_ST_STARTING, SL_ACT_UP), SL_ST_RUNNING);
    assert_int_equal(sl_state_next(SL_ST_STOPPED, SL_ACT_EDIT), SL_ST_STOPPED);
    assert_string_equal(sl_action_name(SL_ACT_EDIT), "changing its spec");
}

static void test_after_exit(void **state)
{
    (void)state;
    /* After pause/stop: a clean exit, an interrupted one, or SIGTERM before the child
     * could catch it (a pause in its first milliseconds). */
    int clean[] = {0, 130, 128 + SIGTERM};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sl_state_after_exit(SL_INTENT_PAUSE, clean[i], true), SL_ST_PAUSED);
        assert_int_equal(sl_state_after_exit(SL_INTENT_STOP, clean[i], false), SL_ST_STOPPED);
    }
    assert_int_equal(sl_state_after_exit(SL_INTENT_PAUSE, 1, false), SL_ST_FAILED);
    assert_int_equal(sl_state_after_exit(SL_INTENT_NONE, 0, true), SL_ST_COMPLETED);
    assert_int_equal(sl_state_after_exit(SL_INTENT_NONE, 0, false), SL_ST_STOPPED);
    assert_int_equal(sl_state_after_exit(SL_INTENT_NONE, 128 + SIGTERM, false), SL_ST_FAILED);
    assert_int_equal(sl_state_after_exit(SL_INTENT_NONE, 130, false), SL_ST_FAILED);
    assert_int_equal(sl_state_after_exit(SL_INTENT_NONE, -1, true), SL_ST_FAILED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_next),
        cmocka_unit_test(test_after_exit),
    };
    return cmocka_run_group_tests_name("control_state", tests, NULL, NULL);
}
