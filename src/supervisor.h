/*
 * The supervisor's state, shared by its two halves: supervise.c (the loop, the core's
 * events and actions, probes, output, status) and supervise_child.c (the child's life:
 * spawn, kill, reap, what is left of it after it exits). Internal to them.
 */
#ifndef TEND_SUPERVISOR_H
#define TEND_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "config.h"
#include "core.h"
#include "launch.h"
#include "listen.h"

#define SUPERVISE_QUEUE_MAX 8

struct supervisor {
	const struct config	*cfg;
	struct ev_loop		*loop;
	struct core		 core;
	ev_timer		 deadline;	/* the core's next deadline */
	ev_timer		 group_poll;	/* group members that are not our children */
	struct probe		*probe;
	struct status		*status;	/* endpoint, control socket, sd_notify */
	struct output		*out;		/* the children's stdout and stderr */
	struct reload_watch	*watch;		/* reload-loop detector on their lines */
	ev_timer		 drain;		/* bound on the output drain at exit */
	struct launch		 launch;	/* argv and environment per mode */
	struct listener		 listen;	/* [listen] socket, held across restarts */
	struct deps		*deps;		/* wait_for, made on the first wait */
	bool			 foreground;
	bool			 job_control;	/* on a terminal: Ctrl-Z suspends */
	pid_t			 pid;		/* main child */
	pid_t			 pgid;		/* its process group, kept after it exits */
	int			 errfd;
	const char		*argv0;		/* of the main child, for messages */
	uint32_t		 probe_seq;	/* of the probe under way */
	bool			 reaped_main;
	int			 main_status;
	unsigned long		 orphans;	/* reaped processes other than the main child */
	int			 exit_code;
	bool			 done;
	struct core_event	 queue[SUPERVISE_QUEUE_MAX];
	int			 nqueue;
};


/* supervise.c */
/* A core event of this type, stamped now. */
struct core_event supervise_event(enum core_event_type);
/* Hand ev to the core, then the events its actions queued; re-arm the timers. */
void supervise_feed(struct supervisor *, struct core_event *);
/* Queue an event caused by an action (fed after the current one, not recursively). */
void supervise_queue(struct supervisor *, const struct core_event *);

/* supervise_child.c */
/* ACT_SPAWN: fork and exec the command of mode; queues CE_SPAWNED or CE_SPAWN_FAILED. */
void supervise_spawn(struct supervisor *, enum core_mode);
/* ACT_KILL: the signal to the child or its group, and to the strays in a stop. */
void supervise_kill(struct supervisor *, const struct core_action *);
/* SIGCHLD: reap every child; the main child's exit becomes CE_EXITED. */
void supervise_reap(struct supervisor *);
/* Ctrl-Z: stop the child's group and tend; on fg/bg continue both (job_control). */
void supervise_suspend(struct supervisor *);
/* fg: the terminal back to the child when tend's group has it (foreground). */
void supervise_give_terminal(struct supervisor *);
/* While stopping with the main child gone: CE_GROUP_GONE once nothing is left. */
void supervise_check_group(struct supervisor *);
void supervise_group_poll_cb(struct ev_loop *, ev_timer *, int);

#endif
