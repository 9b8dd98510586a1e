/*
 * The INI file: read with inih through our own line reader, which counts lines (inih's
 * handler gets no line number), refuses lines longer than inih's buffer instead of
 * letting inih split them, and sees every line, so empty sections and syntax errors are
 * reported with their line too. Also --check-config's printer and its reload check.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "options.h"
#include "reload.h"
#include "xmalloc.h"

struct reader {
	struct config_loader	*ld;
	FILE			*fp;
	bool			 prev_name;	/* inih's: a key since the last [section] */
};

static const char *const sections[] = {
	"program", "startup", "health", "restart", "reload_loop", "emergency", "listen",
	"status", "log",
};

/* inih's scan: stop at one of chars or at an inline ';' comment after whitespace. */
static const char *
find_chars_or_comment(const char *s, const char *chars)
{
	int	was_space = 0;

	while (*s != '\0' && strchr(chars, *s) == NULL && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static bool
known_section(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(sections); i++) {
		if (strcmp(sections[i], name) == 0)
			return true;
	}
	return false;
}

/*
 * Classify a line the way inih will (comment, continuation, section, key or error),
 * so the handler knows what it is looking at and errors get their line number.
 */
static void
classify(struct reader *r, const char *line)
{
	struct config_loader	*ld = r->ld;
	const char		*start = line, *end;
	size_t			 n;

	ld->continuation = false;
	if (ld->line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0)
		start += 3;
	while (isspace((unsigned char)*start))
		start++;
	n = strlen(start);
	while (n > 0 && isspace((unsigned char)start[n - 1]))
		n--;
	if (n == 0 || *start == ';' || *start == '#')
		return;
	if (r->prev_name && start > line) {
		ld->continuation = true;
		return;
	}
	if (*start == '[') {
		char name[64];

		end = find_chars_or_comment(start + 1, "]");
		if (*end != ']') {
			config_error(ld, "%s:%d: missing ']' after the section name", ld->file,
			    ld->line);
			return;
		}
		r->prev_name = false;
		snprintf(name, sizeof name, "%.*s", (int)(end - start - 1), start + 1);
		ld->bad_section = !known_section(name);
		if (ld->bad_section)
			config_error(ld, "%s:%d: unknown section [%s]", ld->file, ld->line,
			    name);
		if (strcmp(name, "emergency") == 0)
			ld->emergency_seen = true;
		return;
	}
	end = find_chars_or_comment(start, "=:");
	if (*end == '\0' || *end == ';')
		config_error(ld, "%s:%d: expected 'key = value' or '[section]'", ld->file,
		    ld->line);
	else
		r->prev_name = true;
}

/* fgets for inih: one whole line per call, or an empty one if it does not fit. */
static char *
reader_gets(char *str, int num, void *arg)
{
	struct reader		*r = arg;
	struct config_loader	*ld = r->ld;
	size_t			 max = num > 3 ? (size_t)num - 3 : 0;
	size_t			 len = 0;
	bool			 nul = false;
	int			 c = EOF, last = EOF;

	while ((c = getc(r->fp)) != EOF && c != '\n') {
		if (len < max + 1)
			str[len] = (char)c;
		nul |= c == '\0';
		last = c;
		len++;
	}
	if (c == EOF && len == 0)
		return NULL;
	if (last == '\r')
		len--;
	ld->line++;
	if (len > max || nul) {
		if (nul)
			config_error(ld, "%s:%d: NUL byte in the line", ld->file, ld->line);
		else
			config_error(ld, "%s:%d: line too long (%zu characters, at most %zu)",
			    ld->file, ld->line, len, max);
		ld->continuation = false;
		strcpy(str, "\n");
		return str;
	}
	str[len] = '\n';
	str[len + 1] = '\0';
	classify(r, str);
	return str;
}

/* A hint for an unknown key: the dash/underscore spelling or the right section. */
static const char *
key_hint(const char *section, const char *name, char *buf, size_t len)
{
	char	alt[64];
	size_t	i;

	snprintf(alt, sizeof alt, "%s", name);
	for (i = 0; alt[i] != '\0'; i++)
		alt[i] = alt[i] == '-' ? '_' : (char)tolower((unsigned char)alt[i]);
	if (strcmp(alt, name) != 0 && config_key_find(section, alt) != NULL) {
		snprintf(buf, len, " (did you mean %s?)", alt);
		return buf;
	}
	for (i = 0; i < config_nkeys; i++) {
		if (strcmp(config_keys[i].name, alt) == 0) {
			snprintf(buf, len, " (%s belongs in [%s])", alt, config_keys[i].section);
			return buf;
		}
	}
	return "";
}

static int
handler(void *arg, const char *section, const char *name, const char *value)
{
	struct reader		*r = arg;
	struct config_loader	*ld = r->ld;
	const struct config_key	*k;
	char			 origin[1024], hint[96];

	if (ld->bad_section)
		return 1;
	if (*section == '\0') {
		if (!ld->continuation)
			config_error(ld, "%s:%d: key '%s' before any [section]", ld->file,
			    ld->line, name);
		return 1;
	}
	if ((k = config_key_find(section, name)) == NULL) {
		if (!ld->continuation)
			config_error(ld, "%s:%d: unknown key '%s' in section [%s]%s",
			    ld->file, ld->line, name, section,
			    key_hint(section, name, hint, sizeof hint));
		return 1;
	}
	snprintf(origin, sizeof origin, "%s:%d", ld->file, ld->line);
	config_set(ld, k, SRC_FILE, value, origin);
	return 1;
}

void
config_file_read(struct config_loader *ld, FILE *fp, const char *name)
{
	struct reader	r = { .ld = ld, .fp = fp };
	int		before = ld->errors;
	int		ret;

	ld->file = name;
	ld->line = 0;
	ld->bad_section = false;
	ret = ini_parse_stream(reader_gets, &r, handler, &r);
	if (ferror(fp))
		config_error(ld, "%s: read error: %s", name, strerror(errno));
	else if (ret == -2)
		config_error(ld, "%s: out of memory", name);
	else if (ret != 0 && ld->errors == before)
		config_error(ld, "%s:%d: syntax error", name, ret);
	ld->file = NULL;
	ld->continuation = false;
	ld->bad_section = false;
}

void
config_file_load(struct config_loader *ld, const char *path)
{
	FILE	*fp;

	if ((fp = fopen(path, "re")) == NULL) {
		config_error(ld, "cannot read %s: %s", path, strerror(errno));
		return;
	}
	config_file_read(ld, fp, path);
	fclose(fp);
}

/* A command word that parse_argv gives back unchanged and inih does not cut. */
static void
print_word(const char *w, FILE *fp)
{
	if (*w == '\0')
		fputs("''", fp);
	for (; *w != '\0'; w++) {
		if (!isalnum((unsigned char)*w) && strchr("_@%+=:,./-{}", *w) == NULL)
			fputc('\\', fp);
		fputc(*w, fp);
	}
}

static void
print_key(const struct config *cfg, const struct config_key *k, const char *pfx,
    FILE *fp)
{
	const void		*field = (const char *)cfg + k->off;
	const struct key_name	*n;
	const struct strlist	*l;
	const struct status_ranges *st;
	char			 buf[32];
	char *const		*argv;
	size_t			 i;
	int			 v;

	switch (k->type) {
	case KT_ENVLIST:
	case KT_WORDLIST:
		l = field;
		for (i = 0; i < l->n; i++)
			fprintf(fp, "%s%s = %s\n", pfx, k->name, l->v[i]);
		if (l->n == 0)
			fprintf(fp, "%s%s =\n", pfx, k->name);
		return;
	default:
		break;
	}
	fprintf(fp, "%s%s =", pfx, k->name);
	switch (k->type) {
	case KT_STRING:
	case KT_REGEX:
		if (*(char *const *)field != NULL)
			fprintf(fp, " %s", *(char *const *)field);
		break;
	case KT_ARGV:
		argv = *(char **const *)field;
		for (i = 0; argv != NULL && argv[i] != NULL; i++) {
			fputc(' ', fp);
			print_word(argv[i], fp);
		}
		break;
	case KT_DURATION:
		format_duration(*(const int64_t *)field, buf, sizeof buf);
		fprintf(fp, " %s", buf);
		break;
	case KT_SIGNAL:
		if (*(const int *)field != 0)
			fprintf(fp, " %s", signal_name(*(const int *)field));
		break;
	case KT_BOOL:
		fprintf(fp, " %s", *(const bool *)field ? "yes" : "no");
		break;
	case KT_INT:
		fprintf(fp, " %d", *(const int *)field);
		break;
	case KT_ENUM:
		v = *(const int *)field;
		for (n = k->names; n->name != NULL && n->value != v; n++)
			;
		fprintf(fp, " %s", n->name != NULL ? n->name : "?");
		break;
	case KT_STATUS:
		st = field;
		for (v = 0; v < st->n; v++) {
			fprintf(fp, "%s%d", v == 0 ? " " : ",", st->lo[v]);
			if (st->hi[v] != st->lo[v])
				fprintf(fp, "-%d", st->hi[v]);
		}
		break;
	default:
		break;
	}
	fputc('\n', fp);
}

void
config_print(const struct config *cfg, FILE *fp)
{
	const char	*section = NULL;
	const char	*pfx = "";
	size_t		 i;

	fprintf(fp, "; tend: effective configuration%s%s\n",
	    cfg->config_file != NULL ? " from " : "",
	    cfg->config_file != NULL ? cfg->config_file : "");
	for (i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_keys[i];

		if (section == NULL || strcmp(section, k->section) != 0) {
			section = k->section;
			pfx = strcmp(section, "emergency") == 0 && !cfg->emergency ? "; " : "";
			fputc('\n', fp);
			if (*pfx != '\0')
				fprintf(fp, "; emergency mode is off: no [emergency] section\n");
			fprintf(fp, "%s[%s]\n", pfx, section);
		}
		print_key(cfg, k, pfx, fp);
	}
}

/* The last UVICORN_RELOAD entry of l, or v: later entries win, as in the child's env. */
static char *
reload_var(const struct strlist *l, char *v)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strncmp(l->v[i], "UVICORN_RELOAD=", 15) == 0)
			v = l->v[i];
	return v;
}

/*
 * --check-config: the reload guard tend runs at start (launch.c), so a command it would
 * refuse with 78 fails the check too, instead of passing it.
 */
void
config_check_reload(struct config_loader *ld, char **envp)
{
	struct config	*cfg = ld->cfg;
	char		*env[2] = { NULL, NULL }, **cmd, **out, msg[1024];
	size_t		 i;
	int		 m;

	for (i = 0; envp != NULL && envp[i] != NULL; i++)
		if (strncmp(envp[i], "UVICORN_RELOAD=", 15) == 0)
			env[0] = envp[i];
	env[0] = reload_var(&cfg->environment, env[0]);
	for (m = 0; m < (cfg->emergency ? 2 : 1); m++) {
		cmd = cfg->command;
		if (m == 1) {
			env[0] = reload_var(&cfg->emergency_environment, env[0]);
			if (cfg->emergency_command != NULL)
				cmd = cfg->emergency_command;
		}
		if (cmd == NULL)
			continue;
		out = NULL;
		if (reload_guard(cmd, env, cfg->reload, &out, msg, sizeof msg) < 0) {
			config_error(ld, "%s%s", m == 1 ? "[emergency] " : "", msg);
			return;
		}
		argv_free(out);
	}
}
