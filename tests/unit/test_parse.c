/*
 * The value parsers of parse.c: durations, signals, booleans, integers, status ranges,
 * URLs, command lines and exit statuses, good and bad.
 */
#include "autoconf.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "parse.h"

static int64_t
dur(const char *s)
{
	const char	*why = NULL;
	int64_t		 ms = -42;

	cr_assert_eq(parse_duration(s, &ms, &why), 0, "'%s' refused: %s", s, why);
	return ms;
}

static const char *
dur_bad(const char *s)
{
	const char	*why = NULL;
	int64_t		 ms = -42;

	cr_assert_eq(parse_duration(s, &ms, &why), -1, "'%s' accepted as %lld", s,
	    (long long)ms);
	cr_assert_not_null(why);
	cr_assert_eq(ms, -42, "'%s' wrote the result", s);
	return why;
}

Test(duration, units)
{
	cr_assert_eq(dur("0"), 0);
	cr_assert_eq(dur("0s"), 0);
	cr_assert_eq(dur("250ms"), 250);
	cr_assert_eq(dur("15s"), 15000);
	cr_assert_eq(dur("2m"), 120000);
	cr_assert_eq(dur("1h"), 3600000);
	cr_assert_eq(dur("1m30s"), 90000);
	cr_assert_eq(dur("1h2m3s4ms"), 3723004);
	cr_assert_eq(dur("1s500ms"), 1500);
	cr_assert_eq(dur("90s"), 90000);
	cr_assert_eq(dur("720h"), PARSE_DURATION_MAX);
}

Test(duration, bad)
{
	cr_assert(strstr(dur_bad("5"), "unit") != NULL);
	cr_assert(strstr(dur_bad("1m30"), "unit") != NULL);
	dur_bad("");
	dur_bad("s");
	dur_bad("ms");
	dur_bad("5x");
	dur_bad("5S");
	dur_bad("5 s");
	dur_bad(" 5s");
	dur_bad("5s ");
	dur_bad("-5s");
	dur_bad("+5s");
	dur_bad("1.5s");
	dur_bad("30s1m");	/* units go from larger to smaller */
	dur_bad("1s1s");
	dur_bad("5sec");
	dur_bad("5d");
	dur_bad("00");
	cr_assert_eq(parse_duration(NULL, &(int64_t){0}, &(const char *){NULL}), -1);
}

Test(duration, bounds)
{
	cr_assert(strstr(dur_bad("721h"), "30 days") != NULL);
	dur_bad("720h1ms");
	dur_bad("2592000001ms");
	cr_assert_eq(dur("2592000000ms"), PARSE_DURATION_MAX);
	dur_bad("99999999999999999999999s");
	dur_bad("9223372036854775807ms");
}

Test(duration, format_round_trip)
{
	static const int64_t values[] = { 0, 1, 250, 999, 1000, 1500, 59999, 60000, 90000,
	    3600000, 3723004, 86400000, PARSE_DURATION_MAX, PARSE_DURATION_MAX - 1 };
	char	buf[32];
	size_t	i;

	format_duration(90000, buf, sizeof buf);
	cr_assert_str_eq(buf, "1m30s");
	format_duration(250, buf, sizeof buf);
	cr_assert_str_eq(buf, "250ms");
	format_duration(0, buf, sizeof buf);
	cr_assert_str_eq(buf, "0");
	format_duration(3600000, buf, sizeof buf);
	cr_assert_str_eq(buf, "1h");
	format_duration(PARSE_DURATION_MAX, buf, sizeof buf);
	cr_assert_str_eq(buf, "720h");
	for (i = 0; i < sizeof values / sizeof values[0]; i++) {
		format_duration(values[i], buf, sizeof buf);
		cr_assert_eq(dur(buf), values[i], "%lld -> %s", (long long)values[i], buf);
	}
	for (i = 0; i < 100000; i += 7) {
		int64_t v = (int64_t)i * 997;

		format_duration(v, buf, sizeof buf);
		cr_assert_eq(dur(buf), v);
	}
	format_duration(3723004, buf, 5);	/* truncated, still terminated */
	cr_assert(strlen(buf) < 5);
}

