/*
 * Pure value parsers: durations, signals, booleans, integers, HTTP status ranges and
 * command lines (URLs are in parse_url.c). No I/O; every failure comes back with a static reason.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "parse.h"
#include "xmalloc.h"

static const struct {
	const char	*name;
	int64_t		 ms;
} duration_units[] = {		/* largest first: a duration lists its units in this order */
	{ "h", 3600 * 1000 },
	{ "m", 60 * 1000 },
	{ "s", 1000 },
	{ "ms", 1 },
};

/* Read the unit after a number; the longest name wins so "ms" is not "m" then "s". */
static int
duration_unit(const char **sp)
{
	const char	*s = *sp;
	size_t		 n = 0;
	size_t		 i;

	while (s[n] >= 'a' && s[n] <= 'z')
		n++;
	for (i = 0; i < nitems(duration_units); i++) {
		if (strlen(duration_units[i].name) == n &&
		    strncmp(s, duration_units[i].name, n) == 0) {
			*sp = s + n;
			return (int)i;
		}
	}
	return -1;
}

int
parse_duration(const char *s, int64_t *ms, const char **why)
{
	int64_t	total = 0;
	int	last = -1;

	if (s == NULL || *s == '\0') {
		*why = "empty duration";
		return -1;
	}
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*s != '\0') {
		int64_t	n = 0;
		int	unit;

		if (!isdigit((unsigned char)*s)) {
			*why = *s == '-' ? "a duration cannot be negative" :
			    "expected a number and a unit: 250ms, 5s, 2m, 1h, 1m30s";
			return -1;
		}
		for (; isdigit((unsigned char)*s); s++) {
			n = n * 10 + (*s - '0');
			if (n > PARSE_DURATION_MAX) {
				*why = "longer than the maximum of 30 days";
				return -1;
			}
		}
		if (*s == '.') {
			*why = "fractions are not supported: write 1500ms, not 1.5s";
			return -1;
		}
		if (*s == '\0') {
			*why = "a unit is required: 250ms, 5s, 2m, 1h";
			return -1;
		}
		if ((unit = duration_unit(&s)) == -1) {
			*why = "unknown unit: use ms, s, m or h";
			return -1;
		}
		if (unit <= last) {
			*why = "units must go from larger to smaller, each once: 1h30m, 1m30s";
			return -1;
		}
		last = unit;
		if (n > (PARSE_DURATION_MAX - total) / duration_units[unit].ms) {
			*why = "longer than the maximum of 30 days";
			return -1;
		}
		total += n * duration_units[unit].ms;
	}
	*ms = total;
	return 0;
}

void
format_duration(int64_t ms, char *buf, size_t len)
{
	size_t	off = 0;
	size_t	i;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (ms <= 0) {
		snprintf(buf, len, ms == 0 ? "0" : "%lldms", (long long)ms);
		return;
	}
	for (i = 0; i < nitems(duration_units); i++) {
		int64_t	n = ms / duration_units[i].ms;
		int	w;

		if (n == 0)
			continue;
		ms -= n * duration_units[i].ms;
		w = snprintf(buf + off, len - off, "%lld%s", (long long)n,
		    duration_units[i].name);
		if (w < 0 || (size_t)w >= len - off)
			return;
		off += (size_t)w;
	}
}

static const struct {
	const char	*name;
	int		 signo;
} signal_names[] = {		/* canonical name first; aliases after it */
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "IOT", SIGABRT }, { "BUS", SIGBUS },
	{ "FPE", SIGFPE }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "CHLD", SIGCHLD }, { "CLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG },
	{ "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO }, { "POLL", SIGIO },
#ifdef SIGPWR
	{ "PWR", SIGPWR },
#endif
	{ "SYS", SIGSYS },
};

/* "+2" / "-1" after RTMIN / RTMAX; "" is 0. */
static int
rt_offset(const char *s, char sign, long *n)
{
	if (*s == '\0') {
		*n = 0;
		return 0;
	}
	if (*s != sign || !isdigit((unsigned char)s[1]))
		return -1;
	return parse_int(s + 1, 0, SIGRTMAX - SIGRTMIN, n);
}

int
parse_signal(const char *s)
{
	long	n;
	size_t	i;

	if (s == NULL || *s == '\0')
		return -1;
	if (isdigit((unsigned char)*s))
		return parse_int(s, 1, SIGRTMAX, &n) == 0 ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < nitems(signal_names); i++) {
		if (strcasecmp(s, signal_names[i].name) == 0)
			return signal_names[i].signo;
	}
	if (strncasecmp(s, "RTMIN", 5) == 0 && rt_offset(s + 5, '+', &n) == 0)
		return SIGRTMIN + (int)n;
	if (strncasecmp(s, "RTMAX", 5) == 0 && rt_offset(s + 5, '-', &n) == 0)
		return SIGRTMAX - (int)n;
	return -1;
}

