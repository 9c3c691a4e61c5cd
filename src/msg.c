/*
 * msg.c - messages sized to what they say; see msg.h.  Each is formatted
 * twice, once to learn its length and once into an allocation of just
 * that, and replaces the old only when it is whole.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

/*
 * head (len bytes, may be NULL when len is 0) followed by the formatted
 * text, cut to room - 1 bytes in all, into a new string: *ret is NULL when
 * that is empty.  Returns 0 or -ENOMEM.
 */
__attribute__((format(printf, 4, 0)))
static int format_after(const char *head, size_t len, size_t room, const char *fmt,
			va_list ap, char **ret)
{
	size_t max = room > 0 ? room - 1 : 0, n;
	va_list aq;
	char *s;
	int k;

	va_copy(aq, ap);
	k = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	n = k > 0 ? (size_t)k : 0;
	if (len > max)
		len = max;
	if (n > max - len)
		n = max - len;
	if (len + n == 0) {
		*ret = NULL;
		return 0;
	}
	s = malloc(len + n + 1);
	if (!s)
		return -ENOMEM;
	if (len > 0)
		memcpy(s, head, len);
	s[len] = '\0';
	if (n > 0)
		vsnprintf(s + len, n + 1, fmt, ap);
	*ret = s;
	return 0;
}

int msg_vset(char **msg, size_t room, const char *fmt, va_list ap)
{
	char *s = NULL;
	int r = format_after(NULL, 0, room, fmt, ap, &s);

	free(*msg);
	*msg = s;
	return r;
}

int msg_set(char **msg, size_t room, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = msg_vset(msg, room, fmt, ap);
	va_end(ap);
	return r;
}

int msg_append(char **msg, size_t room, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = format_after(*msg, *msg ? strlen(*msg) : 0, room, fmt, ap, &s);
	va_end(ap);
	if (r < 0)
		return r;
	free(*msg);
	*msg = s;
	return 0;
}

void msg_clear(char **msg)
{
	free(*msg);
	*msg = NULL;
}
