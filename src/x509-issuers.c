/*
 * x509-issuers.c - the certificates that follow a leaf in its files,
 * decoded once per process.  Every lineage of one CA carries the same
 * intermediate (often the root too) in its chain, and OpenSSL 3 decodes a
 * certificate's public key through a decoder context it builds anew for
 * every certificate: on a host of 1,000 lineages of one CA, half of what
 * reading their chains cost was decoding the same few certificates again.
 *
 * A certificate is kept by the SHA-256 of its DER bytes: the same bytes
 * are the same certificate, whichever file they came from, so nothing
 * here needs to know when a file changes (a new intermediate has other
 * bytes).  Entries are X509 references shared by every pair that holds
 * that certificate; at most ISSUERS_MAX distinct ones are kept, and past
 * that the cache starts over (a bound on memory, not a policy: a host
 * does not use hundreds of CAs).  One lock, for `check`'s threads.
 * Nothing here prints.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <openssl/sha.h>
#include <openssl/x509.h>

#include "x509-int.h"

#define ISSUERS_MAX 256
#define SLOTS       (2 * ISSUERS_MAX)   /* open addressing, at most half full */

struct slot {
	uint8_t sha256[SHA256_DIGEST_LENGTH];
	X509 *x;                  /* NULL: free */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SLOTS];    /* under lock */
static size_t used;

/* The slot holding digest, or the free one where it would go.  Under lock. */
static struct slot *probe_slot(const uint8_t digest[SHA256_DIGEST_LENGTH])
{
	size_t i;

	memcpy(&i, digest, sizeof(i));
	for (i %= SLOTS;; i = (i + 1) % SLOTS)
		if (!slots[i].x || memcmp(slots[i].sha256, digest, SHA256_DIGEST_LENGTH) == 0)
			return &slots[i];
}

static void clear_locked(void)
{
	for (size_t i = 0; i < SLOTS; i++) {
		X509_free(slots[i].x);
		slots[i].x = NULL;
	}
	used = 0;
}

X509 *x509_issuer_d2i(const unsigned char *der, long len, const uint8_t digest[SHA256_LEN])
{
	const unsigned char *p = der;
	struct slot *s;
	X509 *x;

	pthread_mutex_lock(&lock);
	s = probe_slot(digest);
	x = s->x;
	if (x)
		X509_up_ref(x);
	pthread_mutex_unlock(&lock);
	if (x)
		return x;
	/* Decoded outside the lock: it is the slow part, and other threads may want theirs. */
	x = d2i_X509(NULL, &p, len);
	if (!x)
		return NULL;
	pthread_mutex_lock(&lock);
	if (used >= ISSUERS_MAX)
		clear_locked();
	s = probe_slot(digest);
	if (!s->x && X509_up_ref(x) == 1) {
		memcpy(s->sha256, digest, SHA256_LEN);
		s->x = x;
		used++;
	}
	pthread_mutex_unlock(&lock);
	return x;
}

void x509_issuers_clear(void)
{
	pthread_mutex_lock(&lock);
	clear_locked();
	pthread_mutex_unlock(&lock);
}
