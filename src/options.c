/*
 * The command line and the TEND_* environment. Flags are collected first (-c names the
 * file to read) and applied last, since they win. Parsing stops at the first word that
 * is not an option, so "tend uvicorn app:app --port 8000" runs uvicorn with its flags;
 * argv is never permuted.
 */
#include "autoconf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "options.h"
#include "xmalloc.h"

/* "section-key" (or "key" for the short [program] form) into buf. */
static void
flag_name(const struct config_key *k, bool with_section, char *buf, size_t len)
{
	size_t	i;

	if (with_section)
		snprintf(buf, len, "%s-%s", k->section, k->name);
	else
		snprintf(buf, len, "%s", k->name);
	for (i = 0; buf[i] != '\0'; i++) {
		if (buf[i] == '_')
			buf[i] = '-';
	}
}

/* Whether k has the short --KEY form: [program] keys except command. */
static bool
has_short_flag(const struct config_key *k)
{
	return strcmp(k->section, "program") == 0 && strcmp(k->name, "command") != 0;
}

/* The key named by a long flag s[0..n) (without the dashes), or NULL. */
static const struct config_key *
flag_find(const char *s, size_t n)
{
	char	name[96];
	size_t	i;

	/* --listen is what users type for the socket to hand to every child. */
	if (n == 6 && strncmp(s, "listen", n) == 0)
		return config_key_find("listen", "socket");
	for (i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_keys[i];

		flag_name(k, true, name, sizeof name);
		if (strlen(name) == n && strncmp(name, s, n) == 0)
			return k;
		flag_name(k, false, name, sizeof name);
		if (has_short_flag(k) && strlen(name) == n && strncmp(name, s, n) == 0)
			return k;
	}
	return NULL;
}

/* "TEND_SECTION_KEY" for k. */
static void
env_name(const struct config_key *k, char *buf, size_t len)
{
	size_t	i;

	snprintf(buf, len, "TEND_%s_%s", k->section, k->name);
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
}

/* The placeholder for k's value in --help. */
static const char *
options_meta(const struct config_key *k)
{
	static char	buf[64];
	size_t		off = 0;
	const struct key_name *n;

	if (k->meta != NULL)
		return k->meta;
	switch (k->type) {
	case KT_ARGV:		return "COMMAND";
	case KT_DURATION:	return "DURATION";
	case KT_SIGNAL:		return "SIGNAL";
	case KT_BOOL:		return "yes|no";
	case KT_INT:		return "N";
	case KT_STATUS:		return "CODES";
	case KT_REGEX:		return "REGEX";
	case KT_ENVLIST:	return "KEY=VALUE";
	case KT_WORDLIST:	return "TARGET";
	case KT_ENUM:
		for (n = k->names; n->name != NULL && off < sizeof buf; n++) {
			if (!config_name_is_alias(k->names, n))
				off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s",
				    off ? "|" : "", n->name);
		}
		return buf;
	default:
		return "VALUE";
	}
}

void
options_usage(FILE *fp)
{
	fprintf(fp, "usage: tend [OPTIONS] [--] COMMAND [ARG...]\n"
	    "Try 'tend --help' for more information.\n");
}

/* "  --flag META   text", with text wrapped into a column of its own. */
static void
help_entry(FILE *fp, const char *flag, const char *text)
{
	const int	col = 32, width = 79;
	int		pos;

	pos = fprintf(fp, "  %s", flag);
	if (pos > col - 2) {		/* a long flag gets a line of its own */
		fputc('\n', fp);
		pos = 0;
	}
	while (*text != '\0') {
		size_t	n = strcspn(text, " ");

		if (pos >= col && pos + 1 + (int)n > width) {
			fputc('\n', fp);
			pos = 0;
		}
		if (pos < col)
			pos += fprintf(fp, "%*s", col - pos, "");
		else
			pos += fprintf(fp, " ");
		pos += fprintf(fp, "%.*s", (int)n, text);
		text += n;
		text += strspn(text, " ");
	}
	fputc('\n', fp);
}