Test(signal, names)
{
	cr_assert_eq(parse_signal("TERM"), SIGTERM);
	cr_assert_eq(parse_signal("SIGTERM"), SIGTERM);
	cr_assert_eq(parse_signal("term"), SIGTERM);
	cr_assert_eq(parse_signal("sigTerm"), SIGTERM);
	cr_assert_eq(parse_signal("15"), 15);
	cr_assert_eq(parse_signal("HUP"), SIGHUP);
	cr_assert_eq(parse_signal("KILL"), SIGKILL);
	cr_assert_eq(parse_signal("ABRT"), SIGABRT);
	cr_assert_eq(parse_signal("IOT"), SIGABRT);
	cr_assert_eq(parse_signal("CLD"), SIGCHLD);
	cr_assert_eq(parse_signal("WINCH"), SIGWINCH);
	cr_assert_eq(parse_signal("SYS"), SIGSYS);
	cr_assert_eq(parse_signal("1"), 1);
	cr_assert_eq(parse_signal("64"), 64);
}

Test(signal, realtime)
{
	cr_assert_eq(parse_signal("RTMIN"), SIGRTMIN);
	cr_assert_eq(parse_signal("SIGRTMIN"), SIGRTMIN);
	cr_assert_eq(parse_signal("RTMIN+2"), SIGRTMIN + 2);
	cr_assert_eq(parse_signal("sigrtmin+2"), SIGRTMIN + 2);
	cr_assert_eq(parse_signal("RTMAX"), SIGRTMAX);
	cr_assert_eq(parse_signal("SIGRTMAX-1"), SIGRTMAX - 1);
	cr_assert_eq(parse_signal("RTMIN+0"), SIGRTMIN);
	cr_assert_eq(parse_signal("RTMAX-0"), SIGRTMAX);
	cr_assert_eq(parse_signal("RTMAX-2"), SIGRTMAX - 2);
	cr_assert_eq(parse_signal("RTMIN+100"), -1);
	cr_assert_eq(parse_signal("RTMAX-100"), -1);
	cr_assert_eq(parse_signal("RTMIN-1"), -1);
	cr_assert_eq(parse_signal("RTMAX+1"), -1);
	cr_assert_eq(parse_signal("RTMIN+"), -1);
	cr_assert_eq(parse_signal("RTMIN+x"), -1);
}

Test(signal, bad)
{
	static const char *bad[] = { "", "0", "65", "-1", "+15", "15x", "SIG", "TERMX",
	    "SIGSIGTERM", " TERM", "TERM ", "NOPE", "999999999999", "RT" };
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(parse_signal(bad[i]), -1, "'%s' accepted", bad[i]);
	cr_assert_eq(parse_signal(NULL), -1);
}

Test(signal, name_round_trip)
{
	int	s;

	cr_assert_str_eq(signal_name(SIGTERM), "TERM");
	cr_assert_str_eq(signal_name(SIGABRT), "ABRT");
	cr_assert_str_eq(signal_name(SIGCHLD), "CHLD");
	cr_assert_str_eq(signal_name(SIGKILL), "KILL");
	cr_assert_str_eq(signal_name(SIGRTMIN), "RTMIN");
	cr_assert_str_eq(signal_name(SIGRTMIN + 2), "RTMIN+2");
	cr_assert_str_eq(signal_name(SIGRTMAX), "RTMAX");
	cr_assert_str_eq(signal_name(SIGRTMAX - 1), "RTMAX-1");
	cr_assert_str_eq(signal_name(0), "0");
	cr_assert_str_eq(signal_name(200), "200");
	for (s = 1; s <= SIGRTMAX; s++)
		cr_assert_eq(parse_signal(signal_name(s)), s, "%d -> %s", s, signal_name(s));
}

Test(bool, values)
{
	cr_assert_eq(parse_bool("yes"), 1);
	cr_assert_eq(parse_bool("True"), 1);
	cr_assert_eq(parse_bool("ON"), 1);
	cr_assert_eq(parse_bool("1"), 1);
	cr_assert_eq(parse_bool("no"), 0);
	cr_assert_eq(parse_bool("false"), 0);
	cr_assert_eq(parse_bool("off"), 0);
	cr_assert_eq(parse_bool("0"), 0);
	cr_assert_eq(parse_bool(""), -1);
	cr_assert_eq(parse_bool("y"), -1);
	cr_assert_eq(parse_bool("2"), -1);
	cr_assert_eq(parse_bool("yes "), -1);
	cr_assert_eq(parse_bool(NULL), -1);
}

