/*
 * discover-run.c - runs the dumps in which the daemons describe their own
 * configuration; see discover-run.h.
 *
 * A dump is trusted no more than any other input: stdout is read up to
 * DISCOVER_MAX_OUTPUT and stderr up to DISC_MAX_STDERR, under a deadline,
 * and the whole process group is killed when either bound is passed.  The
 * output is wiped when freed: doveconf -P shows secrets such as
 * ssl_key_password.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "discover.h"
#include "discover-run.h"
#include "util.h"

void cmd_result_done(struct cmd_result *r)
{
	if (r->out) {
		explicit_bzero(r->out, r->out_len);
		free(r->out);
	}
	*r = (struct cmd_result){ 0 };
}

int disc_find_program(const char *search, const char *name, char **ret)
{
	const char *p = search;

	while (*p) {
		size_t n = strcspn(p, ":");
		char *path;

		if (n > 0 && p[0] == '/') {
			if (asprintf(&path, "%.*s/%s", (int)n, p, name) < 0)
				return -ENOMEM;
			if (access(path, X_OK) == 0) {
				*ret = path;
				return 0;
			}
			free(path);
		}
		p += n;
		p += *p == ':';
	}
	return -ENOENT;
}

/*
 * Starts argv with stdout and stderr on out_w and err_w.  Returns 0 and
 * sets *ret_pid, or a negative errno.
 */
static int spawn(char *const argv[], int out_w, int err_w, pid_t *ret_pid)
{
	static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	posix_spawn_file_actions_adddup2(&fa, err_w, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					POSIX_SPAWN_SETPGROUP);
	r = -posix_spawn(ret_pid, argv[0], &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return r;
}

/* Appends to stdout, growing the buffer up to the bound.  0, 1 when too long, -ENOMEM. */
static int out_append(struct cmd_result *ret, size_t *cap, const char *buf, size_t n)
{
	char *bigger;

	if (ret->out_len + n > DISCOVER_MAX_OUTPUT) {
		ret->too_long = true;
		return 1;
	}
	if (ret->out_len + n > *cap) {
		*cap = *cap * 2 > DISCOVER_MAX_OUTPUT ? DISCOVER_MAX_OUTPUT : *cap * 2;
		bigger = realloc(ret->out, *cap + 1);
		if (!bigger)
			return -ENOMEM;
		ret->out = bigger;
	}
	memcpy(ret->out + ret->out_len, buf, n);
	ret->out_len += n;
	return 0;
}

/* Keeps the start of stderr, up to its bound; the rest is read and dropped. */
static void err_append(struct cmd_result *ret, const char *buf, size_t n)
{
	size_t keep = sizeof(ret->err) - 1 - ret->err_len;

	if (n < keep)
		keep = n;
	memcpy(ret->err + ret->err_len, buf, keep);
	ret->err_len += keep;
}

/*
 * Reads fds[0] (stdout) and fds[1] (stderr) until both end, the deadline
 * passes or stdout is too long; an ended descriptor is closed and set to
 * -1.  Returns 0 or a negative errno.
 */
static int collect(int fds[2], uint64_t deadline, size_t cap, struct cmd_result *ret)
{
	while (fds[0] >= 0 || fds[1] >= 0) {
		struct pollfd pfd[2] = { { .fd = fds[0], .events = POLLIN },
					 { .fd = fds[1], .events = POLLIN } };
		uint64_t now = now_monotonic_usec();
		char buf[8192];

		if (now >= deadline) {
			ret->timed_out = true;
			return 0;
		}
		if (poll(pfd, 2, (int)((deadline - now + 999) / 1000)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int k = 0; k < 2; k++) {
			ssize_t n;
			int r;

			if (!pfd[k].revents)
				continue;
			n = read(fds[k], buf, sizeof(buf));
			if (n <= 0) {
				close(fds[k]);
				fds[k] = -1;
			} else if (k == 1) {
				err_append(ret, buf, (size_t)n);
			} else if ((r = out_append(ret, &cap, buf, (size_t)n)) != 0) {
				return r < 0 ? r : 0;
			}
		}
	}
	return 0;
}

/* Waits for the child, killing its group first when it must not run on. */
static void reap(pid_t pid, bool kill_it, struct cmd_result *ret)
{
	int wstatus;

	if (kill_it)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	ret->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

int disc_run_command(char *const argv[], uint64_t timeout_usec, struct cmd_result *ret)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, fds[2];
	uint64_t deadline = now_monotonic_usec() + timeout_usec;
	size_t cap = 65536;
	pid_t pid = -1;
	int r;

	*ret = (struct cmd_result){ 0 };
	if (!(ret->out = malloc(cap + 1)))
		return -ENOMEM;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	r = spawn(argv, out[1], err[1], &pid);
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	if (r < 0) {
		pid = -1;
		goto out;
	}
	fds[0] = out[0];
	fds[1] = err[0];
	r = collect(fds, deadline, cap, ret);
	out[0] = fds[0];
	err[0] = fds[1];
out:
	if (pid > 0)
		reap(pid, ret->timed_out || ret->too_long || r < 0, ret);
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (ret->out)
		ret->out[ret->out_len] = '\0';
	ret->err[ret->err_len] = '\0';
	if (r < 0)
		cmd_result_done(ret);
	return r;
}