/* --help: the general options, then every key's flag, generated from the key table. */
static void
help(FILE *fp)
{
	const char	*section = NULL;
	char		 name[96], flag[192], text[256];
	size_t		 i;

	fprintf(fp,
	    "Usage: tend [OPTIONS] [--] COMMAND [ARG...]\n"
	    "       tend [OPTIONS] -c FILE\n"
	    "       tend --check-config [-c FILE] [OPTIONS]\n"
	    "       tend [-c FILE] [--status-control PATH] status [--json | --check]\n"
	    "       tend [-c FILE] [--status-control PATH] restart | emergency on|off\n"
	    "\n"
	    "Run COMMAND as a supervised child: forward signals, reap zombies, probe its\n"
	    "health, restart it. Options stop at the first word that is not one.\n"
	    "\n"
	    "Commands for a running tend, sent over its control socket ([status] control):\n"
	    "  status                    state, mode, child, restarts, last failure, probes\n"
	    "  status --json             the same as JSON (the /status document)\n"
	    "  status --check            exit 0 if the child is healthy, else 1\n"
	    "  restart                   stop the child and start it again (cause operator)\n"
	    "  emergency on              restart in emergency mode and stay there until off\n"
	    "  emergency off             try normal mode now (also after a crash loop)\n"
	    "The socket is --status-control PATH, else $TEND_STATUS_CONTROL, else [status]\n"
	    "control in -c FILE, else /run/tend.sock. 'tend -- status' runs a program.\n"
	    "\n"
	    "  -c, --config FILE         read settings from FILE (see tend.ini(5))\n"
	    "      --check-config        validate, print the effective settings, exit\n"
	    "      --dev                 local development: --reload allow (still watched),\n"
	    "                            --log-prefix yes, short coloured tend lines; Ctrl-C\n"
	    "                            reaches tend, a second one kills at once\n"
	    "      --listen ADDRESS      same as --listen-socket: tcp://HOST:PORT, unix:PATH\n"
	    "      --no-subreaper        same as --subreaper=no\n"
	    "  -h, --help                print this help and exit\n"
	    "  -V, --version             print the version and exit\n"
	    "\n"
	    "Every key of the INI file is also a flag --SECTION-KEY VALUE (or =VALUE) and\n"
	    "an environment variable TEND_SECTION_KEY; [program] keys also work as --KEY.\n"
	    "Precedence: flag > environment > file > default. Durations need a unit:\n"
	    "250ms, 15s, 2m, 1h, 1m30s. List keys take the flag more than once.\n"
	    "Any [emergency] setting turns emergency mode on.\n");
	for (i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_keys[i];

		if (section == NULL || strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(fp, "\n[%s]\n", section);
		}
		flag_name(k, !has_short_flag(k), name, sizeof name);
		snprintf(flag, sizeof flag, "--%s %s", name, options_meta(k));
		if (*k->def != '\0' && k->type != KT_REGEX)
			snprintf(text, sizeof text, "%s [%s]", k->help, k->def);
		else
			snprintf(text, sizeof text, "%s", k->help);
		help_entry(fp, flag, text);
	}
	fprintf(fp, "\nExit codes: the child's (128+N for signal N), 2 bad command line, "
	    "78 bad\nconfiguration, 69 gave up, 126/127 command not executable/found.\n");
}

static int
usage_error(struct options *o, int *code, const char *msg, const char *arg)
{
	fprintf(stderr, "tend: %s '%s'\n", msg, arg);
	options_usage(stderr);
	options_free(o);
	*code = EXIT_USAGE;
	return -1;
}

static void
add_flag(struct options *o, const struct config_key *k, const char *value,
    const char *flag, size_t n)
{
	o->flags = xreallocarray(o->flags, o->nflags + 1, sizeof *o->flags);
	o->flags[o->nflags].key = k;
	o->flags[o->nflags].value = value;
	o->flags[o->nflags].flag = xstrndup(flag, n);
	o->nflags++;
}

/*
 * --dev: reload allowed (but watched) and child lines prefixed. Put before the other
 * flags, so an explicit --reload or --log-prefix still wins.
 */
static void
dev_presets(struct options *o)
{
	size_t			n = o->nflags;
	struct flag_value	dev[2];

	add_flag(o, config_key_find("program", "reload"), "allow", "--dev", 5);
	add_flag(o, config_key_find("log", "prefix"), "yes", "--dev", 5);
	memcpy(dev, o->flags + n, sizeof dev);
	memmove(o->flags + 2, o->flags, n * sizeof *o->flags);
	memcpy(o->flags, dev, sizeof dev);
}

