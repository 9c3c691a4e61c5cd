/*
 * x509-cache.c - parsed pairs kept by the identity of their files, so that
 * a pair whose files have not changed is not read, decoded and checked
 * again: decoding the PEM and the key is most of what judging a pair on
 * disk costs.
 *
 * An entry is keyed by the pair's paths and the rules it is read by; it
 * serves only while every one of its files has the identity (device,
 * inode, size, mtime, ctime) it had when it was read, which each use
 * checks with a stat() per file: an ACME client's new file (a new inode),
 * a file rewritten in place (size or mtime) or a chmod (ctime) reads it
 * anew.  A pair whose files could not all be read is never kept.  The
 * daemon's watcher may also drop what it knows to have changed
 * (x509_pair_cache_forget()).  Entries are reference counted: a caller
 * keeps its own while it uses one, whatever happens to the cache.  One
 * lock, so that `check` may judge on more than one thread.  Nothing here
 * prints.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "x509.h"
#include "x509-int.h"

#define CACHE_MAX 200000     /* entries; past it, all go (a bound, not a policy) */

struct entry {
	struct entry *next;
	uint64_t hash;
	char *paths[3];              /* certificate, chain, key; NULL when not given */
	enum pair_format format;
	enum key_type key_type;      /* only for formats that select by it */
	struct pair_parsed *pp;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry **buckets;   /* under lock */
static size_t n_buckets, n_entries;

struct pair_parsed *pair_parsed_new(void)
{
	struct pair_parsed *pp = calloc(1, sizeof(*pp));

