/*
 * cdc_tables.h: the table set of a change stream (cdc_tables.c), for the orchestrator
 * (engine/cdc.c). Not a public interface. Thread: the orchestrator's.
 */
#ifndef SL_ENGINE_CDC_TABLES_H
#define SL_ENGINE_CDC_TABLES_H

#include <jansson.h>

#include "engine/spec.h"
#include "model/schema.h"
#include "source/cdc.h"
#include "target/target.h"

struct cdc;

/* Describes tables names[0..nn) at the source (names NULL: every table it lists) into
 * *out (caller frees with sl_cdc_tables_free). */
int sl_cdc_tables_describe(const sl_spec_t *spec, const char *const *names, int nn, sl_table_t ***out, int *n,
                           sl_err_t *err);
void sl_cdc_tables_free(sl_table_t **t, int n);
/* Refuses tables a change stream cannot carry to this target (PostgreSQL sends no
 * generated columns). */
int sl_cdc_tables_refused(const sl_spec_t *spec, sl_table_t *const *tables, int n, sl_err_t *err);
/* Gets t's target table ready for its copy: created when missing; one that holds rows is
 * refused unless may_empty or the options allow emptying it (the copy empties it). */
int sl_cdc_tables_target(const sl_spec_t *spec, sl_target_t *tgt, const sl_table_t *t, bool may_empty,
                         sl_err_t *err);
/* Between sessions: makes the stream's tables those req["tables"] names, dropping the
 * target tables of removed ones req["drop"] names; *answer: {"ok", "added", "removed"}. */
int sl_cdc_tables_change(struct cdc *cd, sl_cdc_t *c, const json_t *req, json_t **answer, sl_err_t *err);
/* At a run's start: the spec's table list against the stream's; the target tables of
 * removed ones that drop (the "cdc_drop" checkpoint: names) lists are dropped. */
int sl_cdc_tables_reconcile(struct cdc *cd, sl_cdc_t *c, const json_t *drop, sl_err_t *err);
/* At a session's start: the resyncs the target's "cdc_resync" asks for ({label: id}). */
int sl_cdc_tables_resyncs(struct cdc *cd, const json_t *asked, sl_err_t *err);

#endif
