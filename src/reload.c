/*
 * The reload guard and the reload-loop detector. A reloader in production restarts the
 * server on every file change; a loop of those keeps the port open, so only the output
 * shows it.
 */
#include "autoconf.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "reload.h"
#include "xmalloc.h"

#define ENV_NAME	"UVICORN_RELOAD"
#define WATCH_PIDS	64	/* server processes remembered as running */

/* uvicorn's reload options that take a value (as the next word or after '='). */
static const char *const valued_opts[] = {
	"--reload-dir", "--reload-include", "--reload-exclude", "--reload-delay",
};

/* How many words at argv[i] are a reload option with its value: 0, 1 or 2. */
static int
option_words(char **argv, size_t i)
{
	const char	*a = argv[i];
	size_t		 k, n;

	if (strcmp(a, "--reload") == 0 || strncmp(a, "--reload=", 9) == 0)
		return 1;
	for (k = 0; k < nitems(valued_opts); k++) {
		n = strlen(valued_opts[k]);
		if (strncmp(a, valued_opts[k], n) != 0)
			continue;
		if (a[n] == '=')
			return 1;
		if (a[n] == '\0')
			return argv[i + 1] != NULL ? 2 : 1;
	}
	return 0;
}

bool
reload_env_true(const char *v)
{
	static const char *const yes[] = { "1", "true", "t", "yes", "y", "on" };
	size_t n, k;

	/* click strips the value before it looks it up. */
	while (isspace((unsigned char)*v))
		v++;
	n = strlen(v);
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	for (k = 0; k < nitems(yes); k++)
		if (n == strlen(yes[k]) && strncasecmp(v, yes[k], n) == 0)
			return true;
	return false;
}

/* The UVICORN_RELOAD value of envp if it is true, else NULL. */
static const char *
env_reload(char **envp)
{
	size_t n = strlen(ENV_NAME);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, ENV_NAME "=", n + 1) == 0 && reload_env_true(*envp + n + 1))
			return *envp + n + 1;
	return NULL;
}

void
reload_env_strip(char **envp)
{
	size_t i, j, n = strlen(ENV_NAME);

	if (envp == NULL)
		return;
	for (i = j = 0; envp[i] != NULL; i++) {
		if (strncmp(envp[i], ENV_NAME "=", n + 1) == 0)
			free(envp[i]);
		else
			envp[j++] = envp[i];
	}
	envp[j] = NULL;
}

/* Append to msg, truncating at msglen; *off may run past msglen (then nothing more goes). */
static void TEND_PRINTF(4, 5)
msg_add(char *msg, size_t msglen, size_t *off, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (*off >= msglen)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg + *off, msglen - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

/* "--reload, --reload-dir src; UVICORN_RELOAD=1 in the environment" into msg. */
static void
describe(char **argv, const char *envval, char *msg, size_t msglen, size_t *off)
{
	size_t	i;
	int	w;
	bool	first = true;

	for (i = 1; argv[i] != NULL; i += w > 0 ? (size_t)w : 1) {
		w = option_words(argv, i);
		if (w == 0)
			continue;
		msg_add(msg, msglen, off, "%s%.200s%s%.200s", first ? "" : ", ", argv[i],
		    w == 2 ? " " : "", w == 2 ? argv[i + 1] : "");
		first = false;
	}
	if (envval != NULL)
		msg_add(msg, msglen, off, "%s" ENV_NAME "=%.40s in the environment",
		    first ? "" : "; ", envval);
}

/* argv without the reload options and their values. */
static char **
strip_argv(char **argv)
{
	size_t	 i, j = 0;
	int	 w;
	char	**out = xcalloc(argv_len(argv) + 1, sizeof *out);

	for (i = 0; argv[i] != NULL; i += w > 0 ? (size_t)w : 1) {
		w = i == 0 ? 0 : option_words(argv, i);
		if (w == 0)
			out[j++] = xstrdup(argv[i]);
	}
	out[j] = NULL;
	return out;
}

int
reload_guard(char **argv, char **envp, enum reload_mode mode, char ***out_argv, char *msg,
    size_t msglen)
{
	const char	*envval = env_reload(envp);
	size_t		 i, off = 0;
	int		 found = 0;

	*out_argv = NULL;
	if (msglen > 0)
		msg[0] = '\0';
	for (i = 1; argv != NULL && argv[0] != NULL && argv[i] != NULL; i++)
		if (option_words(argv, i) > 0)
			found |= RELOAD_IN_ARGV;
	if (envval != NULL)
		found |= RELOAD_IN_ENV;
	if (found == 0)
		return 0;

	switch (mode) {
	case RELOAD_FORBID:
		msg_add(msg, msglen, &off, "the command turns on uvicorn's hot reload (");
		describe(argv, envval, msg, msglen, &off);
		msg_add(msg, msglen, &off, "): refused. A reloader restarts the server on "
		    "every file change; in production that became a restart loop. To run it "
		    "anyway, set reload = strip (drop the reload options) or reload = allow "
		    "(keep them, for local development) in [program], or pass "
		    "--reload strip|allow before the command (TEND_PROGRAM_RELOAD).");
		return -1;
	case RELOAD_STRIP:
		msg_add(msg, msglen, &off, "reload = strip: running without uvicorn's hot "
		    "reload; removed ");
		describe(argv, envval, msg, msglen, &off);
		if (found & RELOAD_IN_ARGV)
			*out_argv = strip_argv(argv);
		return found;
	case RELOAD_ALLOW:
		msg_add(msg, msglen, &off, "reload = allow: uvicorn's hot reload stays on (");
		describe(argv, envval, msg, msglen, &off);
		msg_add(msg, msglen, &off, "); the reload-loop detector watches");
		return found;
	}
	return found;
}

struct reload_watch {
	regex_t		 re;
	int		 count;
	int64_t		 window;
	int64_t		*events;	/* ring of event times, oldest at head */
	int		 head;
	int		 n;
	bool		 matched;	/* a matching line since the last server start */
	bool		 seen_server;	/* a "Started server process" line was seen */
	long		 last_pid;
	long		 live[WATCH_PIDS];	/* started, not yet finished */
	int		 nlive;
	char		 line[RELOAD_LINE_MAX + 1];
};

struct reload_watch *
reload_watch_new(const char *pattern, int count, int64_t window_ms, char *err,
    size_t errlen)
{
	struct reload_watch	*w;
	int			 rc;

	if (count < 1 || count > 1000) {
		snprintf(err, errlen, "count must be 1..1000");
		return NULL;
	}
	w = xcalloc(1, sizeof *w);
	rc = regcomp(&w->re, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &w->re, err, errlen);
		free(w);
		return NULL;
	}
	w->count = count;
	w->window = window_ms;
	w->events = xcalloc((size_t)count, sizeof *w->events);
	return w;
}

