/*
 * file_opts.c: the file target's URL parameters (format, compression, rotation,
 * CSV options, date partitioning, spool directory) in one table that drives parsing
 * and the error for an unknown parameter. Parameters not in the table are left for
 * the store (s3: endpoint, region, …), which refuses those it does not know either.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/file/file_int.h"

typedef enum { P_FORMAT, P_COMPRESSION, P_LEVEL, P_ROWS, P_BYTES, P_SECONDS, P_DELIM, P_QUOTE, P_NULL,
               P_HEADER, P_DECNUM, P_RG, P_PAGE, P_DICT, P_PARTITION, P_SPOOL } param_id_t;

static const struct {
    const char *name;
    param_id_t id;
} params[] = {
    {"format", P_FORMAT},           {"compression", P_COMPRESSION},    {"level", P_LEVEL},
    {"rotate_rows", P_ROWS},        {"rotate_bytes", P_BYTES},         {"rotate_seconds", P_SECONDS},
    {"delimiter", P_DELIM},         {"quote", P_QUOTE},                {"null", P_NULL},
    {"header", P_HEADER},           {"decimal_as_number", P_DECNUM},   {"row_group_bytes", P_RG},
    {"page_bytes", P_PAGE},         {"dictionary", P_DICT},            {"partition_by", P_PARTITION},
    {"spool_dir", P_SPOOL},
};

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
        if (parse_int(k, v, 0, &n, err))
            return -1;
        o->fo.level = (int)n;
        return 0;
    case P_ROWS:
        return parse_int(k, v, 0, &o->rotate_rows, err);
    case P_BYTES:
        return parse_int(k, v, 0, &o->rotate_bytes, err);
    case P_SECONDS:
        return parse_int(k, v, 0, &o->rotate_seconds, err);
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
        return parse_int(k, v, 1, &o->fo.row_group_bytes, err);
    case P_PAGE:
        return parse_int(k, v, 1, &o->fo.page_bytes, err);
    case P_DICT:
        return parse_bool(k, v, &o->fo.dictionary, err);
    case P_PARTITION:
        free(o->partition_by);
        o->partition_by = sl_strdup(v);
        return 0;
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
    *rest = *url;
    rest->params = calloc((size_t)url->nparams + 1, sizeof *rest->params);
    rest->nparams = 0;
    if (!rest->params)
        abort();
    for (int i = 0; i < url->nparams; i++) {
        const char *k = url->params[i].key, *v = url->params[i].value ? url->params[i].value : "";
        int j = 0, n = (int)(sizeof params / sizeof params[0]);
        while (j < n && strcmp(params[j].name, k))
            j++;
        if (j == n) {
            rest->params[rest->nparams++] = url->params[i];
            continue;
        }
        if (set_one(o, params[j].id, k, v, err))
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
