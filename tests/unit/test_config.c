/*
 * config_load() end to end: defaults, files good and bad, flags, TEND_* variables,
 * precedence, list replacement, validation, exit codes, --check-config, and that
 * etc/tend.ini and man/tend.ini.5 keep up with the key table.
 */
#include "autoconf.h"

#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config.h"
#include "options.h"

static struct config	cfg;
static int		code;
static char		out[65536], err[65536];
static char		paths[128][64];
static int		npaths;

static void
cleanup(void)
{
	while (npaths > 0)
		unlink(paths[--npaths]);
	config_free(&cfg);
}

TestSuite(config, .fini = cleanup);

/* Write len bytes of text to a new temporary file; return its path (removed later). */
static const char *
ini_n(const char *text, size_t len)
{
	char	*p;
	int	 fd;

	cr_assert_lt(npaths, 128);
	p = paths[npaths++];
	snprintf(p, sizeof paths[0], "/tmp/tend-test-XXXXXX");
	fd = mkstemp(p);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return p;
}

static const char *
ini(const char *text)
{
	return ini_n(text, strlen(text));
}

/* Read fd's temporary file from the start into buf. */
static void
slurp(FILE *f, char *buf, size_t len)
{
	size_t	n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* config_load with argv {"tend", args..., NULL}, stdout and stderr captured. */
static enum config_result
run_env(char **envp, const char *const *args)
{
	char			*argv[64];
	int			 argc = 0, saved1, saved2;
	FILE			*o = tmpfile(), *e = tmpfile();
	enum config_result	 r;

	cr_assert(o != NULL && e != NULL);
	argv[argc++] = (char *)"tend";
	while (*args != NULL && argc < 63)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	saved1 = dup(1);
	saved2 = dup(2);
	dup2(fileno(o), 1);
	dup2(fileno(e), 2);
	config_free(&cfg);
	code = -1;
	r = config_load(&cfg, argc, argv, envp, &code);
	fflush(stdout);
	fflush(stderr);
	dup2(saved1, 1);
	dup2(saved2, 2);
	close(saved1);
	close(saved2);
	slurp(o, out, sizeof out);
	slurp(e, err, sizeof err);
	return r;
}

static char *no_env[] = { NULL };

#define ARGS(...) ((const char *const []){ __VA_ARGS__, NULL })
#define run(...) run_env(no_env, ARGS(__VA_ARGS__))

#define assert_err(s) cr_assert(strstr(err, (s)) != NULL, \
	"stderr lacks \"%s\":\n%s", (s), err)

/* Load a file that must fail with 78 and an error containing want. */
static void
bad_file(const char *text, const char *want)
{
	const char	*p = ini(text);
	char		 full[512];

	cr_assert_eq(run("-c", p, "true"), CONFIG_EXIT, "accepted:\n%s", text);
	cr_assert_eq(code, 78, "code %d for:\n%s", code, text);
	snprintf(full, sizeof full, "tend: %s:%s", p, want);
	assert_err(full);
}

/* Load a file that must be accepted, with the command "true". */
static void
good_file(const char *text)
{
	cr_assert_eq(run("-c", ini(text), "true"), CONFIG_RUN, "refused:\n%s\n%s", text, err);
	cr_assert_eq(code, 0);
	cr_assert_str_eq(err, "", "printed on success");
	cr_assert_str_eq(out, "", "printed on success");
}

Test(config, defaults)
{
	cr_assert_eq(run("true"), CONFIG_RUN);
	cr_assert_eq(code, 0);
	cr_assert_str_eq(err, "");
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(cfg.command[0], "true");
	cr_assert_null(cfg.command[1]);
	cr_assert_null(cfg.directory);
	cr_assert_not(cfg.has_user);
	cr_assert_eq(cfg.environment.n, 0);
	cr_assert_eq(cfg.stop_signal, SIGTERM);
	cr_assert_eq(cfg.stop_timeout, 10000);
	cr_assert_eq(cfg.reload, RELOAD_FORBID);
	cr_assert_eq(cfg.forward, FORWARD_CHILD);
	cr_assert(cfg.subreaper);
	cr_assert_eq(cfg.startup_timeout, 30000);
	cr_assert_eq(cfg.startup_interval, 250);
	cr_assert_eq(cfg.wait_for.n, 0);
	cr_assert_eq(cfg.wait_timeout, 60000);
	cr_assert_not(cfg.wait_each_start);
	cr_assert_null(cfg.health_url);
	cr_assert_eq(cfg.health_interval, 5000);
	cr_assert_eq(cfg.health_timeout, 2000);
	cr_assert_eq(cfg.failure_threshold, 3);
	cr_assert_eq(cfg.success_threshold, 1);
	cr_assert_eq(cfg.expect_status.n, 1);
	cr_assert_eq(cfg.expect_status.lo[0], 200);
	cr_assert_eq(cfg.expect_status.hi[0], 399);
	cr_assert_null(cfg.expect_body);
	cr_assert_eq(cfg.hang_signal, 0);
	cr_assert_eq(cfg.hang_signal_wait, 2000);
	cr_assert_eq(cfg.policy, POLICY_ON_FAILURE);
	cr_assert_eq(cfg.backoff, 1000);
	cr_assert_eq(cfg.backoff_max, 30000);
	cr_assert_eq(cfg.limit_burst, 5);
	cr_assert_eq(cfg.limit_interval, 120000);
	cr_assert_eq(cfg.reset_after, 60000);
	cr_assert_str_eq(cfg.loop_pattern,
	    "(detected (file )?changes? in .*Reloading|Started reloader process)");
	cr_assert_eq(cfg.loop_count, 3);
	cr_assert_eq(cfg.loop_window, 60000);
	cr_assert_eq(cfg.loop_action, LOOP_EMERGENCY);
	cr_assert_not(cfg.emergency);
	cr_assert_null(cfg.emergency_command);
	cr_assert_null(cfg.emergency_health_url);
	cr_assert_eq(cfg.recover_after, 600000);
	cr_assert_null(cfg.listen_socket);
	cr_assert_eq(cfg.listen_fd, 3);
	cr_assert_null(cfg.status_listen);
	cr_assert_null(cfg.status_control);
	cr_assert_eq(cfg.log_format, LOG_FORMAT_TEXT);
	cr_assert_eq(cfg.log_level, LOG_INFO);
	cr_assert_eq(cfg.log_prefix, PREFIX_AUTO);
	cr_assert_null(cfg.config_file);
	cr_assert_not(cfg.check_config);
}

