/*
 * discover-bundle.c - reading a bundle (see discover-int.h): the files a
 * daemon without a full configuration dump (Apache, HAProxy) names, read by
 * discover-files.c and handed to its parser as one text.
 *
 * A bundle is a sequence of sections, each a header line
 * "@@ KIND LENGTH PATH" and exactly LENGTH bytes after it, then a newline.
 * The length, not a marker, ends a section, so no file's contents can
 * pose as another file.  A bundle is untrusted text all the same (it is
 * what the fuzzer feeds the parsers): a header that does not parse ends
 * the bundle.  Pure: no I/O.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "discover-int.h"

bool disc_section_next(const char *text, size_t len, size_t *cursor, struct disc_section *ret)
{
	const char *p = text + *cursor, *end = text + len, *nl, *path;
	size_t n = 0;

	if (*cursor >= len || (size_t)(end - p) < 7 || memcmp(p, "@@ ", 3) != 0 || p[4] != ' ' ||
	    !(nl = memchr(p, '\n', (size_t)(end - p))))
		return false;
	for (path = p + 5; path < nl && isdigit((unsigned char)*path); path++) {
		if (n > len)
			return false;
		n = n * 10 + (size_t)(*path - '0');
	}
	if (path == p + 5 || path >= nl || *path != ' ' || (size_t)(nl - ++path) >= MAX_VALUE ||
	    memchr(path, '\0', (size_t)(nl - path)) || n > (size_t)(end - nl - 1))
		return false;
	ret->kind = p[3];
	memcpy(ret->path, path, (size_t)(nl - path));
	ret->path[nl - path] = '\0';
	ret->text = nl + 1;
	ret->len = n;
	*cursor = (size_t)(nl + 1 - text) + n + 1;
	return true;
}

bool disc_section_find(const char *text, size_t len, const char *kinds, const char *path,
		       struct disc_section *ret)
{
	struct disc_section s;
	size_t cursor = 0;

	while (disc_section_next(text, len, &cursor, &s))
		if (strchr(kinds, s.kind) && strcmp(s.path, path) == 0) {
			*ret = s;
			return true;
		}
	return false;
}
