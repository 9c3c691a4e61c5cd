/*
 * pidfile.c - the process a pid file names, read so that root may trust
 * it; see pidfile.h for the rules and why.
 *
 * The process is looked at through /proc: its status (parent, user ids)
 * and, for pid-program, its exe link.  A kernel thread is a child of
 * kthreadd (process 2).  The caller pins the process (a pidfd) before it
 * asks, so that what was checked is what gets the signal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidfile.h"
#include "trust.h"
#include "util.h"

#define STATUS_MAX 8192   /* bytes of /proc/PID/status read: the fields wanted come early */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int pidfile_parse(const char *buf, size_t len, pid_t *ret_pid)
{
	const char *nl = memchr(buf, '\n', len);
	size_t end = nl ? (size_t)(nl - buf) : len, i = 0;
	long long v = 0;

	if (end > PIDFILE_LINE_MAX)
		return -EINVAL;
	while (i < end && is_blank(buf[i]))
		i++;
	while (end > i && is_blank(buf[end - 1]))
		end--;
	if (i == end || buf[i] == '0')
		return -EINVAL;
	for (; i < end; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EINVAL;
		v = v * 10 + (buf[i] - '0');
		if (v > INT32_MAX)
			return -ERANGE;
	}
	/* 1 is a process id: pidfile_check_process() says it is init's, never signalled. */
	if (v < 1)
		return -EINVAL;
	*ret_pid = (pid_t)v;
	return 0;
}

/* Reads at most max bytes of fd into buf; returns how many, or a negative errno. */
static ssize_t read_some(int fd, char *buf, size_t max)
{
	size_t got = 0;

	while (got < max) {
		ssize_t n = read(fd, buf + got, max - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* "pid file P holds "LINE", not a process id; ...": the first line, escaped. */
static int refuse_content(const struct pidfile_expect *x, const char *buf, size_t n,
			  char *msg, size_t len)
{
	char esc[PIDFILE_LINE_MAX * 4 + 4];
	const char *nl = memchr(buf, '\n', n);
	size_t shown = nl ? (size_t)(nl - buf) : n;
	bool cut = shown > PIDFILE_LINE_MAX;

	escape_bytes(buf, cut ? PIDFILE_LINE_MAX : shown, esc, sizeof(esc));
	snprintf(msg, len, "pid file %s holds \"%s%s\", not a process id on its first line",
		 x->path, esc, cut ? "..." : "");
	return -EINVAL;
}

int pidfile_read(const struct pidfile_expect *x, pid_t *ret_pid, uid_t *ret_file_owner,
		 char *msg, size_t len)
{
	char what[PATH_MAX + 16], path[PATH_MAX], buf[PIDFILE_LINE_MAX + 1];
	const struct trust_rule rule = {
		.what = what,
		.why = "certwatch, as root, would signal whatever process it names",
		.hint = "check that the service runs and that pid-file names the file it writes",
		.also = x->owner,
	};
	_cleanup_close_ int fd = -1;
	struct stat st;
	ssize_t n;
	int r;

	snprintf(what, sizeof(what), "pid file %s", x->path);
	r = trust_walk(&rule, x->path, path, &st, msg, len);
	if (r < 0)
		return r;
	fd = open_regular(path, O_NOFOLLOW, NULL);
	if (fd == -ENXIO || fd == -EISDIR) {
		snprintf(msg, len, "pid file %s is %s, not a regular file; pid-file must name the file "
			 "the service writes its process id to", x->path, file_type_name(st.st_mode));
		return fd;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = fd < 0 ? fd : -errno;
		snprintf(msg, len, "cannot open pid file %s: %s", x->path, strerror(-r));
		return r;
	}
	r = trust_check_owner(&rule, x->path, path, &st, msg, len);
	if (r < 0)
		return r;
	n = read_some(fd, buf, sizeof(buf));
	if (n < 0) {
		snprintf(msg, len, "cannot read pid file %s: %s", x->path, strerror((int)-n));
		return (int)n;
	}
	if (pidfile_parse(buf, (size_t)n, ret_pid) < 0)
		return refuse_content(x, buf, (size_t)n, msg, len);
	*ret_file_owner = st.st_uid;
	return 0;
}

/* The value after "Name:" in /proc/PID/status text; NULL if absent. */
static const char *status_field(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ':')
			return p + n + 1;
	return NULL;
}

/* The parent and the real and effective user of pid, from /proc/PID/status. */
static int read_status(pid_t pid, pid_t *ret_ppid, uid_t *ret_ruid, uid_t *ret_euid)
{
	_cleanup_free_ char *text = malloc(STATUS_MAX + 1);
	_cleanup_close_ int fd = -1;
	char path[64];
	const char *ppid, *uids;
	unsigned long long p, ruid, euid;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!text)
		return -ENOMEM;
	fd = open_regular(path, 0, NULL);
	if (fd < 0)
		return fd == -ENOENT ? -ESRCH : fd;
	n = read_some(fd, text, STATUS_MAX);
	if (n < 0)
		return (int)n;
	text[n] = '\0';
	ppid = status_field(text, "PPid");
	uids = status_field(text, "Uid");
	if (!ppid || !uids || sscanf(ppid, "%llu", &p) != 1 ||
	    sscanf(uids, "%llu %llu", &ruid, &euid) != 2)
		return -EBADMSG;
	*ret_ppid = (pid_t)p;
	*ret_ruid = (uid_t)ruid;
	*ret_euid = (uid_t)euid;
	return 0;
}

/* Whether pid runs program (its /proc/PID/exe, even after a package upgrade replaced it). */
static int check_program(const struct pidfile_expect *x, pid_t pid, char *msg, size_t len)
{
	static const char deleted[] = " (deleted)";
	char link[64], exe[PATH_MAX], want[PATH_MAX];
	ssize_t n;
	size_t l;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n < 0) {
		int e = errno;

		snprintf(msg, len, "cannot tell which program process %d from %s runs (%s: %s)%s; "
			 "without knowing, certwatch does not signal it", (int)pid, x->path, link,
			 strerror(e), e == EACCES ? ": a process of another user needs "
			 "CAP_SYS_PTRACE to be seen; grant it or remove pid-program" : "");
		return e == ENOENT ? -ESRCH : -e;
	}
	exe[n] = '\0';
	l = (size_t)n;
	if (l > sizeof(deleted) - 1 && strcmp(exe + l - (sizeof(deleted) - 1), deleted) == 0)
		exe[l - (sizeof(deleted) - 1)] = '\0';
	if (!realpath(x->program, want))
		snprintf(want, sizeof(want), "%s", x->program);
	if (strcmp(exe, want) == 0)
		return 0;
	snprintf(msg, len, "process %d from %s runs %s, not pid-program %s; the pid file is stale "
		 "or names another process: check that the service runs", (int)pid, x->path, exe,
		 x->program);
	return -EPERM;
}

