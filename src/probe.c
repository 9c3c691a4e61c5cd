/*
 * probe.c - the probe engine; see probe.h for the contract.
 *
 * The engine queues probes and runs at most max_in_flight at once, in
 * order, and never more than the descriptors left allow (fdlimit.h); each
 * runs its connection's state machine (probe-conn.c) under one timer, the
 * deadline for every phase.  A probe for which certwatch had no socket
 * (EMFILE, ENFILE) is not the server's failure: it goes back to the head
 * of the queue, the engine lowers its limit to the probes that did get
 * one (raising it again by one as each ends), and says so once.  A probe that has ended waits on
 * the finished list and is delivered from a defer source of its own, so
 * done never runs inside probe_start() and may start probes or free the
 * engine.  A probe whose connection is still saying goodbye
 * (probe-goodbye.c) when it is delivered waits on the closing list, and
 * its connection keeps its place among the max_in_flight until it closes.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "fdlimit.h"
#include "probe.h"
#include "probe-int.h"
#include "resolve.h"
#include "util.h"

TAILQ_HEAD(probe_list, probe);

#define STARVED_RETRY_USEC (100 * USEC_PER_MSEC)  /* nothing runs that could free a socket */

struct probe_engine {
	struct probe_env env;         /* what every probe's connection uses */
	unsigned max_in_flight;       /* max-probes, within what the descriptors allow */
	unsigned limit;               /* max_in_flight, or fewer after a shortage */
	unsigned n_running, n_probes;
	unsigned n_closing;            /* verdicts out, connections still saying goodbye */
	bool dispatching, waiting;    /* waiting: for retry, after a shortage with nothing running */
	/* closing: delivered probes whose goodbye is not over; they hold a connection. */
	struct probe_list queued, running, finished, closing;
	sd_event_source *retry;
	char notice[512];             /* the limit, when lowered; said once through on_notice */
	bool notice_said, shortage_said;
	probe_notice_t on_notice;
	void *notice_userdata;
};

static void engine_dispatch(struct probe_engine *e);

/* The engine of a probe, whose env its connection was given. */
static struct probe_engine *engine_of(struct probe *p)
{
	return (struct probe_engine *)((char *)p->env - offsetof(struct probe_engine, env));
}

static void probe_free(struct probe *p)
{
	probe_goodbye_free(p->bye);
	probe_conn_release(p);
	sd_event_source_disable_unref(p->timer);
	sd_event_source_disable_unref(p->defer);
	free(p);
}

/*
 * A server that refused the key type asked for, when any_if_refused: asked
 * again for any, within the same deadline.  Returns whether it was.
 */
static bool ask_again_for_any(struct probe *p)
{
	if (p->result.status != PROBE_TLS_ALERT || !p->target.any_if_refused)
		return false;
	p->target.any_if_refused = false;
	p->target.key_type = KEY_TYPE_ANY;
	probe_result_done(&p->result);
	p->result = (struct probe_result) { .key_type = KEY_TYPE_ANY };
	probe_conn_begin(p);
	return true;
}

/* The connection has ended and let go of everything: deliver, start the next. */
static void on_ended(struct probe *p)
{
	struct probe_engine *e = engine_of(p);

	if (ask_again_for_any(p))
		return;
	sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
	p->result.total_usec = now_monotonic_usec() - p->start_usec;
	TAILQ_REMOVE(&e->running, p, link);
	TAILQ_INSERT_TAIL(&e->finished, p, link);
	e->n_running--;
	if (e->limit < e->max_in_flight)
		e->limit++;   /* a socket is free again */
	/* A connection saying goodbye still counts against max_in_flight. */
	if (p->bye)
		e->n_closing++;
	sd_event_source_set_enabled(p->defer, SD_EVENT_ONESHOT);
	engine_dispatch(e);
}

static void say(struct probe_engine *e)
{
	if (e->on_notice && e->notice[0] && !e->notice_said) {
		e->notice_said = true;
		e->on_notice(e->notice, e->notice_userdata);
	}
}