Test(int, ranges)
{
	long	n = -7;

	cr_assert_eq(parse_int("5", 1, 10, &n), 0);
	cr_assert_eq(n, 5);
	cr_assert_eq(parse_int("1", 1, 10, &n), 0);
	cr_assert_eq(parse_int("10", 1, 10, &n), 0);
	cr_assert_eq(parse_int("-3", -5, 5, &n), 0);
	cr_assert_eq(n, -3);
	n = 99;
	cr_assert_eq(parse_int("0", 1, 10, &n), -1);
	cr_assert_eq(parse_int("11", 1, 10, &n), -1);
	cr_assert_eq(parse_int("", 1, 10, &n), -1);
	cr_assert_eq(parse_int(" 5", 1, 10, &n), -1);
	cr_assert_eq(parse_int("5 ", 1, 10, &n), -1);
	cr_assert_eq(parse_int("5x", 1, 10, &n), -1);
	cr_assert_eq(parse_int("0x5", 0, 10, &n), -1);
	cr_assert_eq(parse_int("99999999999999999999", 0, 10, &n), -1);
	cr_assert_eq(parse_int(NULL, 0, 10, &n), -1);
	cr_assert_eq(n, 99, "a failure wrote the result");
}

Test(status, ranges)
{
	struct status_ranges	r;
	const char		*why;

	cr_assert_eq(parse_status_ranges("200-399", &r, &why), 0);
	cr_assert_eq(r.n, 1);
	cr_assert(status_ranges_match(&r, 200));
	cr_assert(status_ranges_match(&r, 399));
	cr_assert_not(status_ranges_match(&r, 199));
	cr_assert_not(status_ranges_match(&r, 400));

	cr_assert_eq(parse_status_ranges("200,204, 301-308", &r, &why), 0);
	cr_assert_eq(r.n, 3);
	cr_assert(status_ranges_match(&r, 204));
	cr_assert(status_ranges_match(&r, 305));
	cr_assert_not(status_ranges_match(&r, 201));

	cr_assert_eq(parse_status_ranges("100,101,102,103,200,201,202,203", &r, &why), 0);
	cr_assert_eq(r.n, 8);
}

Test(status, bad)
{
	static const char *bad[] = { "", "abc", "99", "600", "1000", "200-", "-200",
	    "399-200", "200,", ",200", "200,,204", "200 204", "20", "2000",
	    "100,101,102,103,200,201,202,203,204", "200-399x" };
	struct status_ranges	r;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		cr_assert_eq(parse_status_ranges(bad[i], &r, &why), -1, "'%s' accepted", bad[i]);
		cr_assert_not_null(why);
	}
}

static struct url
url_ok(int (*fn)(const char *, struct url *, const char **), const char *s)
{
	struct url	u;
	const char	*why = NULL;

	cr_assert_eq(fn(s, &u, &why), 0, "'%s' refused: %s", s, why);
	return u;
}

static const char *
url_bad(int (*fn)(const char *, struct url *, const char **), const char *s)
{
	struct url	u;
	const char	*why = NULL;

	cr_assert_eq(fn(s, &u, &why), -1, "'%s' accepted", s);
	cr_assert_not_null(why);
	return why;
}

Test(url, http)
{
	struct url u;

	u = url_ok(parse_http_url, "http://127.0.0.1:8000/health");
	cr_assert_eq(u.scheme, URL_HTTP);
	cr_assert_str_eq(u.host, "127.0.0.1");
	cr_assert_eq(u.port, 8000);
	cr_assert_str_eq(u.path, "/health");

	u = url_ok(parse_http_url, "http://example.com");
	cr_assert_str_eq(u.host, "example.com");
	cr_assert_eq(u.port, 80);
	cr_assert_str_eq(u.path, "/");

	u = url_ok(parse_http_url, "HTTP://app:8080/ready?full=1");
	cr_assert_str_eq(u.path, "/ready?full=1");
	u = url_ok(parse_http_url, "http://app?x=1");
	cr_assert_str_eq(u.path, "/?x=1");
	u = url_ok(parse_http_url, "http://app/a#frag");
	cr_assert_str_eq(u.path, "/a");

	u = url_ok(parse_http_url, "http://[::1]:9000/h");
	cr_assert_str_eq(u.host, "::1");
	cr_assert_eq(u.port, 9000);
	url_bad(parse_http_url, "http://[fe80::1%25eth0]/");	/* zone ids: not supported */
}

Test(url, http_bad)
{
	cr_assert(strstr(url_bad(parse_http_url, "https://x/"), "https") != NULL);
	cr_assert(strstr(url_bad(parse_http_url, "http:///path"), "host") != NULL);
	cr_assert(strstr(url_bad(parse_http_url, "http://h:0/"), "port") != NULL);
	url_bad(parse_http_url, "http://h:65536/");
	url_bad(parse_http_url, "http://h:/");
	url_bad(parse_http_url, "http://h:x/");
	url_bad(parse_http_url, "http://h:-1/");
	url_bad(parse_http_url, "http://h:80x/");
	url_bad(parse_http_url, "http://::1/");
	url_bad(parse_http_url, "http://[::1/");
	url_bad(parse_http_url, "http://[nope]/");
	url_bad(parse_http_url, "http://[::1]x/");
	url_bad(parse_http_url, "http://[]/");
	url_bad(parse_http_url, "http://user:pw@h/");
	url_bad(parse_http_url, "http://h/a b");
	url_bad(parse_http_url, "http://h/a\nb");
	url_bad(parse_http_url, "h:80/x");
	url_bad(parse_http_url, "ftp://h/");
	url_bad(parse_http_url, "");
	url_bad(parse_http_url, NULL);
}

