/*
 * The argv and environment of the children, per mode. The environment is tend's own
 * with [program] environment (and in emergency mode [emergency] environment) set over
 * it; the command goes through {fd} replacement and the reload guard.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "listen.h"
#include "log.h"
#include "reload.h"
#include "xmalloc.h"

/* Variables of tend's own surroundings that would mislead a child (tend is MAINPID). */
static const char *private_vars[] = {
	"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=",
};

/* Set KEY=VALUE in env (n entries, room for one more), replacing an existing KEY. */
static void
env_set(char **env, size_t *n, const char *kv)
{
	size_t klen = strcspn(kv, "=") + 1, i;

	for (i = 0; i < *n; i++)
		if (strncmp(env[i], kv, klen) == 0)
			break;
	if (i < *n)
		free(env[i]);
	else
		(*n)++;
	env[i] = xstrdup(kv);
}

static bool
private_var(const char *kv)
{
	size_t i;

	for (i = 0; i < nitems(private_vars); i++)
		if (strncmp(kv, private_vars[i], strlen(private_vars[i])) == 0)
			return true;
	return false;
}

/* tend's environment, then the [program] and extra (emergency) lists over it. */
static char **
build_env(char **env, const struct strlist *prog, const struct strlist *extra,
    bool faulthandler)
{
	size_t	 n = 0, i, m;
	char	**out;

	while (env[n] != NULL)
		n++;
	out = xcalloc(n + prog->n + (extra != NULL ? extra->n : 0) + 2, sizeof *out);
	for (i = m = 0; i < n; i++)
		if (!private_var(env[i]))
			out[m++] = xstrdup(env[i]);
	n = m;
	/* Python prints every thread's traceback on hang_signal (ABRT) with this set. */
	if (faulthandler)
		env_set(out, &n, "PYTHONFAULTHANDLER=1");
	for (i = 0; i < prog->n; i++)
		env_set(out, &n, prog->v[i]);
	for (i = 0; extra != NULL && i < extra->n; i++)
		env_set(out, &n, extra->v[i]);
	out[n] = NULL;
	return out;
}

static void
free_env(char **env)
{
	size_t i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* The reload guard on the command of mode m: 0, or EXIT_CONFIG when it refuses. */
static int
guard(struct launch *l, const struct config *cfg, enum core_mode m)
{
	char	msg[1024];
	int	found;

	found = reload_guard(l->argv[m], l->envp[m], cfg->reload, &l->stripped[m], msg,
	    sizeof msg);
	if (found < 0) {
		log_errorx("%s", msg);
		return EXIT_CONFIG;
	}
	if (l->stripped[m] != NULL)
		l->argv[m] = l->stripped[m];
	if (found & RELOAD_IN_ENV && cfg->reload == RELOAD_STRIP)
		reload_env_strip(l->envp[m]);
	/* Said once: the emergency command is the same one unless it has its own. */
	if (found != 0 && (m == MODE_NORMAL || cfg->emergency_command != NULL)) {
		if (cfg->reload == RELOAD_STRIP)
			log_warnx("%s", msg);
		else
			log_info("%s", msg);
	}
	return 0;
}

int
launch_prepare(struct launch *l, const struct config *cfg, struct listener *ls,
    char **environ)
{
	bool	fh = cfg->hang_signal != 0;
	int	m;

	memset(l, 0, sizeof *l);
	l->envp[MODE_NORMAL] = build_env(environ, &cfg->environment, NULL, fh);
	l->envp[MODE_EMERGENCY] = build_env(environ, &cfg->environment,
	    &cfg->emergency_environment, fh);
	l->fdargv[MODE_NORMAL] = listen_argv(ls, cfg->command);
	l->fdargv[MODE_EMERGENCY] = listen_argv(ls, cfg->emergency_command != NULL ?
	    cfg->emergency_command : cfg->command);
	for (m = MODE_NORMAL; m <= MODE_EMERGENCY; m++) {
		listen_env(ls, &l->envp[m], &l->pid_slot[m]);
		l->argv[m] = l->fdargv[m];
		if (guard(l, cfg, (enum core_mode)m) != 0)
			return EXIT_CONFIG;
	}
	return 0;
}

void
launch_reload_off(struct launch *l)
{
	char	msg[1024];
	int	m, found;

	for (m = MODE_NORMAL; m <= MODE_EMERGENCY; m++) {
		if (l->stripped[m] != NULL)
			continue;
		found = reload_guard(l->argv[m], l->envp[m], RELOAD_STRIP, &l->stripped[m],
		    msg, sizeof msg);
		if (l->stripped[m] != NULL)
			l->argv[m] = l->stripped[m];
		if (found > 0 && (found & RELOAD_IN_ENV))
			reload_env_strip(l->envp[m]);
		if (found > 0 && m == MODE_NORMAL)
			log_warnx("after the reload loop: %s", msg);
	}
}

void
launch_free(struct launch *l)
{
	int m;

	for (m = MODE_NORMAL; m <= MODE_EMERGENCY; m++) {
		argv_free(l->stripped[m]);
		argv_free(l->fdargv[m]);
		free_env(l->envp[m]);
	}
	memset(l, 0, sizeof *l);
}
