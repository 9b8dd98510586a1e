/*
 * The listening socket tend holds for its children ([listen] socket). It is bound once,
 * before the first spawn, and kept open across restarts, so clients wait in the backlog
 * instead of being refused while the child restarts; tend never accepts on it and never
 * watches it. When tend was itself socket-activated (LISTEN_PID is tend's pid and
 * LISTEN_FDS >= 1), systemd's sockets are passed on instead of binding. Each child gets
 * the sockets at [listen] fd onward; "{fd}" in its command becomes that number.
 */
#ifndef TEND_LISTEN_H
#define TEND_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

#include "parse.h"

#define LISTEN_MAX	16	/* sockets passed on; more from systemd are left out */
#define LISTEN_FDS_START 3	/* where systemd's protocol puts the first socket */
#define LISTEN_PID_SLOT	24	/* room for the child's pid in "LISTEN_PID=" */

struct listener {
	int	 fds[LISTEN_MAX];	/* sockets tend holds, close-on-exec */
	int	 n;			/* 0: nothing to pass */
	int	 base;			/* their numbers in the child: base .. base + n - 1 */
	bool	 activated;		/* taken from systemd, not bound here */
	char	*fdnames;		/* LISTEN_FDNAMES to pass on, or NULL */
	char	 path[URL_PATH_MAX];	/* unix socket bound here, removed at the end */
	dev_t	 dev;
	ino_t	 ino;
};

/*
 * Take over systemd's sockets (found in envp) or bind spec ("tcp://..." or "unix:...",
 * already parsed into u; NULL: none). Returns 0, or -1 after logging why.
 */
int listen_open(struct listener *, const char *spec, const struct url *u, int fd,
    char **envp);
/* Close the sockets and remove the unix socket file bound by tend. */
void listen_close(struct listener *);
/* A copy of argv with every "{fd}" replaced by the child's fd number (free: argv_free). */
char **listen_argv(const struct listener *, char *const *argv);
/*
 * Fix the child's environment *envp (NULL-terminated, xmalloc'd strings): LISTEN_PID,
 * LISTEN_FDS and LISTEN_FDNAMES are removed, then set again when there are sockets to
 * pass at fd 3. *slot points into the LISTEN_PID entry, for listen_child (NULL if none).
 */
void listen_env(const struct listener *, char ***envp, char **slot);
/*
 * In the child, between fork and exec (async-signal-safe only): put the sockets at
 * base onward, inheritable, moving *errfd out of the way if it is there, and write the
 * child's pid into slot. Returns 0 or -1 with errno.
 */
int listen_child(const struct listener *, char *slot, int *errfd);

#endif
