/*
 * libFuzzer target for the status endpoint's request reader. Byte 0 seeds how the rest
 * is split into arrivals; the scan's answer must not depend on the split, and a parsed
 * head must satisfy the reader's promises (bounded, a path, a known status).
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct request req;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request_scanner	 whole, split;
	enum request_scan	 st_whole, st_split = REQ_MORE;
	size_t			 len, have = 0, head_whole = 0, head_split = 0;
	const char		*buf;
	unsigned		 seed;
	int			 code;

	if (size < 1)
		return 0;
	seed = data[0];
	buf = (const char *)data + 1;
	len = size - 1;

	memset(&whole, 0, sizeof whole);
	st_whole = request_scan(&whole, buf, len, &head_whole);

	memset(&split, 0, sizeof split);
	while (have < len && st_split == REQ_MORE) {
		seed = seed * 1103515245u + 12345u;
		have += 1 + (seed >> 16) % (seed & 0x100 ? 5 : 700);
		if (have > len)
			have = len;
		st_split = request_scan(&split, buf, have, &head_split);
	}
	if (st_whole != st_split || (st_whole == REQ_HEAD && head_whole != head_split))
		abort();
	if (st_whole != REQ_HEAD)
		return 0;
	if (head_whole > len || head_whole > REQUEST_HEAD_MAX || buf[head_whole - 1] != '\n')
		abort();
	code = request_parse(&req, buf, head_whole);
	if (code != 0 && code != 400 && code != 405 && code != 413 && code != 505)
		abort();
	if (code != 0 && req.why == NULL)
		abort();
	if (code == 0 && (req.path[0] != '/' || strlen(req.path) >= REQUEST_LINE_MAX ||
	    req.minor < 0 || req.minor > 9))
		abort();
	return 0;
}
