/*
 * nagios-range.h - the range syntax of the Monitoring Plugins development
 * guidelines, which -w and -c of the plugin take, and the short decimal
 * numbers its output and performance data are written in.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * A range of the guidelines: "10" (0 to 10), "10:" (10 to infinity),
 * "~:10" (minus infinity to 10), "10:20", and any of them after "@".  An
 * alert is raised when the value is outside the range, inclusive of the
 * endpoints, or inside it with "@".
 */
struct nagios_range {
	double start, end;     /* -INFINITY and INFINITY for open ends */
	bool inside;           /* "@" */
};

/* Returns 0, or -EINVAL when s is not a range or its start exceeds its end. */
int nagios_range_parse(const char *s, struct nagios_range *ret);

bool nagios_range_alert(const struct nagios_range *r, double value);

/* The range in the syntax it was parsed from; outlen of 64 is always enough. */
void nagios_range_format(const struct nagios_range *r, char *out, size_t outlen);

/* At most four decimals, no trailing zeros: "21", "15.6667", "-0.5". */
void nagios_number_format(double v, char *out, size_t outlen);
