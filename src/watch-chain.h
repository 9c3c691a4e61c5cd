/*
 * watch-chain.h - a watched path as the kernel resolves it: the chain of
 * (directory, name) lookups from "/" through every symbolic link, and a
 * fingerprint of the chain and the file.  Internal to the watcher.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct step {
	char *dir;            /* absolute, free of links */
	char *name;
};

struct chain {
	struct step *steps;
	size_t n;
	bool found;           /* the path names an existing file, st is its */
	struct stat st;
};

/*
 * Walks path the way the kernel does and records every lookup.  A missing
 * name, a dangling or looping link, or a file in the middle end the chain
 * with found false.  Returns 0, or -ENOMEM (*ret untouched).
 */
int chain_resolve(const char *path, struct chain *ret);
void chain_clear(struct chain *c);

/* Whether the chain looks up name in dir (any name when name is NULL). */
bool chain_has(const struct chain *c, const char *dir, const char *name);

/* A hash of the steps and of the file's device, inode, size, mtime, ctime. */
uint64_t chain_print(const struct chain *c);

/* chain_print() of path resolved now; 0 when out of memory. */
uint64_t path_print(const char *path);
