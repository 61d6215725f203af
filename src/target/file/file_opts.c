/*
 * file_opts.c: the file target's URL parameters (format, compression, rotation,
 * CSV options, date partitioning, spool directory) in one property table (core/opt.h)
 * that drives parsing, the error for an unknown parameter, and what describes them
 * (`sluice options`, docs/files.md, GET /api/v1/options). Parameters not in the table
 * are left for the store (s3: endpoint, region, …), which refuses those it does not
 * know either.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/opt.h"
#include "core/mem.h"
#include "target/file/file_int.h"

/* The rows of the table below, in order. */
typedef enum { P_FORMAT, P_COMPRESSION, P_LEVEL, P_ROWS, P_BYTES, P_SECONDS, P_DELIM, P_QUOTE, P_NULL,
               P_HEADER, P_DECNUM, P_RG, P_PAGE, P_DICT, P_PARTITION, P_SPOOL, P_CHANGECOLS } param_id_t;

#define T SL_OPT_TARGET
#define ALL SL_OPT_MODES
static const sl_opt_t rows[] = {
    [P_FORMAT] = {.name = "format", .type = SL_OPT_ENUM, .dflt = "parquet", .modes = ALL, .roles = T,
                  .choices = {{"csv", ALL}, {"jsonl", ALL}, {"parquet", ALL}},
                  .doc = "the file format (docs/formats.md)"},
    [P_COMPRESSION] = {.name = "compression", .type = SL_OPT_ENUM, .dflt = "none", .modes = ALL, .roles = T,
                       .choices = {{"none", ALL}, {"gzip", ALL}, {"zstd", ALL}, {"snappy", ALL, "format=parquet"}},
                       .doc = "CSV and JSONL: the whole file (names end .csv.gz, .jsonl.zst); Parquet: the page codec"},
    [P_LEVEL] = {.name = "level", .type = SL_OPT_INT, .min = 0, .max = SL_OPT_NO_MAX, .dflt_doc = "the codec's",
                 .modes = ALL, .roles = T, .doc = "compression level"},
    [P_ROWS] = {.name = "rotate_rows", .type = SL_OPT_INT, .min = 0, .max = SL_OPT_NO_MAX, .dflt = "0",
                .modes = ALL, .roles = T, .doc = "start a new file after this many rows (0: no limit)"},
    [P_BYTES] = {.name = "rotate_bytes", .type = SL_OPT_BYTES, .min = 0, .max = SL_OPT_NO_MAX, .dflt = "128M",
                 .modes = ALL, .roles = T,
                 .doc = "start a new file after about this many encoded bytes (0: no limit)"},
    [P_SECONDS] = {.name = "rotate_seconds", .type = SL_OPT_INT, .min = 0, .max = SL_OPT_NO_MAX,
                   .dflt_doc = "`60` for change files, `0` for a load", .modes = ALL, .roles = T,
                   .doc = "start a new file when the open one is this many seconds old (0: no limit); change "
                          "files become durable, and the source position is confirmed, when they rotate"},
    [P_DELIM] = {.name = "delimiter", .type = SL_OPT_CHAR, .dflt = ",", .modes = ALL, .roles = T,
                 .when = "format=csv", .doc = "the field delimiter"},
    [P_QUOTE] = {.name = "quote", .type = SL_OPT_CHAR, .dflt = "\"", .modes = ALL, .roles = T,
                 .when = "format=csv", .doc = "the quote character"},
    [P_NULL] = {.name = "null", .type = SL_OPT_STRING, .dflt_doc = "empty", .modes = ALL, .roles = T,
                .when = "format=csv",
                .doc = "the NULL marker (by default NULL is an empty field and the empty string is \"\")"},
    [P_HEADER] = {.name = "header", .type = SL_OPT_BOOL, .dflt = "true", .modes = ALL, .roles = T,
                  .when = "format=csv", .doc = "a header row with the column names"},
    [P_DECNUM] = {.name = "decimal_as_number", .type = SL_OPT_BOOL, .dflt = "false", .modes = ALL, .roles = T,
                  .when = "format=jsonl", .doc = "decimals as JSON numbers instead of strings"},
    [P_RG] = {.name = "row_group_bytes", .type = SL_OPT_BYTES, .min = 1, .max = SL_OPT_NO_MAX, .dflt = "64M",
              .modes = ALL, .roles = T, .when = "format=parquet",
              .doc = "uncompressed bytes per row group (what an open Parquet file holds in memory)"},
    [P_PAGE] = {.name = "page_bytes", .type = SL_OPT_BYTES, .min = 1, .max = SL_OPT_NO_MAX, .dflt = "1M",
                .modes = ALL, .roles = T, .when = "format=parquet", .doc = "uncompressed bytes per data page"},
    [P_DICT] = {.name = "dictionary", .type = SL_OPT_BOOL, .dflt = "true", .modes = ALL, .roles = T,
                .when = "format=parquet", .doc = "dictionary-encode columns where it pays"},
    [P_PARTITION] = {.name = "partition_by", .type = SL_OPT_STRING, .dflt_doc = "none", .modes = ALL, .roles = T,
                     .doc = "a date, timestamp or timestamptz column: files go to `<table>/dt=YYYY-MM-DD/`; "
                            "tables without that column are not partitioned"},
    [P_SPOOL] = {.name = "spool_dir", .type = SL_OPT_STRING,
                 .dflt_doc = "`<dir>/_sluice/.spool` for file://, `<data dir>/spool` for s3://",
                 .modes = ALL, .roles = T,
                 .doc = "an absolute directory where files are encoded before they are stored; it must be yours "
                        "and not writable by group or others"},
    [P_CHANGECOLS] = {.name = "change_columns", .type = SL_OPT_BOOL,
                      .dflt_doc = "`true` in a cdc stream, `false` in a load", .modes = ALL, .roles = T,
                      .doc = "initial-load files carry the change files' leading columns (`_op` = `read`, …), "
                             "so a table's snapshot and change files have the same columns"},
};
#undef T
#undef ALL

