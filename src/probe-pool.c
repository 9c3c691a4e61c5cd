/*
 * probe-pool.c - the probe engine on a few threads; see probe-pool.h.
 *
 * A probe is handed over as a job: a copy of its target, its done and
 * userdata, and later its result.  Jobs wait on the caller's thread until
 * a worker has room: at most its share of max_in_flight in hand.  Not
 * more: a job queued in a worker's engine waits for one of that worker's
 * probes to end, which for a server that stalls is the whole timeout,
 * while another worker may have probes to spare; max_in_flight stays one
 * bound for the pool, as it is for one engine.  (A goodbye still holds
 * its place in the engine, a second at most.)
 * Nor is a pass over thousands of endpoints handed out at once (a probe
 * an engine queues, with its timer and its delivery's source, costs more
 * than the job).  The caller's thread puts the job on the queue of the
 * worker with the most room and bumps that worker's eventfd;
 * the worker's loop takes its queue and starts the probes on its
 * engine.  The engine's done, on the worker, fills the job in, puts it on
 * the pool's queue of results and bumps the pool's eventfd; the caller's
 * loop delivers the results one per iteration from a defer source, as the
 * engine does, so that done may start probes or free the pool.  A notice
 * of a worker's engine travels the same way.  The queues and the workers'
 * stop are under one lock; a worker's eventfd is bumped only when its
 * queue was empty, since one that was not is about to be taken.
 *
 * Each job is also on the pool's list of jobs, which only the caller's
 * thread touches, from its start to its delivery: once the workers are
 * joined, that list holds every job not delivered, wherever it was.
 *
 * The workers share nothing with the caller's thread but the jobs, the
 * closing counts (atomics) and what a probe itself calls: the trust store
 * and the x509 module's caches, which lock.  No probe code logs or reads
 * anything of the caller's; the target's strings are only read.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <unistd.h>

#include "fdlimit.h"
#include "probe-pool.h"

struct worker;

struct job {
	TAILQ_ENTRY(job) link;        /* on a worker's queue or the results, under the lock */
	TAILQ_ENTRY(job) all;         /* on the pool's list of jobs: the caller's thread only */
	struct worker *w;
	struct probe_target target;   /* as the engine's done gives it back */
	probe_done_t done;
	void *userdata;
	struct probe_result result;
};

struct notice {
	TAILQ_ENTRY(notice) link;
	char text[];
};

TAILQ_HEAD(job_list, job);
TAILQ_HEAD(notice_list, notice);

struct worker {
	struct probe_pool *pool;
	sd_event *event;
	struct probe_engine *engine;  /* the worker thread's once started; it frees it */
	sd_event_source *wake, *turn;
	int wake_fd;
	pthread_t thread;
	bool started;
	struct job_list jobs;         /* under the pool's lock: handed over, not started */
	bool stop;                    /* under the pool's lock */
	atomic_uint closing;          /* its engine's, as of its last turn */
	unsigned in_hand;             /* the caller's thread's: given, not delivered */
	unsigned room;                /* in_hand at most */
};

struct probe_pool {
	sd_event *event;
	pthread_mutex_t lock;
	struct job_list results;      /* under lock: ended, not delivered */
	struct notice_list notices;   /* under lock: not said yet */
	int done_fd;
	sd_event_source *arrived, *deliver;
	struct job_list all;          /* every job started and not delivered */
	struct job_list waiting;      /* the caller's thread's: not handed out yet */
	unsigned pending;
	probe_notice_t on_notice;
	void *notice_userdata;
	unsigned n_workers;
	struct worker workers[PROBE_WORKERS_MAX];
};

unsigned probe_workers(unsigned max_in_flight)
{
	cpu_set_t set;
	/* The CPUs this process may run on (taskset, CPUAffinity=), not the machine's. */
	long cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) :
		    sysconf(_SC_NPROCESSORS_ONLN);
	unsigned k = cpus > 0 ? (unsigned)cpus : 1;

	if (k > PROBE_WORKERS_MAX)
		k = PROBE_WORKERS_MAX;
	if (k > max_in_flight)
		k = max_in_flight;
	return k ? k : 1;
}

