/*
 * tend's client commands, talking to a running tend over its control socket:
 *
 *	tend status [--json | --check]	tend restart	tend emergency on|off
 *
 * The socket is found from --status-control PATH, TEND_STATUS_CONTROL, [status]
 * control in -c FILE, or /run/tend.sock, in that order. Exit codes: 0 done (or healthy,
 * with --check), 1 not healthy, refused or no answer (tend not running, timeout),
 * 2 bad command line. Docker's HEALTHCHECK reads 1 as unhealthy.
 */
#ifndef TEND_CLIENT_H
#define TEND_CLIENT_H

#define CLIENT_TIMEOUT_MS	5000

/*
 * Where argv names one of the client commands: the index of the first word after
 * tend's options, if it is status, restart or emergency (never after --); else 0.
 */
int client_command(int argc, char **argv);
/* Run it; returns tend's exit code. */
int client_main(int argc, char **argv);

#endif
