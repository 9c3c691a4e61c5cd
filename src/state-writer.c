/*
 * state-writer.c - the daemon's writer of the state file, which appends
 * the records that changed; see state.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "state.h"
#include "util.h"

#define APPEND_BUFFER  (64 * 1024)

struct state_writer {
	char *dir;
	char path[4096];
	uint64_t *sums;               /* what the file holds: services', then endpoints' */
	size_t n_services, n_endpoints;
	uint64_t names;               /* the records' names, in order, when written whole */
	bool known;                   /* the file is as sums say: appending is safe */
	dev_t dev;                    /* the file as this writer left it: */
	ino_t ino;
	struct timespec mtime, ctime; /* (a rewrite in place to the same size changes these) */
	off_t size, whole;            /* the file's size, and its size when written whole */
	unsigned long appends, wholes;
};

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Whether st is the file as this writer left it. */
static bool is_ours(const struct state_writer *w, const struct stat *st)
{
	return st->st_dev == w->dev && st->st_ino == w->ino && st->st_size == w->size &&
		same_time(&st->st_mtim, &w->mtime) && same_time(&st->st_ctim, &w->ctime);
}

static void remember(struct state_writer *w, const struct stat *st)
{
	w->dev = st->st_dev;
	w->ino = st->st_ino;
	w->mtime = st->st_mtim;
	w->ctime = st->st_ctim;
	w->size = st->st_size;
}

/* The records' sums into sums[], and a digest of their names in order. */
static uint64_t sums_of(const struct state *s, uint64_t *sums)
{
	uint64_t names = FNV1A_OFFSET;

	for (size_t i = 0; i < s->n_services; i++) {
		sums[i] = state_service_sum(&s->services[i]);
		names = fnv1a(names, s->services[i].name, strlen(s->services[i].name) + 1);
	}
	for (size_t i = 0; i < s->n_endpoints; i++) {
		const struct state_endpoint *e = &s->endpoints[i];

		sums[s->n_services + i] = state_endpoint_sum(e);
		names = fnv1a(fnv1a(names, e->service, strlen(e->service) + 1), e->endpoint,
			      strlen(e->endpoint) + 1);
	}
	return names;
}

struct state_writer *state_writer_new(const char *dir)
{
	struct state_writer *w = calloc(1, sizeof(*w));

	if (!w || !(w->dir = strdup(dir))) {
		free(w);
		return NULL;
	}
	if ((size_t)snprintf(w->path, sizeof(w->path), "%s/%s", dir, STATE_FILE_NAME) >=
	    sizeof(w->path))
		w->path[0] = '\0';   /* state_writer_save() says -ENAMETOOLONG */
	return w;
}

/* The sum of record k of s: its services' first, then its endpoints'. */
static uint64_t sum_of(const struct state *s, size_t k)
{
	return k < s->n_services ? state_service_sum(&s->services[k]) :
		state_endpoint_sum(&s->endpoints[k - s->n_services]);
}

/* What a save may append before the file is written whole instead. */
struct allowance {
	int fd;
	off_t left;                   /* bytes the append may still add */
	int error;
};

/*
 * The stream's writes to the file, until they would pass the allowance:
 * then none of that write is made and the save writes the file whole (the
 * part appended so far is a prefix of records, as an append cut short).
 */
static ssize_t allowance_write(void *cookie, const char *buf, size_t len)
{
	struct allowance *a = cookie;

	if ((off_t)len > a->left) {
		a->error = -EFBIG;
		return 0;
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = write(a->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			a->error = n < 0 ? -errno : -EIO;
			return 0;
		}
		done += (size_t)n;
	}
	a->left -= (off_t)len;
	return (ssize_t)len;
}

/*
 * The header and, of the records some[0..n) (the first n when some is
 * NULL), whose sums are sums[0..n), those that differ from the file's,
 * written to fd through a buffer: never built whole in memory, where the
 * pass that changed 10,000 records would hold megabytes for a text it
 * then finds too large to append.
 */
