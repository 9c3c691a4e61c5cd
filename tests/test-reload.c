/*
 * test-reload.c - the reload methods against real processes: commands
 * (exit codes, captured output, clean environment and descriptors,
 * timeouts, process-group kills, cancel), signals through pid files, and
 * systemd units through tests/fake-systemd on a private dbus-daemon (those
 * are skipped when dbus-daemon is not installed).
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "pidfile.h"
#include "reload.h"
#include "reload-tree.h"
#include "trust.h"
#include "util.h"
#include "tap.h"

#define MSEC(x) ((uint64_t)(x) * USEC_PER_MSEC)
#define SEC(x)  ((uint64_t)(x) * USEC_PER_SEC)

struct capture {
	int calls;
	struct reload_result r;
};

static char tmpdir[] = "/tmp/test-reload.XXXXXX";
static sd_event *event;

static void on_done(const struct reload_result *r, void *userdata)
{
	struct capture *c = userdata;

	c->calls++;
	c->r = *r;
}

static void skip(const char *why)
{
	tap_n++;
	printf("ok %d # SKIP %s\n", tap_n, why);
	fflush(stdout);
}

/* Runs the loop until done or limit, then a little more so that a second done would show. */
static uint64_t run_until_done(struct capture *c, uint64_t limit)
{
	uint64_t start = now_monotonic_usec(), end = start + limit, took;

	while (c->calls == 0 && now_monotonic_usec() < end)
		sd_event_run(event, MSEC(50));
	took = now_monotonic_usec() - start;
	end = now_monotonic_usec() + MSEC(100);
	while (now_monotonic_usec() < end)
		sd_event_run(event, MSEC(20));
	return took;
}

static void run_for(uint64_t usec)
{
	uint64_t end = now_monotonic_usec() + usec;

	while (now_monotonic_usec() < end)
		sd_event_run(event, MSEC(20));
}

/* Runs a command to its end; *ret_took is how long the loop ran for it. */
static void run_command(char *const argv[], uint64_t timeout, struct capture *c, uint64_t *ret_took)
{
	struct reload_op *op = NULL;
	uint64_t took;
	int r;

	memset(c, 0, sizeof *c);
	r = reload_command_start(event, argv, timeout, on_done, c, &op);
	if (r < 0 || c->calls != 0) {
		ok(0, "reload_command_start(%s) returned %d with %d calls of done", argv[0], r, c->calls);
		return;
	}
	took = run_until_done(c, timeout + SEC(10));
	if (c->calls != 1)
		ok(0, "%s: done called %d times, not once", argv[0], c->calls);
	if (ret_took)
		*ret_took = took;
}

static void path_in_tmp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(content, f) < 0 || fclose(f) != 0)
		ok(0, "cannot write %s: %s", path, strerror(errno));
}

/* ---- commands --------------------------------------------------------- */

static void test_exit_codes(void)
{
	char *truth[] = { "/bin/true", NULL };
	char *falsity[] = { "/bin/false", NULL };
	char *suicide[] = { "/bin/sh", "-c", "kill -9 $$", NULL };
	struct capture c;

	run_command(truth, SEC(5), &c, NULL);
	ok(c.calls == 1 && c.r.status == RELOAD_OK && c.r.exit_status == 0 &&
	   strcmp(c.r.output, "") == 0, "a command exiting 0 is ok, with empty output");
	is_str(c.r.detail, "exited with status 0", "and says it exited with status 0");

	run_command(falsity, SEC(5), &c, NULL);
	ok(c.r.status == RELOAD_EXIT_FAILURE && c.r.exit_status == 1,
	   "a command exiting 1 is an exit failure with status 1");
	is_str(c.r.detail, "exited with status 1", "and says so");

	run_command(suicide, SEC(5), &c, NULL);
	ok(c.r.status == RELOAD_EXIT_FAILURE && c.r.exit_status == 128 + 9,
	   "a command killed by SIGKILL is an exit failure with status 137");
	is_str(c.r.detail, "was killed by signal 9 (Killed)", "and names the signal");
}