const sl_opt_table_t sl_file_url_params = {.name = "file",
                                           .title = "File target URL parameters: file:// and s3://",
                                           .schemes = {"file", "s3"},
                                           .rows = rows,
                                           .n = (int)(sizeof rows / sizeof rows[0])};

static int bad(sl_err_t *err, const char *k, const char *v, const char *want)
{
    sl_err_set(err, SL_E_CONFIG, "invalid value \"%s\" for target URL parameter \"%s\"", v, k);
    sl_err_hint(err, "%s", want);
    return -1;
}

static int parse_int(const char *k, const char *v, int64_t min, int64_t *out, sl_err_t *err)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    int64_t mult = 1;
    if (end != v && *end) {
        if (!strcmp(end, "k") || !strcmp(end, "K") || !strcmp(end, "KiB"))
            mult = 1024;
        else if (!strcmp(end, "M") || !strcmp(end, "MiB"))
            mult = 1024 * 1024;
        else if (!strcmp(end, "G") || !strcmp(end, "GiB"))
            mult = 1024LL * 1024 * 1024;
        else
            mult = 0;
    }
    if (errno || end == v || mult == 0 || n < min || n > INT64_MAX / mult)
        return bad(err, k, v, min > 0 ? "give a positive integer (bytes may end in K, M or G)"
                                      : "give an integer >= 0 (bytes may end in K, M or G)");
    *out = (int64_t)n * mult;
    return 0;
}

static int parse_bool(const char *k, const char *v, bool *out, sl_err_t *err)
{
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
        *out = false;
    else
        return bad(err, k, v, "give true or false");
    return 0;
}

static int parse_char(const char *k, const char *v, char *out, sl_err_t *err)
{
    if (!strcmp(v, "tab") || !strcmp(v, "\t"))
        *out = '\t';
    else if (strlen(v) == 1 && v[0] != '\n' && v[0] != '\r')
        *out = v[0];
    else
        return bad(err, k, v, "give one character (or \"tab\")");
    return 0;
}

