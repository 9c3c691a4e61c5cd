/*
 * starttls.h - the protocol dialogues that come before a TLS handshake.
 *
 * A driver is pure: it never touches a socket.  The probe engine feeds it
 * what the server sent and sends what the driver queued, until the driver
 * says the next byte on the wire is the TLS ClientHello.  That makes every
 * driver testable from a transcript and fuzzable.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STARTTLS_MAX_LINE     4096    /* longest line a server may send */
#define STARTTLS_MAX_PREAMBLE 65536   /* everything a server may send before TLS */
#define STARTTLS_MAX_OUT      1024    /* what a driver may queue at once */

enum starttls_result {
	STARTTLS_CONTINUE,   /* send what is queued, then wait for more input */
	STARTTLS_READY,      /* send what is queued, then start TLS */
	STARTTLS_REFUSED,    /* the server does not offer or refused STARTTLS */
	STARTTLS_PROTOCOL,   /* the server broke the protocol (detail says how) */
	STARTTLS_TOO_LONG,   /* a line or the preamble exceeded its bound */
	_STARTTLS_RESULT_MAX,
};

struct starttls_session {
	int proto;                    /* index into starttls_drivers[] */
	int state;                    /* the driver's own step counter, starts at 0 */
	const char *host;             /* the server's name: XMPP's stream "to"; never NULL */
	const char *helo;             /* the client's name, in EHLO and LHLO; never NULL */
	uint8_t out[STARTTLS_MAX_OUT];
	size_t out_len;               /* bytes queued for sending */
	size_t received;              /* total bytes fed, for the preamble bound */
	char detail[320];             /* on failure: what happened, peer text escaped */
};

struct starttls_driver {
	const char *name;             /* as in openssl s_client -starttls */
	uint16_t default_port;
	/*
	 * Called once with len == 0 right after connecting, then whenever
	 * bytes arrive.  in/len is everything received and not yet consumed;
	 * the driver sets *consumed to what it used (whole lines, whole
	 * packets) and may queue output in s->out.
	 */
	enum starttls_result (*step)(struct starttls_session *s, const uint8_t *in,
				     size_t len, size_t *consumed);
	/*
	 * How a polite client leaves: queues the protocol's goodbye (QUIT,
	 * LOGOUT, an unbind, the end of the XML stream) in s->out, for
	 * sending inside TLS once the handshake is done, or in plaintext
	 * (in_tls false) after the server refused STARTTLS.  NULL, or
	 * nothing queued: the protocol has no goodbye at that point, and
	 * the TLS close_notify alone ends the connection.
	 */
	enum starttls_result (*goodbye)(struct starttls_session *s, bool in_tls);
};

extern const struct starttls_driver starttls_drivers[];
extern const size_t starttls_n_drivers;

/* Returns the index of the driver called name, or -1. */
int starttls_lookup(const char *name);

/* A comma-separated list of every driver's name, for messages. */
const char *starttls_names(void);

/* host NULL: "localhost"; helo NULL: host. */
void starttls_session_init(struct starttls_session *s, int proto, const char *host,
			   const char *helo);

/*
 * Feeds bytes to the session's driver, enforcing STARTTLS_MAX_PREAMBLE.
 * The probe engine calls only this.  When it returns STARTTLS_READY, every
 * byte fed has been consumed: anything left over would be plaintext
 * injected before the handshake, and is reported as STARTTLS_PROTOCOL.
 */
enum starttls_result starttls_feed(struct starttls_session *s, const uint8_t *in,
				   size_t len, size_t *consumed);

/*
 * The session's goodbye (see struct starttls_driver) in s->out, replacing
 * whatever was queued.  Returns how many bytes it is, 0 for none.
 */
size_t starttls_goodbye(struct starttls_session *s, bool in_tls);

const char *starttls_result_to_string(enum starttls_result r);
