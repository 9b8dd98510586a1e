/* Allocation wrappers: tend cannot do anything useful without memory, so die loudly. */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

static void TEND_NORETURN
oom(void)
{
	static const char msg[] = "tend: out of memory\n";

	(void)!write(STDERR_FILENO, msg, sizeof msg - 1);
	_exit(70);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t nmemb, size_t n)
{
	void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *old, size_t nmemb, size_t n)
{
	void *p;

	if (n != 0 && nmemb > SIZE_MAX / n)
		oom();
	p = realloc(old, nmemb * n != 0 ? nmemb * n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		oom();
	return p;
}

int
xasprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	return n;
}
