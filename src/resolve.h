/*
 * Name resolution that never blocks the loop: numeric IPv4/IPv6 literals directly,
 * names with c-ares (/etc/hosts, then DNS), its sockets and timeouts watched by the
 * caller's libev loop. A fresh c-ares channel per lookup, so resolv.conf changes count.
 */
#ifndef TEND_RESOLVE_H
#define TEND_RESOLVE_H

#include <sys/socket.h>

#include <stdbool.h>

struct ev_loop;

#define RESOLVE_MAX_ADDRS 8	/* addresses kept per lookup; the rest are dropped */

struct resolve_result {
	int			 n;
	struct sockaddr_storage	 addr[RESOLVE_MAX_ADDRS];	/* port already set */
	socklen_t		 len[RESOLVE_MAX_ADDRS];
};

/* n == 0: the name did not resolve, why says how (static). */
typedef void (*resolve_cb)(void *arg, const struct resolve_result *, const char *why);

struct resolver;	/* opaque */

/* A numeric host (no brackets) into *res; false if host is not a literal. */
bool resolver_numeric(const char *host, int port, struct resolve_result *res);

struct resolver *resolver_new(struct ev_loop *);
/*
 * Look host up; cb runs once, maybe before resolver_start returns or from inside
 * c-ares, so it must not call resolver_* on this resolver. Returns -1 (no callback)
 * if c-ares cannot start, with why set. A lookup under way is cancelled first.
 */
int resolver_start(struct resolver *, const char *host, int port, resolve_cb, void *arg,
    const char **why);
/* Stop a lookup (no callback) and close c-ares's sockets. Not from inside cb. */
void resolver_cancel(struct resolver *);
void resolver_free(struct resolver *);

#endif
