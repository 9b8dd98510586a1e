/* Pure value parsers shared by the config loader, the probe and the tests. No I/O. */
#ifndef TEND_PARSE_H
#define TEND_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Longest duration accepted: 30 days, in milliseconds. */
#define PARSE_DURATION_MAX ((int64_t)30 * 24 * 3600 * 1000)

/*
 * "250ms", "15s", "2m", "1h", "1m30s" -> milliseconds. A bare number other than "0" is an
 * error (units are never guessed). Returns 0 or -1 with a static reason in *why.
 */
int parse_duration(const char *, int64_t *ms, const char **why);
/* Format ms back into the shortest exact form ("1m30s", "250ms", "0"). buf >= 32. */
void format_duration(int64_t ms, char *buf, size_t len);

/* "TERM", "SIGTERM", "term", "15", "RTMIN+2", "SIGRTMAX-1" -> signal number; -1 if bad. */
int parse_signal(const char *);
/* "TERM" for 15, "RTMIN+2" ...; never NULL (a number for unknown ones, static buffer). */
const char *signal_name(int signo);

/* Is this POSIX extended regex safe to give regcomp()? Refuses adjacent repetitions and
 * patterns whose compiled form would pass PARSE_REGEX_MAX nodes (an estimate). 0 or -1
 * with a static reason. regcomp() still checks the syntax. */
#define PARSE_REGEX_MAX 10000
int parse_regex_check(const char *, const char **why);

/* yes/no/true/false/on/off/1/0 -> 1/0; -1 if bad. */
int parse_bool(const char *);

/* Decimal integer in [min, max]; -1 if bad or out of range. */
int parse_int(const char *, long min, long max, long *out);

/* "200-399", "200,204,301-308": up to PARSE_STATUS_RANGES ranges of 100..599. */
#define PARSE_STATUS_RANGES 8
struct status_ranges {
	int		n;
	int		lo[PARSE_STATUS_RANGES];
	int		hi[PARSE_STATUS_RANGES];
};
int parse_status_ranges(const char *, struct status_ranges *, const char **why);
int status_ranges_match(const struct status_ranges *, int status);

/*
 * URLs and addresses. host is a name, an IPv4 literal or an IPv6 literal (without the
 * brackets). For unix sockets, path holds the socket path and host is empty.
 */
enum url_scheme { URL_HTTP, URL_TCP, URL_UNIX };
#define URL_HOST_MAX 256
#define URL_PATH_MAX 1024
struct url {
	enum url_scheme	scheme;
	char		host[URL_HOST_MAX];
	int		port;
	char		path[URL_PATH_MAX];	/* HTTP: "/..." with query; unix: socket path */
};
/* "http://host[:port][/path]" (port defaults to 80, path to "/"). https is refused. */
int parse_http_url(const char *, struct url *, const char **why);
/* "tcp://host:port" or "http://..." (wait_for targets). */
int parse_target(const char *, struct url *, const char **why);
/* "tcp://host:port" or "unix:/path" ([listen] socket). */
int parse_listen(const char *, struct url *, const char **why);
/* "host:port" or "[v6]:port" ([status] listen; no scheme); "port" or ":port" alone is
 * 127.0.0.1's. */
int parse_hostport(const char *, struct url *, const char **why);

/*
 * Split a command line into words like a shell would, without expansion: blanks separate
 * words, '...' and "..." quote, backslash escapes. Returns a NULL-terminated xmalloc'd
 * argv (free with argv_free) or NULL with a reason.
 */
char **parse_argv(const char *, const char **why);
void argv_free(char **);
size_t argv_len(char *const *);

/* The child's exit status as tend's exit code: the code, or 128+N for signal N. */
int exit_code_of_status(int status);

#endif
