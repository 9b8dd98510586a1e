/*
 * The reload guard (argv and environment of uvicorn's hot reload) and the reload-loop
 * detector with a fake clock, fed with lines uvicorn 0.17.6 really printed.
 */
#include "autoconf.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "reload.h"
#include "xmalloc.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })

static char msg[1024];

/* The guard's stripped argv joined with spaces (static buffer). */
static const char *
joined(char **argv)
{
	static char buf[512];
	size_t i;

	buf[0] = '\0';
	for (i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			strcat(buf, " ");
		strcat(buf, argv[i]);
	}
	return buf;
}

Test(guard, nothing_found)
{
	char **out = (char **)1;

	cr_assert_eq(reload_guard(ARGV("uvicorn", "app:app", "--port", "8000"),
	    ARGV("PATH=/bin", "UVICORN_RELOAD=false"), RELOAD_FORBID, &out, msg, sizeof msg), 0);
	cr_assert_null(out);
	cr_assert_str_empty(msg);
}

Test(guard, forbid_says_what_why_how)
{
	char **out;

	cr_assert_eq(reload_guard(ARGV("uvicorn", "app:app", "--reload", "--reload-dir", "src"),
	    ARGV("PATH=/bin"), RELOAD_FORBID, &out, msg, sizeof msg), -1);
	cr_assert_null(out);
	cr_assert(strstr(msg, "--reload, --reload-dir src") != NULL, "%s", msg);
	cr_assert(strstr(msg, "restart loop") != NULL, "%s", msg);
	cr_assert(strstr(msg, "reload = strip") != NULL, "%s", msg);
	cr_assert(strstr(msg, "reload = allow") != NULL, "%s", msg);
	cr_assert(strstr(msg, "--reload strip|allow") != NULL, "%s", msg);
}

Test(guard, every_option_form)
{
	static const char *const words[][2] = {
		{ "--reload", NULL }, { "--reload=true", NULL },
		{ "--reload-dir", "x" }, { "--reload-dir=x", NULL },
		{ "--reload-include", "*.py" }, { "--reload-include=*.py", NULL },
		{ "--reload-exclude", "*.tmp" }, { "--reload-exclude=*.tmp", NULL },
		{ "--reload-delay", "0.5" }, { "--reload-delay=0.5", NULL },
	};
	char	*argv[7], **out;
	size_t	 i, n;

	for (i = 0; i < nitems(words); i++) {
		n = 0;
		argv[n++] = (char *)"python3";
		argv[n++] = (char *)"-m";
		argv[n++] = (char *)"uvicorn";
		argv[n++] = (char *)words[i][0];
		if (words[i][1] != NULL)
			argv[n++] = (char *)words[i][1];
		argv[n++] = (char *)"app:app";
		argv[n] = NULL;
		cr_assert_eq(reload_guard(argv, NULL, RELOAD_FORBID, &out, msg, sizeof msg), -1,
		    "%s", words[i][0]);
		cr_assert_eq(reload_guard(argv, NULL, RELOAD_STRIP, &out, msg, sizeof msg),
		    RELOAD_IN_ARGV, "%s", words[i][0]);
		cr_assert_not_null(out);
		cr_assert_str_eq(joined(out), "python3 -m uvicorn app:app", "%s", words[i][0]);
		argv_free(out);
	}
}

Test(guard, lookalikes_are_not_reload)
{
	char **out;

	cr_assert_eq(reload_guard(ARGV("--reload", "app:app", "--reloadx", "--reload-dirs",
	    "--no-reload", "-reload", "--root-path", "/reload"), NULL, RELOAD_FORBID, &out, msg,
	    sizeof msg), 0);
}

