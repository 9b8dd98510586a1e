/*
 * Child output: pipes in (sources), tend's stdout/stderr out (sinks). A source reads up
 * to 64 KiB, splits it into lines and appends whole lines to its sink's queue; the sink
 * writes the queue in as few write() calls as it can. A source whose sink is full stops
 * reading (the child blocks in write); it resumes once the queue is half empty.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "linebuf.h"
#include "log.h"
#include "output.h"
#include "xmalloc.h"

struct sink {
	struct output	*o;
	int		 stream;
	int		 fd;		/* what we write to */
	bool		 own;		/* fd is our reopened description */
	bool		 sock;		/* send(MSG_DONTWAIT | MSG_NOSIGNAL) */
	bool		 careful;	/* a blocking pipe: PIPE_BUF at a time, when poll says so */
	bool		 broken;	/* failed for good: discard from now on */
	ev_io		 w;		/* EV_WRITE while fd is full */
	char		*buf;		/* queued bytes are buf[head .. head+len) */
	size_t		 head;
	size_t		 len;
	bool		 midline;	/* the last byte queued ended no line */
	char		*held;		/* tend's log lines waiting for a line end */
	size_t		 nheld;
	ev_timer	 hold;		/* ... but not for longer than OUTPUT_HOLD_S */
};

/* tend's own lines held back while a child's long line is unfinished, at most this. */
#define OUTPUT_HELD_MAX (16 * 1024)
#define OUTPUT_HOLD_S	0.5

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

static void sink_io_cb(struct ev_loop *, ev_io *, int);
static void sink_hold_cb(struct ev_loop *, ev_timer *, int);
static void source_io_cb(struct ev_loop *, ev_io *, int);

/* Use tend's stdout/stderr without changing the description others share with us. */
static void
sink_init(struct output *o, struct sink *k, int fd, int stream)
{
	struct stat	st;
	char		path[64];
	int		nfd;

	memset(k, 0, sizeof *k);
	k->o = o;
	k->stream = stream;
	k->fd = fd;
	k->buf = xmalloc(OUTPUT_QUEUE_MAX);
	if (fd < 0 || fstat(fd, &st) != 0) {
		log_warn("tend's %s (fd %d): the child's %s is discarded",
		    stream == 1 ? "stdout" : "stderr", fd, stream == 1 ? "stdout" : "stderr");
		k->broken = true;
		return;
	}
	if (S_ISSOCK(st.st_mode))
		k->sock = true;
	else if (S_ISFIFO(st.st_mode) || (S_ISCHR(st.st_mode) && isatty(fd))) {
		/* O_NONBLOCK on fd itself would hit every process sharing it (the shell). */
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (nfd >= 0) {
			k->fd = nfd;
			k->own = true;
		} else {
			log_debug("cannot reopen %s (%s): writes to it may block", path,
			    strerror(errno));
			k->careful = S_ISFIFO(st.st_mode);
		}
	}
	ev_io_init(&k->w, sink_io_cb, k->fd, EV_WRITE);
	k->w.data = k;
	ev_timer_init(&k->hold, sink_hold_cb, OUTPUT_HOLD_S, 0.);
	k->hold.data = k;
}

/* Supervising matters more than the log: a dead destination is discarded, never waited on. */
static void
sink_break(struct sink *k, int err)
{
	k->broken = true;	/* first: the warning below may come back through output_log */
	errno = err;
	log_warn("cannot write to tend's %s; the child's %s is discarded from now on",
	    k->stream == 1 ? "stdout" : "stderr", k->stream == 1 ? "stdout" : "stderr");
	k->o->st.dropped[k->stream - 1] += k->len;
	k->head = k->len = 0;
	ev_io_stop(k->o->loop, &k->w);
}

/*
 * A pipe we could not reopen is written blocking: after poll() reports a free slot, a
 * write of at most PIPE_BUF bytes fits in it without waiting (unless another process
 * fills the pipe in between). An error (no reader) also wakes poll; write reports it.
 */
static bool
pipe_ready(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	return poll(&pfd, 1, 0) > 0;
}

/* Write what is queued until done or the fd is full (then wait for EV_WRITE). */
static void
sink_write(struct sink *k)
{
	ssize_t n;

	while (k->len > 0 && !k->broken) {
		if (k->careful && !pipe_ready(k->fd)) {
			n = -1;
			errno = EAGAIN;
		} else if (k->careful)
			n = write(k->fd, k->buf + k->head, k->len < PIPE_BUF ? k->len : PIPE_BUF);
		else if (k->sock)
			n = send(k->fd, k->buf + k->head, k->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			n = write(k->fd, k->buf + k->head, k->len);
		if (n > 0) {
			k->head += (size_t)n;
			k->len -= (size_t)n;
		} else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(k->o->loop, &k->w);
			return;
		} else
			sink_break(k, n < 0 ? errno : EIO);
	}
	k->head = 0;
	ev_io_stop(k->o->loop, &k->w);
}

