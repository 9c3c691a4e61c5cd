/*
 * reload.c - the reload methods of reload.h: a command run with its
 * argument vector, a systemd unit reloaded over D-Bus, a signal to the
 * process in a pid file.
 *
 * Every operation owns its event sources and ends through one defer
 * source: op_complete() records the result (the first call wins) and the
 * defer calls done from the loop, never from a start function or from
 * inside an sd-bus callback whose slot is about to go away.  The operation
 * frees itself right after done returns, so the caller's pointer is
 * invalid from the moment done is called; reload_op_cancel() is only for
 * operations whose done has not been called yet.
 *
 * start functions return a negative errno only when they cannot arrange
 * for done to be called (bad arguments, no memory, the event loop refuses
 * a source); a command that cannot be started, a bus that cannot be
 * written to, a missing pid file all end in done with their status.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "reload.h"
#include "util.h"

#define KILL_GRACE_USEC   (3 * USEC_PER_SEC)  /* SIGTERM to SIGKILL */
#define TIMER_ACCURACY    (10 * USEC_PER_MSEC)
#define EARLY_JOBS_MAX    8    /* JobRemoved signals kept while ReloadUnit's reply is on its way */
#define PID_FILE_MAX      32   /* bytes read from a pid file: a pid and a newline fit easily */
#define CLOSE_FALLBACK_MAX (1 << 20)  /* descriptors closed one by one without close_range() */

#define SYSTEMD_DEST      "org.freedesktop.systemd1"
#define SYSTEMD_PATH      "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER   "org.freedesktop.systemd1.Manager"

static const char *const status_names[_RELOAD_STATUS_MAX] = {
	[RELOAD_OK]           = "ok",
	[RELOAD_EXIT_FAILURE] = "exit-failure",
	[RELOAD_TIMEOUT]      = "timeout",
	[RELOAD_SPAWN_FAILED] = "spawn-failed",
	[RELOAD_BUS_ERROR]    = "bus-error",
	[RELOAD_JOB_FAILED]   = "job-failed",
	[RELOAD_NO_PROCESS]   = "no-process",
};

struct early_job {
	char *job;
	char *result;
};

struct reload_op {
	sd_event *event;
	reload_done_t done;
	void *userdata;
	struct reload_result result;
	uint64_t started;
	uint64_t timeout_usec;
	bool completing;
	sd_event_source *finish;    /* defer: calls done, then frees the op */
	sd_event_source *timer;

	/* a command */
	char *path;
	pid_t pid;                  /* also the process group */
	int out_fd;
	sd_event_source *child, *io;
	bool exited, eof, exited_in_time, term_sent, kill_sent;
	siginfo_t si;
	char out[RELOAD_MAX_OUTPUT];
	size_t out_len;
	uint64_t out_dropped;

	/* a unit */
	sd_bus *bus;
	char *unit, *job;
	sd_bus_slot *match, *call;
	struct early_job early[EARLY_JOBS_MAX];
	size_t n_early;
};

const char *reload_status_to_string(enum reload_status s)
{
	if ((unsigned)s >= _RELOAD_STATUS_MAX)
		return NULL;
	return status_names[s];
}

static void early_jobs_clear(struct reload_op *op)
{
	for (size_t i = 0; i < op->n_early; i++) {
		free(op->early[i].job);
		free(op->early[i].result);
	}
	op->n_early = 0;
}

static void op_free(struct reload_op *op)
{
	if (!op)
		return;
	sd_event_source_unref(op->finish);
	sd_event_source_unref(op->timer);
	sd_event_source_unref(op->io);
	sd_event_source_unref(op->child);
	if (op->out_fd >= 0)
		close(op->out_fd);
	free(op->path);
	sd_bus_slot_unref(op->match);
	sd_bus_slot_unref(op->call);
	sd_bus_unref(op->bus);
	free(op->unit);
	free(op->job);
	early_jobs_clear(op);
	sd_event_unref(op->event);
	free(op);
}

static int on_finish(sd_event_source *s, void *userdata)
{
	struct reload_op *op = userdata;

	(void)s;
	op->done(&op->result, op->userdata);
	op_free(op);
	return 0;
}

