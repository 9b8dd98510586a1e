/*
 * What tend knows about its child beyond the core's state: the last probe results, a
 * probe duration histogram, failure counters and the last failure. And the renderers
 * that show it all with the core: /status JSON, /metrics (Prometheus text), the
 * summary of `tend status` and the systemd STATUS= line. Pure: the time is passed in.
 */
#ifndef TEND_METRICS_H
#define TEND_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "core.h"
#include "probe.h"

#define METRICS_HISTORY	10	/* probe results kept for /status */
#define METRICS_NBUCKETS 11	/* histogram buckets, +Inf aside */

struct metrics_probe {
	int64_t			at;		/* ms, monotonic */
	enum probe_result	result;
	int			http_status;	/* 0: no answer */
	int64_t			latency;	/* ms */
};

struct metrics {
	int64_t			started;	/* tend's start, ms monotonic */
	int64_t			wall_offset;	/* add to a monotonic time: ms since the epoch */
	struct metrics_probe	history[METRICS_HISTORY];	/* a ring */
	int			nhistory, next;
	uint64_t		buckets[METRICS_NBUCKETS];	/* not cumulative */
	uint64_t		probes;
	int64_t			latency_sum;	/* ms */
	uint64_t		by_result[PROBE_NRESULTS];
	enum core_cause		fail_cause;	/* CAUSE_NONE: no failure yet */
	int			fail_arg;
	int64_t			fail_at;	/* core's last_failure_at when seen */
};

/* now: monotonic ms; wall: ms since the epoch at the same instant. */
void metrics_init(struct metrics *, int64_t now, int64_t wall);
void metrics_probe(struct metrics *, int64_t now, enum probe_result, int http_status,
    int64_t latency);
/* After a state change: notice a new failure in the core. */
void metrics_change(struct metrics *, const struct core *);

void metrics_json(struct buf *, const struct metrics *, const struct core *, int64_t now);
void metrics_prometheus(struct buf *, const struct metrics *, const struct core *,
    int64_t now);
/* The multi-line summary of `tend status`. */
void metrics_summary(struct buf *, const struct metrics *, const struct core *,
    int64_t now);
/* One line: "running, 3 restarts, last: hang 2m ago". */
void metrics_status_line(struct buf *, const struct metrics *, const struct core *,
    int64_t now);
/* "exit:3", "signal:KILL", "hang" ... */
void metrics_cause(struct buf *, enum core_cause, int arg);

#endif