static int write_changes(const struct state_writer *w, const struct state *s, int fd,
			 off_t allowed, const size_t *some, const uint64_t *sums, size_t n)
{
	struct allowance a = { .fd = fd, .left = allowed };
	_cleanup_free_ char *buf = malloc(APPEND_BUFFER);
	FILE *f = buf ? fopencookie(&a, "w", (cookie_io_functions_t) { .write = allowance_write }) :
		NULL;

	if (!f)
		return -ENOMEM;
	/* A renewal's few records go in one write(2). */
	(void)setvbuf(f, buf, _IOFBF, APPEND_BUFFER);
	state_write_header(f, s);
	for (size_t j = 0; j < n && !ferror(f); j++) {
		size_t k = some ? some[j] : j;

		if (sums[j] == w->sums[k])
			continue;
		if (k < s->n_services)
			state_write_service(f, &s->services[k]);
		else
			state_write_endpoint(f, &s->endpoints[k - s->n_services]);
	}
	if (fclose(f) != 0 && a.error == 0)
		a.error = -EIO;
	return a.error;
}

/*
 * Appends the changes to the file this writer wrote; -EFBIG, having
 * appended a prefix of them, when they would make the appended part as
 * large as the whole.  0 or a negative errno.
 */
static int append_changes(struct state_writer *w, const struct state *s, const size_t *some,
			  const uint64_t *sums, size_t n_sums)
{
	_cleanup_close_ int fd = -1;
	off_t allowed = w->whole - (w->size - w->whole) - 1;
	struct stat st;
	int r;

	if (allowed <= 0)
		return -EFBIG;
	fd = open(w->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!is_ours(w, &st))
		return -ESTALE;   /* not the file this writer wrote */
	r = write_changes(w, s, fd, allowed, some, sums, n_sums);
	if (r < 0)
		return r;
	if (fdatasync(fd) < 0 || fstat(fd, &st) < 0)
		return -errno;
	remember(w, &st);
	return 0;
}

static int write_whole(struct state_writer *w, const struct state *s, uint64_t names)
{
	struct stat st;
	int r = state_save(w->dir, s);

	if (r < 0)
		return r;
	if (stat(w->path, &st) < 0)
		return -errno;
	remember(w, &st);
	w->whole = st.st_size;
	w->names = names;
	w->known = true;
	w->wholes++;
	return 0;
}

int state_writer_save(struct state_writer *w, const struct state *s)
{
	size_t n = s->n_services + s->n_endpoints;
	uint64_t *sums, names;
	int r;

	if (!w->path[0])
		return -ENAMETOOLONG;
	sums = malloc((n ? n : 1) * sizeof(*sums));
	if (!sums)
		return -ENOMEM;
	names = sums_of(s, sums);
	if (w->known && names == w->names && s->n_services == w->n_services &&
	    s->n_endpoints == w->n_endpoints && append_changes(w, s, NULL, sums, n) == 0)
		w->appends++;
	else {
		w->known = false;   /* a part of an append may be in the file: whole again */
		r = write_whole(w, s, names);
		if (r < 0) {
			free(sums);
			return r;
		}
	}
	free(w->sums);
	w->sums = sums;
	w->n_services = s->n_services;
	w->n_endpoints = s->n_endpoints;
	return 0;
}

int state_writer_save_some(struct state_writer *w, const struct state *s, const size_t *some,
			   size_t n_some)
{
	uint64_t *sums;
	int r = 0;

	if (!w->known || s->n_services != w->n_services || s->n_endpoints != w->n_endpoints)
		return state_writer_save(w, s);
	sums = calloc(n_some ? n_some : 1, sizeof(*sums));
	if (!sums)
		return -ENOMEM;
	for (size_t j = 0; j < n_some; j++)
		sums[j] = sum_of(s, some[j]);
	if (append_changes(w, s, some, sums, n_some) == 0) {
		for (size_t j = 0; j < n_some; j++)
			w->sums[some[j]] = sums[j];
		w->appends++;
	} else {
		w->known = false;   /* as state_writer_save(): whole again */
		r = state_writer_save(w, s);
	}
	free(sums);
	return r;
}

void state_writer_counts(const struct state_writer *w, unsigned long *appends,
			 unsigned long *wholes)
{
	*appends = w->appends;
	*wholes = w->wholes;
}

void state_writer_free(struct state_writer *w)
{
	if (!w)
		return;
	free(w->sums);
	free(w->dir);
	free(w);
}
