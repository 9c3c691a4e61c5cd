/*
 * starttls-drivers.h - what the drivers share: one step function per
 * protocol (see starttls.h for the contract they all follow), and the two
 * things every driver does to its session.  Not an API: the probe engine
 * uses starttls.h.
 */
#pragma once

#include "starttls.h"
#include "util.h"

#define STARTTLS_DRIVER(name) \
	enum starttls_result starttls_##name(struct starttls_session *s, \
					     const uint8_t *in, size_t len, size_t *consumed)

/* The line protocols: starttls-line-drivers.c, on the engine of starttls-line.c. */
STARTTLS_DRIVER(smtp);
STARTTLS_DRIVER(lmtp);
STARTTLS_DRIVER(imap);
STARTTLS_DRIVER(pop3);
STARTTLS_DRIVER(sieve);
STARTTLS_DRIVER(ftp);
STARTTLS_DRIVER(nntp);
STARTTLS_DRIVER(irc);
/* An XML stream: starttls-xmpp.c. */
STARTTLS_DRIVER(xmpp);
STARTTLS_DRIVER(xmpp_server);
/* Binary framing: starttls-framed.c. */
STARTTLS_DRIVER(ldap);
STARTTLS_DRIVER(postgres);
STARTTLS_DRIVER(mysql);

#define STARTTLS_GOODBYE(name) \
	enum starttls_result starttls_goodbye_##name(struct starttls_session *s, bool in_tls)

/* QUIT (SMTP, LMTP, POP3, FTP, NNTP, IRC) and the LOGOUTs: starttls-line-drivers.c. */
STARTTLS_GOODBYE(quit);
STARTTLS_GOODBYE(imap);
STARTTLS_GOODBYE(sieve);
/* The end of the stream: starttls-xmpp.c. */
STARTTLS_GOODBYE(xmpp);
STARTTLS_GOODBYE(xmpp_server);
/* An UnbindRequest: starttls-framed.c. */
STARTTLS_GOODBYE(ldap);

/*
 * Sets s->detail to the formatted message, followed by peer_len bytes of
 * peer escaped and quoted when peer is not NULL, and returns r: the one
 * way a driver fails, so that peer text never reaches a message raw.
 */
__attribute__((format(printf, 5, 6)))
enum starttls_result starttls_fail(struct starttls_session *s, enum starttls_result r,
				   const void *peer, size_t peer_len, const char *fmt, ...);

/* Queues n bytes to send; STARTTLS_PROTOCOL (detail set) if they do not fit. */
enum starttls_result starttls_queue(struct starttls_session *s, const void *p, size_t n);
