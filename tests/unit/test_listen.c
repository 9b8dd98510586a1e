/*
 * The listening socket module: {fd} in argv, the child's LISTEN_* environment, binding
 * (tcp, IPv6, unix with stale and live socket files), systemd socket activation, and
 * the fd shuffle done in the child (run in a forked process, reported by exit status).
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "parse.h"
#include "xmalloc.h"

/* A listener with n placeholder sockets, for the pure functions. */
static struct listener
fake(int n, int base)
{
	struct listener l;

	memset(&l, 0, sizeof l);
	l.n = n;
	l.base = base;
	for (int i = 0; i < n; i++)
		l.fds[i] = -1;
	return l;
}

static char **
env_of(const char *const *v)
{
	size_t n = 0;
	char **env;

	while (v[n] != NULL)
		n++;
	env = xcalloc(n + 1, sizeof *env);
	for (size_t i = 0; i < n; i++)
		env[i] = xstrdup(v[i]);
	return env;
}

static const char *
env_find(char **env, const char *key)
{
	size_t len = strlen(key);

	for (; *env != NULL; env++)
		if (strncmp(*env, key, len) == 0 && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

static int
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static bool
is_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof on;

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

Test(listen_argv, fd_replaced_everywhere)
{
	struct listener l = fake(1, 7);
	char *argv[] = { "uvicorn", "app:app", "--fd", "{fd}", "--x={fd}:{fd}", "{f d}", "{fd",
		NULL };
	char **out = listen_argv(&l, argv);

	cr_assert_str_eq(out[0], "uvicorn");
	cr_assert_str_eq(out[3], "7");
	cr_assert_str_eq(out[4], "--x=7:7");
	cr_assert_str_eq(out[5], "{f d}");
	cr_assert_str_eq(out[6], "{fd");
	cr_assert_null(out[7]);
	argv_free(out);
}

Test(listen_argv, untouched_without_socket)
{
	struct listener l = fake(0, 3);
	char *argv[] = { "prog", "--fd", "{fd}", NULL };
	char **out = listen_argv(&l, argv);

	cr_assert_str_eq(out[2], "{fd}");
	cr_assert_null(out[3]);
	argv_free(out);
	cr_assert_null(listen_argv(&l, NULL));
}

Test(listen_env, inherited_vars_replaced)
{
	static const char *const v[] = { "A=1", "LISTEN_PID=99", "LISTEN_FDS=2",
		"LISTEN_FDNAMES=x:y", "LISTEN_FDSX=keep", "B=2", NULL };
	struct listener l = fake(1, 3);
	char **env = env_of(v), *slot = NULL;

	listen_env(&l, &env, &slot);
	cr_assert_str_eq(env_find(env, "A"), "1");
	cr_assert_str_eq(env_find(env, "B"), "2");
	cr_assert_str_eq(env_find(env, "LISTEN_FDSX"), "keep");
	cr_assert_str_eq(env_find(env, "LISTEN_FDS"), "1");
	cr_assert_null(env_find(env, "LISTEN_FDNAMES"));
	cr_assert_not_null(slot);
	cr_assert_eq(env_find(env, "LISTEN_PID"), slot);
	cr_assert_str_eq(slot, "");
	argv_free(env);
}

Test(listen_env, names_passed_on)
{
	static const char *const v[] = { "LISTEN_FDNAMES=old", NULL };
	struct listener l = fake(2, 3);
	char **env = env_of(v), *slot;

	l.fdnames = "web:admin";
	listen_env(&l, &env, &slot);
	cr_assert_str_eq(env_find(env, "LISTEN_FDS"), "2");
	cr_assert_str_eq(env_find(env, "LISTEN_FDNAMES"), "web:admin");
	argv_free(env);
}

Test(listen_env, removed_without_socket_or_at_another_fd)
{
	static const char *const v[] = { "LISTEN_PID=1", "LISTEN_FDS=1", "C=3", NULL };
	struct listener none = fake(0, 3), other = fake(1, 5);
	char **env = env_of(v), *slot = (char *)"x";

	listen_env(&none, &env, &slot);
	cr_assert_null(slot);
	cr_assert_null(env_find(env, "LISTEN_PID"));
	cr_assert_null(env_find(env, "LISTEN_FDS"));
	cr_assert_str_eq(env_find(env, "C"), "3");
	argv_free(env);

	env = env_of(v);
	listen_env(&other, &env, &slot);
	cr_assert_null(slot);
	cr_assert_null(env_find(env, "LISTEN_FDS"));
	cr_assert_null(env[1]);
	argv_free(env);
}

Test(listen_open, tcp_bound_once_and_port_in_use)
{
	struct listener l, l2;
	struct url u;
	const char *why;
	char *envp[] = { NULL };
	char spec[64];
	int flags;

	cr_assert_eq(parse_listen("tcp://127.0.0.1:1", &u, &why), 0);
	u.port = 0;	/* any free port */
	cr_assert_eq(listen_open(&l, "tcp://127.0.0.1:0", &u, 3, envp), 0);
	cr_assert_eq(l.n, 1);
	cr_assert_not(l.activated);
	cr_assert(is_listening(l.fds[0]));
	flags = fcntl(l.fds[0], F_GETFD);
	cr_assert(flags & FD_CLOEXEC, "tend's copy must be close-on-exec");

	u.port = local_port(l.fds[0]);
	snprintf(spec, sizeof spec, "tcp://127.0.0.1:%d", u.port);
	cr_assert_eq(listen_open(&l2, spec, &u, 3, envp), -1, "a port in use must fail");
	listen_close(&l);
	cr_assert_eq(listen_open(&l2, spec, &u, 3, envp), 0, "free again after close");
	listen_close(&l2);
}

Test(listen_open, ipv6_literal)
{
	struct listener l;
	struct url u;
	const char *why;
	char *envp[] = { NULL };
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	if (probe == -1 || bind(probe, (struct sockaddr *)&sin6, sizeof sin6) == -1) {
		if (probe != -1)
			close(probe);
		cr_skip_test("no IPv6 loopback here");
	}
	close(probe);
	cr_assert_eq(parse_listen("tcp://[::1]:1", &u, &why), 0);
	u.port = 0;
	cr_assert_eq(listen_open(&l, "tcp://[::1]:0", &u, 3, envp), 0);
	cr_assert(is_listening(l.fds[0]));
	listen_close(&l);
}

Test(listen_open, unknown_host_fails)
{
	struct listener l;
	struct url u;
	const char *why;
	char *envp[] = { NULL };

	cr_assert_eq(parse_listen("tcp://256.1.1.1:80", &u, &why), 0);
	cr_assert_eq(listen_open(&l, "tcp://256.1.1.1:80", &u, 3, envp), -1);
}

/* A unix socket path in a fresh temporary directory. */
static void
tmp_sock(char *dir, size_t dlen, char *path, size_t plen)
{
	snprintf(dir, dlen, "/tmp/tend-test-listen.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, plen, "%s/s", dir);
}

static int
unix_listener(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sun.sun_path, path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	cr_assert_eq(listen(fd, 4), 0);
	return fd;
}

Test(listen_open, unix_stale_live_and_cleanup)
{
	struct listener l;
	struct url u;
	struct stat st;
	const char *why;
	char *envp[] = { NULL }, dir[64], path[96], spec[128];
	int fd;

	tmp_sock(dir, sizeof dir, path, sizeof path);
	snprintf(spec, sizeof spec, "unix:%s", path);
	cr_assert_eq(parse_listen(spec, &u, &why), 0);

	/* Live: somebody listens there. */
	fd = unix_listener(path);
	cr_assert_eq(listen_open(&l, spec, &u, 3, envp), -1);
	/* Stale: the listener is gone, its file is left. */
	close(fd);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(listen_open(&l, spec, &u, 3, envp), 0);
	cr_assert(is_listening(l.fds[0]));
	listen_close(&l);
	cr_assert_eq(stat(path, &st), -1, "tend removes its own socket file");

	/* Not a socket: left alone. */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	cr_assert_eq(listen_open(&l, spec, &u, 3, envp), -1);
	cr_assert_eq(stat(path, &st), 0);
	unlink(path);
	rmdir(dir);
}

/* In a forked process: run f, exit with its result (0 = pass), so fds 3.. are ours. */
static void
in_child(int (*f)(void))
{
	pid_t pid = fork();
	int status;

	cr_assert_neq(pid, -1);
	if (pid == 0)
		_exit(f());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the check died");
	cr_assert_eq(WEXITSTATUS(status), 0, "check failed at step %d", WEXITSTATUS(status));
}

static int
tcp_listener(void)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)
	};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(fd, 4) == -1)
		return -1;
	return fd;
}

