/*
 * starttls-drivers.c - the dialogue of each protocol up to the point where
 * the next byte on the wire is a TLS ClientHello, as openssl s_client
 * -starttls runs them.
 *
 * Every driver is a pure state machine over s->state (see starttls.h).  The
 * line protocols share one line reader and one reply reader: a reply (one
 * line, an SMTP-style "250-" block, a POP3 list ending in ".", IMAP untagged
 * lines up to the tagged one) is consumed only once it is complete, so a
 * verdict can quote all of it.  Each line is bounded by STARTTLS_MAX_LINE,
 * the whole preamble by STARTTLS_MAX_PREAMBLE (enforced by starttls_feed()).
 * XMPP, LDAP, PostgreSQL and MySQL parse their own framing, each with a
 * bound.  Peer text reaches s->detail only through escape_bytes().
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "starttls-drivers.h"

/* ---- shared helpers ----------------------------------------------------- */

__attribute__((format(printf, 5, 6)))
static enum starttls_result fail(struct starttls_session *s, enum starttls_result r,
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

static enum starttls_result queue(struct starttls_session *s, const void *p, size_t n)
{
	if (n > STARTTLS_MAX_OUT - s->out_len)
		return fail(s, STARTTLS_PROTOCOL, NULL, 0,
			    "the STARTTLS request does not fit the output buffer");
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
	return STARTTLS_CONTINUE;
}

/* Queues one command line and moves to next_state. */
__attribute__((format(printf, 3, 4)))
static enum starttls_result send_line(struct starttls_session *s, int next_state,
				      const char *fmt, ...)
{
	char line[STARTTLS_MAX_OUT];
	enum starttls_result r;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	/* A name carrying CR or LF would smuggle a second command. */
	if (n < 0 || (size_t)n >= sizeof(line) - 2 || strpbrk(line, "\r\n"))
		return fail(s, STARTTLS_PROTOCOL, s->host, strlen(s->host),
			    "cannot send a command for the name");
	memcpy(line + n, "\r\n", 2);
	r = queue(s, line, (size_t)n + 2);
	if (r == STARTTLS_CONTINUE)
		s->state = next_state;
	return r;
}

static bool has_prefix_ci(const uint8_t *p, size_t n, const char *word)
{
	size_t wl = strlen(word);

	return n >= wl && strncasecmp((const char *)p, word, wl) == 0;
}

static bool is_sep(uint8_t c)
{
	return c != '\0' && strchr(" \t\r\n[]()=", c) != NULL;
}

/* word at p, followed by the end of the line or a separator. */
static bool is_word(const uint8_t *p, size_t n, const char *word)
{
	size_t wl = strlen(word);

	return has_prefix_ci(p, n, word) && (n == wl || is_sep(p[wl]));
}

static const uint8_t *find_ci(const uint8_t *hay, size_t n, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; nl <= n && i <= n - nl; i++)
		if (strncasecmp((const char *)hay + i, needle, nl) == 0)
			return hay + i;
	return NULL;
}

/*
 * The one line reader: finds the line starting at *pos, strips LF and an
 * optional CR (bare LF is accepted, as real clients do).  Returns 1 and
 * advances *pos past the line, 0 if the line is not complete yet, or -1
 * if it is longer than STARTTLS_MAX_LINE; s may be NULL when the text was
 * already bounded.
 */
static int next_line(struct starttls_session *s, const uint8_t *in, size_t len,
		     size_t *pos, const uint8_t **ret_line, size_t *ret_n)
{
	size_t avail = len - *pos, scan = avail, n;
	const uint8_t *p, *lf;

	if (avail == 0)
		return 0;
	p = in + *pos;
	if (scan > STARTTLS_MAX_LINE + 2)
		scan = STARTTLS_MAX_LINE + 2;
	lf = memchr(p, '\n', scan);
	/* Without a LF, 4096 bytes and a CR may still become a valid line. */
	if (!lf && avail <= STARTTLS_MAX_LINE + 1)
		return 0;
	n = lf ? (size_t)(lf - p) : avail;
	if (lf && n > 0 && p[n - 1] == '\r')
		n--;
	if (n > STARTTLS_MAX_LINE) {
		if (s)
			fail(s, STARTTLS_TOO_LONG, p, 64,
			     "the server sent a line longer than %d bytes:",
			     STARTTLS_MAX_LINE);
		return -1;
	}
	*pos += (size_t)(lf - p) + 1;
	*ret_line = p;
	*ret_n = n;
	return 1;
}