Test(config, command_words)
{
	cr_assert_eq(run("uvicorn", "app:app", "--port", "8000"), CONFIG_RUN);
	cr_assert_eq(argv_len(cfg.command), 4);
	cr_assert_str_eq(cfg.command[2], "--port");

	cr_assert_eq(run("--stop-timeout", "5s", "--", "-x", "--help"), CONFIG_RUN);
	cr_assert_eq(cfg.stop_timeout, 5000);
	cr_assert_str_eq(cfg.command[0], "-x");
	cr_assert_str_eq(cfg.command[1], "--help");

	cr_assert_eq(run("--", "status"), CONFIG_RUN);
	cr_assert_str_eq(cfg.command[0], "status");

	cr_assert_eq(run("-", "x"), CONFIG_RUN);	/* "-" is a word */
	cr_assert_str_eq(cfg.command[0], "-");
}

Test(config, command_sources)
{
	const char *p = ini("[program]\ncommand = sleep 'a b'\n  --flag\n");

	cr_assert_eq(run("-c", p), CONFIG_RUN);
	cr_assert_eq(argv_len(cfg.command), 3);
	cr_assert_str_eq(cfg.command[1], "a b");
	cr_assert_str_eq(cfg.command[2], "--flag");

	cr_assert_eq(run("-c", p, "echo", "hi"), CONFIG_RUN);	/* words win */
	cr_assert_eq(argv_len(cfg.command), 2);
	cr_assert_str_eq(cfg.command[0], "echo");

	cr_assert_eq(run("-c", p, "--program-command", "env -i"), CONFIG_RUN);
	cr_assert_str_eq(cfg.command[0], "env");
	cr_assert_str_eq(cfg.command[1], "-i");

	cr_assert_eq(run_env((char *[]){ "TEND_PROGRAM_COMMAND=printenv X", NULL },
	    ARGS("-c", p)), CONFIG_RUN);
	cr_assert_str_eq(cfg.command[0], "printenv");

	cr_assert_eq(run("--config", p), CONFIG_RUN);
	cr_assert_eq(run("--config=", "true"), CONFIG_EXIT);	/* empty name: cannot open */
	cr_assert_eq(code, 78);
	cr_assert_eq(run((const char *)"-c", "/nonexistent/tend.ini", "true"), CONFIG_EXIT);
	cr_assert_eq(code, 78);
	assert_err("/nonexistent/tend.ini");
	cr_assert_eq(run("-c", ini("[program]\ncommand = 'unterminated\n")), CONFIG_EXIT);
	cr_assert_eq(code, 78);
	assert_err(":2: [program] command: bad command (unterminated quote)");
}

Test(config, usage_errors)
{
	const char *const *cases[] = {
		ARGS("--bogus", "true"), ARGS("--health-url"), ARGS("-c"), ARGS("-x", "true"),
		ARGS("--check-config=yes"), ARGS("--help=1"), ARGS("--command", "x"),
		ARGS("--health", "x", "true"), ARGS("-hV"),
	};
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_assert_eq(run_env(no_env, cases[i]), CONFIG_EXIT, "case %zu", i);
		cr_assert_eq(code, 2, "case %zu (%s): code %d", i, cases[i][0], code);
		assert_err("usage: tend");
		cr_assert_str_eq(out, "");
	}
	cr_assert_eq(run("--stop-timeout", "5s"), CONFIG_EXIT);	/* no command */
	cr_assert_eq(code, 2);
	assert_err("no command");
	cr_assert_eq(run("-c", ini("[program]\ncommand =\n")), CONFIG_EXIT);
	cr_assert_eq(code, 2);
}

