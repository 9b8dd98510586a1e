/* The log line of a state change (see changelog.c). */
#ifndef TEND_CHANGELOG_H
#define TEND_CHANGELOG_H

#include "core.h"

void changelog_log(const struct core_change *);

#endif