static void test_output(void)
{
	char *both[] = { "/bin/sh", "-c", "echo out; echo err >&2; printf '\\033['", NULL };
	char *flood[] = { "/bin/sh", "-c", "head -c 10000 /dev/zero | tr '\\0' x", NULL };
	struct capture c;
	size_t xs = 0;
	unsigned long long more = 0;
	const char *note;
	bool cut;

	run_command(both, SEC(5), &c, NULL);
	is_str(c.r.output, "out\\nerr\\n\\x1b[",
	       "stdout and stderr are captured together, escaped");

	run_command(flood, SEC(5), &c, NULL);
	while (c.r.output[xs] == 'x')
		xs++;
	note = c.r.output + xs;
	cut = sscanf(note, "... (%llu more bytes)", &more) == 1;
	ok(c.r.status == RELOAD_OK && strlen(c.r.output) <= RELOAD_MAX_OUTPUT && xs > 1900 &&
	   cut && xs + more == 10000,
	   "10000 bytes of output are cut to RELOAD_MAX_OUTPUT with a note of how many more "
	   "(%zu shown, %llu more)", xs, more);
}

static void test_environment_and_descriptors(void)
{
	char *env[] = { "/usr/bin/env", NULL };
	char *fds[] = { "/bin/ls", "/proc/self/fd", NULL };
	char *stdin_[] = { "/bin/readlink", "/proc/self/fd/0", NULL };
	char *sigs[] = { "/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL };
	char *group[] = { "/bin/sh", "-c",
		"read -r pid comm st ppid pgrp sid rest < /proc/$$/stat; "
		"echo $((pid == pgrp && pid == sid))", NULL };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct capture c;
	int leak, high;

	setenv("CERTWATCH_TEST_SECRET", "swordfish", 1);
	run_command(env, SEC(5), &c, NULL);
	is_str(c.r.output, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\\n",
	       "the command's environment is PATH and nothing else");

	leak = open("/dev/null", O_RDONLY);   /* deliberately without O_CLOEXEC */
	high = dup2(leak, 200);
	run_command(fds, SEC(5), &c, NULL);
	is_str(c.r.output, "0\\n1\\n2\\n3\\n",
	       "only descriptors 0-2 reach the command (3 is ls's own directory)");
	close(leak);
	close(high);

	run_command(stdin_, SEC(5), &c, NULL);
	is_str(c.r.output, "/dev/null\\n", "stdin is /dev/null");

	/* SIGCHLD is blocked in this process; SIGUSR1 ignored for the occasion. */
	sigaction(SIGUSR1, &ign, &old);
	run_command(sigs, SEC(5), &c, NULL);
	sigaction(SIGUSR1, &old, NULL);
	{
		unsigned long long blk = 1, ign_mask = 1;

		/*
		 * Signals 32 and 33 are glibc's own (thread cancellation, setxid):
		 * sigaction() refuses them, so whatever started the test decides.
		 */
		if (sscanf(c.r.output, "SigBlk:\\t%llx\\nSigIgn:\\t%llx", &blk, &ign_mask) != 2)
			blk = ign_mask = 1;
		ok(blk == 0 && (ign_mask & ~0x180000000ULL) == 0,
		   "the command starts with no blocked and no ignored signals (%s)", c.r.output);
	}

	run_command(group, SEC(5), &c, NULL);
	is_str(c.r.output, "1\\n", "the command leads its own session and process group");
}

/* Waits up to a second for an orphan (this process is their subreaper) to die. */
static bool orphan_died(pid_t pid)
{
	for (int i = 0; i < 100; i++) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		usleep(10000);
	}
	return false;
}

static void test_timeouts(void)
{
	char *sleeper[] = { "/bin/sleep", "30", NULL };
	char *stubborn[] = { "/bin/sh", "-c", "trap '' TERM; /bin/sleep 30", NULL };
	struct capture c;
	uint64_t took = 0;

	run_command(sleeper, MSEC(300), &c, &took);
	ok(c.r.status == RELOAD_TIMEOUT && c.r.exit_status == 128 + SIGTERM && took < SEC(1),
	   "a command past its 300ms timeout gets SIGTERM and times out within a second "
	   "(took %" PRIu64 "ms)", took / 1000);
	like(c.r.detail, "did not finish within 300ms; killed, with ", "and says so: %s", c.r.detail);

	run_command(stubborn, MSEC(300), &c, &took);
	ok(c.r.status == RELOAD_TIMEOUT && c.r.exit_status == 128 + SIGKILL &&
	   took >= SEC(3) && took < SEC(5),
	   "a command ignoring SIGTERM gets SIGKILL 3s later (took %" PRIu64 "ms)", took / 1000);
}

