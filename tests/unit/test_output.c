/*
 * The line splitter (pure), then the output module with real pipes and a real libev
 * loop: a forked writer plays the child, a pipe (or socket, pty, /dev/full) plays tend's
 * stdout, and a watcher on the same loop reads what arrives.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "linebuf.h"
#include "output.h"
#include "xmalloc.h"

/* ---- linebuf ------------------------------------------------------------------------ */

/* Every chunk the splitter handed out, as "flags:bytes" records in one string. */
struct rec {
	char	*s;
	size_t	 len;
	int	 calls;
	int	 refuse_every;	/* refuse every n-th call (0: never) */
};

static bool
rec_cb(void *arg, const char *line, size_t len, int flags)
{
	struct rec *r = arg;

	r->calls++;
	if (r->refuse_every > 0 && r->calls % r->refuse_every == 0)
		return false;
	r->s = xreallocarray(r->s, r->len + len + 8, 1);
	r->len += (size_t)sprintf(r->s + r->len, "%d:", flags);
	memcpy(r->s + r->len, line, len);
	r->len += len;
	r->s[r->len++] = '|';
	return true;
}

/* Feed data in pieces of at most step bytes (re-feeding what was refused), then EOF. */
static void
split(struct rec *r, const char *data, size_t len, size_t step)
{
	static struct linebuf lb;
	size_t off = 0, n, used;

	linebuf_init(&lb);
	while (off < len) {
		n = len - off < step ? len - off : step;
		used = linebuf_feed(&lb, data + off, n, rec_cb, r);
		off += used;
	}
	while (!linebuf_finish(&lb, rec_cb, r))
		;
}

static void
rec_free(struct rec *r)
{
	free(r->s);
	memset(r, 0, sizeof *r);
}

