/*
 * cdc_tables.c: the table set of a change stream (docs/cdc.md "Adding, removing and
 * resyncing tables"): which tables a stream has, and changing that while it runs.
 *
 *   - at a run's start: the spec's list of tables against the stream's (checkpoint
 *     "cdc_tables"): tables the spec gained are added, tables it lost are removed; a
 *     spec of every table ("*") keeps the tables its first run found;
 *   - while it runs: requests (cdc_ctl.c). A resync starts a new generation of the
 *     table's copy at once; a change of the table set drains the lanes and ends the
 *     session, is applied between two sessions (the tables of a session never change
 *     under its lanes), and the next session streams with the new set.
 *
 * Adding a table: it is described at the source, mapped as the first run maps its tables
 * (engine/mapping.h: its entry in the request or the spec, else the identity mapping, with
 * options.cast) and checked (replicable; what a change stream cannot map is refused), the
 * target table of its mapping is created if missing (a target table that holds rows is refused unless
 * options.write_mode is truncate_insert, options.schema is recreate, or the table was
 * the stream's before: its copy empties it), the source is told to send it
 * (PostgreSQL: ALTER PUBLICATION … ADD TABLE), and a copy generation is recorded before
 * the table joins "cdc_tables" (so a crash in between adds it again). Its copy runs
 * beside the stream (cdc_copy.c).
 *
 * Removing a table: after the drain, "cdc_tables" loses it (its changes are no longer
 * read), the source stops sending it, and its target table is kept or dropped.
 *
 * Thread: the orchestrator's (which is the reader's).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/cdc_copy_int.h"
#include "engine/cdc_ctl.h"
#include "engine/cdc_tables.h"

/* ---- describing ----------------------------------------------------------------------- */

void sl_cdc_tables_free(sl_table_t **t, int n)
{
    for (int i = 0; t && i < n; i++)
        sl_table_free(t[i]);
    free(t);
}

int sl_cdc_tables_describe(const sl_spec_t *spec, const char *const *names, int nn, sl_table_t ***out, int *n,
                           sl_err_t *err)
{
    sl_source_t *src = NULL;
    char **listed = NULL;
    int nlisted = 0, rc = -1;
    *out = NULL;
    *n = 0;
    if (sl_source_open(spec->source_url, &src, err))
        goto out;
    if (!names) {
        if (src->ops->list_tables(src, &listed, &nlisted, err))
            goto out;
        names = (const char *const *)listed;
        nn = nlisted;
    }
    *out = calloc((size_t)nn + 1, sizeof **out);
    if (!*out)
        sl_oom();
    for (int i = 0; i < nn; i++) {
        if (src->ops->describe(src, names[i], &(*out)[i], err))
            goto out;
        (*n)++;
    }
    rc = 0;
out:
    if (rc)
        sl_err_prefix(err, "source: ");
    for (int i = 0; i < nlisted; i++)
        free(listed[i]);
    free(listed);
    sl_source_close(src);
    return rc;
}

int sl_cdc_tables_map(const sl_cdc_run_t *cd, sl_table_t *const *t, const sl_table_spec_t *const *entries, int n,
                      sl_map_t ***out, sl_err_t *err)
{
    const sl_spec_t *spec = cd->spec;
    sl_map_env_t env;
    *out = NULL;
    if (sl_map_env(spec, &env, err))
        return -1;
    sl_map_t **maps = calloc((size_t)n + 1, sizeof *maps);
    if (!maps)
        sl_oom();
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        json_t *rules = entries && entries[i] ? sl_map_entry_rules(spec, entries[i]) : sl_map_rules(spec, t[i]);
        rc = sl_map_make(rules, t[i], &env, &maps[i], err);
        json_decref(rules);
        if (!rc && maps[i]->filter)
            rc = sl_filter_check_old_row(maps[i]->filter, t[i]->old_full, err);
        for (int j = 0; !rc && j < i + cd->ntables; j++)
            if (sl_map_same_target(maps[i], j < i ? maps[j] : cd->maps[j - i])) {
                rc = sl_err_set(err, SL_E_CONFIG, "two source tables would both write target table \"%s\"",
                                maps[i]->tgt->name);
                sl_err_hint(err, "give one of them another \"target\" in source.tables (docs/mapping.md)");
            }
    }
    if (rc) {
        for (int i = 0; i < n; i++)
            sl_map_free(maps[i]);
        free(maps);
        return -1;
    }
    sl_map_link(maps, n);
    *out = maps;
    return 0;
}