/*
 * No socket for p: certwatch's own shortage.  p waits at the head of the
 * queue, and the engine runs no more probes than got a socket; with none
 * running, it tries again shortly.  Only a probe that waited its whole
 * deadline for a socket ends, and its message says whose fault it is.
 */
static void on_starved(struct probe *p, int error)
{
	struct probe_engine *e = engine_of(p);
	char dur[32];

	probe_conn_release(p);
	if (now_monotonic_usec() - p->first_start_usec >= p->target.timeout_usec) {
		format_duration(p->target.timeout_usec, dur, sizeof(dur));
		p->result.status = PROBE_CONNECT_FAILED;
		p->result.phase = PROBE_PHASE_CONNECT;
		msg_set(&p->result.detail, PROBE_DETAIL_MAX, "certwatch itself could not "
			"open a socket within %s: %s (its own limit, not the server's fault)", dur,
			 strerror(error));
		on_ended(p);
		return;
	}
	sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
	TAILQ_REMOVE(&e->running, p, link);
	e->n_running--;
	p->phase = PROBE_PHASE_QUEUED;
	TAILQ_INSERT_HEAD(&e->queued, p, link);
	if (e->limit > (e->n_running ? e->n_running : 1)) {
		e->limit = e->n_running ? e->n_running : 1;
		if (!e->shortage_said) {
			e->shortage_said = true;
			e->notice_said = false;
			snprintf(e->notice, sizeof(e->notice), "certwatch ran out of %s with %u probes "
				 "in flight: at most %u run at once until probes end; raise the limit of "
				 "open files (LimitNOFILE= in the unit) or lower max-probes",
				 error == ENOMEM || error == ENOBUFS ? "memory" : "file descriptors",
				 e->n_running + 1, e->limit);
			say(e);
		}
	}
	if (e->n_running == 0 && !e->waiting) {
		e->waiting = true;
		(void)sd_event_source_set_time_relative(e->retry, STARVED_RETRY_USEC);
		(void)sd_event_source_set_enabled(e->retry, SD_EVENT_ONESHOT);
	}
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct probe_engine *e = userdata;

	(void)s;
	(void)usec;
	e->waiting = false;
	engine_dispatch(e);
	return 0;
}

/* The goodbye is over: the connection's place is free, and so is p once delivered. */
static void on_closed(struct probe *p)
{
	struct probe_engine *e = engine_of(p);

	e->n_closing--;
	if (p->delivered) {
		TAILQ_REMOVE(&e->closing, p, link);
		probe_free(p);
	}
	engine_dispatch(e);
}

/* Runs in a loop iteration of its own, and lets go of p before done runs. */
static int on_deliver(sd_event_source *s, void *userdata)
{
	struct probe *p = userdata;
	struct probe_engine *e = engine_of(p);
	struct probe_target t = p->target;
	struct probe_result r = p->result;
	probe_done_t done = p->done;
	void *ud = p->userdata;

	(void)s;
	TAILQ_REMOVE(&e->finished, p, link);
	e->n_probes--;
	p->delivered = true;
	if (p->bye)
		TAILQ_INSERT_TAIL(&e->closing, p, link);
	else
		probe_free(p);
	done(&t, &r, ud);
	return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	probe_conn_timeout(userdata);
	return 0;
}

static void probe_begin(struct probe *p)
{
	uint64_t t = p->target.timeout_usec;

	p->result.key_type = p->target.key_type;
	p->start_usec = now_monotonic_usec();
	if (!p->first_start_usec)
		p->first_start_usec = p->start_usec;
	sd_event_source_set_time(p->timer, t < UINT64_MAX - 1 - p->start_usec ?
				 p->start_usec + t : UINT64_MAX - 1);
	sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
	probe_conn_begin(p);
}

/* Starts queued probes while there is room; re-entered by probes that end at once. */
static void engine_dispatch(struct probe_engine *e)
{
	struct probe *p;

	if (e->dispatching)
		return;
	e->dispatching = true;
	while (!e->waiting && e->n_running + e->n_closing < e->limit &&
	       (p = TAILQ_FIRST(&e->queued))) {
		TAILQ_REMOVE(&e->queued, p, link);
		TAILQ_INSERT_TAIL(&e->running, p, link);
		e->n_running++;
		probe_begin(p);
	}
	e->dispatching = false;
}