static bool
rec_eq(const struct rec *a, const struct rec *b)
{
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

Test(linebuf, simple_crlf_nul_eof)
{
	struct rec r = { 0 };

	split(&r, "a\r\nb\0c\n\nlast", 12, 100);
	cr_assert_eq(r.len, 21, "%zu: %.*s", r.len, (int)r.len, r.s);
	cr_assert(memcmp(r.s, "1:a\r|1:b\0c|1:|0:last|", 21) == 0, "%.*s", (int)r.len, r.s);
	rec_free(&r);
	split(&r, "", 0, 1);
	cr_assert_eq(r.len, 0);
	split(&r, "x\n", 2, 1);
	cr_assert_eq(r.len, 4);
	rec_free(&r);
}

Test(linebuf, long_lines_are_cut_at_the_bound)
{
	size_t		 n = 3 * LINEBUF_MAX + 4000;
	char		*d = xmalloc(n + 1);
	struct rec	 r = { 0 };
	char		 want[64];

	memset(d, 'x', n);
	d[n] = '\n';
	split(&r, d, n + 1, n + 1);
	/* Three full partial chunks, then the rest with its newline. */
	cr_assert_eq(r.calls, 4);
	snprintf(want, sizeof want, "%d:", LINE_PARTIAL);
	cr_assert(memcmp(r.s, want, strlen(want)) == 0);
	snprintf(want, sizeof want, "|%d:", LINE_NEWLINE | LINE_CONT);
	cr_assert(memmem(r.s, r.len, want, strlen(want)) != NULL);
	rec_free(&r);
	/* Exactly the bound: one chunk. One more: two. */
	d[LINEBUF_MAX] = '\n';
	split(&r, d, LINEBUF_MAX + 1, 7);
	cr_assert_eq(r.calls, 1);
	rec_free(&r);
	d[LINEBUF_MAX] = 'x';
	d[LINEBUF_MAX + 1] = '\n';
	split(&r, d, LINEBUF_MAX + 2, 7);
	cr_assert_eq(r.calls, 2);
	rec_free(&r);
	/* Long line at EOF without newline: chunks, the last with CONT only. */
	d[LINEBUF_MAX + 1] = 'x';
	split(&r, d, 2 * LINEBUF_MAX + 1, 1000);
	cr_assert_eq(r.calls, 3);
	snprintf(want, sizeof want, "|%d:x|", LINE_CONT);
	cr_assert(r.len > strlen(want) &&
	    memcmp(r.s + r.len - strlen(want), want, strlen(want)) == 0);
	rec_free(&r);
	free(d);
}

/* Input whose lines are short, empty, exactly at, around and far past the bound. */
static char *
mixed_input(size_t *len)
{
	static const size_t lens[] = { 0, 1, 5, 0, LINEBUF_MAX - 1, LINEBUF_MAX,
	    LINEBUF_MAX + 1, 2 * LINEBUF_MAX, 2 * LINEBUF_MAX + 3, 17, 0, 3 };
	size_t	 i, j, off = 0, total = 0;
	char	*d;

	for (i = 0; i < nitems(lens); i++)
		total += lens[i] + 1;
	d = xmalloc(total);
	for (i = 0; i < nitems(lens); i++) {
		for (j = 0; j < lens[i]; j++)
			d[off++] = (char)("ab\r\0\xff"[(i + j) % 5]);
		d[off++] = '\n';
	}
	*len = off - 1;	/* the last line has no newline */
	return d;
}

Test(linebuf, same_chunks_however_the_bytes_come, .timeout = 120)
{
	size_t		 len, cut, i;
	char		*d = mixed_input(&len);
	struct rec	 ref = { 0 }, r = { 0 };
	static struct linebuf lb;
	static const size_t steps[] = { 1, 2, 3, 7, 4096, LINEBUF_MAX - 1, LINEBUF_MAX,
	    LINEBUF_MAX + 1, 65536 };

	split(&ref, d, len, len);
	for (i = 0; i < nitems(steps); i++) {
		split(&r, d, len, steps[i]);
		cr_assert(rec_eq(&ref, &r), "step %zu", steps[i]);
		rec_free(&r);
	}
	/* Two feeds, cut at every position. */
	for (cut = 0; cut <= len; cut++) {
		linebuf_init(&lb);
		cr_assert_eq(linebuf_feed(&lb, d, cut, rec_cb, &r), cut);
		cr_assert_eq(linebuf_feed(&lb, d + cut, len - cut, rec_cb, &r), len - cut);
		linebuf_finish(&lb, rec_cb, &r);
		cr_assert(rec_eq(&ref, &r), "cut at %zu", cut);
		rec_free(&r);
	}
	/* Refusals change nothing but the number of calls. */
	for (i = 2; i < 6; i++) {
		r.refuse_every = (int)i;
		split(&r, d, len, 5000);
		cr_assert(rec_eq(&ref, &r), "refuse every %zu", i);
		rec_free(&r);
	}
	rec_free(&ref);
	free(d);
}

/* ---- output: the harness ------------------------------------------------------------ */

/* Reads one destination on the loop, into a growing buffer. */
struct sinkbuf {
	ev_io	 w;
	int	 fd;
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

struct t {
	struct ev_loop	*loop;
	struct output	*o;
	struct sinkbuf	 out, err;
	int		 dest[2][2];	/* pipes standing in for tend's stdout, stderr */
	unsigned long	 lines[3];
	unsigned long	 partial;
	pid_t		 lastpid;
	ev_timer	 guard;
};

static void
sinkbuf_take(struct sinkbuf *s, const char *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->buf = xreallocarray(s->buf, s->cap, 1);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void
sinkbuf_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sinkbuf	*s = w->data;
	char		 b[65536];
	ssize_t		 n = read(s->fd, b, sizeof b);

	(void)revents;
	if (n > 0)
		sinkbuf_take(s, b, (size_t)n);
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		ev_io_stop(loop, w);
}

/* After the output is freed and the write end closed: read the rest, blocking. */
static void
sinkbuf_drain(struct sinkbuf *s)
{
	char	b[65536];
	ssize_t	n;

	fcntl(s->fd, F_SETFL, 0);
	while ((n = read(s->fd, b, sizeof b)) > 0)
		sinkbuf_take(s, b, (size_t)n);
}

static void
line_cb(void *arg, pid_t pid, int stream, const char *line, size_t len, bool partial)
{
	struct t *t = arg;

	(void)line;
	(void)len;
	cr_assert(stream == 1 || stream == 2);
	t->lines[stream]++;
	t->partial += partial;
	t->lastpid = pid;
}

static void
on_idle(void *arg)
{
	struct t *t = arg;

	ev_break(t->loop, EVBREAK_ALL);
}

static void
on_guard(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	cr_assert_fail("the output never became idle");
}

static void
on_stop(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Destinations are pipes (fd < 0 in out_fd: make one) read on the loop. */
static void
t_init(struct t *t, bool prefix, int out_fd, int err_fd)
{
	int i;

	memset(t, 0, sizeof *t);
	signal(SIGPIPE, SIG_IGN);
	t->loop = ev_loop_new(EVFLAG_AUTO);
	for (i = 0; i < 2; i++) {
		struct sinkbuf *s = i == 0 ? &t->out : &t->err;
		int given = i == 0 ? out_fd : err_fd;

		t->dest[i][0] = t->dest[i][1] = -1;
		if (given < 0) {
			cr_assert_eq(pipe2(t->dest[i], O_CLOEXEC), 0);
			fcntl(t->dest[i][0], F_SETFL, O_NONBLOCK);
			s->fd = t->dest[i][0];
			ev_io_init(&s->w, sinkbuf_cb, s->fd, EV_READ);
			s->w.data = s;
			ev_io_start(t->loop, &s->w);
		} else
			t->dest[i][1] = given;
	}
	t->o = output_new(t->loop, t->dest[0][1], t->dest[1][1], prefix, line_cb, t);
	output_set_idle_cb(t->o, on_idle, t);
	ev_timer_init(&t->guard, on_guard, 60., 0.);
	ev_timer_start(t->loop, &t->guard);
}

/* Fork a writer with the output's pipes as stdout and stderr, and attach it. */
static pid_t
t_spawn(struct t *t, void (*writer)(void *), void *arg)
{
	int	fds[2];
	pid_t	pid;

	cr_assert_eq(output_pipes(t->o, fds), 0);
	cr_assert(fds[0] > 2 && fds[1] > 2);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (dup2(fds[0], 1) < 0 || dup2(fds[1], 2) < 0)
			_exit(99);
		close_range(3, ~0U, 0);
		writer(arg);
		fflush(stdout);
		fflush(stderr);
		_exit(0);
	}
	output_attach(t->o, pid, "/some/dir/writer");
	return pid;
}

static void
t_run(struct t *t)
{
	ev_run(t->loop, 0);
}

/* Free the output, close the destinations and read what is left. */
static void
t_finish(struct t *t)
{
	int i;

	output_free(t->o);
	ev_timer_stop(t->loop, &t->guard);
	for (i = 0; i < 2; i++) {
		struct sinkbuf *s = i == 0 ? &t->out : &t->err;

		if (t->dest[i][0] >= 0) {
			ev_io_stop(t->loop, &s->w);
			close(t->dest[i][1]);
			sinkbuf_drain(s);
			close(t->dest[i][0]);
		}
	}
	while (waitpid(-1, NULL, 0) > 0)
		;
	ev_loop_destroy(t->loop);
}

static void
t_free(struct t *t)
{
	free(t->out.buf);
	free(t->err.buf);
}

/* ---- writers (run in the forked child) ------------------------------------------------ */

#define NLINES 1000000

static void
numbered_lines(void *arg)
{
	int i;

	(void)arg;
	setvbuf(stderr, NULL, _IOFBF, 1 << 16);	/* bulk writes, as stdout */
	for (i = 0; i < NLINES; i++) {
		printf("out %d\n", i);
		fprintf(stderr, "err %d\n", i);
	}
}

static char *
expected_numbered(const char *what, size_t *len)
{
	size_t	 cap = (size_t)NLINES * 16, off = 0;
	char	*b = xmalloc(cap);
	int	 i;

	for (i = 0; i < NLINES; i++)
		off += (size_t)snprintf(b + off, cap - off, "%s %d\n", what, i);
	*len = off;
	return b;
}

Test(output, million_lines_each_stream_in_order, .timeout = 120)
{
	struct t	 t;
	size_t		 len;
	char		*want;

	t_init(&t, false, -1, -1);
	t_spawn(&t, numbered_lines, NULL);
	t_run(&t);
	t_finish(&t);
	want = expected_numbered("out", &len);
	cr_assert_eq(t.out.len, len);
	cr_assert(memcmp(t.out.buf, want, len) == 0);
	free(want);
	want = expected_numbered("err", &len);
	cr_assert_eq(t.err.len, len);
	cr_assert(memcmp(t.err.buf, want, len) == 0);
	free(want);
	cr_assert_eq(t.lines[1], NLINES);
	cr_assert_eq(t.lines[2], NLINES);
	t_free(&t);
}

#define BIG (1024 * 1024)

/* Bytes that are not text: every value, NULs and '\r' and no newline for long runs. */
static unsigned char
pattern_byte(size_t i)
{
	return (unsigned char)((i * 7 + i / 300) & 0xff);
}

static void
binary_writer(void *arg)
{
	size_t	 i, n = *(size_t *)arg, off = 0;
	char	*b = xmalloc(n);
	ssize_t	 w;

	for (i = 0; i < n; i++)
		b[i] = (char)pattern_byte(i);
	while (off < n && (w = write(1, b + off, n - off)) > 0)
		off += (size_t)w;
}

static void
long_line_writer(void *arg)
{
	size_t	 n = *(size_t *)arg, off = 0;
	char	*b = xmalloc(n);
	ssize_t	 w;

	memset(b, 'L', n);
	while (off < n && (w = write(1, b + off, n - off)) > 0)
		off += (size_t)w;
}

Test(output, one_mb_line_without_newline, .timeout = 60)
{
	struct t	t;
	size_t		n = BIG, i;

	t_init(&t, false, -1, -1);
	t_spawn(&t, long_line_writer, &n);
	t_run(&t);
	t_finish(&t);
	cr_assert_eq(t.out.len, n);
	for (i = 0; i < n; i++)
		cr_assert_eq(t.out.buf[i], 'L');
	cr_assert_eq(t.partial, BIG / LINEBUF_MAX - 1);
	cr_assert_eq(t.lines[1], BIG / LINEBUF_MAX);
	t_free(&t);
}

Test(output, binary_bytes_unchanged, .timeout = 60)
{
	struct t	t;
	size_t		n = 3 * BIG + 17, i;

	t_init(&t, false, -1, -1);
	t_spawn(&t, binary_writer, &n);
	t_run(&t);
	t_finish(&t);
	cr_assert_eq(t.out.len, n);
	for (i = 0; i < n; i++)
		cr_assert_eq((unsigned char)t.out.buf[i], pattern_byte(i), "byte %zu", i);
	t_free(&t);
}

static void
prefix_writer(void *arg)
{
	char *x = xmalloc(LINEBUF_MAX + 5);

	(void)arg;
	memset(x, 'x', LINEBUF_MAX + 5);
	printf("hello\nworld\n");
	fwrite(x, 1, LINEBUF_MAX + 5, stdout);
	printf("\ntail");
	fprintf(stderr, "oops\n");
}

Test(output, prefix_format)
{
	struct t	 t;
	pid_t		 pid;
	char		 p[64], *want, *x;
	size_t		 len;

	t_init(&t, true, -1, -1);
	pid = t_spawn(&t, prefix_writer, NULL);
	t_run(&t);
	t_finish(&t);
	x = xmalloc(LINEBUF_MAX + 1);
	memset(x, 'x', LINEBUF_MAX);
	x[LINEBUF_MAX] = '\0';
	snprintf(p, sizeof p, "writer[%ld]", (long)pid);
	len = (size_t)xasprintf(&want, "%s: hello\n%s: world\n%s: %s\n%s+ xxxxx\n%s: tail\n",
	    p, p, p, x, p, p);
	cr_assert_eq(t.out.len, len, "%zu != %zu", t.out.len, len);
	cr_assert(memcmp(t.out.buf, want, len) == 0);
	free(want);
	xasprintf(&want, "%s: oops\n", p);
	cr_assert_eq(t.err.len, strlen(want));
	cr_assert(memcmp(t.err.buf, want, strlen(want)) == 0);
	cr_assert_eq(t.lastpid, pid);
	free(want);
	free(x);
	t_free(&t);
}

/* ---- backpressure ------------------------------------------------------------------- */

#define STALL_BYTES (8 * 1024 * 1024)

struct stall {
	struct t	*t;
	pid_t		 pid;
	int		 ticks;
	bool		 checked;
	ev_timer	 tick, resume;
};

static void
on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct stall *s = w->data;

	(void)loop;
	(void)revents;
	s->ticks++;
}

/* After 1.5 s of nobody reading tend's stdout: the writer must be blocked, the loop alive. */
static void
on_resume(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct stall		*s = w->data;
	struct output_stats	 st;

	(void)w;
	(void)revents;
	output_stats(s->t->o, &st);
	cr_assert_geq(s->ticks, 5, "the loop was blocked (%d ticks)", s->ticks);
	cr_assert_eq(waitpid(s->pid, NULL, WNOHANG), 0, "the writer was not held back");
	/* Read at most the queue, the read buffer and a few pipe buffers. */
	cr_assert_lt(st.bytes[0], OUTPUT_QUEUE_MAX + OUTPUT_READ_MAX + 4 * 1024 * 1024);
	cr_assert_eq(st.dropped[0], 0);
	cr_assert(output_busy(s->t->o));
	s->checked = true;
	ev_timer_stop(loop, &s->tick);
	ev_io_start(loop, &s->t->out.w);
}

static void
stall_writer(void *arg)
{
	size_t	n = 0;
	char	line[128];
	int	k = 0;

	(void)arg;
	while (n < STALL_BYTES) {
		int l = snprintf(line, sizeof line, "line %d with some padding to make it longer\n",
		    k++);

		fwrite(line, 1, (size_t)l, stdout);
		n += (size_t)l;
	}
}

Test(output, backpressure_blocks_the_child_not_the_loop, .timeout = 60)
{
	struct t	t;
	struct stall	s = { 0 };
	char		line[128];
	size_t		off = 0;
	int		k = 0, l;

	t_init(&t, false, -1, -1);
	ev_io_stop(t.loop, &t.out.w);	/* nobody reads tend's stdout for now */
	s.t = &t;
	s.pid = t_spawn(&t, stall_writer, NULL);
	ev_timer_init(&s.tick, on_tick, 0.05, 0.05);
	s.tick.data = &s;
	ev_timer_start(t.loop, &s.tick);
	ev_timer_init(&s.resume, on_resume, 1.5, 0.);
	s.resume.data = &s;
	ev_timer_start(t.loop, &s.resume);
	t_run(&t);
	cr_assert(s.checked);
	t_finish(&t);
	/* Then every line arrives, in order. */
	while (off < t.out.len) {
		l = snprintf(line, sizeof line, "line %d with some padding to make it longer\n",
		    k++);
		cr_assert(off + (size_t)l <= t.out.len && memcmp(t.out.buf + off, line,
		    (size_t)l) == 0, "line %d", k - 1);
		off += (size_t)l;
	}
	cr_assert_geq(off, STALL_BYTES);
	t_free(&t);
}

/* Without a private description (no /proc, or not allowed to open the pipe), the plain
 * blocking pipe is written carefully: the loop must not block either. */
Test(output, backpressure_on_a_pipe_that_cannot_be_reopened, .timeout = 60)
{
	struct t	t;
	struct stall	s = { 0 };

	if (geteuid() != 0)
		cr_skip_test("needs root to make a pipe that cannot be reopened");
	t_init(&t, false, -1, -1);
	output_free(t.o);
	/* The pipes are root's, mode 0600: as nobody, open(/proc/self/fd/N) fails. */
	cr_assert_eq(setresgid(65534, 65534, 65534), 0);
	cr_assert_eq(setresuid(65534, 65534, 65534), 0);
	{
		char path[64];

		snprintf(path, sizeof path, "/proc/self/fd/%d", t.dest[0][1]);
		cr_assert_lt(open(path, O_WRONLY | O_NONBLOCK), 0);
	}
	t.o = output_new(t.loop, t.dest[0][1], t.dest[1][1], false, line_cb, &t);
	output_set_idle_cb(t.o, on_idle, &t);
	ev_io_stop(t.loop, &t.out.w);
	s.t = &t;
	s.pid = t_spawn(&t, stall_writer, NULL);
	ev_timer_init(&s.tick, on_tick, 0.05, 0.05);
	s.tick.data = &s;
	ev_timer_start(t.loop, &s.tick);
	ev_timer_init(&s.resume, on_resume, 1.5, 0.);
	s.resume.data = &s;
	ev_timer_start(t.loop, &s.resume);
	t_run(&t);
	cr_assert(s.checked);
	t_finish(&t);
	cr_assert_geq(t.out.len, STALL_BYTES);
	t_free(&t);
}

/* ---- broken destinations, other kinds of destination -------------------------------- */

Test(output, dev_full_discards_and_never_blocks_the_child, .timeout = 60)
{
	struct t		t;
	int			full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	struct output_stats	st;

	cr_assert_geq(full, 0);
	t_init(&t, false, full, -1);
	t_spawn(&t, stall_writer, NULL);
	t_run(&t);	/* ends only when the writer is done: it was never blocked */
	output_stats(t.o, &st);
	cr_assert_geq(st.bytes[0], STALL_BYTES);
	cr_assert_eq(st.dropped[0], st.bytes[0]);
	cr_assert_gt(t.lines[1], 100000);
	t_finish(&t);
	close(full);
	t_free(&t);
}

Test(output, destination_fd_flags_untouched)
{
	struct t	t;
	int		fl;

	t_init(&t, false, -1, -1);
	fl = fcntl(t.dest[0][1], F_GETFL);
	cr_assert((fl & O_NONBLOCK) == 0);
	t_finish(&t);
	t_free(&t);
}

Test(output, socket_destination, .timeout = 60)
{
	struct t	 t;
	int		 sv[2];
	size_t		 n = 3 * BIG, i;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	t_init(&t, false, sv[1], -1);
	t.out.fd = sv[0];
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	ev_io_init(&t.out.w, sinkbuf_cb, sv[0], EV_READ);
	t.out.w.data = &t.out;
	ev_io_start(t.loop, &t.out.w);
	t.dest[0][0] = sv[0];	/* t_finish closes sv[1] and drains sv[0] */
	t_spawn(&t, binary_writer, &n);
	t_run(&t);
	t_finish(&t);
	cr_assert_eq(t.out.len, n);
	for (i = 0; i < n; i++)
		cr_assert_eq((unsigned char)t.out.buf[i], pattern_byte(i));
	t_free(&t);
}

Test(output, tty_destination, .timeout = 60)
{
	struct t	 t;
	int		 m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), sl;
	struct termios	 tio;
	size_t		 n = BIG, i;

	cr_assert_geq(m, 0);
	cr_assert_eq(grantpt(m), 0);
	cr_assert_eq(unlockpt(m), 0);
	sl = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(sl, 0);
	cr_assert_eq(tcgetattr(sl, &tio), 0);
	cfmakeraw(&tio);
	cr_assert_eq(tcsetattr(sl, TCSANOW, &tio), 0);
	t_init(&t, false, sl, -1);
	t.out.fd = m;
	fcntl(m, F_SETFL, O_NONBLOCK);
	ev_io_init(&t.out.w, sinkbuf_cb, m, EV_READ);
	t.out.w.data = &t.out;
	ev_io_start(t.loop, &t.out.w);
	t_spawn(&t, long_line_writer, &n);
	t_run(&t);
	output_free(t.o);
	/* The pty master has no EOF while the slave is open: read until all is there. */
	fcntl(m, F_SETFL, 0);
	while (t.out.len < n) {
		char b[4096];
		ssize_t r = read(m, b, sizeof b);

		cr_assert_gt(r, 0);
		sinkbuf_take(&t.out, b, (size_t)r);
	}
	for (i = 0; i < n; i++)
		cr_assert_eq(t.out.buf[i], 'L');
	close(sl);
	close(m);
	t.dest[0][1] = -1;
	ev_timer_stop(t.loop, &t.guard);
	while (waitpid(-1, NULL, 0) > 0)
		;
	ev_loop_destroy(t.loop);
	t_free(&t);
}

