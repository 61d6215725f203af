/*
 * spec.c: parsing and validating stream specs (see spec.h).
 */
#include "engine/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/url.h"
#include "model/schema.h"
#include "source/source.h"
#include "target/target.h"

typedef enum { P_BOOL, P_INT, P_ENUM } ptype_t;

/* The option property table: one row per option under "options". */
static const struct prop {
    const char *name;
    ptype_t type;
    size_t off;
    int min, max;          /* P_INT */
    const char *choices[4]; /* P_ENUM, in enum order */
    const char *dflt;
    const char *doc;
} props[] = {
    {"initial_load", P_BOOL, offsetof(sl_options_t, initial_load), 0, 0, {0}, "true",
     "cdc: copy the tables from a consistent snapshot before streaming changes"},
    {"writers", P_INT, offsetof(sl_options_t, writers), 0, 64, {0}, "0",
     "parallel writer lanes, each with its own target connection (0 = one per two CPU cores, 1 to 4)"},
    {"readers", P_INT, offsetof(sl_options_t, readers), 0, 64, {0}, "0",
     "parallel reader connections sharing one snapshot (0 = as many as writers)"},
    {"batch_rows", P_INT, offsetof(sl_options_t, batch_rows), 1, 1000000, {0}, "100000",
     "most rows in one batch (one target transaction); batch_bytes bounds it too"},
    {"batch_bytes", P_INT, offsetof(sl_options_t, batch_bytes), 65536, 64 << 20, {0}, "4194304",
     "most bytes in one batch on the broker; a larger row is refused"},
    {"chunk_rows", P_INT, offsetof(sl_options_t, chunk_rows), 1000, 1 << 30, {0}, "250000",
     "rows per key-range chunk (the unit of resume and of read parallelism)"},
    {"schema", P_ENUM, offsetof(sl_options_t, schema), 0, 0,
     {"create_missing", "recreate", "none"}, "create_missing",
     "create_missing: create absent tables; recreate: drop and create; none: tables must exist"},
    {"write_mode", P_ENUM, offsetof(sl_options_t, write_mode), 0, 0,
     {"insert", "upsert", "truncate_insert"}, "insert",
     "insert: target tables must be empty; truncate_insert: empty them first"},
    {"ordering", P_ENUM, offsetof(sl_options_t, ordering), 0, 0, {"transaction", "key"},
     "transaction", "cdc: apply whole source transactions in commit order, or lanes by key"},
};
#define NPROPS (int)(sizeof props / sizeof props[0])

const char *sl_schema_policy_name(sl_schema_policy_t p) { return props[6].choices[p]; }
const char *sl_write_mode_name(sl_write_mode_t m) { return props[7].choices[m]; }

int sl_spec_writers(const sl_spec_t *spec)
{
    if (spec->opt.writers > 0)
        return spec->opt.writers;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus > 0 ? (int)(cpus / 2) : 1;
    return n < 1 ? 1 : n > 4 ? 4 : n;
}

void sl_spec_print_options(void)
{
    printf("| option | type | default | meaning |\n|---|---|---|---|\n");
    for (int i = 0; i < NPROPS; i++) {
        const char *ty = props[i].type == P_BOOL ? "bool" : props[i].type == P_INT ? "int" : "enum";
        printf("| `%s` | %s | `%s` | %s |\n", props[i].name, ty, props[i].dflt, props[i].doc);
    }
}

void sl_spec_free(sl_spec_t *spec)
{
    if (!spec)
        return;
    free(spec->name);
    free(spec->source_url);
    for (int i = 0; i < spec->ntables; i++)
        free(spec->tables[i]);
    free(spec->tables);
    free(spec->target_url);
    free(spec);
}

bool sl_spec_all_tables(const sl_spec_t *spec)
{
    return spec->ntables == 0 || (spec->ntables == 1 && strcmp(spec->tables[0], "*") == 0);
}

static int set_prop(sl_options_t *o, const struct prop *p, const json_t *v, sl_err_t *err)
{
    char *field = (char *)o + p->off;
    switch (p->type) {
    case P_BOOL:
        if (!json_is_boolean(v)) {
            sl_err_set(err, SL_E_CONFIG, "option \"%s\" must be true or false", p->name);
            sl_err_hint(err, "write it without quotes: \"%s\": %s", p->name, p->dflt);
            return -1;
        }
        *(bool *)field = json_is_true(v);
        return 0;
    case P_INT: {
        if (!json_is_integer(v) || json_integer_value(v) < p->min || json_integer_value(v) > p->max) {
            sl_err_set(err, SL_E_CONFIG, "option \"%s\" must be an integer from %d to %d", p->name,
                       p->min, p->max);
            sl_err_hint(err, "leave it out for the default, \"%s\": %s", p->name, p->dflt);
            return -1;
        }
        *(int *)field = (int)json_integer_value(v);
        return 0;
    }
    case P_ENUM:
        if (json_is_string(v))
            for (int c = 0; c < 4 && p->choices[c]; c++)
                if (strcmp(json_string_value(v), p->choices[c]) == 0) {
                    *(int *)field = c;
                    return 0;
                }
        sl_err_set(err, SL_E_CONFIG, "option \"%s\" has an invalid value", p->name);
        sl_err_hint(err, "use one of: %s%s%s%s%s", p->choices[0], p->choices[1] ? ", " : "",
                    p->choices[1] ? p->choices[1] : "", p->choices[2] ? ", " : "",
                    p->choices[2] ? p->choices[2] : "");
        return -1;
    }
    return 0;
}

