/*
 * check.c: `sluice check SPEC.json|- [--scan] [--json]` (docs/mapping.md): what the
 * stream would do, without writing anything anywhere (engine/check.h). Exit 0 when the
 * job would run, 1 when something would be refused, 2 for an invalid spec.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli/cli.h"
#include "engine/check.h"
#include "engine/spec.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice check SPEC.json|- [--scan] [--json]\n"
               "\n"
               "Shows, per table, the target DDL after the spec's mapping, every mapping decision\n"
               "and warning, and every column whose values may not fit the target; checks that the\n"
               "source tables exist, that the target's tables can be written and what a change\n"
               "stream needs of its source. Writes nothing anywhere. - reads the spec from stdin.\n"
               "\n"
               "  --scan   also read the source and list each value the target would refuse,\n"
               "           with the cast that would carry it\n"
               "  --json   print the report as JSON (docs/mapping.md)\n"
               "\n"
               "exit status: 0 the job would run, 1 something would be refused, 2 an invalid spec.\n");
}

int sl_cli_check(int argc, char **argv)
{
    static const struct option longopts[] = {{"scan", no_argument, NULL, 's'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    bool scan = false, as_json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 's') {
            scan = true;
        } else if (c == 'j') {
            as_json = true;
        } else if (c == 'h') {
            usage(stdout);
            return SL_EXIT_OK;
        } else {
            usage(stderr);
            return SL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    sl_err_t err = {0};
    sl_spec_t *spec = NULL;
    if (sl_spec_load_file(argv[optind], &spec, &err)) {
        sl_cli_print_err(&err);
        return SL_EXIT_USAGE;
    }
    json_t *report = NULL;
    int rc = sl_check_run(spec, scan, &report, &err);
    sl_spec_free(spec);
    if (rc < 0) {
        sl_cli_print_err(&err);
        json_decref(report);
        return SL_EXIT_FAIL;
    }
    if (as_json) {
        char *text = json_dumps(report, JSON_INDENT(2));
        puts(text ? text : "{}");
        free(text);
    } else {
        sl_check_print(report, stdout);
    }
    json_decref(report);
    return rc == 0 ? SL_EXIT_OK : SL_EXIT_FAIL;
}