const char *
signal_name(int signo)
{
	static char	buf[32];
	size_t		i;

	for (i = 0; i < nitems(signal_names); i++) {
		if (signal_names[i].signo == signo)
			return signal_names[i].name;
	}
	if (signo == SIGRTMIN)
		return "RTMIN";
	if (signo == SIGRTMAX)
		return "RTMAX";
	if (signo > SIGRTMIN && signo <= SIGRTMIN + (SIGRTMAX - SIGRTMIN) / 2)
		snprintf(buf, sizeof buf, "RTMIN+%d", signo - SIGRTMIN);
	else if (signo > SIGRTMIN && signo < SIGRTMAX)
		snprintf(buf, sizeof buf, "RTMAX-%d", SIGRTMAX - signo);
	else
		snprintf(buf, sizeof buf, "%d", signo);
	return buf;
}

int
parse_bool(const char *s)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t		   i;

	if (s == NULL)
		return -1;
	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

int
parse_int(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 n;

	if (s == NULL || (!isdigit((unsigned char)*s) && *s != '-' && *s != '+'))
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* One status "NNN" of 100..599 at *sp; advances *sp. */
static int
status_code(const char **sp, int *code)
{
	const char	*s = *sp;
	int		 n = 0;
	int		 i;

	for (i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	if (isdigit((unsigned char)s[3]) || n < 100 || n > 599)
		return -1;
	*sp = s + 3;
	*code = n;
	return 0;
}

int
parse_status_ranges(const char *s, struct status_ranges *r, const char **why)
{
	r->n = 0;
	if (s == NULL)
		s = "";
	for (;;) {
		int	lo, hi;

		while (*s == ' ' || *s == '\t')
			s++;
		if (status_code(&s, &lo) == -1) {
			*why = "expected HTTP status codes 100-599 like 200-399 or 200,204";
			return -1;
		}
		hi = lo;
		if (*s == '-') {
			s++;
			if (status_code(&s, &hi) == -1) {
				*why = "expected a status code 100-599 after '-'";
				return -1;
			}
			if (hi < lo) {
				*why = "a range must go from low to high";
				return -1;
			}
		}
		if (r->n == PARSE_STATUS_RANGES) {
			*why = "too many ranges: at most 8";
			return -1;
		}
		r->lo[r->n] = lo;
		r->hi[r->n] = hi;
		r->n++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			return 0;
		if (*s++ != ',') {
			*why = "expected ',' between status codes";
			return -1;
		}
	}
}

int
status_ranges_match(const struct status_ranges *r, int status)
{
	int	i;

	for (i = 0; i < r->n; i++) {
		if (status >= r->lo[i] && status <= r->hi[i])
			return 1;
	}
	return 0;
}

/* Append one byte to the word being built. */
static void
word_add(char **w, size_t *len, size_t *cap, char c)
{
	if (*len + 1 >= *cap) {
		*cap = *cap ? *cap * 2 : 32;
		*w = xreallocarray(*w, *cap, 1);
	}
	(*w)[(*len)++] = c;
	(*w)[*len] = '\0';
}

char **
parse_argv(const char *s, const char **why)
{
	char	**argv = NULL, *w = NULL;
	size_t	  argc = 0, len = 0, cap = 0;
	int	  inword = 0;

	argv = xcalloc(1, sizeof *argv);
	for (;; s++) {
		char	c = *s;

		if (c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (inword) {
				argv = xreallocarray(argv, argc + 2, sizeof *argv);
				argv[argc++] = w != NULL ? w : xstrdup("");
				argv[argc] = NULL;
				w = NULL;
				len = cap = 0;
				inword = 0;
			}
			if (c == '\0')
				return argv;
			continue;
		}
		if (c == '\\' && s[1] == '\n') {	/* backslash-newline continues the line */
			s++;
			continue;
		}
		inword = 1;
		if (c == '\'') {
			while (*++s != '\'' && *s != '\0')
				word_add(&w, &len, &cap, *s);
			if (*s == '\0')
				goto unterminated;
		} else if (c == '"') {
			while (*++s != '"' && *s != '\0') {
				if (*s == '\\' && s[1] == '\n') {
					s++;		/* line continuation */
					continue;
				}
				if (*s == '\\' && s[1] != '\0' && strchr("\\\"$`", s[1]) != NULL)
					s++;
				word_add(&w, &len, &cap, *s);
			}
			if (*s == '\0')
				goto unterminated;
		} else if (c == '\\') {
			if (*++s == '\0') {
				*why = "backslash at the end of the command";
				goto fail;
			}
			word_add(&w, &len, &cap, *s);
		} else
			word_add(&w, &len, &cap, c);
	}

unterminated:
	*why = "unterminated quote";
fail:
	free(w);
	argv_free(argv);
	return NULL;
}

void
argv_free(char **argv)
{
	size_t	i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

size_t
argv_len(char *const *argv)
{
	size_t	n = 0;

	while (argv != NULL && argv[n] != NULL)
		n++;
	return n;
}

int
exit_code_of_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}
