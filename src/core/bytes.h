/*
 * bytes.h: little-endian integers in byte buffers, the byte order of sluice's own wire
 * formats (bus batches, model/batch.c; change batches, model/change.c). Unaligned
 * access is fine: the helpers go byte by byte.
 */
#ifndef SL_CORE_BYTES_H
#define SL_CORE_BYTES_H

#include <stdint.h>

static inline void sl_put32le(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void sl_put64le(unsigned char *p, uint64_t v)
{
    sl_put32le(p, (uint32_t)v);
    sl_put32le(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t sl_get32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t sl_get64le(const unsigned char *p)
{
    return (uint64_t)sl_get32le(p) | (uint64_t)sl_get32le(p + 4) << 32;
}

#endif