Test(config, help_and_version)
{
	cr_assert_eq(run("--help"), CONFIG_EXIT);
	cr_assert_eq(code, 0);
	cr_assert(strstr(out, "Usage: tend") != NULL);
	cr_assert(strstr(out, "--health-url URL") != NULL);
	cr_assert(strstr(out, "--stop-timeout DURATION") != NULL);
	cr_assert(strstr(out, "--emergency-environment KEY=VALUE") != NULL);
	cr_assert(strstr(out, "TEND_SECTION_KEY") != NULL);
	cr_assert_str_eq(err, "");
	cr_assert_eq(run("-h", "--bogus"), CONFIG_EXIT);
	cr_assert_eq(code, 0);
	cr_assert_eq(run("-V"), CONFIG_EXIT);
	cr_assert_eq(code, 0);
	cr_assert_str_eq(out, "tend " PACKAGE_VERSION "\n");
	cr_assert_eq(run("--version"), CONFIG_EXIT);
	cr_assert_str_eq(out, "tend " PACKAGE_VERSION "\n");
	cr_assert_eq(run("true", "--help"), CONFIG_RUN);	/* after the command: its own */
}

Test(config, good_file)
{
	good_file(
	    "; a comment\n"
	    "# another\n"
	    "\n"
	    "[program]\n"
	    "directory = /tmp\n"
	    "user = 0\n"
	    "environment = A=1\n"
	    "  B=two words\n"
	    "environment = C=\n"
	    "stop_signal = sigint   ; inline comment\n"
	    "stop_timeout = 1m30s\n"
	    "reload = strip\n"
	    "forward = group\n"
	    "subreaper = off\n"
	    "[startup]\n"
	    "timeout = 0\n"
	    "wait_for = tcp://redis:6379 http://auth:8080/ready\n"
	    "    tcp://[::1]:5432\n"
	    "wait_each_start = yes\n"
	    "[health]\n"
	    "url = http://127.0.0.1:8000/health\n"
	    "expect_status = 200,204,301-308\n"
	    "expect_body = \"ok\"\n"
	    "hang_signal = ABRT\n"
	    "failure_threshold = 1000\n"
	    "[restart]\n"
	    "policy = always\n"
	    "backoff = 0\n"
	    "limit_burst = 100\n"
	    "[reload_loop]\n"
	    "pattern = ^reload$\n"
	    "action = stop\n"
	    "[listen]\n"
	    "socket = unix:/tmp/app.sock\n"
	    "fd = 1023\n"
	    "[status]\n"
	    "listen = [::1]:9000\n"
	    "control = /tmp/tend.sock\n"
	    "[log]\n"
	    "format = json\n"
	    "level = debug\n"
	    "prefix = yes\n");
	cr_assert_str_eq(cfg.directory, "/tmp");
	cr_assert(cfg.has_user);
	cr_assert_eq(cfg.uid, 0);
	cr_assert_eq(cfg.gid, 0);
	cr_assert_geq(cfg.ngroups, 1);
	cr_assert_eq(cfg.environment.n, 3);
	cr_assert_str_eq(cfg.environment.v[1], "B=two words");
	cr_assert_str_eq(cfg.environment.v[2], "C=");
	cr_assert_null(cfg.environment.v[3]);
	cr_assert_eq(cfg.stop_signal, SIGINT);
	cr_assert_eq(cfg.stop_timeout, 90000);
	cr_assert_eq(cfg.reload, RELOAD_STRIP);
	cr_assert_eq(cfg.forward, FORWARD_GROUP);
	cr_assert_not(cfg.subreaper);
	cr_assert_eq(cfg.startup_timeout, 0);
	cr_assert_eq(cfg.wait_for.n, 3);
	cr_assert_str_eq(cfg.wait_for.v[2], "tcp://[::1]:5432");
	cr_assert(cfg.wait_each_start);
	cr_assert_str_eq(cfg.health.host, "127.0.0.1");
	cr_assert_eq(cfg.health.port, 8000);
	cr_assert_str_eq(cfg.health.path, "/health");
	cr_assert_eq(cfg.expect_status.n, 3);
	cr_assert_str_eq(cfg.expect_body, "\"ok\"");	/* quotes are kept */
	cr_assert_eq(cfg.hang_signal, SIGABRT);
	cr_assert_eq(cfg.failure_threshold, 1000);
	cr_assert_eq(cfg.policy, POLICY_ALWAYS);
	cr_assert_eq(cfg.backoff, 0);
	cr_assert_eq(cfg.limit_burst, 100);
	cr_assert_str_eq(cfg.loop_pattern, "^reload$");
	cr_assert_eq(cfg.loop_action, LOOP_STOP);
	cr_assert_eq(cfg.listen.scheme, URL_UNIX);
	cr_assert_eq(cfg.listen_fd, 1023);
	cr_assert_str_eq(cfg.status.host, "::1");
	cr_assert_eq(cfg.status.port, 9000);
	cr_assert_str_eq(cfg.status_control, "/tmp/tend.sock");
	cr_assert_eq(cfg.log_format, LOG_FORMAT_JSON);
	cr_assert_eq(cfg.log_level, LOG_DEBUG);
	cr_assert_eq(cfg.log_prefix, PREFIX_YES);
	cr_assert_not(cfg.emergency);
	cr_assert_str_eq(cfg.command[0], "true");
	cr_assert_not_null(cfg.config_file);
}