int sl_cdc_tables_target(const sl_spec_t *spec, sl_target_t *tgt, const sl_map_t *m, bool may_empty,
                         sl_err_t *err)
{
    bool exists = false, has_rows = false;
    const sl_table_t *t = m->tgt;
    const char *label = m->label;
    if (tgt->ops->table_state(tgt, t, &exists, &has_rows, err))
        goto fail;
    const sl_options_t *o = &spec->opt;
    if (!exists && o->schema == SL_SCHEMA_NONE) {
        sl_err_set(err, SL_E_SCHEMA, "target table \"%s\" does not exist", t->name);
        sl_err_hint(err, "create it, or set options.schema to \"create_missing\"");
        goto fail;
    }
    if (exists && has_rows && o->initial_load && !may_empty && o->schema != SL_SCHEMA_RECREATE &&
        o->write_mode != SL_WRITE_TRUNCATE_INSERT) {
        sl_err_set(err, SL_E_CONFLICT, "target table \"%s\" already holds rows", t->name);
        sl_err_detail(err, "the copy of table \"%s\" empties its target table first", label);
        sl_err_hint(err, "empty or drop the target table, or set options.write_mode to \"truncate_insert\" or "
                         "options.schema to \"recreate\"");
        goto fail;
    }
    if (!exists || o->schema == SL_SCHEMA_RECREATE) {
        sl_info("creating target table \"%s\"%s", t->name, exists ? " (dropped first)" : "");
        if (tgt->ops->create_table(tgt, t, exists, err))
            goto fail;
    }
    return 0;
fail:
    sl_err_prefix(err, "target: ");
    return -1;
}

/* ---- the table set ------------------------------------------------------------------ */

/* Whether spec entry `name` ("name" or "schema.name") names t. */
static bool names_table(const char *name, const sl_table_t *t)
{
    char label[300];
    return !strcmp(name, t->name) || !strcmp(name, sl_table_label(t, label, sizeof label));
}

static int find(sl_cdc_run_t *cd, const char *name)
{
    for (int i = 0; i < cd->ntables; i++)
        if (names_table(name, cd->tables[i]))
            return i;
    return -1;
}

static void note_removed(sl_cdc_run_t *cd, const char *label)
{
    int n = 0;
    while (cd->removed && cd->removed[n])
        n++;
    const char **r = realloc((void *)cd->removed, sizeof *r * (size_t)(n + 2));
    if (!r)
        sl_oom();
    r[n] = sl_strdup(label);
    r[n + 1] = NULL;
    cd->removed = r;
}

/* A table that joins again is no longer shown as removed. */
static void unnote_removed(sl_cdc_run_t *cd, const char *label)
{
    int n = 0;
    while (cd->removed && cd->removed[n])
        n++;
    for (int i = 0; i < n; i++)
        if (!strcmp(cd->removed[i], label)) {
            free((char *)cd->removed[i]);
            memmove((void *)&cd->removed[i], &cd->removed[i + 1], sizeof *cd->removed * (size_t)(n - i));
            return;
        }
}

/* Adds the described tables add[0..nadd) to the stream, each mapped by its entry
 * entries[i] (NULL: by the stream's spec). */