/* Records the result and schedules done; later calls are ignored. */
__attribute__((format(printf, 3, 4)))
static void op_complete(struct reload_op *op, enum reload_status status, const char *fmt, ...)
{
	va_list ap;

	if (op->completing)
		return;
	op->completing = true;
	op->result.status = status;
	va_start(ap, fmt);
	vsnprintf(op->result.detail, sizeof op->result.detail, fmt, ap);
	va_end(ap);
	op->result.usec = now_monotonic_usec() - op->started;
	if (op->timer)
		(void)sd_event_source_set_enabled(op->timer, SD_EVENT_OFF);
	if (op->io)
		(void)sd_event_source_set_enabled(op->io, SD_EVENT_OFF);
	/* Enabling a defer source cannot fail once it exists. */
	(void)sd_event_source_set_enabled(op->finish, SD_EVENT_ONESHOT);
}

static int op_new(sd_event *event, reload_done_t done, void *userdata, struct reload_op **ret)
{
	struct reload_op *op;
	int r;

	op = calloc(1, sizeof *op);
	if (!op)
		return -ENOMEM;
	op->event = sd_event_ref(event);
	op->done = done;
	op->userdata = userdata;
	op->out_fd = -1;
	op->started = now_monotonic_usec();
	r = sd_event_add_defer(event, &op->finish, on_finish, op);
	if (r < 0)
		goto fail;
	r = sd_event_source_set_enabled(op->finish, SD_EVENT_OFF);
	if (r < 0)
		goto fail;
	*ret = op;
	return 0;
fail:
	op_free(op);
	return r;
}

static int op_add_timer(struct reload_op *op, sd_event_time_handler_t handler)
{
	return sd_event_add_time_relative(op->event, &op->timer, CLOCK_MONOTONIC, op->timeout_usec,
					  TIMER_ACCURACY, handler, op);
}

void reload_op_cancel(struct reload_op *op)
{
	if (!op)
		return;
	if (op->pid > 0 && !op->exited) {
		(void)kill(-op->pid, SIGKILL);
		/* sd-event kills and reaps an owned child when its source goes. */
		(void)sd_event_source_set_child_process_own(op->child, true);
	} else if (op->pid > 0 && !op->eof) {
		(void)kill(-op->pid, SIGKILL);   /* what it left behind holds the output */
	}
	op_free(op);
}

/* ---- a command ---------------------------------------------------------- */

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
 * Forks and execs argv; returns 0 with op->pid and op->out_fd set once the
 * exec has happened, or the negative errno of whatever failed, the exec
 * included (then the child is already reaped).
 */
static int command_spawn(struct reload_op *op, char *const argv[])
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
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
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
	op->pid = pid;
	op->out_fd = out[0];
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
static void command_render_output(struct reload_op *op)
{
	static const char widest_note[] = "... (18446744073709551615 more bytes)";
	char *dst = op->result.output;
	size_t room = sizeof op->result.output - 1, width = 0, shown = 0, total_width = 0;

	for (size_t i = 0; i < op->out_len; i++)
		total_width += escaped_width((unsigned char)op->out[i]);
	if (op->out_dropped == 0 && total_width <= room) {
		escape_bytes(op->out, op->out_len, dst, room + 1);
		return;
	}
	room -= sizeof widest_note - 1;
	while (shown < op->out_len) {
		size_t w = escaped_width((unsigned char)op->out[shown]);

		if (width + w > room)
			break;
		width += w;
		shown++;
	}
	escape_bytes(op->out, shown, dst, width + 1);
	snprintf(dst + width, sizeof op->result.output - width, "... (%" PRIu64 " more bytes)",
		 (uint64_t)(op->out_len - shown) + op->out_dropped);
}

