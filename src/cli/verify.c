/*
 * verify.c: `sluice verify SPEC.json [--table T]`: per table, row counts and an
 * order-independent checksum of canonicalised values on both sides. Exit 0 when
 * every table is equal, 1 on any difference, 2 when a side could not be read.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "engine/spec.h"
#include "engine/verify.h"
#include "source/source.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice verify SPEC.json [--table NAME]...\n"
               "\n"
               "Compares every table of the spec (or the named ones) between source and target:\n"
               "row counts and an order-independent checksum of the values, normalised so that\n"
               "the same value compares equal across engines. Prints one line per table and,\n"
               "for a table that differs, sample keys of missing, extra or different rows.\n"
               "\n"
               "exit status: 0 all equal, 1 a difference was found, 2 an error.\n");
}

int sl_cli_verify(int argc, char **argv)
{
    static const struct option longopts[] = {{"table", required_argument, NULL, 't'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    char **only = NULL;
    int nonly = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 't') {
            only = realloc(only, sizeof *only * (size_t)(nonly + 1));
            only[nonly++] = optarg;
        } else if (c == 'h') {
            usage(stdout);
            free(only);
            return SL_EXIT_OK;
        } else {
            usage(stderr);
            free(only);
            return SL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        free(only);
        return SL_EXIT_USAGE;
    }
    sl_err_t err = {0};
    sl_spec_t *spec = NULL;
    sl_source_t *src = NULL, *tgt = NULL;
    char **names = NULL;
    int nnames = 0, rc = SL_EXIT_USAGE;
    if (sl_spec_load_file(argv[optind], &spec, &err))
        goto fail;
    if (sl_source_open(spec->source_url, &src, &err)) {
        sl_err_prefix(&err, "source: ");
        goto fail;
    }
    if (sl_source_open(spec->target_url, &tgt, &err)) {
        sl_err_prefix(&err, "target: ");
        goto fail;
    }
    if (nonly) {
        names = calloc((size_t)nonly, sizeof *names);
        for (int i = 0; i < nonly; i++)
            names[i] = strdup(only[i]);
        nnames = nonly;
    } else if (!sl_spec_all_tables(spec)) {
        names = calloc((size_t)spec->ntables, sizeof *names);
        for (int i = 0; i < spec->ntables; i++)
            names[i] = strdup(spec->tables[i]);
        nnames = spec->ntables;
    } else if (src->ops->list_tables(src, &names, &nnames, &err)) {
        sl_err_prefix(&err, "source: ");
        goto fail;
    }
    int differ = 0;
    printf("%-32s %14s %14s  %s\n", "table", "source rows", "target rows", "result");
    for (int i = 0; i < nnames; i++) {
        sl_verify_result_t res;
        if (sl_verify_table(src, tgt, spec, names[i], &res, &err))
            goto fail;
        if (res.problem[0]) {
            printf("%-32s %14s %14s  DIFFERENT: %s\n", res.table, "-", "-", res.problem);
            differ++;
            continue;
        }
        char rej[48] = "";
        if (res.rejected)
            snprintf(rej, sizeof rej, " (%" PRId64 " rejected)", res.rejected);
        printf("%-32s %14" PRId64 " %14" PRId64 "  %s%s\n", res.table, res.source_rows, res.target_rows,
               res.equal ? "equal" : "DIFFERENT", rej);
        if (!res.equal) {
            differ++;
            for (int k = 0; k < res.nsamples; k++)
                printf("    %s\n", res.samples[k]);
        }
        fflush(stdout);
    }
    if (differ)
        printf("%d of %d tables differ\n", differ, nnames);
    else
        printf("all %d tables equal\n", nnames);
    rc = differ ? SL_EXIT_DIFF : SL_EXIT_OK;
    goto out;
fail:
    sl_cli_print_err(&err);
    rc = SL_EXIT_USAGE;
out:
    for (int i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    free(only);
    sl_source_close(src);
    sl_source_close(tgt);
    sl_spec_free(spec);
    return rc;
}