/* ---- several generations, workers that outlive the child ---------------------------- */

#define GEN_LINES 2000

/* One line with one write() (< PIPE_BUF: atomic even with two writers on one pipe). */
static void
put_line(const char *name, int i, int pad)
{
	char	b[4096];
	int	n = snprintf(b, sizeof b, "%s %d %0*d\n", name, i, pad, 0);

	if (write(1, b, (size_t)n) != n)
		_exit(98);
}

/* The child leaves a worker behind that writes after the child is gone. */
static void
generation_one(void *arg)
{
	int i;

	(void)arg;
	if (fork() == 0) {
		usleep(300 * 1000);
		for (i = 0; i < GEN_LINES; i++)
			put_line("worker", i, 900);
		_exit(0);
	}
	for (i = 0; i < GEN_LINES; i++)
		put_line("child1", i, 900);
}

static void
generation_two(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < GEN_LINES; i++)
		put_line("child2", i, 3000);
}

Test(output, generations_drain_independently_lines_whole, .timeout = 60)
{
	struct t	 t;
	char		*p, *end, *nl;
	int		 next[3] = { 0, 0, 0 }, who, num;
	char		 name[16];

	t_init(&t, false, -1, -1);
	t_spawn(&t, generation_one, NULL);
	t_spawn(&t, generation_two, NULL);
	t_run(&t);
	t_finish(&t);
	for (p = t.out.buf, end = p + t.out.len; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		cr_assert_not_null(nl);
		cr_assert_eq(sscanf(p, "%15s %d", name, &num), 2);
		who = strcmp(name, "child1") == 0 ? 0 : strcmp(name, "worker") == 0 ? 1 : 2;
		cr_assert(who != 2 || strcmp(name, "child2") == 0, "%s", name);
		cr_assert_eq(num, next[who]++, "%s out of order", name);
		cr_assert_eq(nl - p, (long)strlen(name) + 1 + snprintf(NULL, 0, "%d", num) + 1 +
		    (who == 2 ? 3000 : 900), "torn line of %s", name);
	}
	cr_assert_eq(next[0], GEN_LINES);
	cr_assert_eq(next[1], GEN_LINES);
	cr_assert_eq(next[2], GEN_LINES);
	t_free(&t);
}

