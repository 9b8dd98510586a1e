/*
 * The health probe against real sockets on 127.0.0.1: a forked child serves one
 * canned behaviour per test while a private libev loop runs the probe.
 */
#include "autoconf.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "probe.h"

enum mode {
	M_OK,		/* checks the request, answers 200 "all good" (400 if the request is off) */
	M_SILENT,	/* accepts, reads, never answers */
	M_GARBAGE,	/* not HTTP at all */
	M_HUGE_BODY,	/* a valid header, then 10 MB of body until close */
	M_HUGE_HEADER,	/* 10 MB of one header line */
	M_RESET_MID,	/* half a header, then RST */
	M_CLOSE_MID,	/* half a header, then FIN */
	M_EMPTY,	/* closes without a byte */
	M_503,
	M_CHUNKED,	/* chunked "all good" */
	M_DRIP,		/* the OK answer, one byte at a time */
};

struct server {
	pid_t	pid;
	int	port;
};

struct outcome {
	int			calls;
	enum probe_result	result;
	int			status;
	int64_t			ms;
};

static struct ev_loop *loop;
static struct probe *the_probe;

static const char ok_answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nall good";

/* Read the request (so closing sends FIN, not RST); fills req, NUL-terminated. */
static void
read_request(int fd, char *req, size_t len)
{
	size_t off = 0;

	req[0] = '\0';
	while (off + 1 < len && strstr(req, "\r\n\r\n") == NULL) {
		ssize_t n = read(fd, req + off, len - off - 1);

		if (n <= 0)
			return;
		off += (size_t)n;
		req[off] = '\0';
	}
}

static void
send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* 10 MB in 64 KiB pieces of one byte value. */
static void
send_flood(int fd, char c)
{
	static char piece[65536];

	memset(piece, c, sizeof piece);
	for (int i = 0; i < 160; i++)
		send_all(fd, piece, sizeof piece);
}

static void
answer(int fd, enum mode m, const char *host)
{
	char req[8192], want[64];
	struct linger lg = { 1, 0 };

	read_request(fd, req, sizeof req);
	switch (m) {
	case M_OK:
		snprintf(want, sizeof want, "\r\nHost: %s\r\n", host);
		if (strncmp(req, "GET /health?x=1 HTTP/1.1\r\n", 26) != 0 ||
		    strstr(req, want) == NULL || strstr(req, "\r\nConnection: close\r\n") == NULL ||
		    strstr(req, "\r\nUser-Agent: tend/") == NULL)
			send_all(fd, "HTTP/1.1 400 Bad\r\n\r\n", 20);
		else
			send_all(fd, ok_answer, sizeof ok_answer - 1);
		break;
	case M_SILENT:
		pause();
		break;
	case M_GARBAGE:
		send_all(fd, "\x16\x03\x01 hello, this is not http\r\n\r\n", 32);
		break;
	case M_HUGE_BODY:
		send_all(fd, "HTTP/1.1 200 OK\r\n\r\n", 19);
		send_flood(fd, 'x');
		break;
	case M_HUGE_HEADER:
		send_all(fd, "HTTP/1.1 200 OK\r\nX-Junk: ", 25);
		send_flood(fd, 'a');
		break;
	case M_RESET_MID:
		send_all(fd, "HTTP/1.1 200 OK\r\nContent-Le", 27);
		usleep(100 * 1000);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		break;
	case M_CLOSE_MID:
		send_all(fd, "HTTP/1.1 200 OK\r\nContent-Le", 27);
		break;
	case M_EMPTY:
		break;
	case M_503:
		send_all(fd, "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy", 44);
		break;
	case M_CHUNKED:
		send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "4;x=y\r\nall \r\n4\r\ngood\r\n0\r\nT: 1\r\n\r\n", 80);
		break;
	case M_DRIP:
		for (size_t i = 0; i < sizeof ok_answer - 1; i++) {
			send_all(fd, ok_answer + i, 1);
			usleep(5 * 1000);
		}
		break;
	}
	shutdown(fd, SHUT_WR);
	close(fd);
}

