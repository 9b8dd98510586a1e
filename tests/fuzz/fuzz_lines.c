/*
 * libFuzzer target for the line splitter and the reload-loop detector: the input is cut
 * into pieces (sizes from its first bytes), some lines are refused and offered again,
 * and every chunk goes through reload_watch_line. Checks: the chunks put back together
 * are the input, byte for byte; no chunk exceeds LINEBUF_MAX; flags are consistent.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linebuf.h"
#include "reload.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct state {
	char			*out;		/* the chunks put back together */
	size_t			 len;
	unsigned		 calls;
	unsigned		 refuse;	/* refuse calls whose number has this bit */
	bool			 open;		/* a PARTIAL chunk came: CONT must follow */
	struct reload_watch	*w;
	int64_t			 now;
};

static bool
on_line(void *arg, const char *line, size_t len, int flags)
{
	struct state *st = arg;

	if (st->refuse != 0 && (++st->calls & st->refuse) == st->refuse)
		return false;
	if (len > LINEBUF_MAX || ((flags & LINE_CONT) != 0) != st->open ||
	    ((flags & LINE_PARTIAL) && ((flags & LINE_NEWLINE) || len != LINEBUF_MAX)))
		abort();
	st->open = (flags & LINE_PARTIAL) != 0;
	memcpy(st->out + st->len, line, len);
	st->len += len;
	if (flags & LINE_NEWLINE)
		st->out[st->len++] = '\n';
	reload_watch_line(st->w, line, len, st->now++);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct linebuf	lb;
	struct state		st;
	char			err[128];
	size_t			off = 0, step, n;

	if (size < 2)
		return 0;
	/* The first two bytes: piece size (1..256, or the rest) and which calls refuse. */
	step = data[0] == 0 ? size : (size_t)data[0];
	memset(&st, 0, sizeof st);
	st.refuse = data[1] & 7;
	data += 2;
	size -= 2;
	st.out = malloc(size + 1);
	st.w = reload_watch_new(RELOAD_LOOP_PATTERN, 3, 1000, err, sizeof err);
	if (st.out == NULL || st.w == NULL)
		abort();
	linebuf_init(&lb);
	while (off < size) {
		n = size - off < step ? size - off : step;
		off += linebuf_feed(&lb, (const char *)data + off, n, on_line, &st);
	}
	while (!linebuf_finish(&lb, on_line, &st))
		;
	if (st.len != size || memcmp(st.out, data, size) != 0 || linebuf_pending(&lb) != 0)
		abort();
	reload_watch_free(st.w);
	free(st.out);
	return 0;
}
