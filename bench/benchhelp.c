/*
 * benchhelp: the small programs the benchmarks (bench/run.sh) and the soak scripts
 * (tests/soak/) run as children of the supervisors under test. Times are
 * CLOCK_MONOTONIC nanoseconds, so stamps from different processes compare.
 *
 *   benchhelp wait-term FILE
 *       Catch SIGTERM, then create FILE.ready and wait; the handler writes the time it
 *       ran to FILE and exits 0.
 *   benchhelp send-term PID
 *       Print the time, then send SIGTERM to PID (at once, with nothing in between).
 *   benchhelp crash FILE
 *       Append "s TIME" (started) and "e TIME" (about to exit) to FILE, exit 1.
 *   benchhelp orphans N
 *       Make N orphans (double fork) that wait on a pipe; then close it so that they
 *       all exit at once, and wait until /proc lists no more processes than before the
 *       burst (exited and reaped). Print "N FORK_MS REAP_MS". Run it under a PID 1
 *       (unshare --pid --fork --mount-proc) so that /proc shows only the namespace.
 *   benchhelp send PID SIGNAL RATE SECONDS
 *       Send SIGNAL (a number) to PID RATE times a second for SECONDS; print how many
 *       kill() calls succeeded. Stops early when PID is gone.
 *   benchhelp count-sig FILE MS CODE
 *       Append one line to FILE per SIGUSR1 received; exit CODE after MS milliseconds.
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int	stamp_fd = -1;

static _Noreturn void
die(const char *what)
{
	fprintf(stderr, "benchhelp: %s: %s\n", what, strerror(errno));
	exit(125);
}

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: benchhelp wait-term|send-term|crash|orphans|send|count-sig ... "
	    "(see the comment at the top of bench/benchhelp.c)\n");
	exit(2);
}

static long
number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "benchhelp: bad number: %s\n", s);
		exit(2);
	}
	return v;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Format PREFIX then v and a newline into buf (async-signal-safe); return the length. */
static size_t
fmt_u64(char *buf, size_t size, const char *prefix, uint64_t v)
{
	char digits[24];
	size_t n = 0, k = 0;

	while (*prefix != '\0' && n < size - 1)
		buf[n++] = *prefix++;
	do {
		digits[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (k > 0 && n < size - 1)
		buf[n++] = digits[--k];
	buf[n++] = '\n';
	return n;
}

static void
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			_exit(125);
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void
catch(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigfillset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) == -1)
		die("sigaction");
}

/* The stamp first: everything after it is not part of the measured latency. */
static void
on_term(int sig)
{
	char buf[32];
	uint64_t t = now_ns();

	(void)sig;
	write_all(stamp_fd, buf, fmt_u64(buf, sizeof buf, "", t));
	_exit(0);
}

static int
cmd_wait_term(const char *path)
{
	char ready[4096];
	int fd;

	if ((stamp_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
		die(path);
	catch(SIGTERM, on_term);
	snprintf(ready, sizeof ready, "%s.ready", path);
	if ((fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
		die(ready);
	close(fd);
	for (;;)
		pause();
}

static int
cmd_send_term(const char *spid)
{
	pid_t pid = (pid_t)number(spid, 1, INT32_MAX);
	uint64_t t = now_ns();

	if (kill(pid, SIGTERM) == -1)
		die("kill");
	printf("%llu\n", (unsigned long long)t);
	return 0;
}

static int
cmd_crash(const char *path)
{
	char buf[64];
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd == -1)
		die(path);
	write_all(fd, buf, fmt_u64(buf, sizeof buf, "s ", now_ns()));
	write_all(fd, buf, fmt_u64(buf, sizeof buf, "e ", now_ns()));
	return 1;
}

/* Processes listed in /proc (the namespace's, under --mount-proc). */
static long
count_procs(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		die("/proc");
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			n++;
	closedir(d);
	return n;
}

static pid_t
fork_retry(void)
{
	pid_t pid;
	int tries = 0;

	while ((pid = fork()) == -1 && errno == EAGAIN && tries++ < 1000)
		usleep(1000);
	return pid;
}

static int
cmd_orphans(const char *sn)
{
	long n = number(sn, 1, 100000), base, i;
	uint64_t t0, t1, t2;
	int pfd[2], status;
	char c;

	base = count_procs();
	if (pipe2(pfd, O_CLOEXEC) == -1)
		die("pipe");
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		pid_t pid = fork_retry();

		if (pid == -1)
			die("fork");
		if (pid == 0) {
			/* The middle process exits at once: its child becomes an orphan. */
			pid = fork_retry();
			if (pid == 0) {
				close(pfd[1]);
				while (read(pfd[0], &c, 1) == -1 && errno == EINTR)
					;
			}
			_exit(pid == -1 ? 1 : 0);
		}
		/* Reap the middle ones in batches: forking goes on meanwhile. */
		if (i % 64 == 63)
			while (waitpid(-1, &status, WNOHANG) > 0)
				;
	}
	while (waitpid(-1, &status, 0) > 0 || errno == EINTR)
		;
	t1 = now_ns();
	close(pfd[1]);	/* every orphan reads EOF and exits */
	while (count_procs() > base)
		usleep(200);
	t2 = now_ns();
	close(pfd[0]);
	printf("%ld %.1f %.1f\n", n, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6);
	return 0;
}

static int
cmd_send(const char *spid, const char *ssig, const char *srate, const char *ssecs)
{
	pid_t pid = (pid_t)number(spid, 1, INT32_MAX);
	int sig = (int)number(ssig, 1, 64);
	long rate = number(srate, 1, 100000), secs = number(ssecs, 1, 3600), i, sent = 0;
	long period = 1000000000L / rate;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < rate * secs; i++) {
		if (kill(pid, sig) == -1)
			break;
		sent++;
		next.tv_nsec += period;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	printf("%ld\n", sent);
	return 0;
}

static void
on_usr1(int sig)
{
	(void)sig;
	write_all(stamp_fd, "1\n", 2);
}

static int
cmd_count_sig(const char *path, const char *ssecs, const char *scode)
{
	long ms = number(ssecs, 1, 3600000);
	int code = (int)number(scode, 0, 255);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if ((stamp_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) == -1)
		die(path);
	catch(SIGUSR1, on_usr1);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	return code;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "wait-term") == 0 && argc == 3)
		return cmd_wait_term(argv[2]);
	if (strcmp(argv[1], "send-term") == 0 && argc == 3)
		return cmd_send_term(argv[2]);
	if (strcmp(argv[1], "crash") == 0 && argc == 3)
		return cmd_crash(argv[2]);
	if (strcmp(argv[1], "orphans") == 0 && argc == 3)
		return cmd_orphans(argv[2]);
	if (strcmp(argv[1], "send") == 0 && argc == 6)
		return cmd_send(argv[2], argv[3], argv[4], argv[5]);
	if (strcmp(argv[1], "count-sig") == 0 && argc == 5)
		return cmd_count_sig(argv[2], argv[3], argv[4]);
	usage();
}