Test(guard, strip_keeps_the_rest_in_order)
{
	char **out;

	cr_assert_eq(reload_guard(ARGV("uvicorn", "--reload-dir", "src", "app.main:app",
	    "--host", "0.0.0.0", "--reload", "--port", "8000", "--reload-delay"), NULL,
	    RELOAD_STRIP, &out, msg, sizeof msg), RELOAD_IN_ARGV);
	cr_assert_str_eq(joined(out), "uvicorn app.main:app --host 0.0.0.0 --port 8000");
	cr_assert(strstr(msg, "--reload-dir src, --reload, --reload-delay") != NULL, "%s", msg);
	argv_free(out);
}

Test(guard, env_true_values)
{
	static const char *const yes[] = { "1", "true", "TRUE", "True", "yes", "YES", "y", "t",
	    "on", " y ", "\ttrue\n" };
	static const char *const no[] = { "", "0", "false", "no", "off", "2", "truth", "yes!" };
	size_t i;

	for (i = 0; i < nitems(yes); i++)
		cr_assert(reload_env_true(yes[i]), "'%s'", yes[i]);
	for (i = 0; i < nitems(no); i++)
		cr_assert(!reload_env_true(no[i]), "'%s'", no[i]);
}

Test(guard, env_forbid_strip_allow)
{
	char **out;
	char **env = xcalloc(4, sizeof *env);

	env[0] = xstrdup("A=1");
	env[1] = xstrdup("UVICORN_RELOAD=Yes");
	env[2] = xstrdup("B=2");
	cr_assert_eq(reload_guard(ARGV("uvicorn", "app:app"), env, RELOAD_FORBID, &out, msg,
	    sizeof msg), -1);
	cr_assert(strstr(msg, "UVICORN_RELOAD=Yes in the environment") != NULL, "%s", msg);
	cr_assert_eq(reload_guard(ARGV("uvicorn", "app:app"), env, RELOAD_ALLOW, &out, msg,
	    sizeof msg), RELOAD_IN_ENV);
	cr_assert_null(out);
	cr_assert(strstr(msg, "allow") != NULL, "%s", msg);
	cr_assert_eq(reload_guard(ARGV("uvicorn", "app:app", "--reload"), env, RELOAD_STRIP,
	    &out, msg, sizeof msg), RELOAD_IN_ENV | RELOAD_IN_ARGV);
	cr_assert_str_eq(joined(out), "uvicorn app:app");
	argv_free(out);
	reload_env_strip(env);
	cr_assert_str_eq(env[0], "A=1");
	cr_assert_str_eq(env[1], "B=2");
	cr_assert_null(env[2]);
	cr_assert_eq(reload_guard(ARGV("uvicorn", "app:app"), env, RELOAD_FORBID, &out, msg,
	    sizeof msg), 0);
	argv_free(env);
}

Test(guard, allow_changes_nothing)
{
	char **out;

	cr_assert_eq(reload_guard(ARGV("uvicorn", "app:app", "--reload"), NULL, RELOAD_ALLOW,
	    &out, msg, sizeof msg), RELOAD_IN_ARGV);
	cr_assert_null(out);
	cr_assert(strstr(msg, "--reload") != NULL);
}

Test(guard, tiny_message_buffer)
{
	char small[8], **out;

	memset(small, 'x', sizeof small);
	cr_assert_eq(reload_guard(ARGV("uvicorn", "--reload"), NULL, RELOAD_FORBID, &out,
	    small, sizeof small), -1);
	cr_assert_eq(strlen(small), sizeof small - 1);
	cr_assert_eq(reload_guard(ARGV("uvicorn", "--reload"), NULL, RELOAD_FORBID, &out,
	    small, 0), -1);
}

