/*
 * state-lock.c - the lock of a state directory; see state-lock.h.
 *
 * flock() rather than a pid file: the kernel drops the lock when its
 * holder dies, however it dies, so a lock file left behind never stops a
 * start, and a pid reused by another process is never mistaken for a
 * daemon.  The pid written in the file only names the holder in the
 * refusal.  The file is opened without following a symbolic link: the
 * directory is trusted (state_dir_check()) before.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state-lock.h"

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Another process holds fd's lock: name it by the pid it wrote. */
static int in_use(int fd, const char *dir, char *err, size_t errlen)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid = n > 0 ? strtol(buf, NULL, 10) : 0;

	if (pid > 0)
		snprintf(err, errlen, "the state directory %s is in use by certwatch (pid %ld); "
			 "stop it first, or run with another state-dir or -s NAME", dir, pid);
	else
		snprintf(err, errlen, "the state directory %s is in use by another certwatch; "
			 "stop it first, or run with another state-dir or -s NAME", dir);
	return -EBUSY;
}

static int write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

int state_lock_take(const char *dir, int held, int *ret_fd, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd, r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STATE_LOCK_NAME) >= sizeof(path)) {
		snprintf(err, errlen, "the state directory %s is too long; set a shorter state-dir",
			 dir);
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open the lock file %s: %s; remove it (certwatch "
			 "makes a new one)", path, strerror(-r));
		return r;
	}
	/* A duplicate shares the lock: closing the old setup's leaves it held. */
	if (held >= 0 && same_file(held, fd)) {
		close(fd);
		fd = fcntl(held, F_DUPFD_CLOEXEC, 3);
		if (fd < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot keep the lock of %s: %s", dir, strerror(-r));
			return r;
		}
		*ret_fd = fd;
		return 0;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? in_use(fd, dir, err, errlen) : -errno;
		if (r != -EBUSY)
			snprintf(err, errlen, "cannot lock %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	r = write_pid(fd);
	if (r < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}
