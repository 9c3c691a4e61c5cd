/*
 * fakeinotify.c - a test seam for the inotify watch limit of one process,
 * loaded with LD_PRELOAD: inotify_add_watch() behaves as the kernel's does
 * when fs.inotify.max_user_watches (user.max_inotify_watches of a user
 * namespace) is $CERTWATCH_TEST_INOTIFY_WATCHES.  Nothing kernel-wide is
 * changed, and the message the daemon prints still names the kernel's
 * real limit, which it reads from /proc/sys.
 *
 * The kernel's behaviour stood in for: a call that would make a new watch
 * while as many watches as the limit are live fails with ENOSPC; a call
 * naming an inode the descriptor already watches only changes that
 * watch's mask and succeeds at the limit too; a path that cannot be
 * resolved fails with its own error first, as the kernel resolves it
 * before it counts.  A watch stops counting once it is gone: removed,
 * its inode deleted or its descriptor closed.
 *
 * The count is the kernel's own list of the live watches of every inotify
 * descriptor of this process (/proc/self/fdinfo), read at each call, so
 * the seam keeps no state.  Unlike the kernel's per-user count it leaves
 * out the user's other processes: the test's daemon is alone under it.
 * libinotifytools calls libc's inotify_add_watch() through its PLT, so
 * the preload reaches the daemon's watches.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int inotify_add_watch(int fd, const char *path, uint32_t mask);

/* The limit the test asked for, or -1 when it asked for none. */
static long watch_limit(void)
{
	const char *v = getenv("CERTWATCH_TEST_INOTIFY_WATCHES");
	char *end;
	long n;

	if (!v || !*v)
		return -1;
	n = strtol(v, &end, 10);
	if (*end || n < 0) {
		fprintf(stderr, "fakeinotify: CERTWATCH_TEST_INOTIFY_WATCHES=%s is not a count\n", v);
		abort();
	}
	return n;
}

static int is_inotify(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return strcmp(target, "anon_inode:inotify") == 0;
}

/*
 * The live watches of descriptor fd, as the kernel lists them; *ret_same
 * is set when one of them is on st's inode.
 */
static long fd_watches(int fd, const struct stat *st, int *ret_same)
{
	char path[64], line[512];
	unsigned long ino, sdev;
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "fakeinotify: cannot read %s: %s\n", path, strerror(errno));
		abort();
	}
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "inotify wd:", 11) != 0)
			continue;
		n++;
		/* sdev is the kernel's encoding: major << 20 | minor. */
		if (st && sscanf(line, "inotify wd:%*d ino:%lx sdev:%lx", &ino, &sdev) == 2 &&
		    ino == st->st_ino && sdev >> 20 == major(st->st_dev) &&
		    (sdev & 0xfffff) == minor(st->st_dev))
			*ret_same = 1;
	}
	fclose(f);
	return n;
}

/* The watches live in this process, over all its inotify descriptors. */
static long live_watches(int fd, const struct stat *st, int *ret_same)
{
	struct dirent *e;
	long n = 0;
	DIR *d = opendir("/proc/self/fd");

	if (!d) {
		fprintf(stderr, "fakeinotify: cannot list /proc/self/fd: %s\n", strerror(errno));
		abort();
	}
	while ((e = readdir(d))) {
		int i = atoi(e->d_name);

		if (e->d_name[0] == '.' || !is_inotify(i))
			continue;
		n += fd_watches(i, i == fd ? st : NULL, ret_same);
	}
	closedir(d);
	return n;
}

int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	static int (*real)(int, const char *, uint32_t);
	long limit = watch_limit();
	struct stat st;
	int same = 0;

	if (!real)
		real = (int (*)(int, const char *, uint32_t))dlsym(RTLD_NEXT, "inotify_add_watch");
	if (limit < 0 || !is_inotify(fd))
		return real(fd, path, mask);
	if ((mask & IN_DONT_FOLLOW ? lstat(path, &st) : stat(path, &st)) < 0 ||
	    (mask & IN_ONLYDIR && !S_ISDIR(st.st_mode)))
		return real(fd, path, mask);    /* its own error, which the kernel says first */
	if (live_watches(fd, &st, &same) >= limit && !same) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, path, mask);
}