/* ---- the exit path ------------------------------------------------------------------ */

static void
lingering_writer(void *arg)
{
	(void)arg;
	printf("done\nunfinished");
	fflush(stdout);
	sleep(30);
}

/* Stop the loop once the lingering writer's 15 bytes were read (however slow the machine). */
static void
on_read_15(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct output_stats st;

	(void)revents;
	output_stats(w->data, &st);
	if (st.bytes[0] >= 15)
		ev_break(loop, EVBREAK_ALL);
}

Test(output, close_pipes_with_a_lingering_writer, .timeout = 20)
{
	struct t	t;
	pid_t		pid;
	ev_timer	stop;

	t_init(&t, false, -1, -1);
	pid = t_spawn(&t, lingering_writer, NULL);
	/* Run until its bytes are in (polled every 50 ms): the writer never closes its end. */
	ev_timer_init(&stop, on_read_15, 0.05, 0.05);
	stop.data = t.o;
	ev_timer_start(t.loop, &stop);
	t_run(&t);
	ev_timer_stop(t.loop, &stop);
	cr_assert(output_busy(t.o));
	output_close_pipes(t.o);
	kill(pid, SIGKILL);
	t_finish(&t);
	cr_assert_eq(t.out.len, 15);
	cr_assert(memcmp(t.out.buf, "done\nunfinished", 15) == 0);
	t_free(&t);
}

