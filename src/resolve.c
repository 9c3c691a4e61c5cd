/*
 * resolve.c - getaddrinfo_a() behind an sd-event source; see resolve.h.
 *
 * glibc runs each request's notification on a thread of its own, which may
 * outlive the caller's interest in the request and even the resolver.  The
 * thread only queues the finished request and bumps an eventfd; the loop
 * takes the queue and calls done.  So a request and the channel it reports
 * through (struct resolver) are reference counted and freed by whoever lets
 * go last.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolve.h"

struct resolve_req {
	struct gaicb cb;
	struct addrinfo hints;
	struct resolver *resolver;
	resolve_done_t done;          /* NULL once abandoned; loop thread only */
	void *userdata;
	struct resolve_req *next;     /* on resolver->finished, under its lock */
	char service[8];
	char name[];
};

/* Shared with the notification threads; see the header comment. */
struct resolver {
	pthread_mutex_t lock;
	unsigned refs;                /* the owner's and one per unnotified request */
	bool owner_gone;
	int efd;                      /* counts notifications for the loop */
	sd_event_source *source;
	struct resolve_req *finished; /* notified, not yet taken by the loop */
};

/* Drops one reference to the channel; called locked, returns unlocked. */
static void resolver_put_locked(struct resolver *r)
{
	bool last = --r->refs == 0;

	pthread_mutex_unlock(&r->lock);
	if (last) {
		pthread_mutex_destroy(&r->lock);
		close(r->efd);
		free(r);
	}
}

static void resolver_put(struct resolver *r)
{
	pthread_mutex_lock(&r->lock);
	resolver_put_locked(r);
}

static void resolve_req_free(struct resolve_req *q)
{
	if (q->cb.ar_result)
		freeaddrinfo(q->cb.ar_result);
	free(q);
}

static void resolve_req_free_list(struct resolve_req *list)
{
	struct resolve_req *q;

	while ((q = list)) {
		list = q->next;
		resolve_req_free(q);
	}
}

/* Runs on a glibc thread: hands the request over, or frees it if nobody is left. */
static void resolve_notify(union sigval sv)
{
	struct resolve_req *q = sv.sival_ptr;
	struct resolver *r = q->resolver;
	uint64_t one = 1;

	pthread_mutex_lock(&r->lock);
	if (r->owner_gone)
		resolve_req_free(q);
	else {
		q->next = r->finished;
		r->finished = q;
		/* Cannot fail: the counter would need 2^64 unread notifications. */
		(void)!write(r->efd, &one, sizeof(one));
	}
	resolver_put_locked(r);
}

static int on_notified(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct resolver *r = userdata;
	struct resolve_req *list, *q;
	uint64_t n;

	(void)s;
	(void)revents;
	/* Only resets the counter: the list is what was notified. */
	(void)!read(fd, &n, sizeof(n));
	pthread_mutex_lock(&r->lock);
	list = r->finished;
	r->finished = NULL;
	pthread_mutex_unlock(&r->lock);
	while ((q = list)) {
		resolve_done_t done = q->done;
		void *ud = q->userdata;
		struct addrinfo *addrs = NULL;
		int err = gai_error(&q->cb);

		list = q->next;
		if (err == 0) {
			addrs = q->cb.ar_result;
			q->cb.ar_result = NULL;
		}
		resolve_req_free(q);
		if (done)
			done(addrs, err, ud);
	}
	return 0;
}

int resolve_start(struct resolver *r, const char *host, const char *service,
		  resolve_done_t done, void *userdata, struct resolve_req **ret)
{
	size_t len = strlen(host) + 1;
	struct resolve_req *q = calloc(1, sizeof(*q) + len);
	struct gaicb *list[1];
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD,
		.sigev_notify_function = resolve_notify,
	};
	int err;

	if (!q)
		return EAI_MEMORY;
	memcpy(q->name, host, len);
	snprintf(q->service, sizeof(q->service), "%s", service);
	q->hints.ai_socktype = SOCK_STREAM;
	q->hints.ai_flags = AI_NUMERICSERV;
	q->cb.ar_name = q->name;
	q->cb.ar_service = q->service;
	q->cb.ar_request = &q->hints;
	q->resolver = r;
	q->done = done;
	q->userdata = userdata;
	sev.sigev_value.sival_ptr = q;
	list[0] = &q->cb;

	pthread_mutex_lock(&r->lock);
	r->refs++;
	pthread_mutex_unlock(&r->lock);
	err = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
	if (err == 0) {
		*ret = q;
		return 0;
	}
	/*
	 * Both failures are glibc out of memory.  A request it could not queue
	 * (EAI_SYSTEM) is still notified, so it is left to the notification.
	 * One it queued but cannot notify (EAI_AGAIN) is cancelled, or else
	 * left to run into memory that is never freed.
	 */
	if (err == EAI_AGAIN) {
		if (gai_cancel(&q->cb) == EAI_CANCELED)
			free(q);
		resolver_put(r);
	} else
		q->done = NULL;
	return err;
}

void resolve_cancel(struct resolve_req *q)
{
	if (!q)
		return;
	if (gai_cancel(&q->cb) == EAI_CANCELED) {
		/* glibc will not notify a cancelled request. */
		struct resolver *r = q->resolver;

		free(q);
		resolver_put(r);
	} else
		q->done = NULL;
}

int resolver_new(sd_event *event, struct resolver **ret)
{
	struct resolver *r;
	int err;

	if (!event || !ret)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->refs = 1;
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) {
		err = -errno;
		goto fail;
	}
	err = sd_event_add_io(event, &r->source, r->efd, EPOLLIN, on_notified, r);
	if (err < 0)
		goto fail;
	*ret = r;
	return 0;
fail:
	if (r->efd >= 0)
		close(r->efd);
	pthread_mutex_destroy(&r->lock);
	free(r);
	return err;
}

/* Lets go of the channel; requests still running free themselves. */
void resolver_free(struct resolver *r)
{
	struct resolve_req *list;

	if (!r)
		return;
	r->source = sd_event_source_disable_unref(r->source);
	pthread_mutex_lock(&r->lock);
	r->owner_gone = true;
	list = r->finished;
	r->finished = NULL;
	resolver_put_locked(r);
	resolve_req_free_list(list);
}
