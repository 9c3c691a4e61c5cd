/*
 * watch-index.c - the watcher thread's multimap of 64-bit keys to
 * indices; see watch-index.h.
 *
 * Chained in arrays: one array of bucket heads, one of nodes, so that an
 * index of a quarter of a million entries is two allocations, and a
 * lookup touches one bucket.  The bucket count stays a power of two at
 * least twice the entries, and at most four times as many once grown;
 * growing rehashes the nodes in place.  The nodes grow by a quarter, not
 * by doubling: the index of 10,000 lineages is megabytes, and a renewal
 * adds a few dozen entries to it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "watch-index.h"

static uint64_t fnv_str(uint64_t h, const char *s)
{
	/* The end of a string too: "ab","c" is not "a","bc". */
	return fnv1a(fnv1a(h, s, strlen(s)), "\xff", 1);
}

uint64_t windex_key_dir(const char *dir)
{
	return fnv_str(FNV1A_OFFSET, dir);
}

uint64_t windex_key_entry(const char *dir, const char *name)
{
	return fnv_str(fnv_str(FNV1A_OFFSET, dir), name);
}

static size_t bucket(const struct windex *x, uint64_t key)
{
	/* The low bits of an FNV hash are its weakest: fold the high ones in. */
	return (size_t)((key ^ (key >> 29) ^ (key >> 47)) & (x->n_buckets - 1));
}

/* Buckets for n entries: a power of two, at least 2n, at least 16. */
static int rehash(struct windex *x, size_t n)
{
	size_t nb = 16;
	uint32_t *heads;

	while (nb < 2 * n)
		nb *= 2;
	if (nb > UINT32_MAX)
		return -E2BIG;
	heads = calloc(nb, sizeof(*heads));
	if (!heads)
		return -ENOMEM;
	free(x->heads);
	x->heads = heads;
	x->n_buckets = nb;
	for (size_t i = 0; i < x->n; i++) {
		size_t b = bucket(x, x->nodes[i].key);

		x->nodes[i].next = x->heads[b];
		x->heads[b] = (uint32_t)(i + 1);
	}
	return 0;
}

/* Room for exactly cap nodes. */
static int resize_nodes(struct windex *x, size_t cap)
{
	struct windex_node *nodes;

	if (cap > UINT32_MAX - 1)
		return -E2BIG;
	nodes = reallocarray(x->nodes, cap, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	x->nodes = nodes;
	x->cap = cap;
	return 0;
}

int windex_reset(struct windex *x, size_t expected)
{
	x->n = 0;
	/* Sized to what is expected, not to what a larger shape once needed. */
	if (expected > 0 && (x->cap < expected || x->cap > 2 * expected)) {
		int r = resize_nodes(x, expected);

		if (r < 0)
			return r;
	}
	if (x->heads && x->n_buckets >= 2 * expected && x->n_buckets <= 8 * expected + 16) {
		memset(x->heads, 0, x->n_buckets * sizeof(*x->heads));
		return 0;
	}
	return rehash(x, expected);
}

int windex_add(struct windex *x, uint64_t key, size_t value)
{
	size_t b;

	if (!x->heads || 2 * (x->n + 1) > x->n_buckets) {
		int r = rehash(x, x->n + 1);

		if (r < 0)
			return r;
	}
	if (value > UINT32_MAX)
		return -E2BIG;
	if (x->n == x->cap) {
		int r = resize_nodes(x, x->cap + x->cap / 4 + 64);

		if (r < 0)
			return r;
	}
	b = bucket(x, key);
	x->nodes[x->n] = (struct windex_node) { .key = key, .value = (uint32_t)value,
						.next = x->heads[b] };
	x->heads[b] = (uint32_t)++x->n;
	return 0;
}

static uint32_t seek(const struct windex *x, uint32_t it, uint64_t key)
{
	while (it && x->nodes[it - 1].key != key)
		it = x->nodes[it - 1].next;
	return it;
}

uint32_t windex_first(const struct windex *x, uint64_t key)
{
	return x->heads ? seek(x, x->heads[bucket(x, key)], key) : 0;
}

uint32_t windex_next(const struct windex *x, uint32_t it, uint64_t key)
{
	return seek(x, x->nodes[it - 1].next, key);
}

void windex_free(struct windex *x)
{
	free(x->heads);
	free(x->nodes);
	memset(x, 0, sizeof(*x));
}
