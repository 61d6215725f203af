/*
 * opt.c: lookups in property tables (see opt.h). Pure.
 */
#include "core/opt.h"

#include <stdio.h>
#include <string.h>

const sl_opt_t *sl_opt_find(const sl_opt_table_t *t, const char *name)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->rows[i].name, name) == 0)
            return &t->rows[i];
    return NULL;
}

int sl_opt_choice(const sl_opt_t *o, const char *value)
{
    for (int c = 0; c < SL_OPT_NCHOICES && o->choices[c].name; c++)
        if (strcmp(o->choices[c].name, value) == 0)
            return c;
    return -1;
}

const char *sl_opt_choices_text(const sl_opt_t *o, unsigned modes, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int c = 0; c < SL_OPT_NCHOICES && o->choices[c].name && n < size; c++)
        if (o->choices[c].modes & modes)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", o->choices[c].name);
    return buf;
}

const char *sl_opt_names_text(const sl_opt_table_t *t, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->n && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", t->rows[i].name);
    return buf;
}

const char *sl_opt_type_name(sl_opt_type_t type)
{
    static const char *const names[] = {[SL_OPT_BOOL] = "bool",   [SL_OPT_INT] = "int",
                                        [SL_OPT_BYTES] = "bytes", [SL_OPT_ENUM] = "enum",
                                        [SL_OPT_CHAR] = "char",   [SL_OPT_STRING] = "string",
                                        [SL_OPT_MAP] = "map"};
    return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "?";
}

const char *sl_opt_mode_name(unsigned mode)
{
    return mode == SL_OPT_LOAD ? "load" : mode == SL_OPT_CDC ? "cdc" : "?";
}
