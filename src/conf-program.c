/*
 * conf-program.c - whether a program the configuration names may be run
 * as root.  reload-command and reload-check run as root, so whoever can
 * change the program, or a directory or symbolic link on the way to it,
 * can run anything as root.  The configuration files are refused when
 * others may write them (conf-file.c); this holds the programs they name
 * to the same rule, when the configuration is loaded.
 *
 * The path is walked as trust.c walks every path root must trust: each
 * directory and link on the way owned by root or the caller and writable
 * by nobody else (a sticky directory of root's excepted); the program
 * must be an existing regular executable file owned by them and not
 * writable by group or others.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf-int.h"
#include "trust.h"
#include "util.h"

/* The program itself, at path (what the walk resolved program to). */
static int check_file(const struct trust_rule *rule, const char *program, const char *path,
		      const struct stat *st, char *msg, size_t len)
{
	char buf[PATH_MAX + 32];
	const char *via = trust_resolved(program, path, buf, sizeof(buf));
	int r;

	if (!S_ISREG(st->st_mode)) {
		snprintf(msg, len, "%s %sis %s, not a program; write the full path of a program",
			 rule->what, via, file_type_name(st->st_mode));
		return -EINVAL;
	}
	r = trust_check_owner(rule, program, path, st, msg, len);
	if (r < 0)
		return r;
	if (access(path, X_OK) < 0) {
		snprintf(msg, len, "%s %sis not executable (mode %04o): run \"chmod +x %s\"",
			 rule->what, via, (unsigned)(st->st_mode & 07777), path);
		return -EACCES;
	}
	return 0;
}

int conf_program_check(const char *setting, const char *program, char *msg, size_t len)
{
	char what[PATH_MAX + 64], path[PATH_MAX];
	const struct trust_rule rule = {
		.what = what,
		.why = "certwatch runs it as root",
		.hint = "write the full path of an installed program",
		.also = TRUST_NOBODY,
	};
	struct stat st;
	int r;

	snprintf(what, sizeof(what), "%s program %s", setting, program ? program : "(none)");
	if (!program || program[0] != '/') {
		snprintf(msg, len, "%s is not an absolute path; write the program's full path", what);
		return -EINVAL;
	}
	r = trust_walk(&rule, program, path, &st, msg, len);
	return r < 0 ? r : check_file(&rule, program, path, &st, msg, len);
}
