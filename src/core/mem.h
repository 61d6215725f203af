/*
 * mem.h: what sluice does when memory runs out.
 *
 * One policy: an allocation sluice makes for itself that fails ends the process through
 * sl_oom(), which says so on stderr and aborts. Memory is bounded by design (batches in
 * rows and bytes, one page or chunk at a time), so a failed allocation means the machine
 * is out of memory, and carrying a NULL on would only move the crash to a less readable
 * place; the stream resumes from its last checkpoint when restarted. Where a library
 * reports its own allocation failure (a client handle, a decompressor), the caller returns
 * SL_E_LIMIT "out of memory ..." instead, as for any other limit.
 */
#ifndef SL_CORE_MEM_H
#define SL_CORE_MEM_H

/* Writes "sluice: out of memory" to stderr and aborts. */
_Noreturn void sl_oom(void);

/* strdup that ends the process through sl_oom() when memory runs out; NULL for NULL. */
char *sl_strdup(const char *s);

#endif
