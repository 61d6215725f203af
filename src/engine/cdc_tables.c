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
 * Adding a table: it is described at the source and checked as the first run checks
 * (replicable, a non-PostgreSQL target cannot take generated columns), its target table
 * is created if missing (a target table that holds rows is refused unless
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
        abort();
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

int sl_cdc_tables_refused(const sl_spec_t *spec, sl_table_t *const *tables, int n, sl_err_t *err)
{
    bool pg_source = !strncmp(spec->source_url, "postgres", 8);
    bool pg_target = !strncmp(spec->target_url, "postgres", 8);
    if (!pg_source || pg_target)
        return 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < tables[i]->ncolumns; j++)
            if (tables[i]->columns[j].generated) {
                char label[300];
                sl_table_label(tables[i], label, sizeof label);
                sl_err_set(err, SL_E_SCHEMA, "column \"%s\" of table \"%s\" is generated, and PostgreSQL does "
                                             "not send generated columns in its change stream",
                           tables[i]->columns[j].name, label);
                sl_err_detail(err, "a non-PostgreSQL target stores the column as a plain one and would keep stale "
                                   "values");
                sl_err_hint(err, "leave the table out of the stream, or stream into PostgreSQL (which computes "
                                 "the column again)");
                return -1;
            }
    return 0;
}

