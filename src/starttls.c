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

const struct starttls_driver starttls_drivers[] = {
	{ "smtp",        25,   starttls_smtp },
	{ "lmtp",        24,   starttls_lmtp },
	{ "imap",        143,  starttls_imap },
	{ "pop3",        110,  starttls_pop3 },
	{ "sieve",       4190, starttls_sieve },
	{ "ftp",         21,   starttls_ftp },
	{ "xmpp",        5222, starttls_xmpp },
	{ "xmpp-server", 5269, starttls_xmpp_server },
	{ "ldap",        389,  starttls_ldap },
	{ "postgres",    5432, starttls_postgres },
	{ "mysql",       3306, starttls_mysql },
	{ "nntp",        119,  starttls_nntp },
	{ "irc",         6667, starttls_irc },
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
