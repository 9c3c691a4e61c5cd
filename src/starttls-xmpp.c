/*
 * starttls-xmpp.c - XMPP's STARTTLS (RFC 6120 5.4), for clients and for
 * servers (xmpp and xmpp-server): the stream header, <stream:features>
 * read whole, <starttls/>, and <proceed/> consumed exactly through its end
 * so that nothing after it is taken for TLS.  The stream is searched, not
 * parsed: what matters is bounded by STARTTLS_MAX_PREAMBLE, and peer text
 * reaches a message only through starttls_fail().
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "starttls-drivers.h"

static const uint8_t *find_ci(const uint8_t *hay, size_t n, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; nl <= n && i <= n - nl; i++)
		if (strncasecmp((const char *)hay + i, needle, nl) == 0)
			return hay + i;
	return NULL;
}

static size_t skip_space(const uint8_t *in, size_t len)
{
	size_t i = 0;

	while (i < len && (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' || in[i] == '\n'))
		i++;
	return i;
}

/* Where the element opened at tag ends: after "/>" or after close. */
static const uint8_t *element_end(const uint8_t *tag, const uint8_t *end, const char *close)
{
	const uint8_t *gt = memchr(tag, '>', (size_t)(end - tag)), *c;

	if (!gt)
		return NULL;
	if (gt[-1] == '/')
		return gt + 1;
	c = find_ci(gt, (size_t)(end - gt), close);
	return c ? c + strlen(close) : NULL;
}

static enum starttls_result xmpp_open(struct starttls_session *s, const char *ns)
{
	char to[STARTTLS_MAX_OUT / 2], header[STARTTLS_MAX_OUT];
	enum starttls_result r;
	size_t o = 0;
	int n;

	/* The name sits in a quoted attribute: escape what XML requires. */
	for (const char *h = s->host; *h; h++) {
		const char *rep = *h == '\'' ? "&apos;" : *h == '<' ? "&lt;" :
				  *h == '&' ? "&amp;" : NULL;
		size_t l = rep ? strlen(rep) : 1;

		if ((unsigned char)*h < 0x20 || o + l >= sizeof(to))
			return starttls_fail(s, STARTTLS_PROTOCOL, s->host, strlen(s->host),
					     "cannot send an XMPP stream header for the name");
		memcpy(to + o, rep ? rep : h, l);
		o += l;
	}
	to[o] = '\0';
	n = snprintf(header, sizeof(header), "<?xml version='1.0'?><stream:stream "
		     "xmlns:stream='http://etherx.jabber.org/streams' "
		     "xmlns='jabber:%s' to='%s' version='1.0'>", ns, to);
	r = starttls_queue(s, header, (size_t)n);
	if (r == STARTTLS_CONTINUE)
		s->state = 1;
	return r;
}

/* Waits for the whole <stream:features> and asks for STARTTLS if offered. */
static enum starttls_result xmpp_features(struct starttls_session *s, const uint8_t *in,
					  size_t len, size_t *consumed)
{
	static const char starttls[] = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
	const uint8_t *end = in + len, *f, *fend = NULL, *e;
	size_t sp = skip_space(in, len);

	f = find_ci(in, len, "<stream:features");
	if (f)
		fend = element_end(f, end, "</stream:features>");
	if (!fend) {
		if (sp < len && in[sp] != '<')
			return starttls_fail(s, STARTTLS_PROTOCOL, in, len,
					     "the server did not open an XMPP stream:");
		e = find_ci(in, len, "<stream:error");
		if (e)
			return starttls_fail(s, STARTTLS_PROTOCOL, e, (size_t)(end - e),
					     "the XMPP server sent a stream error:");
		if (find_ci(in, len, "</stream:stream"))
			return starttls_fail(s, STARTTLS_PROTOCOL, in, len,
					     "the XMPP server closed the stream:");
		return STARTTLS_CONTINUE;
	}
	*consumed = (size_t)(fend - in);
	if (!find_ci(f, (size_t)(fend - f), "<starttls"))
		return starttls_fail(s, STARTTLS_REFUSED, f, (size_t)(fend - f),
				     "the XMPP server does not offer STARTTLS; its features:");
	s->state = 2;
	return starttls_queue(s, starttls, sizeof(starttls) - 1);
}