bool probe_target_valid(const struct probe_target *t)
{
	return t && t->host && (t->starttls < 0 || (size_t)t->starttls < starttls_n_drivers);
}

int probe_start(struct probe_engine *e, const struct probe_target *t,
		probe_done_t done, void *userdata)
{
	struct probe *p;
	int r;

	if (!e || !done || !probe_target_valid(t))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->env = &e->env;
	p->target = *t;
	p->done = done;
	p->userdata = userdata;
	p->fd = -1;
	p->phase = PROBE_PHASE_QUEUED;
	/* Both sources now, so that nothing after this can fail to deliver. */
	r = sd_event_add_time(e->env.event, &p->timer, CLOCK_MONOTONIC, 0, 10 * USEC_PER_MSEC,
			      on_deadline, p);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_defer(e->env.event, &p->defer, on_deliver, p);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->defer, SD_EVENT_OFF);
	if (r < 0) {
		probe_free(p);
		return r;
	}
	TAILQ_INSERT_TAIL(&e->queued, p, link);
	e->n_probes++;
	engine_dispatch(e);
	return 0;
}

void probe_engine_on_notice(struct probe_engine *e, probe_notice_t notice, void *userdata)
{
	e->on_notice = notice;
	e->notice_userdata = userdata;
	say(e);
}

unsigned probe_engine_pending(const struct probe_engine *e)
{
	return e ? e->n_probes : 0;
}

unsigned probe_engine_closing(const struct probe_engine *e)
{
	return e ? e->n_closing : 0;
}

/*
 * OpenSSL writes to the socket with write(2), not send(MSG_NOSIGNAL): a
 * server that resets the connection must not kill the process.  A handler
 * the program installed itself is left alone.
 */
static void ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

int probe_engine_new(sd_event *event, unsigned max_in_flight, struct probe_engine **ret)
{
	struct probe_engine *e;
	int r;

	if (!event || max_in_flight == 0 || !ret)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->env.event = sd_event_ref(event);
	e->env.ended = on_ended;
	e->env.starved = on_starved;
	e->max_in_flight = e->limit = fdlimit_probes(max_in_flight, e->notice, sizeof(e->notice));
	e->env.closed = on_closed;
	TAILQ_INIT(&e->queued);
	TAILQ_INIT(&e->running);
	TAILQ_INIT(&e->finished);
	TAILQ_INIT(&e->closing);
	e->env.ctx = probe_tls_ctx_new();
	ERR_clear_error();
	r = e->env.ctx ? resolver_new(event, &e->env.resolver) : -ENOMEM;
	if (r >= 0)
		r = sd_event_add_time(event, &e->retry, CLOCK_MONOTONIC, 0, 10 * USEC_PER_MSEC,
				      on_retry, e);
	if (r >= 0)
		r = sd_event_source_set_enabled(e->retry, SD_EVENT_OFF);
	if (r < 0) {
		probe_engine_free(e);
		return r;
	}
	ignore_sigpipe();
	*ret = e;
	return 0;
}

void probe_engine_free(struct probe_engine *e)
{
	struct probe *p;

	if (!e)
		return;
	while ((p = TAILQ_FIRST(&e->queued))) {
		TAILQ_REMOVE(&e->queued, p, link);
		probe_free(p);
	}
	while ((p = TAILQ_FIRST(&e->running))) {
		TAILQ_REMOVE(&e->running, p, link);
		probe_free(p);
	}
	while ((p = TAILQ_FIRST(&e->finished))) {
		TAILQ_REMOVE(&e->finished, p, link);
		probe_result_done(&p->result);
		probe_free(p);
	}
	sd_event_source_disable_unref(e->retry);
	while ((p = TAILQ_FIRST(&e->closing))) {
		TAILQ_REMOVE(&e->closing, p, link);
		probe_free(p);
	}
	resolver_free(e->env.resolver);
	SSL_CTX_free(e->env.ctx);
	sd_event_unref(e->env.event);
	free(e);
}