Test(config, file_syntax)
{
	good_file("\xEF\xBB\xBF[health]\r\ninterval = 7s\r\n");	/* BOM and CRLF */
	cr_assert_eq(cfg.health_interval, 7000);
	good_file("[health]\ninterval : 8s\n");	/* configparser's ':' */
	cr_assert_eq(cfg.health_interval, 8000);
	good_file("[health]\ninterval = 9s");	/* no final newline */
	cr_assert_eq(cfg.health_interval, 9000);
	good_file("[program]\n[program]\nstop_timeout = 1s\n");	/* a section twice */
	good_file("");
	good_file("[health]\nexpect_body = a;b\n");	/* ';' without a blank before it */
	cr_assert_str_eq(cfg.expect_body, "a;b");
}

Test(config, file_errors)
{
	bad_file("[health]\ninterval = 5\n",
	    "2: [health] interval: bad duration '5' (a unit is required: 250ms, 5s, 2m, 1h)");
	bad_file("[health]\nfoo = 1\n", "2: unknown key 'foo' in section [health]");
	bad_file("[helth]\nurl = x\n", "1: unknown section [helth]");
	bad_file("url = http://x/\n", "1: key 'url' before any [section]");
	bad_file("[health]\nnovalue\n", "2: expected 'key = value' or '[section]'");
	bad_file("[health\n", "1: missing ']'");
	bad_file("[program]\nstop-timeout = 1s\n", "2: unknown key 'stop-timeout' in section "
	    "[program] (did you mean stop_timeout?)");
	bad_file("[health]\nstop_timeout = 1s\n", "2: unknown key 'stop_timeout' in section "
	    "[health] (stop_timeout belongs in [program])");
	bad_file("[program]\nstop_timeout = 1s\nstop_timeout = 2s\n",
	    "3: [program] stop_timeout: set twice");
	bad_file("[program]\nstop_timeout = 1s\n  2s\n",
	    "3: [program] stop_timeout: an indented line continues");
	bad_file("[program]\nstop_signal = NOPE\n", "2: [program] stop_signal: bad signal 'NOPE'");
	bad_file("[program]\nstop_signal =\n", "2: [program] stop_signal: bad signal ''");
	bad_file("[program]\nreload = maybe\n",
	    "2: [program] reload: bad value 'maybe' (one of: forbid strip allow)");
	bad_file("[program]\nforward = all\n", "2: [program] forward: bad value");
	bad_file("[program]\nsubreaper = perhaps\n", "2: [program] subreaper: bad boolean");
	bad_file("[program]\nenvironment = NOEQUALS\n",
	    "2: [program] environment: bad environment entry 'NOEQUALS'");
	bad_file("[program]\nenvironment = =v\n", "2: [program] environment: bad environment");
	bad_file("[program]\nuser = no_such_user_tend\n",
	    "2: [program] user: unknown user 'no_such_user_tend'");
	bad_file("[program]\nuser = 0:no_such_group_tend\n", "2: [program] user: unknown group");
	bad_file("[program]\ndirectory = /nonexistent/dir\n", "2: [program] directory:");
	bad_file("[program]\ndirectory = /dev/null\n",
	    "2: [program] directory: /dev/null: not a directory");
	bad_file("[startup]\ninterval = 0\n", "2: [startup] interval: must be more than 0");
	bad_file("[startup]\nwait_for = tcp://redis\n",
	    "2: [startup] wait_for: bad target 'tcp://redis'");
	bad_file("[startup]\nwait_each_start = 2\n", "2: [startup] wait_each_start: bad boolean");
	bad_file("[health]\nurl = https://x/\n", "2: [health] url: bad URL 'https://x/'");
	bad_file("[health]\nurl = http:///x\n", "2: [health] url: bad URL");
	bad_file("[health]\nurl = http://x:99999/\n", "2: [health] url: bad URL");
	bad_file("[health]\ntimeout = 0\n", "2: [health] timeout: must be more than 0");
	bad_file("[health]\nfailure_threshold = 0\n",
	    "2: [health] failure_threshold: bad number '0' (1 to 1000)");
	bad_file("[health]\nsuccess_threshold = 1001\n", "2: [health] success_threshold:");
	bad_file("[health]\nexpect_status = 200-99\n", "2: [health] expect_status: bad status");
	bad_file("[health]\nhang_signal = 0\n", "2: [health] hang_signal: bad signal");
	bad_file("[restart]\npolicy = sometimes\n", "2: [restart] policy: bad value");
	bad_file("[restart]\nlimit_burst = 101\n", "2: [restart] limit_burst: bad number '101' "
	    "(1 to 100)");
	bad_file("[restart]\nlimit_interval = 0\n", "2: [restart] limit_interval: must be more");
	bad_file("[restart]\nbackoff = 10s\nbackoff_max = 5s\n",
	    "3: [restart] backoff_max: 5s is less than backoff (10s)");
	bad_file("[reload_loop]\npattern = (unclosed\n",
	    "2: [reload_loop] pattern: bad regular expression '(unclosed'");
	bad_file("[reload_loop]\npattern =\n", "2: [reload_loop] pattern: empty pattern");
	bad_file("[reload_loop]\ncount = 0\n", "2: [reload_loop] count: bad number");
	bad_file("[reload_loop]\nwindow = 0\n", "2: [reload_loop] window: must be more");
	bad_file("[reload_loop]\naction = panic\n", "2: [reload_loop] action: bad value");
	bad_file("[emergency]\nhealth_url = ftp://x/\n", "2: [emergency] health_url: bad URL");
	bad_file("[emergency]\nrecover_after = 10\n", "2: [emergency] recover_after: bad duration");
	bad_file("[listen]\nsocket = 0.0.0.0:80\n", "2: [listen] socket: bad address");
	bad_file("[listen]\nfd = 2\n", "2: [listen] fd: bad number '2' (3 to 1023)");
	bad_file("[listen]\nfd = 1024\n", "2: [listen] fd: bad number");
	bad_file("[status]\nlisten = 90000\n", "2: [status] listen: bad address");
	bad_file("[status]\nlisten = localhost\n", "2: [status] listen: bad address");
	bad_file("[log]\nformat = xml\n",
	    "2: [log] format: bad value 'xml' (one of: text logfmt json)");
	bad_file("[log]\nlevel = trace\n", "2: [log] level: bad value");
	bad_file("[log]\nprefix = sometimes\n",
	    "2: [log] prefix: bad value 'sometimes' (one of: auto yes no)");
}

