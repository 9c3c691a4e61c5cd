/*
 * probe-goodbye.c - the end of a probe's connection after its verdict: the
 * protocol's goodbye, TLS's close_notify, and reading until the server
 * closes; see probe-int.h for the contract.
 *
 * A small state machine on the probe's loop, never blocking: say (the
 * goodbye, through TLS or in plaintext), notify (close_notify; in
 * plaintext, a shutdown of our side), drain (read and drop until the
 * server's close_notify or end of file).  What the server sends meanwhile
 * is never looked at, only counted against a bound.  Any error, the
 * deadline or the bound ends it at once: the goodbye is a courtesy, and
 * the verdict was given before it began.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "probe-int.h"

#define GOODBYE_MAX_DRAIN (256 * 1024)   /* bytes read and dropped, at most */

enum goodbye_step { BYE_SAY, BYE_NOTIFY, BYE_DRAIN, BYE_DONE };

struct probe_goodbye {
	struct probe *p;
	int fd;
	SSL *ssl;                     /* NULL: plaintext (the server refused STARTTLS) */
	sd_event_source *io, *timer;
	enum goodbye_step step;
	uint8_t say[STARTTLS_MAX_OUT];
	size_t say_len, said;
	size_t drained;
};

void probe_goodbye_free(struct probe_goodbye *b)
{
	if (!b)
		return;
	sd_event_source_disable_unref(b->io);
	sd_event_source_disable_unref(b->timer);
	SSL_free(b->ssl);
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

static void goodbye_end(struct probe_goodbye *b)
{
	struct probe *p = b->p;

	p->bye = NULL;
	probe_goodbye_free(b);
	/* May free p. */
	p->env->closed(p);
}

static int goodbye_watch(struct probe_goodbye *b, uint32_t events)
{
	return sd_event_source_set_io_events(b->io, events);
}

/*
 * One TLS call's outcome: 1 to go on at once, 0 when it waits for the
 * socket (watched), -1 when the goodbye is over.
 */
static int tls_outcome(struct probe_goodbye *b, int r)
{
	int err = SSL_get_error(b->ssl, r);

	ERR_clear_error();
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return goodbye_watch(b, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT) < 0 ? -1 : 0;
	return -1;
}

static int tls_step(struct probe_goodbye *b)
{
	uint8_t buf[4096];
	int r;

	/* The error queue is per thread and shared by every probe. */
	ERR_clear_error();
	switch (b->step) {
	case BYE_SAY:
		if (b->say_len == 0) {
			b->step = BYE_NOTIFY;
			return 1;
		}
		r = SSL_write(b->ssl, b->say, (int)b->say_len);
		if (r <= 0)
			return tls_outcome(b, r);
		b->step = BYE_NOTIFY;
		return 1;
	case BYE_NOTIFY:
		r = SSL_shutdown(b->ssl);
		if (r < 0)
			return tls_outcome(b, r);
		/*
		 * The close_notify is sent: the end of the stream follows it, as
		 * when a client closes, for servers that wait for that rather than
		 * for the close_notify (Exim).  1: the server's has come already.
		 */
		(void)shutdown(b->fd, SHUT_WR);
		b->step = r == 1 ? BYE_DONE : BYE_DRAIN;
		return 1;
	case BYE_DRAIN:
		r = SSL_read(b->ssl, buf, sizeof(buf));
		if (r <= 0)
			return tls_outcome(b, r);
		b->drained += (size_t)r;
		return b->drained < GOODBYE_MAX_DRAIN ? 1 : -1;
	default:
		return -1;
	}
}

static int plain_step(struct probe_goodbye *b)
{
	uint8_t buf[4096];
	ssize_t n;

	switch (b->step) {
	case BYE_SAY:
		if (b->said < b->say_len) {
			n = send(b->fd, b->say + b->said, b->say_len - b->said,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno == EAGAIN)
				return goodbye_watch(b, EPOLLOUT) < 0 ? -1 : 0;
			if (n < 0 && errno != EINTR)
				return -1;
			b->said += n > 0 ? (size_t)n : 0;
			return 1;
		}
		b->step = BYE_NOTIFY;
		return 1;
	case BYE_NOTIFY:
		b->step = BYE_DRAIN;
		return shutdown(b->fd, SHUT_WR) < 0 ? -1 : 1;
	case BYE_DRAIN:
		n = recv(b->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return goodbye_watch(b, EPOLLIN) < 0 ? -1 : 0;
		if (n < 0 && errno == EINTR)
			return 1;
		if (n <= 0)
			return -1;
		b->drained += (size_t)n;
		return b->drained < GOODBYE_MAX_DRAIN ? 1 : -1;
	default:
		return -1;
	}
}

/* Runs the steps until one waits for the socket; ends the goodbye when over. */
static void goodbye_run(struct probe_goodbye *b)
{
	int k;

	do
		k = b->ssl ? tls_step(b) : plain_step(b);
	while (k > 0);
	if (k < 0)
		goodbye_end(b);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)s;
	(void)fd;
	(void)revents;
	goodbye_run(userdata);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	goodbye_end(userdata);
	return 0;
}

bool probe_goodbye_begin(struct probe *p, const uint8_t *say, size_t n, uint64_t deadline)
{
	uint64_t cap = now_monotonic_usec() + PROBE_GOODBYE_USEC;
	struct probe_goodbye *b;
	int r;

	if (p->fd < 0 || p->bye || n > sizeof(b->say) || !(b = calloc(1, sizeof(*b))))
		return false;
	b->p = p;
	b->fd = -1;
	if (n > 0)
		memcpy(b->say, say, n);
	b->say_len = n;
	/* epoll takes a descriptor once: the dialogue's source goes first. */
	p->io = sd_event_source_disable_unref(p->io);
	/* Writable at once: the first step runs on the loop's next turn. */
	r = sd_event_add_io(p->env->event, &b->io, p->fd, EPOLLOUT, on_io, b);
	if (r >= 0)
		r = sd_event_add_time(p->env->event, &b->timer, CLOCK_MONOTONIC,
				      deadline < cap ? deadline : cap, 10 * USEC_PER_MSEC,
				      on_timer, b);
	if (r < 0) {
		probe_goodbye_free(b);
		return false;
	}
	b->fd = p->fd;
	b->ssl = p->ssl;
	p->fd = -1;
	p->ssl = NULL;
	p->bye = b;
	return true;
}
