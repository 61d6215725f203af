/*
 * plan.h: the load plan: the tables (each a map, engine/mapping.h: the source table as
 * described, the target table the mapping derives from it, what the readers SELECT and
 * the filter) and the stripes (key ranges) each table is cut into.
 *
 * The plan is computed once, when a load starts, and stored as JSON in the target's
 * checkpoint table (key "plan") before any row is written; a rerun loads it from there,
 * so stripe numbers mean the same thing in every run and the target alone records
 * the load's progress. A sl_plan_t owns its tables and strings.
 */
#ifndef SL_ENGINE_PLAN_H
#define SL_ENGINE_PLAN_H

#include <stdbool.h>

#include "core/err.h"
#include "engine/mapping.h"
#include "model/schema.h"
#include "source/source.h"

typedef struct sl_stripe {
    int table;       /* index into plan->tables */
    char *after_key; /* JSON array, exclusive lower bound, NULL = from the start */
    char *upto_key;  /* JSON array, inclusive upper bound, NULL = to the end */
    char *unit;      /* a file source's unit of work (source.h units()), else NULL */
} sl_stripe_t;

typedef struct sl_plan {
    sl_map_t **maps;      /* owned */
    sl_table_t **tables;  /* tables[i] is maps[i]->tgt (borrowed): what writers write */
    int ntables;
    sl_stripe_t *stripes;
    int nstripes;
} sl_plan_t;

void sl_plan_free(sl_plan_t *plan);
/* True when a stripe of t can resume from its last key: t has a primary key of
 * text-representable columns. Otherwise a stripe restarts whole (RESET), unless it is a
 * file unit, which resumes after its first N rows. */
bool sl_plan_keyed(const sl_table_t *t);
/* Takes ownership of m and cuts its table (m->scan) into stripes of about chunk_rows
 * rows: a file source's units (src->units: a file, or row groups of a Parquet file),
 * even key ranges over a single integer primary key (src->key_range), sampled
 * boundaries for any other primary key on tables of at least 2 * chunk_rows estimated
 * rows (src->key_sample), one stripe otherwise. */
int sl_plan_add_map(sl_plan_t *plan, sl_map_t *m, sl_source_t *src, int chunk_rows, sl_err_t *err);
/* JSON round trip. The returned string is malloc'd. A plan stored before mappings
 * (bare tables) reads back with identity maps. */
char *sl_plan_to_json(const sl_plan_t *plan);
int sl_plan_from_json(const char *text, sl_plan_t *plan, sl_err_t *err);

#endif
