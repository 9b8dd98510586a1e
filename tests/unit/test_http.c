/* The bounded HTTP response parser: good answers, fragmented ones, hostile ones. */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static struct http_parser hp;

/* Feed a whole string in one go, then (if eof) the close. */
static enum http_state
feed_all(const char *s, size_t len, bool want_body, bool eof)
{
	enum http_state st;

	http_init(&hp, want_body);
	st = http_feed(&hp, s, len);
	if (eof && st == HTTP_MORE)
		st = http_feed(&hp, "", 0);
	return st;
}

static enum http_state
feed_str(const char *s, bool want_body, bool eof)
{
	return feed_all(s, strlen(s), want_body, eof);
}

/* Feed one byte at a time: the answer must not depend on how bytes arrive. */
static enum http_state
feed_bytes(const char *s, size_t len, bool want_body, bool eof)
{
	enum http_state st = HTTP_MORE;

	http_init(&hp, want_body);
	for (size_t i = 0; i < len && st == HTTP_MORE; i++)
		st = http_feed(&hp, s + i, 1);
	if (eof && st == HTTP_MORE)
		st = http_feed(&hp, "", 0);
	return st;
}

Test(http, content_length)
{
	const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";

	cr_assert_eq(feed_str(r, true, false), HTTP_DONE);
	cr_assert_eq(hp.status, 200);
	cr_assert(hp.headers_done);
	cr_assert_eq(hp.body_len, 5);
	cr_assert_str_eq(hp.body, "hello");
	/* bytes past the body are ignored, and completion is sticky */
	cr_assert_eq(http_feed(&hp, "junk", 4), HTTP_DONE);
	cr_assert_eq(http_feed(&hp, "", 0), HTTP_DONE);
}

Test(http, headers_only_when_no_body_wanted)
{
	const char *r = "HTTP/1.0 503 Service Unavailable\r\nContent-Length: 99\r\n\r\n";

	cr_assert_eq(feed_str(r, false, false), HTTP_DONE);
	cr_assert_eq(hp.status, 503);
	cr_assert_eq(hp.body_len, 0);
	/* no reason phrase at all */
	cr_assert_eq(feed_str("HTTP/1.1 204\r\n\r\n", false, false), HTTP_DONE);
	cr_assert_eq(hp.status, 204);
}

Test(http, more_until_blank_line)
{
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", false, false),
	    HTTP_MORE);
	cr_assert_eq(hp.status, 0);
	cr_assert_not(hp.headers_done);
}

Test(http, header_names_case_insensitive)
{
	const char *r = "HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh:3\r\n\r\nabcdef";

	cr_assert_eq(feed_str(r, true, false), HTTP_DONE);
	cr_assert_str_eq(hp.body, "abc");
}

Test(http, chunked_with_extensions_and_trailers)
{
	const char *r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5;name=value\r\nhello\r\n"
	    "1A ; x=\"y\"\r\n, and the rest of it......\r\n"
	    "0\r\nX-Trailer: yes\r\nOther: 1\r\n\r\n";

	cr_assert_eq(feed_str(r, true, false), HTTP_DONE);
	cr_assert_eq(hp.status, 200);
	cr_assert_str_eq(hp.body, "hello, and the rest of it......");
	cr_assert_eq(feed_bytes(r, strlen(r), true, false), HTTP_DONE);
	cr_assert_str_eq(hp.body, "hello, and the rest of it......");
}

Test(http, chunked_wins_over_content_length)
{
	const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
	    "Transfer-Encoding: gzip, Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";

	cr_assert_eq(feed_str(r, true, false), HTTP_DONE);
	cr_assert_str_eq(hp.body, "abc");
}

Test(http, close_delimited)
{
	const char *r = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of this is body";

	cr_assert_eq(feed_str(r, true, false), HTTP_MORE);
	cr_assert(hp.headers_done);
	cr_assert_eq(http_feed(&hp, " and more", 9), HTTP_MORE);
	cr_assert_eq(http_feed(&hp, "", 0), HTTP_DONE);
	cr_assert_str_eq(hp.body, "all of this is body and more");
	/* a transfer coding other than chunked is close-delimited too */
	r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nxyz";
	cr_assert_eq(feed_str(r, true, true), HTTP_DONE);
	cr_assert_str_eq(hp.body, "xyz");
}

Test(http, bare_lf)
{
	const char *r = "HTTP/1.1 200 OK\nContent-Length: 2\n\nok";

	cr_assert_eq(feed_str(r, true, false), HTTP_DONE);
	cr_assert_str_eq(hp.body, "ok");
	r = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n";
	cr_assert_eq(feed_str(r, true, false), HTTP_DONE);
	cr_assert_str_eq(hp.body, "ok");
}

