/*
 * Signals through a signalfd on the loop. Not libev's ev_signal: a signalfd hands over
 * every queued real-time signal and its sender (siginfo), so each one can be forwarded
 * and counted; and no handler runs, so tend cannot be stopped by TSTP/TTIN/TTOU.
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"
#include "signals.h"

static sigset_t		orig_mask;
static sigset_t		caught;
static sigset_t		reignore;
static int		sfd = -1;
static ev_io		sig_io;
static signals_cb	sig_cb;
static void		*sig_arg;

static void
signals_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct signalfd_siginfo	si[16];
	ssize_t			n;
	size_t			i;

	for (;;) {
		n = read(sfd, si, sizeof si);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				log_warn("read signalfd");
			return;
		}
		for (i = 0; i < (size_t)n / sizeof si[0]; i++)
			sig_cb(sig_arg, &si[i]);
		if ((size_t)n < sizeof si)
			return;
	}
}

/* Add signo to the caught set unless the caller of tend ignored it. */
static void
consider(int signo)
{
	struct sigaction sa;

	if (sigaction(signo, NULL, &sa) != 0)
		return;	/* glibc-internal or invalid */
	if (sa.sa_handler == SIG_IGN) {
		if (signo != SIGCHLD)
			return;	/* stays ignored, and the child inherits that */
		/* Ignored SIGCHLD would make the kernel reap for us: take it back. */
		sigaddset(&reignore, signo);
		sa.sa_handler = SIG_DFL;
		if (sigaction(signo, &sa, NULL) != 0)
			log_warn("sigaction SIGCHLD");
	}
	if (sigaddset(&caught, signo) != 0)
		return;
}

int
signals_setup(struct ev_loop *loop, signals_cb cb, void *arg)
{
	int signo;

	sigemptyset(&caught);
	sigemptyset(&reignore);
	if (sigprocmask(SIG_SETMASK, NULL, &orig_mask) != 0)
		return -1;
	for (signo = 1; signo < 32; signo++)
		if (signo != SIGKILL && signo != SIGSTOP)
			consider(signo);
	for (signo = SIGRTMIN; signo <= SIGRTMAX; signo++)
		consider(signo);
	sfd = signalfd(-1, &caught, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		return -1;
	if (sigprocmask(SIG_BLOCK, &caught, NULL) != 0) {
		close(sfd);
		sfd = -1;
		return -1;
	}
	sig_cb = cb;
	sig_arg = arg;
	ev_io_init(&sig_io, signals_read, sfd, EV_READ);
	ev_io_start(loop, &sig_io);
	return 0;
}

const sigset_t *
signals_orig_mask(void)
{
	return &orig_mask;
}

const sigset_t *
signals_ignored(void)
{
	return &reignore;
}

/*
 * Stop tend as a terminal's TSTP stops any job: unblocked for a moment at its default
 * action, so the kernel's rule applies: a process group no shell could continue (an
 * orphaned one) is not stopped, and we return at once. Else we return once continued.
 * The whole group, as the terminal would have: a wrapper that started tend (make, a
 * script, bash -c) must stop too, or the shell waits on it and never prompts. A TSTP
 * already pending (a second Ctrl-Z) is dropped first, or it would stop us twice.
 */
void
signals_stop_self(void)
{
	static const struct timespec	zero = { 0, 0 };
	sigset_t			one;

	if (sigismember(&caught, SIGTSTP) != 1)
		return;		/* started with TSTP ignored: it stays so */
	sigemptyset(&one);
	sigaddset(&one, SIGTSTP);
	while (sigtimedwait(&one, NULL, &zero) == SIGTSTP)
		;
	if (sigprocmask(SIG_UNBLOCK, &one, NULL) != 0) {
		log_warn("sigprocmask");
		return;
	}
	if (kill(0, SIGTSTP) != 0)
		log_warn("kill SIGTSTP");
	/* Delivered before kill() returned: we stopped and were continued by now. */
	if (sigprocmask(SIG_BLOCK, &one, NULL) != 0)
		log_warn("sigprocmask");
}

void
signals_teardown(struct ev_loop *loop)
{
	if (sfd < 0)
		return;
	ev_io_stop(loop, &sig_io);
	close(sfd);
	sfd = -1;
}