Test(output, free_never_blocks_on_a_stalled_destination, .timeout = 20)
{
	struct t		t;
	ev_timer		stop;
	struct output_stats	st;

	t_init(&t, false, -1, -1);
	ev_io_stop(t.loop, &t.out.w);	/* nobody reads, ever */
	t_spawn(&t, stall_writer, NULL);
	ev_timer_init(&stop, on_stop, 0.5, 0.);
	ev_timer_start(t.loop, &stop);
	t_run(&t);
	output_stats(t.o, &st);
	cr_assert(output_busy(t.o));
	output_free(t.o);	/* one non-blocking try, then drop: must return */
	close(t.dest[0][1]);
	close(t.dest[0][0]);
	close(t.dest[1][1]);
	close(t.dest[1][0]);
	while (waitpid(-1, NULL, 0) > 0)
		;
	ev_timer_stop(t.loop, &t.guard);
	ev_loop_destroy(t.loop);
	t_free(&t);
}

/* ---- tend's own lines held while a child's line is unfinished --------------------------- */

/* Two lines longer than LINEBUF_MAX, each left unfinished for a while after its first
 * chunk went out: the stream is then in the middle of a line. */
static void
two_long_lines(void *arg)
{
	static char big[LINEBUF_MAX + 4000];

	(void)arg;
	memset(big, 'x', sizeof big);
	fwrite(big, 1, sizeof big, stderr);
	fflush(stderr);
	usleep(1500 * 1000);
	fputc('\n', stderr);
	fwrite(big, 1, sizeof big, stderr);
	fflush(stderr);
	usleep(1500 * 1000);
}

