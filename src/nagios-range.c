/*
 * nagios-range.c - the guidelines' range syntax (see nagios-range.h).
 *
 * Ranges come from the command line, so the grammar is strict: a number is
 * [-+]?[0-9.]+ and nothing else (no exponent, no "inf"), below 1e15 in
 * magnitude so that every number formats short, and a result is written
 * only when the whole string parsed.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nagios-range.h"

#define NUMBER_MAX        1e15    /* keeps every formatted number short */

/* A decimal number in the guidelines' class [-0-9.] (a leading '+' is allowed too). */
static int parse_number(const char *s, size_t len, double *ret)
{
	char buf[64], *end;
	size_t sign;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	sign = buf[0] == '-' || buf[0] == '+';
	if (buf[sign] == '\0' || strspn(buf + sign, "0123456789.") != len - sign)
		return -EINVAL;
	errno = 0;
	*ret = strtod(buf, &end);
	if (errno || *end || *ret >= NUMBER_MAX || *ret <= -NUMBER_MAX)
		return -EINVAL;
	return 0;
}

int nagios_range_parse(const char *s, struct nagios_range *ret)
{
	struct nagios_range r = { .start = 0, .end = INFINITY };
	const char *colon;
	size_t len;

	if (!s)
		return -EINVAL;
	if (*s == '@') {
		r.inside = true;
		s++;
	}
	colon = strchr(s, ':');
	if (!colon) {
		if (parse_number(s, strlen(s), &r.end) < 0)
			return -EINVAL;
	} else {
		len = (size_t)(colon - s);
		if (len == 0 && colon[1] == '\0')
			return -EINVAL;
		if (len == 1 && s[0] == '~')
			r.start = -INFINITY;
		else if (len > 0 && parse_number(s, len, &r.start) < 0)
			return -EINVAL;
		if (colon[1] && parse_number(colon + 1, strlen(colon + 1), &r.end) < 0)
			return -EINVAL;
	}
	if (r.start > r.end)
		return -EINVAL;
	*ret = r;
	return 0;
}

bool nagios_range_alert(const struct nagios_range *r, double value)
{
	bool in = value >= r->start && value <= r->end;

	return r->inside ? in : !in;
}

void nagios_number_format(double v, char *out, size_t outlen)
{
	size_t n;

	snprintf(out, outlen, "%.4f", v);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
	if (strcmp(out, "-0") == 0)
		snprintf(out, outlen, "0");
}

void nagios_range_format(const struct nagios_range *r, char *out, size_t outlen)
{
	char a[32] = "", b[32] = "";

	if (isinf(r->start))
		snprintf(a, sizeof(a), "~:");
	else if (r->start != 0 || isinf(r->end)) {
		nagios_number_format(r->start, a, sizeof(a) - 1);
		strcat(a, ":");
	}
	if (!isinf(r->end))
		nagios_number_format(r->end, b, sizeof(b));
	snprintf(out, outlen, "%s%s%s", r->inside ? "@" : "", a, b);
}
