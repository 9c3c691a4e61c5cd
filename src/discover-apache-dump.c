/*
 * discover-apache-dump.c - reads the output of `apache2ctl -t -D
 * DUMP_VHOSTS -D DUMP_RUN_CFG -D DUMP_INCLUDES` (the first section of an
 * Apache bundle): the files DUMP_INCLUDES lists, which discover_apache_wants()
 * asks for; whether DUMP_VHOSTS lists a block ("(FILE:LINE)"); ServerRoot;
 * the blocks a macro made, which DUMP_VHOSTS names by the macro:
 * NAME (macro 'M' (defined on line L of "F") used on line U of "G":N).
 * Pure: no I/O; the output is untrusted and read within its length.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "discover-apache-dump.h"

#define AP_MAX_MACROS 16   /* blocks made by macros told apart, for their notes */

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

struct ap_macros {
	struct discovered *d;
	char seen[AP_MAX_MACROS][MAX_VALUE];
	size_t n;
	bool noted_more;
};

/* Whether the block named so was noted already (a block listed per address, or as default). */
static bool ap_macro_seen(struct ap_macros *m, const char *key)
{
	for (size_t i = 0; i < m->n && i < AP_MAX_MACROS; i++)
		if (strcmp(m->seen[i], key) == 0)
			return true;
	if (m->n < AP_MAX_MACROS)
		snprintf(m->seen[m->n], MAX_VALUE, "%s", key);
	m->n++;
	return false;
}

static int ap_macro_line(const char *line, bool cut, void *userdata)
{
	struct ap_macros *m = userdata;
	const char *open = strstr(line, "(macro '"), *used, *file, *q, *end = NULL, *word;
	char name[MAX_VALUE], macro[MAX_VALUE], path[MAX_VALUE];
	unsigned long use;
	char *after;

	if (cut || !open || !(used = strstr(open, ") used on line ")) ||
	    !isdigit((unsigned char)used[15]))
		return 0;
	use = strtoul(used + 15, &after, 10);
	if (strncmp(after, " of \"", 5) != 0)
		return 0;
	file = after + 5;
	for (q = strstr(file, "\":"); q; q = strstr(q + 1, "\":"))
		end = q;
	if (!end || ap_macro_seen(m, open))
		return 0;
	if (m->n > AP_MAX_MACROS)
		return disc_note_once(m->d, &m->noted_more, "more than %d blocks defined by "
				      "macros (mod_macro): not read", AP_MAX_MACROS);
	for (q = open; q > line && q[-1] == ' '; q--)
		;
	for (word = q; word > line && word[-1] != ' '; word--)
		;
	disc_copy_trim(word, (size_t)(q - word), name, sizeof(name));
	disc_copy_trim(open + 8, strcspn(open + 8, "'"), macro, sizeof(macro));
	disc_copy_trim(file, (size_t)(end - file), path, sizeof(path));
	return disc_note(m->d, "%s: defined by a macro (mod_macro) at %s:%lu (Use %s): not read; "
			 "write its endpoints by hand", disc_show(name[0] ? name : "a block").s,
			 disc_show(path).s, use, disc_show(macro).s);
}

int apache_dump_macros(const struct disc_section *dump, struct discovered *d)
{
	struct ap_macros *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->d = d;
	r = disc_for_each_line(dump->text, dump->len, ap_macro_line, m);
	free(m);
	return r;
}
