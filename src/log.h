/* tend's own log lines: always to stderr (stdout belongs to the child). */
#ifndef TEND_LOG_H
#define TEND_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "compat.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON };

void log_setup(enum log_level, enum log_format);
/* --dev: short text lines, coloured by level when color is set (stderr is a terminal). */
void log_set_dev(bool color);
/* Send whole lines to fn instead of write(2) on stderr (NULL: back to stderr). */
void log_set_sink(void (*fn)(void *, const char *, size_t), void *arg);
void log_debug(const char *, ...) TEND_PRINTF(1, 2);
void log_info(const char *, ...) TEND_PRINTF(1, 2);
void log_warn(const char *, ...) TEND_PRINTF(1, 2);	/* appends strerror(errno) */
void log_warnx(const char *, ...) TEND_PRINTF(1, 2);
void log_error(const char *, ...) TEND_PRINTF(1, 2);	/* appends strerror(errno) */
void log_errorx(const char *, ...) TEND_PRINTF(1, 2);
void fatal(const char *, ...) TEND_PRINTF(1, 2) TEND_NORETURN;	/* exit 1 */
void fatalx(const char *, ...) TEND_PRINTF(1, 2) TEND_NORETURN;

/* One structured event: msg plus key=value pairs (NULL-terminated list of key, value). */
void log_event(enum log_level, const char *msg, ...);
/* The same with an array of n strings (key, value, key, value, ...). */
void log_eventv(enum log_level, const char *msg, const char *const *kv, size_t n);

#endif
