/*
 * trust.h - whether root may trust what a path names: who, besides root
 * and the user running certwatch, could change it, or change the path to
 * it.  The rule of the configuration's programs (conf-program.c), the pid
 * files whose process certwatch signals (pidfile.c) and the state
 * directory (state.c) alike.  Nothing here prints.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define TRUST_NOBODY ((uid_t)-1)   /* no owner trusted besides root and the caller */

/* Owned by root, by the user running certwatch, or by also (unless TRUST_NOBODY). */
bool trust_owner(uid_t uid, uid_t also);

/*
 * Who but the owner may write st: "its group", "others", "group and
 * others", or NULL when nobody; *ret_fix is then chmod's argument ("g-w").
 */
const char *trust_writers(const struct stat *st, const char **ret_fix);

/* What a walk checks, and how its messages begin and say why. */
struct trust_rule {
	const char *what;   /* the subject of every message: "pid file /run/x.pid" */
	const char *why;    /* the reason that follows: "certwatch runs it as root" */
	const char *hint;   /* what to do about a path that does not resolve: "write ..." */
	uid_t also;         /* a third trusted owner (a service's own user), or TRUST_NOBODY */
};

/*
 * Resolves path, absolute, one name at a time as the kernel looks it up,
 * following symbolic links, and checks that every directory a name is
 * looked up in is owned by a trusted owner (trust_owner()) and writable
 * by nobody else, and that every link followed is owned by a trusted
 * owner.  One exception: a directory of root's with the sticky bit (/tmp,
 * /run/lock) may be writable by all, because there only an entry's owner
 * may rename or remove it.  What the path names itself is not judged.
 *
 * Returns 0 with ret_path (PATH_MAX bytes) the resolved path and *ret_st
 * what it names (never a link); or a negative errno with a message in msg
 * that begins with rule->what and ends with the command that fixes it.
 */
int trust_walk(const struct trust_rule *rule, const char *path, char *ret_path,
	       struct stat *ret_st, char *msg, size_t len);

/*
 * The owner and mode of what path (resolved from given) names, as for
 * the walk's directories: a trusted owner, and writable by nobody else.
 * Returns 0, or -EPERM with the message (naming the resolved path when it
 * differs) and the fix.
 */
int trust_check_owner(const struct trust_rule *rule, const char *given, const char *path,
		      const struct stat *st, char *msg, size_t len);

/* "(resolved: PATH) " when path differs from given, else "". */
const char *trust_resolved(const char *given, const char *path, char *buf, size_t len);
