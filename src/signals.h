/*
 * Signals as loop events. Every catchable signal (1..31 but KILL and STOP, and the
 * real-time ones) is blocked and read from a signalfd, except those tend was started
 * with ignored: they stay ignored, for tend and its children.
 */
#ifndef TEND_SIGNALS_H
#define TEND_SIGNALS_H

#include <signal.h>
#include <sys/signalfd.h>

struct ev_loop;

typedef void (*signals_cb)(void *arg, const struct signalfd_siginfo *);

/* Block and watch; returns 0 or -1 (errno). */
int signals_setup(struct ev_loop *, signals_cb, void *arg);
/* The signal mask tend was started with, for the children. */
const sigset_t *signals_orig_mask(void);
/* Signals to be ignored again in the children (SIGCHLD, if it was ignored). */
const sigset_t *signals_ignored(void);
/* Stop tend's process group like a job stopped by the terminal's TSTP (not when it is
 * orphaned); returns when continued. */
void signals_stop_self(void);
void signals_teardown(struct ev_loop *);

#endif
