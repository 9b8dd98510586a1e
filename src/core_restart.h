/* Restart bookkeeping of the core (backoff, crash-loop window); private to core*.c. */
#ifndef TEND_CORE_RESTART_H
#define TEND_CORE_RESTART_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

double core_random(struct core *);
void core_window_add(struct core *, enum core_mode, int64_t now);
bool core_window_full(const struct core *, enum core_mode, int64_t now);
void core_window_clear(struct core *, enum core_mode);

#endif
