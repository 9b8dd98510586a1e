/*
 * Waiting for [startup] wait_for targets before a spawn. Every target is tried at once
 * and again after each failure (100 ms, doubling up to 2 s) until it answers once:
 * tcp:// when a connect succeeds, http:// when a GET gets 2xx or 3xx. Each try is a
 * probe (probe.c), so nothing blocks the loop and names are resolved afresh every time.
 * What is still missing is logged every 5 s; at the timeout the targets that never
 * answered are logged and the wait fails.
 */
#ifndef TEND_DEPS_H
#define TEND_DEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;

#define DEPS_RETRY_FIRST	100	/* ms after the first failure of a target */
#define DEPS_RETRY_MAX		2000	/* longest pause between two tries */
#define DEPS_TRY_TIMEOUT	3000	/* one try (lookup, connect, answer) */
#define DEPS_LOG_EVERY		5000	/* progress line period */

/* ready: every target answered; false: the timeout came first. From the loop only. */
typedef void (*deps_cb)(void *arg, bool ready);

struct deps;	/* opaque */

/* targets: n wait_for strings (validated by the config); timeout 0: wait for ever. */
struct deps *deps_new(struct ev_loop *, char *const *targets, size_t n, int64_t timeout);
/* Start (or restart) waiting; cb runs once, from the loop, never inside deps_start. */
void deps_start(struct deps *, deps_cb, void *arg);
/* Stop waiting without a callback. */
void deps_cancel(struct deps *);
void deps_free(struct deps *);

#endif
