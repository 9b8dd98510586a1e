/*
 * A growable text buffer with a hard bound, for responses (status endpoint, control
 * socket, sd_notify lines). Past the bound nothing more is appended and `full` is set,
 * so a renderer never grows without limit; callers answer 500 (or truncate) then.
 */
#ifndef TEND_BUF_H
#define TEND_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "compat.h"

struct buf {
	char	*p;		/* NUL-terminated while len < cap */
	size_t	 len, cap;
	size_t	 max;		/* bound on len */
	bool	 full;		/* something was dropped at the bound */
};

void buf_init(struct buf *, size_t max);
void buf_reset(struct buf *);
void buf_add(struct buf *, const char *, size_t);
void buf_puts(struct buf *, const char *);
void buf_printf(struct buf *, const char *, ...) TEND_PRINTF(2, 3);
/* s as a JSON string, quotes included (control bytes and non-ASCII escaped). */
void buf_json_str(struct buf *, const char *s);
void buf_free(struct buf *);

#endif
