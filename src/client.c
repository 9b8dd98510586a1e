/*
 * The client side of the control socket. It may block (it is not the supervisor) but
 * never for long: connecting, sending and reading all share one deadline.
 */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"
#include "control.h"
#include "clock.h"
#include "config.h"
#include "options.h"
#include "xmalloc.h"

#define REPLY_MAX (1024 * 1024)

static const char *const commands[] = { "status", "restart", "emergency" };

struct client_args {
	const char	*cmd;
	const char	*arg;		/* on|off for emergency */
	const char	*file;		/* -c FILE */
	const char	*control;	/* --status-control PATH */
	bool		 json, check;
};

static bool
is_command(const char *s)
{
	size_t i;

	for (i = 0; i < nitems(commands); i++)
		if (strcmp(s, commands[i]) == 0)
			return true;
	return false;
}

int
client_command(int argc, char **argv)
{
	int i;

	/* The same grammar as options_parse(): stop at "--" or the first word. */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			return 0;
		if (a[0] != '-' || a[1] == '\0')
			return is_command(a) ? i : 0;
		if (a[1] != '-') {
			if (strcmp(a, "-c") != 0 && a[1] != 'c')
				return 0;	/* -h, -V, or an error for config_load to report */
			if (a[2] == '\0')
				i++;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "--version") == 0 ||
		    strcmp(a, "--check-config") == 0)
			return 0;
		if (strchr(a, '=') == NULL && !options_no_value(a + 2))
			i++;	/* every other long option takes a value */
	}
	return 0;
}

/* The usage on stderr after a reason (exit 2), or on stdout for --help (exit 0). */
static int
usage(const char *why, const char *what)
{
	FILE *fp = why != NULL ? stderr : stdout;

	if (why != NULL)
		fprintf(stderr, "tend: %s%s%s\n", why, what != NULL ? " " : "",
		    what != NULL ? what : "");
	fprintf(fp,
	    "usage: tend [-c FILE] [--status-control PATH] status [--json | --check]\n"
	    "       tend [-c FILE] [--status-control PATH] restart\n"
	    "       tend [-c FILE] [--status-control PATH] emergency on|off\n");
	return why != NULL ? EXIT_USAGE : 0;
}

/* An option's value: "--x=V", or the next argument. NULL if it has none. */
static const char *
value(int argc, char **argv, int *i, size_t namelen)
{
	const char *a = argv[*i];

	if (a[namelen] == '=')
		return a + namelen + 1;
	if (a[namelen] != '\0' || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* Parse everything but the command word; -1 (usage printed, *code set) to stop. */
static int
parse_args(struct client_args *ca, int argc, char **argv, int at, int *code)
{
	int i;

	memset(ca, 0, sizeof *ca);
	ca->cmd = argv[at];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (i == at)
			continue;
		if (strcmp(a, "-c") == 0 || strncmp(a, "--config", 8) == 0) {
			if ((ca->file = value(argc, argv, &i, a[1] == 'c' ? 2 : 8)) == NULL)
				return *code = usage("missing value for", a), -1;
		} else if (a[0] == '-' && a[1] == 'c')
			ca->file = a + 2;
		else if (strncmp(a, "--status-control", 16) == 0) {
			if ((ca->control = value(argc, argv, &i, 16)) == NULL)
				return *code = usage("missing value for", a), -1;
		} else if (i > at && strcmp(a, "--json") == 0)
			ca->json = true;
		else if (i > at && strcmp(a, "--check") == 0)
			ca->check = true;
		else if (i > at && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0))
			return *code = usage(NULL, NULL), -1;
		else if (i > at && a[0] != '-' && ca->arg == NULL &&
		    strcmp(ca->cmd, "emergency") == 0)
			ca->arg = a;
		else if (i > at)
			return *code = usage("unexpected argument:", a), -1;
		else if (strchr(a, '=') == NULL && !options_no_value(a + 2))
			i++;	/* tend's other options (and their values) do not matter here */
	}
	if ((ca->json || ca->check) && strcmp(ca->cmd, "status") != 0)
		return *code = usage("--json and --check go with status", NULL), -1;
	if (ca->json && ca->check)
		return *code = usage("use either --json or --check", NULL), -1;
	if (strcmp(ca->cmd, "emergency") == 0 && (ca->arg == NULL ||
	    (strcmp(ca->arg, "on") != 0 && strcmp(ca->arg, "off") != 0)))
		return *code = usage("emergency takes on or off", NULL), -1;
	return 0;
}