/* Is --s one of tend's flags without a value (s without the dashes)? */
bool
options_no_value(const char *s)
{
	static const char *names[] = { "help", "version", "check-config", "no-subreaper",
	    "dev" };
	size_t i;

	for (i = 0; i < nitems(names); i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

/* The options that are not keys: 1 if s (no dashes, no value) is one, -1 to stop. */
static int
general_long(struct options *o, const char *s, int *code)
{
	if (strcmp(s, "help") == 0) {
		help(stdout);
		*code = 0;
		return -1;
	}
	if (strcmp(s, "version") == 0) {
		printf("tend %s\n", PACKAGE_VERSION);
		*code = 0;
		return -1;
	}
	if (strcmp(s, "check-config") == 0) {
		o->check_config = true;
		return 1;
	}
	if (strcmp(s, "dev") == 0) {
		o->dev = true;
		return 1;
	}
	if (strcmp(s, "no-subreaper") == 0) {
		add_flag(o, config_key_find("program", "subreaper"), "no", "--no-subreaper",
		    14);
		return 1;
	}
	return 0;
}

int
options_parse(struct options *o, int argc, char **argv, int *code)
{
	int	i;

	memset(o, 0, sizeof *o);
	for (i = 1; i < argc; i++) {
		const char		*a = argv[i], *name, *eq, *value;
		const struct config_key	*k = NULL;
		size_t			 n;
		char			 buf[128];
		int			 r;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (a[1] != '-') {
			if (strcmp(a, "-h") == 0 || strcmp(a, "-V") == 0) {
				general_long(o, a[1] == 'h' ? "help" : "version", code);
				options_free(o);
				return -1;
			}
			if (a[1] != 'c')
				return usage_error(o, code, "unknown option", a);
			if (a[2] == '\0' && i + 1 == argc)
				return usage_error(o, code, "missing value for", a);
			o->config_file = a[2] != '\0' ? a + 2 : argv[++i];
			continue;
		}
		name = a + 2;
		eq = strchr(name, '=');
		n = eq != NULL ? (size_t)(eq - name) : strlen(name);
		snprintf(buf, sizeof buf, "%.*s", (int)n, name);
		if (eq == NULL && (r = general_long(o, buf, code)) != 0) {
			if (r == -1) {
				options_free(o);
				return -1;
			}
			continue;
		}
		if (strcmp(buf, "config") != 0 && (k = flag_find(name, n)) == NULL)
			return usage_error(o, code, eq != NULL && options_no_value(buf) ?
			    "this option takes no value:" : "unknown option", a);
		if (eq != NULL)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return usage_error(o, code, "missing value for", a);
		if (k == NULL)
			o->config_file = value;
		else
			add_flag(o, k, value, a, 2 + n);
	}
	if (i < argc)
		o->words = &argv[i];
	if (o->dev)
		dev_presets(o);
	return 0;
}

void
options_apply_flags(struct config_loader *ld, const struct options *o)
{
	size_t	i;

	for (i = 0; i < o->nflags; i++)
		config_set(ld, o->flags[i].key, SRC_FLAG, o->flags[i].value, o->flags[i].flag);
}

void
options_apply_env(struct config_loader *ld, char **envp)
{
	char	name[96];
	size_t	i, j, n;

	for (i = 0; envp != NULL && envp[i] != NULL; i++) {
		const char *e = envp[i], *eq = strchr(e, '=');

		if (strncmp(e, "TEND_", 5) != 0 || eq == NULL)
			continue;
		n = (size_t)(eq - e);
		for (j = 0; j < config_nkeys; j++) {
			env_name(&config_keys[j], name, sizeof name);
			if (strlen(name) == n && strncmp(name, e, n) == 0)
				break;
		}
		if (j == config_nkeys) {
			config_error(ld, "%.*s: unknown variable (tend reads TEND_SECTION_KEY "
			    "for its keys: see tend --help)", (int)n, e);
			continue;
		}
		config_set(ld, &config_keys[j], SRC_ENV, eq + 1, name);
	}
}

void
options_free(struct options *o)
{
	size_t	i;

	for (i = 0; i < o->nflags; i++)
		free(o->flags[i].flag);
	free(o->flags);
	o->flags = NULL;
	o->nflags = 0;
}
