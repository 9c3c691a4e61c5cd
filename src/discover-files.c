/*
 * discover-files.c - gathers the bundle (see discover-int.h) that the
 * parsers of Apache and HAProxy read: the files their configuration names,
 * read in rounds, each round asking the parser's wants function what it
 * needs next (an include list, then the files of a crt-list ...).
 *
 * The files are untrusted and bounded: regular files only (a FIFO or a
 * device named in a configuration must not block or be read), at most
 * DISC_MAX_FILE bytes each, DISC_MAX_SECTIONS sections and
 * DISCOVER_MAX_OUTPUT bytes in all, DISC_ROUNDS rounds.  What cannot be
 * read becomes a section saying why, which the parser turns into a note.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover.h"
#include "discover-int.h"
#include "discover-files.h"
#include "util.h"

#define DISC_ROUNDS 4
#define DISC_MAX_ENTRIES 1024   /* names of one directory listed */

/* Appends one section; 1 when the bundle is full (nothing appended), -ENOMEM. */
static int bundle_add(struct disc_bundle *b, char kind, const char *path, const char *text,
		      size_t len)
{
	char head[MAX_VALUE + 64];
	int n = snprintf(head, sizeof(head), "@@ %c %zu %s\n", kind, len, path);
	size_t total = (size_t)n + len + 1;
	char *bigger;

	if (b->n_sections >= DISC_MAX_SECTIONS || b->len + total > DISCOVER_MAX_OUTPUT)
		return 1;
	if (!(bigger = realloc(b->text, b->len + total + 1)))
		return -ENOMEM;
	b->text = bigger;
	memcpy(b->text + b->len, head, (size_t)n);
	memcpy(b->text + b->len + n, text, len);
	b->len += total;
	b->text[b->len - 1] = '\n';
	b->text[b->len] = '\0';
	b->n_sections++;
	return 0;
}

static int add_error(struct disc_bundle *b, const char *path, const char *why)
{
	return bundle_add(b, 'm', path, why, strlen(why));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's entries, sorted, as one section. */
static int add_dir(struct disc_bundle *b, const char *path, DIR *dir)
{
	char *names[DISC_MAX_ENTRIES], *text = NULL;
	size_t n = 0, len = 0;
	struct dirent *de;
	int r = 0;

	while (n < DISC_MAX_ENTRIES && (de = readdir(dir)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    !strchr(de->d_name, '\n') && !(names[n++] = strdup(de->d_name))) {
			n--;
			r = -ENOMEM;
			break;
		}
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	if (r == 0 && !(text = malloc(len + 1)))
		r = -ENOMEM;
	for (size_t i = 0, at = 0; i < n; i++) {
		if (text)
			at += (size_t)sprintf(text + at, "%s\n", names[i]);
		free(names[i]);
	}
	if (r == 0)
		r = bundle_add(b, 'd', path, text, len);
	free(text);
	return r;
}

/* A regular file's contents (kind 'f') or its existence ('x'). */
static int add_file(struct disc_bundle *b, const char *path, int fd, char kind)
{
	struct stat st;
	char *text;
	ssize_t n;
	size_t got = 0;
	int r;

	if (fstat(fd, &st) < 0)
		return add_error(b, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return add_error(b, path, "not a regular file");
	if (kind == 'x')
		return bundle_add(b, 'x', path, "", 0);
	if ((uintmax_t)st.st_size > DISC_MAX_FILE)
		return add_error(b, path, "larger than 1 MiB");
	if (!(text = malloc((size_t)st.st_size + 1)))
		return -ENOMEM;
	while (got < (size_t)st.st_size &&
	       ((n = read(fd, text + got, (size_t)st.st_size - got)) > 0 || (n < 0 && errno == EINTR)))
		got += n > 0 ? (size_t)n : 0;
	r = bundle_add(b, 'f', path, text, got);
	explicit_bzero(text, got);   /* HAProxy's PEM files hold keys */
	free(text);
	return r;
}

/* Reads path as kind 'f' (contents) or 'p' (a directory's list, or a file's existence). */
static int read_one(struct disc_bundle *b, char kind, const char *path)
{
	DIR *dir;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return add_error(b, path, strerror(errno));
	if (kind == 'p' && (dir = fdopendir(fd))) {
		r = add_dir(b, path, dir);
		closedir(dir);
		return r;
	}
	r = add_file(b, path, fd, kind == 'p' ? 'x' : 'f');
	close(fd);
	return r;
}

/* What a wants function asked for in one round, read after it returns. */
struct pending {
	const struct disc_bundle *b;
	char *what[DISC_MAX_SECTIONS];   /* kind, then path */
	size_t n;
};

/* discover_want_fn: notes what was asked for unless the bundle has it already. */
static int want(char kind, const char *path, void *userdata)
{
	struct pending *p = userdata;
	struct disc_section s;

	if (path[0] != '/' || strchr(path, '\n') || strlen(path) >= MAX_VALUE ||
	    p->n >= ELEMENTSOF(p->what) || (p->b->text &&
	    disc_section_find(p->b->text, p->b->len, "fdxm", path, &s)))
		return 0;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->what[i] + 1, path) == 0)
			return 0;
	if (asprintf(&p->what[p->n], "%c%s", kind, path) < 0)
		return -ENOMEM;
	p->n++;
	return 0;
}

int disc_bundle_seed(struct disc_bundle *b, char kind, const char *path, const char *text,
		     size_t len)
{
	int r = kind == 'c' ? bundle_add(b, 'c', path, text, len) : read_one(b, kind, path);

	return r < 0 ? r : 0;
}

int disc_bundle_gather(struct disc_bundle *b, discover_wants_fn wants)
{
	struct pending *p = calloc(1, sizeof(*p));
	int r = p ? 0 : -ENOMEM;

	for (unsigned round = 0; r >= 0 && round < DISC_ROUNDS; round++) {
		*p = (struct pending){ .b = b };
		r = wants(b->text ? b->text : "", b->len, want, p);
		for (size_t i = 0; i < p->n; i++) {
			if (r >= 0)
				r = read_one(b, p->what[i][0], p->what[i] + 1);
			free(p->what[i]);
		}
		if (p->n == 0)
			break;
	}
	free(p);
	return r < 0 ? r : 0;
}

void disc_bundle_done(struct disc_bundle *b)
{
	if (b->text) {
		explicit_bzero(b->text, b->len);
		free(b->text);
	}
	*b = (struct disc_bundle){ 0 };
}
