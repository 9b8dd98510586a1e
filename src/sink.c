/*
 * tend's stdout and stderr as destinations for the child's lines and tend's own: a
 * bounded queue per stream, written in as few write() calls as it can, never blocking.
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

#include "log.h"
#include "output.h"
#include "sink.h"
#include "xmalloc.h"

/* tend's own lines held back while a child's long line is unfinished, at most this. */
#define SINK_HELD_MAX	(16 * 1024)
#define SINK_HOLD_S	0.5

static const char *
stream_name(const struct sink *k)
{
	return k->stream == 1 ? "stdout" : "stderr";
}

static void
sink_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sink *k = w->data;

	(void)loop;
	(void)revents;
	k->writable(k, k->arg);
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

/* Use tend's stdout/stderr without changing the description others share with us. */
void
sink_init(struct sink *k, struct ev_loop *loop, int fd, int stream,
    void (*writable)(struct sink *, void *), void *arg)
{
	struct stat	st;
	char		path[64];
	int		nfd;

	memset(k, 0, sizeof *k);
	k->loop = loop;
	k->stream = stream;
	k->fd = fd;
	k->writable = writable;
	k->arg = arg;
	k->buf = xmalloc(OUTPUT_QUEUE_MAX);
	ev_timer_init(&k->hold, sink_hold_cb, SINK_HOLD_S, 0.);
	k->hold.data = k;
	if (fd < 0 || fstat(fd, &st) != 0) {
		log_warn("tend's %s (fd %d): the child's %s is discarded", stream_name(k), fd,
		    stream_name(k));
		k->broken = true;
		ev_io_init(&k->w, sink_io_cb, 0, EV_WRITE);	/* never started */
		k->w.data = k;
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
}

/* Supervising matters more than the log: a dead destination is discarded, never waited on. */
static void
sink_break(struct sink *k, int err)
{
	k->broken = true;	/* first: the warning below may come back through sink_log */
	errno = err;
	log_warn("cannot write to tend's %s; the child's %s is discarded from now on",
	    stream_name(k), stream_name(k));
	k->dropped += k->len;
	k->head = k->len = 0;
	ev_io_stop(k->loop, &k->w);
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

void
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
			ev_io_start(k->loop, &k->w);
			return;
		} else
			sink_break(k, n < 0 ? errno : EIO);
	}
	k->head = 0;
	ev_io_stop(k->loop, &k->w);
}

bool
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

void
sink_put(struct sink *k, const void *p, size_t n)
{
	memcpy(k->buf + k->head + k->len, p, n);
	k->len += n;
}

void
sink_release(struct sink *k)
{
	if (k->nheld == 0 || k->midline || !sink_room(k, k->nheld))
		return;
	sink_put(k, k->held, k->nheld);
	k->nheld = 0;
	ev_timer_stop(k->loop, &k->hold);
}

/* tend's own log line: queued between the child's lines, so a stalled stderr never
 * blocks tend. Past the queue's bound it is dropped and counted. */
void
sink_log(struct sink *k, const char *line, size_t len, bool now)
{
	if (k->midline && !k->broken && !now) {
		/* Never inside a child's unfinished line: hold it until the line ends. */
		if (k->nheld + len > SINK_HELD_MAX) {
			k->dropped += len;
			return;
		}
		if (k->held == NULL)
			k->held = xmalloc(SINK_HELD_MAX);
		memcpy(k->held + k->nheld, line, len);
		k->nheld += len;
		if (!ev_is_active(&k->hold)) {
			/* Set each time: a one-shot timer keeps no time once it fired. */
			ev_timer_set(&k->hold, SINK_HOLD_S, 0.);
			ev_timer_start(k->loop, &k->hold);
		}
		return;
	}
	if (k->broken || !sink_room(k, len)) {
		k->dropped += len;
		return;
	}
	sink_put(k, line, len);
	if (!ev_is_active(&k->w))
		sink_write(k);
}

bool
sink_pending(const struct sink *k)
{
	return k->len > 0 && !k->broken;
}

void
sink_close(struct sink *k)
{
	k->midline = false;
	sink_release(k);
	sink_write(k);	/* one non-blocking attempt */
	k->dropped += k->len + k->nheld;
	k->len = k->nheld = 0;
	ev_io_stop(k->loop, &k->w);
	ev_timer_stop(k->loop, &k->hold);
	if (k->dropped > 0)
		log_warnx("%llu bytes of the child's %s were dropped (tend's %s could not "
		    "take them)", (unsigned long long)k->dropped, stream_name(k),
		    stream_name(k));
	if (k->own && close(k->fd) != 0 && errno != EINTR)
		log_warn("close");
	free(k->buf);
	free(k->held);
	k->buf = k->held = NULL;
}