/* Done once the child is reaped and its output closed, or once SIGKILL went out. */
static void command_maybe_complete(struct reload_op *op)
{
	char timeout[32];
	int code = op->si.si_status;

	if (op->completing || !op->exited || (!op->eof && !op->kill_sent))
		return;

	command_render_output(op);
	op->result.exit_status = op->si.si_code == CLD_EXITED ? code : 128 + code;
	format_duration(op->timeout_usec, timeout, sizeof timeout);

	if (op->term_sent && op->exited_in_time)
		op_complete(op, RELOAD_TIMEOUT,
			    "exited with status %d, but processes it left behind kept its output open for %s; killed",
			    code, timeout);
	else if (op->term_sent)
		op_complete(op, RELOAD_TIMEOUT, "did not finish within %s; killed", timeout);
	else if (op->si.si_code != CLD_EXITED)
		op_complete(op, RELOAD_EXIT_FAILURE, "was killed by signal %d (%s)", code, strsignal(code));
	else if (code != 0)
		op_complete(op, RELOAD_EXIT_FAILURE, "exited with status %d", code);
	else
		op_complete(op, RELOAD_OK, "exited with status 0");
}

static int on_command_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct reload_op *op = userdata;

	(void)s;
	op->si = *si;
	op->exited = true;
	command_maybe_complete(op);
	return 0;
}

static int on_command_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct reload_op *op = userdata;
	char buf[4096];
	size_t keep;
	ssize_t n;

	(void)revents;
	/* One read per wakeup: a chatty command cannot starve the loop. */
	n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		op->eof = true;
		(void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
		command_maybe_complete(op);
		return 0;
	}
	keep = sizeof op->out - op->out_len;
	if (keep > (size_t)n)
		keep = (size_t)n;
	memcpy(op->out + op->out_len, buf, keep);
	op->out_len += keep;
	op->out_dropped += (size_t)n - keep;
	return 0;
}

static int on_command_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct reload_op *op = userdata;

	(void)usec;
	if (!op->term_sent) {
		op->term_sent = true;
		op->exited_in_time = op->exited;
		(void)kill(-op->pid, SIGTERM);
		(void)kill(-op->pid, SIGCONT);   /* a stopped process would never see SIGTERM */
		if (sd_event_source_set_time_relative(s, KILL_GRACE_USEC) >= 0 &&
		    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) >= 0)
			return 0;
	}
	op->kill_sent = true;
	(void)kill(-op->pid, SIGKILL);
	command_maybe_complete(op);
	return 0;
}

int reload_command_start(sd_event *event, char *const argv[], uint64_t timeout_usec,
			 reload_done_t done, void *userdata, struct reload_op **ret)
{
	struct reload_op *op = NULL;
	int r;

	if (!event || !argv || !argv[0] || argv[0][0] != '/' || !done || !ret)
		return -EINVAL;
	r = op_new(event, done, userdata, &op);
	if (r < 0)
		return r;
	op->timeout_usec = timeout_usec;
	op->path = strdup(argv[0]);
	if (!op->path) {
		r = -ENOMEM;
		goto fail;
	}

	r = command_spawn(op, argv);
	if (r < 0) {
		op_complete(op, RELOAD_SPAWN_FAILED, "cannot run %s: %s", op->path, strerror(-r));
		*ret = op;
		return 0;
	}
	r = sd_event_add_child(event, &op->child, op->pid, WEXITED, on_command_child, op);
	if (r < 0) {
		/* Not ours to wait for through the loop: kill and reap it here. */
		(void)kill(-op->pid, SIGKILL);
		while (waitpid(op->pid, NULL, 0) < 0 && errno == EINTR)
			;
		op->pid = 0;
		goto fail;
	}
	r = sd_event_add_io(event, &op->io, op->out_fd, EPOLLIN, on_command_output, op);
	if (r < 0)
		goto fail_cancel;
	r = op_add_timer(op, on_command_timer);
	if (r < 0)
		goto fail_cancel;
	*ret = op;
	return 0;
fail_cancel:
	reload_op_cancel(op);
	return r;
fail:
	op_free(op);
	return r;
}

/* ---- a systemd unit ----------------------------------------------------- */

