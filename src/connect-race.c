/*
 * connect-race.c - one TCP connection out of a name's addresses, Happy
 * Eyeballs style; see connect-race.h.
 *
 * Every way the race ends goes through end_race(), whose call of done is
 * the last thing any function here does: done may free the race.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connect-race.h"

struct attempt {
	struct connect_race *race;
	const struct addrinfo *ai;
	int fd;
	sd_event_source *io;
	char peer[64];
};

struct connect_race {
	sd_event *event;
	connect_race_done_t done;
	void *userdata;
	const struct addrinfo **order;   /* interleaved by family */
	size_t n, next, tried;
	struct attempt *attempts[CONNECT_RACE_MAX];
	size_t n_attempts;
	sd_event_source *timer;
	int last_error;
	char last_peer[64];
};

static bool launch(struct connect_race *r);
static void rearm(struct connect_race *r);

void connect_race_format_peer(const struct sockaddr *sa, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, len, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

bool connect_race_local_shortage(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

/*
 * RFC 8305 section 4: the preferred family's first address, then the
 * other family's first, and so on; each family keeps getaddrinfo()'s order.
 */
static int interleave(struct connect_race *r, const struct addrinfo *addrs)
{
	const struct addrinfo *a, *b;
	int first;

	for (a = addrs; a; a = a->ai_next)
		r->n++;
	r->order = calloc(r->n ? r->n : 1, sizeof(*r->order));
	if (!r->order)
		return -ENOMEM;
	first = addrs ? addrs->ai_family : AF_UNSPEC;
	a = addrs;        /* the next of the first family */
	b = addrs;        /* the next of any other */
	for (size_t i = 0; i < r->n; i++) {
		bool want_first = i % 2 == 0;

		while (a && a->ai_family != first)
			a = a->ai_next;
		while (b && b->ai_family == first)
			b = b->ai_next;
		if ((want_first && a) || !b) {
			r->order[i] = a;
			a = a->ai_next;
		} else {
			r->order[i] = b;
			b = b->ai_next;
		}
	}
	return 0;
}

static void attempt_free(struct attempt *t)
{
	sd_event_source_disable_unref(t->io);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

static void attempt_remove(struct connect_race *r, struct attempt *t)
{
	for (size_t i = 0; i < r->n_attempts; i++)
		if (r->attempts[i] == t) {
			r->attempts[i] = r->attempts[--r->n_attempts];
			break;
		}
	attempt_free(t);
}

/* The end: nothing of the race runs any more; then done, last. */
static bool end_race(struct connect_race *r, enum connect_race_end end, int fd, int error,
		     const char *peer)
{
	char p[64];

	snprintf(p, sizeof(p), "%s", peer);
	r->timer = sd_event_source_disable_unref(r->timer);
	while (r->n_attempts > 0)
		attempt_remove(r, r->attempts[0]);
	r->done(end, fd, error, p, r->userdata);
	return true;
}

static bool won(struct connect_race *r, struct attempt *t)
{
	int fd = t->fd;
	char peer[64];

	t->fd = -1;
	snprintf(peer, sizeof(peer), "%s", t->peer);
	return end_race(r, CONNECT_RACE_CONNECTED, fd, 0, peer);
}

static int on_attempt(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct attempt *t = userdata;
	struct connect_race *r = t->race;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)s;
	(void)revents;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		won(r, t);
		return 0;
	}
	r->last_error = err;
	snprintf(r->last_peer, sizeof(r->last_peer), "%s", t->peer);
	attempt_remove(r, t);
	/* A failure starts the next address at once, not at the next tick. */
	if (!launch(r))
		rearm(r);
	return 0;
}

/*
 * Starts the next address.  Returns true when the race ended (done was
 * called: r may be gone), false when attempts are in flight.
 */
static bool launch(struct connect_race *r)
{
	while (r->next < r->n && r->n_attempts < CONNECT_RACE_MAX) {
		const struct addrinfo *ai = r->order[r->next];
		struct attempt *t = calloc(1, sizeof(*t));
		int e;

		if (!t)
			return r->n_attempts ? false :
				end_race(r, CONNECT_RACE_STARVED, -1, ENOMEM, r->last_peer);
		*t = (struct attempt) { .race = r, .ai = ai };
		connect_race_format_peer(ai->ai_addr, t->peer, sizeof(t->peer));
		t->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       ai->ai_protocol);
		e = t->fd < 0 ? errno : 0;
		if (e && connect_race_local_shortage(e)) {
			/* Ours, not the server's: this address waits for its turn again. */
			free(t);
			return r->n_attempts ? false :
				end_race(r, CONNECT_RACE_STARVED, -1, e, r->last_peer);
		}
		r->next++;
		r->tried++;
		if (!e && connect(t->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			int fd = t->fd;
			char peer[64];

			snprintf(peer, sizeof(peer), "%s", t->peer);
			free(t);
			return end_race(r, CONNECT_RACE_CONNECTED, fd, 0, peer);
		}
		e = e ? e : errno;
		if (e == EINPROGRESS &&
		    sd_event_add_io(r->event, &t->io, t->fd, EPOLLOUT, on_attempt, t) >= 0) {
			r->attempts[r->n_attempts++] = t;
			return false;
		}
		r->last_error = e == EINPROGRESS ? ENOMEM : e;
		snprintf(r->last_peer, sizeof(r->last_peer), "%s", t->peer);
		attempt_free(t);
	}
	if (r->n_attempts > 0)
		return false;
	return end_race(r, CONNECT_RACE_FAILED, -1, r->last_error ? r->last_error : EHOSTUNREACH,
			r->last_peer);
}

/* The next address in CONNECT_RACE_DELAY_USEC from now, if there is one. */
static void rearm(struct connect_race *r)
{
	if (r->timer && r->next < r->n &&
	    sd_event_source_set_time_relative(r->timer, CONNECT_RACE_DELAY_USEC) >= 0)
		(void)sd_event_source_set_enabled(r->timer, SD_EVENT_ONESHOT);
}

static int on_delay(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct connect_race *r = userdata;

	(void)s;
	(void)usec;
	if (!launch(r))
		rearm(r);
	return 0;
}

int connect_race_start(sd_event *event, const struct addrinfo *addrs, connect_race_done_t done,
		       void *userdata, struct connect_race **ret)
{
	struct connect_race *r = calloc(1, sizeof(*r));

	if (!r || interleave(r, addrs) < 0) {
		if (r)
			free(r->order);
		free(r);
		return -ENOMEM;
	}
	r->event = event;
	r->done = done;
	r->userdata = userdata;
	*ret = r;
	/* The timer first: once done has run, r may be gone. */
	if (r->n > 1 && sd_event_add_time_relative(event, &r->timer, CLOCK_MONOTONIC,
						   CONNECT_RACE_DELAY_USEC, 10 * 1000,
						   on_delay, r) < 0)
		r->timer = NULL;   /* no stagger: each next address follows a failure */
	launch(r);
	return 0;
}

void connect_race_describe(const struct connect_race *r, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->n_attempts && used < len; i++) {
		const char *sep = i == 0 ? "" : i + 1 == r->n_attempts ? " and " : ", ";
		int n = snprintf(buf + used, len - used, "%s%s", sep, r->attempts[i]->peer);

		used += n > 0 ? (size_t)n : 0;
	}
	if (!buf[0])
		snprintf(buf, len, "%s", r->last_peer);
}

size_t connect_race_tried(const struct connect_race *r)
{
	return r->tried;
}

void connect_race_free(struct connect_race *r)
{
	if (!r)
		return;
	sd_event_source_disable_unref(r->timer);
	for (size_t i = 0; i < r->n_attempts; i++)
		attempt_free(r->attempts[i]);
	free(r->order);
	free(r);
}
