/*
 * probe-tls.c - OpenSSL for the probe engine; see probe-tls.h.
 *
 * The context captures whatever chain the server sends: trust and name
 * coverage are judged from the result, never by failing the handshake.
 * Each client records the fatal alert it receives, the one it sends when
 * it gives up, whether the server asked for a client certificate, and the
 * first bytes the server sent, so that a failure can say who ended the
 * handshake and why ("the server sent alert X", "certwatch refused Y",
 * "this is not TLS") rather than OpenSSL's reason alone.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include "probe-tls.h"
#include "util.h"
#include "x509.h"

/*
 * SSL_CB_READ_ALERT and SSL_CB_WRITE_ALERT share the SSL_CB_ALERT bit, so
 * "where & SSL_CB_READ_ALERT" holds for an alert written too: the
 * direction is the SSL_CB_READ or SSL_CB_WRITE bit.  The first fatal alert
 * each way is kept: the one that ended the handshake.
 */
static void on_ssl_info(const SSL *ssl, int where, int ret)
{
	struct tls_capture *cap = SSL_get_app_data(ssl);
	char *to;

	if (!cap || !(where & SSL_CB_ALERT) || (ret >> 8) != SSL3_AL_FATAL)
		return;
	to = where & SSL_CB_READ ? cap->alert : cap->alert_sent;
	if (!to[0])
		snprintf(to, sizeof(cap->alert), "%s", SSL_alert_desc_string_long(ret));
}

/*
 * The server asked for a client certificate: certwatch has none to give
 * (0: send an empty Certificate).  Noted, so that the alert that follows
 * can be explained.
 */
static int on_client_cert(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
	struct tls_capture *cap = SSL_get_app_data(ssl);

	(void)x509;
	(void)pkey;
	if (cap)
		cap->cert_requested = true;
	return 0;
}

/* Keeps the first bytes the server sent, to show them when they are not TLS. */
static long on_bio_read(BIO *b, int oper, const char *argp, size_t len, int argi,
			long argl, int ret, size_t *processed)
{
	struct tls_capture *cap = (struct tls_capture *)BIO_get_callback_arg(b);
	size_t n;

	(void)len;
	(void)argi;
	(void)argl;
	if (oper != (BIO_CB_READ | BIO_CB_RETURN) || ret <= 0 || !processed || !cap)
		return ret;
	n = *processed;
	if (n > sizeof(cap->first_bytes) - cap->n_first_bytes)
		n = sizeof(cap->first_bytes) - cap->n_first_bytes;
	memcpy(cap->first_bytes + cap->n_first_bytes, argp, n);
	cap->n_first_bytes += n;
	return ret;
}

SSL_CTX *probe_tls_ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_STORE *store = NULL;

	if (!ctx)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    x509_trust_store(&store) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* The process's store, read once, not the default paths' scan per handshake. */
	SSL_CTX_set_cert_store(ctx, store);
	/*
	 * Capture the chain whatever it is; trust is judged from the verify
	 * result.  Security level 0: a weak key or signature must still be
	 * reported as what the server serves, not as a failed handshake.
	 */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(ctx, 0);
	/*
	 * A probe waits on its server most of its life (and on the server's
	 * close after the verdict): its record buffers, 16 KiB each way, are
	 * given back while empty rather than held by every connection in flight.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_info_callback(ctx, on_ssl_info);
	SSL_CTX_set_client_cert_cb(ctx, on_client_cert);
	return ctx;
}

static bool is_ip_literal(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET, s, &a) == 1 || inet_pton(AF_INET6, s, &a) == 1;
}

/*
 * What selects one certificate of a server that has one per key type: the
 * signature algorithms (TLS 1.3 and 1.2) and the authentication of the
 * cipher suites (TLS 1.2 only; TLS 1.3 suites do not name it).
 */
static const struct {
	const char *sigalgs;
	const char *ciphers;
} key_types[_KEY_TYPE_MAX] = {
	[KEY_TYPE_RSA] = {
		"rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:"
		"rsa_pkcs1_sha256:rsa_pkcs1_sha384:rsa_pkcs1_sha512",
		"aRSA",
	},
	[KEY_TYPE_ECDSA] = {
		"ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512",
		"aECDSA",
	},
};

int probe_tls_new(SSL_CTX *ctx, int fd, const char *name, enum key_type key_type,
		  struct tls_capture *cap, char *detail, size_t len, SSL **ret)
{
	SSL *ssl = SSL_new(ctx);
	char sni[256];
	BIO *bio;
	bool ok;

	/*
	 * "mail.example.com." is the same name as administrators write it, but
	 * SNI carries a name without its final dot (RFC 6066), and a daemon
	 * that compares the name as it comes (Dovecot's local_name) would not
	 * recognise it.
	 */
	if (name) {
		size_t n = strlen(name);

		snprintf(sni, sizeof(sni), "%.*s", (int)(n > 1 && name[n - 1] == '.' ? n - 1 : n),
			 name);
	}