static int add_tables(sl_cdc_run_t *cd, sl_cdc_t *c, sl_table_t **add, const sl_table_spec_t *const *entries, int nadd,
                      sl_err_t *err)
{
    sl_map_t **maps = NULL;
    int rc = -1;
    if (sl_cdc_tables_map(cd, add, entries, nadd, &maps, err) || c->ops->check(c, add, nadd, err) ||
        sl_cdc_admin(cd, err) || cd->admin->ops->ckpt_setup(cd->admin, err))
        goto out;
    for (int i = 0; i < nadd; i++) {
        sl_cdc_gen_t g;
        if (sl_cdc_gen_get(cd->gens, maps[i]->label, &g)) {
            sl_err_set(err, SL_E_PROTOCOL, "checkpoint \"cdc_copy\" of stream \"%s\" is not valid", cd->spec->name);
            goto out;
        }
        /* a table the stream had before may be emptied: it holds the stream's rows */
        if (sl_cdc_tables_target(cd->spec, cd->admin, maps[i], g.gen > 0, err))
            goto out;
        if (cd->spec->opt.initial_load) {
            g.gen = (g.gen > g.done ? g.gen : g.done) + 1;
            sl_cdc_gen_set(cd->gens, maps[i]->label, &g);
        }
    }
    if (c->ops->publish(c, add, nadd, NULL, 0, err) || sl_cdc_copy_store_gens(cd, err))
        goto out;
    sl_map_t **mv = realloc(cd->maps, sizeof *mv * (size_t)(cd->ntables + nadd + 1));
    sl_table_t **tv = mv ? realloc(cd->tables, sizeof *tv * (size_t)(cd->ntables + nadd + 1)) : NULL;
    if (!mv || !tv)
        sl_oom();
    cd->maps = mv;
    cd->tables = tv;
    for (int i = 0; i < nadd; i++) {
        sl_info("table \"%s\" joins the stream%s", maps[i]->label,
                cd->spec->opt.initial_load ? "; it is copied beside the stream" : "");
        unnote_removed(cd, maps[i]->label);
        tv[cd->ntables] = maps[i]->src;
        mv[cd->ntables++] = maps[i];
        maps[i] = NULL;
    }
    rc = sl_cdc_store_tables(cd, cd->admin, err);
out:
    for (int i = 0; maps && i < nadd; i++)
        sl_map_free(maps[i]);
    free(maps);
    return rc;
}

/* Removes table ti from the stream (the lanes are drained), dropping its target table
 * when drop. */
static int remove_table(sl_cdc_run_t *cd, sl_cdc_t *c, int ti, bool drop, sl_err_t *err)
{
    sl_map_t *m = cd->maps[ti];
    sl_table_t *t = cd->tables[ti];
    size_t after = (size_t)(cd->ntables - ti - 1);
    memmove(&cd->maps[ti], &cd->maps[ti + 1], sizeof *cd->maps * after);
    memmove(&cd->tables[ti], &cd->tables[ti + 1], sizeof *cd->tables * after);
    cd->ntables--;
    int rc = sl_cdc_admin(cd, err) || sl_cdc_store_tables(cd, cd->admin, err) ? -1 : 0;
    if (rc) {
        memmove(&cd->maps[ti + 1], &cd->maps[ti], sizeof *cd->maps * after);
        memmove(&cd->tables[ti + 1], &cd->tables[ti], sizeof *cd->tables * after);
        cd->maps[ti] = m;
        cd->tables[ti] = t;
        cd->ntables++;
        return -1;
    }
    sl_info("table \"%s\" left the stream; its target table is %s", m->label, drop ? "dropped" : "kept");
    note_removed(cd, m->label);
    sl_err_t e2 = {0};
    if (c->ops->publish(c, cd->tables, cd->ntables, &t, 1, &e2))
        sl_warn("table \"%s\": the source still sends its changes (they are ignored): %s", m->label, e2.message);
    if (drop && cd->admin->ops->drop_table(cd->admin, m->tgt, err)) {
        sl_err_prefix(err, "target: ");
        rc = -1;
    }
    sl_map_free(m);
    return rc;
}