static void bump(int fd)
{
	(void)eventfd_write(fd, 1);
}

/* From any thread. */
static void push_notice(struct probe_pool *p, const char *text)
{
	size_t len = strlen(text) + 1;
	struct notice *n = malloc(sizeof(*n) + len);

	if (!n)
		return;   /* for people only */
	memcpy(n->text, text, len);
	pthread_mutex_lock(&p->lock);
	TAILQ_INSERT_TAIL(&p->notices, n, link);
	pthread_mutex_unlock(&p->lock);
	bump(p->done_fd);
}

/* ---- on a worker's thread ---- */

static void push_result(struct probe_pool *p, struct job *j)
{
	bool was_empty;

	pthread_mutex_lock(&p->lock);
	was_empty = TAILQ_EMPTY(&p->results);
	TAILQ_INSERT_TAIL(&p->results, j, link);
	pthread_mutex_unlock(&p->lock);
	if (was_empty)
		bump(p->done_fd);
}

static void on_engine_done(const struct probe_target *t, struct probe_result *r, void *userdata)
{
	struct job *j = userdata;

	j->target = *t;
	j->result = *r;   /* takes r's allocations */
	/* Before the result is seen: a caller that sees it delivered must see its goodbye. */
	atomic_store(&j->w->closing, probe_engine_closing(j->w->engine));
	push_result(j->w->pool, j);
}

static void on_engine_notice(const char *message, void *userdata)
{
	struct worker *w = userdata;

	push_notice(w->pool, message);
}

static void start_job(struct worker *w, struct job *j)
{
	int r = probe_start(w->engine, &j->target, on_engine_done, j);

	if (r >= 0)
		return;
	/* The target was checked by probe_pool_start(): only memory was missing.  done all the same. */
	j->result = (struct probe_result) {
		.status = PROBE_CONNECT_FAILED,
		.phase = PROBE_PHASE_QUEUED,
		.key_type = j->target.key_type,
	};
	(void)msg_set(&j->result.detail, PROBE_DETAIL_MAX, "certwatch could not start the "
		      "probe: %s", strerror(-r));
	push_result(w->pool, j);
}

static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct worker *w = userdata;
	struct job_list jobs = TAILQ_HEAD_INITIALIZER(jobs);
	struct job *j;
	eventfd_t n;
	bool stop;

	(void)s;
	(void)revents;
	/* Read before the queue is taken: a job queued after this bumps again. */
	(void)eventfd_read(fd, &n);
	pthread_mutex_lock(&w->pool->lock);
	TAILQ_CONCAT(&jobs, &w->jobs, link);
	stop = w->stop;
	pthread_mutex_unlock(&w->pool->lock);
	if (stop)
		return sd_event_exit(w->event, 0);   /* the jobs are the pool's to free */
	while ((j = TAILQ_FIRST(&jobs))) {
		TAILQ_REMOVE(&jobs, j, link);
		start_job(w, j);
	}
	return 0;
}

/* After every turn of the worker's loop: its goodbyes, for probe_pool_closing(). */
static int on_turn(sd_event_source *s, void *userdata)
{
	struct worker *w = userdata;
	unsigned n = probe_engine_closing(w->engine);

	(void)s;
	if (atomic_exchange(&w->closing, n) != 0 && n == 0)
		bump(w->pool->done_fd);   /* a caller waiting for the goodbyes looks again */
	return 0;
}

static void *worker_main(void *userdata)
{
	struct worker *w = userdata;

	/* Named for top -H and /proc/PID/task/TID/comm: a probe's CPU shows as the probes'. */
	(void)pthread_setname_np(pthread_self(), "certwatch-probe");
	(void)sd_event_loop(w->event);
	/* Its probes are cancelled on the thread that ran them; done is not called. */
	probe_engine_free(w->engine);
	w->engine = NULL;
	return NULL;
}

/* ---- on the caller's thread ---- */

static int on_arrived(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct probe_pool *p = userdata;
	eventfd_t n;

	(void)s;
	(void)revents;
	(void)eventfd_read(fd, &n);
	(void)sd_event_source_set_enabled(p->deliver, SD_EVENT_ON);
	return 0;
}