/* The control socket's path; NULL if -c FILE cannot be read (reported). */
static char *
socket_path(const struct client_args *ca)
{
	struct config_loader	ld;
	struct config		cfg;
	const char		*env = getenv("TEND_STATUS_CONTROL");
	char			*path = NULL;

	if (ca->control != NULL)
		return xstrdup(ca->control);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (ca->file == NULL)
		return xstrdup(CONTROL_DEFAULT_PATH);
	memset(&cfg, 0, sizeof cfg);
	memset(&ld, 0, sizeof ld);
	ld.cfg = &cfg;
	config_defaults(&ld);
	config_file_load(&ld, ca->file);
	if (ld.errors == 0)
		path = xstrdup(cfg.status_control != NULL ? cfg.status_control :
		    CONTROL_DEFAULT_PATH);
	else
		fprintf(stderr, "tend: %s: cannot tell the control socket from a bad "
		    "file\n", ca->file);
	config_loader_free(&ld);
	config_free(&cfg);
	return path;
}

/* Send one request line and read the whole answer into reply; -1 with a message. */
static int
ask(const char *path, const char *request, struct buf *reply)
{
	struct sockaddr_un	sun;
	struct timeval		tv = { CLIENT_TIMEOUT_MS / 1000, 0 };
	struct pollfd		pfd;
	int64_t			deadline = clock_ms() + CLIENT_TIMEOUT_MS;
	char			chunk[4096];
	ssize_t			n;
	int			fd, r;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "tend: control socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "tend: socket: %s\n", strerror(errno));
		return -1;
	}
	/* Bounds connect (a full backlog) and the write. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	do
		r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		int e = errno;

		fprintf(stderr, "tend: cannot reach tend at %s: %s%s\n", path, strerror(e),
		    e == ENOENT || e == ECONNREFUSED ? " (is tend running, as PID 1 or "
		    "with [status] control set to this path?)" : e == EACCES ? " (the socket is for "
		    "tend's user only)" : "");
		close(fd);
		return -1;
	}
	snprintf(chunk, sizeof chunk, "%s\n", request);
	if (send(fd, chunk, strlen(chunk), MSG_NOSIGNAL) != (ssize_t)strlen(chunk)) {
		fprintf(stderr, "tend: sending to %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		int64_t left = deadline - clock_ms();

		if (left <= 0) {
			fprintf(stderr, "tend: no answer from %s within %ds\n", path,
			    CLIENT_TIMEOUT_MS / 1000);
			close(fd);
			return -1;
		}
		r = poll(&pfd, 1, (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			fprintf(stderr, "tend: poll: %s\n", strerror(errno));
			close(fd);
			return -1;
		}
		if (r == 0)
			continue;
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "tend: reading from %s: %s\n", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		buf_add(reply, chunk, (size_t)n);
	}
	close(fd);
	if (reply->len == 0) {
		fprintf(stderr, "tend: %s closed without an answer\n", path);
		return -1;
	}
	return 0;
}

static int
print(FILE *fp, const struct buf *b)
{
	if (fwrite(b->p, 1, b->len, fp) != b->len || fflush(fp) == EOF) {
		fprintf(stderr, "tend: write: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int
client_main(int argc, char **argv)
{
	struct client_args	 ca;
	struct buf		 reply;
	char			 request[64], *path;
	int			 code = 0, at = client_command(argc, argv);
	bool			 ok;

	if (at <= 0 || parse_args(&ca, argc, argv, at, &code) == -1)
		return at <= 0 ? usage("no client command", NULL) : code;
	if ((path = socket_path(&ca)) == NULL)
		return 1;
	if (strcmp(ca.cmd, "status") == 0)
		snprintf(request, sizeof request, "%s", ca.check ? "check" :
		    ca.json ? "status json" : "status");
	else if (strcmp(ca.cmd, "emergency") == 0)
		snprintf(request, sizeof request, "emergency %s", ca.arg);
	else
		snprintf(request, sizeof request, "%s", ca.cmd);
	buf_init(&reply, REPLY_MAX);
	if (ask(path, request, &reply) == -1) {
		buf_free(&reply);
		free(path);
		return 1;
	}
	if (ca.check)
		ok = strncmp(reply.p, "healthy", 7) == 0;
	else
		ok = strncmp(reply.p, "error:", 6) != 0;
	code = print(ok || ca.check ? stdout : stderr, &reply) == -1 || !ok ? 1 : 0;
	buf_free(&reply);
	free(path);
	return code;
}
