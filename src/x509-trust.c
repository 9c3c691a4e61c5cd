/*
 * x509-trust.c - disk_pair_trust(): does the chain on disk lead to a root
 * the system trusts?  The question a TLS client asks of the chain a server
 * sends, asked of the files before they are served, so that a served chain
 * that does not verify can be told from one that the renewal would fix.
 *
 * The trust store is the one the probe engine uses, the process's
 * (x509-store.c: OpenSSL's default paths, which SSL_CERT_FILE and
 * SSL_CERT_DIR override), not read again for each question.  Nothing here
 * prints.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "x509.h"

/* A name as the probe checks it: an address against iPAddress names, else a host name. */
static int set_name(X509_VERIFY_PARAM *param, const char *name)
{
	unsigned char addr[16];

	if (!name)
		return 1;
	if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(param, name);
	return X509_VERIFY_PARAM_set1_host(param, name, 0);
}

int disk_pair_trust(struct disk_pair *p, const char *name, time_t now)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	int r = -ENOMEM;

	if (!p->have_leaf || !p->chain.x509)
		return 0;
	if (x509_trust_store(&store) < 0)
		return -ENOMEM;
	ctx = X509_STORE_CTX_new();
	untrusted = sk_X509_new_null();
	if (!ctx || !untrusted)
		goto out;
	for (size_t i = 1; i <= p->chain.n_issuers; i++)
		if (!sk_X509_push(untrusted, p->chain.x509[i]))
			goto out;
	if (X509_STORE_CTX_init(ctx, store, p->chain.x509[0], untrusted) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) != 1 ||
	    set_name(X509_STORE_CTX_get0_param(ctx), name) != 1)
		goto out;
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), now);
	p->trusted = X509_verify_cert(ctx) == 1;
	msg_set(&p->trust_error, X509_TRUST_ERROR_MAX, "%s", p->trusted ? "" :
		X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	p->trust_checked = true;
	r = 0;
out:
	ERR_clear_error();
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}