/* ---- replies of the line protocols -------------------------------------- */

enum reply_kind {
	REPLY_LINE,      /* one line */
	REPLY_CODED,     /* "250-" lines up to "250 " (SMTP, FTP, NNTP) */
	REPLY_DOTTED,    /* if the first line starts with key, lines up to "." */
	REPLY_PREFIXED,  /* lines starting with key, then one that does not */
};

struct reply_shape {
	enum reply_kind kind;
	const char *key;
};

struct reply {
	const uint8_t *p;     /* the whole reply, line ends included */
	size_t n;
	const uint8_t *last;  /* its final line, without CR LF */
	size_t last_n;
};

static bool is_code(const uint8_t *p, size_t n)
{
	return n >= 3 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
	       p[2] >= '0' && p[2] <= '9';
}

static bool ends_reply(const struct reply_shape *sh, const uint8_t *line, size_t n,
		       size_t index)
{
	switch (sh->kind) {
	case REPLY_CODED:
		/* Text lines inside an FTP multi-line reply need not carry a code. */
		if (!is_code(line, n))
			return index == 0;
		return n == 3 || line[3] != '-';
	case REPLY_DOTTED:
		if (index == 0)
			return !has_prefix_ci(line, n, sh->key);
		return n == 1 && line[0] == '.';
	case REPLY_PREFIXED:
		return !has_prefix_ci(line, n, sh->key);
	case REPLY_LINE:
	default:
		return true;
	}
}

/*
 * Finds the complete reply at in[start..len).  Returns 1 and sets *ret,
 * 0 if more bytes are needed, -1 (s->detail set) if a line is too long.
 */
static int read_reply(struct starttls_session *s, const uint8_t *in, size_t len,
		      size_t start, const struct reply_shape *sh, struct reply *ret)
{
	size_t pos = start;

	for (size_t index = 0;; index++) {
		const uint8_t *line;
		size_t n;
		int k = next_line(s, in, len, &pos, &line, &n);

		if (k <= 0)
			return k;
		if (ends_reply(sh, line, n, index)) {
			*ret = (struct reply) {
				.p = in + start, .n = pos - start, .last = line, .last_n = n,
			};
			return 1;
		}
	}
}

/* The reply for messages: without its final line end. */
static size_t text_len(const struct reply *r)
{
	return (size_t)(r->last - r->p) + r->last_n;
}

static int reply_code(const struct reply *r)
{
	if (!is_code(r->p, r->n))
		return -1;
	return (r->p[0] - '0') * 100 + (r->p[1] - '0') * 10 + (r->p[2] - '0');
}

/*
 * Whether a line of the reply starts with word after skip bytes (an SMTP
 * "250-" prefix), or, with skip < 0, carries it as any token (IMAP).
 */