static int set_defaults(sl_options_t *o, sl_err_t *err)
{
    for (int i = 0; i < NPROPS; i++) {
        json_error_t je;
        json_t *v = json_loads(props[i].dflt, JSON_DECODE_ANY, &je);
        if (!v)
            v = json_string(props[i].dflt);
        int rc = set_prop(o, &props[i], v, err);
        json_decref(v);
        if (rc)
            return rc;
    }
    return 0;
}

/* Rejects any key of obj not in allowed (NULL-terminated). */
static int check_keys(const json_t *obj, const char *where, const char *const *allowed, sl_err_t *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        bool ok = false;
        for (int i = 0; allowed[i]; i++)
            ok = ok || strcmp(k, allowed[i]) == 0;
        if (!ok) {
            sl_err_set(err, SL_E_CONFIG, "unknown field \"%s\" in %s", k, where);
            char list[256] = "";
            for (int i = 0; allowed[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                         allowed[i]);
            sl_err_hint(err, "fields allowed in %s: %s", where, list);
            return -1;
        }
    }
    return 0;
}

/* {"url": "...", "password": "...", "tables": [...]} -> url with the password merged. */
static int parse_endpoint(const json_t *j, const char *where, bool with_tables, char **url,
                          sl_spec_t *spec, sl_err_t *err)
{
    static const char *const src_keys[] = {"url", "password", "tables", "connection", NULL};
    static const char *const tgt_keys[] = {"url", "password", "connection", NULL};
    if (!json_is_object(j))
        return sl_err_set(err, SL_E_CONFIG, "\"%s\" must be an object with a \"url\"", where);
    if (check_keys(j, where, with_tables ? src_keys : tgt_keys, err))
        return -1;
    if (json_object_get(j, "connection")) {
        sl_err_set(err, SL_E_CONFIG, "\"%s\".connection needs a sluice server", where);
        sl_err_hint(err, "stored connections are managed by `sluice server`; with `sluice run` give \"url\"");
        return -1;
    }
    const json_t *u = json_object_get(j, "url");
    if (!json_is_string(u))
        return sl_err_set(err, SL_E_CONFIG, "\"%s\" needs a \"url\" string", where);
    sl_url_t *parsed;
    if (sl_url_parse(json_string_value(u), &parsed, err)) {
        sl_err_prefix(err, "%s: ", where);
        return -1;
    }
    bool known = with_tables ? sl_source_lookup(parsed->scheme) != NULL
                             : sl_target_lookup(parsed->scheme) != NULL;
    if (!known) {
        sl_err_set(err, SL_E_CONFIG, "%s: unsupported URL scheme \"%s\"", where, parsed->scheme);
        sl_err_hint(err, with_tables ? "%s URLs start with postgres:// or mysql:// (or mariadb://)"
                                     : "%s URLs start with postgres://, mysql:// (or mariadb://), "
                                       "file:// or s3://",
                    where);
        sl_url_free(parsed);
        return -1;
    }
    sl_url_free(parsed);
    const json_t *pw = json_object_get(j, "password");
    if (pw && !json_is_string(pw))
        return sl_err_set(err, SL_E_CONFIG, "\"%s\".password must be a string", where);
    if (pw) {
        *url = sl_url_with_password(json_string_value(u), json_string_value(pw));
        if (!*url)
            return sl_err_set(err, SL_E_CONFIG, "\"%s\".password given but the URL names no user", where);
    } else {
        *url = sl_strdup(json_string_value(u));
    }
    if (with_tables) {
        const json_t *t = json_object_get(j, "tables");
        if (t && !json_is_array(t))
            return sl_err_set(err, SL_E_CONFIG, "\"source\".tables must be an array of names");
        size_t i;
        json_t *e;
        json_array_foreach((json_t *)t, i, e)
        {
            if (!json_is_string(e) || !json_string_length(e))
                return sl_err_set(err, SL_E_CONFIG, "\"source\".tables[%zu] must be a table name", i);
            char **v = realloc(spec->tables, sizeof *v * (size_t)(spec->ntables + 1));
            if (!v)
                abort();
            spec->tables = v;
            v[spec->ntables++] = sl_strdup(json_string_value(e));
        }
    }
    return 0;
}

