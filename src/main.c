/*
 * tend: a PID-1-capable supervisor for container entrypoints. main() only wires the
 * configuration to the supervisor; see README.md "Where things live".
 */
#include "autoconf.h"

#include <stdlib.h>
#include <unistd.h>

#include "client.h"
#include "config.h"
#include "log.h"
#include "supervise.h"

extern char **environ;

int
main(int argc, char **argv)
{
	struct config	cfg;
	int		code = 0;

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