/* A listener on loopback (v4 or v6) and a child answering nconn connections with m. */
static struct server
serve_on(int family, enum mode m, int nconn)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = family == AF_INET ? sizeof *sin : sizeof *sin6;
	struct server s = { -1, 0 };
	char host[64];
	pid_t parent;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&ss, 0, sizeof ss);
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		sin6->sin6_addr = in6addr_loopback;
	if (fd == -1 || bind(fd, (struct sockaddr *)&ss, len) == -1) {
		cr_assert_neq(family, AF_INET, "cannot bind 127.0.0.1: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return s;	/* no IPv6 here: pid -1 */
	}
	cr_assert_eq(listen(fd, 16), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	s.port = ntohs(family == AF_INET ? sin->sin_port : sin6->sin6_port);
	snprintf(host, sizeof host, family == AF_INET ? "127.0.0.1:%d" : "[::1]:%d", s.port);
	parent = getpid();
	s.pid = fork();
	cr_assert_geq(s.pid, 0);
	if (s.pid == 0) {
		/* Die with the test (also when an assertion ends it early); free its pipes. */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent || null == -1)
			_exit(1);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		for (int i = 0; i < nconn; i++) {
			int c = accept(fd, NULL, NULL);

			if (c == -1)
				_exit(1);
			answer(c, m, host);
		}
		pause();	/* keep the listener until killed */
		_exit(0);
	}
	close(fd);
	return s;
}

static struct server
serve(enum mode m, int nconn)
{
	return serve_on(AF_INET, m, nconn);
}

static void
stop(struct server s)
{
	kill(s.pid, SIGKILL);
	waitpid(s.pid, NULL, 0);
}