/* uvicorn 0.17.6, `uvicorn app:app --reload`, app.py rewritten every 300 ms (by hand). */
static const char *const real_plain[] = {
	"INFO:     Will watch for changes in these directories: ['/tmp/uv']",
	"INFO:     Uvicorn running on http://127.0.0.1:0 (Press CTRL+C to quit)",
	"INFO:     Started reloader process [11903] using statreload",
	"INFO:     Started server process [11913]",
	"INFO:     Waiting for application startup.",
	"INFO:     Application startup complete.",
	"WARNING:  StatReload detected file change in 'app.py'. Reloading...",
	"INFO:     Shutting down",
	"INFO:     Waiting for application shutdown.",
	"INFO:     Application shutdown complete.",
	"INFO:     Finished server process [11913]",
	"INFO:     Started server process [11997]",
	"INFO:     Waiting for application startup.",
	"INFO:     Application startup complete.",
	"WARNING:  StatReload detected file change in 'app.py'. Reloading...",
	"INFO:     Shutting down",
	"INFO:     Waiting for application shutdown.",
	"INFO:     Application shutdown complete.",
	"INFO:     Finished server process [11997]",
	"INFO:     Started server process [12081]",
};

/* The same with --use-colors. */
static const char *const real_color[] = {
	"\033[32mINFO\033[0m:     Will watch for changes in these directories: ['/tmp/uv']",
	"\033[32mINFO\033[0m:     Uvicorn running on \033[1mhttp://127.0.0.1:0\033[0m (Press CTRL+C to quit)",
	"\033[32mINFO\033[0m:     Started reloader process [\033[36m\033[1m12434\033[0m] using \033[36m\033[1mstatreload\033[0m",
	"\033[32mINFO\033[0m:     Started server process [\033[36m12444\033[0m]",
	"\033[32mINFO\033[0m:     Waiting for application startup.",
	"\033[32mINFO\033[0m:     Application startup complete.",
	"\033[33mWARNING\033[0m:  StatReload detected file change in 'app.py'. Reloading...",
	"\033[32mINFO\033[0m:     Shutting down",
	"\033[32mINFO\033[0m:     Waiting for application shutdown.",
	"\033[32mINFO\033[0m:     Application shutdown complete.",
	"\033[32mINFO\033[0m:     Finished server process [\033[36m12444\033[0m]",
	"\033[32mINFO\033[0m:     Started server process [\033[36m12528\033[0m]",
	"\033[32mINFO\033[0m:     Waiting for application startup.",
	"\033[32mINFO\033[0m:     Application startup complete.",
	"\033[33mWARNING\033[0m:  StatReload detected file change in 'app.py'. Reloading...",
	"\033[32mINFO\033[0m:     Shutting down",
	"\033[32mINFO\033[0m:     Waiting for application shutdown.",
	"\033[32mINFO\033[0m:     Application shutdown complete.",
	"\033[32mINFO\033[0m:     Finished server process [\033[36m12528\033[0m]",
	"\033[32mINFO\033[0m:     Started server process [\033[36m12614\033[0m]",
};

/* uvicorn 0.17.6 --workers 3 (no reload): three server processes, no restart. */
static const char *const real_workers[] = {
	"INFO:     Uvicorn running on http://127.0.0.1:0 (Press CTRL+C to quit)",
	"INFO:     Started parent process [13174]",
	"INFO:     Started server process [13185]",
	"INFO:     Waiting for application startup.",
	"INFO:     Application startup complete.",
	"INFO:     Started server process [13184]",
	"INFO:     Waiting for application startup.",
	"INFO:     Application startup complete.",
	"INFO:     Started server process [13183]",
	"INFO:     Waiting for application startup.",
	"INFO:     Application startup complete.",
	"INFO:     Shutting down",
	"INFO:     Finished server process [13183]",
	"INFO:     Finished server process [13184]",
	"INFO:     Finished server process [13185]",
	"INFO:     Stopping parent process [13174]",
};

static struct reload_watch *
watch(int count, int64_t window)
{
	char			 err[128];
	struct reload_watch	*w = reload_watch_new(RELOAD_LOOP_PATTERN, count, window, err,
	    sizeof err);

	cr_assert_not_null(w, "%s", err);
	return w;
}