	ok = ssl && SSL_set_fd(ssl, fd) == 1;
	if (ok && (unsigned)key_type < _KEY_TYPE_MAX && key_types[key_type].sigalgs)
		ok = SSL_set1_sigalgs_list(ssl, key_types[key_type].sigalgs) == 1 &&
		     SSL_set_cipher_list(ssl, key_types[key_type].ciphers) == 1;
	if (ok && name && is_ip_literal(sni))
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), sni) == 1;
	else if (ok && name)
		ok = SSL_set_tlsext_host_name(ssl, sni) == 1 && SSL_set1_host(ssl, sni) == 1;
	if (!ok) {
		snprintf(detail, len, "cannot set up TLS: %s",
			 ERR_reason_error_string(ERR_peek_error()) ?: "out of memory");
		ERR_clear_error();
		SSL_free(ssl);
		return -EIO;
	}
	SSL_set_app_data(ssl, cap);
	/* Read ahead, so that a non-TLS answer is captured whole, not 5 bytes of it. */
	SSL_set_read_ahead(ssl, 1);
	bio = SSL_get_rbio(ssl);
	BIO_set_callback_arg(bio, (char *)cap);
	BIO_set_callback_ex(bio, on_bio_read);
	*ret = ssl;
	return 0;
}

static bool answer_is_not_tls(const struct tls_capture *cap, int reason)
{
	/* A TLS record starts with a content type, 20 to 24. */
	if (cap->n_first_bytes > 0)
		return cap->first_bytes[0] < 20 || cap->first_bytes[0] > 24;
	return reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
	       reason == SSL_R_UNKNOWN_PROTOCOL || reason == SSL_R_HTTP_REQUEST;
}

/* The server closed the connection, cleanly or not, in the middle of the handshake. */
static bool closed_by_server(int ssl_error, int saved_errno, int reason)
{
	return ssl_error == SSL_ERROR_ZERO_RETURN || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
	       (ssl_error == SSL_ERROR_SYSCALL && saved_errno == 0);
}

/*
 * certwatch itself gave up, with an alert of its own: what it refused.
 * An oversized message is a chain larger than OpenSSL takes, most often.
 */
static void gave_up(const struct tls_capture *cap, unsigned long e, char *detail, size_t len)
{
	int reason = ERR_GET_LIB(e) == ERR_LIB_SSL ? ERR_GET_REASON(e) : 0;

	if (reason == SSL_R_EXCESSIVE_MESSAGE_SIZE)
		snprintf(detail, len, "the server sent a handshake message larger than certwatch "
			 "accepts (%ld KiB; a certificate chain that long?): certwatch ended the "
			 "handshake with TLS alert %s", (long)SSL_MAX_CERT_LIST_DEFAULT / 1024,
			 cap->alert_sent);
	else
		snprintf(detail, len, "certwatch ended the TLS handshake with alert %s: %s",
			 cap->alert_sent, ERR_reason_error_string(e) ?: "unknown error");
}

enum probe_status probe_tls_failure(struct tls_capture *cap, int ssl_error, int saved_errno,
				    char *detail, size_t len)
{
	unsigned long e = ERR_peek_error();
	int reason = ERR_GET_LIB(e) == ERR_LIB_SSL ? ERR_GET_REASON(e) : 0;
	char esc[160];

	/* OpenSSL's reason for an alert received is the alert's code past an offset. */
	if (!cap->alert[0] && reason > SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256)
		snprintf(cap->alert, sizeof(cap->alert), "%s",
			 SSL_alert_desc_string_long(reason - SSL_AD_REASON_OFFSET));

	if (cap->alert[0]) {
		snprintf(detail, len, "the server sent TLS alert %s", cap->alert);
		ERR_clear_error();
		return PROBE_TLS_ALERT;
	}
	if (answer_is_not_tls(cap, reason) && cap->n_first_bytes > 0) {
		escape_bytes(cap->first_bytes, cap->n_first_bytes, esc, sizeof(esc));
		snprintf(detail, len, "the server's answer is not TLS: \"%s\"", esc);
	} else if (answer_is_not_tls(cap, reason))
		snprintf(detail, len, "the server's answer is not TLS (%s)",
			 ERR_reason_error_string(e) ?: "unknown error");
	else if (closed_by_server(ssl_error, saved_errno, reason) && cap->n_first_bytes == 0)
		snprintf(detail, len, "the server closed the connection without a word: nothing "
			 "answered the TLS ClientHello");
	else if (closed_by_server(ssl_error, saved_errno, reason))
		snprintf(detail, len, "the server closed the connection during the TLS handshake");
	else if (ssl_error == SSL_ERROR_SYSCALL)
		snprintf(detail, len, "the connection failed during the TLS handshake: %s",
			 strerror(saved_errno));
	else if (cap->alert_sent[0])
		gave_up(cap, e, detail, len);
	else
		snprintf(detail, len, "the TLS handshake failed: %s",
			 ERR_reason_error_string(e) ?: "unknown error");
	ERR_clear_error();
	return PROBE_TLS_FAILED;
}

bool probe_tls_cert_before_alert(SSL *ssl, const struct tls_capture *cap, char *detail,
				 size_t len)
{
	if (!cap->alert[0] || !SSL_get0_peer_certificate(ssl))
		return false;
	if (cap->cert_requested)
		snprintf(detail, len, "the server asked for a client certificate and, given none, "
			 "ended the handshake with TLS alert %s after sending its own", cap->alert);
	else
		snprintf(detail, len, "the server ended the handshake with TLS alert %s after "
			 "sending its certificate", cap->alert);
	return true;
}
