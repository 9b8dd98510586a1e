/*
 * The child's stdout and stderr: read from pipes on the libev loop, split into lines and
 * written to tend's own stdout and stderr, in order per stream, bytes unchanged unless
 * prefix is on. Never blocks the loop: when tend's stdout is slow, a bounded queue fills
 * and tend stops reading the child (which then blocks in write) until it drains.
 *
 * Lifecycle per spawn: output_pipes() before fork (the child dup2()s child_fds[0] onto 1
 * and child_fds[1] onto 2), then output_attach() with the pid, or output_abort() if the
 * spawn failed. Pipes of earlier children (workers that outlived them) keep draining
 * until EOF, each with its own line buffer, so lines from different processes are never
 * mixed within a line (lines longer than LINEBUF_MAX go out in chunks).
 *
 * At exit: keep the loop running while output_busy() (output_set_idle_cb tells when it
 * stops being busy), up to a bound of your choice; then output_free() makes one
 * non-blocking attempt to write what is queued and drops the rest with a warning.
 */
#ifndef TEND_OUTPUT_H
#define TEND_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ev_loop;

#define OUTPUT_READ_MAX		(64 * 1024)	/* one read() from a child pipe */
#define OUTPUT_QUEUE_MAX	(256 * 1024)	/* queued for each of tend's stdout/stderr */
#define OUTPUT_NAME_MAX		64		/* of the prefix name; longer is cut */

/*
 * Each line (or chunk of a long line, partial = the line goes on) from child pid on
 * stream 1 (stdout) or 2 (stderr), without its newline, after it was queued. It must not
 * call output_free.
 */
typedef void (*output_line_cb)(void *arg, pid_t pid, int stream, const char *line,
    size_t len, bool partial);

struct output;	/* opaque */

/*
 * out_fd and err_fd are tend's stdout and stderr (normally 1 and 2). They are never set
 * non-blocking: a pipe/FIFO or terminal is reopened through /proc/self/fd/N as a private
 * non-blocking description of the same file, a socket is written with MSG_DONTWAIT, and
 * anything else (regular file, /dev/null) is written as it is (it does not block). If the
 * reopen fails (no /proc), the plain fd is used and a write to it may block.
 * prefix: "NAME[PID]: " before each line, "NAME[PID]+ " before the continuation chunks
 * of a long line (each chunk then ends in a newline). cb may be NULL.
 */
struct output *output_new(struct ev_loop *, int out_fd, int err_fd, bool prefix,
    output_line_cb cb, void *arg);
/* Before fork: a pipe per stream; child_fds[0]/[1] are the child's stdout/stderr (write
 * ends, close-on-exec, never 0..2). Pipes prepared earlier and not attached are closed.
 * Returns 0, or -1 with errno (child_fds are then -1: the child inherits tend's). */
int output_pipes(struct output *, int child_fds[2]);
/* After fork: close the write ends here and read the child's pipes; name is argv[0]
 * (its basename goes into the prefix). */
void output_attach(struct output *, pid_t pid, const char *name);
/* The spawn failed: close the prepared pipes. */
void output_abort(struct output *);
/* Any child pipe still open, or any byte queued for tend's stdout/stderr? */
bool output_busy(const struct output *);
/* cb(arg) is called from the loop whenever output stops being busy (NULL: none). */
void output_set_idle_cb(struct output *, void (*cb)(void *), void *arg);
/* Stop reading every child pipe now (close them) and queue their unfinished lines. */
void output_close_pipes(struct output *);

/* Queue one of tend's own log lines (with its newline) for tend's stderr; never blocks,
 * dropped (and counted) when the queue is full. */
void output_log(struct output *, const char *line, size_t len);

struct output_stats {
	uint64_t	lines[2];	/* per stream: lines and chunks read */
	uint64_t	bytes[2];	/* bytes read from the child */
	uint64_t	dropped[2];	/* bytes that could not be written and were discarded */
	int		pipes;		/* child pipes open */
};
void output_stats(const struct output *, struct output_stats *);

/* Close everything: unfinished lines are queued, one non-blocking write is tried per
 * destination, what is left is dropped and counted in a warning. */
void output_free(struct output *);

#endif