Test(config, every_error_reported)
{
	bad_file("[health]\ninterval = 5\ntimeout = 3\n[nope]\n[log]\nlevel = loud\n",
	    "2: [health] interval");
	assert_err(":3: [health] timeout");
	assert_err(":4: unknown section [nope]");
	assert_err(":6: [log] level");
	/* the keys of an unknown section are not reported once more */
	bad_file("[nope]\na = 1\nb = 2\n", "1: unknown section [nope]");
	cr_assert_null(strstr(err, "unknown key"));
}

Test(config, long_line)
{
	char	text[512];

	/* inih (Debian) reads lines of up to 200 bytes: 197 characters and "\r\n\0". */
	snprintf(text, sizeof text, "[health]\nexpect_body = %0*d\n", 197 - 14, 0);
	good_file(text);
	cr_assert_eq(strlen(cfg.expect_body), 197 - 14);
	snprintf(text, sizeof text, "[health]\nexpect_body = %0*d\r\n", 197 - 14, 0);
	good_file(text);
	snprintf(text, sizeof text, "[health]\nexpect_body = %0*d\ninterval = 1s\n", 198 - 14, 0);
	bad_file(text, "2: line too long (198 characters, at most 197)");
	cr_assert_null(strstr(err, ":3:"), "the next line is parsed alone: %s", err);
	snprintf(text, sizeof text, "[health]\n; %0*d\n", 300, 0);
	bad_file(text, "2: line too long");	/* comments too: inih would split them */
	cr_assert_eq(run("-c", ini_n("[health]\nexpect_body = a\0b\n", 27), "true"), CONFIG_EXIT);
	cr_assert_eq(code, 78);
	assert_err(":2: NUL byte");
}

Test(config, emergency_presence)
{
	good_file("[emergency]\n");
	cr_assert(cfg.emergency);
	cr_assert_eq(cfg.emergency_environment.n, 1);
	cr_assert_str_eq(cfg.emergency_environment.v[0], "EMERGENCY_MODE=1");
	cr_assert_eq(cfg.recover_after, 600000);

	good_file("[health]\nurl = http://app:8000/h\n[emergency]\n; just the header\n");
	cr_assert(cfg.emergency);
	cr_assert_str_eq(cfg.emergency_health_url, "http://app:8000/h");
	cr_assert_str_eq(cfg.emergency_health.host, "app");

	good_file("[emergency]\nenvironment =\nhealth_url = http://x/e\ncommand = safe-mode\n");
	cr_assert_eq(cfg.emergency_environment.n, 0);
	cr_assert_str_eq(cfg.emergency_health.path, "/e");
	cr_assert_str_eq(cfg.emergency_command[0], "safe-mode");

	good_file("[health]\nurl = http://x/\n");
	cr_assert_not(cfg.emergency);

	cr_assert_eq(run_env((char *[]){ "TEND_EMERGENCY_RECOVER_AFTER=0", NULL },
	    ARGS("true")), CONFIG_RUN);
	cr_assert(cfg.emergency);
	cr_assert_eq(cfg.recover_after, 0);
	cr_assert_eq(run("--emergency-environment", "X=1", "true"), CONFIG_RUN);
	cr_assert(cfg.emergency);
	cr_assert_eq(cfg.emergency_environment.n, 1);
	cr_assert_str_eq(cfg.emergency_environment.v[0], "X=1");
}

