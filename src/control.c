/*
 * The control socket's file and framing. Only tend's user can connect (mode 0600 set
 * through the umask at bind, so there is no window with a wider mode); the file is
 * removed at exit unless someone replaced it meanwhile.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "server.h"
#include "xmalloc.h"

#define CONTROL_MAX_CONNS 8

struct control {
	char		*path;
	dev_t		 dev;		/* of the socket file we made */
	ino_t		 ino;
	control_cb	 cb;
	void		*arg;
	struct server	*srv;
};

/* One line (or all of it at EOF) is a request. */
static bool
on_bytes(void *arg, void *state, const char *in, size_t len, bool eof, struct buf *out)
{
	struct control	*ctl = arg;
	const char	*nl = memchr(in, '\n', len);
	char		 line[CONTROL_LINE_MAX + 1];
	size_t		 n;

	if (nl == NULL && !eof && len < CONTROL_LINE_MAX)
		return false;
	if (nl == NULL && !eof) {
		buf_puts(out, "error: request line too long\n");
		return true;
	}
	n = nl != NULL ? (size_t)(nl - in) : len;
	if (n > 0 && in[n - 1] == '\r')
		n--;
	if (n == 0 && eof && nl == NULL)
		return false;	/* connected and closed without a word */
	memcpy(line, in, n);
	line[n] = '\0';
	if (strlen(line) != n) {
		buf_puts(out, "error: NUL byte in the request\n");
		return true;
	}
	ctl->cb(ctl->arg, line, out);
	return true;
}

static int why(char *, size_t, bool, const char *, ...) TEND_PRINTF(4, 5);

/* Say why into err (with strerror(errno) when sys) and fail. */
static int
why(char *err, size_t len, bool sys, const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;
	size_t	n;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	n = strlen(err);
	if (sys && n + 1 < len)
		snprintf(err + n, len - n, ": %s", strerror(saved));
	return -1;
}

/* Is something listening on path? 1 yes, 0 no (stale or absent), -1 error (in err). */
static int
live_socket(const struct sockaddr_un *sun, const char *path, char *err, size_t len)
{
	struct stat	st;
	int		fd, r;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		return why(err, len, true, "control socket %s", path);
	}
	if (!S_ISSOCK(st.st_mode))
		return why(err, len, false, "control socket %s: the file exists and is not a "
		    "socket", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return why(err, len, true, "control socket %s: socket", path);
	do
		r = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	while (r == -1 && errno == EINTR);
	if (r == -1 && errno == ECONNREFUSED) {
		close(fd);
		return 0;
	}
	if (r == 0 || errno == EAGAIN) {
		close(fd);
		why(err, len, false, "control socket %s: another process (another tend?) "
		    "listens on it", path);
		return 1;
	}
	why(err, len, true, "control socket %s: connect", path);
	close(fd);
	return -1;
}

struct control *
control_new(struct ev_loop *loop, const char *path, control_cb cb, void *arg, char *err,
    size_t errlen)
{
	struct control		*ctl;
	struct sockaddr_un	 sun;
	struct server_conf	 sc;
	struct stat		 st;
	mode_t			 old;
	int			 fd, r;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		why(err, errlen, false, "control socket %s: path too long", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((r = live_socket(&sun, path, err, errlen)) != 0) {
		if (r > 0)
			errno = EADDRINUSE;	/* not a failure of ours: the caller may be quiet */
		return NULL;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		why(err, errlen, true, "control socket %s: cannot remove the stale socket", path);
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1) {
		why(err, errlen, true, "control socket %s: socket", path);
		return NULL;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (r == -1 || listen(fd, 16) == -1 || lstat(path, &st) == -1) {
		why(err, errlen, true, "control socket %s", path);
		close(fd);
		return NULL;
	}
	ctl = xcalloc(1, sizeof *ctl);
	ctl->path = xstrdup(path);
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	ctl->cb = cb;
	ctl->arg = arg;
	memset(&sc, 0, sizeof sc);
	sc.name = "control socket";
	sc.in_max = CONTROL_LINE_MAX;
	sc.out_max = CONTROL_REPLY_MAX;
	sc.max_conns = CONTROL_MAX_CONNS;
	sc.timeout = CONTROL_TIMEOUT;
	sc.cb = on_bytes;
	sc.arg = ctl;
	ctl->srv = server_new(loop, fd, &sc);
	log_debug("control socket on %s", path);
	return ctl;
}

void
control_free(struct control *ctl)
{
	struct stat st;

	if (ctl == NULL)
		return;
	server_free(ctl->srv);
	/* Only our own file: a second tend may have taken the path over. */
	if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino &&
	    unlink(ctl->path) == -1)
		log_warn("control socket %s: unlink", ctl->path);
	free(ctl->path);
	free(ctl);
}
