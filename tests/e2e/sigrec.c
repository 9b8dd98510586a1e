/*
 * sigrec: the child (and launcher) the end-to-end tests run under tend.
 *
 *   sigrec record -o FILE [-p PIDFILE] [-i SIGS] [-d SIGS] [-x SIGS] [-X CODE]
 *                 [-g GCFILE] [-t SECS] [-T SECS] [-e CODE]
 *       Catch every catchable signal (not CHLD) and append its number, one a line, to
 *       FILE. -i ignores SIGS, -d leaves them at SIG_DFL, -x exits with CODE (-X, default
 *       0) when one of SIGS arrives. -g first forks a grandchild in the same process
 *       group that records into GCFILE (pid in GCFILE.pid) and lives -T seconds. The
 *       pid file ("pid pgid") appears once everything is set up. Exits with -e CODE
 *       after -t seconds (default 120).
 *   sigrec report
 *       Print SIGRTMIN/SIGRTMAX, the ignored signals and the blocked signals.
 *   sigrec exec [-i SIGS] [-b SIGS] -- COMMAND [ARG...]
 *       Reset every disposition to SIG_DFL and the mask to empty, then ignore -i SIGS,
 *       block -b SIGS and exec COMMAND (a shell's background jobs ignore INT and QUIT).
 *   sigrec orphans -n N [-l MS] [-p PIDFILE] [-t SECS]
 *       Spawn N grandchildren that are orphaned at once and exit -l milliseconds later
 *       (default 5), write the pid file, then live -t seconds (default 120).
 *   sigrec tty [-t SECS]
 *       Wait (up to 5 s) to own the terminal on stdin, print pid, pgid, sid, tpgid and
 *       the parent's pgid, then live -t seconds with default dispositions.
 *
 * SIGS is a comma-separated list of numbers or names (TERM, SIGTERM, RTMIN+3, RTMAX).
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LIFETIME 120.0

static const char *const signames[32] = {
	[SIGHUP] = "HUP", [SIGINT] = "INT", [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
	[SIGTRAP] = "TRAP", [SIGABRT] = "ABRT", [SIGBUS] = "BUS", [SIGFPE] = "FPE",
	[SIGKILL] = "KILL", [SIGUSR1] = "USR1", [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
	[SIGPIPE] = "PIPE", [SIGALRM] = "ALRM", [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
	[SIGCHLD] = "CHLD", [SIGCONT] = "CONT", [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
	[SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU", [SIGURG] = "URG", [SIGXCPU] = "XCPU",
	[SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF",
	[SIGWINCH] = "WINCH", [SIGIO] = "IO", [SIGPWR] = "PWR", [SIGSYS] = "SYS",
};

/* Read by the signal handler: set up before any handler is installed. */
static int		rec_fd = -1;
static bool		exit_on[NSIG];
static int		exit_on_code;

static _Noreturn void
die(const char *what)
{
	fprintf(stderr, "sigrec: %s: %s\n", what, strerror(errno));
	exit(125);
}

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: sigrec record|report|exec|orphans|tty [options] "
	    "(see the comment at the top of tests/e2e/sigrec.c)\n");
	exit(2);
}

/* A signal number that exists and is not one of glibc's reserved ones (32, 33). */
static bool
valid_signal(int sig)
{
	return sig >= 1 && sig <= SIGRTMAX && (sig < 32 || sig >= SIGRTMIN);
}

static int
parse_number(const char *s, int min, int max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "sigrec: bad number: %s\n", s);
		exit(2);
	}
	return (int)v;
}

static double
parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 86400) {
		fprintf(stderr, "sigrec: bad duration (seconds): %s\n", s);
		exit(2);
	}
	return v;
}

/* One signal: a number, a name with or without SIG, RTMIN+n or RTMAX-n. */
static int
parse_signal(const char *s)
{
	int sig = -1;

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	if (*s >= '0' && *s <= '9')
		sig = parse_number(s, 1, NSIG - 1);
	else if (strcmp(s, "RTMIN") == 0)
		sig = SIGRTMIN;
	else if (strncmp(s, "RTMIN+", 6) == 0)
		sig = SIGRTMIN + parse_number(s + 6, 0, NSIG);
	else if (strcmp(s, "RTMAX") == 0)
		sig = SIGRTMAX;
	else if (strncmp(s, "RTMAX-", 6) == 0)
		sig = SIGRTMAX - parse_number(s + 6, 0, NSIG);
	else {
		for (int i = 1; i < 32; i++)
			if (signames[i] != NULL && strcmp(signames[i], s) == 0)
				sig = i;
	}
	if (!valid_signal(sig)) {
		fprintf(stderr, "sigrec: bad signal: %s\n", s);
		exit(2);
	}
	return sig;
}

/* A comma-separated list of signals into set. */
static void
parse_signals(const char *list, sigset_t *set)
{
	char buf[512], *save = NULL;

	if (strlen(list) >= sizeof(buf)) {
		fprintf(stderr, "sigrec: signal list too long\n");
		exit(2);
	}
	strcpy(buf, list);
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		sigaddset(set, parse_signal(tok));
}