/* A job to w: its queue, and its eventfd when the queue was empty. */
static void give(struct worker *w, struct job *j)
{
	bool was_empty;

	j->w = w;
	w->in_hand++;
	pthread_mutex_lock(&w->pool->lock);
	was_empty = TAILQ_EMPTY(&w->jobs);
	TAILQ_INSERT_TAIL(&w->jobs, j, link);
	pthread_mutex_unlock(&w->pool->lock);
	if (was_empty)
		bump(w->wake_fd);
}

/* Waiting jobs to the workers, the one with the most room first, while one has room. */
static void hand_out(struct probe_pool *p)
{
	struct job *j;

	while ((j = TAILQ_FIRST(&p->waiting))) {
		struct worker *w = &p->workers[0];

		for (unsigned i = 1; i < p->n_workers; i++)
			if (p->workers[i].room - p->workers[i].in_hand > w->room - w->in_hand)
				w = &p->workers[i];
		if (w->in_hand >= w->room)
			return;
		TAILQ_REMOVE(&p->waiting, j, link);
		give(w, j);
	}
}

static void deliver_job(struct probe_pool *p, struct job *j)
{
	struct probe_target t = j->target;
	struct probe_result r = j->result;
	probe_done_t done = j->done;
	void *ud = j->userdata;

	TAILQ_REMOVE(&p->all, j, all);
	p->pending--;
	j->w->in_hand--;
	free(j);
	hand_out(p);
	done(&t, &r, ud);
}

/* One notice or result per turn of the loop; off once none is left. */
static int on_deliver(sd_event_source *s, void *userdata)
{
	struct probe_pool *p = userdata;
	struct notice *n = NULL;
	struct job *j = NULL;
	bool more;

	pthread_mutex_lock(&p->lock);
	if (p->on_notice && (n = TAILQ_FIRST(&p->notices)))
		TAILQ_REMOVE(&p->notices, n, link);
	else if ((j = TAILQ_FIRST(&p->results)))
		TAILQ_REMOVE(&p->results, j, link);
	more = !TAILQ_EMPTY(&p->results) || (p->on_notice && !TAILQ_EMPTY(&p->notices));
	pthread_mutex_unlock(&p->lock);
	if (!more)
		(void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
	if (n) {
		p->on_notice(n->text, p->notice_userdata);
		free(n);
	} else if (j)
		deliver_job(p, j);
	return 0;
}

int probe_pool_start(struct probe_pool *p, const struct probe_target *t, probe_done_t done,
		     void *userdata)
{
	struct job *j;

	if (!p || !done || !probe_target_valid(t))
		return -EINVAL;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct job) { .target = *t, .done = done, .userdata = userdata };
	TAILQ_INSERT_TAIL(&p->all, j, all);
	TAILQ_INSERT_TAIL(&p->waiting, j, link);
	p->pending++;
	hand_out(p);
	return 0;
}

void probe_pool_on_notice(struct probe_pool *p, probe_notice_t notice, void *userdata)
{
	bool said;

	p->on_notice = notice;
	p->notice_userdata = userdata;
	pthread_mutex_lock(&p->lock);
	said = !TAILQ_EMPTY(&p->notices);
	pthread_mutex_unlock(&p->lock);
	if (notice && said)
		(void)sd_event_source_set_enabled(p->deliver, SD_EVENT_ON);
}

unsigned probe_pool_pending(const struct probe_pool *p)
{
	return p ? p->pending : 0;
}

unsigned probe_pool_closing(const struct probe_pool *p)
{
	unsigned n = 0;

	for (unsigned i = 0; p && i < p->n_workers; i++)
		n += atomic_load(&p->workers[i].closing);
	return n;
}

/* A worker's loop and engine, made here and run by its thread once started. */
static int worker_new(struct worker *w, unsigned max_in_flight)
{
	int r;

	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd < 0)
		return -errno;
	r = sd_event_new(&w->event);
	if (r >= 0)
		r = probe_engine_new(w->event, max_in_flight, &w->engine);
	if (r >= 0)
		r = sd_event_add_io(w->event, &w->wake, w->wake_fd, EPOLLIN, on_wake, w);
	if (r >= 0)
		r = sd_event_add_post(w->event, &w->turn, on_turn, w);
	if (r >= 0)
		probe_engine_on_notice(w->engine, on_engine_notice, w);
	return r;
}

