/*
 * watch-sync.c - the watcher thread's watches kept in line with the
 * chains of the watched paths: every directory of every chain watched,
 * with the mask its role needs, and nothing else; and the index of which
 * paths look each (directory, name) up.  Called from the thread only
 * (watch-inotify.c), like libinotifytools.
 *
 * What each wd means (its directory and inode) is certwatch's own record,
 * struct dwatch.  The library's filename map serves only to learn the wd
 * of a watch just added (inotifytools_watch_file() does not return it).
 * The library never forgets a watch the kernel dropped (IN_IGNORED): a
 * path watched again whose name the map still holds would get the dead wd,
 * so then every name is retired to a tombstone at once (retire_names(), a
 * walk of the whole map, paid when a path comes back, not per watch).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <inotifytools/inotifytools.h>

#include "util.h"
#include "watch-int.h"

#define UNSYNCED_MIN 8

/*
 * A directory above a file changes the chain only through its entries: a
 * name created, deleted or renamed, or the directory itself going.  Only
 * the directory holding the file (a chain's last step) must also tell of
 * writes and attribute changes, so that traffic in files beside an
 * ancestor (/tmp, a busy /etc) never wakes the thread.
 */
#define ENTRY_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
		    IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR)
#define LEAF_MASK (ENTRY_MASK | IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB)
struct dwatch *watch_by_wd(struct watcher *w, int wd)
{
	for (uint32_t i = windex_first(&w->by_wd, (uint64_t)wd); i;
	     i = windex_next(&w->by_wd, i, (uint64_t)wd)) {
		struct dwatch *d = &w->watches[windex_value(&w->by_wd, i)];

		if (d->wd == wd && !d->dead)
			return d;
	}
	return NULL;
}

enum match {
	MATCH_INODE,          /* the inode of st */
	MATCH_MATCHED,        /* matched by its inode earlier in this sync */
	MATCH_IN_PLACE,       /* not moved away */
};

/* The live watch on dir that matches as how says (st for MATCH_INODE). */
static struct dwatch *dwatch_by_dir(struct watcher *w, const char *dir, enum match how,
				    const struct stat *st)
{
	uint64_t key = windex_key_dir(dir);

	for (uint32_t i = windex_first(&w->by_dir, key); i; i = windex_next(&w->by_dir, i, key)) {
		struct dwatch *d = &w->watches[windex_value(&w->by_dir, i)];

		if (d->dead || strcmp(d->dir, dir) != 0)
			continue;
		if (how == MATCH_INODE ? d->ino == st->st_ino && d->dev == st->st_dev :
		    how == MATCH_MATCHED ? d->matched : !d->moved)
			return d;
	}
	return NULL;
}

static int index_watch(struct watcher *w, size_t i)
{
	int r = windex_add(&w->by_wd, (uint64_t)w->watches[i].wd, i);

	return r < 0 ? r : windex_add(&w->by_dir, windex_key_dir(w->watches[i].dir), i);
}

static int reindex_watches(struct watcher *w)
{
	int r = windex_reset(&w->by_wd, w->n_watches);

	if (r >= 0)
		r = windex_reset(&w->by_dir, w->n_watches);
	for (size_t i = 0; i < w->n_watches && r >= 0; i++)
		r = index_watch(w, i);
	return r;
}

/*
 * Adds a watch on dir, known by st, for its entries or (leaf) its files
 * too; 1 when added, 0 when dir vanished or an existing watch changed.
 */
/*
 * Renames every name of the library's map (each a path, starting with "/")
 * to a tombstone no path can be, "#N#/path/", freeing key; should the
 * library's walk miss it (it rebalances as it renames), key alone is
 * renamed.  0, or -EIO when key stays taken.
 */
static int retire_names(struct watcher *w, const char *key)
{
	char tomb[32];

	snprintf(tomb, sizeof(tomb), "#%u#/", ++w->tombs);
	inotifytools_replace_filename("/", tomb);
	if (inotifytools_wd_from_filename(key) > 0) {
		snprintf(tomb, sizeof(tomb), "#%u#/", ++w->tombs);
		inotifytools_replace_filename(key, tomb);
	}
	return inotifytools_wd_from_filename(key) > 0 ? -EIO : 0;
}

