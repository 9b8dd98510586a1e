/*
 * The child's life for the supervisor: spawn it with its pipes, signal it (and, in a
 * stop, the strays), reap it and everything orphaned to tend, and tell the core when
 * nothing of it is left.
 */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "output.h"
#include "reload.h"
#include "signals.h"
#include "strays.h"
#include "supervisor.h"

void
supervise_spawn(struct supervisor *s, enum core_mode mode)
{
	const struct config	*cfg = s->cfg;
	struct child_spec	 spec;
	struct core_event	 ev;
	pid_t			 pid;

	int			 fds[2] = { -1, -1 };

	memset(&spec, 0, sizeof spec);
	spec.argv = s->launch.argv[mode];
	spec.envp = s->launch.envp[mode];
	spec.directory = cfg->directory;
	spec.set_user = cfg->has_user;
	spec.uid = cfg->uid;
	spec.gid = cfg->gid;
	spec.groups = cfg->groups;
	spec.ngroups = cfg->ngroups;
	spec.sigmask = signals_orig_mask();
	spec.ignored = signals_ignored();
	spec.foreground = s->foreground;
	spec.listen = s->listen.n > 0 ? &s->listen : NULL;
	spec.listen_pid = s->launch.pid_slot[mode];
	/* Without pipes (EMFILE) the child still runs, writing to tend's own stdout. */
	if (output_pipes(s->out, fds) != 0)
		log_warn("cannot make output pipes; the child writes to tend's stdout directly");
	spec.out_fd = fds[0];
	spec.err_fd = fds[1];
	s->argv0 = spec.argv[0];
	pid = child_spawn(&spec, &s->errfd);
	if (pid < 0 && (errno == EMFILE || errno == ENFILE) && fds[0] >= 0) {
		/* Out of fds: the pipes may be what tipped it; run without them. */
		log_warn("cannot start '%s' with output pipes; trying without", spec.argv[0]);
		output_abort(s->out);
		fds[0] = fds[1] = spec.out_fd = spec.err_fd = -1;
		pid = child_spawn(&spec, &s->errfd);
	}
	if (pid < 0) {
		log_warn("cannot start '%s'", spec.argv[0]);
		if (fds[0] >= 0)
			output_abort(s->out);
		ev = supervise_event(CE_SPAWN_FAILED);
	} else {
		if (fds[0] >= 0)
			output_attach(s->out, pid, spec.argv[0]);
		if (s->watch != NULL)
			reload_watch_reset(s->watch);
		s->pid = s->pgid = pid;
		s->reaped_main = false;
		ev = supervise_event(CE_SPAWNED);
		ev.pid = pid;
	}
	supervise_queue(s, &ev);
}

void
supervise_kill(struct supervisor *s, const struct core_action *a)
{
	log_debug("signal %s to %s %ld", signal_name(a->signo), a->group ? "group" : "pid",
	    (long)s->pgid);
	child_kill(s->core.pid, s->pgid, a->group, a->signo);
	if (a->stop)
		strays_signal(s->core.pid, s->pgid, a->signo);
}

/*
 * After the main child: anything of it left to stop? Its group, or a stray that left
 * the group and was orphaned to us (a zombie counts until SIGCHLD reaps it). A group
 * seen empty with its leader reaped is forgotten: nothing can join it again, and its
 * number is free for an unrelated process (a `docker exec` shell) that the stop's
 * repeated SIGKILL, going on for a stray, would otherwise hit.
 */
static bool
leftovers_alive(struct supervisor *s)
{
	if (s->pgid > 0 && s->pid == 0 && !child_group_alive(s->pgid))
		s->pgid = 0;
	return child_group_alive(s->pgid) || strays_left();
}

/* fg: when tend's group has the terminal (the shell gave it back), a child that had it
 * gets it again. SIGTTOU is blocked, so a background tend is not stopped by trying. */
void
supervise_give_terminal(struct supervisor *s)
{
	if (s->foreground && s->pid > 0 && tcgetpgrp(STDIN_FILENO) == getpgrp() &&
	    tcsetpgrp(STDIN_FILENO, s->pgid) != 0)
		log_debug("tcsetpgrp: %s", strerror(errno));
}

