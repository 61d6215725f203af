/*
 * types.c: names of the canonical types (see types.h).
 */
#include "model/types.h"

#include <string.h>

static const char *names[SL_T__COUNT] = {
    [SL_T_UNKNOWN] = "unknown", [SL_T_BOOL] = "bool", [SL_T_INT16] = "int16",
    [SL_T_INT32] = "int32", [SL_T_INT64] = "int64", [SL_T_UINT64] = "uint64",
    [SL_T_FLOAT32] = "float32", [SL_T_FLOAT64] = "float64", [SL_T_DECIMAL] = "decimal",
    [SL_T_TEXT] = "text", [SL_T_BYTES] = "bytes", [SL_T_DATE] = "date", [SL_T_TIME] = "time",
    [SL_T_TIMETZ] = "timetz", [SL_T_TIMESTAMP] = "timestamp",
    [SL_T_TIMESTAMPTZ] = "timestamptz", [SL_T_INTERVAL] = "interval", [SL_T_JSON] = "json",
    [SL_T_UUID] = "uuid", [SL_T_ENUM] = "enum", [SL_T_SET] = "set", [SL_T_BIT] = "bit",
    [SL_T_ARRAY] = "array", [SL_T_GEOMETRY] = "geometry", [SL_T_NET] = "net",
    [SL_T_TSVECTOR] = "tsvector", [SL_T_MONEY] = "money",
};

const char *sl_type_name(sl_type_t t)
{
    if ((unsigned)t < SL_T__COUNT && names[t])
        return names[t];
    return "unknown";
}

sl_type_t sl_type_from_name(const char *name)
{
    for (int t = 0; t < SL_T__COUNT; t++)
        if (names[t] && strcmp(names[t], name) == 0)
            return (sl_type_t)t;
    return SL_T_UNKNOWN;
}

int sl_type_is_integer(sl_type_t t)
{
    return t == SL_T_INT16 || t == SL_T_INT32 || t == SL_T_INT64 || t == SL_T_UINT64;
}

int sl_type_is_binary(sl_type_t t)
{
    return t == SL_T_BYTES || t == SL_T_GEOMETRY;
}