Test(config, precedence)
{
	const char	*p = ini("[program]\nstop_timeout = 3s\n[health]\nurl = http://file/\n");
	char		*env[] = { "TEND_PROGRAM_STOP_TIMEOUT=4s", "TEND_HEALTH_URL=http://env/",
	    NULL };

	cr_assert_eq(run("true"), CONFIG_RUN);
	cr_assert_eq(cfg.stop_timeout, 10000);
	cr_assert_eq(run("-c", p, "true"), CONFIG_RUN);
	cr_assert_eq(cfg.stop_timeout, 3000);
	cr_assert_str_eq(cfg.health_url, "http://file/");
	cr_assert_eq(run_env(env, ARGS("-c", p, "true")), CONFIG_RUN);
	cr_assert_eq(cfg.stop_timeout, 4000);
	cr_assert_str_eq(cfg.health.host, "env");
	cr_assert_eq(run_env(env, ARGS("-c", p, "--stop-timeout", "5s", "--health-url=", "true")),
	    CONFIG_RUN);
	cr_assert_eq(cfg.stop_timeout, 5000);
	cr_assert_null(cfg.health_url, "an empty flag means none");
	cr_assert_eq(run_env(env, ARGS("--program-stop-timeout=6s", "-c", p, "true")),
	    CONFIG_RUN);
	cr_assert_eq(cfg.stop_timeout, 6000);
	/* the last of a repeated flag wins */
	cr_assert_eq(run("--stop-timeout", "1s", "--stop-timeout", "2s", "true"), CONFIG_RUN);
	cr_assert_eq(cfg.stop_timeout, 2000);
	cr_assert_eq(run("--no-subreaper", "true"), CONFIG_RUN);
	cr_assert_not(cfg.subreaper);
	cr_assert_eq(run("--no-subreaper", "--subreaper", "yes", "true"), CONFIG_RUN);
	cr_assert(cfg.subreaper);
}

Test(config, list_replacement)
{
	const char	*p = ini("[program]\nenvironment = A=1\n  B=2\n"
	    "[startup]\nwait_for = tcp://a:1 tcp://b:2\n");
	char		*env[] = { "TEND_PROGRAM_ENVIRONMENT=C=3\nD=4 with space",
	    "TEND_STARTUP_WAIT_FOR=tcp://c:3", NULL };

	cr_assert_eq(run("-c", p, "true"), CONFIG_RUN);
	cr_assert_eq(cfg.environment.n, 2);
	cr_assert_eq(cfg.wait_for.n, 2);

	cr_assert_eq(run_env(env, ARGS("-c", p, "true")), CONFIG_RUN);
	cr_assert_eq(cfg.environment.n, 2);
	cr_assert_str_eq(cfg.environment.v[0], "C=3");
	cr_assert_str_eq(cfg.environment.v[1], "D=4 with space");
	cr_assert_eq(cfg.wait_for.n, 1);
	cr_assert_str_eq(cfg.wait_for.v[0], "tcp://c:3");

	cr_assert_eq(run_env(env, ARGS("-c", p, "--environment", "E=5", "--environment=F=6",
	    "--startup-wait-for", "tcp://d:4", "--startup-wait-for", "http://e/", "true")),
	    CONFIG_RUN);
	cr_assert_eq(cfg.environment.n, 2);
	cr_assert_str_eq(cfg.environment.v[0], "E=5");
	cr_assert_str_eq(cfg.environment.v[1], "F=6");
	cr_assert_eq(cfg.wait_for.n, 2);
	cr_assert_str_eq(cfg.wait_for.v[1], "http://e/");

	/* an empty value empties the list */
	cr_assert_eq(run_env((char *[]){ "TEND_PROGRAM_ENVIRONMENT=", NULL },
	    ARGS("-c", p, "true")), CONFIG_RUN);
	cr_assert_eq(cfg.environment.n, 0);
	cr_assert_null(cfg.environment.v);
}

Test(config, environment_variables)
{
	cr_assert_eq(run_env((char *[]){ "PATH=/bin", "TEND=x", "TENDER=1",
	    "TEND_HEALTH_URL=http://h:1/x", "TEND_RELOAD_LOOP_PATTERN=boom",
	    "TEND_STATUS_CONTROL=/tmp/c.sock", "TEND_LOG_LEVEL=warn", NULL }, ARGS("true")),
	    CONFIG_RUN);
	cr_assert_str_eq(err, "");
	cr_assert_eq(cfg.health.port, 1);
	cr_assert_str_eq(cfg.loop_pattern, "boom");
	cr_assert_str_eq(cfg.status_control, "/tmp/c.sock");
	cr_assert_eq(cfg.log_level, LOG_WARN);

	cr_assert_eq(run_env((char *[]){ "TEND_HEALTH_URLL=http://x/", NULL }, ARGS("true")),
	    CONFIG_EXIT);
	cr_assert_eq(code, 78);
	assert_err("tend: TEND_HEALTH_URLL: unknown variable");

	cr_assert_eq(run_env((char *[]){ "TEND_HEALTH_INTERVAL=5", NULL }, ARGS("true")),
	    CONFIG_EXIT);
	cr_assert_eq(code, 78);
	assert_err("tend: TEND_HEALTH_INTERVAL: bad duration '5' (a unit is required");

	cr_assert_eq(run_env((char *[]){ "TEND_PROGRAM_ENVIRONMENT=A=1\nbad", NULL },
	    ARGS("true")), CONFIG_EXIT);
	assert_err("tend: TEND_PROGRAM_ENVIRONMENT: bad environment entry 'bad'");
}

