/*
 * The status endpoint's request reader, its routes and answers, the renderers (JSON,
 * Prometheus, summary, STATUS= line) and the control commands, against a core set up
 * by hand (no sockets: status_new without [status] keys opens none).
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "buf.h"
#include "client.h"
#include "config.h"
#include "core.h"
#include "metrics.h"
#include "request.h"
#include "status.h"

/* --- the request reader ---------------------------------------------------------------- */

static struct request req;

/* Scan s in one go and parse its head: 0, the status to answer, or -1 (more needed). */
static int
parse(const char *s)
{
	struct request_scanner	sc;
	size_t			head = 0;

	memset(&sc, 0, sizeof sc);
	switch (request_scan(&sc, s, strlen(s), &head)) {
	case REQ_MORE:
		return -1;
	case REQ_LINE_TOO_LONG:
		return 414;
	case REQ_HEAD_TOO_LARGE:
		return 431;
	case REQ_HEAD:
		break;
	}
	return request_parse(&req, s, head);
}

Test(request, get_and_head)
{
	cr_assert_eq(parse("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	cr_assert_str_eq(req.path, "/healthz");
	cr_assert(!req.head);
	cr_assert_eq(req.minor, 1);
	cr_assert_eq(parse("HEAD /status?x=1 HTTP/1.0\r\n\r\n"), 0);
	cr_assert(req.head);
	cr_assert_str_eq(req.path, "/status");
	cr_assert_eq(parse("GET /a HTTP/1.1\nHost: x\n\n"), 0, "bare LF line ends");
	cr_assert_eq(parse("GET http://h:9/metrics HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	cr_assert_str_eq(req.path, "/metrics");
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), 0);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nhOsT:x\r\nX-A: \t b \t\r\n\r\n"), 0);
}

Test(request, incomplete)
{
	cr_assert_eq(parse(""), -1);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\n"), -1);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\n\r"), -1);
}

Test(request, methods_and_bodies)
{
	cr_assert_eq(parse("POST / HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
	cr_assert_eq(parse("get / HTTP/1.1\r\nHost: x\r\n\r\n"), 405, "methods are case-sensitive");
	cr_assert_eq(parse("DELETE / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"), 405);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"), 413);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
	    413);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n"), 413);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n"), 400);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), 400);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n"), 400);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400);
}

