/*
 * Probe history, histogram and counters, and the four ways tend shows its state:
 * /status JSON, /metrics Prometheus text, the `tend status` summary, the STATUS= line.
 * Every renderer reads the core and these counters at the time passed in.
 */
#include "autoconf.h"

#include <string.h>
#include <time.h>

#include "metrics.h"
#include "parse.h"

/* Upper bounds of the histogram buckets, ms (Prometheus' default buckets). */
static const int64_t bucket_ms[METRICS_NBUCKETS] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
};

/* The causes a restart is counted under (core->restarts). */
static const enum core_cause restart_causes[] = {
	CAUSE_EXIT, CAUSE_SIGNAL, CAUSE_STARTUP_TIMEOUT, CAUSE_HANG, CAUSE_RELOAD_LOOP,
	CAUSE_OPERATOR, CAUSE_RECOVER,
};

void
metrics_init(struct metrics *m, int64_t now, int64_t wall)
{
	memset(m, 0, sizeof *m);
	m->started = now;
	m->wall_offset = wall - now;
}

void
metrics_probe(struct metrics *m, int64_t now, enum probe_result result, int http_status,
    int64_t latency)
{
	struct metrics_probe	*p = &m->history[m->next];
	int			 i;

	p->at = now;
	p->result = result;
	p->http_status = http_status;
	p->latency = latency < 0 ? 0 : latency;
	m->next = (m->next + 1) % METRICS_HISTORY;
	if (m->nhistory < METRICS_HISTORY)
		m->nhistory++;
	m->probes++;
	m->latency_sum += p->latency;
	if ((unsigned)result < PROBE_NRESULTS)
		m->by_result[result]++;
	for (i = 0; i < METRICS_NBUCKETS && p->latency > bucket_ms[i]; i++)
		;
	if (i < METRICS_NBUCKETS)
		m->buckets[i]++;
}

void
metrics_change(struct metrics *m, const struct core *c)
{
	/* fail() stamps last_failure_at with the cause; planned stops do not. */
	if (c->last_failure_at != m->fail_at && c->cause != CAUSE_NONE) {
		m->fail_at = c->last_failure_at;
		m->fail_cause = c->cause;
		m->fail_arg = c->cause_arg;
	}
}

void
metrics_cause(struct buf *b, enum core_cause cause, int arg)
{
	if (cause == CAUSE_EXIT)
		buf_printf(b, "exit:%d", arg);
	else if (cause == CAUSE_SIGNAL)
		buf_printf(b, "signal:%s", signal_name(arg));
	else
		buf_puts(b, core_cause_name(cause));
}

/* ms as seconds with three decimals (never negative). */
static void
secs(struct buf *b, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	buf_printf(b, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

/* A monotonic time as an RFC 3339 UTC timestamp string (quoted). */
static void
timestamp(struct buf *b, const struct metrics *m, int64_t at)
{
	int64_t		wall = at + m->wall_offset;
	time_t		t = (time_t)(wall / 1000);
	struct tm	tm;

	if (wall < 0 || gmtime_r(&t, &tm) == NULL) {
		buf_puts(b, "null");
		return;
	}
	buf_printf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall % 1000));
}

/* The i-th newest probe record (0: the newest). */
static const struct metrics_probe *
recent(const struct metrics *m, int i)
{
	return &m->history[(m->next - 1 - i + 2 * METRICS_HISTORY) % METRICS_HISTORY];
}

static int
restarts_total(const struct core *c)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < nitems(restart_causes); i++)
		n += c->restarts[restart_causes[i]];
	return n;
}

static int64_t
child_uptime(const struct core *c, int64_t now)
{
	return c->pid != 0 ? now - c->spawned_at : -1;
}

static const char *
mode_name(enum core_mode mode)
{
	return mode == MODE_EMERGENCY ? "emergency" : "normal";
}

static const char *
yes(bool b)
{
	return b ? "true" : "false";
}