/*
 * A process the command moved to a session of its own (setsid) that keeps
 * the output: at the timeout it is killed with the command, and the result
 * claims the kill only when it happened.
 */
static void test_escaped_processes_are_killed(void)
{
	char *escaper[] = { "/bin/sh", "-c",
		"/usr/bin/setsid /bin/sh -c 'echo $$; exec /bin/sleep 30' & /bin/sleep 30", NULL };
	char why[256];
	bool confined = reload_tree_supported(why, sizeof why);
	struct capture c;
	unsigned long escaped = 0;

	if (!confined)
		printf("# no cgroup for commands here: %s\n", why);
	run_command(escaper, MSEC(500), &c, NULL);
	ok(c.r.status == RELOAD_TIMEOUT && sscanf(c.r.output, "%lu", &escaped) == 1 && escaped > 1,
	   "a command whose child left its session (setsid) times out (%s)", c.r.output);
	if (!confined) {
		like(c.r.detail, "processes that left it cannot be seen",
		     "without a cgroup, the result does not claim what it cannot see: %s", c.r.detail);
		kill((pid_t)escaped, SIGKILL);
		return;
	}
	ok(orphan_died((pid_t)escaped), "the process that left the session was killed too");
	is_str(c.r.detail, "did not finish within 500ms; killed, with every process it started",
	       "and the result says so, having seen it");
}

/*
 * A restart-style command: it starts the server anew (which keeps the
 * command's output and writes to it) and exits.  Its exit ends the
 * reload at once, the server lives on, undisturbed, and is named.
 */
static void test_restart_style_command(void)
{
	char *restart[] = { "/bin/sh", "-c", "/usr/bin/setsid /bin/sh -c "
		"'while :; do echo serving; /bin/sleep 0.05; done' & echo $!; exit 0", NULL };
	char *leaver[] = { "/bin/sh", "-c", "/bin/sleep 30 & echo $!", NULL };
	struct capture c;
	uint64_t took = 0;
	unsigned long server = 0;
	char want[64], why[256];

	run_command(restart, SEC(10), &c, &took);
	ok(c.r.status == RELOAD_OK && took < SEC(1),
	   "a restart-style command is done when it exits, not at its timeout (took %" PRIu64
	   "ms)", took / 1000);
	ok(sscanf(c.r.output, "%lu", &server) == 1 && server > 1, "it told its server's pid (%s)",
	   c.r.output);
	snprintf(want, sizeof want, "exited with status 0; left running: %lu (", server);
	if (reload_tree_supported(why, sizeof why))
		like(c.r.detail, want, "the result names the server it left running");
	else
		like(c.r.detail, "exited with status 0", "without a cgroup, a server that left the "
		     "session cannot be named; the result says what it saw: %s", c.r.detail);
	run_for(MSEC(500));
	ok(server > 1 && kill((pid_t)server, 0) == 0 && waitpid((pid_t)server, NULL, WNOHANG) == 0,
	   "the server lives on, writing to the output nobody reads any more");
	if (server > 1)
		kill((pid_t)server, SIGKILL);
	ok(server > 1 && orphan_died((pid_t)server), "(the test stops it)");
	run_for(MSEC(100));

	run_command(leaver, SEC(10), &c, &took);
	ok(c.r.status == RELOAD_OK && took < SEC(1) && sscanf(c.r.output, "%lu", &server) == 1,
	   "a command leaving a process that holds its output is done at its exit (took %"
	   PRIu64 "ms)", took / 1000);
	like(c.r.detail, "left running: ", "and names what it left: %s", c.r.detail);
	ok(kill((pid_t)server, 0) == 0, "which is not killed");
	kill((pid_t)server, SIGKILL);
	orphan_died((pid_t)server);
}

