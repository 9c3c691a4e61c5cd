/*
 * test-probe-pool.c - the probe pool against servers on loopback in this
 * process: a TLS server (pki.h's leaf and intermediate), a port that
 * refuses, and one that accepts and never answers.  done is called once
 * per probe, on the caller's thread, never from inside probe_pool_start();
 * freeing the pool with probes queued, running or delivered by a worker
 * but not yet by the loop calls no done and leaks nothing (run it under
 * --enable-sanitizers); what a worker's engine says reaches the caller's
 * thread.  Every wait is for a condition, bounded by a deadline.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "fdlimit.h"
#include "pki.h"
#include "probe-pool.h"
#include "tap.h"
#include "util.h"

#define PROBES_MAX 128
#define DEADLINE_USEC (30 * USEC_PER_SEC)   /* a test that hangs fails, it does not wait forever */

/* A listening socket on 127.0.0.1; tls: served by a thread of its own. */
struct server {
	int fd;
	uint16_t port;
	SSL_CTX *ctx;
	pthread_t thread;
};

struct slot {
	unsigned calls;
	unsigned order;               /* run.n_done when its done was called */
	bool on_caller;
	struct probe_result r;
};

struct run {
	sd_event *event;
	struct probe_pool *pool;
	struct slot slots[PROBES_MAX];
	unsigned n_done;
	bool in_start;                /* probe_pool_start() is running */
	bool done_in_start;
	bool again_failed;
	unsigned again;               /* probes still to start from inside done */
	struct probe_target again_target;
	unsigned n_notices, want_notices;
	bool notice_on_caller;
	char notice[512];
};

static pthread_t caller;
static struct run run;

static int listen_on_loopback(struct server *sv, bool listening)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	sv->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sv->fd < 0 || bind(sv->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(sv->fd, (struct sockaddr *)&a, &len) < 0 ||
	    (listening && listen(sv->fd, 64) < 0))
		return -1;
	sv->port = ntohs(a.sin_port);
	return 0;
}

/* One connection at a time: the handshake, then until the client leaves. */
static void *serve_tls(void *userdata)
{
	struct server *sv = userdata;
	struct timeval tv = { .tv_sec = 5 };
	char buf[256];
	int c;

	while ((c = accept(sv->fd, NULL, NULL)) >= 0) {
		SSL *ssl = SSL_new(sv->ctx);

		(void)setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (ssl && SSL_set_fd(ssl, c) == 1 && SSL_accept(ssl) == 1) {
			while (SSL_read(ssl, buf, sizeof(buf)) > 0)
				;
			(void)SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(c);
	}
	return NULL;
}

static int tls_server_start(struct server *sv)
{
	sv->ctx = SSL_CTX_new(TLS_server_method());
	if (!sv->ctx || SSL_CTX_use_certificate(sv->ctx, leaf) != 1 ||
	    SSL_CTX_add1_chain_cert(sv->ctx, inter) != 1 ||
	    SSL_CTX_use_PrivateKey(sv->ctx, k_leaf) != 1 || listen_on_loopback(sv, true) < 0)
		return -1;
	return pthread_create(&sv->thread, NULL, serve_tls, sv) == 0 ? 0 : -1;
}

static void tls_server_stop(struct server *sv)
{
	shutdown(sv->fd, SHUT_RDWR);   /* accept() returns */
	pthread_join(sv->thread, NULL);
	close(sv->fd);
	SSL_CTX_free(sv->ctx);
}

static struct probe_target target_of(const struct server *sv, uint64_t timeout_usec)
{
	return (struct probe_target) {
		.host = "127.0.0.1",
		.port = sv->port,
		.starttls = -1,
		.sni = "mx.example.com",
		.timeout_usec = timeout_usec,
		.key_type = KEY_TYPE_ANY,
	};
}

static void on_done(const struct probe_target *t, struct probe_result *r, void *userdata)
{
	struct slot *s = userdata;

	(void)t;
	s->calls++;
	s->on_caller = pthread_equal(pthread_self(), caller);
	run.done_in_start |= run.in_start;
	probe_result_done(&s->r);
	s->r = *r;
	s->order = ++run.n_done;
	/* done may start probes: the next slots, from inside it. */
	if (run.again > 0) {
		unsigned i = PROBES_MAX - run.again--;

		run.again_failed |= probe_pool_start(run.pool, &run.again_target, on_done,
						     &run.slots[i]) < 0;
	}
}

static void on_notice(const char *message, void *userdata)
{
	(void)userdata;
	run.n_notices++;
	run.notice_on_caller = pthread_equal(pthread_self(), caller);
	snprintf(run.notice, sizeof(run.notice), "%s", message);
}

static int start(const struct probe_target *t, unsigned slot)
{
	int r;

	run.in_start = true;
	r = probe_pool_start(run.pool, t, on_done, &run.slots[slot]);
	run.in_start = false;
	return r;
}

/* Runs the loop until every probe is delivered and every goodbye over, or the deadline. */
static int on_post(sd_event_source *s, void *userdata)
{
	(void)userdata;
	if (probe_pool_pending(run.pool) == 0 && probe_pool_closing(run.pool) == 0 &&
	    run.again == 0 && run.n_notices >= run.want_notices)
		return sd_event_exit(sd_event_source_get_event(s), 0);
	return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)usec;
	(void)userdata;
	return sd_event_exit(sd_event_source_get_event(s), -ETIMEDOUT);
}

