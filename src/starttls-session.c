/*
 * starttls-session.c - what every STARTTLS driver does to its session:
 * queue bytes for the probe engine to send, and fail with a detail in
 * which the peer's bytes appear only escaped (escape_bytes()), cut to fit.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "starttls-drivers.h"

enum starttls_result starttls_fail(struct starttls_session *s, enum starttls_result r,
				   const void *peer, size_t peer_len, const char *fmt, ...)
{
	char what[128], esc[176];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (peer) {
		escape_bytes(peer, peer_len, esc, sizeof(esc));
		snprintf(s->detail, sizeof(s->detail), "%s \"%s\"", what, esc);
	} else
		snprintf(s->detail, sizeof(s->detail), "%s", what);
	return r;
}

enum starttls_result starttls_queue(struct starttls_session *s, const void *p, size_t n)
{
	if (n > STARTTLS_MAX_OUT - s->out_len)
		return starttls_fail(s, STARTTLS_PROTOCOL, NULL, 0,
				     "the STARTTLS request does not fit the output buffer");
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
	return STARTTLS_CONTINUE;
}
