/*
 * watch-index.h - a multimap from 64-bit keys to indices, for the
 * watcher's thread: which paths look a (directory, name) up, which watch
 * is on a directory, which watch a descriptor is.  Internal to the
 * watcher.
 *
 * Keys are hashes (or descriptors); a lookup yields every index added
 * under the key, and the caller compares what the index names, since two
 * strings may share a hash.  No removal: the index is rebuilt when what it
 * indexes changes shape, which is what makes an event on an unrelated name
 * cost the same beside ten lineages or ten thousand.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct windex_node {
	uint64_t key;
	uint32_t value;       /* an index: paths and watches are fewer than 2^32 */
	uint32_t next;        /* 1 + the next node of the bucket, 0 at the end */
};

struct windex {
	uint32_t *heads;      /* 1 + the first node of each bucket, 0 when empty */
	size_t n_buckets;     /* a power of two */
	struct windex_node *nodes;
	size_t n, cap;
};

/* Empties the index and sizes it for about expected entries; 0, -E2BIG or -ENOMEM. */
int windex_reset(struct windex *x, size_t expected);

/* Adds value under key (growing past the expected size); 0, -E2BIG or -ENOMEM. */
int windex_add(struct windex *x, uint64_t key, size_t value);

/*
 * Iteration over key's values: for (uint32_t i = windex_first(x, key); i;
 * i = windex_next(x, i, key)) windex_value(x, i) ...
 */
uint32_t windex_first(const struct windex *x, uint64_t key);
uint32_t windex_next(const struct windex *x, uint32_t it, uint64_t key);

static inline size_t windex_value(const struct windex *x, uint32_t it)
{
	return x->nodes[it - 1].value;
}

void windex_free(struct windex *x);

/* The keys of a directory, and of a name looked up in it. */
uint64_t windex_key_dir(const char *dir);
uint64_t windex_key_entry(const char *dir, const char *name);
