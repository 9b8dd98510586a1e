/*
 * The status endpoint's HTTP/1.x request reader. Pure: no I/O, no allocation. The
 * scanner finds where the head (request line + headers) ends, byte by byte as bytes
 * arrive, and enforces the bounds; the parser then checks the head and says what to
 * answer. Only GET and HEAD without a body are served; everything else gets its status.
 */
#ifndef TEND_REQUEST_H
#define TEND_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#define REQUEST_LINE_MAX 2048	/* request line, CRLF included; longer: 414 */
#define REQUEST_HEAD_MAX 8192	/* request line + headers + blank line; longer: 431 */

enum request_scan {
	REQ_MORE,		/* no end of head yet */
	REQ_HEAD,		/* head complete: the first head_len bytes */
	REQ_LINE_TOO_LONG,	/* answer 414 */
	REQ_HEAD_TOO_LARGE,	/* answer 431 */
};

/* Where the scan of one connection's bytes stands; zero it for a new connection. */
struct request_scanner {
	size_t	pos;		/* bytes scanned */
	int	at;		/* 0: inside a line, 1: at a line's start, 2: after its CR */
	bool	line_done;	/* the request line ended */
};

/*
 * Scan buf[0..len) (the bytes so far, same prefix every call) from where the last call
 * stopped. On REQ_HEAD, *head_len is the length of the head.
 */
enum request_scan request_scan(struct request_scanner *, const char *buf, size_t len,
    size_t *head_len);

struct request {
	bool		 head;		/* HEAD: the GET answer without its body */
	int		 minor;		/* HTTP/1.minor */
	char		 path[REQUEST_LINE_MAX];	/* the target's path, without ?query */
	const char	*why;		/* for an error status: what was wrong */
};

/*
 * Check a complete head. Returns 0 for a GET or HEAD to route, else the status to
 * answer: 400 (malformed), 405 (another method), 413 (a body), 505 (not HTTP/1.x).
 */
int request_parse(struct request *, const char *head, size_t len);

/* "Bad Request" for 400 ...; "Error" for codes it does not know. */
const char *request_reason(int status);

#endif
