/*
 * opt.h: property tables. One constant row per option or URL parameter says everything
 * about it: name, type, default, bounds or choices, where it applies (modes, source or
 * target, a condition such as format=csv) and one line of doc. The parser that owns a
 * table reads its rows (unknown names, bounds, choices and the hints that list them),
 * and everything that describes options is generated from the same rows (engine/
 * options.c): `sluice options`, the option tables in docs/, GET /api/v1/options, the
 * OpenAPI schema of a spec's "options", and through that API the web UI's form checks.
 * So the parser, the docs and the UI cannot drift apart.
 *
 * Tables are constant data; the helpers are pure. Ownership: nothing is allocated.
 */
#ifndef SL_CORE_OPT_H
#define SL_CORE_OPT_H

#include <stddef.h>
#include <stdint.h>

typedef enum sl_opt_type {
    SL_OPT_BOOL,   /* true or false (in a URL also 1/0, on/off) */
    SL_OPT_INT,    /* an integer in [min, max] */
    SL_OPT_BYTES,  /* a byte count in [min, max]; in a URL it may end in K, M or G */
    SL_OPT_ENUM,   /* one of choices */
    SL_OPT_CHAR,   /* one character ("tab" for a tab) */
    SL_OPT_STRING, /* free text: a name, a path, a URL */
    SL_OPT_MAP,    /* an object of texts ({"time": "interval"}) */
} sl_opt_type_t;

/* Modes (bit set): where an option matters, or which modes accept a choice. */
#define SL_OPT_LOAD 1u
#define SL_OPT_CDC 2u
#define SL_OPT_MODES (SL_OPT_LOAD | SL_OPT_CDC)
/* Roles of a URL parameter (bit set): on a source URL, a target URL or both. */
#define SL_OPT_SOURCE 1u
#define SL_OPT_TARGET 2u

/* No upper bound (INT, BYTES). */
#define SL_OPT_NO_MAX INT64_MAX

#define SL_OPT_NCHOICES 7

typedef struct sl_opt_choice {
    const char *name;
    unsigned modes;   /* the modes that accept it; 0: listed but refused (not built yet) */
    const char *when; /* NULL, or the condition it needs ("format=parquet") */
} sl_opt_choice_t;

typedef struct sl_opt {
    const char *name;
    sl_opt_type_t type;
    int64_t min, max;                         /* INT, BYTES */
    sl_opt_choice_t choices[SL_OPT_NCHOICES]; /* ENUM: in the parser's enum order, NULL-ended */
    const char *dflt;     /* the default as it is written ("100000", "true", "128M"); NULL:
                           * none, or one that depends on something else (dflt_doc) */
    const char *dflt_doc; /* the default in words when dflt is NULL ("us-east-1 unless …") */
    unsigned modes;       /* SL_OPT_LOAD | SL_OPT_CDC: the modes it matters in */
    unsigned roles;       /* URL parameters: SL_OPT_SOURCE | SL_OPT_TARGET; 0 for spec options */
    const char *when;     /* NULL, or the condition it needs ("format=csv") */
    const char *doc;      /* one line, for docs, the API and the UI */
} sl_opt_t;

typedef struct sl_opt_table {
    const char *name;     /* "spec", "postgres", "mysql", "file", "s3" */
    const char *title;    /* a heading: "Stream options", "PostgreSQL URL parameters" */
    const char *schemes[4]; /* the URL schemes whose parameters these are; none: the
                             * spec's "options" object */
    const sl_opt_t *rows;
    int n;
} sl_opt_table_t;

/* The row called name, NULL when none. */
const sl_opt_t *sl_opt_find(const sl_opt_table_t *t, const char *name);
/* The index of value among an ENUM row's choices, -1 when it is none of them. */
int sl_opt_choice(const sl_opt_t *o, const char *value);
/* "a, b, c": the choices accepted in one of modes (SL_OPT_MODES: by any mode), into buf. */
const char *sl_opt_choices_text(const sl_opt_t *o, unsigned modes, char *buf, size_t size);
/* "a, b, c": the row names of t, into buf. */
const char *sl_opt_names_text(const sl_opt_table_t *t, char *buf, size_t size);
/* "bool", "int", "bytes", "enum", "char", "string". */
const char *sl_opt_type_name(sl_opt_type_t type);
/* "load", "cdc": the name of one mode bit. */
const char *sl_opt_mode_name(unsigned mode);

#endif