static int add_watch(struct watcher *w, const char *dir, const struct stat *st, bool leaf)
{
	_cleanup_free_ char *key = NULL;
	struct dwatch *d;
	const char *name;
	int wd;

	if (w->n_watches >= w->max_watches) {
		w->fallback_own_limit = true;
		return -ENOSPC;         /* as the kernel says at its limit */
	}
	/* The library names a directory with a trailing slash. */
	if (asprintf(&key, "%s%s", dir, dir[1] ? "/" : "") < 0)
		return -ENOMEM;
	if (inotifytools_wd_from_filename(key) > 0 && retire_names(w, key) < 0)
		return -EIO;
	if (!inotifytools_watch_file(dir, leaf ? LEAF_MASK : ENTRY_MASK)) {
		int e = inotifytools_error();
		return e == ENOENT || e == ENOTDIR ? 0 : -(e > 0 ? e : EIO);
	}
	wd = inotifytools_wd_from_filename(key);
	name = wd > 0 ? inotifytools_filename_from_wd(wd) : NULL;
	if (!name || strcmp(name, key) != 0)
		return -EIO;
	d = watch_by_wd(w, wd);
	if (d) {                /* a directory already watched moved here */
		free(d->dir);
		*d = (struct dwatch) { .wd = wd, .dev = st->st_dev, .ino = st->st_ino,
				       .dir = strdup(dir), .used = true, .leaf = leaf };
		if (!d->dir)
			return -ENOMEM;
		return windex_add(&w->by_dir, windex_key_dir(dir), (size_t)(d - w->watches));
	}
	d = reallocarray(w->watches, w->n_watches + 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	w->watches = d;
	d = &w->watches[w->n_watches];
	*d = (struct dwatch) { .wd = wd, .dev = st->st_dev, .ino = st->st_ino, .dir = strdup(dir),
			       .used = true, .leaf = leaf };
	if (!d->dir) {
		inotifytools_remove_watch_by_wd(wd);
		return -ENOMEM;
	}
	w->n_watches++;
	return index_watch(w, w->n_watches - 1) < 0 ? -ENOMEM : 1;
}

static bool still_there(const struct dwatch *d)
{
	struct stat st;

	return stat(d->dir, &st) == 0 && st.st_ino == d->ino && st.st_dev == d->dev;
}

/*
 * Removes the watches no chain needs.  One whose directory left its path
 * unseen is kept until its IN_IGNORED or IN_MOVE_SELF arrives: removing a
 * watch the kernel already dropped makes the library complain on stderr.
 */
static void drop_unused(struct watcher *w)
{
	for (size_t i = 0; i < w->n_watches;) {
		struct dwatch *d = &w->watches[i];

		if (d->used || (!d->dead && !d->moved && !still_there(d))) {
			i++;
			continue;
		}
		if (!d->dead)
			inotifytools_remove_watch_by_wd(d->wd);
		free(d->dir);
		*d = w->watches[--w->n_watches];
	}
}

struct todo {
	const char *dir;
	bool leaf;
	bool added;           /* a watch was added on it just now */
};

static int todo_cmp(const void *a, const void *b)
{
	return strcmp(((const struct todo *)a)->dir, ((const struct todo *)b)->dir);
}

static int todo_push(struct todo **todo, size_t *n, size_t *cap, const char *dir, bool leaf)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		struct todo *t = reallocarray(*todo, c, sizeof(*t));

		if (!t)
			return -ENOMEM;
		*todo = t;
		*cap = c;
	}
	(*todo)[(*n)++] = (struct todo) { .dir = dir, .leaf = leaf };
	return 0;
}

/*
 * Marks the watches the chains use, and lists in *todo the directories
 * that need one (or another mask).  The directories of a chain resolved
 * just now are matched by inode too, so a directory replaced or moved away
 * is watched anew; the others cannot have changed unseen, or their chain
 * would have been re-resolved.
 */
