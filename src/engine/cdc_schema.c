/*
 * cdc_schema.c: the tables of a change stream: their descriptions stored on the
 * target (checkpoint "cdc_tables") and read back by a rerun, and schema changes the
 * source announces in its stream (a RELATION event: the table's columns as the source
 * now sends them).
 *
 * A schema change is applied when it is ADD COLUMN or DROP COLUMN: the table is
 * described again at the source, the new description is derived from the old one
 * (model/schema.h: kept columns as they were, added ones as the source describes them,
 * generated ones the source does not send), the target is altered, and the description
 * is swapped under cd->schema, then stored. Anything else (a rename, a type change)
 * stops the stream with a hint, before the target is touched: the changes read before
 * it are applied first, so fixing the target and running again loses nothing.
 *
 * Thread: the reader's (the orchestrator's), with every lane drained; takes cd->schema
 * exclusively only to swap a description.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/cdc_int.h"
#include "source/source.h"

#define RESTART_HINT "run `sluice cleanup` then `sluice run --restart` to copy the table again"

/* ---- the stored descriptions ---------------------------------------------------- */

int sl_cdc_store_tables(sl_cdc_run_t *cd, sl_target_t *tgt, sl_err_t *err)
{
    json_t *a = json_array();
    for (int i = 0; i < cd->ntables; i++)
        json_array_append_new(a, sl_map_to_json(cd->maps[i]));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    sl_ckpt_t ck = {.epoch = 0, .seq = 0, .position = text, .done = true};
    int rc = tgt->ops->ckpt_put(tgt, cd->spec->name, "cdc_tables", &ck, err);
    free(text);
    if (rc)
        sl_err_prefix(err, "target: ");
    return rc;
}

void sl_cdc_set_maps(sl_cdc_run_t *cd, sl_map_t **maps, int n)
{
    cd->maps = maps;
    cd->ntables = n;
    cd->tables = calloc((size_t)n + 1, sizeof *cd->tables);
    if (!cd->tables)
        sl_oom();
    for (int i = 0; i < n; i++)
        cd->tables[i] = maps[i]->src;
}

void sl_cdc_free_maps(sl_cdc_run_t *cd)
{
    for (int i = 0; cd->maps && i < cd->ntables; i++)
        sl_map_free(cd->maps[i]);
    free(cd->maps);
    free(cd->tables);
    cd->maps = NULL;
    cd->tables = NULL;
    cd->ntables = 0;
}

int sl_cdc_tables_from_json(sl_cdc_run_t *cd, const char *text, sl_err_t *err)
{
    json_error_t je;
    json_t *a = json_loads(text, 0, &je);
    if (!json_is_array(a)) {
        json_decref(a);
        return sl_err_set(err, SL_E_PROTOCOL, "checkpoint \"cdc_tables\" of stream \"%s\" is not valid",
                          cd->spec->name);
    }
    int n = (int)json_array_size(a);
    sl_map_t **maps = calloc((size_t)n + 1, sizeof *maps);
    if (!maps)
        sl_oom();
    for (int i = 0; i < n; i++)
        if (sl_map_from_json(json_array_get(a, (size_t)i), &maps[i], err)) {
            for (int j = 0; j < i; j++)
                sl_map_free(maps[j]);
            free(maps);
            json_decref(a);
            return -1;
        }
    json_decref(a);
    sl_cdc_set_maps(cd, maps, n);
    return 0;
}

/* ---- schema changes ------------------------------------------------------------- */