Test(config, flag_errors)
{
	cr_assert_eq(run("--health-interval", "5", "true"), CONFIG_EXIT);
	cr_assert_eq(code, 78);
	assert_err("tend: --health-interval: bad duration '5' (a unit is required");
	cr_assert_eq(run("--failure-threshold=0", "true"), CONFIG_EXIT);
	cr_assert_eq(code, 2, "--failure-threshold is not a [program] key");
	cr_assert_eq(run("--health-failure-threshold=0", "true"), CONFIG_EXIT);
	cr_assert_eq(code, 78);
	assert_err("tend: --health-failure-threshold: bad number '0' (1 to 1000)");
	cr_assert_eq(run("--restart-backoff", "1m", "true"), CONFIG_EXIT);
	assert_err("tend: [restart] backoff_max: 30s is less than backoff (1m)");
	cr_assert_eq(run("--restart-backoff-max", "1s", "--restart-backoff", "2s", "true"),
	    CONFIG_EXIT);
	assert_err("tend: --restart-backoff-max: 1s is less than backoff (2s)");
	cr_assert_eq(run("--user", "no_such_user_tend", "true"), CONFIG_EXIT);
	cr_assert_eq(code, 78);
	assert_err("tend: --user: unknown user 'no_such_user_tend'");
}

Test(config, users)
{
	cr_assert_eq(run("--user", "root", "true"), CONFIG_RUN);
	cr_assert(cfg.has_user);
	cr_assert_eq(cfg.uid, 0);
	cr_assert_eq(cfg.gid, 0);
	cr_assert_geq(cfg.ngroups, 1);
	cr_assert_not_null(cfg.groups);
	cr_assert_str_eq(cfg.user, "root");

	cr_assert_eq(run("--user", "0:12345", "true"), CONFIG_RUN);
	cr_assert_eq(cfg.uid, 0);
	cr_assert_eq(cfg.gid, 12345);

	/* a uid without a passwd entry needs its gid */
	cr_assert_eq(run("--user", "54321:54321", "true"), CONFIG_RUN);
	cr_assert_eq(cfg.uid, 54321);
	cr_assert_eq(cfg.gid, 54321);
	cr_assert_eq(cfg.ngroups, 1);
	cr_assert_eq(cfg.groups[0], 54321);
	cr_assert_eq(run("--user", "54321", "true"), CONFIG_EXIT);
	cr_assert_eq(code, 78);
	assert_err("give uid:gid");

	cr_assert_eq(run("--user", "root:root", "true"), CONFIG_RUN);
	cr_assert_eq(cfg.gid, 0);
}

Test(config, check_config)
{
	const char	*p = ini("[program]\ncommand = uvicorn app:app --port 8000 'a b'\n"
	    "environment = A=1\n  B=2\n[health]\nurl = http://127.0.0.1:8000/health\n"
	    "expect_status = 200,204\nhang_signal = RTMIN+2\n[emergency]\n");
	char		first[sizeof out];

	cr_assert_eq(run("--check-config", "-c", p), CONFIG_EXIT);
	cr_assert_eq(code, 0, "%s", err);
	cr_assert_str_eq(err, "");
	cr_assert(strstr(out, "[program]\ncommand = uvicorn app:app --port 8000 a\\ b\n") != NULL,
	    "%s", out);
	cr_assert(strstr(out, "environment = A=1\nenvironment = B=2\n") != NULL);
	cr_assert(strstr(out, "stop_timeout = 10s\n") != NULL);
	cr_assert(strstr(out, "stop_signal = TERM\n") != NULL);
	cr_assert(strstr(out, "hang_signal = RTMIN+2\n") != NULL);
	cr_assert(strstr(out, "expect_status = 200,204\n") != NULL);
	cr_assert(strstr(out, "limit_interval = 2m\n") != NULL);
	cr_assert(strstr(out, "\n[emergency]\nenvironment = EMERGENCY_MODE=1\n") != NULL);
	cr_assert(strstr(out, "health_url = http://127.0.0.1:8000/health\n") != NULL);

	/* what it prints loads back to the same configuration */
	snprintf(first, sizeof first, "%s", strchr(out, '\n'));
	cr_assert_eq(run("--check-config", "-c", ini(out)), CONFIG_EXIT);
	cr_assert_eq(code, 0, "%s", err);
	cr_assert_str_eq(strchr(out, '\n'), first);

	/* without a file and without a command */
	cr_assert_eq(run("--check-config"), CONFIG_EXIT);
	cr_assert_eq(code, 0);
	cr_assert(strstr(out, "; [emergency]\n") != NULL, "absent section is commented out");
	snprintf(first, sizeof first, "%s", strchr(out, '\n'));
	cr_assert_eq(run("--check-config", "-c", ini(out)), CONFIG_EXIT);
	cr_assert_eq(code, 0, "%s", err);
	cr_assert_str_eq(strchr(out, '\n'), first);

	cr_assert_eq(run("--check-config", "-c", ini("[health]\ninterval = 5\n")), CONFIG_EXIT);
	cr_assert_eq(code, 78);
	cr_assert_str_eq(out, "");
}

