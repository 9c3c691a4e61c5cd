/*
 * probe-result.c - the bookkeeping of a probe's result: the names of its
 * statuses and phases, what a finished handshake tells about the server's
 * certificate, and freeing what a result holds.
 *
 * Everything taken from the handshake is the peer's and untrusted: the
 * leaf goes through cert_info_from_x509(), which escapes and bounds it;
 * OpenSSL's own strings (version, cipher, verify error) are bounded here.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "probe.h"
#include "probe-int.h"

static const char *const status_names[_PROBE_STATUS_MAX] = {
	[PROBE_OK]               = "ok",
	[PROBE_RESOLVE_FAILED]   = "resolve-failed",
	[PROBE_CONNECT_REFUSED]  = "connection-refused",
	[PROBE_CONNECT_FAILED]   = "connect-failed",
	[PROBE_TIMEOUT]          = "timeout",
	[PROBE_STARTTLS_REFUSED] = "starttls-refused",
	[PROBE_PROTOCOL_ERROR]   = "protocol-error",
	[PROBE_TLS_ALERT]        = "tls-alert",
	[PROBE_TLS_FAILED]       = "tls-failed",
	[PROBE_NO_CERT]          = "no-certificate",
};

static const char *const phase_names[_PROBE_PHASE_MAX] = {
	[PROBE_PHASE_QUEUED]    = "queued",
	[PROBE_PHASE_RESOLVE]   = "resolve",
	[PROBE_PHASE_CONNECT]   = "connect",
	[PROBE_PHASE_STARTTLS]  = "starttls",
	[PROBE_PHASE_HANDSHAKE] = "handshake",
	[PROBE_PHASE_DONE]      = "done",
};

const char *probe_status_to_string(enum probe_status s)
{
	return (unsigned)s < _PROBE_STATUS_MAX ? status_names[s] : "?";
}

const char *probe_phase_to_string(enum probe_phase p)
{
	return (unsigned)p < _PROBE_PHASE_MAX ? phase_names[p] : "?";
}

/* The first X509_MAX_CHAIN certificates of the peer's chain, as cert_chain_from_x509() keeps them. */
static int chain_keep(STACK_OF(X509) *chain, size_t n, struct cert_chain *ret)
{
	X509 *certs[X509_MAX_CHAIN];

	if (n > X509_MAX_CHAIN)
		n = X509_MAX_CHAIN;
	for (size_t i = 0; i < n; i++)
		certs[i] = sk_X509_value(chain, (int)i);
	return cert_chain_from_x509(certs, n, ret);
}

enum probe_status probe_result_from_ssl(struct probe_result *r, SSL *ssl, const char *sni,
					char *detail, size_t len)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	long verify = SSL_get_verify_result(ssl);
	int n;

	if (!leaf) {
		snprintf(detail, len, "the server completed the handshake without a certificate");
		return PROBE_NO_CERT;
	}
	n = cert_info_from_x509(leaf, &r->leaf);
	if (n < 0) {
		snprintf(detail, len, "cannot read the server's certificate: %s", strerror(-n));
		return PROBE_TLS_FAILED;
	}
	/* On the client side the peer chain includes the leaf. */
	n = chain ? sk_X509_num(chain) : 0;
	r->chain_len = n > 0 ? (size_t)n - 1 : 0;
	if (n > 0 && chain_keep(chain, (size_t)n, &r->chain) < 0) {
		snprintf(detail, len, "cannot keep the server's chain: %s", strerror(ENOMEM));
		return PROBE_TLS_FAILED;
	}
	r->verified = verify == X509_V_OK;
	r->verify_code = (int)verify;
	/* What the verification checked, the judge of the files need not check again. */
	if (r->verified)
		r->chain.n_proven = cert_chain_proven(&r->chain, SSL_get0_verified_chain(ssl));
	if (!r->verified)
		msg_set(&r->verify_error, PROBE_VERIFY_ERROR_MAX, "%s",
			X509_verify_cert_error_string(verify));
	r->name_covered = !sni || cert_info_covers(&r->leaf, sni);
	snprintf(r->tls_version, sizeof(r->tls_version), "%s", SSL_get_version(ssl));
	snprintf(r->cipher, sizeof(r->cipher), "%s", SSL_get_cipher_name(ssl));
	return PROBE_OK;
}

void probe_result_done(struct probe_result *r)
{
	if (!r)
		return;
	cert_info_done(&r->leaf);
	memset(&r->leaf, 0, sizeof(r->leaf));
	cert_chain_done(&r->chain);
	msg_clear(&r->detail);
	msg_clear(&r->verify_error);
}
