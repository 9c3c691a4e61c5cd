/*
 * discover-fixture.c - what the unit tests of discover's parsers share:
 * reading a fixture from tests/discover-fixtures and rendering what a
 * parser found as text to compare (see discover-fixture.h).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "discover.h"
#include "starttls.h"
#include "../tests/discover-fixture.h"

static char fixdir[PATH_MAX];

void fixture_dir(const char *srcdir)
{
	snprintf(fixdir, sizeof(fixdir), "%s/discover-fixtures", srcdir ? srcdir : "tests");
}

const char *fixture_dirname(void)
{
	return fixdir;
}

/* Reads a fixture; aborts if it is missing (a broken test tree is no pass). */
char *fixture(const char *name, size_t *ret_len)
{
	char path[PATH_MAX * 2];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", fixdir, name);
	f = fopen(path, "re");
	if (!f) {
		printf("Bail out! cannot open fixture %s\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	buf[n] = '\0';
	fclose(f);
	*ret_len = (size_t)n;
	return buf;
}

/*
 * One line per endpoint, "NAME ADDRESS PORT PROTO SNI CERT KEY", with "tls"
 * for implicit TLS and "-" for an inherited value, then " +ALTCERT" for
 * each alternative pair, " chain=FILE", " postfix" and " key-type=TYPE"
 * when there are: compared as a whole, so an extra or a missing endpoint
 * fails the test.
 */
const char *render(const struct discovered *d)
{
	static char buf[16384];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n_endpoints; i++) {
		const struct discovered_endpoint *e = &d->endpoints[i];
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s %s %u %s %s %s %s", e->name,
				      e->address, e->port,
				      e->starttls >= 0 ? starttls_drivers[e->starttls].name : "tls",
				      e->sni ? e->sni : "-", e->cert ? e->cert : "-",
				      e->key ? e->key : "-");
		for (size_t j = 0; j < e->n_alt; j++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " +%s", e->alt[j].cert);
		if (e->chain)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " chain=%s", e->chain);
		if (e->cert && e->format == PAIR_FORMAT_POSTFIX_CHAIN_FILES)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " postfix");
		if (e->key_type != KEY_TYPE_AUTO)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " key-type=%s",
					      key_type_to_string(e->key_type));
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n");
	}
	return buf;
}

const char *notes(const struct discovered *d)
{
	static char buf[8192];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n_notes; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\n", d->notes[i]);
	return buf;
}
