/*
 * tend's settings: one table of keys (section, name, type, field, default, help) drives
 * the INI file, the flags, the environment, --check-config, --help and the validation.
 * A value from a higher source (flag > environment > file > default) replaces the lower
 * one, key by key; every value from every source is validated, so a typo never hides.
 */
#include "autoconf.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "config.h"
#include "core.h"
#include "options.h"
#include "xmalloc.h"

_Static_assert(sizeof(enum reload_mode) == sizeof(int) &&
    sizeof(enum log_level) == sizeof(int) && sizeof(enum prefix_mode) == sizeof(int),
    "enum fields are written through int *");

static int check_socket_path(const char *, struct url *, const char **);

static const struct key_name reload_names[] = {
	{ "forbid", RELOAD_FORBID }, { "strip", RELOAD_STRIP }, { "allow", RELOAD_ALLOW },
	{ NULL, 0 } };
static const struct key_name forward_names[] = {
	{ "child", FORWARD_CHILD }, { "group", FORWARD_GROUP }, { NULL, 0 } };
static const struct key_name policy_names[] = {
	{ "always", POLICY_ALWAYS }, { "on-failure", POLICY_ON_FAILURE },
	{ "never", POLICY_NEVER }, { NULL, 0 } };
static const struct key_name action_names[] = {
	{ "restart", LOOP_RESTART }, { "emergency", LOOP_EMERGENCY }, { "stop", LOOP_STOP },
	{ NULL, 0 } };
static const struct key_name format_names[] = {
	{ "text", LOG_FORMAT_TEXT }, { "logfmt", LOG_FORMAT_LOGFMT },
	{ "json", LOG_FORMAT_JSON }, { NULL, 0 } };
static const struct key_name level_names[] = {
	{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "warn", LOG_WARN },
	{ "error", LOG_ERROR }, { NULL, 0 } };
static const struct key_name prefix_names[] = {
	{ "auto", PREFIX_AUTO }, { "yes", PREFIX_YES }, { "no", PREFIX_NO },
	{ "true", PREFIX_YES }, { "on", PREFIX_YES }, { "1", PREFIX_YES },
	{ "false", PREFIX_NO }, { "off", PREFIX_NO }, { "0", PREFIX_NO }, { NULL, 0 } };

#define K(s, n, t, f, d, h) .section = s, .name = n, .type = t, \
	.off = offsetof(struct config, f), .def = d, .help = h