/* The loop's own sources, made before a test takes every descriptor away. */
static sd_event_source *post, *deadline;

static int arm(void)
{
	int r = sd_event_add_post(run.event, &post, on_post, NULL);

	if (r >= 0)
		r = sd_event_add_time_relative(run.event, &deadline, CLOCK_MONOTONIC, DEADLINE_USEC,
					       0, on_deadline, NULL);
	return r;
}

static int run_until_quiet(void)
{
	int r = post ? 0 : arm();

	if (r >= 0)
		r = sd_event_loop(run.event);
	post = sd_event_source_disable_unref(post);
	deadline = sd_event_source_disable_unref(deadline);
	return r;
}

static void diag_result(unsigned i, const struct probe_result *r)
{
	printf("# probe %u: %s in phase %s: %s\n", i, probe_status_to_string(r->status),
	       probe_phase_to_string(r->phase), msg_text(r->detail));
}

/* A fresh loop for each test: one that exited cannot run again. */
static int run_reset(void)
{
	for (unsigned i = 0; i < PROBES_MAX; i++)
		probe_result_done(&run.slots[i].r);
	sd_event_unref(run.event);
	memset(&run, 0, sizeof(run));
	return sd_event_new(&run.event);
}

static void done_is_called_once_per_probe_on_the_callers_thread(unsigned n_workers,
								 const struct server *tls,
								 const struct server *refused)
{
	struct probe_target good = target_of(tls, 10 * USEC_PER_SEC);
	struct probe_target bad = target_of(refused, 10 * USEC_PER_SEC);
	const unsigned n_tls = 60, n_refused = 40, n_again = PROBES_MAX - n_tls - n_refused;
	bool once = true, on_caller = true, tls_ok = true, refused_ok = true;
	int r;

	r = run_reset();
	if (r >= 0)
		r = probe_pool_new(run.event, 8, n_workers, &run.pool);
	if (!ok(r == 0, "%u workers: the pool is made", n_workers)) {
		printf("# %s\n", strerror(-r));
		return;
	}
	run.again = n_again;
	run.again_target = good;
	for (unsigned i = 0; i < n_tls + n_refused; i++)
		r |= start(i < n_tls ? &good : &bad, i);
	ok(r == 0, "%u probes started", n_tls + n_refused);
	ok(probe_pool_pending(run.pool) == n_tls + n_refused, "pending counts the probes started");
	ok(run.n_done == 0, "no done from inside probe_pool_start()");
	ok(run_until_quiet() == 0, "%u workers: every probe delivered before the deadline",
	   n_workers);
	for (unsigned i = 0; i < PROBES_MAX; i++) {
		const struct probe_result *res = &run.slots[i].r;
		bool is_tls = i < n_tls || i >= n_tls + n_refused;

		once &= run.slots[i].calls == 1;
		on_caller &= run.slots[i].on_caller;
		if (is_tls && (res->status != PROBE_OK || res->chain_len != 1 || !res->name_covered ||
			       !res->leaf.subject || !strstr(res->leaf.subject, "mx.example.com"))) {
			tls_ok = false;
			diag_result(i, res);
		}
		if (!is_tls && res->status != PROBE_CONNECT_REFUSED) {
			refused_ok = false;
			diag_result(i, res);
		}
	}
	ok(once, "%u workers: done called exactly once per probe (%u calls)", n_workers,
	   run.n_done);
	ok(on_caller, "%u workers: done called on the caller's thread, every time", n_workers);
	ok(!run.done_in_start, "%u workers: never from inside probe_pool_start()", n_workers);
	ok(!run.again_failed, "%u workers: %u probes started from inside done", n_workers, n_again);
	ok(tls_ok, "%u workers: the TLS probes saw the leaf and its intermediate", n_workers);
	ok(refused_ok, "%u workers: the refused ones were refused", n_workers);
	ok(probe_pool_pending(run.pool) == 0 && probe_pool_closing(run.pool) == 0,
	   "%u workers: nothing pending or closing at the end", n_workers);
	probe_pool_free(run.pool);
}

