/*
 * file_source.c: the file source's ops table (file_src.h), its URL options, and which
 * files make which table.
 *
 *   file:///dir?format=csv|jsonl|parquet&delimiter=;&null=\N&header=false&sample_rows=N
 *   s3://bucket/prefix?endpoint=…&region=…&format=…
 *
 * The CSV options are the file target's (delimiter, quote, null, header), read by the
 * same table (target/file/file_opts.c), so the URL of a file target reads back what it
 * wrote (`sluice verify` opens a target as a source); the target's writing options
 * (compression, rotation, row groups, …) are accepted and have no effect here. Without
 * format=, each file's format comes from its name: .parquet, .csv, .jsonl/.ndjson/.json,
 * each of the text formats optionally .gz or .zst (compression comes from the name too).
 *
 * Tables: the first directory level under the root (all files under it, at any depth,
 * skipping names that start with '.' or '_', such as a target's _sluice/), and files at
 * the top by their name without extension. Files of a table are read in key order.
 */
#include <stdlib.h>
#include <string.h>

#include "source/file/file_src.h"
#include "target/file/file_int.h" /* sl_file_opts_parse: the CSV options of both sides */

extern const struct sl_store_ops sl_local_store_ops;
extern const struct sl_store_ops sl_s3_store_ops;
extern const struct sl_source_ops sl_file_source_ops;

static ffmt_t fmt_of_name(const char *key)
{
    size_t n = strlen(key);
    if (n > 3 && !strcmp(key + n - 3, ".gz"))
        n -= 3;
    else if (n > 4 && !strcmp(key + n - 4, ".zst"))
        n -= 4;
    static const struct {
        const char *ext;
        ffmt_t f;
    } ext[] = {{".parquet", FF_PARQUET}, {".csv", FF_CSV}, {".tsv", FF_CSV}, {".jsonl", FF_JSONL},
               {".ndjson", FF_JSONL}, {".json", FF_JSONL}};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t k = strlen(ext[i].ext);
        if (n > k && !strncmp(key + n - k, ext[i].ext, k))
            return ext[i].f == FF_PARQUET && n != strlen(key) ? FF_NONE : ext[i].f;
    }
    return FF_NONE;
}

static void fs_close(sl_source_t *src)
{
    fsrc_t *fs = (fsrc_t *)src;
    if (!fs)
        return;
    if (fs->st)
        fs->st->ops->close(fs->st);
    for (int i = 0; i < fs->nfiles; i++)
        free(fs->files[i].key);
    free(fs->files);
    free(fs->null_marker);
    free(fs);
}

static int fs_connect(const sl_url_t *url, sl_source_t **out, sl_err_t *err)
{
    fsrc_t *fs = calloc(1, sizeof *fs);
    if (!fs)
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    fs->base.ops = &sl_file_source_ops;
    fs->sample_rows = 10000;
    /* source-only parameters first; the rest is the file target's table, then the store's */
    sl_url_t mine = *url;
    sl_url_param_t *ps = calloc((size_t)url->nparams + 1, sizeof *ps);
    if (!ps) {
        free(fs);
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    }
    mine.params = ps;
    mine.nparams = 0;
    for (int i = 0; i < url->nparams; i++) {
        const char *k = url->params[i].key, *v = url->params[i].value ? url->params[i].value : "";
        if (!strcmp(k, "sample_rows")) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 10000000) {
                sl_err_set(err, SL_E_CONFIG, "invalid value \"%s\" for source URL parameter \"sample_rows\"", v);
                sl_err_hint(err, "give a number of rows between 1 and 10000000");
                free(ps);
                free(fs);
                return -1;
            }
            fs->sample_rows = (int)n;
            continue;
        }
        if (!strcmp(k, "format")) {
            fs->fmt = !strcmp(v, "parquet") ? FF_PARQUET : !strcmp(v, "csv") ? FF_CSV
                    : !strcmp(v, "jsonl") ? FF_JSONL : FF_NONE;
            if (fs->fmt == FF_NONE) {
                sl_err_set(err, SL_E_CONFIG, "invalid value \"%s\" for source URL parameter \"format\"", v);
                sl_err_hint(err, "formats are csv, jsonl and parquet");
                free(ps);
                free(fs);
                return -1;
            }
        }
        ps[mine.nparams++] = url->params[i];
    }
    fopts_t fo;
    sl_url_t rest;
    int rc = sl_file_opts_parse(&mine, &fo, &rest, err);
    free(ps);
    if (rc) {
        sl_err_prefix(err, "source: ");
        free(fs);
        return -1;
    }
    sl_csvr_opts_default(&fs->csv);
    fs->csv.delimiter = fo.fo.delimiter;
    fs->csv.quote = fo.fo.quote;
    fs->null_marker = sl_strdup(fo.fo.null_marker ? fo.fo.null_marker : "");
    fs->csv.null_marker = fs->null_marker;
    fs->header = fo.fo.header;
    sl_file_opts_free(&fo);
    const struct sl_store_ops *ops = !strcmp(url->scheme, "s3") ? &sl_s3_store_ops : &sl_local_store_ops;
    rc = ops->open_read(&rest, &fs->st, err);
    free(rest.params);
    if (rc) {
        fs_close(&fs->base);
        return -1;
    }
    *out = &fs->base;
    return 0;
}

/* --- listing ----------------------------------------------------------------------------- */