static bool reply_has(const struct reply *r, int skip, const char *word)
{
	const uint8_t *line;
	size_t pos = 0, n;

	while (next_line(NULL, r->p, r->n, &pos, &line, &n) > 0) {
		if (skip >= 0) {
			if (n >= (size_t)skip && is_word(line + skip, n - (size_t)skip, word))
				return true;
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if ((i == 0 || is_sep(line[i - 1])) && is_word(line + i, n - i, word))
				return true;
	}
	return false;
}

struct dialogue {
	const char *proto;               /* as named in messages */
	const char *verb;                /* EHLO or LHLO */
	const char *opening;             /* what the client says first, if it does */
	struct reply_shape shape[3];     /* how the reply awaited in each state ends */
	enum starttls_result (*on_reply)(struct starttls_session *s,
					 const struct dialogue *d, const struct reply *r);
};

static enum starttls_result run_dialogue(const struct dialogue *d,
					 struct starttls_session *s, const uint8_t *in,
					 size_t len, size_t *consumed)
{
	enum starttls_result r = STARTTLS_CONTINUE;
	size_t pos = 0;

	if (s->state == 0 && d->opening)
		r = send_line(s, 1, "%s", d->opening);
	while (r == STARTTLS_CONTINUE && (size_t)s->state < ELEMENTSOF(d->shape)) {
		struct reply rep;
		int k = read_reply(s, in, len, pos, &d->shape[s->state], &rep);

		if (k < 0)
			r = STARTTLS_TOO_LONG;
		if (k <= 0)
			break;
		pos += rep.n;
		r = d->on_reply(s, d, &rep);
	}
	*consumed = pos;
	return r;
}

/* The verdict on a coded answer to the STARTTLS command (SMTP, FTP, NNTP). */
static enum starttls_result coded_verdict(struct starttls_session *s,
					  const struct dialogue *d, const struct reply *r,
					  int go_ahead, const char *command)
{
	int code = reply_code(r);

	if (code == go_ahead)
		return STARTTLS_READY;
	return fail(s, code >= 400 ? STARTTLS_REFUSED : STARTTLS_PROTOCOL,
		    r->p, text_len(r), "the %s server %s %s%s", d->proto,
		    code >= 400 ? "refused" : "answered", command,
		    code >= 400 ? ":" : " with");
}

static enum starttls_result not_offered(struct starttls_session *s,
					const struct dialogue *d, const struct reply *r,
					const char *what)
{
	return fail(s, STARTTLS_REFUSED, r->p, text_len(r),
		    "the %s server does not offer STARTTLS; its %s:", d->proto, what);
}

static enum starttls_result unexpected(struct starttls_session *s,
				       const struct dialogue *d, const struct reply *r,
				       const char *what)
{
	return fail(s, STARTTLS_PROTOCOL, r->p, text_len(r),
		    "the %s server %s", d->proto, what);
}

/* ---- SMTP and LMTP (RFC 3207, RFC 2033) ---------------------------------- */

static enum starttls_result smtp_reply(struct starttls_session *s,
				       const struct dialogue *d, const struct reply *r)
{
	struct in6_addr a;
	const char *open = "", *close = "";

	switch (s->state) {
	case 0:
		if (reply_code(r) != 220)
			return unexpected(s, d, r, "greeted with");
		/* RFC 5321 4.1.3: an address goes in brackets. */
		if (inet_pton(AF_INET, s->host, &a) == 1)
			open = "[", close = "]";
		else if (inet_pton(AF_INET6, s->host, &a) == 1)
			open = "[IPv6:", close = "]";
		return send_line(s, 1, "%s %s%s%s", d->verb, open, s->host, close);
	case 1:
		if (reply_code(r) != 250)
			return fail(s, STARTTLS_PROTOCOL, r->p, text_len(r),
				    "the %s server answered %s with", d->proto, d->verb);
		if (!reply_has(r, 4, "STARTTLS"))
			return not_offered(s, d, r, "capabilities");
		return send_line(s, 2, "STARTTLS");
	default:
		return coded_verdict(s, d, r, 220, "STARTTLS");
	}
}

static const struct dialogue smtp_dialogue = {
	.proto = "SMTP", .verb = "EHLO", .on_reply = smtp_reply,
	.shape = { { REPLY_CODED, NULL }, { REPLY_CODED, NULL }, { REPLY_CODED, NULL } },
};

static const struct dialogue lmtp_dialogue = {
	.proto = "LMTP", .verb = "LHLO", .on_reply = smtp_reply,
	.shape = { { REPLY_CODED, NULL }, { REPLY_CODED, NULL }, { REPLY_CODED, NULL } },
};

STARTTLS_DRIVER(smtp)
{
	return run_dialogue(&smtp_dialogue, s, in, len, consumed);
}

STARTTLS_DRIVER(lmtp)
{
	return run_dialogue(&lmtp_dialogue, s, in, len, consumed);
}

/* ---- IMAP (RFC 3501 6.2.1) ---------------------------------------------- */

static enum starttls_result imap_reply(struct starttls_session *s,
				       const struct dialogue *d, const struct reply *r)
{
	switch (s->state) {
	case 0:
		if (!is_word(r->last, r->last_n, "* OK") &&
		    !is_word(r->last, r->last_n, "* PREAUTH"))
			return unexpected(s, d, r, "greeted with");
		return send_line(s, 1, "a CAPABILITY");
	case 1:
		if (!is_word(r->last, r->last_n, "a OK"))
			return unexpected(s, d, r, "answered CAPABILITY with");
		if (!reply_has(r, -1, "STARTTLS"))
			return not_offered(s, d, r, "capabilities");
		return send_line(s, 2, "b STARTTLS");
	default:
		if (is_word(r->last, r->last_n, "b OK"))
			return STARTTLS_READY;
		if (is_word(r->last, r->last_n, "b NO") || is_word(r->last, r->last_n, "b BAD"))
			return fail(s, STARTTLS_REFUSED, r->p, text_len(r),
				    "the IMAP server refused STARTTLS:");
		return unexpected(s, d, r, "answered STARTTLS with");
	}
}

static const struct dialogue imap_dialogue = {
	.proto = "IMAP", .on_reply = imap_reply,
	.shape = { { REPLY_LINE, NULL }, { REPLY_PREFIXED, "*" }, { REPLY_PREFIXED, "*" } },
};

STARTTLS_DRIVER(imap)
{
	return run_dialogue(&imap_dialogue, s, in, len, consumed);
}

/* ---- POP3 (RFC 2595 4, RFC 2449) ----------------------------------------- */

static enum starttls_result pop3_reply(struct starttls_session *s,
				       const struct dialogue *d, const struct reply *r)
{
	bool positive = is_word(r->p, r->n, "+OK");

	switch (s->state) {
	case 0:
		if (!positive)
			return unexpected(s, d, r, "greeted with");
		return send_line(s, 1, "CAPA");
	case 1:
		/* A server without CAPA (RFC 1939 only) may still know STLS. */
		if (has_prefix_ci(r->p, r->n, "-ERR"))
			return send_line(s, 2, "STLS");
		if (!positive)
			return unexpected(s, d, r, "answered CAPA with");
		if (!reply_has(r, 0, "STLS"))
			return not_offered(s, d, r, "capabilities");
		return send_line(s, 2, "STLS");
	default:
		if (positive)
			return STARTTLS_READY;
		if (has_prefix_ci(r->p, r->n, "-ERR"))
			return fail(s, STARTTLS_REFUSED, r->p, text_len(r),
				    "the POP3 server refused STLS:");
		return unexpected(s, d, r, "answered STLS with");
	}
}

static const struct dialogue pop3_dialogue = {
	.proto = "POP3", .on_reply = pop3_reply,
	.shape = { { REPLY_LINE, NULL }, { REPLY_DOTTED, "+OK" }, { REPLY_LINE, NULL } },
};

STARTTLS_DRIVER(pop3)
{
	return run_dialogue(&pop3_dialogue, s, in, len, consumed);
}

/* ---- ManageSieve (RFC 5804 1.7, 2.2) -------------------------------------- */

static enum starttls_result sieve_reply(struct starttls_session *s,
					const struct dialogue *d, const struct reply *r)
{
	switch (s->state) {
	case 0:
		if (!is_word(r->last, r->last_n, "OK"))
			return unexpected(s, d, r, "greeted with");
		if (!reply_has(r, 0, "\"STARTTLS\""))
			return not_offered(s, d, r, "capabilities");
		return send_line(s, 1, "STARTTLS");
	default:
		if (is_word(r->last, r->last_n, "OK"))
			return STARTTLS_READY;
		if (is_word(r->last, r->last_n, "NO"))
			return fail(s, STARTTLS_REFUSED, r->p, text_len(r),
				    "the ManageSieve server refused STARTTLS:");
		return unexpected(s, d, r, "answered STARTTLS with");
	}
}

static const struct dialogue sieve_dialogue = {
	.proto = "ManageSieve", .on_reply = sieve_reply,
	.shape = { { REPLY_PREFIXED, "\"" }, { REPLY_PREFIXED, "\"" } },
};

STARTTLS_DRIVER(sieve)
{
	return run_dialogue(&sieve_dialogue, s, in, len, consumed);
}

/* ---- FTP (RFC 4217 4) ---------------------------------------------------- */

static enum starttls_result ftp_reply(struct starttls_session *s,
				      const struct dialogue *d, const struct reply *r)
{
	int code = reply_code(r);

	if (s->state != 0)
		return coded_verdict(s, d, r, 234, "AUTH TLS");
	/* RFC 959: "120 ready in nnn minutes" comes before the 220. */
	if (code >= 100 && code < 200)
		return STARTTLS_CONTINUE;
	if (code != 220)
		return unexpected(s, d, r, "greeted with");
	return send_line(s, 1, "AUTH TLS");
}

static const struct dialogue ftp_dialogue = {
	.proto = "FTP", .on_reply = ftp_reply,
	.shape = { { REPLY_CODED, NULL }, { REPLY_CODED, NULL } },
};

STARTTLS_DRIVER(ftp)
{
	return run_dialogue(&ftp_dialogue, s, in, len, consumed);
}

/* ---- NNTP (RFC 4642, RFC 3977 5.2) --------------------------------------- */

static enum starttls_result nntp_reply(struct starttls_session *s,
				       const struct dialogue *d, const struct reply *r)
{
	int code = reply_code(r);

	switch (s->state) {
	case 0:
		if (code != 200 && code != 201)
			return unexpected(s, d, r, "greeted with");
		return send_line(s, 1, "CAPABILITIES");
	case 1:
		/* Servers older than RFC 3977 may know STARTTLS without CAPABILITIES. */
		if (code >= 500)
			return send_line(s, 2, "STARTTLS");
		if (code != 101)
			return unexpected(s, d, r, "answered CAPABILITIES with");
		if (!reply_has(r, 0, "STARTTLS"))
			return not_offered(s, d, r, "capabilities");
		return send_line(s, 2, "STARTTLS");
	default:
		return coded_verdict(s, d, r, 382, "STARTTLS");
	}
}

static const struct dialogue nntp_dialogue = {
	.proto = "NNTP", .on_reply = nntp_reply,
	.shape = { { REPLY_CODED, NULL }, { REPLY_DOTTED, "101" }, { REPLY_CODED, NULL } },
};

STARTTLS_DRIVER(nntp)
{
	return run_dialogue(&nntp_dialogue, s, in, len, consumed);
}

/* ---- IRC (the IRCv3 tls extension) ---------------------------------------- */

static enum starttls_result irc_reply(struct starttls_session *s,
				      const struct dialogue *d, const struct reply *r)
{
	const uint8_t *p = r->last, *end = r->last + r->last_n;

	/* Skip the ":server.name " prefix to reach the command. */
	if (p < end && *p == ':') {
		while (p < end && *p != ' ')
			p++;
		while (p < end && *p == ' ')
			p++;
	}
	if (is_word(p, (size_t)(end - p), "670"))
		return STARTTLS_READY;
	if (is_word(p, (size_t)(end - p), "691"))
		return fail(s, STARTTLS_REFUSED, r->last, r->last_n,
			    "the IRC server refused STARTTLS:");
	/* ERR_UNKNOWNCOMMAND, or ERR_NOTREGISTERED from servers that check that first. */
	if (is_word(p, (size_t)(end - p), "421") || is_word(p, (size_t)(end - p), "451"))
		return fail(s, STARTTLS_REFUSED, r->last, r->last_n,
			    "the IRC server does not know STARTTLS:");
	if (is_word(p, (size_t)(end - p), "ERROR"))
		return unexpected(s, d, r, "closed the connection:");
	/* NOTICE AUTH and other chatter before registration: keep reading. */
	return STARTTLS_CONTINUE;
}

static const struct dialogue irc_dialogue = {
	.proto = "IRC", .opening = "STARTTLS", .on_reply = irc_reply,
	.shape = { { REPLY_LINE, NULL }, { REPLY_LINE, NULL } },
};

STARTTLS_DRIVER(irc)
{
	return run_dialogue(&irc_dialogue, s, in, len, consumed);
}

/* ---- XMPP (RFC 6120 5.4) ------------------------------------------------- */

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
			return fail(s, STARTTLS_PROTOCOL, s->host, strlen(s->host),
				    "cannot send an XMPP stream header for the name");
		memcpy(to + o, rep ? rep : h, l);
		o += l;
	}
	to[o] = '\0';
	n = snprintf(header, sizeof(header), "<?xml version='1.0'?><stream:stream "
		     "xmlns:stream='http://etherx.jabber.org/streams' "
		     "xmlns='jabber:%s' to='%s' version='1.0'>", ns, to);
	r = queue(s, header, (size_t)n);
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
			return fail(s, STARTTLS_PROTOCOL, in, len,
				    "the server did not open an XMPP stream:");
		e = find_ci(in, len, "<stream:error");
		if (e)
			return fail(s, STARTTLS_PROTOCOL, e, (size_t)(end - e),
				    "the XMPP server sent a stream error:");
		if (find_ci(in, len, "</stream:stream"))
			return fail(s, STARTTLS_PROTOCOL, in, len,
				    "the XMPP server closed the stream:");
		return STARTTLS_CONTINUE;
	}
	*consumed = (size_t)(fend - in);
	if (!find_ci(f, (size_t)(fend - f), "<starttls"))
		return fail(s, STARTTLS_REFUSED, f, (size_t)(fend - f),
			    "the XMPP server does not offer STARTTLS; its features:");
	s->state = 2;
	return queue(s, starttls, sizeof(starttls) - 1);
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
			return fail(s, answers[i].r, p, n, "%s", answers[i].what);
		end = element_end(p, in + len, "</proceed>");
		if (!end)
			return STARTTLS_CONTINUE;
		*consumed = (size_t)(end - in);
		return STARTTLS_READY;
	}
	if (partial)
		return STARTTLS_CONTINUE;
	return fail(s, STARTTLS_PROTOCOL, p, n, "the XMPP server answered STARTTLS with");
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

