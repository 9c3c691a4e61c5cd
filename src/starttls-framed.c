/*
 * starttls-framed.c - the protocols that frame their messages in binary:
 * LDAP's StartTLS extended operation (BER), PostgreSQL's SSLRequest and
 * MySQL's SSLRequest after the server's handshake packet.  Each reads its
 * own framing, with a bound on every length the server announces, and
 * quotes the server only through starttls_fail().
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "starttls-drivers.h"

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
		enum starttls_result r = starttls_queue(s, ldap_starttls_request,
							sizeof(ldap_starttls_request) - 1);

		if (r != STARTTLS_CONTINUE)
			return r;
		s->state = 1;
	}
	if (len == 0)
		return STARTTLS_CONTINUE;
	k = ber_header(in, len, &pos, &tag, &n);
	if (k < 0 || (k > 0 && tag != 0x30))
		return starttls_fail(s, STARTTLS_PROTOCOL, in, len,
				     "the server did not answer the LDAP StartTLS request:");
	if (k == 0)
		return STARTTLS_CONTINUE;
	if (n > LDAP_MAX_MESSAGE)
		return starttls_fail(s, STARTTLS_TOO_LONG, in, len,
				     "the LDAP server announced a message of %zu bytes:", n);
	if (n > len - pos)
		return STARTTLS_CONTINUE;
	msg_end = pos + n;
	/* LDAPMessage: messageID, then ExtendedResponse [APPLICATION 24]. */
	if (!ber_element(in, msg_end, &pos, 0x02, &id, &id_n) || !ber_int(id, id_n, &msgid) ||
	    !ber_element(in, msg_end, &pos, 0x78, &res, &res_n))
		return starttls_fail(s, STARTTLS_PROTOCOL, in, msg_end,
				     "the LDAP server did not send an ExtendedResponse:");
	pos = 0;
	if (!ber_element(res, res_n, &pos, 0x0a, &code, &code_n) || !ber_int(code, code_n, &rc) ||
	    !ber_element(res, res_n, &pos, 0x04, &dn, &dn_n) ||
	    !ber_element(res, res_n, &pos, 0x04, &diag, &diag_n))
		return starttls_fail(s, STARTTLS_PROTOCOL, in, msg_end,
				     "the LDAP server sent a malformed ExtendedResponse:");
	*consumed = msg_end;
	/* messageID 0 is an unsolicited notice, such as a disconnection. */
	if (msgid != 1)
		return starttls_fail(s, STARTTLS_PROTOCOL, diag, diag_n,
				     "the LDAP server sent a notice for message %ld, "
				     "result code %ld:",
				     msgid, rc);
	if (rc != 0)
		return starttls_fail(s, STARTTLS_REFUSED, diag, diag_n,
				     "the LDAP server refused StartTLS with result code %ld:", rc);
	return STARTTLS_READY;
}

/* RFC 4511 4.3: messageID 2, UnbindRequest [APPLICATION 2] NULL. */
STARTTLS_GOODBYE(ldap)
{
	static const uint8_t unbind[] = { 0x30, 0x05, 0x02, 0x01, 0x02, 0x42, 0x00 };

	(void)in_tls;
	return starttls_queue(s, unbind, sizeof(unbind));
}

/* ---- PostgreSQL (protocol 3.0, "SSL Session Encryption") ----------------- */

STARTTLS_DRIVER(postgres)
{
	/* Length 8, then the SSLRequest code 1234 << 16 | 5679. */
	static const uint8_t ssl_request[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };

	*consumed = 0;
	if (s->state == 0) {
		enum starttls_result r = starttls_queue(s, ssl_request, sizeof(ssl_request));

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
		return starttls_fail(s, STARTTLS_REFUSED, NULL, 0,
				     "the PostgreSQL server does not accept SSL");
	case 'E':
		/* Servers before 7.0 answer with an ErrorResponse. */
		*consumed = len;
		return starttls_fail(s, STARTTLS_PROTOCOL, in + 1, len - 1,
				     "the PostgreSQL server answered the SSLRequest "
				     "with an error:");
	default:
		*consumed = len;
		return starttls_fail(s, STARTTLS_PROTOCOL, in, len,
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
		return starttls_fail(s, STARTTLS_TOO_LONG, in, len,
				     "the server announced a packet of %zu bytes, "
				     "more than a MySQL greeting:",
				     plen);
	if (len - 4 < plen)
		return STARTTLS_CONTINUE;
	*consumed = 4 + plen;
	if (plen >= 3 && pl[0] == 0xff)
		return starttls_fail(s, STARTTLS_PROTOCOL, pl + 3, plen - 3,
				     "the MySQL server sent error %u:",
				     (unsigned)(pl[1] | pl[2] << 8));
	if (in[3] != 0 || plen < 2 || pl[0] != 10)
		return starttls_fail(s, STARTTLS_PROTOCOL, in, 4 + plen,
				     "the server did not send a MySQL protocol 10 handshake:");
	/* Server version, NUL; connection id, 8 bytes of scramble, a filler. */
	ver_end = memchr(pl + 1, '\0', plen - 1);
	off = ver_end ? (size_t)(ver_end - pl) + 1 + 4 + 8 + 1 : plen;
	if (off + 2 > plen)
		return starttls_fail(s, STARTTLS_PROTOCOL, in, 4 + plen,
				     "the MySQL server sent a truncated handshake:");
	if (!((pl[off] | pl[off + 1] << 8) & MYSQL_CLIENT_SSL))
		return starttls_fail(s, STARTTLS_REFUSED, pl + 1, (size_t)(ver_end - pl) - 1,
				     "the MySQL server does not offer SSL; its version:");
	s->state = 1;
	if (starttls_queue(s, ssl_request, sizeof(ssl_request)) != STARTTLS_CONTINUE)
		return STARTTLS_PROTOCOL;
	return STARTTLS_READY;
}
