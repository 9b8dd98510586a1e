/*
 * libFuzzer target for the value parsers and the INI reader. The first byte picks the
 * parser, the rest is its input. Parsers must not crash, leak or read out of bounds,
 * and what they accept must survive a round trip (durations, signals).
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "options.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Feed text to the INI reader as a file, as config_load would after the defaults. */
static void
fuzz_file(const uint8_t *data, size_t size)
{
	struct config		cfg;
	struct config_loader	ld;
	FILE			*fp;

	if (size == 0 || (fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return;
	memset(&cfg, 0, sizeof cfg);
	memset(&ld, 0, sizeof ld);
	ld.cfg = &cfg;
	config_defaults(&ld);
	config_file_read(&ld, fp, "fuzz.ini");
	fclose(fp);
	config_loader_free(&ld);
	config_free(&cfg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct status_ranges	 r;
	struct url		 u;
	const char		*why;
	char			*s, **argv, buf[32];
	int64_t			 ms, again;
	int			 sig;

	if (size == 0)
		return 0;
	if (data[0] % 9 == 8) {
		fuzz_file(data + 1, size - 1);
		return 0;
	}
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 9) {
	case 0:
		if (parse_duration(s, &ms, &why) == 0) {
			if (ms < 0 || ms > PARSE_DURATION_MAX)
				abort();
			format_duration(ms, buf, sizeof buf);
			if (parse_duration(buf, &again, &why) != 0 || again != ms)
				abort();
		}
		break;
	case 1:
		if ((sig = parse_signal(s)) != -1 && parse_signal(signal_name(sig)) != sig)
			abort();
		break;
	case 2:
		(void)parse_http_url(s, &u, &why);
		break;
	case 3:
		(void)parse_target(s, &u, &why);
		break;
	case 4:
		(void)parse_listen(s, &u, &why);
		break;
	case 5:
		(void)parse_hostport(s, &u, &why);
		break;
	case 6:
		if ((argv = parse_argv(s, &why)) != NULL)
			argv_free(argv);
		break;
	case 7:
		if (parse_status_ranges(s, &r, &why) == 0 && (r.n < 1 || r.n > 8))
			abort();
		break;
	}
	free(s);
	return 0;
}
