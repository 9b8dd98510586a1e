/*
 * Pure parsers of URLs and addresses: health urls, wait_for targets, [listen] socket and
 * [status] listen. No I/O, no name resolution; every failure comes back with a reason.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "parse.h"

/* A host name: letters, digits, '-', '.', '_' (IPv4 literals included). */
static int
valid_hostname(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.' &&
		    s[i] != '_')
			return 0;
	}
	return n > 0;
}

/*
 * "host[:port]" or "[v6][:port]" in s[0..n) into u->host and u->port; defport -1 means
 * the port is required.
 */
static int
parse_authority(const char *s, size_t n, int defport, struct url *u, const char **why)
{
	const char	*host = s, *port = NULL;
	size_t		 hostlen;
	char		 tmp[URL_HOST_MAX];
	struct in6_addr	 a6;
	long		 p;

	if (memchr(s, '@', n) != NULL) {
		*why = "user names and passwords in URLs are not supported";
		return -1;
	}
	if (n > 0 && *s == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL) {
			*why = "missing ']' after an IPv6 address";
			return -1;
		}
		host = s + 1;
		hostlen = (size_t)(close - host);
		if (close + 1 < s + n) {
			if (close[1] != ':') {
				*why = "expected ':port' after ']'";
				return -1;
			}
			port = close + 2;
		}
		if (hostlen == 0 || hostlen >= sizeof tmp) {
			*why = "bad IPv6 address";
			return -1;
		}
		memcpy(tmp, host, hostlen);
		tmp[hostlen] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1) {
			*why = "bad IPv6 address";
			return -1;
		}
	} else {
		const char *colon = memchr(s, ':', n);

		hostlen = colon != NULL ? (size_t)(colon - s) : n;
		if (colon != NULL)
			port = colon + 1;
		if (hostlen == 0) {
			*why = "missing host";
			return -1;
		}
		if (hostlen >= URL_HOST_MAX || !valid_hostname(s, hostlen)) {
			*why = "bad host name; IPv6 addresses go in brackets: [::1]";
			return -1;
		}
	}
	if (port == NULL) {
		if (defport == -1) {
			*why = "a port is required: host:port";
			return -1;
		}
		p = defport;
	} else {
		size_t	plen = (size_t)(s + n - port);
		char	pbuf[8];

		if (plen == 0 || plen >= sizeof pbuf) {
			*why = "the port must be 1-65535";
			return -1;
		}
		memcpy(pbuf, port, plen);
		pbuf[plen] = '\0';
		if (!isdigit((unsigned char)pbuf[0]) || parse_int(pbuf, 1, 65535, &p) == -1) {
			*why = "the port must be 1-65535";
			return -1;
		}
	}
	memcpy(u->host, host, hostlen);
	u->host[hostlen] = '\0';
	u->port = (int)p;
	return 0;
}

int
parse_http_url(const char *s, struct url *u, const char **why)
{
	const char	*auth, *end, *path;
	size_t		 plen;
	size_t		 i;

	memset(u, 0, sizeof *u);
	if (s == NULL || strncasecmp(s, "http://", 7) != 0) {
		*why = s != NULL && strncasecmp(s, "https://", 8) == 0 ?
		    "https is not supported: probes speak plain HTTP" :
		    "expected http://host[:port][/path]";
		return -1;
	}
	auth = s + 7;
	end = auth + strcspn(auth, "/?#");
	if (parse_authority(auth, (size_t)(end - auth), 80, u, why) == -1)
		return -1;
	path = end;
	plen = strcspn(path, "#");	/* a fragment is never sent */
	for (i = 0; i < plen; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c <= ' ' || c >= 0x7f) {
			*why = "spaces and control characters must be %-encoded in the path";
			return -1;
		}
	}
	if (plen + 2 > URL_PATH_MAX) {
		*why = "path too long";
		return -1;
	}
	i = 0;
	if (*path != '/')
		u->path[i++] = '/';
	memcpy(u->path + i, path, plen);
	u->path[i + plen] = '\0';
	u->scheme = URL_HTTP;
	return 0;
}

/* "tcp://host:port" with nothing after the port. */
static int
parse_tcp(const char *s, struct url *u, const char **why)
{
	memset(u, 0, sizeof *u);
	s += 6;
	if (strchr(s, '/') != NULL) {
		*why = "tcp:// takes no path: tcp://host:port";
		return -1;
	}
	if (parse_authority(s, strlen(s), -1, u, why) == -1)
		return -1;
	u->scheme = URL_TCP;
	return 0;
}

int
parse_target(const char *s, struct url *u, const char **why)
{
	if (s != NULL && strncasecmp(s, "tcp://", 6) == 0)
		return parse_tcp(s, u, why);
	if (s != NULL && strncasecmp(s, "http", 4) == 0)
		return parse_http_url(s, u, why);
	memset(u, 0, sizeof *u);
	*why = "expected tcp://host:port or http://host[:port][/path]";
	return -1;
}

int
parse_listen(const char *s, struct url *u, const char **why)
{
	if (s != NULL && strncasecmp(s, "tcp://", 6) == 0)
		return parse_tcp(s, u, why);
	memset(u, 0, sizeof *u);
	if (s == NULL || strncmp(s, "unix:", 5) != 0) {
		*why = "expected tcp://host:port or unix:/path";
		return -1;
	}
	s += 5;
	if (*s == '\0') {
		*why = "missing socket path after unix:";
		return -1;
	}
	if (strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		*why = "unix socket path too long: at most 107 bytes";
		return -1;
	}
	strcpy(u->path, s);
	u->scheme = URL_UNIX;
	return 0;
}

int
parse_hostport(const char *s, struct url *u, const char **why)
{
	char	 lo[32];
	size_t	 digits;

	memset(u, 0, sizeof *u);
	if (s == NULL || strstr(s, "://") != NULL || strchr(s, '/') != NULL) {
		*why = "expected host:port or [v6]:port, without scheme or path";
		return -1;
	}
	/* A port alone ("9000" or ":9000") is loopback's: never exposed by accident. */
	digits = strspn(s + (s[0] == ':'), "0123456789");
	if (digits > 0 && digits <= 5 && s[(s[0] == ':') + digits] == '\0') {
		snprintf(lo, sizeof lo, "127.0.0.1:%s", s + (s[0] == ':'));
		s = lo;
	}
	if (parse_authority(s, strlen(s), -1, u, why) == -1)
		return -1;
	u->scheme = URL_TCP;
	return 0;
}