static void test_spawn_failures(void)
{
	char *missing[] = { "/nonexistent/nginx", NULL };
	char *relative[] = { "bin/true", NULL };
	char *plain[] = { NULL, NULL };
	char path[PATH_MAX];
	struct reload_op *op = NULL;
	struct capture c = { 0 };
	int r;

	r = reload_command_start(event, missing, SEC(5), on_done, &c, &op);
	ok(r == 0 && c.calls == 0, "a missing binary still starts an operation, done not yet called");
	run_until_done(&c, SEC(5));
	ok(c.calls == 1 && c.r.status == RELOAD_SPAWN_FAILED, "a missing binary fails to spawn");
	is_str(c.r.detail, "cannot run /nonexistent/nginx: No such file or directory",
	       "and says why with strerror");

	path_in_tmp(path, sizeof path, "not-executable");
	write_file(path, "#!/bin/sh\n");
	plain[0] = path;
	run_command(plain, SEC(5), &c, NULL);
	ok(c.r.status == RELOAD_SPAWN_FAILED && strstr(c.r.detail, "Permission denied"),
	   "a file without execute permission fails to spawn: %s", c.r.detail);

	ok(reload_command_start(event, relative, SEC(5), on_done, &c, &op) == -EINVAL,
	   "a relative argv[0] is refused with -EINVAL");
}

static void test_cancel(void)
{
	char pidfile[PATH_MAX], script[PATH_MAX + 64], buf[32] = "";
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct reload_op *op = NULL;
	struct capture c = { 0 };
	long pid = 0;
	FILE *f;

	path_in_tmp(pidfile, sizeof pidfile, "cancel.pid");
	snprintf(script, sizeof script, "echo $$ > %s; exec /bin/sleep 30", pidfile);
	if (reload_command_start(event, argv, SEC(30), on_done, &c, &op) < 0) {
		ok(0, "reload_command_start for the cancel test");
		return;
	}
	for (int i = 0; i < 100 && pid == 0; i++) {
		run_for(MSEC(20));
		f = fopen(pidfile, "re");
		if (f) {
			if (fgets(buf, sizeof buf, f))
				pid = strtol(buf, NULL, 10);
			fclose(f);
		}
	}
	reload_op_cancel(op);
	ok(pid > 1 && kill((pid_t)pid, 0) < 0 && errno == ESRCH,
	   "cancel kills the command and reaps it at once");
	run_for(MSEC(300));
	ok(c.calls == 0, "after cancel, done is never called");
	reload_op_cancel(NULL);
	ok(1, "cancel accepts NULL");
}

/* ---- signals ---------------------------------------------------------- */

static void run_signal(const char *pid_file, int sig, struct capture *c)
{
	const struct pidfile_expect x = { .path = pid_file, .owner = TRUST_NOBODY };
	struct reload_op *op = NULL;
	int r;

	memset(c, 0, sizeof *c);
	r = reload_signal_start(event, &x, sig, on_done, c, &op);
	if (r < 0 || c->calls != 0) {
		ok(0, "reload_signal_start(%s) returned %d with %d calls of done", pid_file, r, c->calls);
		return;
	}
	run_until_done(c, SEC(2));
	if (c->calls != 1)
		ok(0, "%s: done called %d times, not once", pid_file, c->calls);
}

/* A child that waits up to 10 s for SIGHUP and exits 0 when it came. */
static pid_t fork_hup_waiter(void)
{
	sigset_t hup, old;
	pid_t pid;

	/* Blocked before fork: the child cannot miss the signal. */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, &old);
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { .tv_sec = 10 };

		_exit(sigtimedwait(&hup, NULL, &ts) == SIGHUP ? 0 : 1);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