void
reload_watch_free(struct reload_watch *w)
{
	if (w == NULL)
		return;
	regfree(&w->re);
	free(w->events);
	free(w);
}

void
reload_watch_reset(struct reload_watch *w)
{
	w->head = w->n = 0;
	w->matched = w->seen_server = false;
	w->last_pid = 0;
	w->nlive = 0;
}

/* Drop events older than the window. */
static void
expire(struct reload_watch *w, int64_t now)
{
	while (w->n > 0 && now - w->events[w->head] > w->window) {
		w->head = (w->head + 1) % w->count;
		w->n--;
	}
}

int
reload_watch_events(struct reload_watch *w, int64_t now_ms)
{
	expire(w, now_ms);
	return w->n;
}

/* Copy the line for matching: bounded, NUL-terminated, NULs as spaces, ANSI CSI
 * sequences (colours) removed so patterns see the text a terminal shows. */
static size_t
clean_copy(char *dst, const char *src, size_t len)
{
	size_t i = 0, o = 0;

	if (len > RELOAD_LINE_MAX)
		len = RELOAD_LINE_MAX;
	while (i < len) {
		if (src[i] == '\033' && i + 1 < len && src[i + 1] == '[') {
			/* Parameter and intermediate bytes, then one final byte. */
			for (i += 2; i < len && src[i] >= 0x20 && src[i] <= 0x3f; i++)
				;
			if (i < len)
				i++;
			continue;
		}
		dst[o++] = src[i] == '\0' ? ' ' : src[i];
		i++;
	}
	dst[o] = '\0';
	return o;
}

/* The PID in "...<what>[PID]..." of the cleaned line, or 0. */
static long
line_pid(const char *line, size_t len, const char *what)
{
	const char	*p = memmem(line, len, what, strlen(what));
	long		 pid = 0;

	if (p == NULL)
		return 0;
	for (p += strlen(what); *p >= '0' && *p <= '9' && pid < 100000000; p++)
		pid = pid * 10 + (*p - '0');
	return *p == ']' ? pid : 0;
}

/* A server process started: is it a restart that no matching line explained? */
static bool
server_started(struct reload_watch *w, long pid)
{
	bool restart;
	int i;

	for (i = 0; i < w->nlive; i++)
		if (w->live[i] == pid)
			return false;	/* the same announcement again */
	restart = w->seen_server && w->nlive == 0 && pid != w->last_pid && !w->matched;
	if (w->nlive == WATCH_PIDS)
		memmove(w->live, w->live + 1, (WATCH_PIDS - 1) * sizeof w->live[0]);
	else
		w->nlive++;
	w->live[w->nlive - 1] = pid;
	w->seen_server = true;
	w->last_pid = pid;
	w->matched = false;
	return restart;
}

static void
server_finished(struct reload_watch *w, long pid)
{
	int i;

	for (i = 0; i < w->nlive; i++)
		if (w->live[i] == pid) {
			w->live[i] = w->live[--w->nlive];
			return;
		}
}

bool
reload_watch_line(struct reload_watch *w, const char *line, size_t len, int64_t now_ms)
{
	size_t	n = clean_copy(w->line, line, len);
	bool	matched = regexec(&w->re, w->line, 0, NULL, 0) == 0;
	bool	restart = false;
	long	pid;

	if ((pid = line_pid(w->line, n, "Started server process [")) > 0)
		restart = server_started(w, pid);
	else if ((pid = line_pid(w->line, n, "Finished server process [")) > 0)
		server_finished(w, pid);
	if (matched) {
		/* A reload replaces every server process: the next start is this event. */
		w->matched = true;
		w->nlive = 0;
	}
	if (!matched && !restart)
		return false;
	expire(w, now_ms);
	w->events[(w->head + w->n) % w->count] = now_ms;
	if (++w->n < w->count)
		return false;
	w->head = w->n = 0;
	return true;
}
