/*
 * tend's configuration: defaults < INI file < TEND_<SECTION>_<KEY> < --section-key flags.
 * config_load() does all of it and validates; every error names its source (file and
 * line, variable or flag) and the key, and the caller exits 78 (or 2 for the command line).
 */
#ifndef TEND_CONFIG_H
#define TEND_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"
#include "parse.h"

#define EXIT_USAGE	2	/* bad command line */
#define EXIT_GAVE_UP	69	/* crash loop with nowhere left to go */
#define EXIT_CONFIG	78	/* bad configuration (EX_CONFIG) */
#define EXIT_NOEXEC	126
#define EXIT_NOTFOUND	127

enum reload_mode { RELOAD_FORBID, RELOAD_STRIP, RELOAD_ALLOW };
enum forward_mode { FORWARD_CHILD, FORWARD_GROUP };
enum restart_policy { POLICY_ALWAYS, POLICY_ON_FAILURE, POLICY_NEVER };
enum loop_action { LOOP_RESTART, LOOP_EMERGENCY, LOOP_STOP };
enum prefix_mode { PREFIX_AUTO, PREFIX_YES, PREFIX_NO };

/* A list of strings (environment entries, wait_for targets). */
struct strlist {
	char	**v;
	size_t	  n;
};

struct config {
	/* [program] */
	char		**command;	/* argv, NULL-terminated; NULL if none */
	char		 *directory;	/* NULL: inherit */
	char		 *user;		/* as written; NULL: do not change */
	bool		  has_user;
	uid_t		  uid;		/* resolved at load time, never in the loop */
	gid_t		  gid;
	gid_t		 *groups;	/* supplementary groups of the user */
	int		  ngroups;
	struct strlist	  environment;	/* KEY=VALUE added to the child's environment */
	int		  stop_signal;
	int64_t		  stop_timeout;
	enum reload_mode  reload;
	enum forward_mode forward;
	bool		  subreaper;	/* PR_SET_CHILD_SUBREAPER when not PID 1 */

	/* [startup] */
	int64_t		  startup_timeout;	/* 0: none */
	int64_t		  startup_interval;
	struct strlist	  wait_for;		/* raw targets; see parse_target() */
	int64_t		  wait_timeout;
	bool		  wait_each_start;

	/* [health] */
	char		 *health_url;	/* NULL: running means alive */
	struct url	  health;	/* parsed health_url */
	int64_t		  health_interval;
	int64_t		  health_timeout;
	int		  failure_threshold;
	int		  success_threshold;
	struct status_ranges expect_status;
	char		 *expect_body;	/* NULL: body not checked */
	int		  hang_signal;	/* 0: none */
	int64_t		  hang_signal_wait;

	/* [restart] */
	enum restart_policy policy;
	int64_t		  backoff;
	int64_t		  backoff_max;
	int		  limit_burst;
	int64_t		  limit_interval;
	int64_t		  reset_after;

	/* [reload_loop] */
	char		 *loop_pattern;	/* POSIX ERE, validated with regcomp */
	int		  loop_count;
	int64_t		  loop_window;
	enum loop_action  loop_action;

	/* [emergency] */
	bool		  emergency;	/* the section (or any of its keys) is present */
	struct strlist	  emergency_environment;
	char		**emergency_command;	/* NULL: same command */
	char		 *emergency_health_url;	/* NULL: same as [health] url */
	struct url	  emergency_health;
	int64_t		  recover_after;	/* 0: never */

	/* [listen] */
	char		 *listen_socket;	/* NULL: none */
	struct url	  listen;
	int		  listen_fd;

	/* [status] */
	char		 *status_listen;	/* NULL: no HTTP endpoint */
	struct url	  status;
	char		 *status_control;	/* NULL: no control socket */

	/* [log] */
	enum log_format	  log_format;
	enum log_level	  log_level;
	enum prefix_mode  log_prefix;

	/* Not keys. */
	char		 *config_file;	/* -c FILE, NULL if none */
	bool		  check_config;	/* --check-config */
	bool		  dev;		/* --dev */
};

enum config_result {
	CONFIG_RUN,	/* run the command */
	CONFIG_EXIT,	/* done (help, version, check-config): exit with *code */
};

/*
 * Parse argv, the environment and the file. On error, print the message and usage
 * (for flags) to stderr and set *code to 2 or 78, returning CONFIG_EXIT.
 */
enum config_result config_load(struct config *, int argc, char **argv, char **envp,
    int *code);
/* Print the effective configuration as an INI file (for --check-config). */
void config_print(const struct config *, FILE *);
void config_free(struct config *);

#endif