static int set_one(fopts_t *o, param_id_t id, const char *k, const char *v, sl_err_t *err)
{
    int64_t n;
    switch (id) {
    case P_FORMAT:
        if (!(o->fmt = sl_fmt_lookup(v)))
            return bad(err, k, v, "formats are csv, jsonl and parquet");
        return 0;
    case P_COMPRESSION: {
        int c = sl_codec_from_name(v);
        if (c < 0)
            return bad(err, k, v, "compressions are none, gzip, zstd (and snappy for parquet)");
        o->fo.codec = (sl_codec_t)c;
        return 0;
    }
    case P_LEVEL:
        if (parse_int(k, v, rows[id].min, &n, err))
            return -1;
        o->fo.level = (int)n;
        return 0;
    case P_ROWS:
        return parse_int(k, v, rows[id].min, &o->rotate_rows, err);
    case P_BYTES:
        return parse_int(k, v, rows[id].min, &o->rotate_bytes, err);
    case P_SECONDS:
        return parse_int(k, v, rows[id].min, &o->rotate_seconds, err);
    case P_DELIM:
        return parse_char(k, v, &o->fo.delimiter, err);
    case P_QUOTE:
        return parse_char(k, v, &o->fo.quote, err);
    case P_NULL:
        o->fo.null_marker = v; /* borrowed from the URL, which the target keeps */
        return 0;
    case P_HEADER:
        return parse_bool(k, v, &o->fo.header, err);
    case P_DECNUM:
        return parse_bool(k, v, &o->fo.decimal_as_number, err);
    case P_RG:
        return parse_int(k, v, rows[id].min, &o->fo.row_group_bytes, err);
    case P_PAGE:
        return parse_int(k, v, rows[id].min, &o->fo.page_bytes, err);
    case P_DICT:
        return parse_bool(k, v, &o->fo.dictionary, err);
    case P_PARTITION:
        free(o->partition_by);
        o->partition_by = sl_strdup(v);
        return 0;
    case P_CHANGECOLS:
        return parse_bool(k, v, &o->change_columns, err);
    case P_SPOOL:
        if (v[0] != '/')
            return bad(err, k, v, "give an absolute directory");
        free(o->spool_dir);
        o->spool_dir = sl_strdup(v);
        o->spool_given = true;
        return 0;
    }
    return 0;
}

int sl_file_opts_parse(const sl_url_t *url, fopts_t *o, sl_url_t *rest, sl_err_t *err)
{
    memset(o, 0, sizeof *o);
    sl_fmt_opts_default(&o->fo);
    o->rotate_bytes = 128LL * 1024 * 1024;
    o->rotate_seconds = -1; /* by the kind of file: sl_file_rotate_seconds */
    *rest = *url;
    rest->params = calloc((size_t)url->nparams + 1, sizeof *rest->params);
    rest->nparams = 0;
    if (!rest->params)
        sl_oom();
    for (int i = 0; i < url->nparams; i++) {
        const char *k = url->params[i].key, *v = url->params[i].value ? url->params[i].value : "";
        const sl_opt_t *p = sl_opt_find(&sl_file_url_params, k);
        if (!p) {
            rest->params[rest->nparams++] = url->params[i];
            continue;
        }
        if (set_one(o, (param_id_t)(p - rows), k, v, err))
            goto fail;
    }
    if (!o->fmt && !(o->fmt = sl_fmt_lookup("parquet"))) {
        sl_err_set(err, SL_E_INTERNAL, "the parquet format is not built in");
        goto fail;
    }
    if (o->fo.codec == SL_CODEC_SNAPPY && strcmp(o->fmt->name, "parquet")) {
        sl_err_set(err, SL_E_CONFIG, "compression \"snappy\" is for parquet only");
        sl_err_hint(err, "use compression=gzip or compression=zstd with %s", o->fmt->name);
        goto fail;
    }
    if (o->fo.delimiter == o->fo.quote) {
        sl_err_set(err, SL_E_CONFIG, "the CSV delimiter and quote are the same character");
        goto fail;
    }
    if (!o->spool_dir)
        o->spool_dir = sl_file_spool_default(url);
    return 0;
fail:
    free(rest->params);
    rest->params = NULL;
    sl_file_opts_free(o);
    return -1;
}

int64_t sl_file_rotate_seconds(const fopts_t *o, bool changes)
{
    return o->rotate_seconds >= 0 ? o->rotate_seconds : changes ? 60 : 0;
}

void sl_file_opts_free(fopts_t *o)
{
    free(o->partition_by);
    free(o->spool_dir);
    o->partition_by = o->spool_dir = NULL;
}

int sl_file_check_table_name(const char *name, sl_err_t *err)
{
    size_t n = strlen(name);
    const char *why = NULL;
    if (n == 0)
        why = "it is empty";
    else if (n > 200)
        why = "it is longer than 200 bytes";
    else if (name[0] == '.')
        why = "it starts with a dot";
    else if (!strcmp(name, "_sluice"))
        why = "_sluice holds sluice's own state";
    else
        for (const char *p = name; *p && !why; p++)
            if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
                why = "it contains a slash, a backslash or a control character";
    /* The store's own key rule, so that no name passes here and fails there, after an
     * intent record was written. */
    if (!why && !sl_store_key_ok(name))
        why = "it contains \"..\", which no object key may";
    if (!why)
        return 0;
    sl_err_set(err, SL_E_CONFIG, "table name \"%s\" cannot be a directory of a file target", name);
    sl_err_detail(err, "%s", why);
    sl_err_hint(err, "leave the table out of the stream, or rename it in the source");
    return -1;
}