int sl_cdc_tables_target(const sl_spec_t *spec, sl_target_t *tgt, const sl_table_t *t, bool may_empty,
                         sl_err_t *err)
{
    bool exists = false, has_rows = false;
    char label[300];
    sl_table_label(t, label, sizeof label);
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

static int find(cdc_t *cd, const char *name)
{
    for (int i = 0; i < cd->ntables; i++)
        if (names_table(name, cd->tables[i]))
            return i;
    return -1;
}

static void note_removed(cdc_t *cd, const char *label)
{
    int n = 0;
    while (cd->removed && cd->removed[n])
        n++;
    const char **r = realloc((void *)cd->removed, sizeof *r * (size_t)(n + 2));
    if (!r)
        abort();
    r[n] = sl_strdup(label);
    r[n + 1] = NULL;
    cd->removed = r;
}

/* A table that joins again is no longer shown as removed. */
static void unnote_removed(cdc_t *cd, const char *label)
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

/* Adds the described tables add[0..nadd) (taken) to the stream. */
static int add_tables(cdc_t *cd, sl_cdc_t *c, sl_table_t **add, int nadd, sl_err_t *err)
{
    if (sl_cdc_tables_refused(cd->spec, add, nadd, err) || c->ops->check(c, add, nadd, err) ||
        sl_cdc_admin(cd, err) || cd->admin->ops->ckpt_setup(cd->admin, err))
        return -1;
    for (int i = 0; i < nadd; i++) {
        char label[300];
        sl_cdc_gen_t g;
        sl_table_label(add[i], label, sizeof label);
        if (sl_cdc_gen_get(cd->gens, label, &g))
            return sl_err_set(err, SL_E_PROTOCOL, "checkpoint \"cdc_copy\" of stream \"%s\" is not valid", cd->spec->name);
        /* a table the stream had before may be emptied: it holds the stream's rows */
        if (sl_cdc_tables_target(cd->spec, cd->admin, add[i], g.gen > 0, err))
            return -1;
        if (cd->spec->opt.initial_load) {
            g.gen = (g.gen > g.done ? g.gen : g.done) + 1;
            sl_cdc_gen_set(cd->gens, label, &g);
        }
    }
    if (c->ops->publish(c, add, nadd, NULL, 0, err) || sl_cdc_copy_store_gens(cd, err))
        return -1;
    sl_table_t **tv = realloc(cd->tables, sizeof *tv * (size_t)(cd->ntables + nadd + 1));
    if (!tv)
        abort();
    cd->tables = tv;
    for (int i = 0; i < nadd; i++) {
        char label[300];
        sl_info("table \"%s\" joins the stream%s", sl_table_label(add[i], label, sizeof label),
                cd->spec->opt.initial_load ? "; it is copied beside the stream" : "");
        unnote_removed(cd, label);
        tv[cd->ntables++] = add[i];
        add[i] = NULL;
    }
    return sl_cdc_store_tables(cd, cd->admin, err);
}

/* Removes table ti from the stream (the lanes are drained), dropping its target table
 * when drop. */
static int remove_table(cdc_t *cd, sl_cdc_t *c, int ti, bool drop, sl_err_t *err)
{
    sl_table_t *t = cd->tables[ti];
    char label[300];
    sl_table_label(t, label, sizeof label);
    memmove(&cd->tables[ti], &cd->tables[ti + 1], sizeof *cd->tables * (size_t)(cd->ntables - ti - 1));
    cd->ntables--;
    int rc = sl_cdc_admin(cd, err) || sl_cdc_store_tables(cd, cd->admin, err) ? -1 : 0;
    if (rc) {
        memmove(&cd->tables[ti + 1], &cd->tables[ti], sizeof *cd->tables * (size_t)(cd->ntables - ti));
        cd->tables[ti] = t;
        cd->ntables++;
        return -1;
    }
    sl_info("table \"%s\" left the stream; its target table is %s", label, drop ? "dropped" : "kept");
    note_removed(cd, label);
    sl_err_t e2 = {0};
    if (c->ops->publish(c, cd->tables, cd->ntables, &t, 1, &e2))
        sl_warn("table \"%s\": the source still sends its changes (they are ignored): %s", label, e2.message);
    if (drop && cd->admin->ops->drop_table(cd->admin, t, err)) {
        sl_err_prefix(err, "target: ");
        rc = -1;
    }
    sl_table_free(t);
    return rc;
}

int sl_cdc_tables_change(cdc_t *cd, sl_cdc_t *c, const json_t *req, json_t **answer, sl_err_t *err)
{
    const json_t *want = json_object_get(req, "tables"), *drop = json_object_get(req, "drop");
    json_t *added = json_array(), *removed = json_array();
    *answer = NULL;
    int rc = -1;
    if (!json_is_array(want)) {
        sl_err_set(err, SL_E_CONFIG, "a table set change without its tables");
        goto out;
    }
    /* what leaves: tables the list does not name */
    for (int i = 0; i < cd->ntables;) {
        bool named = false;
        size_t k;
        json_t *e;
        json_array_foreach(want, k, e) named = named || (json_is_string(e) && names_table(json_string_value(e), cd->tables[i]));
        if (named) {
            i++;
            continue;
        }
        char label[300];
        bool dropped = false;
        sl_table_label(cd->tables[i], label, sizeof label);
        json_array_foreach(drop, k, e) dropped = dropped || (json_is_string(e) && names_table(json_string_value(e), cd->tables[i]));
        json_array_append_new(removed, json_string(label));
        if (remove_table(cd, c, i, dropped, err))
            goto out;
    }
    /* what joins: names no table of the stream has */
    const char **names = calloc(json_array_size(want) + 1, sizeof *names);
    if (!names)
        abort();
    int nn = 0;
    size_t k;
    json_t *e;
    json_array_foreach(want, k, e) if (json_is_string(e) && find(cd, json_string_value(e)) < 0) names[nn++] =
        json_string_value(e);
    sl_table_t **add = NULL;
    int nadd = 0;
    rc = nn ? sl_cdc_tables_describe(cd->spec, names, nn, &add, &nadd, err) : 0;
    for (int i = 0; i < nadd && !rc; i++) {
        char label[300];
        json_array_append_new(added, json_string(sl_table_label(add[i], label, sizeof label)));
    }
    if (!rc && nadd)
        rc = add_tables(cd, c, add, nadd, err);
    sl_cdc_tables_free(add, nadd);
    free(names);
out:
    if (rc == 0)
        *answer = json_pack("{s:b, s:O, s:O}", "ok", 1, "added", added, "removed", removed);
    json_decref(added);
    json_decref(removed);
    return rc;
}

int sl_cdc_tables_reconcile(cdc_t *cd, sl_cdc_t *c, const json_t *drop, sl_err_t *err)
{
    const sl_spec_t *spec = cd->spec;
    if (sl_spec_all_tables(spec))
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
static int resync(cdc_t *cd, const char *name, const char *rid, sl_err_t *err)
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

int sl_cdc_tables_resyncs(cdc_t *cd, const json_t *asked, sl_err_t *err)
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

bool sl_cdc_tables_pending(cdc_t *cd) { return !cd->retable && sl_cdc_ctl_waiting(cd); }

int sl_cdc_tables_apply(cdc_t *cd, sl_err_t *err)
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
