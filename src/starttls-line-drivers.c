/*
 * starttls-line-drivers.c - the line protocols, as openssl s_client
 * -starttls runs them: SMTP, LMTP, IMAP, POP3, ManageSieve, FTP, NNTP and
 * IRC.  Each is a line_dialogue (starttls-line.h): the shape of the reply
 * awaited in each state, and a judge that sends the next command or gives
 * the verdict.  Reading, bounds and escaping are the engine's.
 */
#include "config.h"

#include <arpa/inet.h>

#include "starttls-drivers.h"
#include "starttls-line.h"

/* ---- goodbyes ----------------------------------------------------------- */

/* Valid in every state of SMTP, LMTP, POP3, FTP, NNTP and IRC, inside TLS or not. */
STARTTLS_GOODBYE(quit)
{
	(void)in_tls;
	return starttls_queue(s, "QUIT\r\n", 6);
}

/* RFC 3501 6.1.3; tags a and b were the dialogue's. */
STARTTLS_GOODBYE(imap)
{
	(void)in_tls;
	return starttls_queue(s, "c LOGOUT\r\n", 10);
}

/* RFC 5804 2.3. */
STARTTLS_GOODBYE(sieve)
{
	(void)in_tls;
	return starttls_queue(s, "LOGOUT\r\n", 8);
}

/* ---- SMTP and LMTP (RFC 3207, RFC 2033) ---------------------------------- */

static enum starttls_result smtp_reply(struct starttls_session *s,
				       const struct line_dialogue *d, const struct line_reply *r)
{
	struct in6_addr a;
	const char *open = "", *close = "";

	switch (s->state) {
	case 0:
		if (line_reply_code(r) != 220)
			return line_unexpected(s, d, r, "greeted with");
		/*
		 * The client's own name, not the server's: MTAs commonly
		 * reject a greeting naming one of their own names or
		 * addresses.  RFC 5321 4.1.3: an address goes in brackets.
		 */
		if (inet_pton(AF_INET, s->helo, &a) == 1)
			open = "[", close = "]";
		else if (inet_pton(AF_INET6, s->helo, &a) == 1)
			open = "[IPv6:", close = "]";
		return line_send(s, 1, "%s %s%s%s", d->verb, open, s->helo, close);
	case 1:
		if (line_reply_code(r) != 250)
			return line_answered(s, d, r, d->verb);
		if (!line_reply_has(r, 4, "STARTTLS"))
			return line_not_offered(s, d, r);
		return line_send(s, 2, "STARTTLS");
	default:
		return line_coded_verdict(s, d, r, 220, "STARTTLS");
	}
}

#define SMTP_SHAPES { { LINE_REPLY_CODED, NULL }, { LINE_REPLY_CODED, NULL }, \
		      { LINE_REPLY_CODED, NULL } }

static const struct line_dialogue smtp_dialogue = {
	.proto = "SMTP", .verb = "EHLO", .on_reply = smtp_reply, .shape = SMTP_SHAPES,
};

static const struct line_dialogue lmtp_dialogue = {
	.proto = "LMTP", .verb = "LHLO", .on_reply = smtp_reply, .shape = SMTP_SHAPES,
};

STARTTLS_DRIVER(smtp)
{
	return line_run(&smtp_dialogue, s, in, len, consumed);
}

STARTTLS_DRIVER(lmtp)
{
	return line_run(&lmtp_dialogue, s, in, len, consumed);
}

/* ---- IMAP (RFC 3501 6.2.1) ---------------------------------------------- */

static enum starttls_result imap_reply(struct starttls_session *s,
				       const struct line_dialogue *d, const struct line_reply *r)
{
	switch (s->state) {
	case 0:
		if (!line_is_word(r->last, r->last_n, "* OK") &&
		    !line_is_word(r->last, r->last_n, "* PREAUTH"))
			return line_unexpected(s, d, r, "greeted with");
		return line_send(s, 1, "a CAPABILITY");
	case 1:
		if (!line_is_word(r->last, r->last_n, "a OK"))
			return line_answered(s, d, r, "CAPABILITY");
		if (!line_reply_has(r, -1, "STARTTLS"))
			return line_not_offered(s, d, r);
		return line_send(s, 2, "b STARTTLS");
	default:
		if (line_is_word(r->last, r->last_n, "b OK"))
			return STARTTLS_READY;
		if (line_is_word(r->last, r->last_n, "b NO") ||
		    line_is_word(r->last, r->last_n, "b BAD"))
			return line_refused(s, d, r, "STARTTLS");
		return line_answered(s, d, r, "STARTTLS");
	}
}

