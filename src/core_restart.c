/*
 * Pure helpers of the core for restarts: backoff with jitter, the crash-loop window and
 * the random numbers behind the jitter. Kept apart from the transitions in core.c.
 */
#include "autoconf.h"

#include "core.h"
#include "core_restart.h"

/* Exponential backoff with "equal jitter": a delay in [d/2, d] for d = base * 2^(n-1),
 * capped at max. The ranges of successive failures touch but never overlap backwards, so
 * the delay never shrinks while failures go on, and many tends restarting together spread. */
int64_t
core_backoff(int64_t base, int64_t max, int n, double r)
{
	int64_t d = base;
	int	i;

	if (base <= 0)
		return 0;
	for (i = 1; i < n && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	return d / 2 + (int64_t)(r * (double)(d - d / 2));
}

/* xorshift64*: deterministic for tests (the adapter seeds it), good enough for jitter. */
double
core_random(struct core *c)
{
	uint64_t x = c->rng ? c->rng : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

/* Remember a failure of the given mode at now. */
void
core_window_add(struct core *c, enum core_mode m, int64_t now)
{
	int burst = c->conf.limit_burst;

	c->window[m][c->window_head[m]] = now;
	c->window_head[m] = (c->window_head[m] + 1) % burst;
	if (c->nwindow[m] < burst)
		c->nwindow[m]++;
}

/* A crash loop: limit_burst failures of this mode within limit_interval before now. */
bool
core_window_full(const struct core *c, enum core_mode m, int64_t now)
{
	int burst = c->conf.limit_burst, oldest;

	if (c->nwindow[m] < burst)
		return false;
	/* The ring is full, so the oldest of the last `burst` failures is at the head. */
	oldest = c->window_head[m];
	return now - c->window[m][oldest] < c->conf.limit_interval;
}

void
core_window_clear(struct core *c, enum core_mode m)
{
	c->nwindow[m] = 0;
	c->window_head[m] = 0;
}
