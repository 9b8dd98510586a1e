/*
 * The wait_for waiter on a private libev loop against real sockets on 127.0.0.1: a
 * target that is there, one that comes late, one that never comes (the timeout), an
 * HTTP target that answers 503 before 200, no targets, and freeing mid-wait.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <criterion/criterion.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deps.h"

struct outcome {
	int	calls;
	bool	ready;
	double	at;	/* seconds after the start */
};

static struct ev_loop *loop;
static double t0;

static void
setup(void)
{
	loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(loop);
	ev_now_update(loop);
	t0 = ev_now(loop);
}

static void
teardown(void)
{
	ev_loop_destroy(loop);
}

static void
on_done(void *arg, bool ready)
{
	struct outcome *o = arg;

	o->calls++;
	o->ready = ready;
	ev_now_update(loop);
	o->at = ev_now(loop) - t0;
	ev_break(loop, EVBREAK_ALL);
}

/* A TCP socket bound to a free port on 127.0.0.1, not listening yet (connects refused). */
static int
bound_socket(int *port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)
	};
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_neq(fd, -1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
on_guard(struct ev_loop *l, ev_timer *w, int revents)
{
	ev_break(l, EVBREAK_ALL);
}

/* Run the loop for at most secs (a safety net: the waiter should end it first). */
static void
run_for(double secs)
{
	ev_timer guard;

	ev_timer_init(&guard, on_guard, secs, 0.);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	ev_timer_stop(loop, &guard);
}

TestSuite(deps, .init = setup, .fini = teardown, .timeout = 20);

Test(deps, target_up_already)
{
	struct outcome o = { 0 };
	char target[64], *v[] = { target };
	int port, fd = bound_socket(&port);
	struct deps *d;

	cr_assert_eq(listen(fd, 4), 0);
	snprintf(target, sizeof target, "tcp://127.0.0.1:%d", port);
	d = deps_new(loop, v, 1, 5000);
	deps_start(d, on_done, &o);
	cr_assert_eq(o.calls, 0, "never called inside deps_start");
	run_for(5);
	cr_assert_eq(o.calls, 1);
	cr_assert(o.ready);
	cr_assert_lt(o.at, 3.0, "ready at %.3fs: a target up from the start took retries", o.at);
	deps_free(d);
	close(fd);
}

static void
on_listen_late(struct ev_loop *l, ev_timer *w, int revents)
{
	cr_assert_eq(listen(*(int *)w->data, 4), 0);
}

Test(deps, target_comes_late)
{
	struct outcome o = { 0 };
	char a[64], b[64], *v[] = { a, b };
	int pa, pb, fa = bound_socket(&pa), fb = bound_socket(&pb);
	struct deps *d;
	ev_timer late;

	cr_assert_eq(listen(fa, 4), 0);
	snprintf(a, sizeof a, "tcp://127.0.0.1:%d", pa);
	snprintf(b, sizeof b, "tcp://127.0.0.1:%d", pb);
	ev_timer_init(&late, on_listen_late, 0.6, 0.);
	late.data = &fb;
	ev_timer_start(loop, &late);
	d = deps_new(loop, v, 2, 0);
	deps_start(d, on_done, &o);
	run_for(10);
	cr_assert_eq(o.calls, 1);
	cr_assert(o.ready);
	cr_assert_geq(o.at, 0.55, "ready at %.3fs, before the target listened", o.at);
	cr_assert_lt(o.at, 4.0, "retries too slow: %.3fs", o.at);
	deps_free(d);
	close(fa);
	close(fb);
}

Test(deps, timeout_names_the_missing)
{
	struct outcome o = { 0 };
	char a[64], *v[] = { a };
	int pa, fa = bound_socket(&pa);
	struct deps *d;

	snprintf(a, sizeof a, "tcp://127.0.0.1:%d", pa);
	d = deps_new(loop, v, 1, 500);
	deps_start(d, on_done, &o);
	run_for(10);
	cr_assert_eq(o.calls, 1);
	cr_assert_not(o.ready);
	cr_assert_geq(o.at, 0.45);
	cr_assert_lt(o.at, 3.0);
	/* Started again (wait_each_start): the same object waits afresh. */
	cr_assert_eq(listen(fa, 4), 0);
	ev_now_update(loop);
	t0 = ev_now(loop);
	deps_start(d, on_done, &o);
	run_for(10);
	cr_assert_eq(o.calls, 2);
	cr_assert(o.ready);
	deps_free(d);
	close(fa);
}

/* Serve HTTP on fd: 503 for the first n connections, then 200; counts in the exit code. */
static pid_t
http_server(int fd, int n503)
{
	pid_t pid = fork();

	cr_assert_neq(pid, -1);
	if (pid != 0)
		return pid;
	for (int i = 0;; i++) {
		char buf[4096];
		int c = accept(fd, NULL, NULL);
		const char *ans = i < n503 ?
		    "HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" :
		    "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";

		if (c == -1)
			_exit(1);
		(void)read(c, buf, sizeof buf);
		(void)write(c, ans, strlen(ans));
		close(c);
	}
}

Test(deps, http_needs_2xx)
{
	struct outcome o = { 0 };
	char a[96], *v[] = { a };
	int pa, fa = bound_socket(&pa), status;
	struct deps *d;
	pid_t srv;

	cr_assert_eq(listen(fa, 8), 0);
	srv = http_server(fa, 3);
	snprintf(a, sizeof a, "http://127.0.0.1:%d/ready", pa);
	d = deps_new(loop, v, 1, 10000);
	deps_start(d, on_done, &o);
	run_for(15);
	kill(srv, SIGKILL);
	waitpid(srv, &status, 0);
	cr_assert_eq(o.calls, 1);
	cr_assert(o.ready);
	/* Three 503s with pauses of 100, 200 and 400 ms in between. */
	cr_assert_geq(o.at, 0.65, "ready at %.3fs: were the 503s taken as answers?", o.at);
	deps_free(d);
	close(fa);
}

Test(deps, no_targets_ready_from_the_loop)
{
	struct outcome o = { 0 };
	struct deps *d = deps_new(loop, NULL, 0, 0);

	deps_start(d, on_done, &o);
	cr_assert_eq(o.calls, 0);
	run_for(5);
	cr_assert_eq(o.calls, 1);
	cr_assert(o.ready);
	deps_free(d);
}

Test(deps, freed_mid_wait)
{
	struct outcome o = { 0 };
	char a[64], b[64], *v[] = { a, b };
	int pa, fa = bound_socket(&pa);
	struct deps *d;

	snprintf(a, sizeof a, "tcp://127.0.0.1:%d", pa);
	snprintf(b, sizeof b, "http://127.0.0.1:%d/x", pa);
	d = deps_new(loop, v, 2, 0);
	deps_start(d, on_done, &o);
	run_for(0.3);
	deps_cancel(d);
	run_for(0.3);
	deps_free(d);
	run_for(0.2);
	cr_assert_eq(o.calls, 0);
	close(fa);
}
