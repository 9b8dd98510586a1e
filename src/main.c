/*
 * tend: a PID-1-capable supervisor for container entrypoints. main() only wires the
 * configuration to the supervisor; see README.md "Where things live".
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "client.h"
#include "config.h"
#include "log.h"
#include "supervise.h"

extern char **environ;

/*
 * Started with stdin, stdout or stderr closed, the first fds tend opens (epoll,
 * signalfd) would take their numbers, and tend's log lines would land in them.
 */
static void
open_std_fds(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(1);	/* nothing sane left to do, nowhere to say it */
	}
}

int
main(int argc, char **argv)
{
	struct config	cfg;
	int		code = 0;

	open_std_fds();
	/* tend status|restart|emergency: a client of a running tend, not a supervisor. */
	if (client_command(argc, argv) > 0)
		return client_main(argc, argv);
	if (config_load(&cfg, argc, argv, environ, &code) == CONFIG_EXIT)
		return code;
	log_setup(cfg.log_level, cfg.log_format);
	if (cfg.dev)
		log_set_dev(isatty(STDERR_FILENO));
	code = supervise_run(&cfg);
	config_free(&cfg);
	return code;
}