/* The table an entry of source.tables names (a name, or an object's "name"). */
static const char *entry_name(const json_t *e)
{
    return json_is_string(e) ? json_string_value(e) : json_string_value(json_object_get(e, "name"));
}

static bool entry_names(const json_t *e, const sl_table_t *t)
{
    const char *n = entry_name(e);
    return n && names_table(n, t);
}

/* Adds the tables of entries want[] that the stream has not, each mapped by its entry. */
static int join(sl_cdc_run_t *cd, sl_cdc_t *c, const json_t *want, json_t *added, sl_err_t *err)
{
    size_t cap = json_array_size(want) + 1;
    const char **names = calloc(cap, sizeof *names);
    sl_table_spec_t *ents = calloc(cap, sizeof *ents);
    const sl_table_spec_t **entp = calloc(cap, sizeof *entp);
    if (!names || !ents || !entp)
        sl_oom();
    int nn = 0, rc = 0;
    size_t k;
    json_t *e;
    json_array_foreach(want, k, e)
    {
        const char *n = entry_name(e);
        if (!n || find(cd, n) >= 0)
            continue;
        /* an object entry maps its table (it came with the request, after the stream's spec) */
        if (json_is_object(e)) {
            if ((rc = sl_table_spec_parse(e, k, &ents[nn], err)))
                break;
            entp[nn] = &ents[nn];
        }
        names[nn++] = n;
    }
    sl_table_t **add = NULL;
    int nadd = 0;
    if (!rc && nn)
        rc = sl_cdc_tables_describe(cd->spec, names, nn, &add, &nadd, err);
    for (int i = 0; i < nadd && !rc; i++) {
        char label[300];
        json_array_append_new(added, json_string(sl_table_label(add[i], label, sizeof label)));
    }
    if (!rc && nadd)
        rc = add_tables(cd, c, add, entp, nadd, err);
    sl_cdc_tables_free(add, nadd);
    for (int i = 0; i < nn; i++)
        sl_table_spec_clear(&ents[i]);
    free(ents);
    free(entp);
    free(names);
    return rc;
}

int sl_cdc_tables_change(sl_cdc_run_t *cd, sl_cdc_t *c, const json_t *req, json_t **answer, sl_err_t *err)
{
    const json_t *want = json_object_get(req, "tables"), *drop = json_object_get(req, "drop");
    json_t *added = json_array(), *removed = json_array();
    *answer = NULL;
    int rc = -1;
    if (!json_is_array(want)) {
        sl_err_set(err, SL_E_CONFIG, "a table set change without its tables");
        goto out;
    }
    /* what leaves: tables no entry of the list names */
    for (int i = 0; i < cd->ntables;) {
        bool named = false, dropped = false;
        size_t k;
        json_t *e;
        json_array_foreach(want, k, e) named = named || entry_names(e, cd->tables[i]);
        if (named) {
            i++;
            continue;
        }
        json_array_foreach(drop, k, e) dropped = dropped || entry_names(e, cd->tables[i]);
        json_array_append_new(removed, json_string(cd->maps[i]->label));
        if (remove_table(cd, c, i, dropped, err))
            goto out;
    }
    /* what joins: entries that name no table of the stream */
    rc = join(cd, c, want, added, err);
out:
    if (rc == 0)
        *answer = json_pack("{s:b, s:O, s:O}", "ok", 1, "added", added, "removed", removed);
    json_decref(added);
    json_decref(removed);
    return rc;
}