Test(url, targets)
{
	struct url u;

	u = url_ok(parse_target, "tcp://redis:6379");
	cr_assert_eq(u.scheme, URL_TCP);
	cr_assert_str_eq(u.host, "redis");
	cr_assert_eq(u.port, 6379);
	u = url_ok(parse_target, "tcp://[::1]:5432");
	cr_assert_str_eq(u.host, "::1");
	u = url_ok(parse_target, "http://auth:8080/ready");
	cr_assert_eq(u.scheme, URL_HTTP);
	url_bad(parse_target, "tcp://redis");
	url_bad(parse_target, "tcp://redis:6379/x");
	url_bad(parse_target, "redis:6379");
	url_bad(parse_target, "https://x/");
	url_bad(parse_target, "udp://x:1");
}

Test(url, listen)
{
	struct url u;

	u = url_ok(parse_listen, "tcp://0.0.0.0:8000");
	cr_assert_eq(u.scheme, URL_TCP);
	cr_assert_eq(u.port, 8000);
	u = url_ok(parse_listen, "tcp://[::]:8000");
	cr_assert_str_eq(u.host, "::");
	u = url_ok(parse_listen, "unix:/run/app.sock");
	cr_assert_eq(u.scheme, URL_UNIX);
	cr_assert_str_eq(u.path, "/run/app.sock");
	cr_assert_str_eq(u.host, "");
	url_bad(parse_listen, "unix:");
	url_bad(parse_listen, "http://x/");
	url_bad(parse_listen, "0.0.0.0:8000");
	url_bad(parse_listen, "unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
}

Test(url, hostport)
{
	struct url u;

	u = url_ok(parse_hostport, "127.0.0.1:9000");
	cr_assert_str_eq(u.host, "127.0.0.1");
	cr_assert_eq(u.port, 9000);
	u = url_ok(parse_hostport, "[::1]:9000");
	cr_assert_str_eq(u.host, "::1");
	url_bad(parse_hostport, "127.0.0.1");
	u = url_ok(parse_hostport, ":9000");
	cr_assert_str_eq(u.host, "127.0.0.1", "a port alone is loopback's");
	cr_assert_eq(u.port, 9000);
	u = url_ok(parse_hostport, "9001");
	cr_assert_str_eq(u.host, "127.0.0.1");
	cr_assert_eq(u.port, 9001);
	url_bad(parse_hostport, "99999");
	url_bad(parse_hostport, ":");
	url_bad(parse_hostport, "9000x");
	url_bad(parse_hostport, "http://h:9000");
	url_bad(parse_hostport, "h:9000/x");
	url_bad(parse_hostport, "::1:9000");
}

static char **
split(const char *s)
{
	const char	*why = NULL;
	char		**argv = parse_argv(s, &why);

	cr_assert_not_null(argv, "'%s' refused: %s", s, why);
	return argv;
}

static void
split_is(const char *s, const char *const *want)
{
	char	**argv = split(s);
	size_t	  n = 0;

	while (want[n] != NULL)
		n++;
	cr_assert_eq(argv_len(argv), n, "'%s': %zu words, want %zu", s, argv_len(argv), n);
	for (n = 0; want[n] != NULL; n++)
		cr_assert_str_eq(argv[n], want[n], "'%s' word %zu", s, n);
	cr_assert_null(argv[n]);
	argv_free(argv);
}

#define WORDS(...) ((const char *const []){ __VA_ARGS__, NULL })

Test(argv, split)
{
	split_is("uvicorn app.main:app --host 0.0.0.0 --port 8000",
	    WORDS("uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"));
	split_is("  a \t b  ", WORDS("a", "b"));
	split_is("'a b' \"c d\"", WORDS("a b", "c d"));
	split_is("a' 'b", WORDS("a b"));
	split_is("a\\ b", WORDS("a b"));
	split_is("'it''s'", WORDS("its"));
	split_is("\"say \\\"hi\\\"\"", WORDS("say \"hi\""));
	split_is("\"a\\nb\"", WORDS("a\\nb"));		/* only \\ \" \$ \` are escapes */
	split_is("'a\\b'", WORDS("a\\b"));		/* nothing is special in '...' */
	split_is("'' \"\"", WORDS("", ""));
	split_is("$HOME ~ *.py", WORDS("$HOME", "~", "*.py"));	/* no expansion */
	split_is("sh -c 'echo $1; exit 3'", WORDS("sh", "-c", "echo $1; exit 3"));
	split_is("a\\\nb c", WORDS("ab", "c"));
	split_is("a \\\n b", WORDS("a", "b"));
}

Test(argv, empty)
{
	char **argv = split("");

	cr_assert_eq(argv_len(argv), 0);
	cr_assert_null(argv[0]);
	argv_free(argv);
	argv = split("   ");
	cr_assert_eq(argv_len(argv), 0);
	argv_free(argv);
	argv_free(NULL);
	cr_assert_eq(argv_len(NULL), 0);
}

Test(argv, bad)
{
	static const char *bad[] = { "'open", "a \"open", "\"a\\\"", "trailing\\" };
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		cr_assert_null(parse_argv(bad[i], &why), "'%s' accepted", bad[i]);
		cr_assert_not_null(why);
	}
	why = NULL;
	parse_argv("'x", &why);
	cr_assert_str_eq(why, "unterminated quote");
}

