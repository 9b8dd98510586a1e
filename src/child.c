/*
 * Spawning, signalling and reaping children. Between fork and exec only async-signal-safe
 * calls are made: everything the child needs (argv, envp, user, groups) is prepared
 * before fork.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "listen.h"
#include "log.h"

static const char *stage_names[] = {
	"exec", "setpgid", "dup2", "listen", "chdir", "user", "sigmask",
};

const char *
child_stage_name(enum child_stage st)
{
	return (unsigned)st < nitems(stage_names) ? stage_names[st] : "?";
}

/* In the child: report the stage and errno to the parent through fd, then die as a
 * shell would. */
static void TEND_NORETURN
child_fail(int fd, enum child_stage st, int err)
{
	int	msg[2] = { (int)st, err };
	ssize_t	n;

	do
		n = write(fd, msg, sizeof msg);
	while (n < 0 && errno == EINTR);
	_exit(err == ENOENT ? 127 : 126);
}

static void TEND_NORETURN
child_exec(const struct child_spec *s, int fd)
{
	int sig;

	/* Our own group, so a group-wide SIGKILL reaches the workers and nothing else. */
	if (setpgid(0, 0) != 0)
		child_fail(fd, CHILD_SETPGID, errno);
	/* SIGTTOU is still blocked here (tend blocks its signals), so this cannot stop us.
	 * Best effort: after a hangup there is no terminal to give, and no reason to die. */
	if (s->foreground)
		(void)tcsetpgrp(STDIN_FILENO, getpid());
	/* The output pipes are close-on-exec and never 0..2, so dup2 leaves one copy. */
	if ((s->out_fd >= 0 && dup2(s->out_fd, STDOUT_FILENO) < 0) ||
	    (s->err_fd >= 0 && dup2(s->err_fd, STDERR_FILENO) < 0))
		child_fail(fd, CHILD_DUP2, errno);
	/* After the dup2s above: the sockets go to fd 3 onward, LISTEN_PID gets our pid. */
	if (s->listen != NULL && listen_child(s->listen, s->listen_pid, &fd) != 0)
		child_fail(fd, CHILD_LISTEN, errno);
	if (s->directory != NULL && chdir(s->directory) != 0)
		child_fail(fd, CHILD_CHDIR, errno);
	if (s->set_user) {
		if (setgroups((size_t)s->ngroups, s->groups) != 0 || setgid(s->gid) != 0 ||
		    setuid(s->uid) != 0)
			child_fail(fd, CHILD_USER, errno);
	}
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(s->ignored, sig) == 1)
			signal(sig, SIG_IGN);
	if (sigprocmask(SIG_SETMASK, s->sigmask, NULL) != 0)
		child_fail(fd, CHILD_SIGMASK, errno);
	/* execvpe searches the PATH of environ: make that the child's own, so a PATH set
	 * in [program] environment finds the command, as it would in a shell. */
	environ = (char **)s->envp;	/* ours, in the child's copy of memory */
	execvpe(s->argv[0], s->argv, s->envp);
	child_fail(fd, CHILD_EXEC, errno);
}

pid_t
child_spawn(const struct child_spec *s, int *errfd)
{
	int	fds[2];
	pid_t	pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		int saved = errno;

		close(fds[0]);
		close(fds[1]);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child_exec(s, fds[1]);
	}
	close(fds[1]);
	/* Also here, so a signal to the group cannot race the child's own setpgid. */
	if (setpgid(pid, pid) != 0 && errno != EACCES && errno != ESRCH)
		log_warn("setpgid %ld", (long)pid);
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0)
		log_warn("fcntl");
	*errfd = fds[0];
	return pid;
}

int
child_exec_error(int errfd, enum child_stage *stage)
{
	int	msg[2] = { CHILD_EXEC, 0 };
	ssize_t	n;

	*stage = CHILD_EXEC;
	if (errfd < 0)
		return 0;
	/* The child is gone, so the pipe holds the report or EOF: this never blocks. */
	do
		n = read(errfd, msg, sizeof msg);
	while (n < 0 && errno == EINTR);
	close(errfd);
	if (n != (ssize_t)sizeof msg)
		return 0;
	*stage = (enum child_stage)msg[0];
	return msg[1];
}

bool
child_error_permanent(enum child_stage stage, int err)
{
	/* Another try cannot find a missing or unrunnable program; anything else
	 * (ETXTBSY while it is rebuilt, EAGAIN from setuid, EMFILE) may pass. */
	if (stage != CHILD_EXEC)
		return false;
	switch (err) {
	case ENOENT: case EACCES: case EPERM: case ENOEXEC: case ENOTDIR: case ELOOP:
	case EISDIR: case ENAMETOOLONG: case E2BIG: case ELIBBAD:
		return true;
	default:
		return false;
	}
}

int
child_kill(pid_t pid, pid_t pgid, bool group, int signo)
{
	int rc = 0;

	if (group && pgid > 0 && kill(-pgid, signo) != 0 && errno != ESRCH) {
		log_warn("kill -%d -%ld", signo, (long)pgid);
		rc = -1;
	}
	/* The child itself too: it may have left its group (setsid). */
	if (pid > 0 && kill(pid, signo) != 0 && errno != ESRCH) {
		log_warn("kill -%d %ld", signo, (long)pid);
		rc = -1;
	}
	return rc;
}

bool
child_group_alive(pid_t pgid)
{
	if (pgid <= 0)
		return false;
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

int
child_reap(void (*cb)(void *, pid_t, int), void *arg)
{
	int	status, n = 0;
	pid_t	pid;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			n++;
			cb(arg, pid, status);
			continue;
		}
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0 && errno != ECHILD)
			log_warn("waitpid");
		return n;
	}
}
