/*
 * reload-signal.c - the signal reload method: the pid file is read at
 * the moment of the reload (daemons change pid when they restart), then
 * the process gets the configured signal.
 *
 * pidfile.c decides whether the file and its process may be trusted; the
 * process is pinned with a pidfd first, so that a process that ends and
 * whose pid is reused between the check and the signal is not the one
 * signalled (the signal then fails with ESRCH).  Without pidfds (before
 * Linux 5.3) kill() is used, as before.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "pidfile.h"
#include "reload-op.h"
#include "trust.h"
#include "util.h"

/* A descriptor of pid, or -ENOSYS where the kernel has no pidfd_open(). */
static int pin_process(pid_t pid)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd >= 0 ? fd : -errno;
#else
	(void)pid;
	return -ENOSYS;
#endif
}

static int send_signal(int pidfd, pid_t pid, int sig)
{
#ifdef SYS_pidfd_send_signal
	if (pidfd >= 0)
		return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
#endif
	(void)pidfd;
	return kill(pid, sig) < 0 ? -errno : 0;
}

static void signal_send(struct reload_op *op, const struct pidfile_expect *x, int sig)
{
	char msg[sizeof(op->result.detail)];
	_cleanup_close_ int pidfd = -1;
	uid_t owner;
	pid_t pid;
	int r;

	r = pidfile_read(x, &pid, &owner, msg, sizeof(msg));
	if (r >= 0) {
		pidfd = pin_process(pid);
		if (pidfd == -ESRCH) {
			snprintf(msg, sizeof(msg), "process %d from %s does not exist", (int)pid,
				 x->path);
			r = -ESRCH;
		}
	}
	if (r >= 0)
		r = pidfile_check_process(x, pid, owner, msg, sizeof(msg));
	if (r < 0) {
		reload_op_complete(op, RELOAD_NO_PROCESS, "%s", msg);
		return;
	}
	r = send_signal(pidfd, pid, sig);
	if (r == -ESRCH)
		reload_op_complete(op, RELOAD_NO_PROCESS, "process %d from %s does not exist",
				   (int)pid, x->path);
	else if (r < 0)
		reload_op_complete(op, RELOAD_NO_PROCESS, "cannot signal process %d from %s: %s",
				   (int)pid, x->path, strerror(-r));
	else if (sigabbrev_np(sig))
		reload_op_complete(op, RELOAD_OK, "sent SIG%s to process %d", sigabbrev_np(sig),
				   (int)pid);
	else
		reload_op_complete(op, RELOAD_OK, "sent signal %d to process %d", sig, (int)pid);
}

int reload_signal_start(sd_event *event, const struct pidfile_expect *x, int sig,
			reload_done_t done, void *userdata, struct reload_op **ret)
{
	struct reload_op *op = NULL;
	int r;

	if (!event || !x || !x->path || sig <= 0 || sig >= _NSIG || !done || !ret)
		return -EINVAL;
	r = reload_op_new(event, sizeof(*op), done, userdata, &op);
	if (r < 0)
		return r;
	signal_send(op, x, sig);
	*ret = op;
	return 0;
}

int reload_signal_method_start(struct reload_env *env, const struct conf_service *cs,
			       reload_done_t done, void *userdata, struct reload_op **ret)
{
	const struct pidfile_expect x = {
		.path = cs->pid_file,
		.owner = cs->pid_file_owner,
		.program = cs->pid_program,
	};

	return reload_signal_start(env->event, &x, cs->reload_signal, done, userdata, ret);
}
