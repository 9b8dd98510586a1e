/*
 * An incremental line splitter for a byte stream, with a bounded line length. Pure: no
 * I/O, no allocation. Only '\n' ends a line ("\r\n" keeps its '\r'); any other byte, NUL
 * included, is line content.
 *
 * A line longer than LINEBUF_MAX comes out in chunks of exactly LINEBUF_MAX bytes with
 * LINE_PARTIAL set, then the rest (1..LINEBUF_MAX bytes); every chunk after the first has
 * LINE_CONT. The chunking depends only on the bytes, never on how they were fed, and no
 * byte is lost. A line of exactly LINEBUF_MAX bytes is one chunk.
 */
#ifndef TEND_LINEBUF_H
#define TEND_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>

#define LINEBUF_MAX (16 * 1024)

#define LINE_NEWLINE	0x1	/* the line ended in '\n' (not part of the bytes given) */
#define LINE_PARTIAL	0x2	/* cut at LINEBUF_MAX: the line goes on in the next chunk */
#define LINE_CONT	0x4	/* this chunk continues a line begun in an earlier chunk */

/*
 * Called once per complete line or chunk. Return true to accept it; false refuses it:
 * the feed stops there and the same line is offered again by the next feed or finish
 * (the refused bytes are not consumed). That is how a full output queue pushes back.
 */
typedef bool (*linebuf_cb)(void *arg, const char *line, size_t len, int flags);

struct linebuf {
	size_t	len;		/* bytes of an unfinished line held in buf */
	bool	cont;		/* an earlier chunk of the current line went out */
	char	buf[LINEBUF_MAX];
};

void linebuf_init(struct linebuf *);
/*
 * Split len bytes; cb gets every line completed by them. Returns how many bytes were
 * consumed: len, or less when cb refused a line (feed the rest again later).
 */
size_t linebuf_feed(struct linebuf *, const char *data, size_t len, linebuf_cb, void *arg);
/* End of stream: the unfinished last line, if any, goes to cb (flags without
 * LINE_NEWLINE). Returns false if cb refused it (call again later). */
bool linebuf_finish(struct linebuf *, linebuf_cb, void *arg);
/* Bytes held of an unfinished line. */
size_t linebuf_pending(const struct linebuf *);

#endif
