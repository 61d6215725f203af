/*
 * mapping.h: what moves from a source table to its target table (docs/mapping.md): the
 * columns kept, their target names and types, the target table's name, and the rows kept
 * (`where`). A spec's table entry and options.cast say it; the mapping is applied once,
 * where tables are described, and its result travels with the table: in the load plan
 * and in a change stream's stored tables (checkpoints "plan" and "cdc_tables"), so that
 * a writer never reads the spec's mapping again and a restarted stream maps the same way.
 *
 * A map holds three tables:
 *   src   the source table as described, every column: change events and the filter
 *         read it;
 *   tgt   the target table, derived from src (model/schema.h sl_table_derive): kept
 *         columns in the source's order, renamed (a column's `source` keeps its source
 *         name), cast (sl_column_t.cast), generated columns of another engine recreated
 *         (target_expr) or left out; this is what the target creates and the writers
 *         write, and the rows and changes on the bus have its columns;
 *   scan  src restricted to tgt's columns, in tgt's order, under their source names:
 *         what a load's SELECT reads, so that its rows are already tgt's rows.
 * and the filter bound to src, and the rules (the spec's entry and options.cast as JSON),
 * which a rerun compares with its spec: a mapping edited under an unfinished load or a
 * running change stream is refused with a hint, never mixed.
 *
 * Ownership: a map owns its tables, filter and rules; sl_map_free(NULL) is a no-op. A
 * built map is immutable: any thread may read it.
 */
#ifndef SL_ENGINE_MAPPING_H
#define SL_ENGINE_MAPPING_H

#include <stdbool.h>

#include <jansson.h>

#include "core/err.h"
#include "engine/spec.h"
#include "filter/filter.h"
#include "model/change.h"
#include "model/schema.h"

struct sl_target_ops;

typedef struct sl_map {
    sl_table_t *src;
    sl_table_t *tgt;
    sl_table_t *scan;
    int *proj;           /* tgt->columns[i] is src->columns[proj[i]] */
    bool identity;       /* tgt has every column of src, in its order */
    sl_filter_t *filter; /* bound to src; NULL: every row */
    json_t *rules;       /* {"name", "target", "columns", "exclude", "rename", "cast",
                            "where", "types"}: what the spec said (absent keys: not said) */
    char *label;         /* the source table in messages ("schema.name" or "name") */
} sl_map_t;

/* A decision or warning made while mapping (`sluice check` lists them; runs log them).
 * column may be NULL. */
typedef void (*sl_map_note_fn)(void *ctx, const char *table, const char *column, bool warning,
                               const char *text);

/* Where maps are made: the stream's mode and target, and who hears the notes. */
typedef struct sl_map_env {
    bool cdc;                          /* a change stream (else a load) */
    const struct sl_target_ops *tops;  /* the target's ops (planning ops) */
    char target_kind[8];               /* "pg", "mysql" or "file" */
    sl_map_note_fn note;               /* NULL: notes are logged */
    void *note_ctx;
} sl_map_env_t;

/* The environment of spec (its mode and target URL). */
int sl_map_env(const sl_spec_t *spec, sl_map_env_t *env, sl_err_t *err);

/* The rules of source table src under spec: its entry (by name) and options.cast. */
json_t *sl_map_rules(const sl_spec_t *spec, const sl_table_t *src);
/* The rules of entry e (NULL: a table named by its name alone) and spec's options.cast. */
json_t *sl_map_entry_rules(const sl_spec_t *spec, const sl_table_spec_t *e);

/* Builds the map of src (borrowed; the map keeps a copy) under rules (borrowed). Errors
 * are SL_E_CONFIG or SL_E_SCHEMA naming the table and the column, with a hint: a column
 * the rules name that src has not, a key column left out, a cast of a generated column,
 * a view in a change stream, a filter that does not bind. */
int sl_map_make(const json_t *rules, const sl_table_t *src, const sl_map_env_t *env, sl_map_t **out,
                sl_err_t *err);
/* sl_map_rules then sl_map_make. */
int sl_map_build(const sl_spec_t *spec, const sl_table_t *src, const sl_map_env_t *env, sl_map_t **out,
                 sl_err_t *err);
void sl_map_free(sl_map_t *m);
/* Whether a and b write the same target table. */
bool sl_map_same_target(const sl_map_t *a, const sl_map_t *b);
/* The maps of one stream together: a target table's foreign key names the table it
 * references by that table's target name and columns (it was its source's); one to a
 * table of maps[] mapped into another PostgreSQL schema, or whose referenced columns are
 * left out, is dropped with a warning. A reference to a table outside maps[] stays. */
void sl_map_link(sl_map_t **maps, int n);

/* The stored form {"source", "target", "rules"} and back. A bare table (what sluice stored
 * before mappings) reads back as the identity map of that table. */
json_t *sl_map_to_json(const sl_map_t *m);
int sl_map_from_json(const json_t *j, sl_map_t **out, sl_err_t *err);

/* 0 when m's stored rules are what spec says now for its table; else -1 with
 * SL_E_CONFLICT naming the table, and a hint: `what` is "load" or "change stream". */
int sl_map_same_rules(const sl_map_t *m, const sl_spec_t *spec, const char *what, sl_err_t *err);

/* Projects one source row (src's columns) onto tgt's columns: out[i] = in[proj[i]]. */
void sl_map_row(const sl_map_t *m, const sl_value_t *in, sl_value_t *out);

/* For a source that cannot filter in its own reads (files): a whole source row (n
 * values of src) through the filter, then projected into out (tgt->ncolumns values).
 * Returns 1 with out filled, 0 when the filter leaves the row out, -1 with err (a value
 * that is not valid canonical text; the message names the table). */
int sl_map_filter_row(const sl_map_t *m, const sl_value_t *in, int n, sl_value_t *out, sl_err_t *err);

/* What change `in` of src becomes on the target, through the filter (an UPDATE may become
 * an INSERT or a DELETE, filter.h sl_filter_route) and the projection. scratch holds 3 *
 * src->ncolumns values (the caller's; *out points into it and into in's values).
 * Returns 1 with *out to write, 0 when nothing is written, -1 with err (the filter needs
 * what the change does not carry, or a value is not valid canonical text). */
int sl_map_change(const sl_map_t *m, const sl_change_t *in, sl_value_t *scratch, sl_change_t *out,
                  sl_err_t *err);

#endif
