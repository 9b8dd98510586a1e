/*
 * Incremental, bounded parser of one HTTP/1.x response, fed bytes as they arrive.
 *
 * Accepted: "HTTP/1.x NNN [reason]" (CRLF or bare LF line ends), headers (names
 * case-insensitive), then a body framed by Transfer-Encoding: chunked (sizes in hex,
 * extensions and trailers skipped), by Content-Length, or by the peer closing. 1xx
 * interim responses (100 Continue, 103 Early Hints) are skipped; 101 is an error (we
 * never ask to switch). HTTP/0.9 (a body without a status line) is an error.
 *
 * Bounds: the header block (status line + headers) is at most HTTP_MAX_HEADER bytes and
 * the whole response (framing included) at most HTTP_MAX_RESPONSE; past either, or on
 * a NUL in the headers, a bad or conflicting Content-Length, a bad chunk size, or a
 * close before the end: HTTP_ERROR with a static reason in why. Errors and completion
 * are sticky: later feeds return the same state and are ignored.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http.h"

enum {
	PH_HEAD,	/* status line and headers, kept in hdr[] */
	PH_BODY_LEN,	/* Content-Length body: remaining bytes to go */
	PH_BODY_CLOSE,	/* body until the peer closes */
	PH_CHUNK_SIZE,	/* hex size line (line_len = digits seen) */
	PH_CHUNK_EXT,	/* rest of the size line: extensions, skipped */
	PH_CHUNK_DATA,	/* remaining bytes of this chunk */
	PH_CHUNK_END,	/* the CRLF after chunk data */
	PH_TRAILER,	/* trailer lines until an empty one (line_len = line length) */
	PH_DONE,
	PH_ERROR,
};

/* framing bits collected from the headers */
#define F_LENGTH	0x1	/* Content-Length seen (value in remaining) */
#define F_TE		0x2	/* Transfer-Encoding seen */
#define F_CHUNKED	0x4	/* ... and its last coding is chunked */
#define F_CR		0x8	/* PH_CHUNK_END: the CR was seen */

#define CL_MAX_DIGITS	18	/* fits a long long */
#define CHUNK_MAX_DIGITS 15	/* fits a long long */

void
http_init(struct http_parser *hp, bool want_body)
{
	hp->want_body = want_body;
	hp->status = 0;
	hp->headers_done = false;
	hp->why = NULL;
	hp->body[0] = '\0';
	hp->body_len = 0;
	hp->hdr_len = 0;
	hp->total = 0;
	hp->phase = PH_HEAD;
	hp->remaining = 0;
	hp->framing = 0;
	hp->line_len = 0;
}

/* Stop for good with a reason; returns 0 so callers can "return fail(...)" as consumed. */
static size_t
fail(struct http_parser *hp, const char *why)
{
	hp->phase = PH_ERROR;
	hp->why = why;
	return 0;
}

/* The same, for checks that answer yes or no. */
static bool
bad(struct http_parser *hp, const char *why)
{
	fail(hp, why);
	return false;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim optional white space around [*s, *s + *n). */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_ows(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_ows((*s)[*n - 1]))
		(*n)--;
}

static bool
name_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

/* Content-Length: digits, or a list of identical values ("42, 42"); -1 if bad. */
static long long
parse_length(const char *v, size_t n)
{
	long long value = -1;

	while (n > 0) {
		const char *comma = memchr(v, ',', n);
		size_t len = comma != NULL ? (size_t)(comma - v) : n;
		const char *item = v;
		size_t ilen = len;
		long long x = 0;

		trim(&item, &ilen);
		if (ilen == 0 || ilen > CL_MAX_DIGITS)
			return -1;
		for (size_t i = 0; i < ilen; i++) {
			if (item[i] < '0' || item[i] > '9')
				return -1;
			x = x * 10 + (item[i] - '0');
		}
		if (value != -1 && x != value)
			return -1;
		value = x;
		if (comma == NULL)
			break;
		v += len + 1;
		n -= len + 1;
		if (n == 0)
			return -1;	/* trailing comma */
	}
	return value;
}

/* "HTTP/1.x NNN[ reason]" -> NNN, or -1. */
static int
parse_status_line(const char *l, size_t n)
{
	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' || l[7] > '9' ||
	    l[8] != ' ')
		return -1;
	if (l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' ||
	    l[11] < '0' || l[11] > '9')
		return -1;
	if (n > 12 && l[12] != ' ')
		return -1;
	return (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
}

