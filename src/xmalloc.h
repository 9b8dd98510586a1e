/* Allocation wrappers that exit on out-of-memory (tmux style). */
#ifndef TEND_XMALLOC_H
#define TEND_XMALLOC_H

#include <stddef.h>
#include "compat.h"

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) TEND_PRINTF(2, 3);

#endif
