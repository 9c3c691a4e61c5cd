/*
 * test-pidfile.c - what certwatch, as root, trusts in a pid file before it
 * signals the process named there: the text as daemons write it (and
 * nothing else), the file's owner and mode and the directories on the way
 * (a file that nobody, the user, may write must not aim root's signal at
 * any process), and the process itself (never 1, a kernel thread or
 * certwatch; a process of the file's owner; the configured program).
 * Real files and processes; what needs root to give files away is skipped
 * without it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pidfile.h"
#include "trust.h"
#include "tap.h"

#define NOBODY 65534

static char tmpdir[] = "/tmp/test-pidfile.XXXXXX";
static char msg[1024];

static void skip(const char *why)
{
	tap_n++;
	printf("ok %d # SKIP %s\n", tap_n, why);
}

static const char *path_of(const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/* Writes name (under tmpdir) with the pid as text; returns its path. */
static const char *put_pid(const char *name, pid_t pid, mode_t mode)
{
	const char *path = path_of(name);
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f) != 0 || chmod(path, mode) < 0)
		abort();
	return path;
}

/* A process running /bin/sleep, as uid (or as we are when uid is 0). */
static pid_t spawn_sleep(uid_t uid)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (uid && (setgid(uid) < 0 || setuid(uid) < 0))
			_exit(126);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	/* Until the exec has happened its exe is ours, not sleep's. */
	for (int i = 0; i < 200; i++) {
		char exe[PATH_MAX] = "", link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
		n = readlink(link, exe, sizeof(exe) - 1);
		if (n > 0 && (exe[n] = '\0', strstr(exe, "sleep")))
			break;
		usleep(10000);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int read_file(const char *path, uid_t owner, pid_t *pid, uid_t *file_owner)
{
	const struct pidfile_expect x = { .path = path, .owner = owner };

	msg[0] = '\0';
	return pidfile_read(&x, pid, file_owner, msg, sizeof(msg));
}

static void text_as_daemons_write_it(void)
{
	static const struct {
		const char *text;
		pid_t want;       /* 0: refused */
	} cases[] = {
		{ "1234\n", 1234 },
		{ "1234", 1234 },
		{ "      1234\n", 1234 },                   /* Postfix's master.pid */
		{ "1234\n/var/lib/postgresql/15/main\n1700000000\n5432\n", 1234 },
		{ " \t1234 \t\n", 1234 },
		{ "1234\r\n", 0 },
		{ "12 34\n", 0 },
		{ "\n1234\n", 0 },
		{ "0\n", 0 },
		{ "1\n", 0 },
		{ "01234\n", 0 },
		{ "+1234\n", 0 },
		{ "-1234\n", 0 },
		{ "2147483648\n", 0 },
		{ "99999999999999999999\n", 0 },
		{ "", 0 },
	};
	char line[PIDFILE_LINE_MAX + 8];
	pid_t pid;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		pid = 0;
		r = pidfile_parse(cases[i].text, strlen(cases[i].text), &pid);
		ok(cases[i].want ? r == 0 && pid == cases[i].want : r < 0,
		   "pid file text %zu: %s", i, cases[i].want ? "read" : "refused");
	}
	memset(line, ' ', sizeof(line));
	memcpy(line + PIDFILE_LINE_MAX - 4, "1234\n", 5);
	ok(pidfile_parse(line, PIDFILE_LINE_MAX + 1, &pid) == 0 && pid == 1234,
	   "a first line of %d bytes is read", PIDFILE_LINE_MAX);
	memcpy(line + PIDFILE_LINE_MAX - 3, "1234\n", 5);
	ok(pidfile_parse(line, PIDFILE_LINE_MAX + 2, &pid) < 0,
	   "a longer first line is refused, however it ends");
}