static void unit_job_ended(struct reload_op *op, const char *result)
{
	char esc[64];

	if (strcmp(result, "done") == 0) {
		op_complete(op, RELOAD_OK, "systemd reloaded %s", op->unit);
		return;
	}
	escape_bytes(result, strlen(result), esc, sizeof esc);
	op_complete(op, RELOAD_JOB_FAILED, "systemd's reload job for %s ended with result \"%s\"",
		    op->unit, esc);
}

static void unit_bus_error(struct reload_op *op, const char *what, const sd_bus_error *e)
{
	char name[128], message[256];

	escape_bytes(e->name, strlen(e->name), name, sizeof name);
	escape_bytes(e->message ? e->message : "", e->message ? strlen(e->message) : 0,
		     message, sizeof message);
	op_complete(op, RELOAD_BUS_ERROR, "%s: %s: %s", what, name, message);
}

static int on_match_installed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct reload_op *op = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	(void)ret_error;
	if (e && !op->completing)
		unit_bus_error(op, "cannot watch systemd's jobs", e);
	return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct reload_op *op = userdata;
	const char *job, *unit, *result;
	struct early_job *ej;
	uint32_t id;

	(void)ret_error;
	if (op->completing || sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
		return 0;
	if (op->job) {
		if (strcmp(job, op->job) == 0)
			unit_job_ended(op, result);
		return 0;
	}
	/* The reply with our job's path may still be on its way. */
	if (strcmp(unit, op->unit) != 0)
		return 0;
	if (op->n_early == EARLY_JOBS_MAX) {
		free(op->early[0].job);
		free(op->early[0].result);
		memmove(op->early, op->early + 1, sizeof op->early[0] * (EARLY_JOBS_MAX - 1));
		op->n_early--;
	}
	ej = &op->early[op->n_early];
	ej->job = strdup(job);
	ej->result = strdup(result);
	if (!ej->job || !ej->result) {
		free(ej->job);
		free(ej->result);
		return 0;
	}
	op->n_early++;
	return 0;
}

static int on_reload_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct reload_op *op = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	const char *job;
	char what[160];

	(void)ret_error;
	if (op->completing)
		return 0;
	snprintf(what, sizeof what, "ReloadUnit(%s)", op->unit);
	if (e) {
		unit_bus_error(op, what, e);
		return 0;
	}
	if (sd_bus_message_read(m, "o", &job) < 0) {
		op_complete(op, RELOAD_BUS_ERROR, "%s: the reply holds no job path", what);
		return 0;
	}
	op->job = strdup(job);
	if (!op->job) {
		op_complete(op, RELOAD_BUS_ERROR, "%s: %s", what, strerror(ENOMEM));
		return 0;
	}
	for (size_t i = 0; i < op->n_early; i++)
		if (strcmp(op->early[i].job, op->job) == 0) {
			unit_job_ended(op, op->early[i].result);
			break;
		}
	early_jobs_clear(op);
	return 0;
}

static int on_unit_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct reload_op *op = userdata;
	char timeout[32];

	(void)s;
	(void)usec;
	format_duration(op->timeout_usec, timeout, sizeof timeout);
	if (op->job)
		op_complete(op, RELOAD_TIMEOUT, "systemd's reload job for %s did not finish within %s",
			    op->unit, timeout);
	else
		op_complete(op, RELOAD_TIMEOUT, "systemd did not answer ReloadUnit(%s) within %s",
			    op->unit, timeout);
	return 0;
}

/*
 * The match goes out before the call: the bus daemon handles one
 * connection's messages in order, so no JobRemoved can slip past.
 * Subscribe's reply is not awaited: a second operation on the same
 * connection gets AlreadySubscribed, which is harmless.
 */
static int unit_send(struct reload_op *op)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_match_signal_async(op->bus, &op->match, SYSTEMD_DEST, SYSTEMD_PATH,
				      SYSTEMD_MANAGER, "JobRemoved", on_job_removed,
				      on_match_installed, op);
	if (r < 0)
		goto out;
	r = sd_bus_call_method_async(op->bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
				     "Subscribe", NULL, NULL, "");
	if (r < 0)
		goto out;
	r = sd_bus_message_new_method_call(op->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH,
					   SYSTEMD_MANAGER, "ReloadUnit");
	if (r < 0)
		goto out;
	r = sd_bus_message_append(m, "ss", op->unit, "replace");
	if (r < 0)
		goto out;
	r = sd_bus_call_async(op->bus, &op->call, m, on_reload_reply, op, op->timeout_usec);