Test(config, reload_twice)
{
	/* config_load keeps no state between calls, and config_free may run twice */
	cr_assert_eq(run("--environment", "A=1", "true"), CONFIG_RUN);
	cr_assert_eq(run("true"), CONFIG_RUN);
	cr_assert_eq(cfg.environment.n, 0);
	config_free(&cfg);
	config_free(&cfg);
}

/* The path of a file of the source tree, or NULL when TEST_SRCDIR is not set. */
static FILE *
source_file(const char *rel, char *path, size_t len)
{
	const char *dir = getenv("TEST_SRCDIR");

	if (dir == NULL)
		return NULL;
	snprintf(path, len, "%s/../%s", dir, rel);
	return fopen(path, "re");
}

Test(config, example_file)
{
	char	 path[4096], line[512], *text, uncommented[32768];
	size_t	 off = 0;
	FILE	*f = source_file("etc/tend.ini", path, sizeof path);

	if (f == NULL)
		cr_skip_test("TEST_SRCDIR is not set");
	fclose(f);
	cr_assert_eq(run("--check-config", "-c", path), CONFIG_EXIT);
	cr_assert_eq(code, 0, "%s", err);
	cr_assert(strstr(out, "; [emergency]\n") != NULL, "etc/tend.ini turns emergency on");

	/* uncommented, its ";key = value" lines are the defaults (plus [emergency]) */
	f = fopen(path, "re");
	while (fgets(line, sizeof line, f) != NULL) {
		text = line;
		if (line[0] == ';' && (line[1] == '[' || (line[1] >= 'a' && line[1] <= 'z')))
			text = line + 1;
		off += (size_t)snprintf(uncommented + off, sizeof uncommented - off, "%s", text);
	}
	fclose(f);
	cr_assert(strstr(uncommented, "\n[emergency]\n") != NULL);
	cr_assert_eq(run("--check-config", "-c", ini(uncommented)), CONFIG_EXIT);
	cr_assert_eq(code, 0, "%s", err);
	snprintf(uncommented, sizeof uncommented, "%s", strchr(out, '\n'));
	cr_assert_eq(run("--check-config", "-c", ini("[emergency]\n")), CONFIG_EXIT);
	cr_assert_str_eq(uncommented, strchr(out, '\n'), "etc/tend.ini's defaults differ");
}

Test(config, docs_list_every_key)
{
	char	 path[4096], *man, *example, name[128];
	FILE	*f = source_file("man/tend.ini.5", path, sizeof path);
	size_t	 i, j;

	if (f == NULL)
		cr_skip_test("TEST_SRCDIR is not set");
	man = calloc(1, 1 << 20);
	cr_assert_gt(fread(man, 1, (1 << 20) - 1, f), 0);
	fclose(f);
	f = source_file("etc/tend.ini", path, sizeof path);
	cr_assert_not_null(f);
	example = calloc(1, 1 << 20);
	cr_assert_gt(fread(example, 1, (1 << 20) - 1, f), 0);
	fclose(f);
	for (i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_keys[i];

		snprintf(name, sizeof name, "TEND_%s_%s", k->section, k->name);
		for (j = 0; name[j] != '\0'; j++)
			name[j] = (char)toupper((unsigned char)name[j]);
		cr_assert(strstr(man, name) != NULL, "man/tend.ini.5 lacks %s", name);
		snprintf(name, sizeof name, "\n;%s = ", k->name);
		cr_assert(strstr(example, name) != NULL || (*k->def == '\0' &&
		    (name[strlen(name) - 1] = '\0', strstr(example, name) != NULL)),
		    "etc/tend.ini lacks ;%s = %s", k->name, k->def);
	}
	free(man);
	free(example);
}

/* --check-config runs the reload guard, so what tend would refuse at start fails it. */
Test(config, check_config_reload_guard)
{
	cr_assert_eq(run("--check-config", "uvicorn", "app:app", "--reload"), CONFIG_EXIT);
	cr_assert_eq(code, 78, "%s", err);
	assert_err("hot reload (--reload)");
	cr_assert_eq(run("--check-config", "--reload", "strip", "uvicorn", "app:app",
	    "--reload"), CONFIG_EXIT);
	cr_assert_eq(code, 0, "%s", err);
	cr_assert_eq(run_env((char *[]){ "UVICORN_RELOAD=yes", NULL },
	    ARGS("--check-config", "uvicorn", "app:app")), CONFIG_EXIT);
	cr_assert_eq(code, 78, "%s", err);
	cr_assert_eq(run_env((char *[]){ "UVICORN_RELOAD=yes", NULL },
	    ARGS("--check-config", "--environment", "UVICORN_RELOAD=0", "uvicorn", "app:app")),
	    CONFIG_EXIT);
	cr_assert_eq(code, 0, "%s", err);
	cr_assert_eq(run("--check-config", "--emergency-command", "uvicorn a:b --reload-dir x",
	    "uvicorn", "app:app"), CONFIG_EXIT);
	cr_assert_eq(code, 78, "%s", err);
	assert_err("[emergency] ");
	/* Run for real, the guard is launch.c's: config_load itself stays quiet. */
	cr_assert_eq(run("uvicorn", "app:app", "--reload"), CONFIG_RUN);
}
