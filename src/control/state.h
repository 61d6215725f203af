/*
 * state.h: the stream lifecycle (docs/server.md "Streams: processes and lifecycle") as one
 * table: the states, the actions of the API and of the runner, which states each action
 * is allowed from and which state it leads to.
 *
 *   created → starting → running ⇄ paused → stopping → stopped | completed | failed
 *
 * The names are the API's and the KV record's "state" strings; they never change. Pure
 * and constant; unit-tested in tests/unit/control/test_control_state.c.
 */
#ifndef SL_CONTROL_STATE_H
#define SL_CONTROL_STATE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum sl_state {
    SL_ST_CREATED,
    SL_ST_STARTING,
    SL_ST_RUNNING,
    SL_ST_PAUSED,
    SL_ST_STOPPING,
    SL_ST_STOPPED,
    SL_ST_COMPLETED,
    SL_ST_FAILED,
    SL_ST_COUNT
} sl_state_t;

typedef enum sl_action {
    SL_ACT_START,   /* API: spawn the child → starting */
    SL_ACT_RESUME,  /* API: spawn it again after a pause → starting */
    SL_ACT_PAUSE,   /* API: SIGTERM the child → stopping, then paused */
    SL_ACT_STOP,    /* API: as pause, then stopped (directly from paused) */
    SL_ACT_EDIT,    /* API: PUT a new spec; the state stays */
    SL_ACT_DELETE,  /* API: remove the stream */
    SL_ACT_UP,      /* runner: the child has been alive for a second → running */
    SL_ACT_RECOVER, /* server start: a stream this server ran starts again */
    SL_ACT_COUNT
} sl_action_t;

/* The API name of a state ("created", …). */
const char *sl_state_name(sl_state_t s);
/* The state named name; false when it is none (a damaged or newer record). */
bool sl_state_parse(const char *name, sl_state_t *out);
/* The API word of an action ("start", "pause", "changing its spec", …). */
const char *sl_action_name(sl_action_t a);
/* Whether action a is allowed in state s. */
bool sl_state_allows(sl_state_t s, sl_action_t a);
/* The state a leads to at once (starting for start, stopping for pause…), or s itself
 * when a leaves the state as it is (edit, delete). */
sl_state_t sl_state_next(sl_state_t s, sl_action_t a);
/* The states a is allowed from, as "created, stopped, completed, failed", into buf. */
const char *sl_state_allowed_list(sl_action_t a, char *buf, size_t size);

/* How a stream's child ended, and the state that follows: after a pause or stop (intent)
 * a clean exit (0, 130, or killed by SIGTERM before it could handle it) gives paused or
 * stopped; otherwise 0 is completed for a load and stopped for CDC, anything else
 * failed. */
typedef enum { SL_INTENT_NONE, SL_INTENT_PAUSE, SL_INTENT_STOP } sl_intent_t;
sl_state_t sl_state_after_exit(sl_intent_t intent, int code, bool load);

#endif
