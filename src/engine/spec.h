/*
 * spec.h: the stream spec (docs/spec.md), parsed and validated.
 *
 * One declarative property table (sl_spec_option_table, core/opt.h) drives parsing,
 * validation and defaults of "options", and everything that describes them
 * (engine/options.c). Unknown fields are errors that name the field, because a
 * misspelled option silently ignored is a load done wrong.
 */
#ifndef SL_ENGINE_SPEC_H
#define SL_ENGINE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/err.h"
#include "core/opt.h"

typedef enum { SL_MODE_LOAD, SL_MODE_CDC } sl_mode_t;
typedef enum { SL_SCHEMA_CREATE_MISSING, SL_SCHEMA_RECREATE, SL_SCHEMA_NONE } sl_schema_policy_t;
typedef enum { SL_WRITE_INSERT, SL_WRITE_UPSERT, SL_WRITE_TRUNCATE_INSERT } sl_write_mode_t;
typedef enum { SL_ORDER_TRANSACTION, SL_ORDER_KEY } sl_ordering_t;
typedef enum { SL_TABLE_ERRORS_STOP_STREAM, SL_TABLE_ERRORS_STOP_TABLE } sl_table_errors_t;

typedef struct sl_options {
    bool initial_load;
    int writers;        /* parallel writer lanes (0 = auto, see sl_spec_writers) */
    int readers;        /* parallel reader connections (0 = as many as writers) */
    int batch_rows;
    int batch_bytes;    /* bound of one batch on the bus */
    int chunk_rows;     /* target rows per key-range stripe */
    sl_schema_policy_t schema;
    sl_write_mode_t write_mode;
    sl_ordering_t ordering;
    sl_table_errors_t table_errors; /* cdc: a table the target refuses stops the stream, or itself */
} sl_options_t;

typedef struct sl_spec {
    char *name;
    sl_mode_t mode;
    char *source_url;   /* with the password merged in when given separately */
    char **tables;      /* as written; NULL/empty or "*" means every table */
    int ntables;
    char *target_url;
    bool source_password, target_password; /* the password came in a "password" field */
    sl_options_t opt;
} sl_spec_t;

int sl_spec_parse(const char *json_text, sl_spec_t **out, sl_err_t *err);
/* A refused login's hint (SL_URL_HINT_PASSWORD) names where the spec gave the password:
 * "source".password or "target".password when it came apart from the URL (the side read
 * from the message's "source: " or "target: "). */
void sl_spec_password_hint(const sl_spec_t *spec, sl_err_t *err);
/* path "-" reads the spec from stdin. */
int sl_spec_load_file(const char *path, sl_spec_t **out, sl_err_t *err);
void sl_spec_free(sl_spec_t *spec);
/* The writer lanes to run: options.writers, or when 0 one per two CPU cores (1..4): on
 * a small machine a second writer into the same table costs more than it brings. */
int sl_spec_writers(const sl_spec_t *spec);
/* True when the spec asks for every table. */
bool sl_spec_all_tables(const sl_spec_t *spec);
/* The property table of "options": one row per field of sl_options_t. */
extern const sl_opt_table_t sl_spec_option_table;

#endif