Test(http, byte_by_byte_matches_one_go)
{
	static const char *good[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "b\r\nhello world\r\n0\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char one[256];
		int status;

		cr_assert_eq(feed_str(good[i], true, false), HTTP_DONE, "case %zu", i);
		status = hp.status;
		strcpy(one, hp.body);
		cr_assert_eq(feed_bytes(good[i], strlen(good[i]), true, false), HTTP_DONE);
		cr_assert_eq(hp.status, status);
		cr_assert_str_eq(hp.body, one);
	}
}

Test(http, interim_responses_skipped)
{
	const char *r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

	cr_assert_eq(feed_str(r, true, false), HTTP_DONE);
	cr_assert_eq(hp.status, 200);
	cr_assert_eq(feed_str("HTTP/1.1 101 Switching Protocols\r\n\r\n", false, false),
	    HTTP_ERROR);
}

Test(http, no_body_statuses)
{
	cr_assert_eq(feed_str("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
	    true, false), HTTP_DONE);
	cr_assert_eq(hp.body_len, 0);
}

Test(http, duplicate_content_length)
{
	const char *same = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok";
	const char *list = "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok";
	const char *differ = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok";

	cr_assert_eq(feed_str(same, true, false), HTTP_DONE);
	cr_assert_eq(feed_str(list, true, false), HTTP_DONE);
	cr_assert_eq(feed_str(differ, false, false), HTTP_ERROR);
	cr_assert_str_eq(hp.why, "conflicting Content-Length");
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n", false, false),
	    HTTP_ERROR);
}

Test(http, bad_content_length)
{
	static const char *bad[] = { "-1", "", "abc", "1x", "0x10", "+5", "1 2", "5,",
	    "1234567890123456789" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char r[128];

		snprintf(r, sizeof r, "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\n", bad[i]);
		cr_assert_eq(feed_str(r, false, false), HTTP_ERROR, "%s", bad[i]);
		cr_assert_str_eq(hp.why, "bad Content-Length");
	}
}

Test(http, garbage_fails_fast)
{
	cr_assert_eq(feed_str("SSH-2.0-OpenSSH_9.2\r\n", false, false), HTTP_ERROR);
	cr_assert_str_eq(hp.why, "not an HTTP/1.x response");
	/* HTTP/0.9: a body without a status line */
	cr_assert_eq(feed_str("<html>ok</html>", true, true), HTTP_ERROR);
	cr_assert_eq(feed_str("\r\nHTTP/1.1 200 OK\r\n\r\n", false, false), HTTP_ERROR);
	/* sticky */
	cr_assert_eq(http_feed(&hp, "HTTP/1.1 200 OK\r\n\r\n", 19), HTTP_ERROR);
	cr_assert_eq(http_feed(&hp, "", 0), HTTP_ERROR);
}

Test(http, bad_status_lines)
{
	static const char *bad[] = { "HTTP/2.0 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK",
	    "HTTP/1.1 600 Weird", "HTTP/1.1 099 x", "HTTP/1.1  200 OK", "HTTP/1.x 200 OK",
	    "HTTP/1.1 200OK", "HTTP/1.1" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char r[128];

		snprintf(r, sizeof r, "%s\r\n\r\n", bad[i]);
		cr_assert_eq(feed_str(r, false, false), HTTP_ERROR, "%s", bad[i]);
		cr_assert_eq(hp.status, 0);
	}
}

Test(http, bad_header_lines)
{
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", false, false),
	    HTTP_ERROR);
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", false, false),
	    HTTP_ERROR);
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\n: x\r\n\r\n", false, false), HTTP_ERROR);
	/* a folded framing header is refused, other folds ignored */
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 2\r\n\r\n", false,
	    false), HTTP_ERROR);
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nX-Long: a\r\n b\r\n\r\n", false, false),
	    HTTP_DONE);
}

Test(http, nul_in_header)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";

	cr_assert_eq(feed_all(r, sizeof r - 1, false, false), HTTP_ERROR);
	cr_assert_str_eq(hp.why, "NUL byte in the header");
}

Test(http, binary_body_kept)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\0\xff\0z";

	cr_assert_eq(feed_all(r, sizeof r - 1, true, false), HTTP_DONE);
	cr_assert_eq(hp.body_len, 4);
	cr_assert(memcmp(hp.body, "\0\xff\0z", 4) == 0);
	cr_assert_eq(hp.body[4], '\0');
}

Test(http, header_block_too_large)
{
	size_t n = HTTP_MAX_HEADER + 100;
	char *r = malloc(n);

	cr_assert_not_null(r);
	memset(r, 'a', n);
	memcpy(r, "HTTP/1.1 200 OK\r\nX-Big: ", 24);
	cr_assert_eq(feed_all(r, n, false, false), HTTP_ERROR);
	cr_assert_str_eq(hp.why, "header block too large");
	/* many small lines hit the same bound */
	for (size_t i = 17; i + 4 < n; i += 4)
		memcpy(r + i, "X:\r\n", 4);
	cr_assert_eq(feed_bytes(r, n, false, false), HTTP_ERROR);
	cr_assert_str_eq(hp.why, "header block too large");
	free(r);
}

