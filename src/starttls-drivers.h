/*
 * starttls-drivers.h - one step function per protocol; see starttls.h for
 * the contract they all follow.
 */
#pragma once

#include "starttls.h"
#include "util.h"

#define STARTTLS_DRIVER(name) \
	enum starttls_result starttls_##name(struct starttls_session *s, \
					     const uint8_t *in, size_t len, size_t *consumed)

STARTTLS_DRIVER(smtp);
STARTTLS_DRIVER(lmtp);
STARTTLS_DRIVER(imap);
STARTTLS_DRIVER(pop3);
STARTTLS_DRIVER(sieve);
STARTTLS_DRIVER(ftp);
STARTTLS_DRIVER(xmpp);
STARTTLS_DRIVER(xmpp_server);
STARTTLS_DRIVER(ldap);
STARTTLS_DRIVER(postgres);
STARTTLS_DRIVER(mysql);
STARTTLS_DRIVER(nntp);
STARTTLS_DRIVER(irc);