Test(exit, status)
{
	cr_assert_eq(exit_code_of_status(0), 0);
	cr_assert_eq(exit_code_of_status(W_EXITCODE(3, 0)), 3);
	cr_assert_eq(exit_code_of_status(W_EXITCODE(255, 0)), 255);
	cr_assert_eq(exit_code_of_status(W_EXITCODE(0, SIGTERM)), 128 + SIGTERM);
	cr_assert_eq(exit_code_of_status(W_EXITCODE(0, SIGKILL)), 137);
	cr_assert_eq(exit_code_of_status(W_EXITCODE(0, SIGSEGV) | 0x80), 128 + SIGSEGV);
}

Test(exit, real_children)
{
	static const int codes[] = { 0, 1, 2, 42, 126, 127, 255 };
	size_t	i;
	int	status;

	for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		pid_t pid = fork();

		cr_assert_neq(pid, -1);
		if (pid == 0)
			_exit(codes[i]);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert_eq(exit_code_of_status(status), codes[i]);
	}
	{
		pid_t pid = fork();

		cr_assert_neq(pid, -1);
		if (pid == 0) {
			signal(SIGUSR1, SIG_DFL);
			raise(SIGUSR1);
			_exit(0);
		}
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert_eq(exit_code_of_status(status), 128 + SIGUSR1);
	}
}

/* Patterns glibc's regcomp() would take gigabytes for are refused before it runs. */
Test(regex, repetition_is_bounded)
{
	const char	*why;
	char		 deep[200];
	int		 i;

	cr_assert_eq(parse_regex_check("(detected (file )?changes? in .*Reloading|Started "
	    "reloader process)", &why), 0, "the default");
	cr_assert_eq(parse_regex_check("a{1,255}b+(cd)*[]x+*]{2}[[:alpha:]+*]+\\++", &why), 0);
	cr_assert_eq(parse_regex_check("(a+)+", &why), 0, "small nesting is fine");
	cr_assert_eq(parse_regex_check("(a{100}){99}", &why), 0, "9999 nodes");
	cr_assert_eq(parse_regex_check("a{,x}{", &why), 0, "not intervals: characters");
	cr_assert_eq(parse_regex_check("reload++++++++", &why), -1);
	cr_assert_str_eq(why, "a repetition of a repetition (undefined in POSIX)");
	cr_assert_eq(parse_regex_check("a*?", &why), -1);
	cr_assert_eq(parse_regex_check("a{2}{3}", &why), -1);
	cr_assert_eq(parse_regex_check("(a{100}){100}", &why), -1, "10100 nodes");
	cr_assert_eq(parse_regex_check("a{20000}", &why), -1);
	cr_assert_eq(parse_regex_check("x{99999999999999999999}", &why), -1, "no overflow");
	/* ((((a+)+)+)+...): doubles with every level. */
	for (i = 0; i < 20; i++)
		deep[i] = '(';
	deep[20] = 'a';
	for (i = 0; i < 20; i++)
		memcpy(deep + 21 + 2 * i, ")+", 2);
	deep[61] = '\0';
	cr_assert_eq(parse_regex_check(deep, &why), -1, "%s", deep);
	deep[21 + 2 * 8] = '\0';	/* 8 levels: 2^8 */
	cr_assert_eq(parse_regex_check(deep + 12, &why), 0, "%s", deep + 12);
}