Test(request, malformed)
{
	static const char *const bad[] = {
		"\r\n\r\n",
		"GET\r\n\r\n",
		"GET /\r\nHost: x\r\n\r\n",
		"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",			/* no Host in 1.1 */
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
		"GET / HTTP/1.1\r\nNo colon\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\001\r\n\r\n",
		"GET / HTTP/1.x\r\nHost: x\r\n\r\n",
		"GET / FTP/1.1\r\nHost: x\r\n\r\n",
		"GET x HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET http://host HTTP/1.1\r\nHost: x\r\n\r\n",
		"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(parse(bad[i]), 400, "case %zu: %s", i, bad[i]);
		cr_assert_not_null(req.why);
	}
	cr_assert_eq(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
}

Test(request, bounds)
{
	char	*s = malloc(REQUEST_HEAD_MAX * 2);
	size_t	 n;

	/* A request line of exactly the bound passes; one byte more is 414. */
	n = (size_t)sprintf(s, "GET /");
	memset(s + n, 'a', REQUEST_LINE_MAX - n - 11);
	strcpy(s + REQUEST_LINE_MAX - 11, " HTTP/1.0\r\n\r\n");
	cr_assert_eq(strchr(s, '\n') - s + 1, REQUEST_LINE_MAX);
	cr_assert_eq(parse(s), 0);
	n = (size_t)sprintf(s, "GET /");
	memset(s + n, 'a', REQUEST_LINE_MAX - n - 10);
	strcpy(s + REQUEST_LINE_MAX - 10, " HTTP/1.0\r\n\r\n");
	cr_assert_eq(parse(s), 414);
	/* Without a newline the line is too long once it reaches the bound. */
	memset(s, 'a', REQUEST_LINE_MAX);
	s[REQUEST_LINE_MAX] = '\0';
	cr_assert_eq(parse(s), 414);
	s[REQUEST_LINE_MAX - 1] = '\0';
	cr_assert_eq(parse(s), -1);
	/* Headers: up to the bound, then 431. */
	n = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: x\r\nX: ");
	memset(s + n, 'b', REQUEST_HEAD_MAX - n - 4);
	strcpy(s + REQUEST_HEAD_MAX - 4, "\r\n\r\n");
	cr_assert_eq(strlen(s), REQUEST_HEAD_MAX);
	cr_assert_eq(parse(s), 0);
	memset(s + n, 'b', REQUEST_HEAD_MAX - n - 3);
	strcpy(s + REQUEST_HEAD_MAX - 3, "\r\n\r\n");
	cr_assert_eq(parse(s), 431);
	free(s);
}

Test(request, byte_by_byte)
{
	const char		*s = "GET /readyz HTTP/1.1\r\nHost: x\r\nA: b\r\n\r\nrest";
	struct request_scanner	 sc;
	size_t			 i, head = 0;
	enum request_scan	 r = REQ_MORE;

	memset(&sc, 0, sizeof sc);
	for (i = 1; i <= strlen(s) && r == REQ_MORE; i++)
		r = request_scan(&sc, s, i, &head);
	cr_assert_eq(r, REQ_HEAD);
	cr_assert_eq(head, strlen(s) - 4);
	cr_assert_eq(request_parse(&req, s, head), 0);
	cr_assert_str_eq(req.path, "/readyz");
}

/* --- the status object on a hand-made core --------------------------------------------- */

static struct core	 c;
static struct config	 cfg;
static struct ev_loop	*loop;
static struct status	*st;
static struct buf	 out;
static int		 nops;
static enum core_event_type last_op;
static bool		 last_on;

/* The supervisor's part: feed the request to the core. */
static void
op(void *arg, enum core_event_type type, bool on)
{
	struct core_event	ev;
	struct core_actions	acts;

	nops++;
	last_op = type;
	last_on = on;
	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.on = on;
	ev.now = 50000;
	core_handle(&c, &ev, &acts);
}

static void
setup(void)
{
	struct core_conf cc;

	unsetenv("NOTIFY_SOCKET");
	memset(&cc, 0, sizeof cc);
	cc.limit_burst = 5;
	cc.limit_interval = 60000;
	cc.backoff = cc.backoff_max = 1000;
	cc.startup_interval = cc.health_interval = 1000;
	cc.failure_threshold = cc.success_threshold = 1;
	cc.health[0] = cc.health[1] = true;
	cc.stop_timeout = 1000;
	cc.stop_signal = 15;
	cc.emergency = true;
	core_init(&c, &cc, 1);
	c.state = ST_RUNNING;
	c.pid = 42;
	c.spawns = 1;
	memset(&cfg, 0, sizeof cfg);
	loop = ev_loop_new(EVFLAG_AUTO);
	st = status_new(loop, &cfg, &c, op, NULL);
	cr_assert_not_null(st);
	buf_init(&out, 1 << 20);
	nops = 0;
}

static void
teardown(void)
{
	status_free(st);
	ev_loop_destroy(loop);
	buf_free(&out);
}

static int
http(const char *s)
{
	buf_reset(&out);
	return status_http(st, s, strlen(s), false, &out);
}

/* The body of the last answer. */
static const char *
body(void)
{
	const char *p = strstr(out.p, "\r\n\r\n");

	cr_assert_not_null(p);
	return p + 4;
}

TestSuite(status, .init = setup, .fini = teardown);

Test(status, healthz_readyz)
{
	cr_assert_eq(http("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	cr_assert(strncmp(out.p, "HTTP/1.1 200 OK\r\n", 17) == 0);
	cr_assert_not_null(strstr(out.p, "Connection: close\r\n"));
	cr_assert_not_null(strstr(out.p, "Content-Length: 3\r\n"));
	cr_assert_str_eq(body(), "ok\n");
	cr_assert_eq(http("GET /readyz HTTP/1.0\r\n\r\n"), 200);
	cr_assert_str_eq(body(), "ready: running\n");
	c.state = ST_EMERGENCY_RUNNING;
	cr_assert_eq(http("GET /readyz HTTP/1.0\r\n\r\n"), 200);
	c.state = ST_BACKOFF;
	cr_assert_eq(http("GET /readyz HTTP/1.0\r\n\r\n"), 503);
	cr_assert_str_eq(body(), "not ready: backoff\n");
	cr_assert(strncmp(out.p, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0);
}

Test(status, head_has_no_body)
{
	cr_assert_eq(http("HEAD /healthz HTTP/1.0\r\n\r\n"), 200);
	cr_assert_not_null(strstr(out.p, "Content-Length: 3\r\n"));
	cr_assert_str_eq(body(), "");
}

Test(status, errors)
{
	cr_assert_eq(http("GET /nope HTTP/1.0\r\n\r\n"), 404);
	cr_assert_eq(http("POST /status HTTP/1.0\r\n\r\n"), 405);
	cr_assert_not_null(strstr(out.p, "Allow: GET, HEAD\r\n"));
	cr_assert_eq(http("GET /status HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n"), 413);
	cr_assert_eq(http("GARBAGE\r\n\r\n"), 400);
	cr_assert_eq(http("GET /status HTTP/1.1\r\nHost: x\r\n"), 0, "incomplete: wait");
	buf_reset(&out);
	cr_assert_eq(status_http(st, "GET /", 5, true, &out), 400, "closed mid-head");
}

Test(status, status_json)
{
	cr_assert_eq(http("GET /status HTTP/1.0\r\n\r\n"), 200);
	cr_assert_not_null(strstr(out.p, "Content-Type: application/json\r\n"));
	cr_assert_not_null(strstr(body(), "\"state\":\"running\""));
	cr_assert_not_null(strstr(body(), "\"healthy\":true"));
	cr_assert_not_null(strstr(body(), "\"pid\":42"));
	cr_assert_not_null(strstr(body(), "\"last_failure\":null"));
	cr_assert_not_null(strstr(body(), "\"probes\":[]"));
}

Test(status, metrics_text)
{
	status_probe(st, PROBE_OK, 200, 3);
	status_probe(st, PROBE_TIMEOUT, 0, 2000);
	cr_assert_eq(http("GET /metrics HTTP/1.0\r\n\r\n"), 200);
	cr_assert_not_null(strstr(body(), "tend_state{state=\"running\"} 1\n"));
	cr_assert_not_null(strstr(body(), "tend_state{state=\"starting\"} 0\n"));
	cr_assert_not_null(strstr(body(), "# TYPE tend_probe_duration_seconds histogram\n"));
	cr_assert_not_null(strstr(body(), "tend_probe_duration_seconds_bucket{le=\"0.005\"} 1\n"));
	cr_assert_not_null(strstr(body(), "tend_probe_duration_seconds_bucket{le=\"1.000\"} 1\n"));
	cr_assert_not_null(strstr(body(), "tend_probe_duration_seconds_bucket{le=\"2.500\"} 2\n"));
	cr_assert_not_null(strstr(body(), "tend_probe_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
	cr_assert_not_null(strstr(body(), "tend_probe_duration_seconds_sum 2.003\n"));
	cr_assert_not_null(strstr(body(), "tend_probe_duration_seconds_count 2\n"));
	cr_assert_not_null(strstr(body(), "tend_probe_failures_total{result=\"timeout\"} 1\n"));
	cr_assert_not_null(strstr(body(), "tend_probe_failures_total{result=\"refused\"} 0\n"));
	cr_assert_null(strstr(body(), "result=\"ok\""));
	cr_assert_not_null(strstr(body(), "tend_emergency_mode 0\n"));
	cr_assert_not_null(strstr(body(), "tend_restarts_total{cause=\"hang\"} 0\n"));
}

/* --- renderers with a fixed clock ------------------------------------------------------- */

Test(metrics, history_ring_and_json)
{
	struct metrics	m;
	struct buf	b;
	int		i;

	setup();
	metrics_init(&m, 1000, 1700000000000LL);
	for (i = 0; i < 15; i++)
		metrics_probe(&m, 1000 + i * 100, i == 14 ? PROBE_BAD_STATUS : PROBE_OK,
		    i == 14 ? 503 : 200, i);
	cr_assert_eq(m.nhistory, METRICS_HISTORY);
	cr_assert_eq(m.probes, 15);
	buf_init(&b, 1 << 16);
	metrics_json(&b, &m, &c, 3000);
	cr_assert_not_null(strstr(b.p, "\"probes_total\":15,\"probes\":[{\"result\":\"bad-status\","
	    "\"http_status\":503,\"latency_ms\":14,\"ago_seconds\":0.600,"
	    "\"at\":\"2023-11-14T22:13:21.400Z\"}"), "%s", b.p);
	/* The oldest kept is the 6th (latency 5): 10 entries. */
	cr_assert_not_null(strstr(b.p, "\"latency_ms\":5,"));
	cr_assert_null(strstr(b.p, "\"latency_ms\":4,"));
	cr_assert_not_null(strstr(b.p, "\"uptime_seconds\":2.000"));
	buf_free(&b);
	teardown();
}

Test(metrics, failure_and_status_line)
{
	struct metrics	m;
	struct buf	b;

	setup();
	metrics_init(&m, 0, 0);
	buf_init(&b, 4096);
	metrics_status_line(&b, &m, &c, 1000);
	cr_assert_str_eq(b.p, "running, no restarts");
	c.restarts[CAUSE_HANG] = 2;
	c.restarts[CAUSE_EXIT] = 1;
	c.cause = CAUSE_HANG;
	c.last_failure_at = 10000;
	metrics_change(&m, &c);
	/* A planned stop afterwards is not a failure. */
	c.cause = CAUSE_OPERATOR;
	c.restarts[CAUSE_OPERATOR] = 1;
	metrics_change(&m, &c);
	buf_reset(&b);
	metrics_status_line(&b, &m, &c, 10000 + 150000);
	cr_assert_str_eq(b.p, "running, 4 restarts, last: hang 2m ago");
	c.cause = CAUSE_EXIT;
	c.cause_arg = 3;
	c.last_failure_at = 20000;
	c.state = ST_BACKOFF;
	c.backoff_until = 24000;
	metrics_change(&m, &c);
	buf_reset(&b);
	metrics_status_line(&b, &m, &c, 21000);
	cr_assert_str_eq(b.p, "backoff, next start in 3s, 4 restarts, last: exit:3 1s ago");
	buf_reset(&b);
	metrics_summary(&b, &m, &c, 21000);
	cr_assert_not_null(strstr(b.p, "state:        backoff (not healthy)\n"), "%s", b.p);
	cr_assert_not_null(strstr(b.p, "restarts:     4 (exit 1, hang 2, operator 1)\n"), "%s",
	    b.p);
	cr_assert_not_null(strstr(b.p, "last failure: exit:3, 1s ago\n"), "%s", b.p);
	buf_reset(&b);
	metrics_json(&b, &m, &c, 21000);
	cr_assert_not_null(strstr(b.p, "\"last_failure\":{\"cause\":\"exit:3\",\"ago_seconds\":1.000"),
	    "%s", b.p);
	cr_assert_not_null(strstr(b.p, "\"backoff_seconds\":3.000"), "%s", b.p);
	cr_assert_not_null(strstr(b.p, "\"restarts_total\":4,"), "%s", b.p);
	buf_free(&b);
	teardown();
}

Test(buf, bound_and_json)
{
	struct buf b;

	buf_init(&b, 8);
	buf_puts(&b, "12345");
	buf_printf(&b, "%d", 678);
	cr_assert_str_eq(b.p, "12345678");
	cr_assert(!b.full);
	buf_puts(&b, "9");
	cr_assert(b.full);
	cr_assert_eq(b.len, 8);
	buf_reset(&b);
	b.max = 64;
	buf_json_str(&b, "a\"b\\c\n\001");
	cr_assert_str_eq(b.p, "\"a\\\"b\\\\c\\u000a\\u0001\"");
	buf_free(&b);
}

/* --- control commands ---------------------------------------------------------------------- */

static const char *
control(const char *r)
{
	buf_reset(&out);
	status_control(st, r, &out);
	return out.p;
}

Test(status, control_check_and_status)
{
	cr_assert_str_eq(control("check"), "healthy: running\n");
	c.state = ST_STARTING;
	cr_assert_str_eq(control("check"), "unhealthy: starting\n");
	cr_assert(strncmp(control("status"), "state:        starting (not healthy)\n", 37) == 0);
	cr_assert(strncmp(control("status json"), "{\"state\":\"starting\"", 19) == 0);
	cr_assert(strncmp(control("bogus"), "error: unknown request", 22) == 0);
	cr_assert_eq(nops, 0);
}

Test(status, control_restart)
{
	cr_assert(strncmp(control("restart"), "ok: restart; state stopping", 27) == 0, "%s",
	    out.p);
	cr_assert_eq(nops, 1);
	cr_assert_eq(last_op, CE_OP_RESTART);
	/* The stop is under way: a second restart is refused, not queued. */
	cr_assert(strncmp(control("restart"), "error: a stop is under way", 26) == 0);
	cr_assert_eq(nops, 1);
}

Test(status, control_emergency)
{
	cr_assert(strncmp(control("emergency off"), "ok: emergency mode is not forced", 32) == 0);
	cr_assert_eq(nops, 0);
	cr_assert(strncmp(control("emergency on"), "ok: emergency on;", 17) == 0, "%s", out.p);
	cr_assert_eq(nops, 1);
	cr_assert(last_on);
	cr_assert(c.forced);
	cr_assert(strncmp(control("emergency on"), "ok: emergency mode is already forced", 36)
	    == 0);
	cr_assert_eq(nops, 1);
	c.conf.emergency = false;
	c.forced = false;
	c.state = ST_RUNNING;
	cr_assert(strncmp(control("emergency on"), "error: no emergency mode configured", 35)
	    == 0);
	/* Emergency mode tend chose itself: off asks for a trial of normal mode now. */
	c.mode = MODE_EMERGENCY;
	c.state = ST_EMERGENCY_RUNNING;
	cr_assert(strncmp(control("emergency off"), "ok: emergency off", 17) == 0, "%s", out.p);
	cr_assert_eq(nops, 2);
	cr_assert_not(last_on);
}

/* --- which argv is a client command ------------------------------------------------------ */

static int
cmd(const char *a0, ...)
{
	char	*argv[16];
	int	 argc = 0;
	va_list	 ap;

	argv[argc++] = (char *)"tend";
	va_start(ap, a0);
	for (const char *a = a0; a != NULL && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return client_command(argc, argv);
}

Test(client, command_word)
{
	cr_assert_eq(cmd("status", NULL), 1);
	cr_assert_eq(cmd("restart", NULL), 1);
	cr_assert_eq(cmd("emergency", "on", NULL), 1);
	cr_assert_eq(cmd("-c", "f.ini", "status", "--json", NULL), 3);
	cr_assert_eq(cmd("-cf.ini", "status", NULL), 2);
	cr_assert_eq(cmd("--config=f.ini", "restart", NULL), 2);
	cr_assert_eq(cmd("--status-control", "/s", "status", NULL), 3);
	cr_assert_eq(cmd("--health-url", "http://x/", "--no-subreaper", "status", NULL), 4);
	cr_assert_eq(cmd("--", "status", NULL), 0, "after --: a program named status");
	cr_assert_eq(cmd("-c", "f.ini", "--", "status", NULL), 0);
	cr_assert_eq(cmd("uvicorn", "status", NULL), 0);
	cr_assert_eq(cmd("--health-url", "status", "uvicorn", NULL), 0, "status is a value");
	cr_assert_eq(cmd("-h", "status", NULL), 0);
	cr_assert_eq(cmd("--check-config", "status", NULL), 0);
	cr_assert_eq(cmd(NULL), 0);
	cr_assert_eq(cmd("Status", NULL), 0);
}