out:
	sd_bus_message_unref(m);
	return r;
}

int reload_unit_start(sd_event *event, sd_bus *bus, const char *unit, uint64_t timeout_usec,
		      reload_done_t done, void *userdata, struct reload_op **ret)
{
	struct reload_op *op = NULL;
	int r;

	if (!event || !bus || !unit || !*unit || !done || !ret)
		return -EINVAL;
	r = op_new(event, done, userdata, &op);
	if (r < 0)
		return r;
	op->timeout_usec = timeout_usec;
	op->bus = sd_bus_ref(bus);
	op->unit = strdup(unit);
	if (!op->unit) {
		op_free(op);
		return -ENOMEM;
	}
	r = op_add_timer(op, on_unit_timer);
	if (r < 0) {
		op_free(op);
		return r;
	}
	r = unit_send(op);
	if (r < 0)
		op_complete(op, RELOAD_BUS_ERROR, "cannot ask systemd to reload %s: %s", unit,
			    strerror(-r));
	*ret = op;
	return 0;
}

/* ---- a signal to the process in a pid file ------------------------------ */

/* A decimal pid above 1 without leading zeros, optionally one newline. */
static int parse_pid(const char *s, size_t len, pid_t *ret_pid)
{
	long long v = 0;
	size_t i = 0;

	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len == 0 || s[0] == '0')
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
	char buf[PID_FILE_MAX + 1], esc[PID_FILE_MAX * 4 + 4];
	struct stat st;
	ssize_t n;
	size_t shown;
	pid_t pid;
	int fd;

	/* O_NONBLOCK: a FIFO put in its place must not hang the loop. */
	fd = open(pid_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			op_complete(op, RELOAD_NO_PROCESS, "pid file %s does not exist", pid_file);
		else if (errno == ELOOP)
			op_complete(op, RELOAD_NO_PROCESS, "pid file %s is a symbolic link", pid_file);
		else
			op_complete(op, RELOAD_NO_PROCESS, "cannot open pid file %s: %s", pid_file,
				    strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		op_complete(op, RELOAD_NO_PROCESS, "pid file %s is not a regular file", pid_file);
		goto out;
	}
	do
		n = read(fd, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		op_complete(op, RELOAD_NO_PROCESS, "cannot read pid file %s: %s", pid_file,
			    strerror(errno));
		goto out;
	}
	if ((size_t)n > PID_FILE_MAX || parse_pid(buf, (size_t)n, &pid) < 0) {
		shown = (size_t)n > PID_FILE_MAX ? PID_FILE_MAX : (size_t)n;
		if (shown > 0 && buf[shown - 1] == '\n')
			shown--;
		escape_bytes(buf, shown, esc, sizeof esc);
		op_complete(op, RELOAD_NO_PROCESS, "pid file %s holds \"%s%s\", not a process id",
			    pid_file, esc, (size_t)n > PID_FILE_MAX ? "..." : "");
		goto out;
	}
	if (kill(pid, sig) < 0) {
		if (errno == ESRCH)
			op_complete(op, RELOAD_NO_PROCESS, "process %d from %s does not exist",
				    (int)pid, pid_file);
		else
			op_complete(op, RELOAD_NO_PROCESS, "cannot signal process %d from %s: %s",
				    (int)pid, pid_file, strerror(errno));
		goto out;
	}
	if (sigabbrev_np(sig))
		op_complete(op, RELOAD_OK, "sent SIG%s to process %d", sigabbrev_np(sig), (int)pid);
	else
		op_complete(op, RELOAD_OK, "sent signal %d to process %d", sig, (int)pid);
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
	r = op_new(event, done, userdata, &op);
	if (r < 0)
		return r;
	signal_send(op, pid_file, sig);
	*ret = op;
	return 0;
}