/* One "name: value" header line; only the framing headers matter to us. */
static bool
parse_header(struct http_parser *hp, const char *l, size_t n, bool *framing_hdr)
{
	const char *colon = memchr(l, ':', n);
	const char *v;
	size_t nlen, vlen;

	*framing_hdr = false;
	if (colon == NULL || colon == l)
		return bad(hp, "bad header line");
	nlen = (size_t)(colon - l);
	for (size_t i = 0; i < nlen; i++)
		if ((unsigned char)l[i] <= ' ' || l[i] == 0x7f)
			return bad(hp, "bad header name");
	v = colon + 1;
	vlen = n - nlen - 1;
	trim(&v, &vlen);

	if (name_is(l, nlen, "content-length")) {
		long long len = parse_length(v, vlen);

		*framing_hdr = true;
		if (len < 0)
			return bad(hp, "bad Content-Length");
		if ((hp->framing & F_LENGTH) && hp->remaining != len)
			return bad(hp, "conflicting Content-Length");
		hp->framing |= F_LENGTH;
		hp->remaining = len;
	} else if (name_is(l, nlen, "transfer-encoding")) {
		const char *last = v;

		*framing_hdr = true;
		for (size_t i = 0; i < vlen; i++)
			if (v[i] == ',')
				last = v + i + 1;
		vlen -= (size_t)(last - v);
		trim(&last, &vlen);
		hp->framing |= F_TE;
		if (name_is(last, vlen, "chunked"))
			hp->framing |= F_CHUNKED;
		else
			hp->framing &= ~F_CHUNKED;
	}
	return true;
}

/* The header block in hdr[] is complete: check it and choose the body framing. */
static void
end_of_head(struct http_parser *hp)
{
	const char *p = hp->hdr, *end = hp->hdr + hp->hdr_len;
	bool first = true, last_framing = false;
	int status = -1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);	/* the block ends with '\n' */
		const char *l = p;

		p = nl + 1;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (first) {
			if ((status = parse_status_line(l, n)) < 0) {
				fail(hp, "bad status line");
				return;
			}
			first = false;
		} else if (n == 0) {
			break;
		} else if (is_ows(l[0])) {
			/* Obsolete line folding: harmless unless it continues a framing header. */
			if (last_framing) {
				fail(hp, "folded framing header");
				return;
			}
		} else if (!parse_header(hp, l, n, &last_framing))
			return;
	}

	if (status >= 100 && status < 200) {
		if (status == 101) {
			fail(hp, "unexpected 101 Switching Protocols");
			return;
		}
		/* Interim response: the real one follows. */
		hp->hdr_len = 0;
		hp->line_len = 0;
		hp->framing = 0;
		hp->remaining = 0;
		return;
	}

	hp->status = status;
	hp->headers_done = true;
	if (!hp->want_body || status == 204 || status == 304) {
		hp->phase = PH_DONE;
	} else if (hp->framing & F_TE) {
		hp->phase = (hp->framing & F_CHUNKED) ? PH_CHUNK_SIZE : PH_BODY_CLOSE;
		hp->remaining = 0;
		hp->line_len = 0;
	} else if (hp->framing & F_LENGTH) {
		if (hp->remaining > (long long)(HTTP_MAX_RESPONSE - hp->total))
			fail(hp, "response too large");
		else
			hp->phase = hp->remaining == 0 ? PH_DONE : PH_BODY_LEN;
	} else
		hp->phase = PH_BODY_CLOSE;
}

/* Collect header bytes until the empty line that ends the block. */
static size_t
feed_head(struct http_parser *hp, const char *buf, size_t len)
{
	static const char magic[] = "HTTP/";

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\0')
			return fail(hp, "NUL byte in the header");
		if (hp->hdr_len == sizeof hp->hdr)
			return fail(hp, "header block too large");
		if (hp->hdr_len < sizeof magic - 1 && c != magic[hp->hdr_len])
			return fail(hp, "not an HTTP/1.x response");
		hp->hdr[hp->hdr_len++] = c;
		hp->total++;
		if (c == '\n') {
			if (hp->line_len == 0) {
				end_of_head(hp);
				return i + 1;
			}
			hp->line_len = 0;
		} else if (c != '\r')
			hp->line_len++;
	}
	return len;
}

