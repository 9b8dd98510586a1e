/*
 * What each child is started with, per mode (normal, emergency): its argv after the
 * reload guard and {fd}, and its environment. Prepared once before the loop runs, so a
 * spawn only forks and execs.
 */
#ifndef TEND_LAUNCH_H
#define TEND_LAUNCH_H

#include "config.h"
#include "core.h"

struct listener;

struct launch {
	char	**argv[2];	/* what the child of each mode runs */
	char	**envp[2];	/* its whole environment */
	char	 *pid_slot[2];	/* LISTEN_PID's digits inside envp[], filled in the child */
	char	**fdargv[2];	/* the command with {fd} replaced (owned) */
	char	**stripped[2];	/* argv without reload options (owned), or NULL */
};

/*
 * Build argv and environment for both modes from cfg, tend's environment and the
 * listening sockets; run the reload guard. Returns 0, or EXIT_CONFIG when the guard
 * refuses the command (the message is logged).
 */
int launch_prepare(struct launch *, const struct config *, struct listener *,
    char **environ);
/* After a reload loop: every later child runs without uvicorn's reload options. */
void launch_reload_off(struct launch *);
void launch_free(struct launch *);

#endif
