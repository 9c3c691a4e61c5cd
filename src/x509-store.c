/*
 * x509-store.c - the process's trust store: one X509_STORE, built once,
 * shared by every probe's TLS context and by disk_pair_trust().
 *
 * The trust is OpenSSL's default one: the CA bundle (SSL_CERT_FILE, else
 * OpenSSL's default file), read whole when the store is built, and the
 * hashed certificate directory (SSL_CERT_DIR, else OpenSSL's default),
 * where a lookup is one stat of a name made of the subject's hash and
 * what it finds stays in the store.  OpenSSL's own default set-up adds a
 * third lookup, an OSSL_STORE of that same directory, which lists the whole
 * directory at every lookup (a tenth of `check`'s time on 1,000 endpoints)
 * to find the same hash-named files: it is left out.
 *
 * The bundle is a file that changes (ca-certificates updates it): each
 * call compares its identity, and the two paths, with those the store was
 * built from and builds a new store when they differ.  Callers hold a reference of their
 * own, so a store in use is never freed under them.  Nothing here prints.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "x509.h"
#include "x509-int.h"

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static X509_STORE *store;           /* under store_lock */
static struct file_id store_bundle; /* the bundle it was built from */
static char *store_paths;           /* "BUNDLE\nDIR" it was built from */

static const char *env_or(const char *env, const char *dflt)
{
	const char *v = getenv(env);

	return v && *v ? v : dflt;
}

static X509_STORE *store_build(const char *bundle, const char *dir)
{
	X509_STORE *s = X509_STORE_new();
	X509_LOOKUP *l;

	if (!s)
		return NULL;
	/* A bundle or directory that cannot be read trusts nothing: verification says so. */
	l = X509_STORE_add_lookup(s, X509_LOOKUP_file());
	if (l)
		(void)X509_LOOKUP_load_file(l, bundle, X509_FILETYPE_PEM);
	l = X509_STORE_add_lookup(s, X509_LOOKUP_hash_dir());
	if (l)
		(void)X509_LOOKUP_add_dir(l, dir, X509_FILETYPE_PEM);
	ERR_clear_error();
	return s;
}

int x509_trust_store(X509_STORE **ret)
{
	const char *bundle = env_or(X509_get_default_cert_file_env(),
				    X509_get_default_cert_file());
	const char *dir = env_or(X509_get_default_cert_dir_env(), X509_get_default_cert_dir());
	struct file_id id = {};
	char *paths = NULL;
	X509_STORE *s;
	int r = 0;

	/* A bundle that does not exist is an identity too: all zeros. */
	(void)file_id_of(bundle, &id);
	if (asprintf(&paths, "%s\n%s", bundle, dir) < 0)
		return -ENOMEM;
	pthread_mutex_lock(&store_lock);
	if (!store || !file_id_same(&id, &store_bundle) || strcmp(paths, store_paths) != 0) {
		s = store_build(bundle, dir);
		if (s) {
			X509_STORE_free(store);
			store = s;
			store_bundle = id;
			free(store_paths);
			store_paths = paths;
			paths = NULL;
		}
	}
	if (store && X509_STORE_up_ref(store) == 1)
		*ret = store;
	else
		r = -ENOMEM;
	pthread_mutex_unlock(&store_lock);
	free(paths);
	return r;
}
