/*
 * watch-chain.c - resolving a watched path into its chain; see
 * watch-chain.h.
 *
 * The resolver walks from "/" one name at a time, following symbolic
 * links (relative and absolute, at most LINKS_MAX), and records each
 * (directory, name) it looked up: the watcher watches exactly those
 * directories, so a rename over a file, a re-created link and a swapped
 * "..data" are all seen in their parent.  A missing name ends the chain;
 * its nearest existing directory is the last step, where the creation
 * will be seen.  Pure apart from lstat() and readlink(): any thread.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "watch-chain.h"

#define LINKS_MAX  40         /* the kernel's own bound on a path's links */

#define TAKE(p) ({ __typeof__(p) p_ = (p); (p) = NULL; p_; })

void chain_clear(struct chain *c)
{
	free(c->text);
	free(c->steps);
	*c = (struct chain) {};
}

/* Appends s[0..len) and a NUL to c's text; its offset, or -ENOMEM. */
static int64_t text_push(struct chain *c, size_t *cap, const char *s, size_t len)
{
	size_t at = c->text_len;

	if (len > PATH_MAX * 16 || at + len + 1 > UINT32_MAX)
		return -ENOMEM;           /* bounded by follow() long before */
	if (at + len + 1 > *cap) {
		size_t ncap = (*cap ? *cap * 2 : 256) + len + 1;
		char *t = realloc(c->text, ncap);

		if (!t)
			return -ENOMEM;
		c->text = t;
		*cap = ncap;
	}
	memcpy(c->text + at, s, len);
	c->text[at + len] = '\0';
	c->text_len = at + len + 1;
	return (int64_t)at;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	for (const unsigned char *b = p; n > 0; n--, b++)
		h = (h ^ *b) * UINT64_C(0x100000001b3);
	return h;
}

/* What tells a new or rewritten file: device, inode, size, mtime, ctime. */
static uint64_t file_id(const struct stat *st)
{
	uint64_t id[] = {
		st->st_dev, st->st_ino, (uint64_t)st->st_size,
		(uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
		(uint64_t)st->st_ctim.tv_sec, (uint64_t)st->st_ctim.tv_nsec,
	};

	return fnv(UINT64_C(0xcbf29ce484222325), id, sizeof(id));
}

static int chain_push(struct chain *c, size_t caps[2], const char *dir, const char *name,
		      size_t len)
{
	int64_t d, n;

	if (c->n == caps[1]) {
		struct step *s = reallocarray(c->steps, c->n + 8, sizeof(*s));
		if (!s)
			return -ENOMEM;
		c->steps = s;
		caps[1] = c->n + 8;
	}
	d = text_push(c, &caps[0], dir, strlen(dir));
	n = d < 0 ? d : text_push(c, &caps[0], name, len);
	if (n < 0)
		return -ENOMEM;
	c->steps[c->n++] = (struct step) { .dir = (uint32_t)d, .name = (uint32_t)n };
	return 0;
}

/*
 * Moves the chain out of the buffers the resolving grew into allocations
 * of its exact size (or keeps the buffers, out of memory).  Copied, not
 * shrunk in place: the first arming resolves 20,000 chains twice on a
 * host of 10,000 lineages, and buffers shrunk where they grew left the
 * thread's heap a quarter free in holes no later chain fitted.  A copy
 * leaves the buffer's place whole for the next chain's.
 */
static void chain_fit(struct chain *c)
{
	char *t = c->text_len ? malloc(c->text_len) : NULL;
	struct step *s = c->n ? malloc(c->n * sizeof(*s)) : NULL;

	if (t) {
		memcpy(t, c->text, c->text_len);
		free(c->text);
		c->text = t;
	}
	if (s) {
		memcpy(s, c->steps, c->n * sizeof(*s));
		free(c->steps);
		c->steps = s;
	}
}

/*
 * Goes on at the target of the link entry: rest becomes the target and
 * what followed the link.  0 when followed, 1 when the chain ends there
 * (dangling, too many links, too long).
 */
static int follow(const char *entry, char *dir, char **rest, const char **p, unsigned *links)
{
	char target[PATH_MAX], *more;
	ssize_t n = readlink(entry, target, sizeof(target) - 1);

	if (n <= 0 || ++*links > LINKS_MAX || strlen(*p) > 8 * PATH_MAX)
		return 1;
	target[n] = '\0';
	if (asprintf(&more, "%s/%s", target, *p) < 0)
		return -ENOMEM;
	free(*rest);
	*p = *rest = more;
	if (target[0] == '/')
		strcpy(dir, "/");
	return 0;
}

int chain_resolve(const char *path, struct chain *ret)
{
	struct chain c = {};
	size_t caps[2] = { 0, 0 };    /* of text and steps */
	char *dir = strdup("/"), *rest = strdup(path);
	const char *p = rest;
	unsigned links = 0;
	int r = dir && rest ? 0 : -ENOMEM;

	while (r == 0) {
		_cleanup_free_ char *entry = NULL;
		struct stat st;
		size_t len;

		p += strspn(p, "/");
		if (!*p) {
			c.found = stat(dir, &st) == 0;
			c.file_id = c.found ? file_id(&st) : 0;
			break;
		}
		len = strcspn(p, "/");
		if (len <= 2 && strncmp(p, "..", len) == 0) {
			char *slash = strrchr(dir, '/');

			if (len == 2)       /* dir holds no link: its parent is lexical */
				slash[slash == dir] = '\0';
			p += len;
			continue;
		}
		if (chain_push(&c, caps, dir, p, len) < 0 ||
		    asprintf(&entry, "%s%s%.*s", dir, dir[1] ? "/" : "", (int)len, p) < 0) {
			entry = NULL;
			r = -ENOMEM;
			break;
		}
		p += len;
		if (lstat(entry, &st) < 0)
			break;
		if (S_ISLNK(st.st_mode))
			r = follow(entry, dir, &rest, &p, &links);
		else if (S_ISDIR(st.st_mode)) {
			free(dir);
			dir = TAKE(entry);
		} else {
			c.found = p[strspn(p, "/")] == '\0';
			c.file_id = file_id(&st);
			break;
		}
	}
	free(dir);
	free(rest);
	if (r < 0) {
		chain_clear(&c);
	} else {
		chain_fit(&c);
		*ret = c;
	}
	return r < 0 ? r : 0;
}

uint64_t chain_print(const struct chain *c)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (size_t i = 0; i < c->n; i++) {
		h = fnv(h, chain_dir(c, i), strlen(chain_dir(c, i)) + 1);
		h = fnv(h, chain_name(c, i), strlen(chain_name(c, i)) + 1);
	}
	if (c->found)
		h = fnv(h, &c->file_id, sizeof(c->file_id));
	return h;
}

/* 0 when out of memory: it differs from every real print, so polling notifies. */
uint64_t path_print(const char *path)
{
	struct chain c;
	uint64_t h;

	if (chain_resolve(path, &c) < 0)
		return 0;
	h = chain_print(&c);
	chain_clear(&c);
	return h;
}

bool chain_has(const struct chain *c, const char *dir, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(chain_dir(c, i), dir) == 0 && (!name || strcmp(chain_name(c, i), name) == 0))
			return true;
	return false;
}