void
metrics_json(struct buf *b, const struct metrics *m, const struct core *c, int64_t now)
{
	const struct metrics_probe	*p;
	size_t				 i;
	int				 k;

	buf_printf(b, "{\"state\":\"%s\",\"healthy\":%s,\"mode\":\"%s\"",
	    core_state_name(c->state), yes(core_healthy(c)), mode_name(c->mode));
	buf_printf(b, ",\"emergency\":%s,\"forced\":%s,\"emergency_configured\":%s",
	    yes(c->mode == MODE_EMERGENCY), yes(c->forced), yes(c->conf.emergency));
	buf_printf(b, ",\"shutting_down\":%s", yes(c->shutdown));
	if (c->pid != 0)
		buf_printf(b, ",\"pid\":%ld", (long)c->pid);
	else
		buf_puts(b, ",\"pid\":null");
	buf_printf(b, ",\"attempt\":%d,\"uptime_seconds\":", c->spawns);
	secs(b, now - m->started);
	buf_puts(b, ",\"child_uptime_seconds\":");
	if (c->pid != 0)
		secs(b, child_uptime(c, now));
	else
		buf_puts(b, "null");
	buf_printf(b, ",\"restarts_total\":%d,\"restarts\":{", restarts_total(c));
	for (i = 0; i < nitems(restart_causes); i++)
		buf_printf(b, "%s\"%s\":%d", i > 0 ? "," : "",
		    core_cause_name(restart_causes[i]), c->restarts[restart_causes[i]]);
	buf_puts(b, "},\"last_failure\":");
	if (m->fail_cause != CAUSE_NONE) {
		buf_puts(b, "{\"cause\":\"");
		metrics_cause(b, m->fail_cause, m->fail_arg);
		buf_puts(b, "\",\"ago_seconds\":");
		secs(b, now - m->fail_at);
		buf_puts(b, ",\"at\":");
		timestamp(b, m, m->fail_at);
		buf_puts(b, "}");
	} else
		buf_puts(b, "null");
	buf_puts(b, ",\"backoff_seconds\":");
	if (c->state == ST_BACKOFF && c->backoff_until >= 0)
		secs(b, c->backoff_until - now);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"last_ok_ago_seconds\":");
	if (c->last_ok >= 0)
		secs(b, now - c->last_ok);
	else
		buf_puts(b, "null");
	buf_printf(b, ",\"probes_total\":%llu,\"probes\":[", (unsigned long long)m->probes);
	for (k = 0; k < m->nhistory; k++) {
		p = recent(m, k);
		buf_printf(b, "%s{\"result\":\"%s\",\"http_status\":", k > 0 ? "," : "",
		    probe_result_name(p->result));
		if (p->http_status != 0)
			buf_printf(b, "%d", p->http_status);
		else
			buf_puts(b, "null");
		buf_printf(b, ",\"latency_ms\":%lld,\"ago_seconds\":", (long long)p->latency);
		secs(b, now - p->at);
		buf_puts(b, ",\"at\":");
		timestamp(b, m, p->at);
		buf_puts(b, "}");
	}
	buf_puts(b, "]}\n");
}

static void
help(struct buf *b, const char *name, const char *type, const char *text)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

void
metrics_prometheus(struct buf *b, const struct metrics *m, const struct core *c,
    int64_t now)
{
	uint64_t	cum = 0;
	size_t		i;
	int		s;

	help(b, "tend_state", "gauge", "1 for the supervisor's current state, 0 for the others.");
	for (s = 0; s < CORE_NSTATES; s++)
		buf_printf(b, "tend_state{state=\"%s\"} %d\n", core_state_name((enum core_state)s),
		    c->state == (enum core_state)s);
	help(b, "tend_healthy", "gauge", "1 while the child is healthy (normal or emergency mode).");
	buf_printf(b, "tend_healthy %d\n", core_healthy(c));
	help(b, "tend_emergency_mode", "gauge", "1 while the child runs in emergency mode.");
	buf_printf(b, "tend_emergency_mode %d\n", c->mode == MODE_EMERGENCY);
	help(b, "tend_emergency_forced", "gauge", "1 while an operator forces emergency mode.");
	buf_printf(b, "tend_emergency_forced %d\n", c->forced);
	help(b, "tend_restarts_total", "counter", "Restarts of the child, by cause.");
	for (i = 0; i < nitems(restart_causes); i++)
		buf_printf(b, "tend_restarts_total{cause=\"%s\"} %d\n",
		    core_cause_name(restart_causes[i]), c->restarts[restart_causes[i]]);
	help(b, "tend_spawns_total", "counter", "Children started since tend started.");
	buf_printf(b, "tend_spawns_total %d\n", c->spawns);
	help(b, "tend_probe_duration_seconds", "histogram", "Duration of health probes.");
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cum += m->buckets[i];
		buf_puts(b, "tend_probe_duration_seconds_bucket{le=\"");
		secs(b, bucket_ms[i]);
		buf_printf(b, "\"} %llu\n", (unsigned long long)cum);
	}
	buf_printf(b, "tend_probe_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)m->probes);
	buf_puts(b, "tend_probe_duration_seconds_sum ");
	secs(b, m->latency_sum);
	buf_printf(b, "\ntend_probe_duration_seconds_count %llu\n", (unsigned long long)m->probes);
	help(b, "tend_probe_failures_total", "counter", "Failed health probes, by result.");
	for (s = 0; s < PROBE_NRESULTS; s++)
		if (s != PROBE_OK)
			buf_printf(b, "tend_probe_failures_total{result=\"%s\"} %llu\n",
			    probe_result_name((enum probe_result)s),
			    (unsigned long long)m->by_result[s]);
	help(b, "tend_child_uptime_seconds", "gauge",
	    "Seconds since the current child started (0: no child).");
	buf_puts(b, "tend_child_uptime_seconds ");
	secs(b, child_uptime(c, now));
	buf_puts(b, "\n");
	help(b, "tend_uptime_seconds", "gauge", "Seconds since tend started.");
	buf_puts(b, "tend_uptime_seconds ");
	secs(b, now - m->started);
	buf_puts(b, "\n");
	help(b, "tend_backoff_remaining_seconds", "gauge",
	    "Seconds until the next start while in backoff (0 otherwise).");
	buf_puts(b, "tend_backoff_remaining_seconds ");
	secs(b, c->state == ST_BACKOFF ? c->backoff_until - now : 0);
	buf_puts(b, "\n");
	help(b, "tend_last_failure_timestamp_seconds", "gauge",
	    "Unix time of the child's last failure (0: none).");
	buf_puts(b, "tend_last_failure_timestamp_seconds ");
	secs(b, m->fail_cause != CAUSE_NONE ? m->fail_at + m->wall_offset : 0);
	buf_puts(b, "\n");
}

