/*
 * test-watch.c - the watcher against real files in a temporary directory
 * and a real sd-event loop: the ways ACME clients and Kubernetes replace
 * certificates, missing paths, filtering, re-arming, restart, the
 * polling fallback at a watch limit, and a full rescan after an overflow.
 * No test changes a system-wide setting: the limit is the watcher's own,
 * and the overflow is faked (watcher_fake_overflow()).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "tap.h"
#include "util.h"
#include "watch.h"

#define GROUPS 4
#define MINUTE (60 * USEC_PER_SEC)

static char root[] = "/tmp/test-watch.XXXXXX";
static unsigned hits[GROUPS];

static void on_notify(unsigned group, void *userdata)
{
	(void)userdata;
	hits[group < GROUPS ? group : GROUPS - 1]++;
}

static void reset(void)
{
	memset(hits, 0, sizeof(hits));
}

/* Runs the loop until group is notified or ms pass; returns whether it was. */
static bool wait_for(sd_event *e, unsigned group, unsigned ms)
{
	uint64_t end = now_monotonic_usec() + ms * USEC_PER_MSEC;

	for (uint64_t now; hits[group] == 0 && (now = now_monotonic_usec()) < end;)
		sd_event_run(e, end - now);
	return hits[group] > 0;
}

/* Runs the loop for ms, so that the watcher arms or events arrive. */
static unsigned idle(sd_event *e, unsigned ms)
{
	uint64_t end = now_monotonic_usec() + ms * USEC_PER_MSEC;
	unsigned total = 0;

	for (uint64_t now; (now = now_monotonic_usec()) < end;)
		sd_event_run(e, end - now);
	for (unsigned i = 0; i < GROUPS; i++)
		total += hits[i];
	return total;
}

__attribute__((format(printf, 1, 2)))
static const char *at(const char *fmt, ...)
{
	static char buf[4][PATH_MAX];
	static unsigned next;
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	next = (next + 1) % 4;
	snprintf(buf[next], sizeof(buf[next]), "%s/%s", root, rel);
	return buf[next];
}

static void sh(const char *cmd)
{
	if (system(cmd) != 0)
		printf("# command failed: %s\n", cmd);
}

static void mkdirs(const char *path)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	sh(cmd);
}

static void rmrf(const char *path)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	sh(cmd);
}

