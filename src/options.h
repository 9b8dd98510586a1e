/*
 * Inside the configuration module: the key table and the loader that config.c (keys,
 * precedence, validation), config_value.c (typed values), config_file.c (the INI file)
 * and options.c (flags, environment) share; the unit tests and the fuzzer use it too.
 * Nothing else in tend needs it.
 */
#ifndef TEND_OPTIONS_H
#define TEND_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* Where a value came from; a higher source wins, key by key. */
enum key_source { SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_FLAG };

enum key_type {
	KT_STRING,	/* optional text; empty = none */
	KT_ARGV,	/* a command line, split with parse_argv; empty = none */
	KT_DURATION,
	KT_SIGNAL,	/* KEY_OPTIONAL: empty = none (0) */
	KT_BOOL,
	KT_INT,		/* min..max */
	KT_ENUM,	/* one of names[] */
	KT_STATUS,	/* HTTP status ranges */
	KT_REGEX,	/* POSIX ERE */
	KT_ENVLIST,	/* KEY=VALUE entries, one per value (newline-separated) */
	KT_WORDLIST,	/* whitespace-separated targets */
};

#define KEY_OPTIONAL	0x1	/* empty value means none */
#define KEY_NONZERO	0x2	/* durations: 0 is refused */

struct key_name {
	const char	*name;
	int		 value;
};

struct config_key {
	const char		*section;
	const char		*name;
	enum key_type		 type;
	size_t			 off;	/* the field in struct config */
	const char		*def;	/* default, as text */
	const char		*help;
	int			 flags;
	long			 min, max;	/* KT_INT */
	const struct key_name	*names;		/* KT_ENUM, NULL-terminated */
	int			(*check)(const char *, struct url *, const char **);
	const char		*meta;		/* the value in --help: URL, PATH ... */
};

extern const struct config_key	config_keys[];
extern const size_t		config_nkeys;

#define CONFIG_MAX_KEYS 64

/* The state of one config_load(): where each key's value came from, and the errors. */
struct config_loader {
	struct config	*cfg;
	int		 errors;
	enum key_source	 src[CONFIG_MAX_KEYS];
	char		*origin[CONFIG_MAX_KEYS];	/* "FILE:LINE", "TEND_X", "--x" */
	bool		 emergency_seen;		/* [emergency] or one of its keys */

	/* While reading the INI file (config_file.c). */
	const char	*file;
	int		 line;
	bool		 continuation;	/* the current line continues the previous key */
	bool		 bad_section;	/* keys of an unknown section are not reported again */
};

/* Start a load: every key at its default. */
void config_defaults(struct config_loader *);
void config_loader_free(struct config_loader *);
const struct config_key *config_key_find(const char *section, const char *name);
/* Whether n is a second spelling of a value named earlier in names. */
bool config_name_is_alias(const struct key_name *names, const struct key_name *n);
/* Apply one value from src; errors are reported and counted in the loader. */
void config_set(struct config_loader *, const struct config_key *, enum key_source,
    const char *value, const char *origin);
void config_error(struct config_loader *, const char *, ...) TEND_PRINTF(2, 3);

/* config_value.c: parse s into k's field (append: add to a list or command). */
int config_value_set(struct config *, const struct config_key *, const char *s,
    bool append, char *err, size_t len);
void config_value_free(struct config *, const struct config_key *);

/* config_file.c */
void config_file_read(struct config_loader *, FILE *, const char *name);
void config_file_load(struct config_loader *, const char *path);
/* --check-config: the reload guard tend would run at start, for both modes (78). */
void config_check_reload(struct config_loader *, char **envp);

/* options.c: the command line, parsed before anything else is applied. */
struct flag_value {
	const struct config_key	*key;
	const char		*value;
	char			*flag;	/* as typed, for messages */
};
struct options {
	struct flag_value	*flags;
	size_t			 nflags;
	char			**words;	/* the command after the options, or NULL */
	const char		*config_file;
	bool			 check_config;
	bool			 dev;		/* --dev: local development presets */
};
/* Returns -1 and sets *code (0 for --help/--version, 2 for usage errors) to stop. */
int options_parse(struct options *, int argc, char **argv, int *code);
void options_apply_flags(struct config_loader *, const struct options *);
void options_apply_env(struct config_loader *, char **envp);
void options_free(struct options *);
void options_usage(FILE *);
bool options_no_value(const char *name);	/* "dev", "help", ... (no dashes) */

#endif