const struct config_key config_keys[] = {
	{ K("program", "command", KT_ARGV, command, "",
	    "the command, split like a shell (quotes, backslash; no expansion)") },
	{ K("program", "directory", KT_STRING, directory, "",
	    "working directory of the child (none: inherit)"), .meta = "DIR" },
	{ K("program", "user", KT_STRING, user, "",
	    "run the child as: name, uid or uid:gid (none: do not change)"), .meta = "USER" },
	{ K("program", "environment", KT_ENVLIST, environment, "",
	    "KEY=VALUE added to the child's environment; one per value") },
	{ K("program", "stop_signal", KT_SIGNAL, stop_signal, "TERM",
	    "signal that asks the child to stop") },
	{ K("program", "stop_timeout", KT_DURATION, stop_timeout, "10s",
	    "then SIGKILL to the whole process group") },
	{ K("program", "reload", KT_ENUM, reload, "forbid",
	    "what to do with uvicorn --reload"), .names = reload_names },
	{ K("program", "forward", KT_ENUM, forward, "child",
	    "where forwarded signals go"), .names = forward_names },
	{ K("program", "subreaper", KT_BOOL, subreaper, "yes",
	    "reap orphans as a subreaper when not PID 1") },

	{ K("startup", "timeout", KT_DURATION, startup_timeout, "30s",
	    "deadline from spawn to the first passing probe (0 = none)") },
	{ K("startup", "interval", KT_DURATION, startup_interval, "250ms",
	    "probe period while starting"), .flags = KEY_NONZERO },
	{ K("startup", "wait_for", KT_WORDLIST, wait_for, "",
	    "tcp://host:port or http:// URLs to wait for before the first spawn") },
	{ K("startup", "wait_timeout", KT_DURATION, wait_timeout, "60s",
	    "give up waiting for wait_for after this long (0 = never)") },
	{ K("startup", "wait_each_start", KT_BOOL, wait_each_start, "no",
	    "wait for wait_for before every start, not only the first") },

	{ K("health", "url", KT_STRING, health_url, "",
	    "probe URL (none: running means alive)"), .check = parse_http_url, .meta = "URL" },
	{ K("health", "interval", KT_DURATION, health_interval, "5s",
	    "probe period while running"), .flags = KEY_NONZERO },
	{ K("health", "timeout", KT_DURATION, health_timeout, "2s",
	    "a probe slower than this fails"), .flags = KEY_NONZERO },
	{ K("health", "failure_threshold", KT_INT, failure_threshold, "3",
	    "consecutive failures that mean a hang"), .min = 1, .max = 1000 },
	{ K("health", "success_threshold", KT_INT, success_threshold, "1",
	    "consecutive successes that make an unhealthy child healthy again"),
	    .min = 1, .max = 1000 },
	{ K("health", "expect_status", KT_STATUS, expect_status, "200-399",
	    "HTTP status codes that pass") },
	{ K("health", "expect_body", KT_STRING, expect_body, "",
	    "substring the body must contain (none: not checked)"), .meta = "TEXT" },
	{ K("health", "hang_signal", KT_SIGNAL, hang_signal, "",
	    "sent to a hung child before stopping it, e.g. ABRT (none: skip)"),
	    .flags = KEY_OPTIONAL },
	{ K("health", "hang_signal_wait", KT_DURATION, hang_signal_wait, "2s",
	    "time between hang_signal and the stop signal") },

	{ K("restart", "policy", KT_ENUM, policy, "on-failure",
	    "when an exited child is started again"), .names = policy_names },
	{ K("restart", "backoff", KT_DURATION, backoff, "1s",
	    "first delay, doubled per failure, with jitter") },
	{ K("restart", "backoff_max", KT_DURATION, backoff_max, "30s",
	    "longest delay") },
	{ K("restart", "limit_burst", KT_INT, limit_burst, "5",
	    "this many failures ..."), .min = 1, .max = CORE_MAX_BURST },
	{ K("restart", "limit_interval", KT_DURATION, limit_interval, "2m",
	    "... within this window are a crash loop"), .flags = KEY_NONZERO },
	{ K("restart", "reset_after", KT_DURATION, reset_after, "60s",
	    "healthy this long: backoff and counts reset") },

	{ K("reload_loop", "pattern", KT_REGEX, loop_pattern,
	    "(detected (file )?changes? in .*Reloading|Started reloader process)",
	    "POSIX extended regex matched against the child's output lines") },
	{ K("reload_loop", "count", KT_INT, loop_count, "3",
	    "this many matches ..."), .min = 1, .max = 1000 },
	{ K("reload_loop", "window", KT_DURATION, loop_window, "60s",
	    "... within this window are a reload loop"), .flags = KEY_NONZERO },
	{ K("reload_loop", "action", KT_ENUM, loop_action, "emergency",
	    "what a reload loop leads to"), .names = action_names },

	{ K("emergency", "environment", KT_ENVLIST, emergency_environment,
	    "EMERGENCY_MODE=1", "KEY=VALUE added in emergency mode; one per value") },
	{ K("emergency", "command", KT_ARGV, emergency_command, "",
	    "command for emergency mode (none: the same command)") },
	{ K("emergency", "health_url", KT_STRING, emergency_health_url, "",
	    "probe URL in emergency mode (none: [health] url)"),
	    .check = parse_http_url, .meta = "URL" },
	{ K("emergency", "recover_after", KT_DURATION, recover_after, "10m",
	    "healthy this long: try normal mode again (0 = never)") },

	{ K("listen", "socket", KT_STRING, listen_socket, "",
	    "tcp://host:port or unix:/path bound by tend, passed to every child"),
	    .check = parse_listen, .meta = "ADDRESS" },
	{ K("listen", "fd", KT_INT, listen_fd, "3",
	    "the socket's fd in the child; {fd} in the command becomes it"),
	    .min = 3, .max = 1023 },

	{ K("status", "listen", KT_STRING, status_listen, "",
	    "host:port of the HTTP status endpoint, a port alone: 127.0.0.1 (none: off)"),
	    .check = parse_hostport, .meta = "HOST:PORT" },
	{ K("status", "control", KT_STRING, status_control, "",
	    "unix socket for tend status/restart/emergency (none: off, but /run/tend.sock as PID 1)"),
	    .check = check_socket_path, .meta = "PATH" },

	{ K("log", "format", KT_ENUM, log_format, "text",
	    "format of tend's own lines"), .names = format_names },
	{ K("log", "level", KT_ENUM, log_level, "info",
	    "lowest level logged"), .names = level_names },
	{ K("log", "prefix", KT_ENUM, log_prefix, "auto",
	    "prefix child lines with name and pid (auto: on a tty)"), .names = prefix_names },
};
const size_t config_nkeys = nitems(config_keys);

_Static_assert(nitems(config_keys) <= CONFIG_MAX_KEYS, "raise CONFIG_MAX_KEYS");

