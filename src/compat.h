/* Small shared definitions: time in milliseconds, attribute shorthands. */
#ifndef TEND_COMPAT_H
#define TEND_COMPAT_H

#include <stdint.h>

/* All times inside tend are milliseconds of CLOCK_MONOTONIC. */
#define TEND_MS_PER_S 1000

#define TEND_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define TEND_NORETURN __attribute__((noreturn))

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#endif
