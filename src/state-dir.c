/*
 * state-dir.c - where the state directory is (state_dir_for()), and whether
 * it and the state file may be trusted; see state.h.
 *
 * The state file decides for the daemon at its next start: a service
 * marked paused there is never reloaded again by itself, and the control
 * socket beside it is what `certwatch resume` believes.  So whoever could
 * write there could keep a renewal from ever being deployed: the
 * directory, the directories on the way to it and the file are held to
 * the rule of the configuration (trust.h): owned by root or by the user
 * running certwatch, and writable by nobody else.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "state.h"
#include "trust.h"
#include "util.h"

#define STATE_WHY "whoever may write there can stop certwatch's reloads (a service paused in " \
		  "the state file)"

static struct trust_rule state_rule(char *what, size_t len, const char *kind, const char *path)
{
	snprintf(what, len, "%s %s", kind, path);
	return (struct trust_rule) {
		.what = what,
		.why = STATE_WHY,
		.hint = "make it (mode 0700, owned by root), or set state-dir to a directory that is",
		.also = TRUST_NOBODY,
	};
}

int state_file_check(const char *path, const struct stat *st, char *err, size_t errlen)
{
	char what[PATH_MAX + 16];
	const struct trust_rule rule = state_rule(what, sizeof(what), "state file", path);

	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "state file %s is %s, not a regular file; remove it (certwatch "
			 "writes a new one)", path, file_type_name(st->st_mode));
		return -EPERM;
	}
	return trust_check_owner(&rule, path, path, st, err, errlen);
}

int state_dir_check(const char *dir, char *err, size_t errlen)
{
	char what[PATH_MAX + 32], path[PATH_MAX], file[PATH_MAX + 16];
	const struct trust_rule rule = state_rule(what, sizeof(what), "state directory", dir);
	struct stat st;
	int r;

	r = trust_walk(&rule, dir, path, &st, err, errlen);
	if (r < 0)
		return r;
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state directory %s is %s, not a directory; remove it, or set "
			 "state-dir to a directory", dir, file_type_name(st.st_mode));
		return -ENOTDIR;
	}
	r = trust_check_owner(&rule, dir, path, &st, err, errlen);
	if (r < 0)
		return r;
	if ((size_t)snprintf(file, sizeof(file), "%s/%s", path, STATE_FILE_NAME) >= sizeof(file))
		return -ENAMETOOLONG;
	if (lstat(file, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		snprintf(err, errlen, "cannot look at the state file %s: %s", file, strerror(-r));
		return r;
	}
	return state_file_check(file, &st, err, errlen);
}

int state_dir_for(const char *base, const char *only_service, char *out, size_t outlen)
{
	int n;

	if (only_service && (!only_service[0] || strchr(only_service, '/') ||
			     strcmp(only_service, ".") == 0 || strcmp(only_service, "..") == 0))
		return -EINVAL;
	n = only_service ? snprintf(out, outlen, "%s/%s", base, only_service) :
		snprintf(out, outlen, "%s", base);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}