static int worker_start(struct worker *w)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGPIPE };
	sigset_t mask, old;
	int e;

	/*
	 * Signals are the caller's loop's (signalfd): none may end up on a
	 * worker.  A fault is the thread's own, and SIGPIPE is ignored
	 * (probe.c), so that a blocked one is not left pending.
	 */
	sigfillset(&mask);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&mask, faults[i]);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	e = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	w->started = e == 0;
	return -e;
}

/* The caller's end: the results' eventfd, and the defer source that delivers them. */
static int pool_sources(struct probe_pool *p)
{
	int r;

	p->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->done_fd < 0)
		return -errno;
	r = sd_event_add_io(p->event, &p->arrived, p->done_fd, EPOLLIN, on_arrived, p);
	if (r >= 0)
		r = sd_event_add_defer(p->event, &p->deliver, on_deliver, p);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->deliver, SD_EVENT_OFF);
	return r;
}

int probe_pool_new(sd_event *event, unsigned max_in_flight, unsigned n_workers,
		   struct probe_pool **ret)
{
	struct probe_pool *p;
	char why[512];
	int r;

	if (!event || max_in_flight == 0 || n_workers > PROBE_WORKERS_MAX || !ret)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->event = sd_event_ref(event);
	p->done_fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	TAILQ_INIT(&p->results);
	TAILQ_INIT(&p->notices);
	TAILQ_INIT(&p->all);
	TAILQ_INIT(&p->waiting);
	for (unsigned i = 0; i < PROBE_WORKERS_MAX; i++) {
		p->workers[i] = (struct worker) { .pool = p, .wake_fd = -1 };
		TAILQ_INIT(&p->workers[i].jobs);
		atomic_init(&p->workers[i].closing, 0);
	}
	r = pool_sources(p);
	if (r < 0)
		goto fail;
	/* The descriptors are the process's: the workers share what is left, said once. */
	max_in_flight = fdlimit_probes(max_in_flight, why, sizeof(why));
	if (why[0])
		push_notice(p, why);
	p->n_workers = n_workers ? n_workers : probe_workers(max_in_flight);
	if (p->n_workers > max_in_flight)
		p->n_workers = max_in_flight;
	/* max-probes is the bound for the whole pool: shared out. */
	for (unsigned i = 0; i < p->n_workers && r >= 0; i++) {
		unsigned share = max_in_flight / p->n_workers + (i < max_in_flight % p->n_workers);

		p->workers[i].room = share;
		r = worker_new(&p->workers[i], share);
	}
	for (unsigned i = 0; i < p->n_workers && r >= 0; i++)
		r = worker_start(&p->workers[i]);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	probe_pool_free(p);
	return r;
}

void probe_pool_free(struct probe_pool *p)
{
	struct notice *n;
	struct job *j;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < p->n_workers; i++)
		p->workers[i].stop = true;
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_workers; i++)
		if (p->workers[i].started)
			bump(p->workers[i].wake_fd);
	for (unsigned i = 0; i < p->n_workers; i++) {
		struct worker *w = &p->workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		probe_engine_free(w->engine);   /* a worker that never ran */
		sd_event_source_disable_unref(w->wake);
		sd_event_source_disable_unref(w->turn);
		sd_event_unref(w->event);
		if (w->wake_fd >= 0)
			close(w->wake_fd);
	}
	/* Wherever each was: waiting, on a queue, in a cancelled probe, among the results. */
	while ((j = TAILQ_FIRST(&p->all))) {
		TAILQ_REMOVE(&p->all, j, all);
		probe_result_done(&j->result);
		free(j);
	}
	while ((n = TAILQ_FIRST(&p->notices))) {
		TAILQ_REMOVE(&p->notices, n, link);
		free(n);
	}
	sd_event_source_disable_unref(p->arrived);
	sd_event_source_disable_unref(p->deliver);
	if (p->done_fd >= 0)
		close(p->done_fd);
	pthread_mutex_destroy(&p->lock);
	sd_event_unref(p->event);
	free(p);
}