static int
check_activated(void)
{
	struct listener l;
	struct url u;
	char pid[32], *envp[] = { pid, "LISTEN_FDS=2", "LISTEN_FDNAMES=a:b", NULL };
	int a = tcp_listener(), b = tcp_listener(), pa = local_port(a), pb = local_port(b);

	if (dup2(a, 3) != 3 || dup2(b, 4) != 4)
		return 1;
	close(a);
	close(b);
	snprintf(pid, sizeof pid, "LISTEN_PID=%ld", (long)getpid());
	memset(&u, 0, sizeof u);
	if (listen_open(&l, "tcp://127.0.0.1:1", &u, 3, envp) != 0)
		return 2;
	if (!l.activated || l.n != 2 || l.fds[0] != 3 || l.fds[1] != 4)
		return 3;
	if (local_port(3) != pa || local_port(4) != pb)
		return 4;
	if (!(fcntl(3, F_GETFD) & FD_CLOEXEC) || l.fdnames == NULL ||
	    strcmp(l.fdnames, "a:b") != 0)
		return 5;
	listen_close(&l);
	return 0;
}

Test(listen_open, socket_activation_passed_on)
{
	in_child(check_activated);
}

static int
check_not_ours(void)
{
	struct listener l;
	struct url u;
	char *envp[] = { "LISTEN_PID=1", "LISTEN_FDS=1", NULL };
	const char *why;

	if (parse_listen("tcp://127.0.0.1:1", &u, &why) != 0)
		return 1;
	u.port = 0;
	if (listen_open(&l, "tcp://127.0.0.1:0", &u, 3, envp) != 0)
		return 2;
	if (l.activated || l.n != 1 || l.fds[0] == 3)
		return 3;
	listen_close(&l);
	return 0;
}

