/*
 * names.c: unique names of connections and streams, atomically, also across servers that
 * share one NATS (docs/server.md "Data dir"): the KV bucket SLUICE_NAMES holds one key per
 * name ("c.<name>" or "s.<name>", '.' in names written "=2e"), whose value
 * {"id", "at"} says which record owns it. A name is claimed with a KV create (it fails
 * when the key exists) or, for a key freed or left stale, a compare-and-set update on its
 * revision; it is released with a compare-and-set to {"id": null}. So of two creates of
 * one name, on one server or two, exactly one gets the key.
 *
 * A key whose record is gone (a server died between claiming and storing the record) is
 * stale once it is older than STALE_S and may then be claimed again.
 *
 * Thread: any; every step is one KV operation, the KV store is thread-safe.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control/ctl.h"
#include "core/log.h"

#define STALE_S 60
#define ATTEMPTS 5

static const char *what(sl_bucket_t b) { return b == SL_BUCKET_CONNECTIONS ? "connection" : "stream"; }

/* The KV key of name (1–63 of [A-Za-z0-9_.-], route.h): KV keys cannot hold ".." or end
 * in '.', so dots are escaped. */
static void key_of(sl_bucket_t b, const char *name, char *key, size_t size)
{
    size_t n = (size_t)snprintf(key, size, "%c.", b == SL_BUCKET_CONNECTIONS ? 'c' : 's');
    for (const char *p = name; *p && n + 4 < size; p++)
        n += (size_t)(*p == '.' ? snprintf(key + n, size - n, "=2e") : snprintf(key + n, size - n, "%c", *p));
    key[n] = '\0';
}

static json_t *claim_value(const char *id)
{
    return json_pack("{s:s?, s:I}", "id", id, "at", (json_int_t)time(NULL));
}

static int taken(sl_api_err_t *e, sl_bucket_t b, const char *name, const char *owner)
{
    sl_api_err_set(e, 409, "name_taken", "a %s named \"%s\" exists", what(b), name);
    snprintf(e->hint, sizeof e->hint, "choose another name, or change the existing one (%s)",
             owner ? owner : "being created");
    return -1;
}

/* Whether the claim cur (of key name) still stands: its record exists and has that name,
 * or it is too young to tell (the record may be on its way). */
static bool claim_stands(sl_ctl_t *ctl, sl_bucket_t b, const char *name, const json_t *cur)
{
    const char *owner = json_string_value(json_object_get(cur, "id"));
    if (!owner)
        return false;
    json_t *rec;
    sl_err_t err = {0};
    if (sl_kv_get(ctl->store, b, owner, &rec, NULL, &err) == 0) {
        bool same = !strcmp(json_string_value(json_object_get(rec, "name")), name);
        json_decref(rec);
        if (same)
            return true;
    } else if (err.code != SL_E_NOT_FOUND) {
        return true; /* cannot tell: keep it */
    }
    json_int_t at = json_integer_value(json_object_get(cur, "at"));
    return (json_int_t)time(NULL) - at < STALE_S;
}

int sl_ctl_name_claim(sl_ctl_t *ctl, sl_bucket_t b, const char *name, const char *id, sl_api_err_t *e)
{
    char key[256];
    key_of(b, name, key, sizeof key);
    json_t *mine = claim_value(id);
    int rc = -1;
    for (int attempt = 0; attempt < ATTEMPTS && rc < 0; attempt++) {
        sl_err_t err = {0};
        if (sl_kv_create(ctl->store, SL_BUCKET_NAMES, key, mine, &err) == 0) {
            rc = 0;
            break;
        }
        if (err.code != SL_E_CONFLICT) {
            sl_ctl_err(e, 500, "internal", &err);
            break;
        }
        json_t *cur;
        uint64_t rev;
        if (sl_kv_get(ctl->store, SL_BUCKET_NAMES, key, &cur, &rev, &err)) {
            if (err.code == SL_E_NOT_FOUND)
                continue; /* released meanwhile: create again */
            sl_ctl_err(e, 500, "internal", &err);
            break;
        }
        const char *owner = json_string_value(json_object_get(cur, "id"));
        if (owner && !strcmp(owner, id)) {
            rc = 0;
        } else if (claim_stands(ctl, b, name, cur)) {
            taken(e, b, name, owner);
            json_decref(cur);
            break;
        } else if (sl_kv_update(ctl->store, SL_BUCKET_NAMES, key, mine, &rev, &err) == 0) {
            rc = 0;
        } else if (err.code != SL_E_CONFLICT) {
            sl_ctl_err(e, 500, "internal", &err);
            json_decref(cur);
            break;
        }
        json_decref(cur);
    }
    if (rc && !e->status)
        taken(e, b, name, NULL);
    json_decref(mine);
    return rc;
}

