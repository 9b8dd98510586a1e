/*
 * libFuzzer target for the HTTP response parser. Byte 0 picks want_body and whether
 * the peer closes at the end; byte 1 seeds how the rest is split into feeds. The
 * answer must not depend on the split: it is compared with one feed of everything.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct http_parser whole, split;

static void
check_invariants(const struct http_parser *hp, enum http_state st)
{
	if (hp->body_len > HTTP_MAX_RESPONSE || hp->body[hp->body_len] != '\0')
		abort();
	if (st == HTTP_ERROR && hp->why == NULL)
		abort();
	if (hp->headers_done != (hp->status != 0))
		abort();
	if (hp->status != 0 && (hp->status < 200 || hp->status > 599))
		abort();
	if (!hp->want_body && hp->body_len != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum http_state st_whole = HTTP_MORE, st_split = HTTP_MORE;
	bool want_body, eof;
	unsigned seed;
	const char *buf;
	size_t len, off = 0;

	if (size < 2)
		return 0;
	want_body = data[0] & 1;
	eof = (data[0] & 2) != 0;
	seed = data[1];
	buf = (const char *)data + 2;
	len = size - 2;

	http_init(&whole, want_body);
	if (len > 0)	/* a zero-length feed means the peer closed */
		st_whole = http_feed(&whole, buf, len);
	if (eof)
		st_whole = http_feed(&whole, "", 0);
	check_invariants(&whole, st_whole);

	http_init(&split, want_body);
	while (off < len) {
		size_t n;

		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 16) % (seed & 0x100 ? 7 : 300);
		if (n > len - off)
			n = len - off;
		st_split = http_feed(&split, buf + off, n);
		off += n;
		check_invariants(&split, st_split);
		if (st_split != HTTP_MORE && (seed & 0x200))
			break;	/* callers stop at DONE/ERROR; the rest must not matter */
	}
	if (eof)
		st_split = http_feed(&split, "", 0);
	check_invariants(&split, st_split);

	if (st_whole != st_split || whole.status != split.status ||
	    whole.headers_done != split.headers_done || whole.body_len != split.body_len ||
	    memcmp(whole.body, split.body, whole.body_len) != 0 || whole.why != split.why)
		abort();
	return 0;
}