/* Truncates and rewrites in place, as acme.sh does. */
static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		printf("# cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void link_to(const char *target, const char *path)
{
	if (symlink(target, path) < 0)
		printf("# cannot link %s: %s\n", path, strerror(errno));
}

static struct watcher *watch(sd_event *e, uint64_t poll_usec, unsigned n, ...)
{
	struct watcher *w = NULL;
	va_list ap;
	int r = watcher_new(e, poll_usec, on_notify, NULL, &w);

	va_start(ap, n);
	for (unsigned i = 0; i < n && r >= 0; i++) {
		unsigned group = va_arg(ap, unsigned);
		r = watcher_add(w, group, va_arg(ap, const char *));
	}
	va_end(ap);
	if (r >= 0)
		r = watcher_start(w);
	if (r < 0)
		printf("# watcher: %s\n", strerror(-r));
	idle(e, 100);
	reset();
	return w;
}

static const char *const certbot_files[] = { "cert", "privkey", "chain", "fullchain" };

/* A renewal as certbot writes it: new archive files, then each live link re-created. */
static void certbot_renew(const char *name, unsigned n)
{
	for (size_t i = 0; i < ELEMENTSOF(certbot_files); i++)
		put(at("%s/archive/%s/%s%u.pem", name, name, certbot_files[i], n), "new\n");
	for (size_t i = 0; i < ELEMENTSOF(certbot_files); i++) {
		char target[PATH_MAX];

		snprintf(target, sizeof(target), "../../archive/%s/%s%u.pem", name, certbot_files[i], n);
		unlink(at("%s/live/%s/%s.pem", name, name, certbot_files[i]));
		link_to(target, at("%s/live/%s/%s.pem", name, name, certbot_files[i]));
	}
}

static void certbot_setup(const char *name)
{
	mkdirs(at("%s/archive/%s", name, name));
	mkdirs(at("%s/live/%s", name, name));
	certbot_renew(name, 1);
}

static void test_rewrite_and_rename(sd_event *e)
{
	struct watcher *w;

	mkdirs(at("plain"));
	put(at("plain/cert.pem"), "one\n");
	w = watch(e, MINUTE, 1, 1u, at("plain/cert.pem"));
	put(at("plain/cert.pem"), "two\n");
	ok(wait_for(e, 1, 10000), "a truncate-and-rewrite in place notifies");
	reset();
	put(at("plain/.cert.pem.tmp"), "three\n");
	rename(at("plain/.cert.pem.tmp"), at("plain/cert.pem"));
	ok(wait_for(e, 1, 10000), "a rename over the file notifies");
	reset();
	put(at("plain/cert.pem"), "four\n");
	ok(wait_for(e, 1, 10000), "the file renamed into place is watched in its turn");
	watcher_free(w);
}

static void test_certbot(sd_event *e)
{
	struct watcher *w;

	certbot_setup("le");
	w = watch(e, MINUTE, 1, 2u, at("le/live/le/fullchain.pem"));
	certbot_renew("le", 2);
	ok(wait_for(e, 2, 10000), "a certbot renewal (relative live/ links to archive/) notifies");
	idle(e, 200);
	reset();
	certbot_renew("le", 3);
	ok(wait_for(e, 2, 10000), "the next certbot renewal is seen too: the watches were re-armed");
	idle(e, 200);
	reset();
	put(at("le/archive/le/fullchain2.pem"), "superseded\n");
	ok(idle(e, 300) == 0, "writing the superseded archive file does not notify");
	put(at("le/archive/le/fullchain3.pem"), "rewritten\n");
	ok(wait_for(e, 2, 10000), "writing the archive file the link now names notifies");
	watcher_free(w);
}

/* Kubernetes' atomic writer: a new timestamped dir, ..data_tmp renamed over ..data. */
static void k8s_swap(const char *from, const char *to)
{
	mkdirs(at("k8s/%s", to));
	put(at("k8s/%s/tls.crt", to), to);
	link_to(to, at("k8s/..data_tmp"));
	rename(at("k8s/..data_tmp"), at("k8s/..data"));
	if (from)
		rmrf(at("k8s/%s", from));
}

static void test_kubernetes(sd_event *e)
{
	struct watcher *w;

	mkdirs(at("k8s"));
	k8s_swap(NULL, "..2026_11_25_01.000");
	link_to("..data/tls.crt", at("k8s/tls.crt"));
	w = watch(e, MINUTE, 1, 1u, at("k8s/tls.crt"));
	k8s_swap("..2026_11_25_01.000", "..2026_11_25_02.000");
	ok(wait_for(e, 1, 10000), "a Kubernetes ..data swap notifies");
	idle(e, 200);
	reset();
	k8s_swap("..2026_11_25_02.000", "..2026_11_25_03.000");
	ok(wait_for(e, 1, 10000), "a second ..data swap notifies too");
	idle(e, 200);
	reset();
	put(at("k8s/..2026_11_25_03.000/tls.crt"), "rewritten\n");
	ok(wait_for(e, 1, 10000), "the file in the new timestamped directory is watched");
	watcher_free(w);
}

static void test_missing_at_start(sd_event *e)
{
	struct watcher *w;

	w = watch(e, MINUTE, 1, 1u, at("late/dir/sub/cert.pem"));
	ok(w != NULL, "a path missing at start, its directories too, is accepted");
	mkdirs(at("late/dir/sub"));
	idle(e, 200);
	reset();
	put(at("late/dir/sub/cert.pem"), "here\n");
	ok(wait_for(e, 1, 10000), "the file is seen when it appears in directories created later");
	watcher_free(w);
}

static void test_filtering(sd_event *e)
{
	struct watcher *w;

	mkdirs(at("two"));
	put(at("two/a.pem"), "a\n");
	put(at("two/b.pem"), "b\n");
	w = watch(e, MINUTE, 2, 1u, at("two/a.pem"), 2u, at("two/b.pem"));
	put(at("two/b.pem"), "b2\n");
	ok(wait_for(e, 2, 10000), "a change of b.pem notifies its group");
	ok(idle(e, 300) > 0 && hits[1] == 0, "and not the group of a.pem in the same directory");
	reset();
	put(at("two/unrelated.pem"), "x\n");
	mkdirs(at("two/unrelated.d"));
	ok(idle(e, 300) == 0, "an unrelated file created beside them notifies nobody");
	watcher_free(w);
}

/* The voluntary context switches of the process's other thread: the watcher's. */
/*
 * The mask of this process's inotify watch on the directory with inode
 * ino, from /proc/self/fdinfo ("inotify wd:1 ino:2a sdev:... mask:fce ...");
 * -1 when there is none.
 */
static long watch_mask(ino_t ino)
{
	char path[300], line[512];
	DIR *d = opendir("/proc/self/fdinfo");
	struct dirent *de;
	long mask = -1;

	while (d && mask < 0 && (de = readdir(d))) {
		unsigned long i;
		unsigned int m;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", de->d_name);
		f = fopen(path, "re");
		while (f && mask < 0 && fgets(line, sizeof(line), f)) {
			const char *p = strstr(line, " ino:"), *q = strstr(line, " mask:");

			if (strncmp(line, "inotify wd:", 11) == 0 && p && q &&
			    sscanf(p, " ino:%lx", &i) == 1 && sscanf(q, " mask:%x", &m) == 1 &&
			    i == (unsigned long)ino)
				mask = (long)m;
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return mask;
}

/*
 * An ancestor directory (/tmp, /etc) carries traffic of its own: its
 * files' writes must not even wake the thread, and names created and
 * deleted there, which the thread must look at, must not wake the loop.
 */
static void test_quiet_ancestors(sd_event *e)
{
	unsigned long loop_before;
	struct watcher *w;
	struct stat up, live;
	long up_mask, live_mask;

	mkdirs(at("quiet/live"));
	put(at("quiet/live/cert.pem"), "c\n");
	put(at("quiet/busy.log"), "x\n");
	w = watch(e, MINUTE, 1, 1u, at("quiet/live/cert.pem"));
	idle(e, 300);
	/*
	 * Whether the thread wakes for the ancestor's writes is the kernel's
	 * business, by the watch's mask: asked of the kernel, not counted in
	 * wake-ups, which every other program's names in /tmp add to.
	 */
	up_mask = stat(at("quiet"), &up) == 0 ? watch_mask(up.st_ino) : -1;
	live_mask = stat(at("quiet/live"), &live) == 0 ? watch_mask(live.st_ino) : -1;
	ok(up_mask >= 0 && !(up_mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB)),
	   "an ancestor directory is watched without IN_MODIFY, IN_CLOSE_WRITE or IN_ATTRIB: its "
	   "files' writes do not wake the watcher's thread");
	if (up_mask >= 0)
		printf("# the ancestor's mask: %#lx; the directory of the file: %#lx\n", up_mask,
		       live_mask);
	ok(live_mask >= 0 && (live_mask & (IN_MODIFY | IN_CLOSE_WRITE)),
	   "the directory holding the watched file is told of writes");
	reset();
	for (int i = 0; i < 200; i++)
		put(at("quiet/busy.log"), "more\n");
	idle(e, 300);
	loop_before = watcher_wakeups(w);
	for (int i = 0; i < 200; i++) {
		put(at("quiet/tmp.%d", i), "t\n");
		(void)unlink(at("quiet/tmp.%d", i));
	}
	ok(idle(e, 300) == 0 && watcher_wakeups(w) == loop_before,
	   "creating and deleting files in an ancestor directory does not wake the loop");
	put(at("quiet/live/cert.pem"), "c2\n");
	ok(wait_for(e, 1, 10000) && watcher_wakeups(w) > loop_before,
	   "and the watched file still notifies");
	watcher_free(w);
}

static void test_directory_replaced(sd_event *e)
{
	struct watcher *w;

	certbot_setup("del");
	w = watch(e, MINUTE, 1, 1u, at("del/live/del/cert.pem"));
	rmrf(at("del/archive"));
	ok(wait_for(e, 1, 10000), "removing the archive directory notifies");
	idle(e, 200);
	reset();
	mkdirs(at("del/archive/del"));
	put(at("del/archive/del/cert1.pem"), "again\n");
	ok(wait_for(e, 1, 10000), "recreating it notifies");
	idle(e, 200);
	reset();
	put(at("del/archive/del/cert1.pem"), "rewritten\n");
	ok(wait_for(e, 1, 10000), "the recreated directory is watched (IN_DELETE_SELF re-armed)");
	watcher_free(w);
}

/* Re-points a link atomically, the way `ln -sfn` with a rename would. */
static void relink(const char *target, const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	link_to(target, tmp);
	rename(tmp, path);
}

static void test_link_chains(sd_event *e)
{
	struct watcher *w;

	mkdirs(at("chain/sub"));
	put(at("chain/sub/c.pem"), "c\n");
	put(at("chain/sub/d.pem"), "d\n");
	link_to("sub/c.pem", at("chain/b.pem"));
	link_to(at("chain/b.pem"), at("chain/a.pem"));
	link_to("loop2.pem", at("chain/loop1.pem"));
	link_to("loop1.pem", at("chain/loop2.pem"));
	w = watch(e, MINUTE, 2, 1u, at("chain/a.pem"), 2u, at("chain/loop1.pem"));
	ok(w != NULL, "a link loop is not fatal");
	relink("sub/d.pem", at("chain/b.pem"));
	ok(wait_for(e, 1, 10000), "re-pointing the relative link behind an absolute one notifies");
	idle(e, 200);
	reset();
	put(at("chain/sub/d.pem"), "d2\n");
	ok(wait_for(e, 1, 10000), "the new target of the chain is watched");
	idle(e, 200);   /* the write's IN_CLOSE_WRITE may come in a batch of its own */
	reset();
	put(at("chain/sub/c.pem"), "c2\n");
	ok(idle(e, 300) == 0, "its old target no longer notifies");
	reset();
	unlink(at("chain/loop2.pem"));
	put(at("chain/loop2.pem"), "no longer a loop\n");
	ok(wait_for(e, 2, 10000), "breaking the loop notifies its group");
	watcher_free(w);
}

static void test_restart(sd_event *e)
{
	struct watcher *w = NULL, *other = NULL;
	uint64_t t;

	mkdirs(at("restart"));
	put(at("restart/cert.pem"), "one\n");
	w = watch(e, MINUTE, 1, 1u, at("restart/cert.pem"));
	ok(watcher_new(e, MINUTE, on_notify, NULL, &other) == 0 &&
	   watcher_add(other, 1, at("restart/cert.pem")) == 0 && watcher_start(other) == -EBUSY,
	   "a second watcher can be built beside the running one, not started");
	watcher_free(other);
	t = now_monotonic_usec();
	watcher_free(w);
	t = now_monotonic_usec() - t;
	/* A thread that missed the cancel would block for good: any bound tells. */
	ok(t < 10 * USEC_PER_SEC, "watcher_free stops the blocked thread (%.1f ms)",
	   (double)t / USEC_PER_MSEC);
	w = watch(e, MINUTE, 1, 1u, at("restart/cert.pem"));
	put(at("restart/cert.pem"), "two\n");
	ok(wait_for(e, 1, 10000), "a new watcher after watcher_free works (the library re-initialized)");
	ok(!watcher_is_polling(w), "and does not poll while inotify works");
	watcher_free(w);
}

/*
 * The fallback when watches cannot be added, reached through the
 * watcher's own limit: lowering the kernel's fs.inotify.max_user_watches
 * would take watches away from every other program for the while.
 */
static unsigned n_fallbacks;
static char fallback_why[512];

static void on_fallback(const char *why, void *userdata)
{
	(void)userdata;
	n_fallbacks++;
	snprintf(fallback_why, sizeof(fallback_why), "%s", why);
}

static void test_polling(sd_event *e)
{
	struct watcher *w = NULL;
	uint64_t end;

	mkdirs(at("poll"));
	put(at("poll/cert.pem"), "one\n");
	watcher_new(e, 100 * USEC_PER_MSEC, on_notify, NULL, &w);
	ok(watcher_set_max_watches(w, 0) == 0, "the watcher takes a limit of its own on watches");
	watcher_add(w, 1, at("poll/cert.pem"));
	watcher_on_fallback(w, on_fallback, NULL);
	watcher_start(w);
	ok(watcher_set_max_watches(w, 10) == -EBUSY, "but not once it has started");
	end = now_monotonic_usec() + 3 * USEC_PER_SEC;
	while (n_fallbacks == 0 && now_monotonic_usec() < end)
		sd_event_run(e, 10 * USEC_PER_MSEC);
	ok(watcher_is_polling(w), "at the watch limit the watcher falls back to polling");
	ok(n_fallbacks == 1 && strstr(fallback_why, "own limit of 0 inotify watches"),
	   "and says so at once, naming the limit: %s", fallback_why);
	idle(e, 300);
	reset();
	put(at("poll/cert.pem"), "two, longer\n");
	ok(wait_for(e, 1, 10000), "a change is found by polling");
	reset();
	put(at("poll/.tmp"), "three\n");
	rename(at("poll/.tmp"), at("poll/cert.pem"));
	ok(wait_for(e, 1, 10000), "a rename over the file is found by polling");
	ok(n_fallbacks == 1, "the fallback was told once, not at every poll");
	watcher_free(w);
}

/*
 * An overflowed inotify queue, faked: a real one needs the kernel's
 * fs.inotify.max_queued_events lowered, for every program at once.  An
 * unrelated file in one directory wakes the thread, which takes it for an
 * overflow; only a full rescan notifies the group in another directory.
 */
static void test_overflow(sd_event *e)
{
	struct watcher *w;

	mkdirs(at("flood"));
	mkdirs(at("calm"));
	put(at("flood/a.pem"), "a\n");
	put(at("calm/b.pem"), "b\n");
	w = watch(e, MINUTE, 2, 1u, at("flood/a.pem"), 2u, at("calm/b.pem"));
	watcher_fake_overflow(w);
	put(at("flood/noise"), "x\n");
	ok(wait_for(e, 2, 10000), "an overflowed inotify queue notifies every group (full rescan)");
	ok(!watcher_is_polling(w), "and the watcher goes on with inotify");
	idle(e, 200);
	reset();
	put(at("calm/b.pem"), "b2\n");
	ok(wait_for(e, 2, 10000), "and the watches still work after it");
	watcher_free(w);
}

/*
 * A renewal costs the chains of its lineage, not every chain of the host:
 * while a live link is missing, the lineage's directory is the last of its
 * chain and is watched anew with another mask, and only the chains through
 * it are resolved again; and keeping the watches in line with the chains
 * visits the steps of those chains only.
 */
static void test_renewal_cost(sd_event *e)
{
	enum { LINEAGES = 60 };
	struct watcher *w = NULL;
	unsigned long before, cost, synced;
	int r = watcher_new(e, MINUTE, on_notify, NULL, &w);

	for (unsigned i = 0; i < LINEAGES && r >= 0; i++) {
		char target[64];

		mkdirs(at("host/archive/l%u", i));
		mkdirs(at("host/live/l%u", i));
		put(at("host/archive/l%u/fullchain1.pem", i), "one\n");
		snprintf(target, sizeof(target), "../../archive/l%u/fullchain1.pem", i);
		link_to(target, at("host/live/l%u/fullchain.pem", i));
		r = watcher_add(w, i == 0 ? 1 : 2, at("host/live/l%u/fullchain.pem", i));
	}
	if (r >= 0)
		r = watcher_start(w);
	ok(r >= 0, "renewal cost: %u lineages watched", (unsigned)LINEAGES);
	/*
	 * Told after the first arming whatever the moment of the write: the
	 * thread forwards what it found while arming once it is done, and
	 * reads the kernel's events after it.  The index of looked-up names
	 * then holds each step of each chain once, not also a stale copy of
	 * every chain (the arming resolves each chain twice: once, then
	 * again through the watches it added).
	 */
	put(at("host/archive/l0/fullchain1.pem"), "one, rewritten\n");
	ok(wait_for(e, 1, 10000), "renewal cost: a write once the watcher started notifies");
	ok(watcher_index_slack(w) == 0, "renewal cost: %zu stale entries in the index of looked-up "
	   "names after the first arming", watcher_index_slack(w));
	idle(e, 100);
	reset();
	before = watcher_resolutions(w);
	synced = watcher_synced_steps(w);
	/* Each step awaited, so that each is re-armed on its own, as when files come slowly. */
	unlink(at("host/live/l0/fullchain.pem"));
	ok(wait_for(e, 1, 10000), "renewal cost: the live link removed notifies");
	reset();
	put(at("host/archive/l0/fullchain2.pem"), "two\n");
	link_to("../../archive/l0/fullchain2.pem", at("host/live/l0/fullchain.pem"));
	ok(wait_for(e, 1, 10000), "renewal cost: the link made again notifies");
	reset();
	/* Seen after the re-arming above: the thread takes events in order. */
	put(at("host/archive/l0/fullchain2.pem"), "three\n");
	ok(wait_for(e, 1, 10000), "renewal cost: the new file written notifies");
	cost = watcher_resolutions(w) - before;
	ok(cost < LINEAGES, "renewal cost: %lu chains resolved for one lineage's renewal, of %u",
	   cost, (unsigned)LINEAGES);
	synced = watcher_synced_steps(w) - synced;
	ok(synced < LINEAGES, "renewal cost: the watches kept in line visiting %lu chain steps, "
	   "not every chain's", synced);
	ok(hits[2] == 0, "renewal cost: no other lineage notified");
	watcher_free(w);
}

int main(void)
{
	sd_event *e = NULL;

	if (!mkdtemp(root) || sd_event_new(&e) < 0) {
		printf("Bail out! no temporary directory or event loop\n");
		return 1;
	}
	test_rewrite_and_rename(e);
	test_certbot(e);
	test_kubernetes(e);
	test_missing_at_start(e);
	test_filtering(e);
	test_quiet_ancestors(e);
	test_directory_replaced(e);
	test_link_chains(e);
	test_restart(e);
	test_polling(e);
	test_overflow(e);
	test_renewal_cost(e);
	rmrf(root);
	sd_event_unref(e);
	return tap_done();
}