STARTTLS_DRIVER(xmpp)
{
	return xmpp(s, in, len, consumed, "client");
}

STARTTLS_DRIVER(xmpp_server)
{
	return xmpp(s, in, len, consumed, "server");
}

/* ---- LDAP (RFC 4511 4.14) ------------------------------------------------ */

#define LDAP_MAX_MESSAGE STARTTLS_MAX_LINE

/* messageID 1, ExtendedRequest with requestName 1.3.6.1.4.1.1466.20037. */
static const uint8_t ldap_starttls_request[] =
	"\x30\x1d\x02\x01\x01\x77\x18\x80\x16" "1.3.6.1.4.1.1466.20037";

/*
 * Reads one BER tag and length at *pos (single-byte tags, definite
 * lengths of up to 4 bytes, as RFC 4511 5.1 allows).  Returns 1 and sets
 * the tag and content span, 0 if the header is not complete, -1 if
 * malformed.  The content may extend past len; the caller checks.
 */
static int ber_header(const uint8_t *in, size_t len, size_t *pos, uint8_t *ret_tag,
		      size_t *ret_len)
{
	size_t p = *pos, l, nb;

	if (len - p < 2)
		return 0;
	if ((in[p] & 0x1f) == 0x1f || in[p + 1] == 0x80 || in[p + 1] > 0x84)
		return -1;
	*ret_tag = in[p];
	l = in[p + 1];
	p += 2;
	if (l & 0x80) {
		nb = l & 0x7f;
		if (len - p < nb)
			return 0;
		l = 0;
		for (size_t i = 0; i < nb; i++)
			l = (l << 8) | in[p++];
	}
	*pos = p;
	*ret_len = l;
	return 1;
}

