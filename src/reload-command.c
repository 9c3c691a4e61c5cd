/*
 * reload-command.c - the command reload method, and the runner of a
 * service's reload-check: argv[0] run without a shell, with a clean
 * environment, stdin from /dev/null (or a method's input), stdout and
 * stderr captured together and bounded, every other descriptor closed, in
 * a session and process group of its own and in a cgroup of its own where one can be made
 * (reload-tree.h); after the timeout every process it started gets
 * SIGTERM, then SIGKILL, and the result says only what was seen to die.
 *
 * Done comes when the command itself exits: its exit is the end of the
 * reload.  A restart-style command leaves the restarted server running,
 * often holding the command's output: the server lives, is named in the
 * result, and what it writes to that output is read and dropped until it
 * closes it, so that it never blocks on a full pipe or dies of SIGPIPE.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "fdlimit.h"
#include "reload-op.h"
#include "reload-tree.h"
#include "util.h"

#define KILL_GRACE_USEC    (3 * USEC_PER_SEC)  /* SIGTERM to SIGKILL */
#define SETTLE_STEP_USEC   (50 * USEC_PER_MSEC) /* after SIGKILL, looking for the tree's end */
#define SETTLE_STEPS       20
#define DRAIN_READS_MAX    64         /* reads of 4 KiB at the command's exit */
#define CLOSE_FALLBACK_MAX (1 << 20)  /* descriptors closed one by one without close_range() */

struct command_op {
	struct reload_op op;        /* first: the common part */
	char *path;
	pid_t pid;                  /* also the process group and the session */
	int out_fd;
	struct reload_tree *tree;
	sd_event_source *child, *io;
	bool exited, eof, term_sent, kill_sent, settled;
	unsigned settle_steps;
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
static void command_child(char *const argv[], int null_fd, int out_fd, int err_fd, int join_fd,
			  int max_fd)
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
	/* Into the command's cgroup before anything can fork; the parent checks it took. */
	if (join_fd >= 0)
		(void)!write(join_fd, "0", 1);

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
	/* The limit certwatch was started with: a program using select() expects it. */
	fdlimit_restore();

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
		command_child(argv, null_fd, out[1], err[1], reload_tree_join_fd(c->tree), max_fd);

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
	reload_tree_attach(c->tree, pid);
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

/*
 * One read of the output: kept up to the bound, counted beyond it.
 * Returns what read() did: > 0 bytes, 0 at the end (c->eof), < 0 for
 * nothing now.
 */
static ssize_t read_output(struct command_op *c)
{
	char buf[4096];
	ssize_t n = read(c->out_fd, buf, sizeof buf);
	size_t keep;

	if (n < 0 && errno != EAGAIN && errno != EINTR)
		n = 0;   /* a broken pipe is its end */
	if (n == 0)
		c->eof = true;
	if (n <= 0)
		return n;
	keep = sizeof c->out - c->out_len;
	if (keep > (size_t)n)
		keep = (size_t)n;
	memcpy(c->out + c->out_len, buf, keep);
	c->out_len += keep;
	c->out_dropped += (size_t)n - keep;
	return n;
}

/* After a timeout: what the kill did, as far as it can be seen. */
static void complete_killed(struct command_op *c, const char *timeout)
{
	char left[512];

	reload_tree_describe(c->tree, left, sizeof(left));
	if (left[0])
		reload_op_complete(&c->op, RELOAD_TIMEOUT, "did not finish within %s; killed, but "
				   "still running: %s", timeout, left);
	else if (reload_tree_unconfined(c->tree)[0])
		reload_op_complete(&c->op, RELOAD_TIMEOUT, "did not finish within %s; killed, with "
				   "its session (processes that left it cannot be seen: %s)", timeout,
				   reload_tree_unconfined(c->tree));
	else
		reload_op_complete(&c->op, RELOAD_TIMEOUT, "did not finish within %s; killed, with "
				   "every process it started", timeout);
}

/* The command exited by itself: its status, and what it left running. */
static void complete_exited(struct command_op *c)
{
	char left[512], tail[560] = "";
	int code = c->si.si_status;

	reload_tree_describe(c->tree, left, sizeof(left));
	if (left[0])
		snprintf(tail, sizeof(tail), "; left running: %s", left);
	if (c->si.si_code != CLD_EXITED)
		reload_op_complete(&c->op, RELOAD_EXIT_FAILURE, "was killed by signal %d (%s)%s",
				   code, strsignal(code), tail);
	else if (code != 0)
		reload_op_complete(&c->op, RELOAD_EXIT_FAILURE, "exited with status %d%s", code, tail);
	else
		reload_op_complete(&c->op, RELOAD_OK, "exited with status 0%s", tail);
}

static int on_drain(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf);