struct hold_t {
	struct t	*t;
	ev_timer	 log_a, log_b, poll;
	double		 at_a, at_b;		/* when each was logged */
	double		 seen_a, seen_b;	/* when each reached tend's stderr */
};

static bool
err_has(struct t *t, const char *s)
{
	return t->err.len > 0 && memmem(t->err.buf, t->err.len, s, strlen(s)) != NULL;
}

static void
hold_log(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hold_t	*h = w->data;
	bool		 a = w == &h->log_a;
	const char	*line = a ? "tend line A\n" : "tend line B\n";

	(void)revents;
	output_log(h->t->o, line, strlen(line));
	*(a ? &h->at_a : &h->at_b) = ev_now(loop);
}

static void
hold_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hold_t *h = w->data;

	(void)revents;
	ev_now_update(loop);
	if (h->seen_a == 0 && err_has(h->t, "tend line A"))
		h->seen_a = ev_now(loop);
	if (h->seen_b == 0 && err_has(h->t, "tend line B"))
		h->seen_b = ev_now(loop);
}

/* Each time (not only the first) a line of tend's waits up to 0.5 s for the child's
 * unfinished (long) line, then that line is ended for it. */
Test(output, log_lines_wait_for_an_unfinished_line_each_time, .timeout = 60)
{
	struct t	t;
	struct hold_t	h;

	t_init(&t, false, -1, -1);
	memset(&h, 0, sizeof h);
	h.t = &t;
	t_spawn(&t, two_long_lines, NULL);
	ev_timer_init(&h.log_a, hold_log, 0.5, 0.);
	ev_timer_init(&h.log_b, hold_log, 2.2, 0.);
	ev_timer_init(&h.poll, hold_poll, 0.02, 0.02);
	h.log_a.data = h.log_b.data = h.poll.data = &h;
	ev_timer_start(t.loop, &h.log_a);
	ev_timer_start(t.loop, &h.log_b);
	ev_timer_start(t.loop, &h.poll);
	t_run(&t);		/* until the writer is gone and everything is written */
	ev_timer_stop(t.loop, &h.poll);
	t_finish(&t);
	cr_assert(h.seen_a > 0 && h.seen_b > 0, "both of tend's lines came out");
	cr_assert_geq(h.seen_a - h.at_a, 0.4, "the first line waited (%.3f s)",
	    h.seen_a - h.at_a);
	cr_assert_geq(h.seen_b - h.at_b, 0.4, "the second line waited too (%.3f s)",
	    h.seen_b - h.at_b);
	cr_assert(memmem(t.err.buf, t.err.len, "xx\ntend line A\n", 15) != NULL,
	    "the unfinished line was ended for tend's line");
	t_free(&t);
}
