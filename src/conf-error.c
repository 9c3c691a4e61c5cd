/*
 * conf-error.c - the messages of one configuration load: every error is
 * kept, one per line, as "FILE:LINE: what is wrong; what would be right",
 * and the first error's errno is what conf_load() returns.  Nothing is
 * printed: the caller decides.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf-int.h"
#include "util.h"

void conf_error(struct conf_errors *e, int error, const char *file, unsigned line,
		const char *fmt, ...)
{
	char msg[CONF_MAX_MESSAGE];
	const char *sep = e->used > 0 ? "\n" : "";
	size_t room;
	va_list ap;
	int n;

	if (e->first == 0)
		e->first = error;
	e->n++;
	if (!e->buf || e->len == 0 || e->used >= e->len - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	room = e->len - e->used;
	if (file && line > 0)
		n = snprintf(e->buf + e->used, room, "%s%s:%u: %s", sep, file, line, msg);
	else if (file)
		n = snprintf(e->buf + e->used, room, "%s%s: %s", sep, file, msg);
	else
		n = snprintf(e->buf + e->used, room, "%s%s", sep, msg);
	if (n > 0)
		e->used += (size_t)n < room ? (size_t)n : room - 1;
}

struct conf_shown conf_show(const char *v)
{
	struct conf_shown out;

	escape_bytes(v, v ? strlen(v) : 0, out.s, sizeof(out.s));
	return out;
}
