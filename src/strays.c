/*
 * Finding tend's children: /proc/self/task/TID/children where the kernel has it
 * (CONFIG_PROC_CHILDREN), else a scan of /proc/PID/stat for our pid as parent. Either
 * list is a snapshot, but a child's pid cannot be reused before we reap it, and we do
 * not reap between reading and signalling: a listed child is still ours.
 */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "strays.h"

struct sweep {
	pid_t	main, pgid, self;
	int	signo;
	int	n;
};

static void
consider(struct sweep *sw, pid_t pid)
{
	pid_t pg, target;

	if (pid <= 0 || pid == sw->main || pid == sw->self)
		return;
	pg = getpgid(pid);
	if (pg < 0 || (sw->pgid > 0 && pg == sw->pgid))
		return;
	/* A stray that leads its own group (setsid) takes the group along: its children
	 * are in it, and would otherwise be reached only once orphaned to us, a whole
	 * stop_timeout later. The group is not another's: its leader, our child, is not
	 * reaped yet, so the number cannot have been reused. */
	target = pg == pid ? -pid : pid;
	if (kill(target, sw->signo) != 0) {
		if (errno != ESRCH)
			log_warn("kill -%d %ld", sw->signo, (long)target);
		return;
	}
	log_debug("signal %d to stray child %ld (process group %ld%s)", sw->signo, (long)pid,
	    (long)pg, target < 0 ? ", the whole group" : "");
	sw->n++;
}

/* Read a small /proc file whole; -1 if it cannot be opened or read. */
static ssize_t
read_small(const char *path, char *buf, size_t size)
{
	ssize_t	n, got = 0;
	int	fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)got < size - 1) {
		n = read(fd, buf + got, size - 1 - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	if (close(fd) != 0 && errno != EINTR)
		log_warn("close %s", path);
	buf[got] = '\0';
	return got;
}

/* /proc/self/task/TID/children of every thread; false if the kernel has no such file. */
static bool
from_children_files(struct sweep *sw)
{
	char		 path[PATH_MAX], buf[16384], *p, *end;
	struct dirent	*de;
	DIR		*d;
	bool		 any = false;
	long		 v;

	if ((d = opendir("/proc/self/task")) == NULL)
		return false;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/children", de->d_name);
		if (read_small(path, buf, sizeof buf) < 0)
			continue;
		any = true;
		/* A list cut at the buffer's end loses the pids after it; the next
		 * SIGKILL round (or the fallback never) will see them. */
		for (p = buf; *p != '\0'; p = end) {
			errno = 0;
			v = strtol(p, &end, 10);
			if (end == p)
				break;
			if (errno == 0 && v > 0 && v <= INT_MAX)
				consider(sw, (pid_t)v);
		}
	}
	if (closedir(d) != 0)
		log_warn("closedir /proc/self/task");
	return any;
}

/* Every /proc/PID/stat whose parent is us: "pid (comm) state ppid ...". */
static void
from_stat_scan(struct sweep *sw)
{
	char		 path[64], buf[1024], *p;
	struct dirent	*de;
	DIR		*d;
	long		 ppid;

	if ((d = opendir("/proc")) == NULL) {
		log_warn("opendir /proc: stray children are not signalled");
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%.20s/stat", de->d_name);
		if (read_small(path, buf, sizeof buf) <= 0)
			continue;
		/* comm may hold spaces and ')': the fields follow the last ')'. */
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid != sw->self)
			continue;
		consider(sw, (pid_t)strtol(de->d_name, NULL, 10));
	}
	if (closedir(d) != 0)
		log_warn("closedir /proc");
}

/* Does /proc show our own pid namespace? (In a new one without --mount-proc it shows
 * the outer one, and its pids would name other processes here.) */
static bool
proc_is_ours(pid_t self)
{
	char	buf[32];
	ssize_t	n;

	n = readlink("/proc/self", buf, sizeof buf - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strtol(buf, NULL, 10) == (long)self;
}

/* Has tend a child at all (the main child or not)? A zombie counts. */
static bool
children_left(void)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
			return true;
		if (errno == EINTR)
			continue;
		if (errno != ECHILD)
			log_warn("waitid");
		return false;
	}
}

/* Can tend find its children in /proc? Said once when it cannot. */
static bool
proc_usable(pid_t self)
{
	static bool said;

	if (proc_is_ours(self))
		return true;
	if (!said) {
		said = true;
		log_warnx("/proc is missing or not this pid namespace's: stray children are "
		    "neither stopped nor waited for");
	}
	return false;
}

int
strays_signal(pid_t main, pid_t pgid, int signo)
{
	struct sweep sw = { .main = main, .pgid = pgid, .self = getpid(), .signo = signo };

	if (!children_left() || !proc_usable(sw.self))
		return 0;	/* the common case costs one waitid() */
	if (!from_children_files(&sw))
		from_stat_scan(&sw);
	return sw.n;
}

bool
strays_left(void)
{
	return children_left() && proc_usable(getpid());
}
