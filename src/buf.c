/* A bounded growable text buffer: renderers append, the bound keeps them honest. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->full = false;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/* Make room for n more bytes and the NUL; false (and full) when the bound says no. */
static bool
reserve(struct buf *b, size_t n)
{
	size_t cap;

	if (b->full || n > b->max - b->len) {
		b->full = true;
		return false;
	}
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap > 0 ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	b->p = xreallocarray(b->p, cap, 1);
	b->cap = cap;
	return true;
}

void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char	small[256], *big = NULL;
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		buf_add(b, small, (size_t)n);
		return;
	}
	big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_add(b, big, (size_t)n);
	free(big);
}

void
buf_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7];

	buf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			buf_add(b, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			/* Bytes, not code points: tend's strings are ASCII; others stay legible. */
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			buf_add(b, esc, 6);
		} else
			buf_add(b, (const char *)&c, 1);
	}
	buf_add(b, "\"", 1);
}

void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}