/* Waits for <proceed/> and consumes exactly through its end. */
static enum starttls_result xmpp_proceed(struct starttls_session *s, const uint8_t *in,
					 size_t len, size_t *consumed)
{
	static const struct {
		const char *tag;
		enum starttls_result r;
		const char *what;
	} answers[] = {
		{ "<proceed", STARTTLS_READY, NULL },
		{ "<failure", STARTTLS_REFUSED, "the XMPP server refused STARTTLS:" },
		{ "<stream:error", STARTTLS_PROTOCOL, "the XMPP server sent a stream error:" },
		{ "</stream:stream", STARTTLS_PROTOCOL, "the XMPP server closed the stream:" },
	};
	size_t sp = skip_space(in, len), n = len - sp;
	const uint8_t *p = in + sp, *end;
	bool partial = false;

	/* Whitespace keep-alives before the answer are harmless. */
	*consumed = sp;
	if (n == 0)
		return STARTTLS_CONTINUE;
	for (size_t i = 0; i < ELEMENTSOF(answers); i++) {
		size_t tl = strlen(answers[i].tag);

		if (n < tl) {
			partial |= strncasecmp((const char *)p, answers[i].tag, n) == 0;
			continue;
		}
		if (strncasecmp((const char *)p, answers[i].tag, tl) != 0)
			continue;
		if (answers[i].r != STARTTLS_READY)
			return starttls_fail(s, answers[i].r, p, n, "%s", answers[i].what);
		end = element_end(p, in + len, "</proceed>");
		if (!end)
			return STARTTLS_CONTINUE;
		*consumed = (size_t)(end - in);
		return STARTTLS_READY;
	}
	if (partial)
		return STARTTLS_CONTINUE;
	return starttls_fail(s, STARTTLS_PROTOCOL, p, n, "the XMPP server answered STARTTLS with");
}

static enum starttls_result xmpp(struct starttls_session *s, const uint8_t *in,
				 size_t len, size_t *consumed, const char *ns)
{
	enum starttls_result r;
	size_t used = 0;

	*consumed = 0;
	if (s->state == 0) {
		r = xmpp_open(s, ns);
		if (r != STARTTLS_CONTINUE)
			return r;
	}
	if (len == 0)
		return STARTTLS_CONTINUE;
	if (s->state == 1) {
		r = xmpp_features(s, in, len, consumed);
		if (r != STARTTLS_CONTINUE || s->state != 2 || *consumed == len)
			return r;
	}
	r = xmpp_proceed(s, in + *consumed, len - *consumed, &used);
	*consumed += used;
	return r;
}

/*
 * RFC 6120 4.4: the client ends its stream.  After the handshake a stream
 * must first be opened again (5.4.3.3): a closing tag alone would be
 * malformed XML to the server.
 */
static enum starttls_result xmpp_goodbye(struct starttls_session *s, bool in_tls,
					 const char *ns)
{
	static const char end[] = "</stream:stream>";
	enum starttls_result r = in_tls ? xmpp_open(s, ns) : STARTTLS_CONTINUE;

	if (r != STARTTLS_CONTINUE)
		return r;
	return starttls_queue(s, end, sizeof(end) - 1);
}

STARTTLS_GOODBYE(xmpp)
{
	return xmpp_goodbye(s, in_tls, "client");
}

STARTTLS_GOODBYE(xmpp_server)
{
	return xmpp_goodbye(s, in_tls, "server");
}

STARTTLS_DRIVER(xmpp)
{
	return xmpp(s, in, len, consumed, "client");
}

STARTTLS_DRIVER(xmpp_server)
{
	return xmpp(s, in, len, consumed, "server");
}