	if (pp)
		pp->refs = 1;
	return pp;
}

static void parsed_free(struct pair_parsed *pp)
{
	for (size_t i = 0; i < pp->n; i++)
		X509_free(pp->certs[i]);
	free(pp->detail);
	free(pp->key_warning);
	free(pp);
}

void pair_parsed_unref(struct pair_parsed *pp)
{
	bool last;

	if (!pp)
		return;
	pthread_mutex_lock(&lock);
	last = --pp->refs == 0;
	pthread_mutex_unlock(&lock);
	if (last)
		parsed_free(pp);
}

static enum key_type key_type_of(const struct pair_files *pf)
{
	/* Only Postfix's chain files hold a pair per key type. */
	return pf->format == PAIR_FORMAT_POSTFIX_CHAIN_FILES ? pf->key_type : KEY_TYPE_AUTO;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	/* NULL and "" differ by the separator. */
	h = fnv1a(h, s, s ? strlen(s) : 0);
	return fnv1a(h, s ? "\xff" : "\xfe", 1);
}

static uint64_t hash_of(const struct pair_files *pf)
{
	uint64_t h = hash_str(hash_str(hash_str(FNV1A_OFFSET, pf->cert), pf->chain), pf->key);
	unsigned char kind = (unsigned char)(pf->format * 16 + key_type_of(pf));

	return fnv1a(h, &kind, 1);
}

static bool same_path(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool entry_is(const struct entry *e, uint64_t h, const struct pair_files *pf)
{
	return e->hash == h && e->format == pf->format && e->key_type == key_type_of(pf) &&
	       same_path(e->paths[0], pf->cert) && same_path(e->paths[1], pf->chain) &&
	       same_path(e->paths[2], pf->key);
}

/* The entry for pf, by the link that points at it; NULL when none. */
static struct entry **find(const struct pair_files *pf, uint64_t h)
{
	struct entry **l;

	if (!buckets)
		return NULL;
	for (l = &buckets[h & (n_buckets - 1)]; *l; l = &(*l)->next)
		if (entry_is(*l, h, pf))
			return l;
	return NULL;
}

/* Under lock. */
static void entry_free(struct entry *e)
{
	for (size_t i = 0; i < 3; i++)
		free(e->paths[i]);
	if (--e->pp->refs == 0)
		parsed_free(e->pp);
	free(e);
}

/* Whether every one of the files still has the identity it had when pp was read. */
static bool still_same(const char *const paths[3], const struct pair_parsed *pp)
{
	struct file_id id;

	for (size_t i = 0; i < 3; i++)
		if (paths[i] && (file_id_of(paths[i], &id) < 0 || !file_id_same(&id, &pp->ids[i])))
			return false;
	return true;
}

struct pair_parsed *pair_cache_get(const struct pair_files *pf)
{
	const char *const paths[3] = { pf->cert, pf->chain, pf->key };
	uint64_t h = hash_of(pf);
	struct pair_parsed *pp = NULL;
	struct entry **l;

	pthread_mutex_lock(&lock);
	l = find(pf, h);
	if (l) {
		pp = (*l)->pp;
		pp->refs++;
	}
	pthread_mutex_unlock(&lock);
	/* Asked outside the lock: a stat() may wait on a slow file system. */
	if (pp && !still_same(paths, pp)) {
		pair_parsed_unref(pp);
		pp = NULL;
	}
	return pp;
}

static void clear_locked(void)
{
	for (size_t b = 0; b < n_buckets; b++)
		while (buckets[b]) {
			struct entry *e = buckets[b];

			buckets[b] = e->next;
			entry_free(e);
		}
	n_entries = 0;
}

/* Twice the buckets once there are as many entries as buckets.  Under lock. */
static void grow(void)
{
	size_t n = n_buckets ? n_buckets * 2 : 256;
	struct entry **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return;   /* longer chains, still correct */
	for (size_t b = 0; b < n_buckets; b++)
		while (buckets[b]) {
			struct entry *e = buckets[b];

			buckets[b] = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(buckets);
	buckets = nb;
	n_buckets = n;
}

static struct entry *entry_new(const struct pair_files *pf, uint64_t h, struct pair_parsed *pp)
{
	struct entry *e = calloc(1, sizeof(*e));
	const char *paths[3] = { pf->cert, pf->chain, pf->key };

	if (!e)
		return NULL;
	for (size_t i = 0; i < 3; i++)
		if (paths[i] && !(e->paths[i] = strdup(paths[i]))) {
			for (size_t j = 0; j < i; j++)
				free(e->paths[j]);
			free(e);
			return NULL;
		}
	e->hash = h;
	e->format = pf->format;
	e->key_type = key_type_of(pf);
	e->pp = pp;
	return e;
}

void pair_cache_put(const struct pair_files *pf, struct pair_parsed *pp)
{
	uint64_t h = hash_of(pf);
	struct entry **l, *e;

	/* A pair not read whole has no identity to be told by: read it again next time. */
	if (!pp->complete)
		return;
	e = entry_new(pf, h, pp);
	if (!e)
		return;   /* only slower */
	pthread_mutex_lock(&lock);
	pp->refs++;
	l = find(pf, h);
	if (l) {
		e->next = (*l)->next;
		entry_free(*l);
		*l = e;
	} else {
		if (n_entries >= CACHE_MAX)
			clear_locked();
		if (n_entries >= n_buckets)
			grow();
		if (buckets) {
			e->next = buckets[h & (n_buckets - 1)];
			buckets[h & (n_buckets - 1)] = e;
			n_entries++;
		} else {
			entry_free(e);
		}
	}
	pthread_mutex_unlock(&lock);
}

void x509_pair_cache_forget(const char *path)
{
	pthread_mutex_lock(&lock);
	for (size_t b = 0; b < n_buckets; b++)
		for (struct entry **l = &buckets[b]; *l;) {
			struct entry *e = *l;

			if (same_path(e->paths[0], path) || same_path(e->paths[1], path) ||
			    same_path(e->paths[2], path)) {
				*l = e->next;
				entry_free(e);
				n_entries--;
			} else {
				l = &e->next;
			}
		}
	pthread_mutex_unlock(&lock);
}

void x509_pair_cache_drop(const struct pair_files *pf)
{
	uint64_t h = hash_of(pf);
	struct entry **l, *e;

	pthread_mutex_lock(&lock);
	l = find(pf, h);
	if (l) {
		e = *l;
		*l = e->next;
		entry_free(e);
		n_entries--;
	}
	pthread_mutex_unlock(&lock);
}

void x509_pair_cache_clear(void)
{
	pthread_mutex_lock(&lock);
	clear_locked();
	free(buckets);
	buckets = NULL;
	n_buckets = 0;
	pthread_mutex_unlock(&lock);
	x509_issuers_clear();
}
