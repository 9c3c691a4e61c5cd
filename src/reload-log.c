/*
 * reload-log.c - what a reload-check or a reload wrote, in the daemon's
 * log; see reload-log.h.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "log.h"
#include "reload-log.h"
#include "util.h"

#define OUTPUT_LINES_MAX 20   /* lines of a command's output logged; the rest counted */

void reload_log_output(const char *service, const char *what, const struct reload_result *r)
{
	const char *p = r->raw, *end = r->raw + r->raw_len;
	char line[RELOAD_MAX_OUTPUT * 4 + 4];
	unsigned shown = 0, left = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;   /* a CRLF line ends as an LF one */
		if (n > 0 && shown < OUTPUT_LINES_MAX) {
			escape_text(p, n, line, sizeof(line));
			log_info("%s: %s output: %s", service, what, line);
			shown++;
		} else if (n > 0) {
			left++;
		}
		p = nl ? nl + 1 : end;
	}
	if (left > 0)
		log_info("%s: %s output: ... (%u more lines)", service, what, left);
	if (r->raw_dropped > 0)
		log_info("%s: %s output: ... (%" PRIu64 " more bytes, not kept)", service,
			 what, r->raw_dropped);
}
