/*
 * conf-file.c - opening, checking and reading the configuration's files.
 *
 * The configuration names commands that certwatch runs as root, so with
 * check_owner every file and directory it is read from must be owned by
 * root (or the user running certwatch) and writable by nobody else.  A
 * file is opened so that the open never blocks (a FIFO named x.conf in
 * conf.d would otherwise hang the daemon's start for good), refused unless
 * it is a regular file, checked on the descriptor that is then read, and
 * read whole into memory, at most CONF_MAX_FILE_SIZE bytes.  Errors are reported to the load's
 * messages with the path, what is wrong and the command that fixes it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf-int.h"
#include "util.h"

#define CONF_MAX_FILE_SIZE (1024 * 1024)
#define CONF_MAX_FILES     CONF_MAX_SERVICES

/* Checks an open file or directory; with check_owner, its owner and mode. */
static int check_fd(struct conf_errors *e, int fd, const char *path, bool check_owner)
{
	struct stat st;
	uid_t euid = geteuid();

	if (fstat(fd, &st) < 0) {
		int r = -errno;

		conf_error(e, r, path, 0, "cannot stat: %s", strerror(-r));
		return r;
	}
	if (!check_owner)
		return 0;
	if (!conf_owner_trusted(st.st_uid)) {
		if (euid == 0)
			conf_error(e, -EPERM, NULL, 0, "%s is owned by uid %u, not root; certwatch "
				   "runs commands named there as root: chown root %s",
				   path, (unsigned)st.st_uid, path);
		else
			conf_error(e, -EPERM, NULL, 0, "%s is owned by uid %u, neither root nor uid %u "
				   "that runs certwatch; certwatch runs commands named there: "
				   "chown root %s", path, (unsigned)st.st_uid, (unsigned)euid, path);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		conf_error(e, -EPERM, NULL, 0, "%s is writable by group or others (mode %04o); "
			   "certwatch runs commands named there as root: chmod go-w %s",
			   path, (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

int conf_file_check_dir(struct conf_errors *e, const char *path, bool check_owner)
{
	_cleanup_close_ int fd = -1;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;

		conf_error(e, r, path, 0, "cannot open the directory: %s", strerror(-r));
		return r;
	}
	return check_fd(e, fd, path, check_owner);
}

/* Reads the checked file behind fd, at most CONF_MAX_FILE_SIZE bytes. */
static int read_fd(struct conf_errors *e, int fd, const char *path, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, size = 0;

	for (;;) {
		ssize_t n;

		if (len == size) {
			char *nb;

			if (size > CONF_MAX_FILE_SIZE) {
				conf_error(e, -EFBIG, path, 0, "is larger than %d KiB; a configuration "
					   "file is small: split it into files in the include directory",
					   CONF_MAX_FILE_SIZE / 1024);
				return -EFBIG;
			}
			size = size ? size * 2 : 4096;
			if (size > CONF_MAX_FILE_SIZE)
				size = CONF_MAX_FILE_SIZE + 1;
			nb = realloc(buf, size + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			conf_error(e, r, path, 0, "cannot read: %s", strerror(-r));
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (memchr(buf, '\0', len)) {
		conf_error(e, -EINVAL, path, 0, "contains a NUL byte; a configuration file is text");
		return -EINVAL;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	return 0;
}

int conf_file_read(struct conf_errors *e, const char *path, bool check_owner,
		   char **ret_buf, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	int r;

	fd = open_regular(path, 0, NULL);
	if (fd == -ENXIO || fd == -EISDIR) {
		conf_error(e, fd, path, 0, "is %s, not a regular file; a configuration file must be "
			   "one: replace it with a regular file, or remove it", path_type_name(path));
		return fd;
	}
	if (fd < 0) {
		conf_error(e, fd, path, 0, "cannot open: %s", strerror(-fd));
		return fd;
	}
	r = check_fd(e, fd, path, check_owner);
	if (r < 0)
		return r;
	return read_fd(e, fd, path, ret_buf, ret_len);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

void conf_file_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Adds the *.conf names of d to *names; 0 or a negative errno. */
static int read_names(struct conf_errors *e, DIR *d, const char *dir, char ***names, size_t *n)
{
	for (;;) {
		struct dirent *de;
		char **nn;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno != 0)
				conf_error(e, -errno, dir, 0, "cannot read the include directory: %s",
					   strerror(errno));
			return 0;
		}
		if (!is_conf_name(de->d_name))
			continue;
		if (*n >= CONF_MAX_FILES) {
			conf_error(e, -E2BIG, dir, 0, "holds more than %d *.conf files; put several "
				   "services in one file", CONF_MAX_FILES);
			return 0;
		}
		nn = reallocarray(*names, *n + 1, sizeof(**names));
		if (!nn)
			return -ENOMEM;
		*names = nn;
		nn[*n] = strdup(de->d_name);
		if (!nn[*n])
			return -ENOMEM;
		(*n)++;
	}
}

int conf_file_list(struct conf_errors *e, const char *dir, bool check_owner,
		   char ***ret_names, size_t *ret_n)
{
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	int fd, r;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		*ret_names = NULL;
		*ret_n = 0;
		return 0;
	}
	if (fd < 0) {
		r = -errno;
		conf_error(e, r, dir, 0, "cannot read the include directory: %s; make it a "
			   "readable directory, or set include-dir to another one", strerror(-r));
		return r;
	}
	r = check_fd(e, fd, dir, check_owner);
	d = r < 0 ? NULL : fdopendir(fd);
	if (!d) {
		r = r < 0 ? r : -errno;
		close(fd);
		return r;
	}
	r = read_names(e, d, dir, &names, &n);
	closedir(d);
	if (r < 0) {
		conf_file_list_free(names, n);
		return r;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	*ret_names = names;
	*ret_n = n;
	return 0;
}
