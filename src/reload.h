/*
 * uvicorn's hot reload: the guard that refuses, strips or allows its options before the
 * first spawn, and the detector that spots a reload loop in the child's output lines.
 * Both pure: no I/O, time comes in as an argument.
 */
#ifndef TEND_RELOAD_H
#define TEND_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* What reload_guard found (bits of its result). */
#define RELOAD_IN_ARGV	0x1	/* --reload, --reload-dir ... in the command */
#define RELOAD_IN_ENV	0x2	/* UVICORN_RELOAD set true in the child's environment */

/*
 * Check the child's argv (argv[0] is the program) and environment for uvicorn's reload
 * options. Returns -1 when mode is RELOAD_FORBID and something was found (msg: what,
 * why and how to allow it; the caller exits 78), otherwise the RELOAD_IN_* bits found
 * (0: nothing, msg empty). RELOAD_STRIP: *out_argv is a new argv without those options
 * and their values when RELOAD_IN_ARGV (free with argv_free), msg is the warning, and
 * with RELOAD_IN_ENV the caller removes the variable with reload_env_strip().
 * RELOAD_ALLOW: nothing changes, msg says what stays. *out_argv is NULL unless set.
 */
int reload_guard(char **argv, char **envp, enum reload_mode, char ***out_argv, char *msg,
    size_t msglen);
/* Remove (and free) every UVICORN_RELOAD entry of a malloc'd environment, in place. */
void reload_env_strip(char **envp);
/* Is this UVICORN_RELOAD value true for uvicorn (click: 1/true/t/yes/y/on, any case)? */
bool reload_env_true(const char *value);

/* The default [reload_loop] pattern (the one in DESIGN.md and config.c). */
#define RELOAD_LOOP_PATTERN \
	"(detected (file )?changes? in .*Reloading|Started reloader process)"

/*
 * The reload-loop detector. An event is an output line that matches the pattern, or a
 * restart of the server inside the child: a "Started server process [PID]" line with a
 * PID not seen before, when every server process announced so far has announced its
 * end ("Finished server process [PID]") and no matching line came since the last start.
 * So one reload counts once (the "Reloading" line and the new server's start are the
 * same event), the first server is no event, and the N workers of `--workers N`
 * starting side by side are no events either.
 */
struct reload_watch;	/* opaque */

/* NULL if pattern is not a valid POSIX ERE (err: regerror's text). count is 1..1000. */
struct reload_watch *reload_watch_new(const char *pattern, int count, int64_t window_ms,
    char *err, size_t errlen);
/*
 * One output line (without its newline; may hold NUL and any byte; only the first
 * RELOAD_LINE_MAX bytes are matched). True when this line makes count events within
 * window_ms (events at most window_ms old); the event history is then cleared.
 */
bool reload_watch_line(struct reload_watch *, const char *line, size_t len, int64_t now_ms);
/* Events within the window right now (for status and logs). */
int reload_watch_events(struct reload_watch *, int64_t now_ms);
/* Forget events and server PIDs (a new child, a new start). */
void reload_watch_reset(struct reload_watch *);
void reload_watch_free(struct reload_watch *);

#define RELOAD_LINE_MAX (16 * 1024)

#endif