static int mark_used(struct watcher *w, struct todo **todo, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < w->n_watches; i++)
		w->watches[i].used = w->watches[i].want_leaf = w->watches[i].matched = false;
	for (size_t i = 0; i < w->n_paths; i++) {
		const struct wpath *p = &w->paths[i];

		__atomic_add_fetch(&w->synced_steps, p->chain.n, __ATOMIC_RELAXED);
		for (size_t j = 0; j < p->chain.n; j++) {
			const char *dir = chain_dir(&p->chain, j);
			struct stat st;
			struct dwatch *d = NULL;

			/* The directories most chains share are stat()ed once a sync. */
			if (p->fresh && !(d = dwatch_by_dir(w, dir, MATCH_MATCHED, NULL))) {
				if (stat(dir, &st) < 0)
					continue;
				d = dwatch_by_dir(w, dir, MATCH_INODE, &st);
				if (d)
					d->matched = true;
			} else if (!p->fresh) {
				d = dwatch_by_dir(w, dir, MATCH_IN_PLACE, NULL);
			}
			if (d) {
				d->used = true;
				d->moved = false;       /* moved back */
				d->want_leaf |= j + 1 == p->chain.n;
				d->seen_as = dir;
				continue;
			}
			if (todo_push(todo, n, cap, dir, j + 1 == p->chain.n) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/*
 * What changed in a directory before its watch was there went unseen: the
 * chains through one watched just now (todo[0..k), sorted) are resolved
 * again, and only they: a renewal's watch costs its lineage's chains.
 */
static void stale_through_added(struct watcher *w, const struct todo *todo, size_t k)
{
	for (size_t i = 0; i < w->n_paths; i++) {
		struct wpath *p = &w->paths[i];

		for (size_t j = 0; j < p->chain.n && !p->stale; j++) {
			struct todo key = { .dir = chain_dir(&p->chain, j) };
			const struct todo *t = bsearch(&key, todo, k, sizeof(*todo), todo_cmp);

			p->stale = t && t->added;
		}
	}
}

/*
 * Watches every directory of every chain, and nothing else, each with the
 * mask its role needs.  Old watches go first, to stay under the limit.
 * Costs one lookup per step of every chain, and a stat() per step of the
 * chains resolved anew: never a watch compared with every other.
 */
int watch_sync_all(struct watcher *w, bool *ret_added)
{
	_cleanup_free_ struct todo *todo = NULL;
	size_t n = 0, cap = 0, k = 0;
	int r = mark_used(w, &todo, &n, &cap);

	*ret_added = false;
	w->unsynced = 0;
	if (r < 0)
		return r;
	/*
	 * Another mask: the watch is removed and added anew (the library
	 * would not tell the descriptor of a watch it already has); what
	 * changes meanwhile is found by the resolution that follows.
	 */
	for (size_t i = 0; i < w->n_watches && r >= 0; i++) {
		struct dwatch *d = &w->watches[i];

		if (!d->used || d->leaf == d->want_leaf || d->dead)
			continue;
		inotifytools_remove_watch_by_wd(d->wd);
		d->used = false;
		d->dead = true;
		r = todo_push(&todo, &n, &cap, d->seen_as, d->want_leaf);
	}
	if (r < 0)
		return r;
	if (n > 1)
		qsort(todo, n, sizeof(*todo), todo_cmp);
	for (size_t i = 0; i < n; i++) {    /* one entry a directory, leaf if any path says so */
		if (k > 0 && strcmp(todo[k - 1].dir, todo[i].dir) == 0)
			todo[k - 1].leaf |= todo[i].leaf;
		else
			todo[k++] = todo[i];
	}
	drop_unused(w);
	r = reindex_watches(w);
	for (size_t i = 0; i < k && r >= 0; i++) {
		struct stat st;

		if (stat(todo[i].dir, &st) < 0)
			continue;
		r = add_watch(w, todo[i].dir, &st, todo[i].leaf);
		todo[i].added = r > 0;
		*ret_added |= r > 0;
	}
	if (*ret_added)
		stale_through_added(w, todo, k);
	return r < 0 ? r : 0;
}

/*
 * Which paths look each (directory, name) up, after the chains changed:
 * the entries of the chains resolved just now are added, and those of the
 * chains they replace stay (touch() asks the chain itself) until the
 * index holds twice the live entries and is built anew.  It is built anew
 * at once when half the chains or more were resolved again (the first
 * arming resolves every chain twice: once, then again through the
 * watches it added): building costs then at most twice what adding
 * would, and the index does not keep a stale copy of every chain.
 */
int watch_index_entries(struct watcher *w)
{
	size_t steps = 0, fresh = 0;
	bool all;
	int r = 0;

	for (size_t i = 0; i < w->n_paths; i++) {
		steps += w->paths[i].chain.n;
		fresh += w->paths[i].fresh ? w->paths[i].chain.n : 0;
	}
	all = w->by_entry.n_buckets == 0 || w->by_entry.n + fresh > 2 * steps || 2 * fresh >= steps;
	if (all)
		r = windex_reset(&w->by_entry, steps);
	for (size_t i = 0; i < w->n_paths && r >= 0; i++)
		for (size_t j = 0; j < w->paths[i].chain.n && r >= 0 && (all || w->paths[i].fresh); j++)
			r = windex_add(&w->by_entry, windex_key_entry(chain_dir(&w->paths[i].chain, j),
								     chain_name(&w->paths[i].chain, j)), i);
	__atomic_store_n(&w->index_slack, w->by_entry.n - steps, __ATOMIC_RELAXED);
	return r;
}

/*
 * Watches the directories of the chains resolved just now, each with the
 * mask its role needs, adding only what is missing; the watches no chain
 * uses any more are dropped by the next whole sync (watch_sync_all()), once
 * a quarter of the chains (and UNSYNCED_MIN more) have been resolved anew:
 * an unused watch costs nothing but events that find no chain.  0 or a
 * negative errno; -EAGAIN when a whole sync is due instead.
 */
int watch_sync_fresh(struct watcher *w, bool *ret_added)
{
	_cleanup_free_ struct todo *todo = NULL;
	size_t n = 0, cap = 0, fresh = 0;
	int r = 0;

	*ret_added = false;
	for (size_t i = 0; i < w->n_paths; i++)
		fresh += w->paths[i].fresh;
	if (w->unsynced + fresh > w->n_paths / 4 + UNSYNCED_MIN)
		return -EAGAIN;
	w->unsynced += fresh;
	for (size_t i = 0; i < w->n_paths && r >= 0; i++) {
		const struct wpath *p = &w->paths[i];

		if (!p->fresh)
			continue;
		__atomic_add_fetch(&w->synced_steps, p->chain.n, __ATOMIC_RELAXED);
		for (size_t j = 0; j < p->chain.n && r >= 0; j++) {
			const char *dir = chain_dir(&p->chain, j);
			bool leaf = j + 1 == p->chain.n;
			struct stat st;
			struct dwatch *d;

			if (stat(dir, &st) < 0)
				continue;
			d = dwatch_by_dir(w, dir, MATCH_INODE, &st);
			if (d && (d->leaf || !leaf)) {
				d->moved = false;       /* moved back */
				continue;
			}
			if (d) {                /* watched for its entries only: again, as a leaf */
				inotifytools_remove_watch_by_wd(d->wd);
				d->dead = true;
			}
			r = add_watch(w, dir, &st, leaf);
			if (r > 0 && (r = todo_push(&todo, &n, &cap, dir, leaf)) >= 0)
				todo[n - 1].added = *ret_added = true;
		}
	}
	if (r >= 0 && n > 0) {
		qsort(todo, n, sizeof(*todo), todo_cmp);
		stale_through_added(w, todo, n);
	}
	return r < 0 ? r : 0;
}