/* Room for n more bytes (moving the queue to the front if that makes it)? */
static bool
sink_room(struct sink *k, size_t n)
{
	if (k->head + k->len + n <= OUTPUT_QUEUE_MAX)
		return true;
	if (k->len + n > OUTPUT_QUEUE_MAX)
		return false;
	memmove(k->buf, k->buf + k->head, k->len);
	k->head = 0;
	return true;
}

static void
sink_put(struct sink *k, const void *p, size_t n)
{
	memcpy(k->buf + k->head + k->len, p, n);
	k->len += n;
}

/* Queue tend's held log lines, now that the stream is at a line boundary. */
static void
sink_release(struct sink *k)
{
	if (k->nheld == 0 || k->midline || !sink_room(k, k->nheld))
		return;
	sink_put(k, k->held, k->nheld);
	k->nheld = 0;
	ev_timer_stop(k->o->loop, &k->hold);
}

/* A child's line that stays unfinished (a prompt, a progress bar) must not hide tend's
 * lines for long: end it with a newline of ours and let them out. */
static void
sink_hold_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sink *k = w->data;

	(void)loop;
	(void)revents;
	if (!k->midline || !sink_room(k, k->nheld + 1))
		return;
	sink_put(k, "\n", 1);
	k->midline = false;
	sink_release(k);
	if (!ev_is_active(&k->w))
		sink_write(k);
}

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
		o->st.dropped[s->stream - 1] += need;
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
	if (close(s->w.fd) != 0 && errno != EINTR)
		log_warn("close");
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
sink_kick(struct sink *k)
{
	struct source	*s, *next;
	size_t		 before;
	bool		 gone;

	for (;;) {
		sink_write(k);
		if (k->len > OUTPUT_QUEUE_MAX / 2)
			return;
		before = k->len;
		for (s = k->o->sources; s != NULL; s = next) {
			next = s->next;
			if (s->blocked && s->stream == k->stream)
				source_process(s, &gone);
		}
		/* Nothing new queued: the last sink_write left the watcher right. */
		if (k->len == before)
			return;
	}
}

static void
sink_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sink *k = w->data;

	(void)loop;
	(void)revents;
	sink_kick(k);
	check_idle(k->o);
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
	sink_kick(k);
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
	sink_init(o, &o->sink[0], out_fd, 1);
	sink_init(o, &o->sink[1], err_fd, 2);
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
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

void
output_abort(struct output *o)
{
	int i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			if (o->prep[i][j] >= 0) {
				close(o->prep[i][j]);
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
		close(o->prep[i][1]);
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
	return o->sources != NULL || (o->sink[0].len > 0 && !o->sink[0].broken) ||
	    (o->sink[1].len > 0 && !o->sink[1].broken);
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
	sink_kick(&o->sink[0]);
	sink_kick(&o->sink[1]);
}

/*
 * tend's own log line: queued on the stderr sink between the child's lines, so a stalled
 * stderr never blocks tend. Past the queue's bound it is dropped and counted.
 */
void
output_log(struct output *o, const char *line, size_t len)
{
	struct sink *k = &o->sink[1];

	if (k->midline && !k->broken && !o->closing) {
		/* Never inside a child's unfinished line: hold it until the line ends. */
		if (k->nheld + len > OUTPUT_HELD_MAX) {
			o->st.dropped[1] += len;
			return;
		}
		if (k->held == NULL)
			k->held = xmalloc(OUTPUT_HELD_MAX);
		memcpy(k->held + k->nheld, line, len);
		k->nheld += len;
		if (!ev_is_active(&k->hold))
			ev_timer_start(o->loop, &k->hold);
		return;
	}
	if (k->broken || !sink_room(k, len)) {
		o->st.dropped[1] += len;
		return;
	}
	sink_put(k, line, len);
	if (!ev_is_active(&k->w))
		sink_write(k);
}

void
output_stats(const struct output *o, struct output_stats *st)
{
	*st = o->st;
}

void
output_free(struct output *o)
{
	int i;

	if (o == NULL)
		return;
	output_close_pipes(o);
	output_abort(o);
	for (i = 0; i < 2; i++) {
		struct sink *k = &o->sink[i];

		k->midline = false;
		sink_release(k);
		sink_write(k);	/* one non-blocking attempt */
		o->st.dropped[i] += k->len;
		ev_io_stop(o->loop, &k->w);
		if (o->st.dropped[i] > 0)
			log_warnx("%llu bytes of the child's %s were dropped (tend's %s could "
			    "not take them)", (unsigned long long)o->st.dropped[i],
			    i == 0 ? "stdout" : "stderr", i == 0 ? "stdout" : "stderr");
		ev_timer_stop(o->loop, &k->hold);
		if (k->own && close(k->fd) != 0 && errno != EINTR)
			log_warn("close");
		free(k->buf);
		free(k->held);
	}
	free(o);
}