static bool
line(struct reload_watch *w, const char *s, int64_t now)
{
	return reload_watch_line(w, s, strlen(s), now);
}

Test(pattern, matches_uvicorn_lines_across_versions)
{
	static const char *const yes[] = {
		"WARNING:  StatReload detected file change in 'app.py'. Reloading...",
		"WARNING:  StatReload detected changes in 'app.py'. Reloading...",
		"WARNING:  WatchFiles detected changes in 'app.py'. Reloading...",
		"WARNING:  WatchGodReload detected file change in '['/a/b.py']'. Reloading...",
		"INFO:     Started reloader process [1234] using StatReload",
		"INFO:     Started reloader process [1234] using WatchFiles",
		"INFO:     Started reloader process [1234] using statreload",
		"\033[33mWARNING\033[0m:  WatchFiles detected changes in 'app.py'. Reloading...",
		"\033[32mINFO\033[0m:     Started reloader process [\033[36m\033[1m9\033[0m] using "
		    "\033[36m\033[1mWatchFiles\033[0m",
	};
	static const char *const no[] = {
		"INFO:     Will watch for changes in these directories: ['/tmp/uv']",
		"INFO:     Started server process [1234]",
		"INFO:     Stopping reloader process [1234]",
		"INFO:     Application startup complete.",
		"GET /detected/changes HTTP/1.1 200",
	};
	struct reload_watch	*w = watch(1, 60000);
	size_t			 i;

	for (i = 0; i < nitems(yes); i++)
		cr_assert(line(w, yes[i], 0), "should match: %s", yes[i]);
	for (i = 0; i < nitems(no); i++)
		cr_assert(!line(w, no[i], 0), "should not match: %s", no[i]);
	reload_watch_free(w);
}

/* Feed lines 100 ms apart; the index of the line that reported the loop, or -1. */
static int
feed_all(struct reload_watch *w, const char *const *lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (line(w, lines[i], (int64_t)i * 100))
			return (int)i;
	return -1;
}

Test(watch, real_reload_loop_plain_and_colored)
{
	struct reload_watch *w = watch(3, 60000);

	/* Reloader start, first reload, second reload: the third event. */
	cr_assert_eq(feed_all(w, real_plain, nitems(real_plain)), 14);
	reload_watch_reset(w);
	cr_assert_eq(feed_all(w, real_color, nitems(real_color)), 14);
	reload_watch_reset(w);
	/* One reload counts once: two events after reloader start and one reload. */
	feed_all(w, real_plain, 12);
	cr_assert_eq(reload_watch_events(w, 1200), 2);
	reload_watch_free(w);
}

Test(watch, workers_are_not_restarts)
{
	struct reload_watch *w = watch(1, 60000);

	cr_assert_eq(feed_all(w, real_workers, nitems(real_workers)), -1);
	cr_assert_eq(reload_watch_events(w, 2000), 0);
	reload_watch_free(w);
}

Test(watch, server_restart_without_reload_line)
{
	struct reload_watch *w = watch(2, 60000);

	cr_assert(!line(w, "INFO:     Started server process [10]", 0));	/* the first */
	cr_assert(!line(w, "INFO:     Started server process [10]", 1));	/* repeated */
	cr_assert(!line(w, "INFO:     Finished server process [10]", 2));
	cr_assert(!line(w, "INFO:     Started server process [11]", 3));	/* event 1 */
	cr_assert_eq(reload_watch_events(w, 3), 1);
	cr_assert(!line(w, "INFO:     Finished server process [11]", 4));
	cr_assert(line(w, "INFO:     Started server process [12]", 5));	/* event 2 */
	cr_assert_eq(reload_watch_events(w, 5), 0);	/* cleared after reporting */
	reload_watch_free(w);
}

