/*
 * state.c: the stream lifecycle table (see state.h).
 */
#include "control/state.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define BIT(s) (1u << (s))

static const char *const names[SL_ST_COUNT] = {
    [SL_ST_CREATED] = "created",   [SL_ST_STARTING] = "starting", [SL_ST_RUNNING] = "running",
    [SL_ST_PAUSED] = "paused",     [SL_ST_STOPPING] = "stopping", [SL_ST_STOPPED] = "stopped",
    [SL_ST_COMPLETED] = "completed", [SL_ST_FAILED] = "failed",
};

/* The one transition table: for each action, the states it is allowed from and the
 * state it leads to (SL_ST_COUNT: the state stays). */
static const struct {
    const char *name;
    unsigned from;
    sl_state_t to;
} table[SL_ACT_COUNT] = {
    [SL_ACT_START] = {"start",
                      BIT(SL_ST_CREATED) | BIT(SL_ST_STOPPED) | BIT(SL_ST_COMPLETED) | BIT(SL_ST_FAILED),
                      SL_ST_STARTING},
    [SL_ACT_RESUME] = {"resume", BIT(SL_ST_PAUSED), SL_ST_STARTING},
    /* A child that is starting already moves rows: pause and stop must reach it. */
    [SL_ACT_PAUSE] = {"pause", BIT(SL_ST_STARTING) | BIT(SL_ST_RUNNING), SL_ST_STOPPING},
    [SL_ACT_STOP] = {"stop", BIT(SL_ST_STARTING) | BIT(SL_ST_RUNNING) | BIT(SL_ST_PAUSED), SL_ST_STOPPING},
    /* The states without a process: start, or resume of a paused stream, runs the new spec. */
    [SL_ACT_EDIT] = {"changing its spec",
                     BIT(SL_ST_CREATED) | BIT(SL_ST_PAUSED) | BIT(SL_ST_STOPPED) | BIT(SL_ST_COMPLETED) |
                         BIT(SL_ST_FAILED),
                     SL_ST_COUNT},
    [SL_ACT_DELETE] = {"delete",
                       BIT(SL_ST_CREATED) | BIT(SL_ST_PAUSED) | BIT(SL_ST_STOPPED) | BIT(SL_ST_COMPLETED) |
                           BIT(SL_ST_FAILED),
                       SL_ST_COUNT},
    [SL_ACT_UP] = {"up", BIT(SL_ST_STARTING), SL_ST_RUNNING},
    [SL_ACT_RECOVER] = {"start", BIT(SL_ST_STARTING) | BIT(SL_ST_RUNNING), SL_ST_STARTING},
};

const char *sl_state_name(sl_state_t s) { return s < SL_ST_COUNT ? names[s] : "unknown"; }

bool sl_state_parse(const char *name, sl_state_t *out)
{
    for (int i = 0; name && i < SL_ST_COUNT; i++)
        if (!strcmp(name, names[i])) {
            *out = (sl_state_t)i;
            return true;
        }
    return false;
}

const char *sl_action_name(sl_action_t a) { return table[a].name; }

bool sl_state_allows(sl_state_t s, sl_action_t a) { return s < SL_ST_COUNT && (table[a].from & BIT(s)); }

sl_state_t sl_state_next(sl_state_t s, sl_action_t a) { return table[a].to == SL_ST_COUNT ? s : table[a].to; }

const char *sl_state_allowed_list(sl_action_t a, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < SL_ST_COUNT && n < size; i++)
        if (table[a].from & BIT(i))
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", names[i]);
    return buf;
}

sl_state_t sl_state_after_exit(sl_intent_t intent, int code, bool load)
{
    bool clean = code == 0 || code == 130 || code == 128 + SIGTERM;
    if (intent == SL_INTENT_PAUSE && clean)
        return SL_ST_PAUSED;
    if (intent == SL_INTENT_STOP && clean)
        return SL_ST_STOPPED;
    if (code == 0)
        return load ? SL_ST_COMPLETED : SL_ST_STOPPED;
    return SL_ST_FAILED;
}
