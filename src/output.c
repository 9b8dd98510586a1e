/*
 * Child output: pipes in (sources), tend's stdout/stderr out (sinks). A source reads up
 * to 64 KiB, splits it into lines and appends whole lines to its sink's queue; the sink
 * writes the queue in as few write() calls as it can. A source whose sink is full stops
 * reading (the child blocks in write); it resumes once the queue is half empty.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "linebuf.h"
#include "log.h"
#include "output.h"
#include "sink.h"
#include "xmalloc.h"

struct source {
	struct output	*o;
	struct source	*next;
	pid_t		 pid;
	int		 stream;
	ev_io		 w;
	bool		 eof;
	bool		 blocked;	/* the sink was full: waits with in[off..len) */
	char		*in;
	size_t		 off;
	size_t		 len;
	char		 prefix[OUTPUT_NAME_MAX + 32];	/* "name[pid]: " */
	size_t		 prefixlen;
	struct linebuf	 lb;
};

struct output {
	struct ev_loop	*loop;
	bool		 prefix;
	bool		 closing;	/* output_free: queue or drop, never refuse */
	output_line_cb	 cb;
	void		*arg;
	void		(*idle_cb)(void *);
	void		*idle_arg;
	struct sink	 sink[2];
	struct source	*sources;
	int		 prep[2][2];	/* prepared pipes per stream: read, write end */
	struct output_stats st;
};

static void source_io_cb(struct ev_loop *, ev_io *, int);

/* linebuf callback: queue one line of source s, or refuse it while the sink is full. */
static bool
emit(void *arg, const char *line, size_t len, int flags)
{
	struct source	*s = arg;
	struct output	*o = s->o;
	struct sink	*k = &o->sink[s->stream - 1];
	bool		 nl = o->prefix || (flags & LINE_NEWLINE);
	size_t		 need = len + (o->prefix ? s->prefixlen : 0) + (nl ? 1 : 0);

	if (k->broken || (o->closing && !sink_room(k, need)))
		k->dropped += need;
	else if (!sink_room(k, need))
		return false;
	else {
		if (o->prefix) {
			/* "name[pid]: " starts a line, "name[pid]+ " continues a long one. */
			s->prefix[s->prefixlen - 2] = (flags & LINE_CONT) ? '+' : ':';
			sink_put(k, s->prefix, s->prefixlen);
		}
		sink_put(k, line, len);
		if (nl)
			sink_put(k, "\n", 1);
		k->midline = !nl;
		sink_release(k);
	}
	o->st.lines[s->stream - 1]++;
	if (o->cb != NULL)
		o->cb(o->arg, s->pid, s->stream, line, len, (flags & LINE_PARTIAL) != 0);
	return true;
}

/* A close that fails (EIO, EBADF: a bug) is worth a line; EINTR still closed the fd. */
static void
close_fd(int fd)
{
	if (close(fd) != 0 && errno != EINTR)
		log_warn("close fd %d", fd);
}

static void
source_free(struct source *s)
{
	struct source **pp;

	for (pp = &s->o->sources; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	ev_io_stop(s->o->loop, &s->w);
	close_fd(s->w.fd);
	s->o->st.pipes--;
	free(s->in);
	free(s);
}

/* Queue what the source holds; at EOF also its last line, then free it. False if the
 * sink is full (the source is then blocked and no longer reads). True if s is gone. */
static bool
source_process(struct source *s, bool *gone)
{
	*gone = false;
	s->off += linebuf_feed(&s->lb, s->in + s->off, s->len - s->off, emit, s);
	if (s->off < s->len || (s->eof && !linebuf_finish(&s->lb, emit, s))) {
		if (!s->blocked)
			ev_io_stop(s->o->loop, &s->w);
		s->blocked = true;
		return false;
	}
	s->off = s->len = 0;
	if (s->eof) {
		struct sink *k = &s->o->sink[s->stream - 1];

		/* Its last line is as finished as it will ever be: tend's lines may follow. */
		k->midline = false;
		sink_release(k);
		source_free(s);
		*gone = true;
	} else if (s->blocked) {
		s->blocked = false;
		ev_io_start(s->o->loop, &s->w);
	}
	return true;
}

static void
check_idle(struct output *o)
{
	if (o->idle_cb != NULL && !output_busy(o))
		o->idle_cb(o->idle_arg);
}

/* Write the sink's queue; while it drains below half, let its blocked sources go on. */
static void
kick(struct output *o, struct sink *k)
{
	struct source	*s, *next;
	size_t		 before;
	bool		 gone;

	for (;;) {
		sink_write(k);
		if (k->len > OUTPUT_QUEUE_MAX / 2)
			return;
		before = k->len;
		for (s = o->sources; s != NULL; s = next) {
			next = s->next;
			if (s->blocked && s->stream == k->stream)
				source_process(s, &gone);
		}
		/* Nothing new queued: the last sink_write left the watcher right. */
		if (k->len == before)
			return;
	}
}

/* The sink's fd took more after being full. */
static void
on_writable(struct sink *k, void *arg)
{
	struct output *o = arg;

	kick(o, k);
	check_idle(o);
}

static void
source_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct source	*s = w->data;
	struct output	*o = s->o;
	struct sink	*k = &o->sink[s->stream - 1];
	ssize_t		 n;
	bool		 gone;

	(void)loop;
	(void)revents;
	n = read(w->fd, s->in, OUTPUT_READ_MAX);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0)
		log_warn("read from child %ld", (long)s->pid);
	if (n <= 0)
		s->eof = true;
	else {
		s->off = 0;
		s->len = (size_t)n;
		o->st.bytes[s->stream - 1] += (uint64_t)n;
	}
	source_process(s, &gone);
	kick(o, k);
	check_idle(o);
}

