/*
 * reload-tree.c - every process a command started; see reload-tree.h.
 *
 * certwatch's own cgroup is "0::PATH" in /proc/self/cgroup, below the
 * cgroup2 mount of /proc/self/mountinfo.  A command's cgroup is a child
 * of it; its processes are listed in cgroup.procs, it is empty when
 * cgroup.events says "populated 0", and cgroup.kill (Linux 5.14) kills
 * all of them at once, forks in flight included.  Without a cgroup the
 * tree is the command's session: every process of /proc whose session id
 * is the command's pid.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reload-tree.h"
#include "util.h"

#define DESCRIBED_MAX 5       /* processes named by reload_tree_describe() */
#define KILL_ROUNDS   8       /* SIGKILL passes over cgroup.procs without cgroup.kill */

struct reload_tree {
	pid_t pid;                /* the command's; its session's id */
	char home[PATH_MAX];      /* certwatch's own cgroup, "" when unknown */
	char dir[PATH_MAX];       /* the command's cgroup, "" without one */
	int join_fd;              /* dir/cgroup.procs, for the child */
	bool confined;            /* the command is in dir */
	char why[256];            /* why not confined */
};

/* Reads a small file of /proc or /sys into buf (NUL-terminated). */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open_regular(path, 0, NULL);
	ssize_t n, got = 0;

	if (fd < 0)
		return fd;
	while ((size_t)got < len - 1 && (n = read(fd, buf + got, len - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return got;
}

/* Where the cgroup2 file system is mounted, from mountinfo; -ENOENT if nowhere. */
static int cgroup2_mount(char *out, size_t len)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int fd = open_regular("/proc/self/mountinfo", 0, NULL);

	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX];
		const char *sep = strstr(line, " - ");

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - FSTYPE SOURCE OPTIONS */
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0 ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		snprintf(out, len, "%s", mnt);
		return 0;
	}
	return -ENOENT;
}

/* certwatch's own cgroup v2 directory; why not, in why. */
static int own_cgroup(char *out, size_t len, char *why, size_t wlen)
{
	char text[4096], mnt[PATH_MAX];
	const char *p = NULL;
	size_t plen;

	if (read_small("/proc/self/cgroup", text, sizeof(text)) >= 0)
		p = strncmp(text, "0::", 3) == 0 ? text : strstr(text, "\n0::");
	if (!p || cgroup2_mount(mnt, sizeof(mnt)) < 0) {
		snprintf(why, wlen, "no cgroup v2 file system is mounted");
		return -ENOENT;
	}
	p += p[0] == '\n' ? 4 : 3;
	plen = strcspn(p, "\n");
	if (plen == 1 && p[0] == '/')
		plen = 0;        /* the root of the hierarchy: the mount itself */
	if ((size_t)snprintf(out, len, "%s%.*s", mnt, (int)plen, p) >= len) {
		snprintf(why, wlen, "the path of certwatch's cgroup is too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

int reload_tree_new(struct reload_tree **ret)
{
	static unsigned made;
	struct reload_tree *t = calloc(1, sizeof(*t));
	char procs[PATH_MAX + 16];

	if (!t)
		return -ENOMEM;
	t->join_fd = -1;
	if (own_cgroup(t->home, sizeof(t->home), t->why, sizeof(t->why)) < 0)
		goto out;
	snprintf(t->dir, sizeof(t->dir), "%.*s/certwatch-cmd.%d.%u", PATH_MAX - 48, t->home,
		 (int)getpid(), ++made);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", t->dir);
	if (mkdir(t->dir, 0755) < 0) {
		snprintf(t->why, sizeof(t->why), "cannot make a cgroup in %s: %s", t->home,
			 strerror(errno));
		t->dir[0] = '\0';
	} else if ((t->join_fd = open(procs, O_WRONLY | O_CLOEXEC)) < 0) {
		snprintf(t->why, sizeof(t->why), "cannot open %s: %s", procs, strerror(errno));
		(void)rmdir(t->dir);
		t->dir[0] = '\0';
	}
out:
	*ret = t;
	return 0;
}

int reload_tree_join_fd(const struct reload_tree *t)
{
	return t->join_fd;
}

const char *reload_tree_unconfined(const struct reload_tree *t)
{
	return t->confined ? "" : t->why;
}

typedef void each_fn(pid_t pid, void *ud);

/* Calls fn (when not NULL) for every process in dir's cgroup.procs; returns how many. */
static size_t each_in_cgroup(const char *dir, each_fn *fn, void *ud)
{
	_cleanup_free_ char *text = malloc(65536);
	char path[PATH_MAX + 32], *save = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (!text || read_small(path, text, 65536) < 0)
		return 0;
	for (char *tok = strtok_r(text, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		pid_t pid = (pid_t)atoi(tok);

		if (pid <= 0)
			continue;
		n++;
		if (fn)
			fn(pid, ud);
	}
	return n;
}

/* The same for every live process of /proc whose session is sid. */
static size_t each_in_session(pid_t sid, each_fn *fn, void *ud)
{
	char path[PATH_MAX + 32], buf[512];
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d))) {
		const char *rest;
		int session = 0;
		char state = 'Z';

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		/* PID (COMM) STATE PPID PGRP SESSION ...; COMM may hold anything. */
		if (read_small(path, buf, sizeof(buf)) < 0 || !(rest = strrchr(buf, ')')) ||
		    sscanf(rest + 1, " %c %*d %*d %d", &state, &session) != 2)
			continue;
		if (session != sid || state == 'Z')
			continue;
		n++;
		if (fn)
			fn((pid_t)atoi(de->d_name), ud);
	}
	if (d)
		closedir(d);
	return n;
}

/* Calls fn for every process of the tree, zombies left out; returns how many. */
static size_t for_each(const struct reload_tree *t, each_fn *fn, void *ud)
{
	return t->confined ? each_in_cgroup(t->dir, fn, ud) : each_in_session(t->pid, fn, ud);
}

void reload_tree_attach(struct reload_tree *t, pid_t pid)
{
	t->pid = pid;
	if (!t->dir[0])
		return;
	t->confined = each_in_cgroup(t->dir, NULL, NULL) > 0;
	if (!t->confined)
		snprintf(t->why, sizeof(t->why), "the command could not join %s", t->dir);
}

static void signal_one(pid_t pid, void *ud)
{
	(void)kill(pid, *(int *)ud);
}

/* Writes text to dir/name; 0 or a negative errno. */
static int write_cgroup_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX + 32];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		r = -errno;
	close(fd);
	return r;
}