/* A coarse age: "5s", "2m", "3h", "4d". */
static void
ago(struct buf *b, int64_t ms)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;

	if (s < 60)
		buf_printf(b, "%llds", (long long)s);
	else if (s < 3600)
		buf_printf(b, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		buf_printf(b, "%lldh", (long long)(s / 3600));
	else
		buf_printf(b, "%lldd", (long long)(s / 86400));
}

/* A duration to the second ("2m13s"), or to the ms below one second. */
static void
duration(struct buf *b, int64_t ms)
{
	char d[32];

	if (ms < 0)
		ms = 0;
	format_duration(ms >= 1000 ? ms / 1000 * 1000 : ms, d, sizeof d);
	buf_puts(b, d);
}

void
metrics_status_line(struct buf *b, const struct metrics *m, const struct core *c,
    int64_t now)
{
	int n = restarts_total(c);

	buf_puts(b, core_state_name(c->state));
	if (c->forced)
		buf_puts(b, " (forced)");
	if (c->state == ST_EXITED)
		buf_printf(b, ", code %d", c->exit_code);
	if (c->state == ST_BACKOFF && c->backoff_until >= 0) {
		buf_puts(b, ", next start in ");
		duration(b, c->backoff_until - now);
	}
	if (n == 0)
		buf_puts(b, ", no restarts");
	else
		buf_printf(b, ", %d restart%s", n, n == 1 ? "" : "s");
	if (m->fail_cause != CAUSE_NONE) {
		buf_puts(b, ", last: ");
		metrics_cause(b, m->fail_cause, m->fail_arg);
		buf_puts(b, " ");
		ago(b, now - m->fail_at);
		buf_puts(b, " ago");
	}
}

void
metrics_summary(struct buf *b, const struct metrics *m, const struct core *c, int64_t now)
{
	const struct metrics_probe	*p;
	size_t				 i;
	int				 k, shown = 0;

	buf_printf(b, "state:        %s (%s)\n", core_state_name(c->state),
	    core_healthy(c) ? "healthy" : "not healthy");
	buf_printf(b, "mode:         %s%s\n", mode_name(c->mode),
	    c->forced ? " (forced by an operator)" : "");
	if (c->pid != 0) {
		buf_printf(b, "child:        pid %ld, up ", (long)c->pid);
		duration(b, child_uptime(c, now));
		buf_printf(b, ", attempt %d\n", c->spawns);
	} else
		buf_printf(b, "child:        none, attempt %d\n", c->spawns);
	if (c->state == ST_BACKOFF && c->backoff_until >= 0) {
		buf_puts(b, "backoff:      next start in ");
		duration(b, c->backoff_until - now);
		buf_puts(b, "\n");
	}
	buf_puts(b, "tend:         up ");
	duration(b, now - m->started);
	buf_printf(b, "%s\n", c->shutdown ? ", shutting down" : "");
	buf_printf(b, "restarts:     %d", restarts_total(c));
	for (i = 0; i < nitems(restart_causes); i++) {
		if (c->restarts[restart_causes[i]] == 0)
			continue;
		buf_printf(b, "%s%s %d", shown++ == 0 ? " (" : ", ",
		    core_cause_name(restart_causes[i]), c->restarts[restart_causes[i]]);
	}
	buf_puts(b, shown > 0 ? ")\n" : "\n");
	if (m->fail_cause != CAUSE_NONE) {
		buf_puts(b, "last failure: ");
		metrics_cause(b, m->fail_cause, m->fail_arg);
		buf_puts(b, ", ");
		duration(b, now - m->fail_at);
		buf_puts(b, " ago\n");
	}
	for (k = 0; k < m->nhistory && k < 5; k++) {
		p = recent(m, k);
		buf_puts(b, k == 0 ? "probes:       " : "              ");
		buf_puts(b, probe_result_name(p->result));
		if (p->http_status != 0)
			buf_printf(b, " %d", p->http_status);
		buf_printf(b, " in %lldms, ", (long long)p->latency);
		duration(b, now - p->at);
		buf_puts(b, " ago\n");
	}
}
