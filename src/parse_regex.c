/*
 * A guard in front of regcomp() for patterns from the configuration. glibc compiles
 * "X+" as "XX*" and "X{n}" as n copies of X, so the compiled size multiplies with
 * every repetition nested in another: "a+++...+" (80 of them) or "((a+)+)+..." takes
 * gigabytes before regcomp() returns. POSIX leaves adjacent repetitions undefined, so
 * those are refused; otherwise the expanded size is estimated (an upper bound) and a
 * pattern past PARSE_REGEX_MAX nodes is refused. Pure: no I/O, no allocation.
 */
#include "autoconf.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

#define DEPTH_MAX 64	/* groups nested deeper are refused (regcomp's own limit is near) */

/* The end of a bracket expression starting at p ('['); NULL if unterminated. */
static const char *
bracket_end(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')		/* a leading ']' is literal */
		p++;
	for (; *p != '\0'; p++) {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char close = p[1];

			for (p += 2; *p != '\0' && !(*p == close && p[1] == ']'); p++)
				;
			if (*p == '\0')
				return NULL;
			p++;
		} else if (*p == ']')
			return p;
	}
	return NULL;
}

/* "{n}", "{n,}", "{n,m}" at p: the largest count it allows (n + 1 when unbounded), and
 * the end; 0 if p does not start an interval (glibc then reads '{' as a character). */
static int64_t
interval(const char *p, const char **end)
{
	int64_t	n = 0, m = -1;

	if (*p != '{' || !isdigit((unsigned char)p[1]))
		return 0;
	for (p++; isdigit((unsigned char)*p); p++)
		if ((n = n * 10 + (*p - '0')) > PARSE_REGEX_MAX)
			n = PARSE_REGEX_MAX + 1;
	if (*p == ',') {
		p++;
		if (isdigit((unsigned char)*p)) {
			for (m = 0; isdigit((unsigned char)*p); p++)
				if ((m = m * 10 + (*p - '0')) > PARSE_REGEX_MAX)
					m = PARSE_REGEX_MAX + 1;
		} else
			m = n + 1;
	}
	if (*p != '}')
		return 0;
	*end = p + 1;
	if (m < n)
		m = n;
	return m > 0 ? m : 1;
}

int
parse_regex_check(const char *s, const char **why)
{
	int64_t		 size[DEPTH_MAX + 1] = { 0 }, last = 0, mult;
	const char	*p, *end;
	bool		 quantified = false;
	int		 depth = 0;

	for (p = s; *p != '\0'; p++) {
		mult = 0;
		end = p + 1;
		if (*p == '*' || *p == '+')
			mult = 2;
		else if (*p == '?')
			mult = 1;
		else if (*p == '{')
			mult = interval(p, &end);
		if (mult > 0 && last > 0) {
			if (quantified) {
				*why = "a repetition of a repetition (undefined in POSIX)";
				return -1;
			}
			size[depth] += last * (mult - 1);
			last *= mult;
			quantified = true;
			p = end - 1;
		} else {
			quantified = false;
			switch (*p) {
			case '(':
				if (depth == DEPTH_MAX) {
					*why = "groups nested too deep";
					return -1;
				}
				size[++depth] = 0;
				last = 0;
				continue;
			case ')':
				if (depth == 0) {
					last = 1;	/* a literal ')' */
					break;
				}
				last = size[depth--] + 1;
				break;
			case '|':
				last = 0;
				continue;
			case '[':
				if ((end = bracket_end(p)) != NULL)
					p = end;
				last = 1;
				break;
			case '\\':
				if (p[1] != '\0')
					p++;
				last = 1;
				break;
			default:
				last = 1;
				break;
			}
			size[depth] += last;
		}
		if (size[depth] > PARSE_REGEX_MAX || last > PARSE_REGEX_MAX) {
			*why = "too much repetition (it would take too much memory to compile)";
			return -1;
		}
	}
	return 0;
}