/* Record the signal with one write (atomic on O_APPEND); only async-signal-safe calls. */
static void
on_signal(int sig)
{
	int saved = errno, num = sig;
	char buf[16];
	size_t n = sizeof(buf);
	ssize_t r;

	buf[--n] = '\n';
	do {
		buf[--n] = (char)('0' + num % 10);
		num /= 10;
	} while (num > 0 && n > 0);
	if (rec_fd >= 0) {
		r = write(rec_fd, buf + n, sizeof(buf) - n);
		(void)r;
	}
	if (sig > 0 && sig < NSIG && exit_on[sig])
		_exit(exit_on_code);
	errno = saved;
}

static void
set_disposition(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) == -1)
		die("sigaction");
}

/* Catch everything catchable but CHLD, except what is to be ignored or left default. */
static void
install(const sigset_t *ignore, const sigset_t *dfl)
{
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if (!valid_signal(sig) || sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigismember(ignore, sig))
			set_disposition(sig, SIG_IGN);
		else if (sigismember(dfl, sig) || sig == SIGCHLD)
			set_disposition(sig, SIG_DFL);
		else
			set_disposition(sig, on_signal);
	}
}

static int
open_record(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd == -1)
		die(path);
	return fd;
}

/* Write "pid pgid" to path atomically, so a reader never sees a half-written file. */
static void
write_pidfile(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (path == NULL)
		return;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	if ((f = fopen(tmp, "we")) == NULL)
		die(tmp);
	fprintf(f, "%ld %ld\n", (long)getpid(), (long)getpgrp());
	if (fclose(f) != 0)
		die(tmp);
	if (rename(tmp, path) == -1)
		die(path);
}

/* Sleep for secs in total, whatever signals arrive meanwhile. */
static void
linger(double secs)
{
	struct timespec end, now, d;

	if (clock_gettime(CLOCK_MONOTONIC, &end) == -1)
		die("clock_gettime");
	end.tv_sec += (time_t)secs;
	end.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			die("clock_gettime");
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return;
		d.tv_sec = end.tv_sec - now.tv_sec;
		d.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (d.tv_nsec < 0) {
			d.tv_sec--;
			d.tv_nsec += 1000000000L;
		}
		(void)nanosleep(&d, NULL);
	}
}

static void
sleep_ms(long ms)
{
	struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&d, &d) == -1 && errno == EINTR)
		;
}

/* fork(), retrying a while when the system is short of processes. */
static pid_t
fork_retry(void)
{
	pid_t pid;

	for (int tries = 0; (pid = fork()) == -1 && errno == EAGAIN && tries < 500;
	    tries++)
		sleep_ms(10);
	return pid;
}

/* Fork the recording grandchild and wait until it is ready. */
static void
spawn_grandchild(const char *path, const sigset_t *ignore, const sigset_t *dfl,
    double lifetime)
{
	char pidpath[PATH_MAX];
	int p[2];
	ssize_t r;
	char c;

	if ((size_t)snprintf(pidpath, sizeof(pidpath), "%s.pid", path) >= sizeof(pidpath)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	if (pipe2(p, O_CLOEXEC) == -1)
		die("pipe2");
	switch (fork_retry()) {
	case -1:
		die("fork");
	case 0:
		close(p[0]);
		rec_fd = open_record(path);
		install(ignore, dfl);
		write_pidfile(pidpath);
		if (write(p[1], "x", 1) != 1)
			die("write");
		close(p[1]);
		linger(lifetime);
		_exit(0);
	default:
		close(p[1]);
		while ((r = read(p[0], &c, 1)) == -1 && errno == EINTR)
			;
		if (r != 1) {
			fprintf(stderr, "sigrec: the grandchild did not start\n");
			exit(125);
		}
		close(p[0]);
	}
}

static int
cmd_record(int argc, char **argv)
{
	const char *out = NULL, *pidfile = NULL, *gcfile = NULL;
	double lifetime = DEFAULT_LIFETIME, gc_lifetime = DEFAULT_LIFETIME;
	sigset_t ignore, dfl, ex;
	int code = 0, ch;

	sigemptyset(&ignore);
	sigemptyset(&dfl);
	sigemptyset(&ex);
	while ((ch = getopt(argc, argv, "o:p:i:d:x:X:g:t:T:e:")) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'p': pidfile = optarg; break;
		case 'i': parse_signals(optarg, &ignore); break;
		case 'd': parse_signals(optarg, &dfl); break;
		case 'x': parse_signals(optarg, &ex); break;
		case 'X': exit_on_code = parse_number(optarg, 0, 255); break;
		case 'g': gcfile = optarg; break;
		case 't': lifetime = parse_seconds(optarg); break;
		case 'T': gc_lifetime = parse_seconds(optarg); break;
		case 'e': code = parse_number(optarg, 0, 255); break;
		default: usage();
		}
	}
	if (out == NULL || optind != argc)
		usage();
	if (gcfile != NULL)
		spawn_grandchild(gcfile, &ignore, &dfl, gc_lifetime);
	for (int sig = 1; sig < NSIG; sig++)
		exit_on[sig] = sigismember(&ex, sig) == 1;
	rec_fd = open_record(out);
	install(&ignore, &dfl);
	write_pidfile(pidfile);
	linger(lifetime);
	return code;
}

