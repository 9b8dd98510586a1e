/* The monotonic clock in milliseconds, shared by every adapter and the client. */
#include "autoconf.h"

#include <time.h>

#include "clock.h"
#include "log.h"

int64_t
clock_ms(void)
{
	struct timespec ts;

	/* Cannot fail for CLOCK_MONOTONIC on Linux; if it ever does, nothing is right. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		fatal("clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
