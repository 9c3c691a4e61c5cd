/*
 * watch-loop.c - the watcher's side on the event loop: the groups the
 * thread marked pending are delivered to notify, once per group and
 * wake-up; and when the thread gave up on inotify, every path's
 * fingerprint (its chain and the file's device, inode, size, mtime and
 * ctime) is polled from a timer, for the rest of the watcher's life, and
 * the fallback callback is told at once which limit was reached.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util.h"
#include "watch-int.h"

static int unsigned_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

/*
 * Calls notify once per group, from copies: notify may free the watcher.
 * Takes groups (malloc'd, n entries) over.
 */
static void deliver(struct watcher *w, unsigned *groups, size_t n)
{
	watch_notify_t notify = w->notify;
	void *userdata = w->userdata;

	qsort(groups, n, sizeof(*groups), unsigned_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || groups[i] != groups[i - 1])
			notify(groups[i], userdata);
	free(groups);
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct watcher *w = userdata;
	unsigned *groups = calloc(w->n_paths + 1, sizeof(*groups));
	size_t n = 0;

	(void)usec;
	(void)sd_event_source_set_time_relative(s, w->poll_usec);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	if (!groups)
		return 0;       /* the prints stay: the next poll reports */
	for (size_t i = 0; i < w->n_paths; i++) {
		uint64_t print = path_print(w->paths[i].path);

		if (print != w->paths[i].poll_print || !print) {
			w->paths[i].poll_print = print;
			groups[n++] = w->paths[i].group;
		}
	}
	deliver(w, groups, n);
	return 0;
}

/* The value of a sysctl under /proc/sys, or "?" when it cannot be read. */
static void read_sysctl(const char *path, char *buf, size_t len)
{
	int fd = open_regular(path, 0, NULL);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? (size_t)n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!buf[0])
		snprintf(buf, len, "?");
}

/* Which limit was reached, and how to raise it. */
static void describe_fallback(const struct watcher *w, char *buf, size_t len)
{
	char v[32];

	if (w->fallback_own_limit) {
		snprintf(buf, len, "the watcher's own limit of %u inotify watches is reached "
			 "(a test's setting)", w->max_watches);
	} else if (w->fallback_error == -ENOSPC) {
		/* The limit of this user namespace: the system's outside any container. */
		read_sysctl("/proc/sys/user/max_inotify_watches", v, sizeof(v));
		snprintf(buf, len, "the inotify watch limit of %s watches per user is reached "
			 "(fs.inotify.max_user_watches, or user.max_inotify_watches in a container): "
			 "raise it with \"sysctl -w fs.inotify.max_user_watches=N\" and in a file "
			 "in /etc/sysctl.d to keep it", v);
	} else if (w->fallback_error == -EMFILE) {
		read_sysctl("/proc/sys/user/max_inotify_instances", v, sizeof(v));
		snprintf(buf, len, "no inotify instance could be made (fs.inotify.max_user_instances "
			 "is %s per user, or certwatch has too many descriptors open): raise it with "
			 "\"sysctl -w fs.inotify.max_user_instances=N\" and in /etc/sysctl.d", v);
	} else {
		snprintf(buf, len, "inotify failed: %s", strerror(-w->fallback_error));
	}
}

/* Polling has begun: the timer, and the news, once. */
static void start_polling(struct watcher *w)
{
	char why[512];

	if (!w->timer)
		(void)sd_event_add_time_relative(w->event, &w->timer, CLOCK_MONOTONIC, w->poll_usec,
						 w->poll_usec / 10, on_poll, w);
	if (w->fallback_said || !w->fallback)
		return;
	w->fallback_said = true;
	describe_fallback(w, why, sizeof(why));
	w->fallback(why, w->fallback_userdata);
}

/* Takes the paths the thread listed: as many as were hit, not as many as are watched. */
static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct watcher *w = userdata;
	unsigned *groups;
	eventfd_t v;
	size_t n = 0;

	(void)s;
	(void)revents;
	(void)eventfd_read(fd, &v);
	pthread_mutex_lock(&w->lock);
	groups = malloc((w->n_pending + 1) * sizeof(*groups));
	for (size_t k = 0; groups && k < w->n_pending; k++) {
		struct wpath *p = &w->paths[w->pending_list[k]];

		p->pending = false;
		groups[n++] = p->group;
	}
	if (groups)
		w->n_pending = 0;
	pthread_mutex_unlock(&w->lock);
	if (!groups) {
		(void)eventfd_write(fd, 1);   /* retried on the next turn of the loop */
		return 0;
	}
	/* The first poll compares with the prints taken by watcher_start(). */
	if (watch_polling(w))
		start_polling(w);
	deliver(w, groups, n);
	return 0;
}

int watch_loop_attach(struct watcher *w)
{
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		return -errno;
	return sd_event_add_io(w->event, &w->io, w->efd, EPOLLIN, on_wake, w);
}

void watch_loop_detach(struct watcher *w)
{
	w->io = sd_event_source_disable_unref(w->io);
	w->timer = sd_event_source_disable_unref(w->timer);
	if (w->efd >= 0)
		close(w->efd);
	w->efd = -1;
}
