/*
 * discover-apache-dump.c - reads the output of `apache2ctl -t -D
 * DUMP_VHOSTS -D DUMP_RUN_CFG -D DUMP_INCLUDES` (the first section of an
 * Apache bundle): the files DUMP_INCLUDES lists, which discover_apache_wants()
 * asks for; whether DUMP_VHOSTS lists a block ("(FILE:LINE)"); ServerRoot.
 * Pure: no I/O; the output is untrusted and read within its length.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "discover.h"
#include "discover-apache-dump.h"

bool apache_dump_lists(const struct disc_section *dump, const char *file, unsigned line)
{
	char want[MAX_VALUE + 32];
	size_t n = (size_t)snprintf(want, sizeof(want), "(%s:%u)", file, line);

	for (const char *p = dump->text, *end = p + dump->len;
	     p && (size_t)(end - p) >= n; p = memchr(p + 1, '(', (size_t)(end - p - 1)))
		if (memcmp(p, want, n) == 0)
			return true;
	return false;
}

const char *apache_dump_included(const char *line, bool cut)
{
	const char *p = line + strspn(line, " \t"), *close;

	if (cut || *p != '(' || !(close = strstr(p, ") /")) || close - p > 12)
		return NULL;
	return close + 2;
}

struct ap_root {
	char *out;
	size_t outlen;
};

/* ServerRoot: "/etc/apache2" */
static int ap_root_line(const char *line, bool cut, void *userdata)
{
	struct ap_root *root = userdata;

	if (!cut && strncmp(line, "ServerRoot: \"", 13) == 0)
		disc_copy_trim(line + 13, strcspn(line + 13, "\""), root->out, root->outlen);
	return 0;
}

void apache_dump_root(const struct disc_section *dump, char *out, size_t outlen)
{
	struct ap_root root = { out, outlen };

	disc_for_each_line(dump->text, dump->len, ap_root_line, &root);
}

struct ap_want {
	discover_want_fn want;
	void *userdata;
};

static int ap_include_line(const char *line, bool cut, void *userdata)
{
	struct ap_want *w = userdata;
	const char *path = apache_dump_included(line, cut);

	return path ? w->want('f', path, w->userdata) : 0;
}

int discover_apache_wants(const char *bundle, size_t len, discover_want_fn want, void *userdata)
{
	struct ap_want w = { want, userdata };
	struct disc_section dump;
	size_t cursor = 0;

	if (!disc_section_next(bundle, len, &cursor, &dump) || dump.kind != 'c')
		return 0;
	return disc_for_each_line(dump.text, dump.len, ap_include_line, &w);
}
