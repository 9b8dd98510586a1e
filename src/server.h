/*
 * A tiny one-request-per-connection server on the loop, shared by the status endpoint
 * (HTTP) and the control socket. Everything is non-blocking and bounded: at most
 * max_conns connections (past it, the oldest one still sending its request is closed
 * for the new one; if none is, accepting pauses until one closes), in_max bytes of
 * request, out_max bytes of response, and one timeout from accept to the last byte
 * written. After the response: shutdown(SHUT_WR), then a short drain of what the peer
 * still sends (so the close does not reset the response away), then close.
 */
#ifndef TEND_SERVER_H
#define TEND_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct ev_loop;

/*
 * Bytes arrived: in[0..len) is everything read so far (eof: the peer closed its side).
 * Return true once the response is in out; false to read more. state points to
 * conn_state zeroed bytes kept with the connection.
 */
typedef bool (*server_cb)(void *arg, void *state, const char *in, size_t len, bool eof,
    struct buf *out);

struct server_conf {
	const char	*name;		/* in log lines: "status endpoint" */
	size_t		 in_max;
	size_t		 out_max;
	size_t		 conn_state;
	int		 max_conns;
	double		 timeout;	/* s */
	server_cb	 cb;
	void		*arg;
};

struct server;	/* opaque */

/* Serve on a listening socket (non-blocking, close-on-exec); the server owns it. */
struct server *server_new(struct ev_loop *, int fd, const struct server_conf *);
int server_nconns(const struct server *);
/* Close every connection and the listening socket. */
void server_free(struct server *);

#endif