/* Writes the pid file as a daemon would (content's %d is the pid), signals it, checks it came. */
static void signal_reaches(const char *name, const char *content, const char *desc)
{
	char pidfile[PATH_MAX], text[256], want[64];
	struct capture c;
	pid_t pid = fork_hup_waiter();
	int status = -1;

	path_in_tmp(pidfile, sizeof pidfile, name);
	snprintf(text, sizeof text, content, (int)pid);
	write_file(pidfile, text);
	run_signal(pidfile, SIGHUP, &c);
	snprintf(want, sizeof want, "sent SIGHUP to process %d", (int)pid);
	ok(c.r.status == RELOAD_OK && strcmp(c.r.detail, want) == 0, "%s: \"%s\"", desc,
	   c.r.detail);
	if (c.r.status != RELOAD_OK)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the process received SIGHUP", desc);
}

static void test_signal_reaches_process(void)
{
	signal_reaches("daemon.pid", "%d\n", "a signal to the process in a pid file is ok");
	/* Postfix's master.pid: the pid right-aligned in ten columns. */
	signal_reaches("master.pid", "%10d\n", "a space-padded pid file (Postfix) is read");
	/* PostgreSQL's postmaster.pid: the pid, then the data directory, start, port... */
	signal_reaches("postmaster.pid", "%d\n/var/lib/postgresql/15/main\n1700000000\n5432\n"
		       "/var/run/postgresql\n*\n  5432001         0\nready   \n",
		       "a pid file with more lines after the pid (PostgreSQL) is read");
	signal_reaches("bare.pid", "\t%d", "a pid without a newline, after a tab, is read");
}

static void test_signal_failures(void)
{
	static const struct {
		const char *content;
		const char *shown;
	} bad[] = {
		{ "abc", "abc" },
		{ "abc\n", "abc" },
		{ "", "" },
		{ "\n", "" },
		{ "  \n12\n", "  " },
		{ "0\n", "0" },
		{ "1\n", "1" },
		{ "-5\n", "-5" },
		{ "0123\n", "0123" },
		{ "12x\n", "12x" },
		{ "12 34\n", "12 34" },
		{ "\n12\n", "" },
		{ "2147483648\n", "2147483648" },
		{ "1\x1b[2J\n", "1\\x1b[2J" },
		{ "                                                                  12\n",
		  "                                                                ..." },
	};
	char path[PATH_MAX], link[PATH_MAX], want[PATH_MAX + 256], content[32];
	struct capture c;
	pid_t pid;

	path_in_tmp(path, sizeof path, "missing.pid");
	run_signal(path, SIGHUP, &c);
	snprintf(want, sizeof want, "pid file %s does not exist; check that the service runs and "
		 "that pid-file names the file it writes", path);
	ok(c.r.status == RELOAD_NO_PROCESS, "a missing pid file is no process");
	is_str(c.r.detail, want, "and says the file does not exist");

	path_in_tmp(path, sizeof path, "garbage.pid");
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		write_file(path, bad[i].content);
		run_signal(path, SIGHUP, &c);
		snprintf(want, sizeof want, "pid file %s holds \"%s\", not a process id on its "
			 "first line", path, bad[i].shown);
		ok(c.r.status == RELOAD_NO_PROCESS && strcmp(c.r.detail, want) == 0,
		   "a pid file holding \"%s\" is refused with its escaped first line", bad[i].shown);
		if (strcmp(c.r.detail, want) != 0)
			printf("#   got:  '%s'\n#   want: '%s'\n", c.r.detail, want);
	}

	pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	snprintf(content, sizeof content, "%d\n", (int)pid);
	write_file(path, content);
	run_signal(path, SIGHUP, &c);
	snprintf(want, sizeof want, "process %d from %s does not exist", (int)pid, path);
	ok(c.r.status == RELOAD_NO_PROCESS, "a pid file naming a dead process is no process");
	is_str(c.r.detail, want, "and says the process does not exist");

	snprintf(content, sizeof content, "%d\n", (int)getpid());
	write_file(path, content);
	run_signal(path, SIGHUP, &c);
	snprintf(want, sizeof want, "names process %d, certwatch itself, which certwatch never "
		 "signals", (int)getpid());
	like(c.r.detail, want, "a pid file naming certwatch itself is refused");

	/* What an unprivileged user could do: aim root's SIGHUP at a process of root's. */
	pid = fork_hup_waiter();
	snprintf(content, sizeof content, "%d\n", (int)pid);
	write_file(path, content);
	if (geteuid() == 0 && chown(path, 65534, 65534) == 0) {
		int status = -1;

		run_signal(path, SIGHUP, &c);
		snprintf(want, sizeof want, "pid file %s is owned by uid 65534, not root", path);
		ok(c.r.status == RELOAD_NO_PROCESS && strncmp(c.r.detail, want, strlen(want)) == 0,
		   "a pid file of nobody's naming a process of root's is refused: %s", c.r.detail);
		ok(waitpid(pid, &status, WNOHANG) == 0, "and that process got no signal");
		chown(path, 0, 0);
	} else {
		skip("not root: cannot give a pid file to nobody");
		skip("not root");
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	path_in_tmp(link, sizeof link, "link.pid");
	if (symlink(path, link) < 0)
		ok(0, "symlink: %s", strerror(errno));
	if (geteuid() == 0 && lchown(link, 65534, 65534) == 0) {
		run_signal(link, SIGHUP, &c);
		snprintf(want, sizeof want, "pid file %s goes through the symbolic link %s, owned by "
			 "uid 65534, who could point it elsewhere", link, link);
		ok(c.r.status == RELOAD_NO_PROCESS && strncmp(c.r.detail, want, strlen(want)) == 0,
		   "a pid file through a link of nobody's is not followed: %s", c.r.detail);
	} else {
		skip("not root: cannot give a link to nobody");
	}
}

