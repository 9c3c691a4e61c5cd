/*
 * fuzz-replay.c - the main() that `make check` links with every fuzz
 * harness (tests/fuzz-*.c) instead of libFuzzer's: it feeds each file of a
 * small committed corpus to the harness's LLVMFuzzerTestOneInput() once and
 * prints one TAP result per file.  Each input runs in a child process with
 * a deadline, so a crash, an abort (a harness's broken contract, or any
 * sanitizer report under --enable-sanitizers), a non-zero exit or an
 * endless loop fails that file by name and the run goes on.  An input that
 * once broke something stays in the corpus: the fix is tested for good.
 *
 *   tests/fuzz-NAME [FILE | DIRECTORY]...
 *
 * Without arguments the corpus is $TESTS_SRCDIR/corpus/NAME, NAME being the
 * program's name without "fuzz-" (make check sets TESTS_SRCDIR).
 *
 * Fuzzing for real: configure a second build directory with clang,
 *   CC=clang ../configure --enable-fuzzing
 * (it implies --enable-sanitizers); the same harness files are then linked
 * with libFuzzer (-fsanitize=fuzzer) instead of this file, and the whole
 * library is instrumented for coverage.  `make fuzz` runs each harness for
 * FUZZ_SECONDS (default 60) on a scratch copy of its corpus, or by hand:
 *   mkdir new && tests/fuzz-starttls -max_total_time=600 new ../tests/corpus/starttls
 * New inputs land in new/; a crash leaves crash-* in the current
 * directory.  Reproduce one with this replay (plain or sanitizer build):
 *   tests/fuzz-starttls crash-*
 * then minimise it (tests/fuzz-starttls -minimize_crash=1 crash-...),
 * fix the code, and add the input to tests/corpus/NAME with a name saying
 * what it broke.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define REPLAY_MAX_INPUT  (1u << 20)   /* a corpus file is a few KB */
#define REPLAY_TIMEOUT    20           /* seconds; an input takes milliseconds */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3)))
static void result(int passed, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	tap_failed += !passed;
	printf("%s %d - ", passed ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Reads a whole corpus file into a buffer of exactly its size. */
static int read_input(const char *path, uint8_t **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf;
	struct stat st;
	size_t len = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size > REPLAY_MAX_INPUT)
		return -EFBIG;
	/* One byte more than needed, so that an empty file is a valid pointer. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* Runs one input in a child; returns 0, or fills why with what went wrong. */
static int run_child(const uint8_t *data, size_t len, char *why, size_t whylen)
{
	pid_t pid, w;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* The deadline turns an endless loop into a failure. */
		alarm(REPLAY_TIMEOUT);
		LLVMFuzzerTestOneInput(data, len);
		/* exit(), not _exit(): LeakSanitizer checks at exit. */
		exit(0);
	}
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		snprintf(why, whylen, "cannot wait for the child: %s", strerror(errno));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		snprintf(why, whylen, "still running after %d s: an endless loop?", REPLAY_TIMEOUT);
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status) != 0)
		snprintf(why, whylen, "exited with status %d (a sanitizer report?)",
			 WEXITSTATUS(status));
	else
		return 0;
	return -1;
}

/* label: how the TAP line names the file. */
static void replay_file(const char *path, const char *label)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char why[128];
	int r = read_input(path, &data, &len);

	if (r < 0) {
		result(0, "%s: cannot read: %s", label, strerror(-r));
		return;
	}
	r = run_child(data, len, why, sizeof(why));
	free(data);
	if (r < 0) {
		result(0, "%s: %s", label, why);
		printf("# reproduce: %s %s\n",
		       program_invocation_name, path);
	} else
		result(1, "%s", label);
}

static int visible(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Replays a directory's files in name order, so that runs compare. */
static void replay_dir(const char *dir, const char *label)
{
	struct dirent **names;
	int n = scandir(dir, &names, visible, alphasort);

	if (n < 0) {
		result(0, "%s: cannot list: %s", label, strerror(errno));
		return;
	}
	if (n == 0)
		result(0, "%s: the corpus is empty; add inputs or remove the harness", label);
	for (int i = 0; i < n; i++) {
		char path[4096], name[4096];

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >=
		    sizeof(path))
			result(0, "%s/%s: the path is too long", label, names[i]->d_name);
		else {
			snprintf(name, sizeof(name), "%s/%s", label, names[i]->d_name);
			replay_file(path, name);
		}
		free(names[i]);
	}
	free(names);
}

static void replay(const char *path, const char *label)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		replay_dir(path, label);
	else
		replay_file(path, label);
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/'), *srcdir = getenv("TESTS_SRCDIR");
	char dir[4096];

	base = base ? base + 1 : argv[0];
	if (strncmp(base, "fuzz-", 5) == 0)
		base += 5;
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			replay(argv[i], argv[i]);
	} else if (!srcdir) {
		fprintf(stderr, "%s: give corpus files or directories, or set TESTS_SRCDIR "
			"to the source tree's tests directory\n", argv[0]);
		return 2;
	} else if ((size_t)snprintf(dir, sizeof(dir), "%s/corpus/%s", srcdir, base) >=
		   sizeof(dir)) {
		fprintf(stderr, "%s: TESTS_SRCDIR is too long\n", argv[0]);
		return 2;
	} else
		replay(dir, base);
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
