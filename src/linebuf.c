/*
 * The line splitter. Complete lines inside the bytes fed are handed out in place (no
 * copy); only the unfinished tail of a feed is copied into the buffer.
 */
#include "autoconf.h"

#include <string.h>

#include "linebuf.h"

void
linebuf_init(struct linebuf *lb)
{
	lb->len = 0;
	lb->cont = false;
}

size_t
linebuf_pending(const struct linebuf *lb)
{
	return lb->len;
}

/* A line started in an earlier feed: complete it, or cut a full chunk off it. */
static bool
feed_held(struct linebuf *lb, const char **pp, const char *end, linebuf_cb cb, void *arg)
{
	const char	*p = *pp, *nl = memchr(p, '\n', (size_t)(end - p));
	size_t		 seg = (size_t)((nl != NULL ? nl : end) - p);
	size_t		 room = LINEBUF_MAX - lb->len;
	int		 cf = lb->cont ? LINE_CONT : 0;

	if (seg <= room) {
		memcpy(lb->buf + lb->len, p, seg);
		if (nl == NULL) {
			lb->len += seg;
			*pp = end;
			return true;
		}
		/* lb->len is only updated once cb took the line, so a refusal undoes nothing. */
		if (!cb(arg, lb->buf, lb->len + seg, LINE_NEWLINE | cf))
			return false;
		lb->len = 0;
		lb->cont = false;
		*pp = nl + 1;
		return true;
	}
	/* More than room bytes and no newline among them: the buffer fills, the line goes on. */
	memcpy(lb->buf + lb->len, p, room);
	if (!cb(arg, lb->buf, LINEBUF_MAX, LINE_PARTIAL | cf))
		return false;
	lb->len = 0;
	lb->cont = true;
	*pp = p + room;
	return true;
}

/* Nothing held: hand out lines in place, keep only an unfinished tail. */
static bool
feed_direct(struct linebuf *lb, const char **pp, const char *end, linebuf_cb cb, void *arg)
{
	const char	*p = *pp, *nl = memchr(p, '\n', (size_t)(end - p));
	size_t		 seg = (size_t)((nl != NULL ? nl : end) - p);
	int		 cf = lb->cont ? LINE_CONT : 0;

	if (seg > LINEBUF_MAX) {
		if (!cb(arg, p, LINEBUF_MAX, LINE_PARTIAL | cf))
			return false;
		lb->cont = true;
		*pp = p + LINEBUF_MAX;
		return true;
	}
	if (nl != NULL) {
		if (!cb(arg, p, seg, LINE_NEWLINE | cf))
			return false;
		lb->cont = false;
		*pp = nl + 1;
		return true;
	}
	memcpy(lb->buf, p, seg);
	lb->len = seg;
	*pp = end;
	return true;
}

size_t
linebuf_feed(struct linebuf *lb, const char *data, size_t len, linebuf_cb cb, void *arg)
{
	const char	*p = data, *end = data + len;
	bool		 ok = true;

	while (ok && p < end) {
		if (lb->len > 0)
			ok = feed_held(lb, &p, end, cb, arg);
		else
			ok = feed_direct(lb, &p, end, cb, arg);
	}
	return (size_t)(p - data);
}

bool
linebuf_finish(struct linebuf *lb, linebuf_cb cb, void *arg)
{
	if (lb->len > 0 && !cb(arg, lb->buf, lb->len, lb->cont ? LINE_CONT : 0))
		return false;
	lb->len = 0;
	lb->cont = false;
	return true;
}