/* Reads one element of the given tag that lies wholly inside in[..len). */
static bool ber_element(const uint8_t *in, size_t len, size_t *pos, uint8_t tag,
			const uint8_t **ret_p, size_t *ret_n)
{
	uint8_t t;
	size_t p = *pos, n;

	if (ber_header(in, len, &p, &t, &n) != 1 || t != tag || n > len - p)
		return false;
	*ret_p = in + p;
	*ret_n = n;
	*pos = p + n;
	return true;
}

static bool ber_int(const uint8_t *p, size_t n, long *ret)
{
	long v;

	if (n == 0 || n > 4)
		return false;
	v = (p[0] & 0x80) ? -1 : 0;
	for (size_t i = 0; i < n; i++)
		v = (long)(((unsigned long)v << 8) | p[i]);
	*ret = v;
	return true;
}

STARTTLS_DRIVER(ldap)
{
	const uint8_t *id, *res, *code, *dn, *diag;
	size_t pos = 0, n, id_n, res_n, code_n, dn_n, diag_n, msg_end;
	long msgid, rc;
	uint8_t tag;
	int k;

	*consumed = 0;
	if (s->state == 0) {
		enum starttls_result r = queue(s, ldap_starttls_request,
					       sizeof(ldap_starttls_request) - 1);

		if (r != STARTTLS_CONTINUE)
			return r;
		s->state = 1;
	}
	if (len == 0)
		return STARTTLS_CONTINUE;
	k = ber_header(in, len, &pos, &tag, &n);
	if (k < 0 || (k > 0 && tag != 0x30))
		return fail(s, STARTTLS_PROTOCOL, in, len,
			    "the server did not answer the LDAP StartTLS request:");
	if (k == 0)
		return STARTTLS_CONTINUE;
	if (n > LDAP_MAX_MESSAGE)
		return fail(s, STARTTLS_TOO_LONG, in, len,
			    "the LDAP server announced a message of %zu bytes:", n);
	if (n > len - pos)
		return STARTTLS_CONTINUE;
	msg_end = pos + n;
	/* LDAPMessage: messageID, then ExtendedResponse [APPLICATION 24]. */
	if (!ber_element(in, msg_end, &pos, 0x02, &id, &id_n) || !ber_int(id, id_n, &msgid) ||
	    !ber_element(in, msg_end, &pos, 0x78, &res, &res_n))
		return fail(s, STARTTLS_PROTOCOL, in, msg_end,
			    "the LDAP server did not send an ExtendedResponse:");
	pos = 0;
	if (!ber_element(res, res_n, &pos, 0x0a, &code, &code_n) || !ber_int(code, code_n, &rc) ||
	    !ber_element(res, res_n, &pos, 0x04, &dn, &dn_n) ||
	    !ber_element(res, res_n, &pos, 0x04, &diag, &diag_n))
		return fail(s, STARTTLS_PROTOCOL, in, msg_end,
			    "the LDAP server sent a malformed ExtendedResponse:");
	*consumed = msg_end;
	/* messageID 0 is an unsolicited notice, such as a disconnection. */
	if (msgid != 1)
		return fail(s, STARTTLS_PROTOCOL, diag, diag_n,
			    "the LDAP server sent a notice for message %ld, result code %ld:",
			    msgid, rc);
	if (rc != 0)
		return fail(s, STARTTLS_REFUSED, diag, diag_n,
			    "the LDAP server refused StartTLS with result code %ld:", rc);
	return STARTTLS_READY;
}

