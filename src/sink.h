/*
 * A sink: one of tend's own stdout/stderr as the output module writes it. A bounded
 * queue in front of the fd, written without ever blocking the loop (see output_new in
 * output.h for how each kind of fd is made safe). Also holds tend's own log lines back
 * while a child's line is unfinished, so they never land inside it. Internal to
 * output.c; split out so each file keeps to one concern.
 */
#ifndef TEND_SINK_H
#define TEND_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct sink {
	struct ev_loop	*loop;
	int		 stream;	/* 1: stdout, 2: stderr */
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
	ev_timer	 hold;		/* ... but not for longer than SINK_HOLD_S */
	uint64_t	 dropped;	/* bytes discarded: broken, full, or left at the end */
	void		(*writable)(struct sink *, void *);	/* after EV_WRITE */
	void		*arg;
};

/* Set up k for fd (-1 or a bad fd: everything is discarded, with a warning). writable
 * is called each time a full fd took more (the output module then reads on). */
void sink_init(struct sink *, struct ev_loop *, int fd, int stream,
    void (*writable)(struct sink *, void *), void *arg);
/* Write what is queued until done or the fd is full (then wait for EV_WRITE). */
void sink_write(struct sink *);
/* Room for n more bytes (moving the queue to the front if that makes it)? */
bool sink_room(struct sink *, size_t n);
/* Queue n bytes; sink_room() must have said yes. */
void sink_put(struct sink *, const void *, size_t n);
/* The stream is at a line boundary: queue the held log lines. */
void sink_release(struct sink *);
/* Queue one of tend's log lines (with its newline), held while midline unless now is
 * set; dropped and counted when there is no room. */
void sink_log(struct sink *, const char *line, size_t len, bool now);
/* Anything queued that still can be written? */
bool sink_pending(const struct sink *);
/* One last non-blocking write; the rest is dropped (and counted). Frees k's memory. */
void sink_close(struct sink *);

#endif