static const struct line_dialogue imap_dialogue = {
	.proto = "IMAP", .on_reply = imap_reply,
	.shape = { { LINE_REPLY_ONE, NULL }, { LINE_REPLY_PREFIXED, "*" },
		   { LINE_REPLY_PREFIXED, "*" } },
};

STARTTLS_DRIVER(imap)
{
	return line_run(&imap_dialogue, s, in, len, consumed);
}

/* ---- POP3 (RFC 2595 4, RFC 2449) ----------------------------------------- */

static enum starttls_result pop3_reply(struct starttls_session *s,
				       const struct line_dialogue *d, const struct line_reply *r)
{
	bool positive = line_is_word(r->p, r->n, "+OK");

	switch (s->state) {
	case 0:
		if (!positive)
			return line_unexpected(s, d, r, "greeted with");
		return line_send(s, 1, "CAPA");
	case 1:
		/* A server without CAPA (RFC 1939 only) may still know STLS. */
		if (line_has_prefix(r->p, r->n, "-ERR"))
			return line_send(s, 2, "STLS");
		if (!positive)
			return line_answered(s, d, r, "CAPA");
		if (!line_reply_has(r, 0, "STLS"))
			return line_not_offered(s, d, r);
		return line_send(s, 2, "STLS");
	default:
		if (positive)
			return STARTTLS_READY;
		if (line_has_prefix(r->p, r->n, "-ERR"))
			return line_refused(s, d, r, "STLS");
		return line_answered(s, d, r, "STLS");
	}
}

static const struct line_dialogue pop3_dialogue = {
	.proto = "POP3", .on_reply = pop3_reply,
	.shape = { { LINE_REPLY_ONE, NULL }, { LINE_REPLY_DOTTED, "+OK" },
		   { LINE_REPLY_ONE, NULL } },
};

STARTTLS_DRIVER(pop3)
{
	return line_run(&pop3_dialogue, s, in, len, consumed);
}

/* ---- ManageSieve (RFC 5804 1.7, 2.2) -------------------------------------- */

static enum starttls_result sieve_reply(struct starttls_session *s,
					const struct line_dialogue *d, const struct line_reply *r)
{
	switch (s->state) {
	case 0:
		if (!line_is_word(r->last, r->last_n, "OK"))
			return line_unexpected(s, d, r, "greeted with");
		if (!line_reply_has(r, 0, "\"STARTTLS\""))
			return line_not_offered(s, d, r);
		return line_send(s, 1, "STARTTLS");
	default:
		if (line_is_word(r->last, r->last_n, "OK"))
			return STARTTLS_READY;
		if (line_is_word(r->last, r->last_n, "NO"))
			return line_refused(s, d, r, "STARTTLS");
		return line_answered(s, d, r, "STARTTLS");
	}
}

static const struct line_dialogue sieve_dialogue = {
	.proto = "ManageSieve", .on_reply = sieve_reply,
	.shape = { { LINE_REPLY_PREFIXED, "\"" }, { LINE_REPLY_PREFIXED, "\"" } },
};

STARTTLS_DRIVER(sieve)
{
	return line_run(&sieve_dialogue, s, in, len, consumed);
}

/* ---- FTP (RFC 4217 4) ---------------------------------------------------- */

static enum starttls_result ftp_reply(struct starttls_session *s,
				      const struct line_dialogue *d, const struct line_reply *r)
{
	int code = line_reply_code(r);

	if (s->state != 0)
		return line_coded_verdict(s, d, r, 234, "AUTH TLS");
	/* RFC 959: "120 ready in nnn minutes" comes before the 220. */
	if (code >= 100 && code < 200)
		return STARTTLS_CONTINUE;
	if (code != 220)
		return line_unexpected(s, d, r, "greeted with");
	return line_send(s, 1, "AUTH TLS");
}

static const struct line_dialogue ftp_dialogue = {
	.proto = "FTP", .on_reply = ftp_reply,
	.shape = { { LINE_REPLY_CODED, NULL }, { LINE_REPLY_CODED, NULL } },
};

STARTTLS_DRIVER(ftp)
{
	return line_run(&ftp_dialogue, s, in, len, consumed);
}

/* ---- NNTP (RFC 4642, RFC 3977 5.2, 5.3) ---------------------------------- */

enum { NNTP_GREETING, NNTP_CAPS, NNTP_STARTTLS, NNTP_MODE_READER, NNTP_READER_CAPS };

