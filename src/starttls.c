/*
 * starttls.c - the STARTTLS framework: the driver table, the preamble
 * bound, and the check that nothing follows the server's go-ahead.
 * The dialogues themselves are one step function each: the line protocols
 * in starttls-line-drivers.c, XMPP in starttls-xmpp.c, the binary ones in
 * starttls-framed.c.
 */
#include "config.h"

#include <string.h>

#include "starttls.h"
#include "starttls-drivers.h"

/*
 * PostgreSQL and MySQL have no goodbye before the client has logged in:
 * PostgreSQL takes a Terminate there for a startup packet of absurd length
 * and logs it, MariaDB answers COM_QUIT with an error.  Both end quietly on
 * the close_notify alone (MariaDB still logs "Aborted connection" for any
 * client that leaves unauthenticated, openssl s_client too).
 */
const struct starttls_driver starttls_drivers[] = {
	{ "smtp",        25,   starttls_smtp,        starttls_goodbye_quit },
	{ "lmtp",        24,   starttls_lmtp,        starttls_goodbye_quit },
	{ "imap",        143,  starttls_imap,        starttls_goodbye_imap },
	{ "pop3",        110,  starttls_pop3,        starttls_goodbye_quit },
	{ "sieve",       4190, starttls_sieve,       starttls_goodbye_sieve },
	{ "ftp",         21,   starttls_ftp,         starttls_goodbye_quit },
	{ "xmpp",        5222, starttls_xmpp,        starttls_goodbye_xmpp },
	{ "xmpp-server", 5269, starttls_xmpp_server, starttls_goodbye_xmpp_server },
	{ "ldap",        389,  starttls_ldap,        starttls_goodbye_ldap },
	{ "postgres",    5432, starttls_postgres,    NULL },
	{ "mysql",       3306, starttls_mysql,       NULL },
	{ "nntp",        119,  starttls_nntp,        starttls_goodbye_quit },
	{ "irc",         6667, starttls_irc,         starttls_goodbye_quit },
};
const size_t starttls_n_drivers = ELEMENTSOF(starttls_drivers);

static const char *const result_names[_STARTTLS_RESULT_MAX] = {
	[STARTTLS_CONTINUE] = "continue",
	[STARTTLS_READY]    = "ready",
	[STARTTLS_REFUSED]  = "starttls-refused",
	[STARTTLS_PROTOCOL] = "protocol-error",
	[STARTTLS_TOO_LONG] = "too-long",
};

const char *starttls_result_to_string(enum starttls_result r)
{
	return (unsigned)r < _STARTTLS_RESULT_MAX ? result_names[r] : "?";
}

int starttls_lookup(const char *name)
{
	for (size_t i = 0; i < starttls_n_drivers; i++)
		if (strcmp(starttls_drivers[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *starttls_names(void)
{
	static char names[256];

	if (names[0] == '\0')
		for (size_t i = 0; i < starttls_n_drivers; i++) {
			if (i > 0)
				strcat(names, ", ");
			strcat(names, starttls_drivers[i].name);
		}
	return names;
}

void starttls_session_init(struct starttls_session *s, int proto, const char *host,
			   const char *helo)
{
	memset(s, 0, sizeof(*s));
	s->proto = proto;
	s->host = host ? host : "localhost";
	s->helo = helo ? helo : s->host;
}

size_t starttls_goodbye(struct starttls_session *s, bool in_tls)
{
	const struct starttls_driver *d = &starttls_drivers[s->proto];

	s->out_len = 0;
	if (!d->goodbye || d->goodbye(s, in_tls) != STARTTLS_CONTINUE)
		s->out_len = 0;
	return s->out_len;
}

enum starttls_result starttls_feed(struct starttls_session *s, const uint8_t *in,
				   size_t len, size_t *consumed)
{
	enum starttls_result r;
	size_t used = 0;

	*consumed = 0;
	if (len > STARTTLS_MAX_PREAMBLE - s->received) {
		snprintf(s->detail, sizeof(s->detail),
			 "the server sent more than %d bytes before TLS",
			 STARTTLS_MAX_PREAMBLE);
		return STARTTLS_TOO_LONG;
	}
	r = starttls_drivers[s->proto].step(s, in, len, &used);
	/* Bytes count towards the bound once, when consumed. */
	s->received += used;
	*consumed = used;
	if (r == STARTTLS_READY && used < len) {
		char esc[128];

		escape_bytes(in + used, len - used, esc, sizeof(esc));
		snprintf(s->detail, sizeof(s->detail),
			 "the server sent data after its STARTTLS go-ahead, "
			 "which would be injected before TLS: \"%s\"", esc);
		return STARTTLS_PROTOCOL;
	}
	return r;
}
