/*
 * Incremental, bounded parser of one HTTP/1.x response (status line, headers, body with
 * Content-Length, chunked or close-delimited framing). Pure: no I/O, no allocation past
 * the caller's struct. Fed bytes as they arrive; says when it has enough.
 */
#ifndef TEND_HTTP_H
#define TEND_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_RESPONSE (64 * 1024)	/* past it: HTTP_ERROR (protocol error) */
#define HTTP_MAX_HEADER 8192		/* status line + headers; past it: HTTP_ERROR */

enum http_state {
	HTTP_MORE,	/* need more bytes */
	HTTP_DONE,	/* the response (as much as was asked for) is complete */
	HTTP_ERROR,	/* malformed or too large; see why */
};

struct http_parser {
	bool		 want_body;	/* set before feeding: read the body too */
	int		 status;	/* the final status, set with headers_done, else 0 */
	bool		 headers_done;	/* the final status line and headers are complete */
	const char	*why;		/* reason for HTTP_ERROR */
	/* Body bytes seen so far (up to HTTP_MAX_RESPONSE); for the expect_body check. */
	char		 body[HTTP_MAX_RESPONSE + 1];
	size_t		 body_len;
	/* Private state. */
	char		 hdr[HTTP_MAX_HEADER];
	size_t		 hdr_len;
	size_t		 total;
	int		 phase;
	long long	 remaining;
	int		 framing;
	size_t		 line_len;
};

void http_init(struct http_parser *, bool want_body);
/* Feed len bytes (len 0 means the peer closed the connection). */
enum http_state http_feed(struct http_parser *, const char *buf, size_t len);

#endif
