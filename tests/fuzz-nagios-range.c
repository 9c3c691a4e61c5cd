/*
 * fuzz-nagios-range.c - harness for the plugin's threshold ranges: the
 * input, up to its first NUL, is a -w or -c argument.  It aborts when
 * nagios_range_parse() breaks its contract (anything but 0 or -EINVAL; a
 * range whose start exceeds its end, or that is NaN), when
 * nagios_range_format() writes a range that does not parse back to itself
 * once formatted (four decimals may round a number once, never twice) or
 * does not fit 64 bytes, or when nagios_range_alert() disagrees with the
 * range at its ends: they belong to the range, numbers one beyond do
 * not, and "@" turns the answer round.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nagios-range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static int same(const struct nagios_range *a, const struct nagios_range *b)
{
	return a->start == b->start && a->end == b->end && a->inside == b->inside;
}

static void check_alerts(const struct nagios_range *r)
{
	if (!isinf(r->start)) {
		check(nagios_range_alert(r, r->start) == r->inside);
		check(nagios_range_alert(r, r->start - 1) == !r->inside);
	}
	if (!isinf(r->end)) {
		check(nagios_range_alert(r, r->end) == r->inside);
		check(nagios_range_alert(r, r->end + 1) == !r->inside);
	}
	check(nagios_range_alert(r, (r->start + r->end) / 2) == r->inside ||
	      (isinf(r->start) && isinf(r->end)));
}

/* Formats r; checks the text parses and that formatting again changes nothing. */
static void check_format(const struct nagios_range *r)
{
	char once[64], twice[64];
	struct nagios_range back, again;

	memset(once, 'x', sizeof(once));
	nagios_range_format(r, once, sizeof(once));
	check(memchr(once, '\0', sizeof(once)) != NULL);
	check(nagios_range_parse(once, &back) == 0 && back.inside == r->inside);
	nagios_range_format(&back, twice, sizeof(twice));
	check(nagios_range_parse(twice, &again) == 0 && same(&again, &back));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nagios_range r, untouched;
	char *s = strndup((const char *)data, size);
	int k;

	check(s != NULL);
	memset(&untouched, 0xa5, sizeof(untouched));
	r = untouched;
	k = nagios_range_parse(s, &r);
	check(k == 0 || k == -EINVAL);
	if (k < 0)
		check(memcmp(&r, &untouched, sizeof(r)) == 0);
	else {
		check(!isnan(r.start) && !isnan(r.end) && r.start <= r.end);
		check_alerts(&r);
		check_format(&r);
	}
	free(s);
	return 0;
}
