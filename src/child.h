/*
 * Child processes: spawn (fork + exec in a new process group), signal, reap. The exec
 * error, if any, comes back through a close-on-exec pipe read after the child is reaped.
 */
#ifndef TEND_CHILD_H
#define TEND_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct listener;

struct child_spec {
	char *const	*argv;
	char *const	*envp;		/* the child's whole environment */
	const char	*directory;	/* NULL: inherit */
	bool		 set_user;
	uid_t		 uid;
	gid_t		 gid;
	const gid_t	*groups;
	int		 ngroups;
	const sigset_t	*sigmask;	/* the mask tend was started with */
	const sigset_t	*ignored;	/* signals to set back to SIG_IGN before exec */
	bool		 foreground;	/* give the terminal on stdin to the child's group */
	int		 out_fd;	/* becomes the child's stdout; -1: inherit tend's */
	int		 err_fd;	/* becomes the child's stderr; -1: inherit tend's */
	const struct listener *listen;	/* sockets passed at [listen] fd; NULL: none */
	char		*listen_pid;	/* LISTEN_PID's digits in envp, filled in the child */
};

/* Fork and exec; returns the pid (also the process group id) or -1 with errno. */
pid_t child_spawn(const struct child_spec *, int *errfd);
/* Where between fork and exec the child failed. */
enum child_stage {
	CHILD_EXEC, CHILD_SETPGID, CHILD_DUP2, CHILD_LISTEN, CHILD_CHDIR, CHILD_USER,
	CHILD_SIGMASK,
};
const char *child_stage_name(enum child_stage);
/* After the child was reaped: the errno of a failure before or at exec (and where), or
 * 0 if exec worked. Closes errfd. */
int child_exec_error(int errfd, enum child_stage *);
/* Would trying again fail the same way (the program is missing or not runnable)? */
bool child_error_permanent(enum child_stage, int err);
/* Send signo to pid, or to process group pgid and pid. A vanished target is no error. */
int child_kill(pid_t pid, pid_t pgid, bool group, int signo);
/* Is any process left in process group pgid? */
bool child_group_alive(pid_t pgid);
/* Reap every exited child; cb is called for each. Returns how many were reaped. */
int child_reap(void (*cb)(void *, pid_t, int status), void *arg);

#endif