/*
 * Ctrl-Z: the child's group stops, then tend, so the shell that started tend sees its
 * job stopped and takes the terminal back. We run on here once fg or bg continues us:
 * after fg a child that had the terminal gets it back, then the group continues. As
 * PID 1 tend cannot stop: nobody could continue the child either, so it runs on.
 */
void
supervise_suspend(struct supervisor *s)
{
	struct core_event ev = supervise_event(CE_SUSPEND);

	supervise_feed(s, &ev);
	if (s->job_control) {
		log_info("suspended (Ctrl-Z); fg or bg continues tend and the child");
		signals_stop_self();
		supervise_give_terminal(s);
	} else
		log_info("Ctrl-Z: tend is PID 1 and cannot stop; the child continues");
	ev = supervise_event(CE_RESUME);
	supervise_feed(s, &ev);
}

/*
 * The child's group has the terminal, so Ctrl-Z stops it, not tend: seen here as the
 * main child stopped by SIGTSTP. After a bg the child's read of the terminal stops it
 * too (TTIN, TTOU): a later fg gave tend's group the terminal without a SIGCONT (bash
 * continues no running job), so hand it over now; still in the background, tend stops
 * with the child, as a job would. (A kill -STOP is left alone.)
 */
static void
check_stopped(struct supervisor *s)
{
	siginfo_t	si;

	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)s->pid, &si, WSTOPPED | WNOHANG) != 0 || si.si_pid != s->pid ||
	    si.si_code != CLD_STOPPED)
		return;
	if (si.si_status == SIGTSTP) {
		supervise_suspend(s);
		return;
	}
	if ((si.si_status != SIGTTIN && si.si_status != SIGTTOU) || !s->job_control)
		return;
	if (tcgetpgrp(STDIN_FILENO) != getpgrp()) {
		supervise_suspend(s);
		return;
	}
	supervise_give_terminal(s);
	child_kill(s->pid, s->pgid, true, SIGCONT);
}

void
supervise_check_group(struct supervisor *s)
{
	struct core_event ev;

	if (s->core.state == ST_STOPPING && s->core.pid == 0 && s->core.group_alive &&
	    !leftovers_alive(s)) {
		ev = supervise_event(CE_GROUP_GONE);
		supervise_feed(s, &ev);
	}
}

/* Group members that are not our children send no SIGCHLD: they are polled for. */
void
supervise_group_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	supervise_check_group(w->data);
}

static void
on_reaped(void *arg, pid_t pid, int status)
{
	struct supervisor *s = arg;

	if (pid == s->pid) {
		s->reaped_main = true;
		s->main_status = status;
	} else
		s->orphans++;
}

/* SIGCHLD: reap everything first, then report the main child with its group's state. */
void
supervise_reap(struct supervisor *s)
{
	struct core_event	ev;
	enum child_stage	stage;
	int			err;

	child_reap(on_reaped, s);
	if (!s->reaped_main && s->pid > 0 && s->foreground)
		check_stopped(s);
	if (s->reaped_main) {
		s->reaped_main = false;
		/* The terminal back to tend's group until the next child: a Ctrl-C during
		 * the backoff must reach someone (SIGTTOU is blocked, so this is allowed). */
		if (s->foreground && tcsetpgrp(STDIN_FILENO, getpgrp()) != 0)
			log_debug("tcsetpgrp: %s", strerror(errno));
		ev = supervise_event(CE_EXITED);
		ev.pid = s->pid;
		ev.status = s->main_status;
		err = child_exec_error(s->errfd, &stage);
		s->errfd = -1;
		ev.group_alive = leftovers_alive(s);
		if (err != 0 && child_error_permanent(stage, err)) {
			log_errorx("cannot run '%s': %s", s->argv0, strerror(err));
			ev.err = err;	/* tend exits 126/127 */
		} else if (err != 0)
			/* A failure like any other exit (126): the restart policy decides. */
			log_errorx("cannot start '%s': %s: %s", s->argv0,
			    child_stage_name(stage), strerror(err));
		s->pid = 0;
		supervise_feed(s, &ev);
	}
	supervise_check_group(s);
}