int pidfile_check_process(const struct pidfile_expect *x, pid_t pid, uid_t file_owner,
			  char *msg, size_t len)
{
	uid_t ruid = 0, euid = 0;
	pid_t ppid = 0;
	int r;

	if (pid == 1 || pid == getpid()) {
		snprintf(msg, len, "pid file %s names process %d, %s, which certwatch never signals: "
			 "check pid-file", x->path, (int)pid, pid == 1 ? "the init process" :
			 "certwatch itself");
		return -EPERM;
	}
	r = read_status(pid, &ppid, &ruid, &euid);
	if (r < 0) {
		if (r == -ESRCH)
			snprintf(msg, len, "process %d from %s does not exist", (int)pid, x->path);
		else
			snprintf(msg, len, "cannot read /proc/%d/status (the process from %s): %s",
				 (int)pid, x->path, strerror(-r));
		return r;
	}
	if (pid == 2 || ppid == 2) {
		snprintf(msg, len, "pid file %s names process %d, a kernel thread, which certwatch "
			 "never signals: check pid-file", x->path, (int)pid);
		return -EPERM;
	}
	if (!trust_owner(file_owner, TRUST_NOBODY) && (ruid != file_owner || euid != file_owner)) {
		snprintf(msg, len, "pid file %s is owned by uid %u but names process %d of uid %u; a "
			 "file of pid-file-owner may name only that user's processes", x->path,
			 (unsigned)file_owner, (int)pid, (unsigned)(ruid != file_owner ? ruid : euid));
		return -EPERM;
	}
	return x->program ? check_program(x, pid, msg, len) : 0;
}
