/*
 * reload-command.c - the command reload method, and the runner of a
 * service's reload-check: argv[0] run without a shell, with a clean
 * environment, stdin from /dev/null (or a method's input), stdout and stderr
 * captured together and bounded, every other descriptor closed, in a
 * session and process group of its own; after the timeout the group gets
 * SIGTERM, then SIGKILL.
 *
 * Done comes once the command has exited and its output is closed: a
 * command that leaves a process holding its output is still running.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "reload-op.h"
#include "util.h"

#define KILL_GRACE_USEC    (3 * USEC_PER_SEC)  /* SIGTERM to SIGKILL */
#define CLOSE_FALLBACK_MAX (1 << 20)  /* descriptors closed one by one without close_range() */

struct command_op {
	struct reload_op op;        /* first: the common part */
	char *path;
	pid_t pid;                  /* also the process group */
	int out_fd;
	sd_event_source *child, *io;
	bool exited, eof, exited_in_time, term_sent, kill_sent;
	siginfo_t si;
	char out[RELOAD_MAX_OUTPUT];
	size_t out_len;
	uint64_t out_dropped;
};

/* Closes every descriptor above 2 but keep; close_range() where the kernel has it. */
static void close_others(int keep, int max_fd)
{
	if ((keep == 3 || close_range(3, (unsigned)keep - 1, 0) == 0) &&
	    close_range((unsigned)keep + 1, ~0U, 0) == 0)
		return;
	for (int fd = 3; fd < max_fd; fd++)
		if (fd != keep)
			(void)close(fd);
}

/*
 * Between fork and exec: only async-signal-safe calls.  Any failure is
 * reported as an errno on err_fd, which exec closes on success.
 */
__attribute__((noreturn))
static void command_child(char *const argv[], int null_fd, int out_fd, int err_fd, int max_fd)
{
	static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char *envp[] = { path_env, NULL };
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;
	int null_hi, out_hi, err_hi, e;

	/* Ignored signals survive exec; handled ones and the mask are ours to reset. */
	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || setsid() < 0)
		goto fail;

	/* Above 2 first, so that dup2() onto 0-2 cannot clobber one of them. */
	err_hi = fcntl(err_fd, F_DUPFD_CLOEXEC, 3);
	if (err_hi >= 0)
		err_fd = err_hi;
	null_hi = fcntl(null_fd, F_DUPFD_CLOEXEC, 3);
	out_hi = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
	if (err_hi < 0 || null_hi < 0 || out_hi < 0)
		goto fail;
	if (dup2(null_hi, 0) < 0 || dup2(out_hi, 1) < 0 || dup2(out_hi, 2) < 0)
		goto fail;
	/* err_fd stays until exec, which closes it (CLOEXEC). */
	close_others(err_fd, max_fd);

	execve(argv[0], argv, envp);
fail:
	e = errno;
	(void)!write(err_fd, &e, sizeof e);
	_exit(127);
}

static int max_open_fds(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > CLOSE_FALLBACK_MAX)
		return CLOSE_FALLBACK_MAX;
	return (int)rl.rlim_cur;
}

/*
 * Forks and execs argv; returns 0 with c->pid and c->out_fd set once the
 * exec has happened, or the negative errno of whatever failed, the exec
 * included (then the child is already reaped).
 */
static int command_spawn(struct command_op *c, char *const argv[], int input_fd)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, null_fd = -1, max_fd, e = 0, r;
	ssize_t n;
	pid_t pid;

	/* Not O_NONBLOCK on the write end: the command gets an ordinary stdout. */
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		goto out;
	}
	null_fd = input_fd >= 0 ? fcntl(input_fd, F_DUPFD_CLOEXEC, 3) :
		  open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (null_fd < 0) {
		r = -errno;
		goto out;
	}
	max_fd = max_open_fds();

	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		command_child(argv, null_fd, out[1], err[1], max_fd);

	close(err[1]);
	err[1] = -1;
	do
		n = read(err[0], &e, sizeof e);
	while (n < 0 && errno == EINTR);
	if (n == sizeof e) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		r = e > 0 ? -e : -EIO;
		goto out;
	}
	c->pid = pid;
	c->out_fd = out[0];
	out[0] = -1;
	r = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (null_fd >= 0)
		close(null_fd);
	return r;
}

/* Width of one byte as escape_bytes() renders it. */
static size_t escaped_width(unsigned char c)
{
	char tmp[8];

	escape_bytes(&c, 1, tmp, sizeof tmp);
	return strlen(tmp);
}

/* The kept output, escaped; when cut, "... (N more bytes)" says how much is missing. */
static void command_render_output(struct command_op *c)
{
	static const char widest_note[] = "... (18446744073709551615 more bytes)";
	char *dst = c->op.result.output;
	size_t room = sizeof c->op.result.output - 1, width = 0, shown = 0, total_width = 0;

	memcpy(c->op.result.raw, c->out, c->out_len);
	c->op.result.raw_len = c->out_len;

	for (size_t i = 0; i < c->out_len; i++)
		total_width += escaped_width((unsigned char)c->out[i]);
	if (c->out_dropped == 0 && total_width <= room) {
		escape_bytes(c->out, c->out_len, dst, room + 1);
		return;
	}
	room -= sizeof widest_note - 1;
	while (shown < c->out_len) {
		size_t w = escaped_width((unsigned char)c->out[shown]);

		if (width + w > room)
			break;
		width += w;
		shown++;
	}
	escape_bytes(c->out, shown, dst, width + 1);
	snprintf(dst + width, sizeof c->op.result.output - width, "... (%" PRIu64 " more bytes)",
		 (uint64_t)(c->out_len - shown) + c->out_dropped);
}

