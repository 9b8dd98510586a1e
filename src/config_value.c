/*
 * Values of the key table's types: parse a text into its field of struct config (or
 * add to a list), free it. Every failure leaves a message naming the value and why.
 */
#include "autoconf.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "options.h"
#include "xmalloc.h"

/* value, shortened and with control characters replaced, for messages. */
static const char *
config_quote(const char *s, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (unsigned char)s[i] < ' ' || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	if (s[i] != '\0' && len > 4)
		strcpy(buf + len - 4, "...");
	return buf;
}

static void
strlist_add(struct strlist *l, const char *s, size_t n)
{
	l->v = xreallocarray(l->v, l->n + 2, sizeof *l->v);
	l->v[l->n++] = xstrndup(s, n);
	l->v[l->n] = NULL;
}

static void
strlist_clear(struct strlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Add the KEY=VALUE entries of s, one per line. */
static int
set_envlist(struct strlist *l, const char *s, char *err, size_t len)
{
	char	q[80];

	while (*s != '\0') {
		size_t		 n = strcspn(s, "\n");
		const char	*eq = memchr(s, '=', n);

		if (n > 0 && (eq == NULL || eq == s || strcspn(s, " \t") < (size_t)(eq - s))) {
			char *entry = xstrndup(s, n);

			snprintf(err, len, "bad environment entry '%s' (expected KEY=VALUE)",
			    config_quote(entry, q, sizeof q));
			free(entry);
			return -1;
		}
		if (n > 0)
			strlist_add(l, s, n);
		s += n + (s[n] == '\n');
	}
	return 0;
}

/* Add the whitespace-separated wait_for targets of s. */
static int
set_wordlist(struct strlist *l, const char *s, char *err, size_t len)
{
	struct url	 u;
	const char	*why;
	char		 q[80];

	for (;;) {
		size_t	n;
		char	*word;

		s += strspn(s, " \t\r\n");
		if (*s == '\0')
			return 0;
		n = strcspn(s, " \t\r\n");
		word = xstrndup(s, n);
		if (parse_target(word, &u, &why) == -1) {
			snprintf(err, len, "bad target '%s' (%s)",
			    config_quote(word, q, sizeof q), why);
			free(word);
			return -1;
		}
		strlist_add(l, s, n);
		free(word);
		s += n;
	}
}

/* Split a command; with append, its words go after the ones already there. */
static int
set_argv(char ***field, const char *s, bool append, char *err, size_t len)
{
	const char	 *why;
	char		**argv, **old = *field;
	size_t		  n, m, i;

	if ((argv = parse_argv(s, &why)) == NULL) {
		snprintf(err, len, "bad command (%s)", why);
		return -1;
	}
	if (append && old != NULL) {
		n = argv_len(old);
		m = argv_len(argv);
		old = xreallocarray(old, n + m + 1, sizeof *old);
		for (i = 0; i <= m; i++)
			old[n + i] = argv[i];
		free(argv);
		*field = old;
		return 0;
	}
	argv_free(old);
	*field = NULL;
	if (argv[0] == NULL)
		argv_free(argv);
	else
		*field = argv;
	return 0;
}

bool
config_name_is_alias(const struct key_name *names, const struct key_name *n)
{
	const struct key_name *m;

	for (m = names; m != n; m++) {
		if (m->value == n->value)
			return true;
	}
	return false;
}

static int
set_enum(const struct config_key *k, int *field, const char *s, char *err, size_t len)
{
	const struct key_name	*n;
	size_t			 off = 0;
	char			 q[80];

	for (n = k->names; n->name != NULL; n++) {
		if (strcasecmp(s, n->name) == 0) {
			*field = n->value;
			return 0;
		}
	}
	off = (size_t)snprintf(err, len, "bad value '%s' (one of:",
	    config_quote(s, q, sizeof q));
	for (n = k->names; n->name != NULL && off < len; n++) {
		if (!config_name_is_alias(k->names, n))
			off += (size_t)snprintf(err + off, len - off, " %s", n->name);
	}
	if (off < len)
		snprintf(err + off, len - off, ")");
	return -1;
}

int
config_value_set(struct config *cfg, const struct config_key *k, const char *s,
    bool append, char *err, size_t len)
{
	void		*field = (char *)cfg + k->off;
	const char	*why;
	char		 q[80];
	struct url	 u;
	regex_t		 re;
	int64_t		 ms;
	long		 n;
	int		 r;

	config_quote(s, q, sizeof q);
	switch (k->type) {
	case KT_STRING:
		if (*s != '\0' && k->check != NULL && k->check(s, &u, &why) == -1) {
			snprintf(err, len, "bad %s '%s' (%s)",
			    k->check == parse_http_url ? "URL" : "address", q, why);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = *s != '\0' ? xstrdup(s) : NULL;
		return 0;
	case KT_REGEX:
		if (*s == '\0') {
			snprintf(err, len, "empty pattern");
			return -1;
		}
		if (parse_regex_check(s, &why) == -1) {
			snprintf(err, len, "bad regular expression '%s': %s", q, why);
			return -1;
		}
		if ((r = regcomp(&re, s, REG_EXTENDED | REG_NOSUB)) != 0) {
			char msg[128];

			regerror(r, &re, msg, sizeof msg);
			snprintf(err, len, "bad regular expression '%s': %s", q, msg);
			return -1;
		}
		regfree(&re);
		free(*(char **)field);
		*(char **)field = xstrdup(s);
		return 0;
	case KT_ARGV:
		return set_argv(field, s, append, err, len);
	case KT_DURATION:
		if (parse_duration(s, &ms, &why) == -1) {
			snprintf(err, len, "bad duration '%s' (%s)", q, why);
			return -1;
		}
		if (ms == 0 && (k->flags & KEY_NONZERO)) {
			snprintf(err, len, "must be more than 0");
			return -1;
		}
		*(int64_t *)field = ms;
		return 0;
	case KT_SIGNAL:
		if (*s == '\0' && (k->flags & KEY_OPTIONAL)) {
			*(int *)field = 0;
			return 0;
		}
		if ((r = parse_signal(s)) == -1) {
			snprintf(err, len, "bad signal '%s' (a name like TERM or SIGTERM, "
			    "a number, RTMIN+n or RTMAX-n)", q);
			return -1;
		}
		*(int *)field = r;
		return 0;
	case KT_BOOL:
		if ((r = parse_bool(s)) == -1) {
			snprintf(err, len, "bad boolean '%s' (yes or no)", q);
			return -1;
		}
		*(bool *)field = r;
		return 0;
	case KT_INT:
		if (parse_int(s, k->min, k->max, &n) == -1) {
			snprintf(err, len, "bad number '%s' (%ld to %ld)", q, k->min, k->max);
			return -1;
		}
		*(int *)field = (int)n;
		return 0;
	case KT_ENUM:
		return set_enum(k, field, s, err, len);
	case KT_STATUS:
		if (parse_status_ranges(s, field, &why) == -1) {
			snprintf(err, len, "bad status codes '%s' (%s)", q, why);
			return -1;
		}
		return 0;
	case KT_ENVLIST:
		if (!append)
			strlist_clear(field);
		return set_envlist(field, s, err, len);
	case KT_WORDLIST:
		if (!append)
			strlist_clear(field);
		return set_wordlist(field, s, err, len);
	}
	return -1;
}

void
config_value_free(struct config *cfg, const struct config_key *k)
{
	void *field = (char *)cfg + k->off;

	switch (k->type) {
	case KT_STRING:
	case KT_REGEX:
		free(*(char **)field);
		*(char **)field = NULL;
		break;
	case KT_ARGV:
		argv_free(*(char ***)field);
		*(char ***)field = NULL;
		break;
	case KT_ENVLIST:
	case KT_WORDLIST:
		strlist_clear(field);
		break;
	default:
		break;
	}
}