/* ---- PostgreSQL (protocol 3.0, "SSL Session Encryption") ----------------- */

STARTTLS_DRIVER(postgres)
{
	/* Length 8, then the SSLRequest code 1234 << 16 | 5679. */
	static const uint8_t ssl_request[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };

	*consumed = 0;
	if (s->state == 0) {
		enum starttls_result r = queue(s, ssl_request, sizeof(ssl_request));

		if (r != STARTTLS_CONTINUE)
			return r;
		s->state = 1;
	}
	if (len == 0)
		return STARTTLS_CONTINUE;
	*consumed = 1;
	switch (in[0]) {
	case 'S':
		return STARTTLS_READY;
	case 'N':
		return fail(s, STARTTLS_REFUSED, NULL, 0,
			    "the PostgreSQL server does not accept SSL");
	case 'E':
		/* Servers before 7.0 answer with an ErrorResponse. */
		*consumed = len;
		return fail(s, STARTTLS_PROTOCOL, in + 1, len - 1,
			    "the PostgreSQL server answered the SSLRequest with an error:");
	default:
		*consumed = len;
		return fail(s, STARTTLS_PROTOCOL, in, len,
			    "the server did not answer the PostgreSQL SSLRequest:");
	}
}

/* ---- MySQL / MariaDB (Protocol::HandshakeV10, Protocol::SSLRequest) ------ */