/* Whether fd turns readable before until (CLOCK_MONOTONIC usec). */
static bool wait_readable(int fd, uint64_t until)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t now;

	while ((now = now_monotonic_usec()) < until) {
		int n = poll(&pfd, 1, (int)((until - now) / USEC_PER_MSEC) + 1);

		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
	return false;
}

/*
 * Probes connected to a server that never answers (running on a worker),
 * refused ones whose results wait on the caller's loop, and, at once,
 * probes still on a worker's queue: freed, none calls done.
 */
static void free_with_probes_in_flight_calls_no_done(const struct server *refused)
{
	const unsigned n_quiet = 6, n_refused = 4;
	uint64_t until = now_monotonic_usec() + DEADLINE_USEC;
	struct probe_target quiet, bad;
	struct server silent;
	int conns[8];
	unsigned n_conns = 0;
	bool arrived;
	int r = 0;

	/* A loop of the test's own: its descriptor turns readable only for the pool. */
	if (run_reset() < 0 || listen_on_loopback(&silent, true) < 0) {
		ok(0, "a loop and a silent server for the test");
		return;
	}
	quiet = target_of(&silent, 60 * USEC_PER_SEC);
	bad = target_of(refused, 60 * USEC_PER_SEC);
	ok(probe_pool_new(run.event, 16, 2, &run.pool) == 0, "a pool of 2 workers");
	for (unsigned i = 0; i < n_quiet + n_refused; i++)
		r |= start(i < n_quiet ? &quiet : &bad, i);
	ok(r == 0, "probes started");
	while (n_conns < n_quiet && wait_readable(silent.fd, until)) {
		int c = accept4(silent.fd, NULL, NULL, SOCK_CLOEXEC);

		if (c >= 0)
			conns[n_conns++] = c;
	}
	ok(n_conns == n_quiet, "every probe of the silent server connected (%u)", n_conns);
	arrived = wait_readable(sd_event_get_fd(run.event), until);
	ok(arrived, "the refused probes' results wait for the caller's loop");
	ok(probe_pool_pending(run.pool) == n_quiet + n_refused, "all of them still pending");
	probe_pool_free(run.pool);
	ok(run.n_done == 0, "freed with probes in flight and results waiting: no done");

	/* Freed at once: the jobs are on the workers' queues, or just taken. */
	ok(probe_pool_new(run.event, 16, 2, &run.pool) == 0, "another pool of 2 workers");
	for (unsigned i = 0; i < PROBES_MAX; i++)
		r |= start(i % 2 ? &quiet : &bad, i);
	ok(r == 0, "%u probes started", PROBES_MAX);
	probe_pool_free(run.pool);
	ok(run.n_done == 0, "freed at once: no done");

	while (n_conns > 0)
		close(conns[--n_conns]);
	close(silent.fd);
}

