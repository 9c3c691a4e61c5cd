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

/* One lookup: offsets of its directory (absolute, free of links) and name in the chain's text. */
struct step {
	uint32_t dir, name;
};

/*
 * The steps' strings live in one buffer, text, and the steps in one array,
 * each sized to fit once resolved: a host of 10,000 lineages keeps 20,000
 * chains of about a dozen steps, and two allocations a step cost more
 * than the strings they held.  Of the file, only a hash of what tells a
 * new or rewritten file is kept, not its whole struct stat (144 bytes a
 * chain).
 */
struct chain {
	char *text;
	size_t text_len;
	struct step *steps;
	size_t n;
	bool found;           /* the path names an existing file, file_id is its */
	uint64_t file_id;     /* hash of its device, inode, size, mtime, ctime */
};

static inline const char *chain_dir(const struct chain *c, size_t i)
{
	return c->text + c->steps[i].dir;
}

static inline const char *chain_name(const struct chain *c, size_t i)
{
	return c->text + c->steps[i].name;
}

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