static bool hidden(const char *key)
{
    for (const char *p = key; p; p = strchr(p, '/')) {
        if (*p == '/')
            p++;
        if (*p == '.' || *p == '_')
            return true;
    }
    return false;
}

static int on_key(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    fsrc_t *fs = ctx;
    ffmt_t f = fmt_of_name(key);
    if (f == FF_NONE || hidden(key) || (fs->fmt && f != fs->fmt))
        return 0;
    ffile_t *v = realloc(fs->files, sizeof *v * (size_t)(fs->nfiles + 1));
    if (!v)
        return sl_err_set(err, SL_E_LIMIT, "out of memory listing the source's files");
    fs->files = v;
    v[fs->nfiles++] = (ffile_t){.key = sl_strdup(key), .size = size, .fmt = f};
    return 0;
}

int sl_fsrc_list(fsrc_t *fs, sl_err_t *err)
{
    if (fs->listed)
        return 0;
    if (fs->st->ops->list(fs->st, "", on_key, fs, err))
        return -1;
    fs->listed = true;
    return 0;
}

/* The table a key belongs to, into out: its first directory, or a top file's stem. */
static void table_of(const char *key, char *out, size_t size)
{
    const char *slash = strchr(key, '/');
    size_t n = slash ? (size_t)(slash - key) : strlen(key);
    if (!slash) {
        const char *dot = strchr(key, '.');
        if (dot)
            n = (size_t)(dot - key);
    }
    if (n >= size)
        n = size - 1;
    memcpy(out, key, n);
    out[n] = 0;
}

int sl_fsrc_table_files(fsrc_t *fs, const char *name, int **idx, int *n, sl_err_t *err)
{
    *idx = NULL;
    *n = 0;
    if (sl_fsrc_list(fs, err))
        return -1;
    for (int i = 0; i < fs->nfiles; i++) {
        char t[1024];
        table_of(fs->files[i].key, t, sizeof t);
        if (strcmp(t, name))
            continue;
        int *v = realloc(*idx, sizeof *v * (size_t)(*n + 1));
        if (!v)
            return sl_err_set(err, SL_E_LIMIT, "out of memory");
        *idx = v;
        v[(*n)++] = i;
    }
    return 0;
}

static int fs_list_tables(sl_source_t *src, char ***names, int *n, sl_err_t *err)
{
    fsrc_t *fs = (fsrc_t *)src;
    *names = NULL;
    *n = 0;
    if (sl_fsrc_list(fs, err))
        return -1;
    for (int i = 0; i < fs->nfiles; i++) { /* keys are sorted: one table's files are adjacent */
        char t[1024];
        table_of(fs->files[i].key, t, sizeof t);
        bool seen = false;
        for (int k = 0; k < *n && !seen; k++)
            seen = !strcmp((*names)[k], t);
        if (seen)
            continue;
        char **v = realloc(*names, sizeof *v * (size_t)(*n + 1));
        if (!v)
            return sl_err_set(err, SL_E_LIMIT, "out of memory");
        *names = v;
        v[(*n)++] = sl_strdup(t);
    }
    return 0;
}

/* --- reading one file through the store -------------------------------------------------- */

static int range_read(void *ctx, uint64_t off, void *dst, size_t n, sl_err_t *err)
{
    frange_t *fr = ctx;
    if (fr->fs->st->ops->get_range(fr->fs->st, fr->key, off, dst, n, fr->version,
                                   sizeof fr->version, err))
        return -1;
    if (fr->expect && fr->expect[0] && strcmp(fr->expect, fr->version)) {
        sl_err_set(err, SL_E_CONFLICT, "source file \"%s\" changed after the load planned it",
                   fr->key);
        sl_err_detail(err, "It was version \"%s\" and is now \"%s\" (size and time on disk, or the "
                           "object's ETag).", fr->expect, fr->version);
        sl_err_hint(err, "put the file back as it was to resume, or run with --restart to load "
                         "every file as it is now");
        return -1;
    }
    return 0;
}

void sl_frange_init(frange_t *fr, fsrc_t *fs, const ffile_t *f, const char *expect)
{
    memset(fr, 0, sizeof *fr);
    fr->fs = fs;
    fr->key = f->key;
    fr->expect = expect;
    fr->r = (sl_fmt_range_t){.read = range_read, .ctx = fr, .size = f->size};
}

/* --- snapshots: files need none ---------------------------------------------------------- */

static int fs_export(sl_source_t *src, char **token, int *max_readers, sl_err_t *err)
{
    *token = sl_strdup("files");
    *max_readers = 64;
    return 0;
}

static int fs_import(sl_source_t *src, const char *token, sl_err_t *err) { return 0; }
static int fs_release(sl_source_t *src, sl_err_t *err) { return 0; }

static int fs_key_range(sl_source_t *src, const sl_table_t *t, int64_t *min, int64_t *max,
                        bool *has_rows, sl_err_t *err)
{
    return sl_err_set(err, SL_E_INTERNAL, "file tables have no key ranges");
}

const struct sl_source_ops sl_file_source_ops = {
    .name = "file",
    .connect = fs_connect,
    .close = fs_close,
    .list_tables = fs_list_tables,
    .describe = sl_fsrc_describe,
    .snapshot_export = fs_export,
    .snapshot_import = fs_import,
    .snapshot_release = fs_release,
    .snapshot_position = NULL,
    .key_range = fs_key_range,
    .key_sample = NULL,
    .scan = sl_fsrc_scan,
    .units = sl_fsrc_units,
};
