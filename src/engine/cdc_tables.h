/*
 * cdc_tables.h: the table set of a change stream (cdc_tables.c), for the orchestrator
 * (engine/cdc.c). Not a public interface. Thread: the orchestrator's.
 */
#ifndef SL_ENGINE_CDC_TABLES_H
#define SL_ENGINE_CDC_TABLES_H

#include <jansson.h>

#include "engine/mapping.h"
#include "engine/spec.h"
#include "model/schema.h"
#include "source/cdc.h"
#include "target/target.h"

struct sl_cdc_run;

/* Describes tables names[0..nn) at the source (names NULL: every table it lists) into
 * *out (caller frees with sl_cdc_tables_free). */
int sl_cdc_tables_describe(const sl_spec_t *spec, const char *const *names, int nn, sl_table_t ***out, int *n,
                           sl_err_t *err);
void sl_cdc_tables_free(sl_table_t **t, int n);
/* The maps of the described tables t[0..n) (copied; t stays the caller's), before the
 * source or the target is touched: entries[i] maps t[i] (entries or entries[i] NULL: the
 * spec's entry for it, or the identity mapping, as sl_map_build). What a change stream
 * cannot map is refused with its hint (a view, a filter the source cannot decide without
 * whole old rows, a key column left out), and so is a second table writing a target
 * table of the stream (cd->maps) or of t. The new maps are linked among themselves
 * (sl_map_link); *out[0..n) are the caller's. */
int sl_cdc_tables_map(const struct sl_cdc_run *cd, sl_table_t *const *t, const sl_table_spec_t *const *entries, int n,
                      sl_map_t ***out, sl_err_t *err);
/* Gets the target table of m ready for its copy: created when missing; one that holds
 * rows is refused unless may_empty or the options allow emptying it (the copy empties
 * it). */
int sl_cdc_tables_target(const sl_spec_t *spec, sl_target_t *tgt, const sl_map_t *m, bool may_empty,
                         sl_err_t *err);
/* Between sessions: makes the stream's tables those req["tables"] names (entries as in
 * source.tables: an object entry maps a table that joins), dropping the target tables of
 * removed ones req["drop"] names; *answer: {"ok", "added", "removed"}. */
int sl_cdc_tables_change(struct sl_cdc_run *cd, sl_cdc_t *c, const json_t *req, json_t **answer, sl_err_t *err);
/* At a run's start: the stream's tables the spec still names must be mapped as they
 * were (else SL_E_CONFLICT with a hint); then the spec's table list against the
 * stream's; the target tables of removed ones that drop (the "cdc_drop" checkpoint:
 * names) lists are dropped. */
int sl_cdc_tables_reconcile(struct sl_cdc_run *cd, sl_cdc_t *c, const json_t *drop, sl_err_t *err);
/* At a session's start: the resyncs the target's "cdc_resync" asks for ({label: id}). */
int sl_cdc_tables_resyncs(struct sl_cdc_run *cd, const json_t *asked, sl_err_t *err);

#endif
