/*
 * trust.c - whether root may trust what a path names; see trust.h.
 *
 * The path is walked one name at a time, as the kernel looks it up,
 * following symbolic links, so that every directory and link on the way
 * is judged, not only the last name: whoever can change a directory on
 * the way can put anything in place of what lies below it.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trust.h"

#define MAX_LINKS 40    /* the kernel's own limit on links in one lookup */

struct walk {
	const struct trust_rule *rule;
	char *msg;
	size_t len;
	const char *path;       /* as given, for messages */
	char done[PATH_MAX];    /* resolved so far, "" for "/" */
	char todo[PATH_MAX];    /* still to look up, relative to done */
	unsigned links;
};

bool trust_owner(uid_t uid, uid_t also)
{
	return uid == 0 || uid == geteuid() || (also != TRUST_NOBODY && uid == also);
}

const char *trust_writers(const struct stat *st, const char **ret_fix)
{
	switch (st->st_mode & (S_IWGRP | S_IWOTH)) {
	case 0:
		return NULL;
	case S_IWGRP:
		*ret_fix = "g-w";
		return "its group";
	case S_IWOTH:
		*ret_fix = "o-w";
		return "others";
	default:
		*ret_fix = "go-w";
		return "group and others";
	}
}

/* "WHAT " and the rest of the message. */
__attribute__((format(printf, 4, 5)))
static int refuse(const struct trust_rule *rule, char *msg, size_t len, const char *fmt, ...)
{
	int n = snprintf(msg, len, "%s ", rule->what);
	va_list ap;

	if (n > 0 && (size_t)n < len) {
		va_start(ap, fmt);
		vsnprintf(msg + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EPERM;
}

/* The directory w->done, in which the next name is looked up. */
static int check_dir(struct walk *w)
{
	const struct trust_rule *rule = w->rule;
	const char *dir = w->done[0] ? w->done : "/", *who, *fix = NULL;
	struct stat st;

	if (stat(dir, &st) < 0) {
		int e = errno;

		refuse(rule, w->msg, w->len, "cannot be checked: %s: %s", dir, strerror(e));
		return -e;
	}
	if (!trust_owner(st.st_uid, rule->also))
		return refuse(rule, w->msg, w->len, "is in the directory %s, owned by uid %u, who "
			      "could replace it; %s: run \"chown root %s\"", dir,
			      (unsigned)st.st_uid, rule->why, dir);
	who = trust_writers(&st, &fix);
	if (who && !(st.st_uid == 0 && (st.st_mode & S_ISVTX)))
		return refuse(rule, w->msg, w->len, "is in the directory %s, writable by %s (mode "
			      "%04o), who could replace it; %s: run \"chmod %s %s\"", dir, who,
			      (unsigned)(st.st_mode & 07777), rule->why, fix, dir);
	return 0;
}

/* Takes the first name off w->todo into name; false when none is left. */
static bool next_name(struct walk *w, char name[NAME_MAX + 1])
{
	char *p = w->todo + strspn(w->todo, "/");
	size_t n = strcspn(p, "/");

	if (n == 0)
		return false;
	snprintf(name, NAME_MAX + 1, "%.*s", (int)(n > NAME_MAX ? NAME_MAX : n), p);
	memmove(w->todo, p + n, strlen(p + n) + 1);
	return true;
}

/* A path that cannot be followed to its end: why, and the rule's hint. */
__attribute__((format(printf, 3, 4)))
static int unresolved(struct walk *w, int error, const char *fmt, ...)
{
	char why[PATH_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	refuse(w->rule, w->msg, w->len, "%s; %s", why, w->rule->hint);
	return error;
}

/* w->done is a symbolic link: its target goes in front of what is left. */
static int follow(struct walk *w, const struct stat *st)
{
	char target[PATH_MAX], rest[PATH_MAX];
	ssize_t n;

	if (!trust_owner(st->st_uid, w->rule->also))
		return refuse(w->rule, w->msg, w->len, "goes through the symbolic link %s, owned "
			      "by uid %u, who could point it elsewhere; %s: run \"chown -h root %s\"",
			      w->done, (unsigned)st->st_uid, w->rule->why, w->done);
	if (++w->links > MAX_LINKS)
		return unresolved(w, -ELOOP, "cannot be resolved: more than %d symbolic links",
				  MAX_LINKS);
	n = readlink(w->done, target, sizeof(target) - 1);
	if (n < 0)
		return unresolved(w, -errno, "cannot be checked: %s: %s", w->done, strerror(errno));
	target[n] = '\0';
	snprintf(rest, sizeof(rest), "%s", w->todo);
	if ((size_t)snprintf(w->todo, sizeof(w->todo), "%s/%s", target, rest) >= sizeof(w->todo))
		return unresolved(w, -ENAMETOOLONG, "cannot be resolved: its path is too long");
	if (target[0] == '/')
		w->done[0] = '\0';
	else
		*strrchr(w->done, '/') = '\0';
	return 0;
}

/* Looks name up in w->done; *st is what it is. */
static int step(struct walk *w, const char *name, struct stat *st)
{
	size_t n = strlen(w->done);
	int r;

	if (strcmp(name, "..") == 0 && n > 0)
		*strrchr(w->done, '/') = '\0';
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return lstat(w->done[0] ? w->done : "/", st) < 0 ? -errno : 0;
	r = check_dir(w);
	if (r < 0)
		return r;
	if (n + 1 + strlen(name) >= sizeof(w->done))
		return unresolved(w, -ENAMETOOLONG, "cannot be resolved: its path is too long");
	snprintf(w->done + n, sizeof(w->done) - n, "/%s", name);
	if (lstat(w->done, st) < 0) {
		if (errno != ENOENT)
			return unresolved(w, -errno, "cannot be checked: %s: %s", w->done,
					  strerror(errno));
		if (strcmp(w->done, w->path) == 0)
			return unresolved(w, -ENOENT, "does not exist");
		return unresolved(w, -ENOENT, "does not exist (%s is missing)", w->done);
	}
	if (S_ISLNK(st->st_mode))
		return follow(w, st);
	if (!S_ISDIR(st->st_mode) && w->todo[strspn(w->todo, "/")] != '\0')
		return unresolved(w, -ENOTDIR, "does not exist (%s is not a directory)", w->done);
	return 0;
}

int trust_walk(const struct trust_rule *rule, const char *path, char *ret_path,
	       struct stat *ret_st, char *msg, size_t len)
{
	struct walk w = { .rule = rule, .msg = msg, .len = len, .path = path };
	char name[NAME_MAX + 1];
	struct stat st;
	int r;

	if (!path || path[0] != '/' || strlen(path) >= sizeof(w.todo)) {
		refuse(rule, msg, len, "is not an absolute path; %s", rule->hint);
		return -EINVAL;
	}
	snprintf(w.todo, sizeof(w.todo), "%s", path);
	if (lstat("/", &st) < 0)
		return unresolved(&w, -errno, "cannot be checked: /: %s", strerror(errno));
	while (next_name(&w, name)) {
		r = step(&w, name, &st);
		if (r < 0)
			return r;
	}
	snprintf(ret_path, PATH_MAX, "%s", w.done[0] ? w.done : "/");
	*ret_st = st;
	return 0;
}

const char *trust_resolved(const char *given, const char *path, char *buf, size_t len)
{
	buf[0] = '\0';
	if (strcmp(given, path) != 0)
		snprintf(buf, len, "(resolved: %s) ", path);
	return buf;
}

int trust_check_owner(const struct trust_rule *rule, const char *given, const char *path,
		      const struct stat *st, char *msg, size_t len)
{
	const char *who, *fix = NULL;
	char buf[PATH_MAX + 16];
	const char *via = trust_resolved(given, path, buf, sizeof(buf));
	if (!trust_owner(st->st_uid, rule->also))
		return refuse(rule, msg, len, "%sis owned by uid %u, not root; %s: run \"chown root "
			      "%s\"", via, (unsigned)st->st_uid, rule->why, path);
	who = trust_writers(st, &fix);
	if (who)
		return refuse(rule, msg, len, "%sis writable by %s (mode %04o); %s: run \"chmod %s "
			      "%s\"", via, who, (unsigned)(st->st_mode & 07777), rule->why, fix, path);
	return 0;
}
