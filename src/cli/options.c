/*
 * options.c: `sluice options [NAME] [--json]`: the property tables (engine/options.h)
 * as Markdown, the form docs/ holds them in, or as the JSON of GET /api/v1/options.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "engine/options.h"

static void usage(FILE *f)
{
    int n;
    const sl_opt_table_t *const *t = sl_options_tables(&n);
    fprintf(f, "usage: sluice options [NAME] [--json]\n\n"
               "Prints the stream spec's options and the parameters of source and target URLs:\n"
               "every table as Markdown, one table (NAME), or all of them as JSON (--json, the\n"
               "body of GET /api/v1/options).\n\ntables:\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "  %-10s %s\n", t[i]->name, t[i]->title);
}

int sl_cli_options(int argc, char **argv)
{
    bool json = false;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return SL_EXIT_OK;
        } else if (!name && argv[i][0] != '-')
            name = argv[i];
        else {
            fprintf(stderr, "error: unexpected argument \"%s\"\n", argv[i]);
            usage(stderr);
            return SL_EXIT_USAGE;
        }
    }
    if (json) {
        if (name) {
            fprintf(stderr, "error: --json prints every table; leave out \"%s\"\n", name);
            return SL_EXIT_USAGE;
        }
        json_t *j = sl_options_json();
        json_dumpf(j, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(j);
        return SL_EXIT_OK;
    }
    if (name) {
        const sl_opt_table_t *t = sl_options_table(name);
        if (!t) {
            fprintf(stderr, "error: no option table \"%s\"\n", name);
            usage(stderr);
            return SL_EXIT_USAGE;
        }
        sl_options_markdown(t, stdout);
        return SL_EXIT_OK;
    }
    int n;
    const sl_opt_table_t *const *t = sl_options_tables(&n);
    for (int i = 0; i < n; i++) {
        printf("%s## %s (`sluice options %s`)\n\n", i ? "\n" : "", t[i]->title, t[i]->name);
        sl_options_markdown(t[i], stdout);
    }
    return SL_EXIT_OK;
}
