/*
 * fuzz-duration.c - harness for durations as the configuration writes
 * them: the input, up to its first NUL, goes to parse_duration(), and its
 * first eight bytes, as a number of microseconds, to format_duration().
 * It aborts when parse_duration() returns anything but 0, -EINVAL or
 * -ERANGE or touches its result on failure, or when the round trip breaks:
 * a parsed duration must format to text that parses to the same value, and
 * any value must format to text that parses to it cut to milliseconds
 * (the finest unit written).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Formats usec, and checks that it parses back to want. */
static void round_trip(uint64_t usec, uint64_t want)
{
	char text[32];
	uint64_t back = 0;

	memset(text, 'x', sizeof(text));
	format_duration(usec, text, sizeof(text));
	check(memchr(text, '\0', sizeof(text)) != NULL);
	check(parse_duration(text, &back) == 0 && back == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t untouched = UINT64_C(0xa5a5a5a5a5a5a5a5);
	char *s = strndup((const char *)data, size);
	uint64_t usec = untouched;
	int r;

	check(s != NULL);
	r = parse_duration(s, &usec);
	check(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r < 0)
		check(usec == untouched);
	else
		round_trip(usec, usec);
	free(s);
	if (size >= sizeof(usec)) {
		memcpy(&usec, data, sizeof(usec));
		round_trip(usec, usec - usec % USEC_PER_MSEC);
	}
	return 0;
}
