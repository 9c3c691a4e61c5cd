/*
 * fuzz-conf-scan.c - harness for the configuration comment scanner,
 * conf_scan_config(), on arbitrary bytes (NUL bytes included: the scanner
 * must not rely on the loader having refused them).  It aborts when the
 * scanner breaks its contract: failing with anything but -ENOMEM, reading
 * or writing outside buf[0..len) (the sanitizers see it: the copy has
 * exactly len bytes), changing a byte other than by blanking it to a space,
 * blanking a newline, noting a line the text does not have or an endpoint
 * of a service that was not noted, or finding something more to blank in
 * its own output.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf-scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_headers(const struct conf_scan_header *h, size_t n, unsigned lines,
			  size_t n_services)
{
	for (size_t i = 0; i < n; i++) {
		check(h[i].line >= 1 && h[i].line <= lines);
		check(i == 0 || h[i].line >= h[i - 1].line);
		check(n_services == 0 || h[i].service < n_services);
	}
}

static int same_headers(const struct conf_scan_header *a, const struct conf_scan_header *b,
			size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].line != b[i].line || a[i].service != b[i].service)
			return 0;
	return 1;
}

/* Scans buf; checks what any scan must give; returns 0 or -ENOMEM. */
static int scan(char *buf, size_t size, const uint8_t *before, struct conf_scan *ret)
{
	unsigned lines = 1;
	int r;

	for (size_t i = 0; i < size; i++)
		lines += before[i] == '\n';
	r = conf_scan_config(buf, size, ret);
	check(r == 0 || r == -ENOMEM);
	for (size_t i = 0; i < size; i++)
		check((uint8_t)buf[i] == before[i] || (buf[i] == ' ' && before[i] != '\n'));
	if (r < 0)
		return r;
	check_headers(ret->services, ret->n_services, lines, 0);
	check(ret->n_endpoints == 0 || ret->n_services > 0);
	check_headers(ret->endpoints, ret->n_endpoints, lines, ret->n_services);
	check(ret->warn_days_line <= lines && ret->crit_days_line <= lines);
	check(ret->unclosed_line <= lines && ret->open_line <= lines);
	check(ret->open_string_line <= lines && ret->multiline_string_line <= lines);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_scan first, again;
	char *buf = malloc(size ? size : 1);
	uint8_t *blanked = malloc(size ? size : 1);

	if (!buf || !blanked)
		abort();
	memcpy(buf, data, size);
	if (scan(buf, size, data, &first) == 0) {
		/* Blanking leaves nothing to blank, and the sections where they were. */
		memcpy(blanked, buf, size);
		if (scan(buf, size, blanked, &again) == 0) {
			check(memcmp(buf, blanked, size) == 0);
			check(again.n_services == first.n_services &&
			      again.n_endpoints == first.n_endpoints &&
			      same_headers(again.services, first.services, first.n_services) &&
			      same_headers(again.endpoints, first.endpoints, first.n_endpoints));
			check(again.warn_days_line == first.warn_days_line &&
			      again.crit_days_line == first.crit_days_line &&
			      again.unclosed_line == first.unclosed_line &&
			      again.open_string_line == first.open_string_line);
			conf_scan_free(&again);
		}
		conf_scan_free(&first);
	}
	free(blanked);
	free(buf);
	return 0;
}
