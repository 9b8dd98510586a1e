/*
 * The control socket: an AF_UNIX stream socket, mode 0600, for `tend status`,
 * `tend restart` and `tend emergency on|off`. Protocol: the client sends one line, tend
 * answers and closes. The answers are made by the callback (see status.c). At start a
 * stale socket file (nothing answers on it) is replaced; a live one is an error.
 */
#ifndef TEND_CONTROL_H
#define TEND_CONTROL_H

#include <stddef.h>

#include "buf.h"

struct ev_loop;

/* Where the client looks when told nothing, and where tend listens as PID 1 when no
 * control socket is configured. */
#define CONTROL_DEFAULT_PATH	"/run/tend.sock"
#define CONTROL_LINE_MAX	256		/* a request line */
#define CONTROL_REPLY_MAX	(64 * 1024)	/* an answer */
#define CONTROL_TIMEOUT		5.0		/* s, per connection */

/* Answer request (one line, without its newline) into out. */
typedef void (*control_cb)(void *arg, const char *request, struct buf *out);

struct control;	/* opaque */

/* Listen on path; NULL if it cannot, or another process answers (errno EADDRINUSE):
 * the reason is then in err (the caller decides how loud it is). */
struct control *control_new(struct ev_loop *, const char *path, control_cb, void *arg,
    char *err, size_t errlen);
/* Stop listening and remove the socket file (if it is still ours). */
void control_free(struct control *);

#endif