Test(http, response_too_large)
{
	size_t n = 10 * 1024 * 1024;
	char *r = malloc(n);
	const char *h = "HTTP/1.1 200 OK\r\n\r\n";

	cr_assert_not_null(r);
	memset(r, 'x', n);
	memcpy(r, h, strlen(h));
	/* close-delimited */
	cr_assert_eq(feed_all(r, n, true, false), HTTP_ERROR);
	cr_assert_str_eq(hp.why, "response too large");
	cr_assert(hp.body_len <= HTTP_MAX_RESPONSE);
	/* ... but fine when only the headers are wanted */
	cr_assert_eq(feed_all(r, n, false, false), HTTP_DONE);
	/* an announced length past the bound fails at once */
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n", true,
	    false), HTTP_ERROR);
	cr_assert_str_eq(hp.why, "response too large");
	/* a chunk past the bound too */
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "A00000\r\n", true, false), HTTP_ERROR);
	cr_assert_str_eq(hp.why, "response too large");
	free(r);
}

Test(http, exactly_at_the_bound)
{
	size_t n = HTTP_MAX_RESPONSE;
	char *r = malloc(n + 1);
	const char *h = "HTTP/1.1 200 OK\r\n\r\n";

	cr_assert_not_null(r);
	memset(r, 'y', n + 1);
	memcpy(r, h, strlen(h));
	cr_assert_eq(feed_all(r, n, true, true), HTTP_DONE);
	cr_assert_eq(hp.body_len, n - strlen(h));
	cr_assert_eq(feed_all(r, n + 1, true, true), HTTP_ERROR);
	free(r);
}

Test(http, many_small_chunks_bounded)
{
	/* 20000 one-byte chunks: framing counts toward the bound too */
	size_t n = 20000, off;
	char *r = malloc(n * 6 + 128);
	enum http_state st;

	cr_assert_not_null(r);
	off = (size_t)sprintf(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(r + off, "1\r\nz\r\n");
	off += (size_t)sprintf(r + off, "0\r\n\r\n");
	st = feed_all(r, off, true, false);
	cr_assert_eq(st, HTTP_ERROR);
	cr_assert_str_eq(hp.why, "response too large");
	free(r);
}

Test(http, bad_chunks)
{
	static const char *bad[] = {
		"zz\r\n",			/* not hex */
		"\r\n",				/* empty size */
		";ext\r\n",			/* extension without size */
		"1234567890abcdef0\r\n",	/* too many digits */
		"3\r\nabcX",			/* no CRLF after data */
		"3\r\nabc\r\r\n",		/* two CRs */
		" 3\r\nabc\r\n",		/* leading space */
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char r[256];

		snprintf(r, sizeof r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s",
		    bad[i]);
		cr_assert_eq(feed_str(r, true, false), HTTP_ERROR, "case %zu", i);
		cr_assert_eq(feed_bytes(r, strlen(r), true, false), HTTP_ERROR, "case %zu", i);
	}
}

Test(http, truncated)
{
	/* closed inside the headers: the probe calls this a reset */
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nContent-Le", false, true), HTTP_ERROR);
	cr_assert_not(hp.headers_done);
	cr_assert_eq(feed_str("", false, true), HTTP_ERROR);
	cr_assert_not(hp.headers_done);
	/* closed inside a counted or chunked body */
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true, true),
	    HTTP_ERROR);
	cr_assert(hp.headers_done);
	cr_assert_str_eq(hp.why, "connection closed before the end of the body");
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
	    true, true), HTTP_ERROR);
	cr_assert_eq(feed_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
	    true, true), HTTP_ERROR);
}

Test(http, random_bytes_never_crash)
{
	char buf[4096];
	unsigned seed = 12345;

	for (int round = 0; round < 500; round++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof buf);
		enum http_state st;

		for (size_t i = 0; i < len; i++)
			buf[i] = (char)rand_r(&seed);
		if (round % 2)
			memcpy(buf, "HTTP/1.1 200 OK\r\n", len < 17 ? len : 17);
		http_init(&hp, round % 3 != 0);
		st = http_feed(&hp, buf, len);
		if (st == HTTP_MORE)
			st = http_feed(&hp, "", 0);
		cr_assert_neq(st, HTTP_MORE);
		cr_assert(hp.body_len <= HTTP_MAX_RESPONSE);
		cr_assert(st != HTTP_ERROR || hp.why != NULL);
	}
}