int sl_spec_parse(const char *text, sl_spec_t **out, sl_err_t *err)
{
    static const char *const top_keys[] = {"name", "mode", "source", "target", "options", NULL};
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root) {
        sl_err_set(err, SL_E_CONFIG, "invalid spec: %s at line %d, column %d", je.text, je.line,
                   je.column);
        sl_err_hint(err, "a spec is one JSON object with \"name\", \"source\" and \"target\"; see docs/spec.md");
        return -1;
    }
    sl_spec_t *spec = calloc(1, sizeof *spec);
    if (!spec)
        abort();
    int rc = -1;
    if (!json_is_object(root)) {
        sl_err_set(err, SL_E_CONFIG, "invalid spec: the top level must be an object");
        sl_err_hint(err, "a spec is one JSON object with \"name\", \"source\" and \"target\"; see docs/spec.md");
        goto done;
    }
    if (check_keys(root, "the spec", top_keys, err) || set_defaults(&spec->opt, err))
        goto done;
    const json_t *name = json_object_get(root, "name");
    if (!json_is_string(name) || !json_string_length(name)) {
        sl_err_set(err, SL_E_CONFIG, "the spec needs a \"name\"");
        sl_err_hint(err, "a name identifies the stream's checkpoints, e.g. \"name\": \"shop-to-pg\"");
        goto done;
    }
    for (const char *c = json_string_value(name); *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_')) {
            sl_err_set(err, SL_E_CONFIG, "invalid stream name \"%s\"", json_string_value(name));
            sl_err_hint(err, "use letters, digits, '-' and '_'");
            goto done;
        }
    if (json_string_length(name) > 100) {
        sl_err_set(err, SL_E_CONFIG, "stream name longer than 100 characters");
        goto done;
    }
    spec->name = sl_strdup(json_string_value(name));
    const json_t *mode = json_object_get(root, "mode");
    if (!mode || (json_is_string(mode) && !strcmp(json_string_value(mode), "load")))
        spec->mode = SL_MODE_LOAD;
    else if (json_is_string(mode) && !strcmp(json_string_value(mode), "cdc"))
        spec->mode = SL_MODE_CDC;
    else {
        sl_err_set(err, SL_E_CONFIG, "invalid mode");
        sl_err_hint(err, "\"mode\" is \"load\" or \"cdc\"");
        goto done;
    }
    if (!json_object_get(root, "source")) {
        sl_err_set(err, SL_E_CONFIG, "the spec needs a \"source\"");
        goto done;
    }
    if (!json_object_get(root, "target")) {
        sl_err_set(err, SL_E_CONFIG, "the spec needs a \"target\"");
        goto done;
    }
    if (parse_endpoint(json_object_get(root, "source"), "source", true, &spec->source_url, spec, err) ||
        parse_endpoint(json_object_get(root, "target"), "target", false, &spec->target_url, spec, err))
        goto done;
    const json_t *opts = json_object_get(root, "options");
    if (opts) {
        if (!json_is_object(opts)) {
            sl_err_set(err, SL_E_CONFIG, "\"options\" must be an object");
            goto done;
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)opts, k, v)
        {
            const struct prop *p = NULL;
            for (int i = 0; i < NPROPS; i++)
                if (strcmp(props[i].name, k) == 0)
                    p = &props[i];
            if (!p) {
                const char *names[NPROPS + 1];
                for (int i = 0; i < NPROPS; i++)
                    names[i] = props[i].name;
                names[NPROPS] = NULL;
                check_keys(opts, "options", names, err);
                goto done;
            }
            if (set_prop(&spec->opt, p, v, err))
                goto done;
        }
    }
    if (spec->opt.write_mode == SL_WRITE_UPSERT) {
        sl_err_set(err, SL_E_CONFIG, "write_mode \"upsert\" is not built yet for loads");
        sl_err_hint(err, "use \"insert\" or \"truncate_insert\"");
        goto done;
    }
    rc = 0;
done:
    json_decref(root);
    if (rc) {
        sl_spec_free(spec);
        return rc;
    }
    *out = spec;
    return 0;
}

int sl_spec_load_file(const char *path, sl_spec_t **out, sl_err_t *err)
{
    /* "-": stdin (`sluice server` hands its children their spec this way, never on disk). */
    bool in = strcmp(path, "-") == 0;
    FILE *f = in ? stdin : fopen(path, "rb");
    if (!f) {
        sl_err_set(err, SL_E_CONFIG, "could not open spec file \"%s\": %m", path);
        sl_err_hint(err, "check the path; docs/spec.md shows what a spec file holds");
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (16u << 20)) {
                if (!in)
                    fclose(f);
                free(text);
                return sl_err_set(err, SL_E_CONFIG, "spec file \"%s\" is larger than 16 MB", path);
            }
            char *p = realloc(text, cap);
            if (!p)
                abort();
            text = p;
        }
        size_t n = fread(text + len, 1, 4096, f);
        len += n;
        if (n < 4096)
            break;
    }
    if (!in)
        fclose(f);
    text[len] = '\0';
    int rc = sl_spec_parse(text, out, err);
    if (rc)
        sl_err_prefix(err, "%s: ", path);
    free(text);
    return rc;
}