void reload_tree_signal(struct reload_tree *t, int sig)
{
	if (t->pid > 0)
		(void)kill(-t->pid, sig);   /* the group first: what has not left it, at once */
	if (sig == SIGKILL && t->confined && write_cgroup_file(t->dir, "cgroup.kill", "1") == 0)
		return;
	for (int round = 0; round < (sig == SIGKILL ? KILL_ROUNDS : 1); round++)
		if (for_each(t, signal_one, &sig) == 0)
			break;
}

bool reload_tree_empty(const struct reload_tree *t)
{
	char path[PATH_MAX + 32], text[256];

	if (t->confined) {
		snprintf(path, sizeof(path), "%s/cgroup.events", t->dir);
		if (read_small(path, text, sizeof(text)) >= 0)
			return strstr(text, "populated 0") != NULL;
	}
	return for_each(t, NULL, NULL) == 0;
}

struct describe {
	char *buf;
	size_t len, used, n;
};

static void describe_one(pid_t pid, void *ud)
{
	struct describe *d = ud;
	char path[64], comm[64] = "", esc[64 * 4 + 4];
	int w;

	if (++d->n > DESCRIBED_MAX)
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_small(path, comm, sizeof(comm)) > 0)
		comm[strcspn(comm, "\n")] = '\0';
	escape_bytes(comm, strlen(comm), esc, sizeof(esc));
	w = snprintf(d->buf + d->used, d->len - d->used, "%s%d (%s)", d->n > 1 ? ", " : "",
		     (int)pid, esc);
	if (w > 0)
		d->used = d->used + (size_t)w < d->len ? d->used + (size_t)w : d->len - 1;
}

void reload_tree_describe(const struct reload_tree *t, char *buf, size_t len)
{
	struct describe d = { .buf = buf, .len = len };

	buf[0] = '\0';
	for_each(t, describe_one, &d);
	if (d.n > DESCRIBED_MAX)
		snprintf(buf + d.used, len - d.used, " and %zu more", d.n - DESCRIBED_MAX);
}

static void move_home(pid_t pid, void *ud)
{
	const struct reload_tree *t = ud;
	char text[32];

	snprintf(text, sizeof(text), "%d", (int)pid);
	(void)write_cgroup_file(t->home, "cgroup.procs", text);
}

void reload_tree_free(struct reload_tree *t)
{
	if (!t)
		return;
	if (t->confined)
		for_each(t, move_home, t);
	if (t->join_fd >= 0)
		close(t->join_fd);
	if (t->dir[0])
		(void)rmdir(t->dir);
	free(t);
}

bool reload_tree_supported(char *why, size_t len)
{
	struct reload_tree *t = NULL;
	bool made;

	if (reload_tree_new(&t) < 0) {
		snprintf(why, len, "%s", strerror(ENOMEM));
		return false;
	}
	made = t->dir[0] != '\0';
	snprintf(why, len, "%s", made ? "" : t->why);
	reload_tree_free(t);
	return made;
}
