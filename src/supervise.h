/*
 * The adapter between the pure core and the world: it runs the libev loop, turns
 * signals, reaped children, probe results and timers into core events, and carries out
 * the core's actions (spawn, kill, probe, exit).
 */
#ifndef TEND_SUPERVISE_H
#define TEND_SUPERVISE_H

#include "config.h"

/* Run the configured command until tend is done; returns tend's exit code. */
int supervise_run(const struct config *);

#endif