/* Done once the child is reaped and its output closed, or once SIGKILL went out. */
static void command_maybe_complete(struct command_op *c)
{
	char timeout[32];
	int code = c->si.si_status;

	if (c->op.completing || !c->exited || (!c->eof && !c->kill_sent))
		return;
	if (c->io)
		(void)sd_event_source_set_enabled(c->io, SD_EVENT_OFF);

	command_render_output(c);
	c->op.result.exit_status = c->si.si_code == CLD_EXITED ? code : 128 + code;
	format_duration(c->op.timeout_usec, timeout, sizeof timeout);

	if (c->term_sent && c->exited_in_time)
		reload_op_complete(&c->op, RELOAD_TIMEOUT,
			    "exited with status %d, but processes it left behind kept its output open for %s; killed",
			    code, timeout);
	else if (c->term_sent)
		reload_op_complete(&c->op, RELOAD_TIMEOUT, "did not finish within %s; killed", timeout);
	else if (c->si.si_code != CLD_EXITED)
		reload_op_complete(&c->op, RELOAD_EXIT_FAILURE, "was killed by signal %d (%s)", code, strsignal(code));
	else if (code != 0)
		reload_op_complete(&c->op, RELOAD_EXIT_FAILURE, "exited with status %d", code);
	else
		reload_op_complete(&c->op, RELOAD_OK, "exited with status 0");
}

static int on_command_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct command_op *c = userdata;

	(void)s;
	c->si = *si;
	c->exited = true;
	command_maybe_complete(c);
	return 0;
}

static int on_command_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct command_op *c = userdata;
	char buf[4096];
	size_t keep;
	ssize_t n;

	(void)revents;
	/* One read per wakeup: a chatty command cannot starve the loop. */
	n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		c->eof = true;
		(void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
		command_maybe_complete(c);
		return 0;
	}
	keep = sizeof c->out - c->out_len;
	if (keep > (size_t)n)
		keep = (size_t)n;
	memcpy(c->out + c->out_len, buf, keep);
	c->out_len += keep;
	c->out_dropped += (size_t)n - keep;
	return 0;
}

static int on_command_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct command_op *c = userdata;

	(void)usec;
	if (!c->term_sent) {
		c->term_sent = true;
		c->exited_in_time = c->exited;
		(void)kill(-c->pid, SIGTERM);
		(void)kill(-c->pid, SIGCONT);   /* a stopped process would never see SIGTERM */
		if (sd_event_source_set_time_relative(s, KILL_GRACE_USEC) >= 0 &&
		    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) >= 0)
			return 0;
	}
	c->kill_sent = true;
	(void)kill(-c->pid, SIGKILL);
	command_maybe_complete(c);
	return 0;
}

/* A cancel kills what still runs; sd-event kills and reaps an owned child when its source goes. */
static void command_cancel(struct reload_op *op)
{
	struct command_op *c = (struct command_op *)op;

	if (c->pid > 0 && !c->exited) {
		(void)kill(-c->pid, SIGKILL);
		(void)sd_event_source_set_child_process_own(c->child, true);
	} else if (c->pid > 0 && !c->eof) {
		(void)kill(-c->pid, SIGKILL);   /* what it left behind holds the output */
	}
}

static void command_destroy(struct reload_op *op)
{
	struct command_op *c = (struct command_op *)op;

	sd_event_source_unref(c->io);
	sd_event_source_unref(c->child);
	if (c->out_fd >= 0)
		close(c->out_fd);
	free(c->path);
}

int reload_command_start(sd_event *event, char *const argv[], uint64_t timeout_usec,
			 reload_done_t done, void *userdata, struct reload_op **ret)
{
	return reload_command_start_input(event, argv, -1, timeout_usec, done, userdata, ret);
}

int reload_command_start_input(sd_event *event, char *const argv[], int input_fd,
			       uint64_t timeout_usec, reload_done_t done, void *userdata,
			       struct reload_op **ret)
{
	struct reload_op *op = NULL;
	struct command_op *c;
	int r;

	if (!event || !argv || !argv[0] || argv[0][0] != '/' || !done || !ret)
		return -EINVAL;
	r = reload_op_new(event, sizeof(*c), done, userdata, &op);
	if (r < 0)
		return r;
	c = (struct command_op *)op;
	c->out_fd = -1;
	op->cancel = command_cancel;
	op->destroy = command_destroy;
	op->timeout_usec = timeout_usec;
	c->path = strdup(argv[0]);
	if (!c->path) {
		r = -ENOMEM;
		goto fail;
	}

	r = command_spawn(c, argv, input_fd);
	if (r < 0) {
		reload_op_complete(op, RELOAD_SPAWN_FAILED, "cannot run %s: %s", c->path,
				   strerror(-r));
		*ret = op;
		return 0;
	}
	r = sd_event_add_child(event, &c->child, c->pid, WEXITED, on_command_child, c);
	if (r < 0) {
		/* Not ours to wait for through the loop: kill and reap it here. */
		(void)kill(-c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
		goto fail;
	}
	r = sd_event_add_io(event, &c->io, c->out_fd, EPOLLIN, on_command_output, c);
	if (r < 0)
		goto fail_cancel;
	r = reload_op_add_timer(op, on_command_timer);
	if (r < 0)
		goto fail_cancel;
	*ret = op;
	return 0;
fail_cancel:
	reload_op_cancel(op);
	return r;
fail:
	reload_op_free(op);
	return r;
}

int reload_command_method_start(struct reload_env *env, const struct conf_service *cs,
				reload_done_t done, void *userdata, struct reload_op **ret)
{
	return reload_command_start(env->event, cs->reload_command, cs->reload_timeout_usec, done,
				    userdata, ret);
}
