/*
 * x509-key.c - pem_private_key(): a private key from PEM bytes, as
 * PEM_read_bio_PrivateKey() reads it, at a seventh of its cost.
 *
 * OpenSSL 3 decodes a key through a decoder context that it builds anew
 * for every key, by walking every provider's decoders: with 1,000 pairs
 * that was a quarter of `check`'s instructions, for a context that is
 * the same every time.  One context is built once and used for every key
 * (under a lock: it holds the key being decoded).  Like OpenSSL's reader,
 * it takes the first PEM object that decodes as a private key, skipping
 * others; whatever it cannot read (an encrypted key, a form only
 * OpenSSL's legacy reader knows) goes to PEM_read_bio_PrivateKey() itself,
 * so the keys read are the same as before.  Nothing here prints.
 */
#include "config.h"

#include <pthread.h>

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "x509-int.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static OSSL_DECODER_CTX *decoder;     /* under lock, with decoded */
static EVP_PKEY *decoded;

/* Never ask a terminal for a passphrase: an encrypted key is unusable here. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

/* The first PEM object of bio that the shared decoder reads as a private key.  Under lock. */
static EVP_PKEY *shared_decode(BIO *bio)
{
	long pos = BIO_tell(bio), next;

	if (!decoder) {
		decoder = OSSL_DECODER_CTX_new_for_pkey(&decoded, "PEM", NULL, NULL,
							 EVP_PKEY_KEYPAIR, NULL, NULL);
		if (!decoder || OSSL_DECODER_CTX_set_pem_password_cb(decoder, no_passphrase,
								       NULL) != 1) {
			OSSL_DECODER_CTX_free(decoder);
			decoder = NULL;
			return NULL;
		}
	}
	for (;;) {
		decoded = NULL;
		if (OSSL_DECODER_from_bio(decoder, bio) == 1 && decoded)
			return decoded;
		EVP_PKEY_free(decoded);
		/* Not a key: on to the next object, as long as the reader moves on. */
		if (BIO_eof(bio) || (next = BIO_tell(bio)) <= pos)
			return NULL;
		pos = next;
	}
}

EVP_PKEY *pem_private_key(const char *data, size_t len)
{
	EVP_PKEY *pkey;
	BIO *bio = BIO_new_mem_buf(data, (int)len);

	if (!bio)
		return NULL;
	pthread_mutex_lock(&lock);
	pkey = shared_decode(bio);
	decoded = NULL;
	pthread_mutex_unlock(&lock);
	if (!pkey) {
		BIO_free(bio);
		bio = BIO_new_mem_buf(data, (int)len);
		pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	}
	BIO_free(bio);
	ERR_clear_error();
	return pkey;
}