#define MYSQL_CLIENT_SSL 0x0800

STARTTLS_DRIVER(mysql)
{
	/*
	 * As openssl s_client sends it: capabilities 0x007fae85 (CLIENT_SSL,
	 * PROTOCOL_41, SECURE_CONNECTION among them), max packet 16 MiB,
	 * charset 33 (utf8), 23 reserved zero bytes; sequence id 1.
	 */
	static const uint8_t ssl_request[36] = {
		0x20, 0x00, 0x00, 0x01,
		0x85, 0xae, 0x7f, 0x00,
		0x00, 0x00, 0x00, 0x01,
		0x21,
	};
	const uint8_t *pl, *ver_end;
	size_t plen, off;

	*consumed = 0;
	/* The first call has no input at all: in is NULL then. */
	if (len < 4)
		return STARTTLS_CONTINUE;
	pl = in + 4;
	plen = in[0] | (size_t)in[1] << 8 | (size_t)in[2] << 16;
	if (plen > STARTTLS_MAX_LINE)
		return fail(s, STARTTLS_TOO_LONG, in, len,
			    "the server announced a packet of %zu bytes, more than a MySQL greeting:",
			    plen);
	if (len - 4 < plen)
		return STARTTLS_CONTINUE;
	*consumed = 4 + plen;
	if (plen >= 3 && pl[0] == 0xff)
		return fail(s, STARTTLS_PROTOCOL, pl + 3, plen - 3,
			    "the MySQL server sent error %u:", (unsigned)(pl[1] | pl[2] << 8));
	if (in[3] != 0 || plen < 2 || pl[0] != 10)
		return fail(s, STARTTLS_PROTOCOL, in, 4 + plen,
			    "the server did not send a MySQL protocol 10 handshake:");
	/* Server version, NUL; connection id, 8 bytes of scramble, a filler. */
	ver_end = memchr(pl + 1, '\0', plen - 1);
	off = ver_end ? (size_t)(ver_end - pl) + 1 + 4 + 8 + 1 : plen;
	if (off + 2 > plen)
		return fail(s, STARTTLS_PROTOCOL, in, 4 + plen,
			    "the MySQL server sent a truncated handshake:");
	if (!((pl[off] | pl[off + 1] << 8) & MYSQL_CLIENT_SSL))
		return fail(s, STARTTLS_REFUSED, pl + 1, (size_t)(ver_end - pl) - 1,
			    "the MySQL server does not offer SSL; its version:");
	s->state = 1;
	if (queue(s, ssl_request, sizeof(ssl_request)) != STARTTLS_CONTINUE)
		return STARTTLS_PROTOCOL;
	return STARTTLS_READY;
}
