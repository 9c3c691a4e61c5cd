/*
 * discover-text.c - the text helpers that more than one parser of a
 * daemon's dump needs (see discover-int.h): trimming, lines, lists,
 * addresses, ports, and how untrusted text is shown in a note.
 *
 * A dump is untrusted text: every helper bounds what it copies, a line
 * with a NUL byte is skipped rather than silently shortened, and text
 * that could not be written back into certwatch.conf unchanged is refused
 * by disc_printable().  Pure: no I/O.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discover-int.h"
#include "util.h"

struct disc_shown disc_show(const char *s)
{
	struct disc_shown r;

	escape_bytes(s, s ? strlen(s) : 0, r.s, sizeof(r.s));
	return r;
}

bool disc_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

void disc_copy_trim(const char *s, size_t n, char *out, size_t outlen)
{
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

int disc_for_each_line(const char *text, size_t len, disc_line_fn fn, void *userdata)
{
	char line[MAX_LINE + 1];
	size_t i = 0;
	int r;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		size_t keep = n > MAX_LINE ? MAX_LINE : n;

		memcpy(line, text + i, keep);
		line[keep] = '\0';
		/* An embedded NUL would silently shorten the line: refuse it. */
		if (memchr(text + i, '\0', keep) == NULL && (r = fn(line, n > MAX_LINE, userdata)) < 0)
			return r;
		i += n + 1;
	}
	return 0;
}

const char *disc_list_next(const char **cursor, size_t *ret_len)
{
	const char *p = *cursor + strspn(*cursor, ", \t");
	size_t n = strcspn(p, ", \t");

	*cursor = p + n;
	if (n == 0)
		return NULL;
	*ret_len = n;
	return p;
}

void disc_connect_address(const char *listen, char *out, size_t outlen)
{
	char a[MAX_VALUE];
	size_t n;

	disc_copy_trim(listen, strlen(listen), a, sizeof(a));
	n = strlen(a);
	if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
		memmove(a, a + 1, n - 2);
		a[n - 2] = '\0';
	}
	if (a[0] == '\0' || strcmp(a, "*") == 0 || strcmp(a, "0.0.0.0") == 0)
		snprintf(out, outlen, "127.0.0.1");
	else if (strcmp(a, "::") == 0 || strcmp(a, "::0") == 0)
		snprintf(out, outlen, "::1");
	else
		snprintf(out, outlen, "%s", a);
}

bool disc_pick_address(const char *list, char *out, size_t outlen)
{
	char first[MAX_VALUE] = "";
	bool v6any = false;
	const char *p = list, *word;
	size_t n;

	while ((word = disc_list_next(&p, &n))) {
		char item[MAX_VALUE];

		disc_copy_trim(word, n, item, sizeof(item));
		if (strcmp(item, "*") == 0 || strcmp(item, "0.0.0.0") == 0 ||
		    strcasecmp(item, "all") == 0) {
			snprintf(out, outlen, "127.0.0.1");
			return true;
		}
		if (strcmp(item, "::") == 0 || strcmp(item, "[::]") == 0)
			v6any = true;
		else if (!first[0])
			snprintf(first, sizeof(first), "%s", item);
	}
	if (first[0]) {
		disc_connect_address(first, out, outlen);
		return true;
	}
	if (v6any) {
		snprintf(out, outlen, "::1");
		return true;
	}
	return false;
}

int disc_parse_port(const char *s)
{
	char *end;
	long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

void disc_wildcard_name(const char *wildcard, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s%s", DISC_WILDCARD_LABEL, wildcard + 1);
}