/*
 * max-probes is one bound for the whole pool, as for one engine: a probe
 * started while fewer than max-probes are in flight starts at once, even
 * when the worker it would go to is busy with handshakes that never end.
 * Two workers of two probes each; the probes in the order s g s g g (s:
 * a server that accepts and never answers, g: a TLS server): the last g
 * must not wait behind the two s of one worker while the other is idle.
 */
static void a_free_slot_is_not_left_idle_behind_stalled_probes(const struct server *tls)
{
	const bool stalls[] = { true, false, true, false, false };
	const unsigned n = sizeof(stalls) / sizeof(stalls[0]);
	struct probe_target g = target_of(tls, 20 * USEC_PER_SEC), s;
	struct server silent;
	unsigned last_g = 0, first_s = 0;
	int r = 0;

	if (run_reset() < 0 || listen_on_loopback(&silent, true) < 0) {
		ok(0, "a loop and a silent server for the test");
		return;
	}
	/* Long enough that any good probe is over first, unless it waited for them. */
	s = target_of(&silent, 8 * USEC_PER_SEC);
	ok(probe_pool_new(run.event, 4, 2, &run.pool) == 0, "a pool of 2 workers, 4 probes");
	for (unsigned i = 0; i < n; i++)
		r |= start(stalls[i] ? &s : &g, i);
	ok(r == 0, "%u probes started: 2 that stall, 3 to a TLS server", n);
	ok(run_until_quiet() == 0, "every probe delivered before the deadline");
	for (unsigned i = 0; i < n; i++) {
		if (stalls[i] && (!first_s || run.slots[i].order < first_s))
			first_s = run.slots[i].order;
		if (!stalls[i] && run.slots[i].order > last_g)
			last_g = run.slots[i].order;
		if (!stalls[i] && run.slots[i].r.status != PROBE_OK)
			diag_result(i, &run.slots[i].r);
	}
	ok(last_g < first_s, "every TLS probe delivered before the stalled ones time out "
	   "(the last at %u, the first stalled at %u)", last_g, first_s);
	probe_pool_free(run.pool);
	close(silent.fd);
}