/* ---- systemd units over a private bus ----------------------------------- */

struct bus_env {
	pid_t daemon_pid, fake_pid;
	char log[PATH_MAX];
};

/* Forks argv with stdout on a pipe; returns the pid and the pipe's read end. */
static pid_t spawn_with_stdout(char *const argv[], int *ret_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(p[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*ret_fd = p[0];
	return pid;
}

/* Reads one line within 5 s. */
static bool read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&pfd, 1, 5000) <= 0)
			return false;
		k = read(fd, buf + n, 1);
		if (k <= 0)
			return false;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return true;
		}
		n++;
	}
	return false;
}

static bool bus_start(struct bus_env *env, const char *dbus_daemon)
{
	char conf[PATH_MAX], conf_arg[PATH_MAX + 16], xml[PATH_MAX + 1024], self[PATH_MAX];
	char fake[PATH_MAX + 16], addr[PATH_MAX + 32];
	char *daemon_argv[] = { (char *)dbus_daemon, conf_arg, "--nofork", "--print-address=1", NULL };
	char *fake_argv[] = { fake, env->log, NULL };
	ssize_t n;
	int fd;

	path_in_tmp(conf, sizeof conf, "bus.conf");
	/* Like the system bus, minus everything that is not about routing. */
	snprintf(xml, sizeof xml,
		 "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
		 " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		 "<busconfig>\n"
		 "  <type>system</type>\n"
		 "  <listen>unix:path=%s/bus</listen>\n"
		 "  <auth>EXTERNAL</auth>\n"
		 "  <policy context=\"default\">\n"
		 "    <allow user=\"*\"/>\n"
		 "    <allow own=\"*\"/>\n"
		 "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
		 "    <allow eavesdrop=\"true\"/>\n"
		 "  </policy>\n"
		 "</busconfig>\n", tmpdir);
	write_file(conf, xml);
	snprintf(conf_arg, sizeof conf_arg, "--config-file=%s", conf);

	env->daemon_pid = spawn_with_stdout(daemon_argv, &fd);
	if (env->daemon_pid < 0 || !read_line(fd, addr, sizeof addr)) {
		ok(0, "dbus-daemon did not start");
		return false;
	}
	close(fd);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1);

	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		ok(0, "readlink /proc/self/exe: %s", strerror(errno));
		return false;
	}
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(fake, sizeof fake, "%s/fake-systemd", self);
	path_in_tmp(env->log, sizeof env->log, "reloads.log");
	env->fake_pid = spawn_with_stdout(fake_argv, &fd);
	if (env->fake_pid < 0 || !read_line(fd, addr, sizeof addr) || strcmp(addr, "ready") != 0) {
		ok(0, "fake-systemd did not start (%s)", fake);
		return false;
	}
	close(fd);
	return true;
}

