/*
 * check.h: `sluice check SPEC.json [--scan]` (docs/mapping.md "sluice check"): what a
 * stream would do, found without writing anything anywhere. Per table: the target DDL
 * after the mapping, every mapping decision and warning, every column whose values may
 * not fit the target, and whether the job would be refused (and why). With scan, every
 * row the mapping keeps is read from the source and each value the target would refuse
 * is listed with the cast that would carry it.
 *
 * The report is JSON, the same for the CLI (which prints it as text, sl_check_print)
 * and for the API (POST /api/v1/check returns it as it is):
 *
 *   {"stream": "shop", "mode": "load"|"cdc", "source": "pg"|"mysql"|"file",
 *    "target": "pg"|"mysql"|"file", "scan": bool, "would_run": bool,
 *    "errors": [ERROR, ...],                 what refuses the stream as a whole
 *    "tables": [{
 *      "source": "public.customers",          the source table
 *      "target": "crm.clients",               the target table ("schema.name" or "name")
 *      "view": bool,                          a view, copied as a table (loads only)
 *      "where": "region = 'EU'" | null,       the filter
 *      "target_state": "absent"|"empty"|"has rows"|"started"|null,  what the target
 *                                             has now ("started": the stream has
 *                                             checkpoints there and resumes)
 *      "ddl": "CREATE TABLE ..." | null,      what would create it (database targets)
 *      "columns": [{"source": "email", "target": "email_address", "type": "text",
 *                   "cast": "varchar(200)"|null, "key": bool, "generated": bool}],
 *      "notes": [{"column": "ssn"|null, "warning": bool, "text": "left out"}],
 *      "risks": [{"column": "score", "reason": "...", "cast": "varchar(64)"|null}],
 *      "scanned_rows": n | null,              rows read by --scan (after the filter)
 *      "refused_rows": n | null,              rows with a value the target refuses
 *      "refused": [{"column", "key": [..]|null, "value", "reason", "cast"|null}],
 *                                             the first SL_CHECK_SAMPLES of them
 *      "casts": {"score": "varchar(64)"},     per column, a cast that carries every
 *                                             refused value found (for the entry's "cast")
 *      "error": ERROR | null                  what refuses this table
 *    }]}
 *   ERROR = {"message": "...", "detail": "..."|absent, "hint": "..."|absent}
 *
 * "would_run" is false when "errors" or a table's "error" is set, or --scan found a
 * value that would be refused (with options.on_error "fail"; under "reject" such rows
 * are rejected and the job runs).
 */
#ifndef SL_ENGINE_CHECK_H
#define SL_ENGINE_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "core/err.h"
#include "engine/spec.h"

#define SL_CHECK_SAMPLES 20 /* refused values listed per table */

/* Checks spec; *report is the caller's (a new reference). Returns 0 when the job would
 * run, 1 when something would be refused (the report says what), -1 with err when the
 * check itself failed (out of memory, a bug). Servers that cannot be reached are
 * reported, not returned. */
int sl_check_run(const sl_spec_t *spec, bool scan, json_t **report, sl_err_t *err);

/* Prints the report as text to out (the CLI's form). */
void sl_check_print(const json_t *report, FILE *out);

#endif