static void files_nobody_may_write(void)
{
	char dir[PATH_MAX];
	const char *path;
	uid_t owner = 0;
	pid_t pid = 0;

	path = put_pid("root.pid", 4242, 0644);
	ok(read_file(path, TRUST_NOBODY, &pid, &owner) == 0 && pid == 4242 && owner == 0,
	   "a pid file of root's, 0644, in root's directory is read (%s)", msg);
	path = put_pid("writable.pid", 4242, 0666);
	ok(read_file(path, TRUST_NOBODY, &pid, &owner) == -EPERM && strstr(msg, "is writable by "
	   "group and others (mode 0666)") && strstr(msg, "chmod go-w"),
	   "a pid file anyone may write is refused with the fix: %s", msg);
	if (mkfifo(path_of("fifo.pid"), 0600) == 0)
		ok(read_file(path_of("fifo.pid"), TRUST_NOBODY, &pid, &owner) < 0 &&
		   strstr(msg, "is a FIFO, not a regular file"),
		   "a FIFO in place of the pid file is refused, not waited on: %s", msg);

	if (geteuid() != 0) {
		skip("not root: cannot give files to nobody");
		return;
	}
	path = put_pid("nobody.pid", 4242, 0644);
	if (chown(path, NOBODY, NOBODY) < 0)
		abort();
	ok(read_file(path, TRUST_NOBODY, &pid, &owner) == -EPERM &&
	   strstr(msg, "is owned by uid 65534, not root") && strstr(msg, "chown root"),
	   "a pid file of nobody's is refused: %s", msg);
	ok(read_file(path, NOBODY, &pid, &owner) == 0 && owner == NOBODY,
	   "the same file is read when nobody is the service's pid-file-owner");

	if (mkdir(path_of("open"), 0777) < 0 || chmod(path_of("open"), 0777) < 0)
		abort();
	snprintf(dir, sizeof(dir), "%s", path_of("open"));
	path = put_pid("open/x.pid", 4242, 0644);
	ok(read_file(path, TRUST_NOBODY, &pid, &owner) == -EPERM && strstr(msg, "is in the "
	   "directory") && strstr(msg, "writable by group and others (mode 0777)"),
	   "a pid file of root's in a directory anyone may write to is refused: %s", msg);
	chmod(dir, 01777);
	ok(read_file(path, TRUST_NOBODY, &pid, &owner) == 0,
	   "in a sticky directory of root's (as /run/lock) it is read");
	chmod(dir, 0755);
	if (chown(dir, NOBODY, NOBODY) < 0)
		abort();
	ok(read_file(path, TRUST_NOBODY, &pid, &owner) == -EPERM && strstr(msg, "owned by uid "
	   "65534, who could replace it"), "in a directory of nobody's it is refused: %s", msg);
	ok(read_file(path, NOBODY, &pid, &owner) == 0,
	   "unless nobody is the pid-file-owner (PostgreSQL's data directory is postgres's)");
}

static int check(pid_t pid, uid_t file_owner, const char *program)
{
	const struct pidfile_expect x = { .path = "/run/x.pid", .owner = file_owner,
					  .program = program };

	msg[0] = '\0';
	return pidfile_check_process(&x, pid, file_owner, msg, sizeof(msg));
}

static void processes_never_signalled(void)
{
	pid_t root_sleep = spawn_sleep(0), nobody_sleep;

	ok(check(1, 0, NULL) == -EPERM && strstr(msg, "the init process"),
	   "process 1 is never signalled: %s", msg);
	ok(check(getpid(), 0, NULL) == -EPERM && strstr(msg, "certwatch itself"),
	   "certwatch itself is never signalled");
	ok(check(2, 0, NULL) == -EPERM && strstr(msg, "a kernel thread"),
	   "kthreadd is never signalled: %s", msg);
	ok(check(root_sleep, 0, NULL) == 0, "root's pid file may name root's process");
	ok(check(root_sleep, 0, "/bin/sleep") == 0,
	   "a process running pid-program (through /bin -> usr/bin) is accepted: %s", msg);
	ok(check(root_sleep, 0, "/bin/true") == -EPERM && strstr(msg, "runs /usr/bin/sleep, not "
	   "pid-program /bin/true"), "a process running another program is refused: %s", msg);

	if (geteuid() != 0) {
		skip("not root: cannot run a process as nobody");
		reap(root_sleep);
		return;
	}
	ok(check(root_sleep, NOBODY, NULL) == -EPERM && strstr(msg, "is owned by uid 65534 but "
	   "names process") && strstr(msg, "of uid 0"),
	   "a pid file of pid-file-owner naming a root process is refused: %s", msg);
	nobody_sleep = spawn_sleep(NOBODY);
	ok(check(nobody_sleep, NOBODY, NULL) == 0,
	   "a pid file of pid-file-owner naming that user's process is accepted: %s", msg);
	reap(nobody_sleep);
	reap(root_sleep);
	ok(check(root_sleep, 0, NULL) == -ESRCH && strstr(msg, "does not exist"),
	   "a process that is gone: %s", msg);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	text_as_daemons_write_it();
	files_nobody_may_write();
	processes_never_signalled();
	snprintf(msg, sizeof(msg), "rm -rf -- '%s'", tmpdir);
	if (system(msg) != 0)
		printf("# cannot remove %s\n", tmpdir);
	return tap_done();
}
