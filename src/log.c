/*
 * tend's own log lines, to stderr only. Formats: text ("tend: msg key=value"),
 * logfmt (level=info msg="..." key=value) and json (one object a line).
 * A failed write to stderr is dropped: logging must never stop the supervisor.
 */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level	log_min = LOG_INFO;
static enum log_format	log_fmt = LOG_FORMAT_TEXT;

static bool		log_dev, log_color;
static void		(*log_sink)(void *, const char *, size_t);
static void		*log_sink_arg;

static const char *level_names[] = { "debug", "info", "warn", "error" };

void
log_set_sink(void (*fn)(void *, const char *, size_t), void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

void
log_set_dev(bool color)
{
	log_dev = true;
	log_color = color;
}

void
log_setup(enum log_level level, enum log_format format)
{
	log_min = level;
	log_fmt = format;
}

/* Append s to buf as a JSON or logfmt string body (quotes and control bytes escaped). */
static size_t
quote(char *buf, size_t len, size_t off, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s != '\0' && off + 7 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[off++] = '\\';
			buf[off++] = (char)c;
		} else if (c == '\n') {
			buf[off++] = '\\';
			buf[off++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			buf[off++] = '\\';
			buf[off++] = 'u';
			buf[off++] = '0';
			buf[off++] = '0';
			buf[off++] = hex[c >> 4];
			buf[off++] = hex[c & 15];
		} else
			buf[off++] = (char)c;
	}
	return off;
}

static size_t
append(char *buf, size_t len, size_t off, const char *s)
{
	while (*s != '\0' && off + 2 < len)
		buf[off++] = *s++;
	return off;
}

/* Does a logfmt/text value need quotes? */
static int
needs_quotes(const char *s)
{
	if (*s == '\0')
		return 1;
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '"' || *s == '=' || (unsigned char)*s < 0x20)
			return 1;
	return 0;
}

/*
 * Without the output module's queue (at start, at exit), a line goes to stderr only if
 * it can take it now: a stalled stderr must not stop tend. Past the pipe's free room a
 * write could still wait, which a log line of < 4 KiB into a pipe with room never does.
 */
static bool
stderr_writable(void)
{
	struct pollfd pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
	int n;

	do
		n = poll(&pfd, 1, 0);
	while (n < 0 && errno == EINTR);
	return n != 0;	/* an error (not a pipe?) is left to write() to report */
}

static void
emit(enum log_level level, const char *msg, const char *const *kv, size_t nkv)
{
	char		buf[4096];
	size_t		off = 0, i;
	struct timespec	ts;
	struct tm	tm;
	char		stamp[64];
	int		saved = errno;

	if (level < log_min)
		return;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);

	switch (log_fmt) {
	case LOG_FORMAT_JSON:
		off = append(buf, sizeof buf, off, "{\"time\":\"");
		off = append(buf, sizeof buf, off, stamp);
		off = append(buf, sizeof buf, off, "\",\"level\":\"");
		off = append(buf, sizeof buf, off, level_names[level]);
		off = append(buf, sizeof buf, off, "\",\"msg\":\"");
		off = quote(buf, sizeof buf, off, msg);
		off = append(buf, sizeof buf, off, "\"");
		for (i = 0; i + 1 < nkv; i += 2) {
			off = append(buf, sizeof buf, off, ",\"");
			off = quote(buf, sizeof buf, off, kv[i]);
			off = append(buf, sizeof buf, off, "\":\"");
			off = quote(buf, sizeof buf, off, kv[i + 1]);
			off = append(buf, sizeof buf, off, "\"");
		}
		off = append(buf, sizeof buf, off, "}");
		break;
	case LOG_FORMAT_LOGFMT:
		off = append(buf, sizeof buf, off, "time=");
		off = append(buf, sizeof buf, off, stamp);
		off = append(buf, sizeof buf, off, " level=");
		off = append(buf, sizeof buf, off, level_names[level]);
		off = append(buf, sizeof buf, off, " msg=\"");
		off = quote(buf, sizeof buf, off, msg);
		off = append(buf, sizeof buf, off, "\"");
		/* FALLTHROUGH */
	case LOG_FORMAT_TEXT:
		if (log_fmt == LOG_FORMAT_TEXT && log_dev) {
			/* Short, and coloured by level, among the child's lines. */
			static const char *colors[] = { "\033[2m", "\033[36m", "\033[33m",
			    "\033[31m" };

			if (log_color)
				off = append(buf, sizeof buf, off, colors[level]);
			off = append(buf, sizeof buf, off, "tend> ");
			off = append(buf, sizeof buf, off, msg);
			if (log_color)
				off = append(buf, sizeof buf, off, "\033[0m");
		} else if (log_fmt == LOG_FORMAT_TEXT) {
			off = append(buf, sizeof buf, off, "tend: ");
			if (level >= LOG_WARN) {
				off = append(buf, sizeof buf, off, level_names[level]);
				off = append(buf, sizeof buf, off, ": ");
			}
			off = append(buf, sizeof buf, off, msg);
		}
		for (i = 0; i + 1 < nkv; i += 2) {
			off = append(buf, sizeof buf, off, " ");
			off = append(buf, sizeof buf, off, kv[i]);
			off = append(buf, sizeof buf, off, "=");
			if (needs_quotes(kv[i + 1])) {
				off = append(buf, sizeof buf, off, "\"");
				off = quote(buf, sizeof buf, off, kv[i + 1]);
				off = append(buf, sizeof buf, off, "\"");
			} else
				off = append(buf, sizeof buf, off, kv[i + 1]);
		}
		break;
	}
	buf[off++] = '\n';
	if (log_sink != NULL) {
		void (*fn)(void *, const char *, size_t) = log_sink;

		log_sink = NULL;	/* a warning from inside the sink goes straight out */
		fn(log_sink_arg, buf, off);
		log_sink = fn;
	} else if (stderr_writable())
		/* One write per line so lines from tend never interleave mid-line. */
		(void)!write(STDERR_FILENO, buf, off);
	errno = saved;
}

static void __attribute__((format(printf, 3, 0)))
vlog(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	char	msg[2048];
	int	saved = errno;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (with_errno) {
		size_t n = strlen(msg);

		snprintf(msg + n, sizeof msg - n, ": %s", strerror(saved));
	}
	emit(level, msg, NULL, 0);
}

#define LOGFN(name, level, e)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	vlog(level, e, fmt, ap);				\
	va_end(ap);						\
}
LOGFN(log_debug, LOG_DEBUG, 0)
LOGFN(log_info, LOG_INFO, 0)
LOGFN(log_warn, LOG_WARN, 1)
LOGFN(log_warnx, LOG_WARN, 0)
LOGFN(log_error, LOG_ERROR, 1)
LOGFN(log_errorx, LOG_ERROR, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_event(enum log_level level, const char *msg, ...)
{
	const char	*kv[32];
	size_t		 n = 0;
	const char	*s;
	va_list		 ap;

	va_start(ap, msg);
	while (n < nitems(kv) && (s = va_arg(ap, const char *)) != NULL)
		kv[n++] = s;
	va_end(ap);
	emit(level, msg, kv, n);
}

void
log_eventv(enum log_level level, const char *msg, const char *const *kv, size_t n)
{
	emit(level, msg, kv, n);
}