void sl_ctl_name_release(sl_ctl_t *ctl, sl_bucket_t b, const char *name, const char *id)
{
    char key[256];
    key_of(b, name, key, sizeof key);
    json_t *cur;
    uint64_t rev;
    sl_err_t err = {0};
    if (sl_kv_get(ctl->store, SL_BUCKET_NAMES, key, &cur, &rev, &err))
        return;
    const char *owner = json_string_value(json_object_get(cur, "id"));
    if (owner && !strcmp(owner, id)) {
        json_t *none = claim_value(NULL);
        if (sl_kv_update(ctl->store, SL_BUCKET_NAMES, key, none, &rev, &err) && err.code != SL_E_CONFLICT)
            sl_warn("could not release the %s name \"%s\": %s", what(b), name, err.message);
        json_decref(none);
    }
    json_decref(cur);
}

int sl_ctl_name_lookup(sl_ctl_t *ctl, sl_bucket_t b, const char *name, char *id, size_t size)
{
    char key[256];
    key_of(b, name, key, sizeof key);
    json_t *cur;
    sl_err_t err = {0};
    if (sl_kv_get(ctl->store, SL_BUCKET_NAMES, key, &cur, NULL, &err))
        return -1;
    const char *owner = json_string_value(json_object_get(cur, "id"));
    if (owner)
        snprintf(id, size, "%s", owner);
    json_decref(cur);
    return owner ? 0 : -1;
}

int sl_ctl_rename(sl_ctl_t *ctl, sl_bucket_t b, const json_t *old, const json_t *rec, uint64_t *rev,
                  sl_api_err_t *e)
{
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *was = json_string_value(json_object_get(old, "name"));
    const char *name = json_string_value(json_object_get(rec, "name"));
    bool renamed = strcmp(was, name) != 0;
    if (sl_ctl_name_claim(ctl, b, name, id, e))
        return -1;
    sl_err_t err = {0};
    if (sl_kv_update(ctl->store, b, id, rec, rev, &err)) {
        if (renamed)
            sl_ctl_name_release(ctl, b, name, id);
        return sl_ctl_err(e, err.code == SL_E_CONFLICT ? 409 : 500,
                          err.code == SL_E_CONFLICT ? "invalid_state" : "internal", &err);
    }
    if (renamed)
        sl_ctl_name_release(ctl, b, was, id);
    return 0;
}

void sl_ctl_names_rebuild(sl_ctl_t *ctl)
{
    for (sl_bucket_t b = SL_BUCKET_CONNECTIONS; b <= SL_BUCKET_STREAMS; b++) {
        json_t *all, *r;
        sl_err_t err = {0};
        size_t i;
        if (sl_kv_list(ctl->store, b, &all, &err)) {
            sl_warn("could not list the %ss to index their names: %s", what(b), err.message);
            continue;
        }
        json_array_foreach(all, i, r)
        {
            sl_api_err_t e = {0};
            const char *name = json_string_value(json_object_get(r, "name"));
            const char *id = json_string_value(json_object_get(r, "id"));
            if (name && id && sl_ctl_name_claim(ctl, b, name, id, &e))
                sl_warn("%s %s: %s; it is reachable by its id only (rename it)", what(b), id, e.message);
        }
        json_decref(all);
    }
}
