/* Private to core.c and core_restart.c: the pieces both halves of the machine use. */
#ifndef TEND_CORE_RESTART_H
#define TEND_CORE_RESTART_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

/* core.c */
/* The action appended (NULL if the list was full: a bug). */
struct core_action *core_emit(struct core_actions *, enum core_action_type, enum core_mode,
    int signo, bool group, uint32_t seq, int code);
void core_set_state(struct core *, struct core_actions *, int64_t now, enum core_state);
void core_spawn(struct core *, struct core_actions *, int64_t now, enum core_mode,
    bool first);
void core_exit(struct core *, struct core_actions *, int64_t now, int code);

/* core_suspend.c */
void core_suspend(struct core *, struct core_actions *, int64_t now);
void core_resume(struct core *, struct core_actions *, int64_t now);

/* core_restart.c */
void core_kill_group(struct core *, struct core_actions *, int64_t now);
void core_send_stop(struct core *, struct core_actions *, int64_t now, int signo,
    bool group);
void core_finish_stop(struct core *, struct core_actions *, int64_t now);
void core_begin_stop(struct core *, struct core_actions *, int64_t now);
void core_fail(struct core *, struct core_actions *, int64_t now, enum core_cause,
    int arg);
void core_planned_stop(struct core *, struct core_actions *, int64_t now, enum core_cause,
    enum core_after);
double core_random(struct core *);
void core_operator(struct core *, struct core_actions *, const struct core_event *);
void core_window_add(struct core *, enum core_mode, int64_t now);
bool core_window_full(const struct core *, enum core_mode, int64_t now);
void core_window_clear(struct core *, enum core_mode);

#endif