Test(watch, colours_are_not_seen)
{
	char			 err[128];
	struct reload_watch	*w = watch(1, 60000);

	/* uvicorn --use-colors wraps the PID in escapes. */
	cr_assert(!line(w, "\033[32mINFO\033[0m:     Started server process [\033[36m10\033[0m]", 0));
	cr_assert(!line(w, "\033[32mINFO\033[0m:     Finished server process [\033[36m10\033[0m]", 1));
	cr_assert(line(w, "\033[32mINFO\033[0m:     Started server process [\033[36m11\033[0m]", 2));
	reload_watch_free(w);
	/* A pattern sees the text a terminal shows. */
	w = reload_watch_new("^WARNING:  .*Reloading", 1, 1000, err, sizeof err);
	cr_assert_not_null(w);
	cr_assert(line(w, "\033[33mWARNING\033[0m:  WatchFiles detected changes in 'a'. "
	    "Reloading...", 0));
	reload_watch_free(w);
}

Test(watch, window_with_fake_clock)
{
	static const char ev[] = "WARNING:  StatReload detected file change in 'a'. Reloading...";
	struct reload_watch *w = watch(3, 1000);

	cr_assert(!line(w, ev, 0));
	cr_assert(!line(w, ev, 600));
	cr_assert(!line(w, ev, 1200));	/* the one at 0 is gone: 2 in the window */
	cr_assert_eq(reload_watch_events(w, 1200), 2);
	cr_assert(line(w, ev, 1500));	/* 600, 1200, 1500 */
	cr_assert(!line(w, ev, 1600));	/* history was cleared */
	cr_assert_eq(reload_watch_events(w, 2599), 1);
	cr_assert_eq(reload_watch_events(w, 2601), 0);
	/* Exactly window_ms old still counts. */
	cr_assert(!line(w, ev, 5000));
	cr_assert(!line(w, ev, 5500));
	cr_assert(line(w, ev, 6000));
	reload_watch_free(w);
}

Test(watch, nul_invalid_utf8_and_long_lines)
{
	static const char nul[] = "WARNING:\0 WatchFiles detected changes in 'a'. Reloading...";
	static const char bad[] = "\xff\xfe\xc3 Started reloader process [1] \x80\xbf";
	struct reload_watch	*w = watch(1, 1000);
	char			*big = xmalloc(RELOAD_LINE_MAX * 2);
	static const char	 ev[] = "Started reloader process";

	cr_assert(reload_watch_line(w, nul, sizeof nul - 1, 0));
	cr_assert(reload_watch_line(w, bad, sizeof bad - 1, 0));
	cr_assert(!reload_watch_line(w, "\0\0\0", 3, 0));
	cr_assert(!reload_watch_line(w, "", 0, 0));
	memset(big, 'a', RELOAD_LINE_MAX * 2);
	memcpy(big + 10, ev, strlen(ev));
	cr_assert(reload_watch_line(w, big, RELOAD_LINE_MAX * 2, 0));
	memset(big, 'a', RELOAD_LINE_MAX * 2);
	memcpy(big + RELOAD_LINE_MAX + 10, ev, strlen(ev));	/* past the bound: not seen */
	cr_assert(!reload_watch_line(w, big, RELOAD_LINE_MAX * 2, 0));
	free(big);
	reload_watch_free(w);
}

Test(watch, custom_pattern_and_errors)
{
	char			 err[128];
	struct reload_watch	*w = reload_watch_new("^boom [0-9]+$", 2, 1000, err, sizeof err);

	cr_assert_not_null(w);
	cr_assert(!line(w, "boom 1", 0));
	cr_assert(!line(w, "boom x", 0));
	cr_assert(line(w, "boom 22", 10));
	reload_watch_free(w);
	cr_assert_null(reload_watch_new("(unclosed", 1, 1000, err, sizeof err));
	cr_assert(err[0] != '\0');
	cr_assert_null(reload_watch_new("ok", 0, 1000, err, sizeof err));
	cr_assert_null(reload_watch_new("ok", 1001, 1000, err, sizeof err));
}
