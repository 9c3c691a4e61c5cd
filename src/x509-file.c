/*
 * x509-file.c - the files of a pair, read for x509.c: whole, bounded, and
 * never blocking.  A file that grows while it is read is an ACME client at
 * work and is read on up to the bound.  A key file's bytes are the key:
 * every buffer that held them is wiped before it is freed, and no message
 * ever quotes them.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "x509.h"
#include "x509-int.h"

#define FILE_MAX      (1024 * 1024) /* PEM files are a few KiB */

void path_text(const char *path, char out[PATH_TEXT_MAX])
{
	escape_bytes(path, strlen(path), out, PATH_TEXT_MAX);
}

void file_id_from_stat(const struct stat *st, struct file_id *ret)
{
	*ret = (struct file_id) {
		.dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
		.mtime = st->st_mtim, .ctime = st->st_ctim,
	};
}

int file_id_of(const char *path, struct file_id *ret)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	file_id_from_stat(&st, ret);
	return 0;
}

bool file_id_same(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

void pem_file_done(struct pem_file *f)
{
	if (f->data) {
		/* The key file's bytes are the key: leave no copy in freed memory. */
		OPENSSL_cleanse(f->data, f->len);
		free(f->data);
	}
	f->data = NULL;
	f->len = 0;
}

/*
 * Opens f and learns its size.  open_regular() never blocks: a FIFO nobody
 * writes to, put where a certificate or key should be, would otherwise
 * hang `check` and the daemon's loop in open() for good.  Returns 0, sets
 * *ret_fd and *ret_size and notes f's mode, or 1 after setting the status.
 */
static int pem_file_open(struct pem_file *f, struct disk_pair *p, int *ret_fd,
			 size_t *ret_size)
{
	char path[PATH_TEXT_MAX];
	struct stat st;
	int fd;

	path_text(f->path, path);
	fd = open_regular(f->path, 0, &st);
	if (fd == -ENOENT) {
		pair_status(p, X509_MISSING, "%s file %s does not exist", f->role, path);
		return 1;
	}
	if (fd == -EISDIR || fd == -ENXIO) {
		pair_status(p, X509_UNREADABLE, "%s file %s is %s, not a regular file", f->role,
			    path, path_type_name(f->path));
		return 1;
	}
	if (fd < 0) {
		pair_status(p, X509_UNREADABLE, "cannot read %s file %s: %s",
			    f->role, path, strerror(-fd));
		return 1;
	}
	f->mode = st.st_mode;
	/* The identity of what is read, not of what the path names by the time it is asked. */
	file_id_from_stat(&st, &f->id);
	f->have_id = true;
	*ret_fd = fd;
	*ret_size = (size_t)st.st_size;
	return 0;
}

/*
 * Doubles *buf, up to FILE_MAX + 1 bytes.  It copies by hand so that no
 * stale copy of a key is left behind, as realloc() could.  0 or -ENOMEM.
 */
static int buf_grow(char **buf, size_t *cap, size_t len)
{
	size_t ncap = *cap * 2 > FILE_MAX + 1 ? FILE_MAX + 1 : *cap * 2;
	char *nbuf = malloc(ncap);

	if (!nbuf)
		return -ENOMEM;
	memcpy(nbuf, *buf, len);
	OPENSSL_cleanse(*buf, len);
	free(*buf);
	*buf = nbuf;
	*cap = ncap;
	return 0;
}

/* Reads a whole file, bounded.  Returns 0, -ENOMEM, or 1 after setting the status. */
static int pem_file_read(struct pem_file *f, struct disk_pair *p)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_TEXT_MAX];
	size_t size, cap, len = 0;
	char *buf = NULL;
	int r;

	r = pem_file_open(f, p, &fd, &size);
	if (r != 0)
		return r;
	path_text(f->path, path);
	r = 1;
	if (size > FILE_MAX)
		goto too_large;
	cap = size + 1;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		/* The file grew since it was opened: an ACME client is writing it. */
		if (len == cap && len > FILE_MAX)
			goto too_large;
		if (len == cap && buf_grow(&buf, &cap, len) < 0) {
			r = -ENOMEM;
			goto out;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pair_status(p, X509_UNREADABLE, "cannot read %s file %s: %s",
				    f->role, path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	f->data = buf;
	f->len = len;
	buf = NULL;
	r = 0;
	goto out;
too_large:
	pair_status(p, X509_UNREADABLE, "%s file %s is larger than %d KiB",
		    f->role, path, FILE_MAX / 1024);
out:
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return r;
}

static bool has_pem_block(const struct pem_file *f)
{
	static const char begin[] = "-----BEGIN ";

	return memmem(f->data, f->len, begin, sizeof(begin) - 1) != NULL;
}

/*
 * A key that group or others may read is no reason to refuse the pair (the
 * service loads it all the same), but worth a word: the pair keeps the
 * message and its caller says it once per file.
 */
static void key_mode_check(const struct pem_file *f, struct disk_pair *p)
{
	char path[PATH_TEXT_MAX];
	mode_t m = f->mode;

	if (!(m & (S_IRGRP | S_IROTH)))
		return;
	path_text(f->path, path);
	msg_set(&p->key_warning, X509_KEY_WARNING_MAX,
		"key file %s is readable by %s (mode %04o): chmod 600 it%s", path,
		m & S_IROTH ? (m & S_IRGRP ? "group and others" : "others") : "its group",
		(unsigned)(m & 07777), m & S_IROTH ? "" : ", unless that group must read it");
}

/*
 * Reads every file given, then checks that each holds PEM.  Returns 0,
 * -ENOMEM, or 1 after setting the status.
 */
int pem_files_read(struct pem_file *files, size_t n, struct disk_pair *p)
{
	char path[PATH_TEXT_MAX];
	int r;

	for (size_t i = 0; i < n; i++) {
		if (!files[i].path)
			continue;
		r = pem_file_read(&files[i], p);
		if (r != 0)
			return r;
		if (files[i].secret)
			key_mode_check(&files[i], p);
	}
	for (size_t i = 0; i < n; i++) {
		if (!files[i].path || has_pem_block(&files[i]))
			continue;
		path_text(files[i].path, path);
		pair_status(p, X509_NOT_PEM, "%s file %s is not PEM (no -----BEGIN line)",
			    files[i].role, path);
		return 1;
	}
	return 0;
}
