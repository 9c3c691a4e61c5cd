/*
 * conf-program.c - whether a program the configuration names may be run
 * as root.  reload-command and reload-check run as root, so whoever can
 * change the program, or a directory or symbolic link on the way to it,
 * can run anything as root.  The configuration files are refused when
 * others may write them (conf-file.c); this holds the programs they name
 * to the same rule, when the configuration is loaded.
 *
 * The path is walked one name at a time, as the kernel looks it up,
 * following symbolic links.  Every directory a name is looked up in must
 * be owned by root or the caller and writable by nobody else; every link
 * followed must be owned by them too; the program must be an existing
 * regular executable file owned by them and not writable by group or
 * others.  One exception: a directory of root's with the sticky bit, such
 * as /tmp, may be writable by all, because there only an entry's owner
 * (or root) may rename or remove it, and the entry itself must be owned
 * by root or the caller: nobody else can put another program in its
 * place.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf-int.h"
#include "util.h"

#define MAX_LINKS 40    /* the kernel's own limit on links in one lookup */

struct walk {
	const char *setting, *program;
	char *msg;
	size_t len;
	char done[PATH_MAX];    /* resolved so far, "" for "/" */
	char todo[PATH_MAX];    /* still to look up, relative to done */
	unsigned links;
};

/* "SETTING program PROGRAM" and the rest of the message. */
__attribute__((format(printf, 3, 4)))
static int refuse(struct walk *w, int error, const char *fmt, ...)
{
	int n = snprintf(w->msg, w->len, "%s program %s ", w->setting, w->program);
	va_list ap;

	if (n > 0 && (size_t)n < w->len) {
		va_start(ap, fmt);
		vsnprintf(w->msg + n, w->len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return error;
}

/* Who but the owner may write st: "its group", "others", or NULL; *ret_fix the chmod. */
static const char *writers(const struct stat *st, const char **ret_fix)
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

/* The directory w->done, in which the next name is looked up. */
static int check_dir(struct walk *w)
{
	const char *dir = w->done[0] ? w->done : "/", *who, *fix = NULL;
	struct stat st;

	if (stat(dir, &st) < 0)
		return refuse(w, -errno, "cannot be checked: %s: %s", dir, strerror(errno));
	if (!conf_owner_trusted(st.st_uid))
		return refuse(w, -EPERM, "is in the directory %s, owned by uid %u, who could "
			      "replace it; certwatch runs it as root: run \"chown root %s\"",
			      dir, (unsigned)st.st_uid, dir);
	who = writers(&st, &fix);
	if (who && !(st.st_uid == 0 && (st.st_mode & S_ISVTX)))
		return refuse(w, -EPERM, "is in the directory %s, writable by %s (mode %04o), who "
			      "could replace it; certwatch runs it as root: run \"chmod %s %s\"",
			      dir, who, (unsigned)(st.st_mode & 07777), fix, dir);
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

/* w->done is a symbolic link: its target goes in front of what is left. */
static int follow(struct walk *w, const struct stat *st)
{
	char target[PATH_MAX], rest[PATH_MAX];
	ssize_t n;

	if (!conf_owner_trusted(st->st_uid))
		return refuse(w, -EPERM, "goes through the symbolic link %s, owned by uid %u, who "
			      "could point it elsewhere; certwatch runs the program as root: run "
			      "\"chown -h root %s\"", w->done, (unsigned)st->st_uid, w->done);
	if (++w->links > MAX_LINKS)
		return refuse(w, -ELOOP, "cannot be resolved: more than %d symbolic links; write "
			      "the program's own path", MAX_LINKS);
	n = readlink(w->done, target, sizeof(target) - 1);
	if (n < 0)
		return refuse(w, -errno, "cannot be checked: %s: %s", w->done, strerror(errno));
	target[n] = '\0';
	snprintf(rest, sizeof(rest), "%s", w->todo);
	if ((size_t)snprintf(w->todo, sizeof(w->todo), "%s/%s", target, rest) >= sizeof(w->todo))
		return refuse(w, -ENAMETOOLONG, "cannot be resolved: its path is too long; write "
			      "the program's own path");
	if (target[0] == '/')
		w->done[0] = '\0';
	else
		*strrchr(w->done, '/') = '\0';
	return 0;
}

/* " (PATH is missing)" and the like, when PATH is not the program as written. */
static const char *aside(const struct walk *w, const char *fmt, char *buf, size_t len)
{
	buf[0] = '\0';
	if (strcmp(w->done, w->program) != 0)
		snprintf(buf, len, fmt, w->done);
	return buf;
}

/* Looks name up in w->done; *st is what it is. */
static int step(struct walk *w, const char *name, struct stat *st)
{
	char buf[PATH_MAX + 32];
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
		return refuse(w, -ENAMETOOLONG, "cannot be resolved: its path is too long; write "
			      "the program's own path");
	snprintf(w->done + n, sizeof(w->done) - n, "/%s", name);
	if (lstat(w->done, st) < 0) {
		if (errno == ENOENT)
			return refuse(w, -ENOENT, "does not exist%s; write the full path of an "
				      "installed program", aside(w, " (%s is missing)", buf, sizeof(buf)));
		return refuse(w, -errno, "cannot be checked: %s: %s", w->done, strerror(errno));
	}
	if (S_ISLNK(st->st_mode))
		return follow(w, st);
	if (!S_ISDIR(st->st_mode) && w->todo[strspn(w->todo, "/")] != '\0')
		return refuse(w, -ENOTDIR, "does not exist (%s is not a directory); write the full "
			      "path of an installed program", w->done);
	return 0;
}

/* The program itself, at w->done. */
static int check_file(struct walk *w, const struct stat *st)
{
	const char *who, *fix = NULL, *path = w->done[0] ? w->done : "/";
	char buf[PATH_MAX + 32];
	const char *via = aside(w, "(resolved: %s) ", buf, sizeof(buf));
	unsigned mode = (unsigned)(st->st_mode & 07777);

	if (!S_ISREG(st->st_mode))
		return refuse(w, -EINVAL, "%sis %s, not a program; write the full path of a program",
			      via, file_type_name(st->st_mode));
	if (!conf_owner_trusted(st->st_uid))
		return refuse(w, -EPERM, "%sis owned by uid %u, not root; certwatch runs it as root: "
			      "run \"chown root %s\"", via, (unsigned)st->st_uid, path);
	who = writers(st, &fix);
	if (who)
		return refuse(w, -EPERM, "%sis writable by %s (mode %04o); certwatch runs it as "
			      "root: run \"chmod %s %s\"", via, who, mode, fix, path);
	if (access(path, X_OK) < 0)
		return refuse(w, -EACCES, "%sis not executable (mode %04o): run \"chmod +x %s\"",
			      via, mode, path);
	return 0;
}

int conf_program_check(const char *setting, const char *program, char *msg, size_t len)
{
	struct walk w = { .setting = setting, .program = program, .msg = msg, .len = len };
	char name[NAME_MAX + 1];
	struct stat st;
	int r;

	if (!program || program[0] != '/' || strlen(program) >= sizeof(w.todo))
		return refuse(&w, -EINVAL, "is not an absolute path; write the program's full path");
	snprintf(w.todo, sizeof(w.todo), "%s", program);
	if (lstat("/", &st) < 0)
		return refuse(&w, -errno, "cannot be checked: /: %s", strerror(errno));
	while (next_name(&w, name)) {
		r = step(&w, name, &st);
		if (r < 0)
			return r;
	}
	return check_file(&w, &st);
}
