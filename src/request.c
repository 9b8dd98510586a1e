/*
 * The status endpoint's request reader: bounded, strict where being lenient could be
 * abused (no bodies, no folded headers, one Host), lenient where clients differ (bare LF
 * line ends, absolute-form targets).
 */
#include "autoconf.h"

#include <string.h>

#include "compat.h"
#include "request.h"

enum request_scan
request_scan(struct request_scanner *sc, const char *buf, size_t len, size_t *head_len)
{
	for (; sc->pos < len; sc->pos++) {
		char c = buf[sc->pos];

		if (c == '\n') {
			if (!sc->line_done) {
				sc->line_done = true;
				sc->at = 1;
				continue;
			}
			if (sc->at != 0) {
				*head_len = ++sc->pos;
				return REQ_HEAD;
			}
			sc->at = 1;
		} else if (c == '\r' && sc->at == 1)
			sc->at = 2;
		else
			sc->at = 0;
		if (!sc->line_done && sc->pos + 1 >= REQUEST_LINE_MAX)
			return REQ_LINE_TOO_LONG;
		if (sc->pos + 1 >= REQUEST_HEAD_MAX)
			return REQ_HEAD_TOO_LARGE;
	}
	return REQ_MORE;
}

/* RFC 9110 token characters. */
static bool
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static size_t
token_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	return i;
}

static bool
ieq(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

/* One line of the head, without its LF and CR; false if a CR sits inside it. */
static bool
next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (nl == NULL)
		nl = end;
	*line = *p;
	*n = (size_t)(nl - *p);
	*p = nl < end ? nl + 1 : end;
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	return memchr(*line, '\r', *n) == NULL;
}

/* The request line: method SP target SP HTTP/1.x. */
static int
parse_request_line(struct request *r, const char *s, size_t n, bool *get_or_head)
{
	size_t		 m = token_len(s, n), t;
	const char	*target, *v, *q;

	if (m == 0 || m >= n || s[m] != ' ')
		return r->why = "bad method", 400;
	r->head = m == 4 && memcmp(s, "HEAD", 4) == 0;
	*get_or_head = (m == 3 && memcmp(s, "GET", 3) == 0) || r->head;
	target = s + m + 1;
	for (t = 0; target + t < s + n && target[t] != ' '; t++)
		if ((unsigned char)target[t] <= 0x20 || (unsigned char)target[t] >= 0x7f)
			return r->why = "bad byte in the target", 400;
	if (t == 0 || target + t >= s + n)
		return r->why = "no target or no version", 400;
	v = target + t + 1;
	if ((size_t)(s + n - v) != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return r->why = "bad HTTP version", 400;
	if (v[5] != '1')
		return r->why = "only HTTP/1.x", 505;
	r->minor = v[7] - '0';
	/* Absolute form (a proxy's): keep the path only. */
	if (t > 7 && strncasecmp(target, "http://", 7) == 0) {
		q = memchr(target + 7, '/', t - 7);
		if (q == NULL)
			return r->why = "absolute target without a path", 400;
		t -= (size_t)(q - target);
		target = q;
	}
	if (target[0] != '/')
		return r->why = "the target must be a path", 400;
	q = memchr(target, '?', t);
	if (q != NULL)
		t = (size_t)(q - target);
	if (t >= sizeof r->path)
		return r->why = "target too long", 400;
	memcpy(r->path, target, t);
	r->path[t] = '\0';
	return 0;
}

/* Content-Length: 1#DIGIT; every listed value the same. */
static int
parse_length(const char *v, size_t n, long long *len)
{
	long long	val = -1, cur;
	size_t		i = 0;

	while (i < n) {
		cur = 0;
		if (v[i] < '0' || v[i] > '9')
			return -1;
		for (; i < n && v[i] >= '0' && v[i] <= '9'; i++)
			cur = cur > 1000000000000LL ? cur : cur * 10 + (v[i] - '0');
		if (val >= 0 && cur != val)
			return -1;
		val = cur;
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i < n && v[i++] != ',')
			return -1;
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
	}
	if (val < 0 || (*len >= 0 && *len != val))
		return -1;
	*len = val;
	return 0;
}

int
request_parse(struct request *r, const char *head, size_t len)
{
	const char	*p = head, *end = head + len, *line;
	size_t		 n, m, i;
	int		 status, hosts = 0;
	bool		 get_or_head = false, chunked = false;
	long long	 clen = -1;

	memset(r, 0, sizeof *r);
	if (!next_line(&p, end, &line, &n))
		return r->why = "CR inside the request line", 400;
	if ((status = parse_request_line(r, line, n, &get_or_head)) != 0)
		return status;
	for (;;) {
		if (p >= end)
			return r->why = "no blank line after the headers", 400;
		if (!next_line(&p, end, &line, &n))
			return r->why = "CR inside a header line", 400;
		if (n == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return r->why = "folded header line", 400;
		m = token_len(line, n);
		if (m == 0 || m >= n || line[m] != ':')
			return r->why = "bad header name", 400;
		for (i = m + 1; i < n; i++)
			if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
				return r->why = "control byte in a header value", 400;
		i = m + 1;
		while (i < n && (line[i] == ' ' || line[i] == '\t'))
			i++;
		while (n > i && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		if (ieq(line, m, "host"))
			hosts++;
		else if (ieq(line, m, "content-length")) {
			if (parse_length(line + i, n - i, &clen) == -1)
				return r->why = "bad Content-Length", 400;
		} else if (ieq(line, m, "transfer-encoding"))
			chunked = true;
	}
	if (p != end)
		return r->why = "bytes after the head", 400;
	if (hosts > 1 || (hosts == 0 && r->minor >= 1))
		return r->why = hosts > 1 ? "more than one Host" : "no Host header", 400;
	if (chunked && clen >= 0)
		return r->why = "both Content-Length and Transfer-Encoding", 400;
	if (!get_or_head)
		return r->why = "only GET and HEAD", 405;
	if (chunked || clen > 0)
		return r->why = "no request body accepted", 413;
	return 0;
}

const char *
request_reason(int status)
{
	static const struct {
		int		 code;
		const char	*text;
	} reasons[] = {
		{ 200, "OK" }, { 400, "Bad Request" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
		{ 503, "Service Unavailable" }, { 505, "HTTP Version Not Supported" },
	};
	size_t i;

	for (i = 0; i < nitems(reasons); i++)
		if (reasons[i].code == status)
			return reasons[i].text;
	return "Error";
}
