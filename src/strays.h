/*
 * Strays: tend's children other than the main child. A process that left the child's
 * process group (setsid, setpgid) escapes the group's stop signal and SIGKILL; when its
 * parent dies it is orphaned to tend (PID 1 or subreaper). The stop sequence signals
 * strays too, and a stop is not over (no restart, no exit) while one is left, as with
 * systemd's KillMode=control-group; the repeated SIGKILL reaches each generation that
 * is orphaned in turn.
 */
#ifndef TEND_STRAYS_H
#define TEND_STRAYS_H

#include <stdbool.h>
#include <sys/types.h>

/* Send signo to every child of tend but main and the members of process group pgid
 * (they get the group's signal); to the whole group of a child that leads its own.
 * Returns how many were signalled. */
int strays_signal(pid_t main, pid_t pgid, int signo);
/* Has tend any child left, the main child or not? Reap first: a zombie counts. Without
 * a /proc of its own pid namespace tend cannot find strays, so cannot stop them: then
 * it does not wait for them either (false). */
bool strays_left(void);

#endif
