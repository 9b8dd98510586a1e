/*
 * systemd's notification protocol (sd_notify): READY=1 after the child's first passing
 * probe, STATUS= on every state change, EXTEND_TIMEOUT_USEC while waiting and starting
 * before READY, WATCHDOG=1 every WATCHDOG_USEC/2 only while the child is proven healthy
 * (a probe passed within WATCHDOG_USEC; without a health url: the child is alive),
 * STOPPING=1 once tend is on its way out. MAINPID is never sent: the main pid is tend.
 * A no-op without NOTIFY_SOCKET, or when built without libsystemd.
 */
#ifndef TEND_NOTIFY_H
#define TEND_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct core;
struct ev_loop;

struct notify;	/* opaque */

/* Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID; c is read on every timer tick. */
struct notify *notify_new(struct ev_loop *, const struct core *c);
/* The core changed state; status is the human STATUS= text. */
void notify_change(struct notify *, const char *status);
bool notify_enabled(const struct notify *);
void notify_free(struct notify *);

#endif