static void
print_list(const char *label, bool (*pred)(int, const void *), const void *arg)
{
	printf("%s:", label);
	for (int sig = 1; sig <= SIGRTMAX; sig++)
		if (valid_signal(sig) && pred(sig, arg))
			printf(" %d", sig);
	printf("\n");
}

static bool
is_ignored(int sig, const void *arg)
{
	struct sigaction old;

	(void)arg;
	if (sigaction(sig, NULL, &old) == -1)
		die("sigaction");
	return !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN;
}

static bool
is_blocked(int sig, const void *arg)
{
	return sigismember((const sigset_t *)arg, sig) == 1;
}

static int
cmd_report(int argc, char **argv)
{
	sigset_t mask;

	(void)argv;
	if (argc != 1)
		usage();
	if (sigprocmask(SIG_BLOCK, NULL, &mask) == -1)
		die("sigprocmask");
	printf("rtmin: %d\nrtmax: %d\n", SIGRTMIN, SIGRTMAX);
	print_list("ignored", is_ignored, NULL);
	print_list("blocked", is_blocked, &mask);
	if (fflush(stdout) != 0)
		die("stdout");
	return 0;
}

static int
cmd_exec(int argc, char **argv)
{
	sigset_t ignore, block;
	int ch;

	sigemptyset(&ignore);
	sigemptyset(&block);
	while ((ch = getopt(argc, argv, "+i:b:")) != -1) {
		switch (ch) {
		case 'i': parse_signals(optarg, &ignore); break;
		case 'b': parse_signals(optarg, &block); break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if (!valid_signal(sig) || sig == SIGKILL || sig == SIGSTOP)
			continue;
		set_disposition(sig, sigismember(&ignore, sig) ? SIG_IGN : SIG_DFL);
	}
	if (sigprocmask(SIG_SETMASK, &block, NULL) == -1)
		die("sigprocmask");
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "sigrec: exec %s: %s\n", argv[optind], strerror(errno));
	return 127;
}

static int
cmd_orphans(int argc, char **argv)
{
	const char *pidfile = NULL;
	double lifetime = DEFAULT_LIFETIME;
	int n = -1, ms = 5, ch, status;
	pid_t pid;

	while ((ch = getopt(argc, argv, "n:l:p:t:")) != -1) {
		switch (ch) {
		case 'n': n = parse_number(optarg, 0, 1000000); break;
		case 'l': ms = parse_number(optarg, 0, 3600000); break;
		case 'p': pidfile = optarg; break;
		case 't': lifetime = parse_seconds(optarg); break;
		default: usage();
		}
	}
	if (n < 0 || optind != argc)
		usage();
	for (int i = 0; i < n; i++) {
		if ((pid = fork_retry()) == -1)
			die("fork");
		if (pid == 0) {
			/* The middle process exits at once: its child becomes an orphan. */
			if (fork_retry() == 0)
				sleep_ms(ms);
			_exit(0);
		}
		while (waitpid(pid, &status, 0) == -1)
			if (errno != EINTR)
				die("waitpid");
	}
	write_pidfile(pidfile);
	linger(lifetime);
	return 0;
}

static int
cmd_tty(int argc, char **argv)
{
	double lifetime = DEFAULT_LIFETIME;
	pid_t tpgid = -1;
	int ch;

	while ((ch = getopt(argc, argv, "t:")) != -1) {
		switch (ch) {
		case 't': lifetime = parse_seconds(optarg); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	/* tend may hand the terminal over just after the exec: give it time. */
	for (int i = 0; i < 500; i++) {
		if ((tpgid = tcgetpgrp(STDIN_FILENO)) == getpgrp())
			break;
		sleep_ms(10);
	}
	printf("pid=%ld pgid=%ld sid=%ld tpgid=%ld ppid=%ld ppgid=%ld\n",
	    (long)getpid(), (long)getpgrp(), (long)getsid(0), (long)tpgid,
	    (long)getppid(), (long)getpgid(getppid()));
	if (fflush(stdout) != 0)
		die("stdout");
	linger(lifetime);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	argc--;
	argv++;
	if (strcmp(argv[0], "record") == 0)
		return cmd_record(argc, argv);
	if (strcmp(argv[0], "report") == 0)
		return cmd_report(argc, argv);
	if (strcmp(argv[0], "exec") == 0)
		return cmd_exec(argc, argv);
	if (strcmp(argv[0], "orphans") == 0)
		return cmd_orphans(argc, argv);
	if (strcmp(argv[0], "tty") == 0)
		return cmd_tty(argc, argv);
	usage();
}