static void run_unit(sd_bus *bus, const char *unit, uint64_t timeout, struct capture *c)
{
	struct reload_op *op = NULL;
	int r;

	memset(c, 0, sizeof *c);
	r = reload_unit_start(event, bus, unit, timeout, on_done, c, &op);
	if (r < 0 || c->calls != 0) {
		ok(0, "reload_unit_start(%s) returned %d with %d calls of done", unit, r, c->calls);
		return;
	}
	run_until_done(c, timeout + SEC(5));
	if (c->calls != 1)
		ok(0, "%s: done called %d times, not once", unit, c->calls);
}

static void test_units(sd_bus *bus, const struct bus_env *env)
{
	struct capture c, c2;
	struct reload_op *op = NULL, *op2 = NULL;
	char log[256] = "";
	FILE *f;

	run_unit(bus, "ok.service", SEC(5), &c);
	ok(c.r.status == RELOAD_OK, "a reload job ending \"done\" is ok: %s", c.r.detail);
	is_str(c.r.detail, "systemd reloaded ok.service", "and names the unit");
	f = fopen(env->log, "re");
	if (f) {
		size_t n = fread(log, 1, sizeof log - 1, f);

		log[n] = '\0';
		fclose(f);
	}
	is_str(log, "ReloadUnit ok.service replace\n", "the manager got ReloadUnit(unit, \"replace\")");

	memset(&c, 0, sizeof c);
	if (reload_restart_start(event, bus, "ok.service", SEC(5), on_done, &c, &op) < 0)
		ok(0, "reload_restart_start");
	run_until_done(&c, SEC(5));
	ok(c.calls == 1 && c.r.status == RELOAD_OK, "a restart job ending \"done\" is ok: %s",
	   c.r.detail);
	is_str(c.r.detail, "systemd restarted ok.service", "and says it restarted the unit");
	f = fopen(env->log, "re");
	if (f) {
		size_t n = fread(log, 1, sizeof log - 1, f);

		log[n] = '\0';
		fclose(f);
	}
	is_str(log, "ReloadUnit ok.service replace\nRestartUnit ok.service replace\n",
	       "the manager got RestartUnit(unit, \"replace\")");
	memset(&c, 0, sizeof c);
	if (reload_restart_start(event, bus, "fail.service", SEC(5), on_done, &c, &op) < 0)
		ok(0, "reload_restart_start");
	run_until_done(&c, SEC(5));
	is_str(c.r.detail, "systemd's restart job for fail.service ended with result \"failed\"",
	       "a failed restart job says it was a restart");

	run_unit(bus, "fail.service", SEC(5), &c);
	ok(c.r.status == RELOAD_JOB_FAILED, "a reload job ending \"failed\" is a job failure");
	is_str(c.r.detail, "systemd's reload job for fail.service ended with result \"failed\"",
	       "and quotes the job's result");

	run_unit(bus, "missing.service", SEC(5), &c);
	ok(c.r.status == RELOAD_BUS_ERROR, "a method error is a bus error");
	is_str(c.r.detail,
	       "ReloadUnit(missing.service): org.freedesktop.systemd1.NoSuchUnit: Unit missing.service not found.",
	       "and carries the error's name and message");

	run_unit(bus, "early.service", SEC(5), &c);
	ok(c.r.status == RELOAD_OK,
	   "JobRemoved arriving before ReloadUnit's reply still completes the job: %s", c.r.detail);

	run_unit(bus, "slow.service", MSEC(300), &c);
	ok(c.r.status == RELOAD_TIMEOUT && c.r.usec >= MSEC(300) && c.r.usec < SEC(1),
	   "a job that never finishes times out");
	is_str(c.r.detail, "systemd's reload job for slow.service did not finish within 300ms",
	       "and says so");

	/* Two at once on one connection: each matches its own job. */
	memset(&c, 0, sizeof c);
	memset(&c2, 0, sizeof c2);
	if (reload_unit_start(event, bus, "fail.service", SEC(5), on_done, &c, &op) < 0 ||
	    reload_unit_start(event, bus, "ok.service", SEC(5), on_done, &c2, &op2) < 0)
		ok(0, "reload_unit_start for two units");
	run_until_done(&c, SEC(5));
	run_until_done(&c2, SEC(5));
	ok(c.calls == 1 && c.r.status == RELOAD_JOB_FAILED && c2.calls == 1 &&
	   c2.r.status == RELOAD_OK,
	   "concurrent reloads on one connection each get their own job's result");

	memset(&c, 0, sizeof c);
	if (reload_unit_start(event, bus, "slow.service", MSEC(200), on_done, &c, &op) < 0)
		ok(0, "reload_unit_start for the cancel test");
	run_for(MSEC(50));
	reload_op_cancel(op);
	run_for(MSEC(400));
	ok(c.calls == 0, "a cancelled unit reload never calls done");
}

