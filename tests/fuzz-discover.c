/*
 * fuzz-discover.c - libFuzzer harness for discover's parsers: arbitrary
 * bytes as `doveconf -P -n`, as `postconf -n -x` and `postconf -M -x` (the
 * input split at its first NUL, or in half), as `nginx -T`, as
 * `exim -bP`, and as the bundles of files that Apache's and HAProxy's
 * parsers read (and direct the reading of: their wants functions).  It aborts
 * when a parser breaks its contract: failing with anything but -ENOMEM,
 * more endpoints or notes than the bounds, an endpoint without a usable
 * name, address or port, or a name or path that could not be written into
 * certwatch.conf unchanged.
 *
 * make check replays tests/corpus/discover (pieces of real dumps); how to
 * fuzz: tests/fuzz-replay.c.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "starttls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static int printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static void check_result(int r, struct discovered *d)
{
	check(r == 0 || r == -ENOMEM);
	if (r < 0)
		return;
	check(d->n_endpoints <= DISCOVER_MAX_ENDPOINTS && d->n_notes <= DISCOVER_MAX_NOTES);
	for (size_t i = 0; i < d->n_endpoints; i++) {
		const struct discovered_endpoint *e = &d->endpoints[i];
		size_t n = strlen(e->name);

		check(n > 0 && n <= 64 && e->name[0] != '-' && e->name[0] != '.');
		check(strspn(e->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789._-") == n);
		for (size_t j = 0; j < i; j++)
			check(strcmp(e->name, d->endpoints[j].name) != 0);
		check(e->port > 0 && e->address && printable(e->address));
		check(e->starttls < (int)starttls_n_drivers);
		check(!e->sni || printable(e->sni));
		check(!e->cert || printable(e->cert));
		check(!e->key || printable(e->key));
	}
	for (size_t i = 0; i < d->n_notes; i++)
		check(printable(d->notes[i]));
	discovered_done(d);
}

/*
 * discover_want_fn: a known kind, and a path that fits in a bundle's
 * header line (a relative one is refused by the reader, not here).
 */
static int want(char kind, const char *path, void *userdata)
{
	(void)userdata;
	check((kind == 'f' || kind == 'p') && path[0] && !strchr(path, '\n'));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(data, '\0', size);
	size_t cut = nul ? (size_t)(nul - text) : size / 2;
	struct discovered d;

	check_result(discover_dovecot(text, size, NULL, &d), &d);
	check_result(discover_postfix(text, cut, text + cut, size - cut, &d), &d);
	check_result(discover_nginx(text, size, &d), &d);
	check_result(discover_exim(text, size, &d), &d);
	check_result(discover_apache(text, size, &d), &d);
	check_result(discover_haproxy(text, size, &d), &d);
	check(discover_apache_wants(text, size, want, NULL) == 0);
	check(discover_haproxy_wants(text, size, want, NULL) == 0);
	return 0;
}
