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
typedef enum { SL_PLACE_LOCAL, SL_PLACE_WORKERS, SL_PLACE_ANY } sl_placement_t;
typedef enum { SL_ON_ERROR_FAIL, SL_ON_ERROR_REJECT } sl_on_error_t;

/* An object of strings ({"a": "b", ...}), in the order written. */
typedef struct sl_strmap {
    char **keys;
    char **vals;
    int n;
} sl_strmap_t;

/* The value of key in m, NULL when none. */
const char *sl_strmap_get(const sl_strmap_t *m, const char *key);

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
    sl_placement_t placement; /* where lanes and read stripes run (docs/cluster.md) */
    sl_on_error_t on_error;
    sl_strmap_t cast;   /* source type name -> target SQL type, for every table */
} sl_options_t;

/* One entry of source.tables (docs/mapping.md): a plain name, or an object that shapes
 * what moves. Everything but name is optional (NULL / 0: not given). */
typedef struct sl_table_spec {
    char *name;         /* the source table, "name" or "schema.name" */
    char *target;       /* the target table, "name" or "schema.name" */
    char **columns;     /* keep only these source columns (NULL: every column) */
    int ncolumns;
    char **exclude;     /* leave these source columns out */
    int nexclude;
    sl_strmap_t rename; /* source column -> target column */
    sl_strmap_t cast;   /* source column -> target SQL type */
    char *where;        /* row filter (src/filter/filter.h), checked for syntax */
} sl_table_spec_t;

typedef struct sl_spec {
    char *name;
    sl_mode_t mode;
    char *source_url;   /* with the password merged in when given separately */
    char **tables;      /* the names, as written; NULL/empty or "*" means every table */
    sl_table_spec_t *entries; /* entries[i] is tables[i] with its mapping */
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
/* The entry of source table `name` ("name" or "schema.name"; for a PostgreSQL table
 * both forms match, given its schema), NULL when the spec has none. */
const sl_table_spec_t *sl_spec_entry(const sl_spec_t *spec, const char *schema, const char *name);
/* One entry of source.tables (a name or an object; i: its index, for messages), read and
 * checked as sl_spec_parse reads the spec's: a table added to a running change stream is
 * mapped by the entry its request carries (engine/cdc_tables.c). On failure *out holds
 * nothing; else free it with sl_table_spec_clear. */
int sl_table_spec_parse(const json_t *e, size_t i, sl_table_spec_t *out, sl_err_t *err);
void sl_table_spec_clear(sl_table_spec_t *e);
/* True when the entry shapes anything (more than a name). */
bool sl_table_spec_maps(const sl_table_spec_t *e);
/* The property table of "options": one row per field of sl_options_t. */
extern const sl_opt_table_t sl_spec_option_table;

#endif
