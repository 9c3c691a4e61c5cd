/*
 * probe-tls.h - the probe engine's OpenSSL side: the client context, the
 * set-up of one handshake, and what a failed handshake means.  probe.c
 * drives SSL_connect() on its loop; nothing here waits or schedules.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "probe.h"

/* What the server showed during the handshake, for the failure message. */
struct tls_capture {
	char alert[64];               /* the fatal alert the server sent */
	char alert_sent[64];          /* the fatal alert certwatch sent, giving up */
	bool cert_requested;          /* the server asked for a client certificate */
	uint8_t first_bytes[48];      /* what the server sent first */
	size_t n_first_bytes;
};

/* TLS 1.2 to 1.3, the system trust store, no verification cut-off; NULL on failure. */
SSL_CTX *probe_tls_ctx_new(void);

/*
 * A client for the connected socket fd, with SNI and a host check for name
 * (without a final dot; an IP check for a literal address; neither when
 * NULL), offering only
 * what selects key_type's certificate, recording into cap, which must
 * outlive it.  Returns 0 and sets *ret, or -EIO with the
 * reason in detail.
 */
int probe_tls_new(SSL_CTX *ctx, int fd, const char *name, enum key_type key_type,
		  struct tls_capture *cap, char *detail, size_t len, SSL **ret);

/*
 * Classifies a failed SSL_connect() from SSL_get_error()'s ssl_error, the
 * errno it left, cap and the error queue (which it clears): returns the
 * status and writes the message into detail.
 */
enum probe_status probe_tls_failure(struct tls_capture *cap, int ssl_error, int saved_errno,
				    char *detail, size_t len);

/*
 * A handshake that failed with an alert from the server after the server's
 * certificate arrived (a server that requires a client certificate says so
 * only then, in TLS 1.2): the certificate is what certwatch came for.
 * Returns true and writes what happened into detail; false otherwise.
 */
bool probe_tls_cert_before_alert(SSL *ssl, const struct tls_capture *cap, char *detail,
				 size_t len);
