/*
 * pidfile.h - the process a pid file names, read so that root may trust
 * it before signalling that process (the reload-signal method).
 *
 * Whoever can write the pid file chooses which process certwatch, as
 * root, signals.  So, as systemd does for PIDFile=, the file must be
 * owned by root (or by the service's own user, pid-file-owner) and be
 * reached through directories and links nobody else can change
 * (trust.h); a file owned by the service's user may name only a process
 * of that user; process 1, kernel threads and certwatch itself are never
 * signalled; and with pid-program the process must run that program
 * (/proc/PID/exe).
 *
 * The text is read as daemons write it: the pid on the first line,
 * blanks around it allowed (Postfix pads it), whatever follows the first
 * line ignored (PostgreSQL's postmaster.pid goes on with its data
 * directory, port and more); the first line is bounded and must hold
 * nothing but the pid.  Nothing here prints: messages go to msg.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#define PIDFILE_LINE_MAX 64    /* bytes of the first line: a pid and its padding */

struct pidfile_expect {
	const char *path;      /* pid-file */
	uid_t owner;           /* pid-file-owner's uid, or TRUST_NOBODY */
	const char *program;   /* pid-program, or NULL */
};

/*
 * The pid on the first line of buf[0..len): decimal, above 1, no leading
 * zero, at most blanks (space, tab) around it, ended by a newline or by
 * the end of buf.  Returns 0, or -EINVAL / -ERANGE.
 */
int pidfile_parse(const char *buf, size_t len, pid_t *ret_pid);

/*
 * Reads x->path: the walk to it and its owner and mode checked (a file
 * owned by x->owner is fine), opened so that it can never block, the
 * first line parsed.  Returns 0 with *ret_pid and *ret_file_owner (the
 * file's uid), or a negative errno with a message naming the file, what
 * is wrong and what to do.
 */
int pidfile_read(const struct pidfile_expect *x, pid_t *ret_pid, uid_t *ret_file_owner,
		 char *msg, size_t len);

/*
 * Whether process pid, named by a file owned by file_owner, may get the
 * signal: not process 1, not a kernel thread, not certwatch; when the file
 * is not root's (or the caller's), a process of the file's owner; when
 * x->program is set, a process running it.  Returns 0, -ESRCH when the
 * process is gone, or another negative errno; with a message.
 */
int pidfile_check_process(const struct pidfile_expect *x, pid_t pid, uid_t file_owner,
			  char *msg, size_t len);