/* A unix socket path that fits in sockaddr_un. */
static int
check_socket_path(const char *s, struct url *u, const char **why)
{
	memset(u, 0, sizeof *u);
	if (strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		*why = "unix socket path too long: at most 107 bytes";
		return -1;
	}
	u->scheme = URL_UNIX;
	strcpy(u->path, s);
	return 0;
}

const struct config_key *
config_key_find(const char *section, const char *name)
{
	size_t	i;

	for (i = 0; i < config_nkeys; i++) {
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

static size_t
config_key_index(const struct config_key *k)
{
	return (size_t)(k - config_keys);
}

/* Print one configuration error; past 20, count them only. */
void
config_error(struct config_loader *ld, const char *fmt, ...)
{
	va_list	ap;

	if (++ld->errors > 20) {
		if (ld->errors == 21)
			fprintf(stderr, "tend: too many errors; the rest are not shown\n");
		return;
	}
	fputs("tend: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Report a bad value of k, naming where it came from. */
static void TEND_PRINTF(3, 4)
key_error(struct config_loader *ld, const struct config_key *k, const char *fmt, ...)
{
	size_t	i = config_key_index(k);
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (ld->src[i] == SRC_FILE)
		config_error(ld, "%s: [%s] %s: %s", ld->origin[i], k->section, k->name, msg);
	else if (ld->src[i] == SRC_DEFAULT)
		config_error(ld, "[%s] %s: %s", k->section, k->name, msg);
	else
		config_error(ld, "%s: %s", ld->origin[i], msg);
}

void
config_set(struct config_loader *ld, const struct config_key *k, enum key_source src,
    const char *value, const char *origin)
{
	size_t	i = config_key_index(k);
	bool	again = ld->src[i] == src && src != SRC_DEFAULT;
	bool	list = k->type == KT_ENVLIST || k->type == KT_WORDLIST;
	char	err[512];

	if (src == SRC_FILE && ld->continuation && !list && k->type != KT_ARGV) {
		config_error(ld, "%s:%d: [%s] %s: an indented line continues the value "
		    "of the key above, but %s takes one value", ld->file, ld->line,
		    k->section, k->name, k->name);
		return;
	}
	if (src == SRC_FILE && again && !ld->continuation && !list) {
		config_error(ld, "%s:%d: [%s] %s: set twice (first at %s)", ld->file,
		    ld->line, k->section, k->name, ld->origin[i]);
		return;
	}
	if (!ld->continuation || src != SRC_FILE) {
		ld->src[i] = src;
		free(ld->origin[i]);
		ld->origin[i] = xstrdup(origin);
	}
	if (src != SRC_DEFAULT && strcmp(k->section, "emergency") == 0)
		ld->emergency_seen = true;
	if (config_value_set(ld->cfg, k, value, list ? again || src == SRC_DEFAULT :
	    ld->continuation && src == SRC_FILE, err, sizeof err) == -1) {
		if (src == SRC_FILE)
			config_error(ld, "%s:%d: [%s] %s: %s", ld->file, ld->line,
			    k->section, k->name, err);
		else
			config_error(ld, "%s: %s", origin, err);
	}
}

/* Resolve "user", "uid", "user:group" or "uid:gid" now, never inside the loop. */
static int
resolve_user(struct config *cfg, char *err, size_t len)
{
	char		*spec = xstrdup(cfg->user), *group = strchr(spec, ':');
	struct passwd	*pw;
	struct group	*gr;
	long		 id;
	int		 n = 16;

	if (group != NULL)
		*group++ = '\0';
	if (parse_int(spec, 0, INT32_MAX - 1, &id) == 0) {
		cfg->uid = (uid_t)id;
		pw = getpwuid(cfg->uid);
	} else if ((pw = getpwnam(spec)) != NULL)
		cfg->uid = pw->pw_uid;
	else {
		snprintf(err, len, "unknown user '%s'", spec);
		goto fail;
	}
	if (group != NULL && parse_int(group, 0, INT32_MAX - 1, &id) == 0)
		cfg->gid = (gid_t)id;
	else if (group != NULL && (gr = getgrnam(group)) != NULL)
		cfg->gid = gr->gr_gid;
	else if (group != NULL) {
		snprintf(err, len, "unknown group '%s'", group);
		goto fail;
	} else if (pw != NULL)
		cfg->gid = pw->pw_gid;
	else {
		snprintf(err, len, "uid %s has no passwd entry: give uid:gid", spec);
		goto fail;
	}
	if (pw == NULL) {	/* no name to look groups up by: just the group */
		cfg->groups = xcalloc(1, sizeof *cfg->groups);
		cfg->groups[0] = cfg->gid;
		cfg->ngroups = 1;
	} else {
		for (;;) {
			int want = n;

			cfg->groups = xreallocarray(cfg->groups, (size_t)n, sizeof *cfg->groups);
			if (getgrouplist(pw->pw_name, cfg->gid, cfg->groups, &want) != -1) {
				cfg->ngroups = want;
				break;
			}
			n = want > n ? want : n * 2;
		}
	}
	cfg->has_user = true;
	free(spec);
	return 0;
fail:
	free(spec);
	return -1;
}

/* The checks that involve more than one key, and the values derived from others. */
static void
config_finish(struct config_loader *ld, const struct options *o)
{
	struct config	*cfg = ld->cfg;
	const char	*why;
	struct stat	 st;
	char		 err[512], a[32], b[32];
	size_t		 i;

	if (o->words != NULL) {
		argv_free(cfg->command);
		cfg->command = xcalloc(argv_len(o->words) + 1, sizeof *cfg->command);
		for (i = 0; o->words[i] != NULL; i++)
			cfg->command[i] = xstrdup(o->words[i]);
	}
	cfg->emergency = ld->emergency_seen;
	if (cfg->emergency_health_url == NULL && cfg->health_url != NULL)
		cfg->emergency_health_url = xstrdup(cfg->health_url);
	if (cfg->health_url != NULL)
		(void)parse_http_url(cfg->health_url, &cfg->health, &why);
	if (cfg->emergency_health_url != NULL)
		(void)parse_http_url(cfg->emergency_health_url, &cfg->emergency_health, &why);
	if (cfg->listen_socket != NULL)
		(void)parse_listen(cfg->listen_socket, &cfg->listen, &why);
	if (cfg->status_listen != NULL)
		(void)parse_hostport(cfg->status_listen, &cfg->status, &why);

	if (cfg->backoff_max < cfg->backoff) {
		format_duration(cfg->backoff_max, a, sizeof a);
		format_duration(cfg->backoff, b, sizeof b);
		key_error(ld, config_key_find("restart", "backoff_max"),
		    "%s is less than backoff (%s)", a, b);
	}
	if (cfg->directory != NULL && stat(cfg->directory, &st) == -1)
		key_error(ld, config_key_find("program", "directory"), "%s: %s",
		    cfg->directory, strerror(errno));
	else if (cfg->directory != NULL && !S_ISDIR(st.st_mode))
		key_error(ld, config_key_find("program", "directory"), "%s: not a directory",
		    cfg->directory);
	if (cfg->user != NULL && resolve_user(cfg, err, sizeof err) == -1)
		key_error(ld, config_key_find("program", "user"), "%s", err);
}

void
config_defaults(struct config_loader *ld)
{
	size_t	i;

	for (i = 0; i < config_nkeys; i++)
		config_set(ld, &config_keys[i], SRC_DEFAULT, config_keys[i].def, "default");
	if (ld->errors != 0)
		fatalx("bad default in the key table");
}

void
config_loader_free(struct config_loader *ld)
{
	size_t	i;

	for (i = 0; i < config_nkeys; i++) {
		free(ld->origin[i]);
		ld->origin[i] = NULL;
	}
}

enum config_result
config_load(struct config *cfg, int argc, char **argv, char **envp, int *code)
{
	struct config_loader	ld;
	struct options		o;

	memset(cfg, 0, sizeof *cfg);
	memset(&ld, 0, sizeof ld);
	ld.cfg = cfg;
	if (options_parse(&o, argc, argv, code) == -1)
		return CONFIG_EXIT;

	config_defaults(&ld);
	if (o.config_file != NULL) {
		cfg->config_file = xstrdup(o.config_file);
		config_file_load(&ld, o.config_file);
	}
	options_apply_env(&ld, envp);
	options_apply_flags(&ld, &o);
	config_finish(&ld, &o);
	if (o.check_config && ld.errors == 0)
		config_check_reload(&ld, envp);
	cfg->check_config = o.check_config;
	cfg->dev = o.dev;
	config_loader_free(&ld);
	options_free(&o);

	if (ld.errors != 0) {
		*code = EXIT_CONFIG;
		goto done;
	}
	if (cfg->check_config) {
		config_print(cfg, stdout);
		*code = 0;
		if (fflush(stdout) == EOF || ferror(stdout)) {
			fprintf(stderr, "tend: writing the configuration: %s\n", strerror(errno));
			*code = 1;
		}
		goto done;
	}
	if (cfg->command == NULL) {
		fprintf(stderr, "tend: no command: give it after the options or as "
		    "[program] command\n");
		options_usage(stderr);
		*code = EXIT_USAGE;
		goto done;
	}
	*code = 0;
	return CONFIG_RUN;
done:
	config_free(cfg);
	return CONFIG_EXIT;
}

void
config_free(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < config_nkeys; i++)
		config_value_free(cfg, &config_keys[i]);
	free(cfg->groups);
	free(cfg->config_file);
	memset(cfg, 0, sizeof *cfg);
}