int sl_cdc_tables_reconcile(sl_cdc_run_t *cd, sl_cdc_t *c, const json_t *drop, sl_err_t *err)
{
    const sl_spec_t *spec = cd->spec;
    bool all = sl_spec_all_tables(spec);
    /* a table the spec keeps is mapped as it was: a rerun never mixes two mappings */
    for (int i = 0; i < cd->ntables; i++) {
        bool kept = all;
        for (int j = 0; j < spec->ntables && !kept; j++)
            kept = names_table(spec->tables[j], cd->tables[i]);
        if (kept && sl_map_same_rules(cd->maps[i], spec, "change stream", err))
            return -1;
    }
    if (all)
        return 0;
    json_t *want = json_array();
    for (int i = 0; i < spec->ntables; i++)
        json_array_append_new(want, json_string(spec->tables[i]));
    json_t *req = json_pack("{s:o, s:O}", "tables", want, "drop", drop ? drop : json_null()), *answer = NULL;
    int rc = sl_cdc_tables_change(cd, c, req, &answer, err);
    json_decref(req);
    json_decref(answer);
    if (rc == 0 && json_array_size(drop)) { /* done: the next run drops nothing */
        sl_ckpt_t ck = {.position = "[]", .done = true};
        if (sl_cdc_admin(cd, err) || cd->admin->ops->ckpt_put(cd->admin, spec->name, "cdc_drop", &ck, err))
            return -1;
    }
    return rc;
}

/* ---- while it runs -------------------------------------------------------------------- */

/* A resync of the tables a request (or "cdc_resync") names, each under request id rid,
 * unless that request was applied already. */
static int resync(sl_cdc_run_t *cd, const char *name, const char *rid, sl_err_t *err)
{
    sl_copy_t *cp = cd->copy;
    int ti = find(cd, name);
    if (ti < 0 || !cp || ti >= cp->n) {
        sl_err_set(err, SL_E_NOT_FOUND, "stream \"%s\" has no table \"%s\"", cd->spec->name, name);
        sl_err_hint(err, "add it first: POST /api/v1/streams/%s/tables", cd->spec->name);
        return -1;
    }
    copy_table_t *T = &cp->t[ti];
    if (rid && rid[0] && !strcmp(T->gen.rid, rid))
        return 0;
    sl_info("table \"%s\": resync asked; it is emptied and copied again while the other tables stream", T->label);
    return sl_cdc_copy_new_gen(cd, ti, rid, err);
}

int sl_cdc_tables_resyncs(sl_cdc_run_t *cd, const json_t *asked, sl_err_t *err)
{
    const char *label;
    json_t *rid;
    json_object_foreach((json_t *)asked, label, rid)
    {
        if (find(cd, label) < 0)
            continue; /* a table removed since */
        if (resync(cd, label, json_string_value(rid), err))
            return -1;
    }
    return 0;
}

bool sl_cdc_tables_pending(sl_cdc_run_t *cd) { return !cd->retable && sl_cdc_ctl_waiting(cd); }

int sl_cdc_tables_apply(sl_cdc_run_t *cd, sl_err_t *err)
{
    json_t *req = sl_cdc_ctl_next(cd);
    if (!req)
        return 0;
    const char *op = json_string_value(json_object_get(req, "op"));
    if (!strcmp(op, "tables")) {
        /* between two sessions: what the lanes were sent is committed first */
        if (!sl_cdc_drain(cd)) {
            json_decref(req);
            return sl_err_set(err, SL_E_CANCELED, "the session is ending");
        }
        cd->retable = req;
        sl_run_restart(&cd->run, "the stream's tables change");
        return 0;
    }
    sl_err_t e = {0};
    int rc = 0;
    if (!strcmp(op, "resync")) {
        const char *rid = json_string_value(json_object_get(req, "id"));
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(req, "tables"), i, t) if (!rc) rc =
            resync(cd, json_string_value(t) ? json_string_value(t) : "", rid, &e);
    } else {
        rc = sl_err_set(&e, SL_E_CONFIG, "unknown request \"%s\"", op);
    }
    sl_cdc_ctl_reply(cd, req, rc ? sl_cdc_ctl_error(&e) : json_pack("{s:b}", "ok", 1));
    json_decref(req);
    if (rc && e.code != SL_E_NOT_FOUND && e.code != SL_E_CONFIG) {
        *err = e;
        return -1;
    }
    return 0;
}