static unsigned open_now(void)
{
	unsigned n = 0;

	for (int fd = 0; fd < 65536; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/*
 * A worker's engine that finds no descriptor for a socket says so: the
 * notice is said on the caller's thread, and the probe ends at its
 * deadline as certwatch's own failure.
 */
static void a_workers_notice_reaches_the_callers_thread(const struct server *tls)
{
	struct probe_target t = target_of(tls, 300 * USEC_PER_MSEC);
	struct rlimit saved, low;
	int *fill = NULL, null_fd;
	unsigned n_fill = 0;
	int r;

	ok(run_reset() >= 0 && probe_pool_new(run.event, 4, 2, &run.pool) == 0,
	   "a pool of 2 workers");
	probe_pool_on_notice(run.pool, on_notice, NULL);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	r = getrlimit(RLIMIT_NOFILE, &saved);
	low = saved;
	low.rlim_cur = open_now() + 8;
	fill = calloc(low.rlim_cur, sizeof(*fill));
	if (r < 0 || !fill || null_fd < 0 || arm() < 0 || setrlimit(RLIMIT_NOFILE, &low) < 0) {
		ok(0, "no descriptor left for the probes");
		free(fill);
		return;
	}
	while (n_fill < low.rlim_cur && (fill[n_fill] = fcntl(null_fd, F_DUPFD_CLOEXEC, 0)) >= 0)
		n_fill++;
	run.want_notices = 1;
	r = start(&t, 0) | start(&t, 1);
	ok(r == 0, "probes started without a descriptor to spare");
	ok(run_until_quiet() == 0, "both delivered at their deadline");
	while (n_fill > 0)
		close(fill[--n_fill]);
	free(fill);
	close(null_fd);
	(void)setrlimit(RLIMIT_NOFILE, &saved);
	like(run.notice, "ran out of file descriptors", "the engine's notice was said");
	ok(run.notice_on_caller, "on the caller's thread");
	ok(run.slots[0].on_caller && run.slots[0].r.status == PROBE_CONNECT_FAILED,
	   "the probe failed, said on the caller's thread");
	like(msg_text(run.slots[0].r.detail), "could not open a socket", "as certwatch's own limit");
	probe_pool_free(run.pool);
}

/* Fewer descriptors than max-probes wants: the pool says so once, not once per worker. */
static void the_pools_limit_is_said_once(void)
{
	struct rlimit saved, low;
	int r;

	r = run_reset();
	if (r >= 0)
		r = getrlimit(RLIMIT_NOFILE, &saved);
	low = saved;
	low.rlim_cur = open_now() + FDLIMIT_RESERVE + 20;
	if (r < 0 || setrlimit(RLIMIT_NOFILE, &low) < 0) {
		ok(0, "a lower limit of open files");
		return;
	}
	r = probe_pool_new(run.event, 100, 2, &run.pool);
	(void)setrlimit(RLIMIT_NOFILE, &saved);
	ok(r == 0, "a pool of 2 workers for 100 probes");
	if (r < 0)
		return;
	probe_pool_on_notice(run.pool, on_notice, NULL);
	run.want_notices = 1;
	ok(run_until_quiet() == 0, "the notice was said");
	like(run.notice, "probes run at once, not max-probes = 100", "it names max-probes");
	ok(run.n_notices == 1 && run.notice_on_caller, "once, on the caller's thread (%u)",
	   run.n_notices);
	probe_pool_free(run.pool);
}

/*
 * "One per CPU" is per CPU certwatch may run on: started with an affinity
 * of one CPU (taskset -c 0, systemd's CPUAffinity=), one worker, not one
 * per CPU of the machine taking turns on that one.
 */
static void one_worker_per_cpu_it_may_run_on(void)
{
	cpu_set_t saved, one;

	if (sched_getaffinity(0, sizeof(saved), &saved) < 0 || CPU_COUNT(&saved) < 2) {
		ok(1, "# SKIP fewer than 2 CPUs to run on: nothing to narrow");
		return;
	}
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &saved)) {
			CPU_SET(c, &one);
			break;
		}
	if (sched_setaffinity(0, sizeof(one), &one) < 0) {
		ok(0, "an affinity of one CPU");
		return;
	}
	ok(probe_workers(1000) == 1, "an affinity of one CPU: one worker (%u)", probe_workers(1000));
	(void)sched_setaffinity(0, sizeof(saved), &saved);
}

int main(void)
{
	struct server tls = { .fd = -1 }, refused = { .fd = -1 };

	caller = pthread_self();
	pki_make();
	/* Bound and not listening: a connection is refused, and the port stays ours. */
	if (tls_server_start(&tls) < 0 ||
	    listen_on_loopback(&refused, false) < 0) {
		printf("Bail out! no event loop or no server on loopback\n");
		return 1;
	}
	ok(probe_workers(1) == 1, "one probe in flight: one worker");
	ok(probe_workers(1000) >= 1 && probe_workers(1000) <= PROBE_WORKERS_MAX,
	   "one worker per CPU, at most %d", PROBE_WORKERS_MAX);
	one_worker_per_cpu_it_may_run_on();
	done_is_called_once_per_probe_on_the_callers_thread(2, &tls, &refused);
	done_is_called_once_per_probe_on_the_callers_thread(1, &tls, &refused);
	done_is_called_once_per_probe_on_the_callers_thread(PROBE_WORKERS_MAX, &tls, &refused);
	free_with_probes_in_flight_calls_no_done(&refused);
	a_free_slot_is_not_left_idle_behind_stalled_probes(&tls);
	a_workers_notice_reaches_the_callers_thread(&tls);
	the_pools_limit_is_said_once();
	(void)run_reset();
	close(refused.fd);
	tls_server_stop(&tls);
	sd_event_unref(run.event);
	pki_free();
	return tap_done();
}
