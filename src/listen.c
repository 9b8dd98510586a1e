/*
 * The listening socket tend holds for its children (see listen.h). Binding happens once,
 * before the event loop runs, so a blocking getaddrinfo for a host name delays nothing.
 * The sockets stay blocking and close-on-exec in tend; listen_child() makes them
 * inheritable at their place in the child only.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "parse.h"
#include "xmalloc.h"

#define LISTEN_FDS_BOUND 1024	/* activated fds made close-on-exec, at most */

static const char *const listen_vars[] = { "LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=" };

/* The value of KEY in envp, or NULL. */
static const char *
env_get(char **envp, const char *key)
{
	size_t	len = strlen(key);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, key, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

/* systemd's protocol: our pid in LISTEN_PID, the sockets at fd 3 onward. 1 if taken. */
static int
take_activated(struct listener *l, char **envp)
{
	const char	*pid = env_get(envp, "LISTEN_PID");
	const char	*fds = env_get(envp, "LISTEN_FDS");
	const char	*names = env_get(envp, "LISTEN_FDNAMES");
	long		 p, n;
	int		 i;

	if (pid == NULL || fds == NULL || parse_int(pid, 1, INT_MAX, &p) == -1 ||
	    (pid_t)p != getpid())
		return 0;
	if (parse_int(fds, 1, INT_MAX - LISTEN_FDS_START, &n) == -1) {
		log_warnx("socket activation: LISTEN_FDS=%s is not a count; ignored", fds);
		return 0;
	}
	if (n > LISTEN_MAX) {
		log_warnx("socket activation: %ld sockets; passing on the first %d", n,
		    LISTEN_MAX);
		names = NULL;	/* they would no longer match */
	}
	/* All close-on-exec, so the ones left out do not leak into the child either. */
	for (i = 0; i < n && i < LISTEN_FDS_BOUND; i++) {
		int fd = LISTEN_FDS_START + i, flags = fcntl(fd, F_GETFD);

		if (flags == -1 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
			log_error("socket activation: fd %d", fd);
			return -1;
		}
		if (l->n < LISTEN_MAX)
			l->fds[l->n++] = fd;
	}
	if (names != NULL)
		l->fdnames = xstrdup(names);
	l->activated = true;
	return 1;
}

static int
bind_tcp(struct listener *l, const char *spec, const struct url *u)
{
	struct addrinfo	 hints, *res, *ai;
	char		 port[16];
	int		 rc, fd = -1, err = EADDRNOTAVAIL, one = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", u->port);
	rc = getaddrinfo(u->host, port, &hints, &res);
	if (rc != 0) {
		log_errorx("[listen] socket = %s: %s", spec,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	/* The first address that binds; a name with several is bound once, not each. */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			err = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		errno = err;
		log_error("[listen] socket = %s: cannot listen", spec);
		return -1;
	}
	l->fds[l->n++] = fd;
	return 0;
}

/* Is someone listening on this unix socket? 0: no (stale), 1: yes, -1: cannot tell. */
static int
unix_live(const struct sockaddr_un *sun)
{
	int	fd, rc, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	do
		rc = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	while (rc == -1 && errno == EINTR);
	err = errno;
	close(fd);
	if (rc == 0 || err == EAGAIN)	/* EAGAIN: a full backlog, so a live listener */
		return 1;
	if (err == ECONNREFUSED || err == ENOENT)
		return 0;
	errno = err;
	return -1;
}

/* Bind a unix socket; a stale socket file (nobody listening) is removed first. */
static int
bind_unix(struct listener *l, const char *spec, const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, live;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		log_errorx("[listen] socket = %s: path too long", spec);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_errorx("[listen] socket = %s: the file exists and is not a socket",
			    spec);
			return -1;
		}
		if ((live = unix_live(&sun)) != 0) {
			if (live == 1)
				log_errorx("[listen] socket = %s: another process listens there",
				    spec);
			else
				log_error("[listen] socket = %s: cannot tell if it is in use",
				    spec);
			return -1;
		}
		if (unlink(path) == -1 && errno != ENOENT) {
			log_error("[listen] socket = %s: cannot remove the stale socket", spec);
			return -1;
		}
		log_info("[listen] socket = %s: removed a stale socket file", spec);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		log_error("[listen] socket = %s: cannot listen", spec);
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (stat(path, &st) == 0) {
		memcpy(l->path, path, strlen(path) + 1);
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	l->fds[l->n++] = fd;
	return 0;
}

int
listen_open(struct listener *l, const char *spec, const struct url *u, int fd,
    char **envp)
{
	int	rc;

	memset(l, 0, sizeof *l);
	l->base = fd;
	if ((rc = take_activated(l, envp)) != 0) {
		if (rc == 1)
			log_info("socket-activated: passing on %d socket%s at fd %d%s%s", l->n,
			    l->n == 1 ? "" : "s", fd, spec != NULL ? " instead of binding " : "",
			    spec != NULL ? spec : "");
		return rc == 1 ? 0 : -1;
	}
	if (spec == NULL)
		return 0;
	rc = u->scheme == URL_UNIX ? bind_unix(l, spec, u->path) : bind_tcp(l, spec, u);
	if (rc == 0)
		log_info("listening on %s; the child gets it as fd %d", spec, fd);
	return rc;
}

void
listen_close(struct listener *l)
{
	struct stat	st;
	int		i;

	for (i = 0; i < l->n; i++)
		close(l->fds[i]);
	/* Only our own socket file: another tend may have replaced it meanwhile. */
	if (l->path[0] != '\0' && lstat(l->path, &st) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino && unlink(l->path) == -1)
		log_warn("cannot remove %s", l->path);
	free(l->fdnames);
	memset(l, 0, sizeof *l);
}

/* s with every "{fd}" replaced by num, in a new string. */
static char *
replace_fd(const char *s, const char *num)
{
	size_t		 count = 0, len;
	const char	*p;
	char		*out, *o;

	for (p = s; (p = strstr(p, "{fd}")) != NULL; p += 4)
		count++;
	len = strlen(s) - count * 4 + count * strlen(num);
	out = o = xmalloc(len + 1);
	while ((p = strstr(s, "{fd}")) != NULL) {
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		memcpy(o, num, strlen(num));
		o += strlen(num);
		s = p + 4;
	}
	memcpy(o, s, strlen(s) + 1);
	return out;
}

char **
listen_argv(const struct listener *l, char *const *argv)
{
	static bool	  warned;
	size_t		  n = argv_len(argv), i;
	char		**out, num[16];

	if (argv == NULL)
		return NULL;
	snprintf(num, sizeof num, "%d", l->base);
	out = xcalloc(n + 1, sizeof *out);
	for (i = 0; i < n; i++) {
		if (l->n > 0)
			out[i] = replace_fd(argv[i], num);
		else {
			if (strstr(argv[i], "{fd}") != NULL && !warned) {
				log_warnx("'{fd}' in the command, but no [listen] socket: "
				    "left as it is");
				warned = true;
			}
			out[i] = xstrdup(argv[i]);
		}
	}
	return out;
}

static bool
is_listen_var(const char *kv)
{
	size_t	i;

	for (i = 0; i < nitems(listen_vars); i++)
		if (strncmp(kv, listen_vars[i], strlen(listen_vars[i])) == 0)
			return true;
	return false;
}

void
listen_env(const struct listener *l, char ***envp, char **slot)
{
	char	**env = *envp;
	size_t	  i, n = 0;

	*slot = NULL;
	/* tend's own (or inherited) LISTEN_* would make a child look at the wrong fds. */
	for (i = 0; env[i] != NULL; i++) {
		if (is_listen_var(env[i]))
			free(env[i]);
		else
			env[n++] = env[i];
	}
	/* The protocol puts the first socket at fd 3: set nothing for another fd. */
	if (l->n > 0 && l->base == LISTEN_FDS_START) {
		env = xreallocarray(env, n + 4, sizeof *env);
		xasprintf(&env[n++], "LISTEN_FDS=%d", l->n);
		if (l->fdnames != NULL)
			xasprintf(&env[n++], "LISTEN_FDNAMES=%s", l->fdnames);
		env[n] = xcalloc(1, sizeof "LISTEN_PID=" + LISTEN_PID_SLOT);
		memcpy(env[n], "LISTEN_PID=", sizeof "LISTEN_PID=" - 1);
		*slot = env[n++] + sizeof "LISTEN_PID=" - 1;
	}
	env[n] = NULL;
	*envp = env;
}

/* Decimal digits of pid into slot (LISTEN_PID_SLOT bytes); async-signal-safe. */
static void
put_pid(char *slot, pid_t pid)
{
	char	digits[LISTEN_PID_SLOT];
	int	n = 0, i;
	long	v = (long)pid;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < LISTEN_PID_SLOT - 1);
	for (i = 0; i < n; i++)
		slot[i] = digits[n - 1 - i];
	slot[n] = '\0';
}

static int
dup2_retry(int from, int to)
{
	int	rc;

	do
		rc = dup2(from, to);
	while (rc == -1 && errno == EINTR);
	return rc;
}

int
listen_child(const struct listener *l, char *slot, int *errfd)
{
	int	src[LISTEN_MAX], lo = l->base, hi = l->base + l->n - 1, i, fd, flags;

	if (l->n == 0)
		return 0;
	/* First move whatever sits in the target range out of it, so dup2 clobbers nothing. */
	if (*errfd >= lo && *errfd <= hi) {
		if ((fd = fcntl(*errfd, F_DUPFD_CLOEXEC, hi + 1)) == -1)
			return -1;
		*errfd = fd;
	}
	for (i = 0; i < l->n; i++) {
		src[i] = l->fds[i];
		if (src[i] >= lo && src[i] <= hi && src[i] != lo + i &&
		    (src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, hi + 1)) == -1)
			return -1;
	}
	for (i = 0; i < l->n; i++) {
		if (src[i] != lo + i) {
			if (dup2_retry(src[i], lo + i) == -1)	/* the copy is not close-on-exec */
				return -1;
		} else if ((flags = fcntl(src[i], F_GETFD)) == -1 ||
		    fcntl(src[i], F_SETFD, flags & ~FD_CLOEXEC) == -1)
			return -1;
	}
	if (slot != NULL)
		put_pid(slot, getpid());
	return 0;
}
