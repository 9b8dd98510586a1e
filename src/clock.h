/* The one clock of tend: CLOCK_MONOTONIC in milliseconds (the core's time base). */
#ifndef TEND_CLOCK_H
#define TEND_CLOCK_H

#include <stdint.h>

int64_t clock_ms(void);

#endif