/* A port where nothing listens (bound, then closed). */
static int
closed_port(void)
{
	struct server s = { 0, 0 };
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	s.port = ntohs(sin.sin_port);
	close(fd);
	return s.port;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
on_result(void *arg, enum probe_result r, int status, int64_t ms)
{
	struct outcome *o = arg;

	o->calls++;
	o->result = r;
	o->status = status;
	o->ms = ms;
	ev_break(loop, EVBREAK_ALL);
}

static void
on_guard(struct ev_loop *l, ev_timer *w, int revents)
{
	ev_break(l, EVBREAK_ALL);
}

/* Run one probe to completion on a fresh loop; checks no fd is left behind. */
static struct outcome
run_probe(enum url_scheme scheme, const char *host, int port, int64_t timeout,
    const char *expect_body, const struct status_ranges *ranges)
{
	struct url u;
	struct probe_spec spec = { &u, timeout, ranges, expect_body };
	struct outcome o = { 0, PROBE_ERROR, -1, -1 };
	ev_timer guard;
	int fds = count_fds();

	memset(&u, 0, sizeof u);
	u.scheme = scheme;
	snprintf(u.host, sizeof u.host, "%s", host);
	u.port = port;
	snprintf(u.path, sizeof u.path, "/health?x=1");
	loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(loop);
	the_probe = probe_new(loop);
	ev_timer_init(&guard, on_guard, 30., 0.);
	ev_timer_start(loop, &guard);
	probe_start(the_probe, &spec, on_result, &o);
	cr_assert_eq(o.calls, 0, "callback ran inside probe_start");
	ev_run(loop, 0);
	ev_timer_stop(loop, &guard);
	probe_free(the_probe);
	the_probe = NULL;
	ev_loop_destroy(loop);
	cr_assert_eq(o.calls, 1, "callback calls: %d", o.calls);
	cr_assert_eq(count_fds(), fds, "file descriptors leaked");
	return o;
}

static struct outcome
http_probe(enum mode m, int64_t timeout, const char *expect_body)
{
	struct server s = serve(m, 1);
	struct outcome o = run_probe(URL_HTTP, "127.0.0.1", s.port, timeout, expect_body, NULL);

	stop(s);
	return o;
}

#define assert_result(o, want) \
	cr_assert_eq((o).result, (want), "got %s, want %s", \
	    probe_result_name((o).result), probe_result_name(want))

TestSuite(probe, .timeout = 60);

Test(probe, names)
{
	cr_assert_str_eq(probe_result_name(PROBE_OK), "ok");
	cr_assert_str_eq(probe_result_name(PROBE_BAD_STATUS), "bad-status");
	cr_assert_str_eq(probe_result_name(PROBE_PROTOCOL), "protocol-error");
	cr_assert_str_eq(probe_result_name(PROBE_ERROR), "error");
	for (int i = 0; i < PROBE_NRESULTS; i++)
		cr_assert_not_null(probe_result_name((enum probe_result)i));
}

Test(probe, ok)
{
	struct outcome o = http_probe(M_OK, 5000, NULL);

	assert_result(o, PROBE_OK);
	cr_assert_eq(o.status, 200);
	cr_assert(o.ms >= 0 && o.ms < 5000);
}

Test(probe, refused)
{
	struct outcome o = run_probe(URL_HTTP, "127.0.0.1", closed_port(), 5000, NULL, NULL);

	assert_result(o, PROBE_REFUSED);
	cr_assert_eq(o.status, 0);
}

Test(probe, timeout)
{
	struct outcome o = http_probe(M_SILENT, 300, NULL);

	assert_result(o, PROBE_TIMEOUT);
	cr_assert(o.ms >= 250 && o.ms < 10000, "latency %lld", (long long)o.ms);
}

Test(probe, garbage)
{
	assert_result(http_probe(M_GARBAGE, 5000, NULL), PROBE_PROTOCOL);
}

Test(probe, huge_body_bounded)
{
	assert_result(http_probe(M_HUGE_BODY, 10000, "needle"), PROBE_PROTOCOL);
}

Test(probe, huge_body_ignored_without_expect_body)
{
	struct outcome o = http_probe(M_HUGE_BODY, 10000, NULL);

	assert_result(o, PROBE_OK);
	cr_assert_eq(o.status, 200);
}

Test(probe, huge_header_bounded)
{
	assert_result(http_probe(M_HUGE_HEADER, 10000, NULL), PROBE_PROTOCOL);
}

Test(probe, reset_mid_header)
{
	assert_result(http_probe(M_RESET_MID, 5000, NULL), PROBE_RESET);
}

Test(probe, closed_mid_header)
{
	assert_result(http_probe(M_CLOSE_MID, 5000, NULL), PROBE_RESET);
	assert_result(http_probe(M_EMPTY, 5000, NULL), PROBE_RESET);
}

Test(probe, bad_status)
{
	struct outcome o = http_probe(M_503, 5000, NULL);
	struct status_ranges only503 = { 1, { 503 }, { 503 } };
	struct server s;

	assert_result(o, PROBE_BAD_STATUS);
	cr_assert_eq(o.status, 503);
	s = serve(M_503, 1);
	o = run_probe(URL_HTTP, "127.0.0.1", s.port, 5000, NULL, &only503);
	stop(s);
	assert_result(o, PROBE_OK);
}

Test(probe, expect_body)
{
	assert_result(http_probe(M_OK, 5000, "good"), PROBE_OK);
	assert_result(http_probe(M_OK, 5000, "healthy"), PROBE_BAD_BODY);
	assert_result(http_probe(M_CHUNKED, 5000, "all good"), PROBE_OK);
	assert_result(http_probe(M_DRIP, 5000, "all good"), PROBE_OK);
}

Test(probe, tcp_connect_only)
{
	struct server s = serve(M_SILENT, 1);
	struct outcome o = run_probe(URL_TCP, "127.0.0.1", s.port, 5000, NULL, NULL);

	stop(s);
	assert_result(o, PROBE_OK);
	cr_assert_eq(o.status, 0);
	o = run_probe(URL_TCP, "127.0.0.1", closed_port(), 5000, NULL, NULL);
	assert_result(o, PROBE_REFUSED);
}

Test(probe, localhost_via_cares)
{
	struct server s = serve(M_CHUNKED, 1);
	struct outcome o = run_probe(URL_HTTP, "localhost", s.port, 10000, "good", NULL);

	stop(s);
	assert_result(o, PROBE_OK);
}

Test(probe, unresolvable)
{
	struct outcome o = run_probe(URL_HTTP, "nonexistent.invalid", 80, 3000, NULL, NULL);

	cr_assert(o.result == PROBE_DNS || o.result == PROBE_TIMEOUT, "got %s",
	    probe_result_name(o.result));
}

Test(probe, ipv6_literal)
{
	struct server s = serve_on(AF_INET6, M_OK, 1);
	struct outcome o;

	if (s.pid == -1)
		cr_skip_test("no IPv6 loopback here");
	o = run_probe(URL_HTTP, "::1", s.port, 5000, "good", NULL);
	stop(s);
	assert_result(o, PROBE_OK);	/* M_OK also checked "Host: [::1]:port" */
}

Test(probe, unsupported_targets)
{
	struct outcome o = run_probe(URL_UNIX, "", 0, 5000, NULL, NULL);

	assert_result(o, PROBE_ERROR);
	o = run_probe(URL_HTTP, "127.0.0.1\r\nX-Evil: 1", 80, 5000, NULL, NULL);
	assert_result(o, PROBE_ERROR);
	o = run_probe(URL_HTTP, "127.0.0.1", 0, 5000, NULL, NULL);
	assert_result(o, PROBE_ERROR);
}

static void
on_result_free(void *arg, enum probe_result r, int status, int64_t ms)
{
	on_result(arg, r, status, ms);
	probe_free(the_probe);
	the_probe = NULL;
}

Test(probe, callback_may_free)
{
	struct server s = serve(M_OK, 1);
	struct url u = { URL_HTTP, "127.0.0.1", s.port, "/health?x=1" };
	struct probe_spec spec = { &u, 5000, NULL, NULL };
	struct outcome o = { 0, PROBE_ERROR, 0, 0 };

	loop = ev_loop_new(EVFLAG_AUTO);
	the_probe = probe_new(loop);
	probe_start(the_probe, &spec, on_result_free, &o);
	ev_run(loop, 0);
	ev_loop_destroy(loop);
	stop(s);
	cr_assert_null(the_probe);
	cr_assert_eq(o.calls, 1);
	assert_result(o, PROBE_OK);
}

static void
on_result_again(void *arg, enum probe_result r, int status, int64_t ms)
{
	struct outcome *o = arg;
	static struct url u;
	static struct probe_spec spec;

	o->calls++;
	o->result = r;
	if (o->calls == 1) {
		/* restart from inside the callback: a name this time */
		u = (struct url){ URL_TCP, "localhost", closed_port(), "" };
		spec = (struct probe_spec){ &u, 5000, NULL, NULL };
		probe_start(the_probe, &spec, on_result_again, o);
	}
}

Test(probe, restart_from_callback_and_cancel)
{
	struct server s = serve(M_SILENT, 2);
	struct url u = { URL_TCP, "127.0.0.1", s.port, "" };
	struct url h = { URL_HTTP, "127.0.0.1", s.port, "/" };
	struct probe_spec spec = { &u, 5000, NULL, NULL };
	struct probe_spec hspec = { &h, 5000, NULL, NULL };
	struct outcome o = { 0, PROBE_ERROR, 0, 0 }, never = { 0, PROBE_ERROR, 0, 0 };
	int fds = count_fds();

	loop = ev_loop_new(EVFLAG_AUTO);
	the_probe = probe_new(loop);
	probe_start(the_probe, &spec, on_result_again, &o);
	ev_run(loop, 0);	/* ends when nothing is left to watch */
	cr_assert_eq(o.calls, 2);
	assert_result(o, PROBE_REFUSED);

	/* a new start cancels the old probe without calling it back */
	probe_start(the_probe, &hspec, on_result, &never);
	probe_start(the_probe, &spec, on_result, &o);
	ev_run(loop, 0);
	cr_assert_eq(never.calls, 0);
	cr_assert_eq(o.calls, 3);
	assert_result(o, PROBE_OK);

	/* cancel: the silent server would time out; nothing is called, nothing left */
	probe_start(the_probe, &hspec, on_result, &never);
	ev_run(loop, EVRUN_NOWAIT);
	probe_cancel(the_probe);
	ev_run(loop, 0);
	cr_assert_eq(never.calls, 0);

	/* a name lookup cancelled while under way */
	h = (struct url){ URL_HTTP, "nonexistent.invalid", 80, "/" };
	probe_start(the_probe, &hspec, on_result, &never);
	probe_cancel(the_probe);
	ev_run(loop, 0);
	cr_assert_eq(never.calls, 0);

	probe_free(the_probe);
	ev_loop_destroy(loop);
	stop(s);
	cr_assert_eq(count_fds(), fds, "file descriptors leaked");
}