/* Keep body bytes for the substring check; the caller guarantees they fit. */
static void
keep(struct http_parser *hp, const char *buf, size_t n)
{
	memcpy(hp->body + hp->body_len, buf, n);
	hp->body_len += n;
	hp->body[hp->body_len] = '\0';
}

/* Body bytes of known length (a Content-Length body or one chunk). */
static size_t
feed_counted(struct http_parser *hp, const char *buf, size_t len, int next)
{
	size_t n = len;

	if ((long long)n > hp->remaining)
		n = (size_t)hp->remaining;
	keep(hp, buf, n);
	hp->remaining -= (long long)n;
	if (hp->remaining == 0) {
		hp->phase = next;
		hp->framing &= ~F_CR;
	}
	return n;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One byte of chunk framing: size line, extensions, the CRLF after data, trailers. */
static void
chunk_byte(struct http_parser *hp, char c)
{
	int v;

	switch (hp->phase) {
	case PH_CHUNK_SIZE:
		if ((v = hexval(c)) >= 0) {
			if (++hp->line_len > CHUNK_MAX_DIGITS) {
				fail(hp, "chunk size too large");
				return;
			}
			hp->remaining = hp->remaining * 16 + v;
			return;
		}
		if (hp->line_len == 0 || (c != ';' && c != '\r' && c != '\n' && !is_ows(c))) {
			fail(hp, "bad chunk size");
			return;
		}
		hp->phase = PH_CHUNK_EXT;
		/* FALLTHROUGH */
	case PH_CHUNK_EXT:
		if (c != '\n')
			return;
		hp->line_len = 0;
		if (hp->remaining > (long long)(HTTP_MAX_RESPONSE - hp->total))
			fail(hp, "response too large");
		else
			hp->phase = hp->remaining == 0 ? PH_TRAILER : PH_CHUNK_DATA;
		return;
	case PH_CHUNK_END:
		if (c == '\r' && !(hp->framing & F_CR)) {
			hp->framing |= F_CR;
		} else if (c == '\n') {
			hp->phase = PH_CHUNK_SIZE;
			hp->line_len = 0;
		} else
			fail(hp, "missing CRLF after chunk data");
		return;
	case PH_TRAILER:
		if (c == '\n') {
			if (hp->line_len == 0)
				hp->phase = PH_DONE;
			hp->line_len = 0;
		} else if (c != '\r')
			hp->line_len++;
		return;
	}
}

/* The peer closed: complete only for a close-delimited body. */
static enum http_state
feed_eof(struct http_parser *hp)
{
	switch (hp->phase) {
	case PH_HEAD:
		fail(hp, "connection closed before the end of the headers");
		return HTTP_ERROR;
	case PH_BODY_CLOSE:
		hp->phase = PH_DONE;
		return HTTP_DONE;
	default:
		fail(hp, "connection closed before the end of the body");
		return HTTP_ERROR;
	}
}

enum http_state
http_feed(struct http_parser *hp, const char *buf, size_t len)
{
	size_t off = 0;

	if (hp->phase == PH_DONE)
		return HTTP_DONE;
	if (hp->phase == PH_ERROR)
		return HTTP_ERROR;
	if (len == 0)
		return feed_eof(hp);

	while (off < len && hp->phase != PH_DONE && hp->phase != PH_ERROR) {
		size_t room = HTTP_MAX_RESPONSE - hp->total;
		size_t n = len - off, used;

		if (room == 0) {
			fail(hp, "response too large");
			break;
		}
		if (n > room)
			n = room;
		switch (hp->phase) {
		case PH_HEAD:
			used = feed_head(hp, buf + off, n);	/* counts its own bytes */
			off += used;
			continue;
		case PH_BODY_LEN:
			used = feed_counted(hp, buf + off, n, PH_DONE);
			break;
		case PH_CHUNK_DATA:
			used = feed_counted(hp, buf + off, n, PH_CHUNK_END);
			break;
		case PH_BODY_CLOSE:
			keep(hp, buf + off, n);
			used = n;
			break;
		default:
			chunk_byte(hp, buf[off]);
			used = 1;
			break;
		}
		hp->total += used;
		off += used;
	}
	if (hp->phase == PH_DONE)
		return HTTP_DONE;
	return hp->phase == PH_ERROR ? HTTP_ERROR : HTTP_MORE;
}