static void test_closed_bus(void)
{
	struct capture c;
	sd_bus *bus = NULL;

	if (sd_bus_open_system(&bus) < 0) {
		ok(0, "sd_bus_open_system");
		return;
	}
	sd_bus_close(bus);
	run_unit(bus, "ok.service", SEC(1), &c);
	ok(c.r.status == RELOAD_BUS_ERROR, "a closed connection is a bus error");
	like(c.r.detail, "cannot ask systemd to reload ok.service: ", "and says what it could not do");
	sd_bus_unref(bus);
}

static const char *find_dbus_daemon(void)
{
	static const char *const candidates[] = { "/usr/bin/dbus-daemon", "/bin/dbus-daemon" };

	for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
		if (access(candidates[i], X_OK) == 0)
			return candidates[i];
	return NULL;
}

static void test_bus(void)
{
	const char *dbus_daemon = find_dbus_daemon();
	struct bus_env env = { 0 };
	sd_bus *bus = NULL;
	int status = -1;

	if (!dbus_daemon) {
		skip("dbus-daemon is not installed: no systemd unit tests");
		return;
	}
	if (!bus_start(&env, dbus_daemon))
		goto out;
	if (sd_bus_open_system(&bus) < 0 || sd_bus_attach_event(bus, event, 0) < 0) {
		ok(0, "cannot connect to the private bus");
		goto out;
	}
	test_units(bus, &env);
	test_closed_bus();
out:
	sd_bus_flush_close_unref(bus);
	if (env.fake_pid > 0) {
		kill(env.fake_pid, SIGTERM);
		waitpid(env.fake_pid, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		   "fake-systemd ends cleanly on SIGTERM");
	}
	if (env.daemon_pid > 0) {
		kill(env.daemon_pid, SIGTERM);
		waitpid(env.daemon_pid, NULL, 0);
	}
}

/* ---- the rest --------------------------------------------------------- */

static void test_status_names(void)
{
	static const char *const want[_RELOAD_STATUS_MAX] = {
		"ok", "exit-failure", "timeout", "spawn-failed", "bus-error", "job-failed", "no-process",
	};
	bool all = true;

	for (int s = 0; s < _RELOAD_STATUS_MAX; s++) {
		const char *got = reload_status_to_string((enum reload_status)s);

		if (!got || strcmp(got, want[s]) != 0)
			all = false;
	}
	ok(all, "every status has its name");
	ok(reload_status_to_string(_RELOAD_STATUS_MAX) == NULL, "a status out of range has none");
}

static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(tmpdir);
}

int main(void)
{
	sigset_t chld;
	int rc;

	/* sd-event's child sources need SIGCHLD blocked, as the daemon does. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	/* Processes a command leaves behind come to us, so the test can see them die. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (!mkdtemp(tmpdir) || sd_event_new(&event) < 0) {
		printf("Bail out! cannot set up: %s\n", strerror(errno));
		return 1;
	}

	test_status_names();
	test_exit_codes();
	test_output();
	test_environment_and_descriptors();
	test_spawn_failures();
	test_cancel();
	test_timeouts();
	test_escaped_processes_are_killed();
	test_restart_style_command();
	test_signal_reaches_process();
	test_signal_failures();
	test_bus();

	sd_event_unref(event);
	remove_tmpdir();
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	rc = tap_done();
	return rc;
}