/*
 * A server in transit mode, such as INN's innd talking to a host it peers
 * with (loopback, by default), lists MODE-READER instead of STARTTLS: only
 * the reader it hands the connection to on MODE READER (nnrpd) speaks
 * TLS.  MODE READER is sent once, and only then.
 */
static enum starttls_result nntp_caps(struct starttls_session *s, const struct line_dialogue *d,
				      const struct line_reply *r)
{
	int code = line_reply_code(r);

	/* Servers older than RFC 3977 may know STARTTLS without CAPABILITIES. */
	if (code >= 500 && s->state == NNTP_CAPS)
		return line_send(s, NNTP_STARTTLS, "STARTTLS");
	if (code != 101)
		return line_answered(s, d, r, "CAPABILITIES");
	if (line_reply_has(r, 0, "STARTTLS"))
		return line_send(s, NNTP_STARTTLS, "STARTTLS");
	if (s->state == NNTP_CAPS && line_reply_has(r, 0, "MODE-READER"))
		return line_send(s, NNTP_MODE_READER, "MODE READER");
	return line_not_offered(s, d, r);
}

static enum starttls_result nntp_reply(struct starttls_session *s,
				       const struct line_dialogue *d, const struct line_reply *r)
{
	int code = line_reply_code(r);

	switch (s->state) {
	case NNTP_GREETING:
		if (code != 200 && code != 201)
			return line_unexpected(s, d, r, "greeted with");
		return line_send(s, NNTP_CAPS, "CAPABILITIES");
	case NNTP_CAPS:
	case NNTP_READER_CAPS:
		return nntp_caps(s, d, r);
	case NNTP_MODE_READER:
		/* 200 or 201, the reader's own greeting; 502: no reading here. */
		if (code != 200 && code != 201)
			return line_coded_verdict(s, d, r, 200, "MODE READER");
		return line_send(s, NNTP_READER_CAPS, "CAPABILITIES");
	default:
		return line_coded_verdict(s, d, r, 382, "STARTTLS");
	}
}

static const struct line_dialogue nntp_dialogue = {
	.proto = "NNTP", .on_reply = nntp_reply,
	.shape = { [NNTP_GREETING] = { LINE_REPLY_CODED, NULL },
		   [NNTP_CAPS] = { LINE_REPLY_DOTTED, "101" },
		   [NNTP_STARTTLS] = { LINE_REPLY_CODED, NULL },
		   [NNTP_MODE_READER] = { LINE_REPLY_CODED, NULL },
		   [NNTP_READER_CAPS] = { LINE_REPLY_DOTTED, "101" } },
};

STARTTLS_DRIVER(nntp)
{
	return line_run(&nntp_dialogue, s, in, len, consumed);
}

/* ---- IRC (the IRCv3 tls extension) ---------------------------------------- */

static enum starttls_result irc_reply(struct starttls_session *s,
				      const struct line_dialogue *d, const struct line_reply *r)
{
	const uint8_t *p = r->last, *end = r->last + r->last_n;

	/* Skip the ":server.name " prefix to reach the command. */
	if (p < end && *p == ':') {
		while (p < end && *p != ' ')
			p++;
		while (p < end && *p == ' ')
			p++;
	}
	if (line_is_word(p, (size_t)(end - p), "670"))
		return STARTTLS_READY;
	if (line_is_word(p, (size_t)(end - p), "691"))
		return line_refused(s, d, r, "STARTTLS");
	/* ERR_UNKNOWNCOMMAND, or ERR_NOTREGISTERED from servers that check that first. */
	if (line_is_word(p, (size_t)(end - p), "421") || line_is_word(p, (size_t)(end - p), "451"))
		return starttls_fail(s, STARTTLS_REFUSED, r->last, r->last_n,
				     "the IRC server does not know STARTTLS:");
	if (line_is_word(p, (size_t)(end - p), "ERROR"))
		return line_unexpected(s, d, r, "closed the connection:");
	/* NOTICE AUTH and other chatter before registration: keep reading. */
	return STARTTLS_CONTINUE;
}

/* One line at a time: the opening is sent in state 0, replies come in state 1. */
static const struct line_dialogue irc_dialogue = {
	.proto = "IRC", .opening = "STARTTLS", .on_reply = irc_reply,
	.shape = { { LINE_REPLY_ONE, NULL }, { LINE_REPLY_ONE, NULL } },
};

STARTTLS_DRIVER(irc)
{
	return line_run(&irc_dialogue, s, in, len, consumed);
}