Test(listen_open, activation_for_another_pid_ignored)
{
	in_child(check_not_ours);
}

/* Two sockets whose targets are each other's numbers, errfd on a target, a pid slot. */
static int
check_child_shuffle(void)
{
	struct listener l = fake(2, 3);
	int a = tcp_listener(), b = tcp_listener(), pa = local_port(a), pb = local_port(b);
	int pipefd[2], errfd;
	char slot[LISTEN_PID_SLOT], want[32], c;

	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return 1;
	/* a at 4 (wants 3), b at 3 (wants 4), the error pipe at 5: all must move. */
	if (dup2(b, 3) != 3 || dup2(a, 4) != 4 || dup3(pipefd[1], 5, O_CLOEXEC) != 5)
		return 2;
	close(a);
	close(b);
	l.fds[0] = 4;
	l.fds[1] = 3;
	l.n = 3;	/* a third target (fd 5) so errfd lies in the range */
	l.fds[2] = 4;
	errfd = 5;
	if (listen_child(&l, slot, &errfd) != 0)
		return 3;
	if (local_port(3) != pa || local_port(4) != pb || local_port(5) != pa)
		return 4;
	if ((fcntl(3, F_GETFD) & FD_CLOEXEC) || (fcntl(4, F_GETFD) & FD_CLOEXEC))
		return 5;
	if (errfd <= 5 || write(errfd, "x", 1) != 1 || read(pipefd[0], &c, 1) != 1)
		return 6;
	snprintf(want, sizeof want, "%ld", (long)getpid());
	if (strcmp(slot, want) != 0)
		return 7;
	return 0;
}

Test(listen_child, sockets_moved_into_place)
{
	in_child(check_child_shuffle);
}

/* The socket already sits at its target: only close-on-exec is cleared. */
static int
check_child_in_place(void)
{
	struct listener l = fake(1, 3);
	int a = tcp_listener(), errfd = 100;

	if (dup3(a, 3, O_CLOEXEC) != 3)
		return 1;
	l.fds[0] = 3;
	if (listen_child(&l, NULL, &errfd) != 0 || errfd != 100)
		return 2;
	if (fcntl(3, F_GETFD) & FD_CLOEXEC)
		return 3;
	return is_listening(3) ? 0 : 4;
}

Test(listen_child, in_place_made_inheritable)
{
	in_child(check_child_in_place);
}
