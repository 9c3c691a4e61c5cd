/*
 * reload-signal.c - the signal reload method: the pid file is read at
 * the moment of the reload (daemons change pid when they restart), then
 * the process gets the configured signal.
 *
 * The pid file is opened so that it cannot block (a FIFO in its place
 * must not hang the loop) and is bounded.  The pid is its first line, as
 * daemons write them: PostgreSQL's postmaster.pid goes on with the data
 * directory and more, Postfix's master.pid pads the pid with spaces.
 * Anything else on that line is refused.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "reload-op.h"
#include "util.h"

#define PID_FILE_READ 256   /* bytes read from a pid file: its first line fits easily */
#define PID_LINE_MAX  32    /* bytes of that line: a pid and the blanks around it */

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The length of the first line of s[0..len), without its newline. */
static size_t first_line(const char *s, size_t len)
{
	const char *nl = memchr(s, '\n', len);

	return nl ? (size_t)(nl - s) : len;
}

/* A decimal pid above 1 without leading zeros, blanks around it allowed. */
static int parse_pid(const char *s, size_t len, pid_t *ret_pid)
{
	long long v = 0;
	size_t i = 0;

	if (len > PID_LINE_MAX)
		return -EINVAL;
	while (len > 0 && blank(s[len - 1]))
		len--;
	while (i < len && blank(s[i]))
		i++;
	if (i == len || s[i] == '0')
		return -EINVAL;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
		if (v > INT_MAX)
			return -ERANGE;
	}
	if (v <= 1)
		return -EINVAL;
	*ret_pid = (pid_t)v;
	return 0;
}

static void signal_send(struct reload_op *op, const char *pid_file, int sig)
{
	char buf[PID_FILE_READ], esc[PID_LINE_MAX * 4 + 4];
	struct stat st;
	ssize_t n;
	size_t line;
	pid_t pid;
	int fd;

	/* O_NONBLOCK: a FIFO put in its place must not hang the loop. */
	fd = open(pid_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			reload_op_complete(op, RELOAD_NO_PROCESS, "pid file %s does not exist", pid_file);
		else if (errno == ELOOP)
			reload_op_complete(op, RELOAD_NO_PROCESS, "pid file %s is a symbolic link", pid_file);
		else
			reload_op_complete(op, RELOAD_NO_PROCESS, "cannot open pid file %s: %s", pid_file,
				    strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		reload_op_complete(op, RELOAD_NO_PROCESS, "pid file %s is not a regular file", pid_file);
		goto out;
	}
	do
		n = read(fd, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		reload_op_complete(op, RELOAD_NO_PROCESS, "cannot read pid file %s: %s", pid_file,
			    strerror(errno));
		goto out;
	}
	line = first_line(buf, (size_t)n);
	if (parse_pid(buf, line, &pid) < 0) {
		escape_bytes(buf, line > PID_LINE_MAX ? PID_LINE_MAX : line, esc, sizeof esc);
		reload_op_complete(op, RELOAD_NO_PROCESS, "pid file %s holds \"%s%s\" on its first "
				   "line, not a process id", pid_file, esc,
				   line > PID_LINE_MAX ? "..." : "");
		goto out;
	}
	if (kill(pid, sig) < 0) {
		if (errno == ESRCH)
			reload_op_complete(op, RELOAD_NO_PROCESS, "process %d from %s does not exist",
				    (int)pid, pid_file);
		else
			reload_op_complete(op, RELOAD_NO_PROCESS, "cannot signal process %d from %s: %s",
				    (int)pid, pid_file, strerror(errno));
		goto out;
	}
	if (sigabbrev_np(sig))
		reload_op_complete(op, RELOAD_OK, "sent SIG%s to process %d", sigabbrev_np(sig), (int)pid);
	else
		reload_op_complete(op, RELOAD_OK, "sent signal %d to process %d", sig, (int)pid);
out:
	close(fd);
}

int reload_signal_start(sd_event *event, const char *pid_file, int sig,
			reload_done_t done, void *userdata, struct reload_op **ret)
{
	struct reload_op *op = NULL;
	int r;

	if (!event || !pid_file || sig <= 0 || sig >= _NSIG || !done || !ret)
		return -EINVAL;
	r = reload_op_new(event, sizeof(*op), done, userdata, &op);
	if (r < 0)
		return r;
	signal_send(op, pid_file, sig);
	*ret = op;
	return 0;
}

int reload_signal_method_start(struct reload_env *env, const struct conf_service *cs,
			       reload_done_t done, void *userdata, struct reload_op **ret)
{
	return reload_signal_start(env->event, cs->pid_file, cs->reload_signal, done, userdata,
				   ret);
}