struct output *
output_new(struct ev_loop *loop, int out_fd, int err_fd, bool prefix, output_line_cb cb,
    void *arg)
{
	struct output *o = xcalloc(1, sizeof *o);

	o->loop = loop;
	o->prefix = prefix;
	o->cb = cb;
	o->arg = arg;
	o->prep[0][0] = o->prep[0][1] = o->prep[1][0] = o->prep[1][1] = -1;
	sink_init(&o->sink[0], loop, out_fd, 1, on_writable, o);
	sink_init(&o->sink[1], loop, err_fd, 2, on_writable, o);
	return o;
}

void
output_set_idle_cb(struct output *o, void (*cb)(void *), void *arg)
{
	o->idle_cb = cb;
	o->idle_arg = arg;
}

/* fds 0..2 must stay free for the child's dup2 (tend may have started with them closed). */
static int
above_stdio(int fd)
{
	int nfd, saved;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	saved = errno;
	close_fd(fd);
	errno = saved;
	return nfd;
}

void
output_abort(struct output *o)
{
	int i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			if (o->prep[i][j] >= 0) {
				close_fd(o->prep[i][j]);
				o->prep[i][j] = -1;
			}
}

int
output_pipes(struct output *o, int child_fds[2])
{
	int i, p[2], saved;

	output_abort(o);
	for (i = 0; i < 2; i++) {
		if (pipe2(p, O_CLOEXEC) != 0)
			goto fail;
		o->prep[i][0] = above_stdio(p[0]);
		o->prep[i][1] = above_stdio(p[1]);
		if (o->prep[i][0] < 0 || o->prep[i][1] < 0 ||
		    fcntl(o->prep[i][0], F_SETFL, O_NONBLOCK) != 0)
			goto fail;
		child_fds[i] = o->prep[i][1];
	}
	return 0;
fail:
	/* The first pair may have been made: its numbers are closed now, and reused by
	 * the next pipe (the exec-error pipe), so the child must not dup2 them. */
	child_fds[0] = child_fds[1] = -1;
	saved = errno;
	output_abort(o);
	errno = saved;
	return -1;
}

void
output_attach(struct output *o, pid_t pid, const char *name)
{
	const char	*base = strrchr(name, '/');
	struct source	*s;
	int		 i;

	base = base != NULL && base[1] != '\0' ? base + 1 : name;
	for (i = 0; i < 2; i++) {
		if (o->prep[i][0] < 0)
			continue;
		close_fd(o->prep[i][1]);
		s = xcalloc(1, sizeof *s);
		s->o = o;
		s->pid = pid;
		s->stream = i + 1;
		s->in = xmalloc(OUTPUT_READ_MAX);
		snprintf(s->prefix, sizeof s->prefix, "%.*s[%ld]: ", OUTPUT_NAME_MAX, base,
		    (long)pid);
		s->prefixlen = strlen(s->prefix);
		linebuf_init(&s->lb);
		ev_io_init(&s->w, source_io_cb, o->prep[i][0], EV_READ);
		s->w.data = s;
		ev_io_start(o->loop, &s->w);
		s->next = o->sources;
		o->sources = s;
		o->st.pipes++;
		o->prep[i][0] = o->prep[i][1] = -1;
	}
}

bool
output_busy(const struct output *o)
{
	return o->sources != NULL || sink_pending(&o->sink[0]) || sink_pending(&o->sink[1]);
}

void
output_close_pipes(struct output *o)
{
	struct source	*s;
	ssize_t		 n;
	bool		 gone;

	/* Closing makes emit drop instead of refuse, so every source goes. */
	o->closing = true;
	while (o->sources != NULL) {
		s = o->sources;
		/* What the pipe holds now (usually all of it: 64 KiB by default). */
		if (!s->blocked && !s->eof && (n = read(s->w.fd, s->in, OUTPUT_READ_MAX)) > 0) {
			s->off = 0;
			s->len = (size_t)n;
			o->st.bytes[s->stream - 1] += (uint64_t)n;
		}
		s->eof = true;
		source_process(s, &gone);
	}
	o->closing = false;
	kick(o, &o->sink[0]);
	kick(o, &o->sink[1]);
}

/* On the stderr sink, between the child's lines (sink_log). */
void
output_log(struct output *o, const char *line, size_t len)
{
	sink_log(&o->sink[1], line, len, o->closing);
}

void
output_stats(const struct output *o, struct output_stats *st)
{
	*st = o->st;
	st->dropped[0] = o->sink[0].dropped;
	st->dropped[1] = o->sink[1].dropped;
}

void
output_free(struct output *o)
{
	if (o == NULL)
		return;
	output_close_pipes(o);
	output_abort(o);
	sink_close(&o->sink[0]);
	sink_close(&o->sink[1]);
	free(o);
}
