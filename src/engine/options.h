/*
 * options.h: the catalogue of every property table (core/opt.h) and what is generated
 * from it: the spec's "options" (engine/spec.c), and the query parameters of source and
 * target URLs: postgres:// and mysql:// (this module), file:// and s3:// (target/file/,
 * target/store/s3_conf.c).
 *
 * From the same rows come `sluice options` (Markdown, or --json), the option tables of
 * docs/spec.md and docs/files.md (between markers that tests/docs/options.sh compares
 * with `sluice options`), GET /api/v1/options, which the web UI validates its forms
 * with, and the OpenAPI schema of a spec's "options".
 *
 * Ownership: tables are constant; json_t results are new references. Pure.
 */
#ifndef SL_ENGINE_OPTIONS_H
#define SL_ENGINE_OPTIONS_H

#include <stdio.h>

#include <jansson.h>

#include "core/opt.h"

/* Every table, in the order the docs and the API list them (*n of them). */
const sl_opt_table_t *const *sl_options_tables(int *n);
/* The table called name ("spec", "postgres", "mysql", "file", "s3"), NULL when none. */
const sl_opt_table_t *sl_options_table(const char *name);
/* The Markdown table of t, as docs/ holds it. */
void sl_options_markdown(const sl_opt_table_t *t, FILE *out);
/* {"options": [row…], "url_parameters": [{"name", "title", "schemes", "parameters":
 * [row…]}…]}: the body of GET /api/v1/options (docs/api.md). */
json_t *sl_options_json(void);
/* The JSON Schema (OpenAPI 3.0) of a spec's "options" object. */
json_t *sl_options_schema(void);

#endif