static bool in_list(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static const char *native(const sl_column_t *c) { return c->native ? c->native : ""; }

/* Refuses what sluice does not apply: columns added and dropped at once (a rename
 * looks like that), and kept columns whose type changed. */
static int check_change(const sl_table_t *old, const sl_table_t *fresh, const char *const *relcols, int nrel,
                        const char *label, sl_err_t *err)
{
    int added = 0, dropped = 0;
    for (int i = 0; i < nrel; i++)
        if (sl_table_find_col(old, relcols[i]) < 0)
            added++;
    for (int i = 0; i < old->ncolumns; i++)
        if (!old->columns[i].generated && !in_list(relcols, nrel, old->columns[i].name))
            dropped++;
    if (added && dropped) {
        sl_err_set(err, SL_E_SCHEMA, "columns of replicated table \"%s\" were renamed, or added and dropped at once",
                   label);
        sl_err_detail(err, "sluice applies ADD COLUMN and DROP COLUMN, one kind at a time; a rename would lose the column's data");
        sl_err_hint(err, "make the same change on the target table, then run `sluice cleanup` and `sluice run --restart` "
                         "to copy the table again");
        return -1;
    }
    for (int i = 0; i < nrel; i++) {
        int o = sl_table_find_col(old, relcols[i]), f = sl_table_find_col(fresh, relcols[i]);
        if (o >= 0 && f >= 0 && (old->columns[o].type != fresh->columns[f].type ||
                                 strcmp(native(&old->columns[o]), native(&fresh->columns[f])))) {
            sl_err_set(err, SL_E_SCHEMA, "column \"%s\" of replicated table \"%s\" changed type from %s to %s",
                       relcols[i], label, old->columns[o].native ? old->columns[o].native : "?",
                       fresh->columns[f].native ? fresh->columns[f].native : "?");
            sl_err_detail(err, "sluice applies ADD COLUMN and DROP COLUMN only");
            sl_err_hint(err, "change the target column the same way and run `sluice cleanup` then `sluice run "
                             "--restart` to copy again");
            return -1;
        }
    }
    return 0;
}

/* The next description of old: the relation's columns in its order (kept ones as they
 * were, added ones as the source describes them in fresh), then the generated columns
 * the source does not send. When the key of a kept column changed (a column of the
 * primary key was dropped: PostgreSQL drops the key with it, MariaDB keeps the other
 * columns in it), the key is the one the source has now: the old positions would leave
 * a hole in the key, and the source identifies rows by its own key. */
static int next_table(const sl_table_t *old, const sl_table_t *fresh, const char *const *relcols, int nrel,
                      const char *label, sl_table_t **next, sl_err_t *err)
{
    sl_col_edit_t *cols = calloc((size_t)(nrel + old->ncolumns) + 1, sizeof *cols);
    if (!cols)
        sl_oom();
    int n = 0, rc = -1;
    bool key_moved = false;
    for (int i = 0; i < nrel; i++) {
        int o = sl_table_find_col(old, relcols[i]);
        int f = sl_table_find_col(fresh, relcols[i]);
        if (o < 0 && f < 0) {
            sl_err_set(err, SL_E_SCHEMA, "column \"%s\" was added to replicated table \"%s\" and is gone again",
                       relcols[i], label);
            sl_err_hint(err, RESTART_HINT);
            goto out;
        }
        cols[n++].from = o >= 0 ? &old->columns[o] : &fresh->columns[f];
        key_moved |= o >= 0 && old->columns[o].pk_pos != (f >= 0 ? fresh->columns[f].pk_pos : 0);
    }
    for (int i = 0; i < old->ncolumns; i++)
        if (old->columns[i].generated && !in_list(relcols, nrel, old->columns[i].name))
            cols[n++].from = &old->columns[i];
    for (int i = 0; key_moved && i < n; i++)
        cols[i].flags = SL_COL_NO_KEY;
    if (sl_table_derive(old, cols, n, 0, next, err)) {
        sl_err_hint(err, RESTART_HINT);
        goto out;
    }
    for (int i = 0; key_moved && i < n; i++) {
        int f = sl_table_find_col(fresh, (*next)->columns[i].name);
        (*next)->columns[i].pk_pos = f >= 0 ? fresh->columns[f].pk_pos : 0;
    }
    if (key_moved)
        sl_info("table \"%s\": its primary key changed at the source; the stream now keys it on %d column%s",
                label, sl_table_pk_count(*next), sl_table_pk_count(*next) == 1 ? "" : "s");
    rc = 0;
out:
    free(cols);
    return rc;
}

/* ADD COLUMN and DROP COLUMN on the target, as its table old becomes next (the target
 * tables of the maps before and after: a column the mapping leaves out is not added). */
static int alter_target(sl_cdc_run_t *cd, const sl_table_t *old, const sl_table_t *next, const char *label, sl_err_t *err)
{
    if (sl_cdc_admin(cd, err))
        return -1;
    for (int i = 0; i < next->ncolumns; i++) {
        const sl_column_t *c = &next->columns[i];
        if (sl_table_find_col(old, c->name) >= 0)
            continue;
        sl_info("table \"%s\": adding column \"%s\" (%s) on the target", label, c->name,
                c->cast ? c->cast : c->native ? c->native : sl_type_name(c->type));
        if (cd->admin->ops->add_column(cd->admin, old, c, err)) {
            sl_err_prefix(err, "target: ");
            return -1;
        }
    }
    for (int i = 0; i < old->ncolumns; i++) {
        if (sl_table_find_col(next, old->columns[i].name) >= 0)
            continue;
        sl_info("table \"%s\": dropping column \"%s\" on the target", label, old->columns[i].name);
        if (cd->admin->ops->drop_column(cd->admin, old, old->columns[i].name, err)) {
            sl_err_prefix(err, "target: ");
            return -1;
        }
    }
    return 0;
}

int sl_cdc_schema_change(sl_cdc_run_t *cd, int ti, const char *const *relcols, int nrel, sl_err_t *err)
{
    const sl_map_t *om = cd->maps[ti];
    const sl_table_t *old = om->src;
    char label[300];
    sl_table_label(old, label, sizeof label);
    sl_source_t *src = NULL;
    sl_table_t *fresh = NULL, *next = NULL;
    sl_map_t *nm = NULL;
    sl_map_env_t env;
    int rc = -1;
    if (sl_source_open(cd->spec->source_url, &src, err) || src->ops->describe(src, label, &fresh, err)) {
        sl_err_prefix(err, "source: ");
        goto out;
    }
    /* the new description, mapped by the rules the stream started with */
    if (check_change(old, fresh, relcols, nrel, label, err) ||
        next_table(old, fresh, relcols, nrel, label, &next, err) || sl_map_env(cd->spec, &env, err))
        goto out;
    next->old_full = fresh->old_full;
    if (sl_map_make(om->rules, next, &env, &nm, err)) {
        sl_err_hint(err, RESTART_HINT);
        goto out;
    }
    if (alter_target(cd, om->tgt, nm->tgt, label, err))
        goto out;
    pthread_rwlock_wrlock(&cd->schema);
    sl_map_t *prev = cd->maps[ti];
    cd->maps[ti] = nm;
    cd->tables[ti] = nm->src;
    pthread_rwlock_unlock(&cd->schema);
    sl_map_free(prev);
    nm = NULL;
    rc = sl_cdc_store_tables(cd, cd->admin, err);
out:
    sl_map_free(nm);
    sl_table_free(next);
    sl_table_free(fresh);
    sl_source_close(src);
    return rc;
}