	(void)revents;
	(void)userdata;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		(void)sd_event_source_set_floating(s, false);   /* the last writer is gone: free it */
	return 0;
}

/*
 * The command's output is what it wrote before it exited; what the
 * processes it left write is read and dropped by a source of the loop's
 * own until they close it.
 */
static void hand_over_output(struct command_op *c)
{
	sd_event_source *drain = NULL;

	c->io = sd_event_source_disable_unref(c->io);
	/* What the command wrote is in the pipe by its exit; a bound keeps a flood out. */
	for (int i = 0; i < DRAIN_READS_MAX && !c->eof && read_output(c) > 0; i++)
		;
	if (c->eof || sd_event_add_io(c->op.event, &drain, c->out_fd, EPOLLIN, on_drain, NULL) < 0)
		return;   /* closed with the operation */
	(void)sd_event_source_set_io_fd_own(drain, true);
	(void)sd_event_source_set_floating(drain, true);
	sd_event_source_unref(drain);
	c->out_fd = -1;
}

/*
 * Done when the command has exited by itself, or after a timeout once
 * SIGKILL went out and the tree is gone (or has had its chance to go).
 */
static void command_maybe_complete(struct command_op *c)
{
	char timeout[32];
	int code = c->si.si_status;

	if (c->op.completing || !c->exited)
		return;
	if (c->term_sent && !reload_tree_empty(c->tree) && !c->settled)
		return;
	hand_over_output(c);
	command_render_output(c);
	c->op.result.exit_status = c->si.si_code == CLD_EXITED ? code : 128 + code;
	format_duration(c->op.timeout_usec, timeout, sizeof timeout);
	if (c->term_sent)
		complete_killed(c, timeout);
	else
		complete_exited(c);
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

	(void)revents;
	(void)fd;
	/* One read per wakeup: a chatty command cannot starve the loop. */
	if (read_output(c) == 0) {
		(void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
		command_maybe_complete(c);
	}
	return 0;
}

static int on_command_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct command_op *c = userdata;
	uint64_t next = SETTLE_STEP_USEC;

	(void)usec;
	if (!c->term_sent) {
		c->term_sent = true;
		reload_tree_signal(c->tree, SIGTERM);
		reload_tree_signal(c->tree, SIGCONT);   /* a stopped process would never see SIGTERM */
		next = KILL_GRACE_USEC;
	} else if (!c->kill_sent) {
		c->kill_sent = true;
		reload_tree_signal(c->tree, SIGKILL);
	} else if (++c->settle_steps >= SETTLE_STEPS || reload_tree_empty(c->tree)) {
		c->settled = true;
	}
	command_maybe_complete(c);
	if (!c->op.completing && !c->settled &&
	    sd_event_source_set_time_relative(s, next) >= 0)
		(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* A cancel kills what still runs; sd-event kills and reaps an owned child when its source goes. */
static void command_cancel(struct reload_op *op)
{
	struct command_op *c = (struct command_op *)op;

	if (c->pid > 0 && !c->exited) {
		reload_tree_signal(c->tree, SIGKILL);
		(void)sd_event_source_set_child_process_own(c->child, true);
	}
}

static void command_destroy(struct reload_op *op)
{
	struct command_op *c = (struct command_op *)op;

	sd_event_source_unref(c->io);
	sd_event_source_unref(c->child);
	if (c->out_fd >= 0)
		close(c->out_fd);
	reload_tree_free(c->tree);
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
	r = c->path ? reload_tree_new(&c->tree) : -ENOMEM;
	if (r < 0)
		goto fail;

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
		reload_tree_signal(c->tree, SIGKILL);
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

bool reload_commands_confined(char *why, size_t len)
{
	return reload_tree_supported(why, len);
}
