/*
 * persist.c - the state file, STATUS= and the metrics file; see persist.h.
 *
 * Nothing here decides anything: the records are what the services and
 * their endpoints say (service_record(), the judged check items), and
 * STATUS= sums them up in one line.  The records are kept from one write
 * to the next, and a write builds again only those it was told changed.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "metrics.h"
#include "persist.h"
#include "util.h"

struct persist {
	sd_event *event;
	char *state_dir;
	struct state_writer *state;   /* appends what changed (state.h) */
	char *metrics_file;
	struct persist_source src;
	sd_event_source *post;     /* writes after this turn of the loop */
	sd_event_source *delay;    /* writes at the latest then, while probes run */
	bool dirty;
	uint64_t dirty_since;      /* CLOCK_MONOTONIC usec */
	/*
	 * The records of the last write, kept for the next, which builds
	 * again only those told changed (persist_note_*()): beside 10,000
	 * endpoints a renewal changes three records, and building, summing
	 * and comparing all of them at every write was what a write cost.
	 * Built whole by the first write.
	 */
	struct state snap;         /* its endpoints' reasons are copies of its own */
	bool *noted;               /* per record (services' first): in todo */
	size_t *todo;              /* the records to build again */
	size_t n_todo;
	struct service_slot *slots;   /* the services by address, for persist_note_service() */
	int64_t offset;            /* realtime - boottime when the services' records were made */
};

/* A service and its index in the source. */
struct service_slot {
	const struct service *svc;
	size_t i;
};

/*
 * How far the wall clock may have moved against CLOCK_BOOTTIME before the
 * services' records, whose times for people come through the wall clock
 * (state_service_from_policy()), are made again: a step of the clock, not
 * the jitter of reading two clocks.
 */
#define PERSIST_CLOCK_MOVED_USEC ((int64_t)(100 * USEC_PER_MSEC))

static void endpoint_record(const struct check_item *it, struct state_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	e->service = (char *)it->service;
	e->endpoint = (char *)it->endpoint;
	snprintf(e->state, sizeof(e->state), "%s", verdict_state_to_string(it->verdict.state));
	if (!check_item_judged(it)) {
		/* Neither good nor bad is known: no certificate, UNKNOWN and not OK. */
		snprintf(e->severity, sizeof(e->severity), "%s",
			 severity_to_string(SEVERITY_UNKNOWN));
		e->reason = (char *)VERDICT_PENDING_REASON;
		return;
	}
	if (it->probe.status == PROBE_OK) {
		sha256_to_hex(it->probe.leaf.sha256, e->served);
		e->served_not_after = it->probe.leaf.not_after;
	}
	if (it->disk.have_leaf)
		sha256_to_hex(it->disk.leaf.sha256, e->disk);
	snprintf(e->severity, sizeof(e->severity), "%s", severity_to_string(it->verdict.severity));
	e->reason = it->verdict.reason;
}

/* The header of a write now. */
static void header_fill(struct state *st)
{
	st->pid = getpid();
	st->written = (int64_t)time(NULL);
	state_clock_now(&st->clock);
}

/* The records of src into st, whose arrays hold as many as src has. */
static void snapshot_fill(const struct persist_source *src, struct state *st)
{
	header_fill(st);
	for (size_t i = 0; i < src->n_services; i++)
		service_record(src->services[i], &st->clock, &st->services[i]);
	for (size_t i = 0; i < src->n_items; i++)
		endpoint_record(&src->items[i], &st->endpoints[i]);
	st->n_services = src->n_services;
	st->n_endpoints = src->n_items;
}

int persist_snapshot(const struct persist_source *src, struct state *ret)
{
	struct state st = {};

	st.services = calloc(src->n_services ? src->n_services : 1, sizeof(*st.services));
	st.endpoints = calloc(src->n_items ? src->n_items : 1, sizeof(*st.endpoints));
	if (!st.services || !st.endpoints) {
		persist_snapshot_done(&st);
		return -ENOMEM;
	}
	snapshot_fill(src, &st);
	*ret = st;
	return 0;
}

void persist_snapshot_done(struct state *st)
{
	free(st->services);
	free(st->endpoints);
	memset(st, 0, sizeof(*st));
}

static void announce(const struct persist_source *src)
{
	unsigned ok = 0, pending = 0, bad = 0, unchecked = 0, paused = 0;
	char more[48] = "";

	for (size_t i = 0; i < src->n_items; i++) {
		const struct verdict *v = &src->items[i].verdict;

		if (!check_item_judged(&src->items[i]))
			unchecked++;
		else if (v->state == STATE_OK)
			ok++;
		else if (v->action == ACTION_RELOAD)
			pending++;
		else
			bad++;
	}
	for (size_t i = 0; i < src->n_services; i++)
		paused += service_paused(src->services[i]);
	/* Said only while there are some: the first pass after a start or a SIGHUP. */
	if (unchecked)
		snprintf(more, sizeof(more), ", %u not checked yet", unchecked);
	sd_notifyf(false, "STATUS=%zu endpoints: %u ok, %u reload pending, %u failing%s; "
		   "%u services paused", src->n_items, ok, pending, bad, more, paused);
}

static void write_metrics(const struct persist *p)
{
	const struct persist_source *src = &p->src;
	struct metrics_service *ms = calloc(src->n_services ? src->n_services : 1, sizeof(*ms));
	int r = -ENOMEM;

	for (size_t i = 0; ms && i < src->n_services; i++)
		service_metrics(src->services[i], &ms[i]);
	if (ms)
		r = metrics_write_file(p->metrics_file, src->items, src->n_items, ms,
				       src->n_services);
	if (r < 0)
		log_error("cannot write the metrics-file %s: %s; check that its directory exists "
			  "and is writable", p->metrics_file, strerror(-r));
	free(ms);
}

static int64_t clock_offset(const struct state_clock *c)
{
	return (int64_t)(c->realtime - c->boottime);
}

/*
 * e's reason, borrowed from its item's verdict, made a copy of its own:
 * the verdict's is freed by the next verdict, which may say the same and
 * so not be noted.  Out of memory, none (-ENOMEM).
 */
static int own_reason(struct state_endpoint *e)
{
	const char *borrowed = e->reason;

	e->reason = borrowed ? strdup(borrowed) : NULL;
	return borrowed && !e->reason ? -ENOMEM : 0;
}

/* Endpoint record e kept for item it (own_reason()). */
static int keep_endpoint(const struct check_item *it, struct state_endpoint *e)
{
	char *old = e->reason;
	int r;

	endpoint_record(it, e);
	r = own_reason(e);
	free(old);
	return r;
}

/* The kept records dropped: the next write builds them all. */
static void drop_kept(struct persist *p)
{
	for (size_t i = 0; i < p->snap.n_endpoints; i++)
		free(p->snap.endpoints[i].reason);
	persist_snapshot_done(&p->snap);
}

/* Record k (services' first) is to be built again at the next write. */
static void note(struct persist *p, size_t k)
{
	if (p->noted[k])
		return;
	p->noted[k] = true;
	p->todo[p->n_todo++] = k;
}

/* The notes taken by a write. */
static void clear_notes(struct persist *p)
{
	for (size_t j = 0; j < p->n_todo; j++)
		p->noted[p->todo[j]] = false;
	p->n_todo = 0;
}

/*
 * The records told changed, built again into the kept ones (every service's
 * too when the wall clock moved), and saved: only they are summed and
 * compared with the file's.
 */
static int save_changes(struct persist *p)
{
	struct state *st = &p->snap;
	int64_t moved;
	int r;

	header_fill(st);
	moved = clock_offset(&st->clock) - p->offset;
	if (moved >= PERSIST_CLOCK_MOVED_USEC || moved <= -PERSIST_CLOCK_MOVED_USEC) {
		for (size_t i = 0; i < st->n_services; i++)
			note(p, i);
		p->offset = clock_offset(&st->clock);
	}
	r = 0;
	for (size_t j = 0; j < p->n_todo && r >= 0; j++) {
		size_t k = p->todo[j];

		if (k < st->n_services)
			service_record(p->src.services[k], &st->clock, &st->services[k]);
		else
			r = keep_endpoint(&p->src.items[k - st->n_services],
					  &st->endpoints[k - st->n_services]);
	}
	if (r >= 0)
		r = state_writer_save_some(p->state, st, p->todo, p->n_todo);
	else
		drop_kept(p);
	clear_notes(p);
	return r;
}

/* The first write: every record built, and the file written whole. */
static int save_first(struct persist *p)
{
	int r = persist_snapshot(&p->src, &p->snap);

	if (r < 0)
		return r;
	for (size_t i = 0; i < p->snap.n_endpoints; i++) {
		struct state_endpoint *e = &p->snap.endpoints[i];

		if (r >= 0)
			r = own_reason(e);
		else
			e->reason = NULL;   /* still borrowed: not drop_kept()'s to free */
	}
	if (r < 0) {
		drop_kept(p);
		return r;
	}
	p->offset = clock_offset(&p->snap.clock);
	clear_notes(p);
	return state_writer_save(p->state, &p->snap);
}

static void write_all(struct persist *p)
{
	int r;

	p->dirty = false;
	(void)sd_event_source_set_enabled(p->delay, SD_EVENT_OFF);
	r = p->snap.services ? save_changes(p) : save_first(p);
	if (r < 0)
		log_error("cannot write the state file in %s: %s; status and pauses will not "
			  "survive a restart", p->state_dir, strerror(-r));
	announce(&p->src);
	if (p->metrics_file)
		write_metrics(p);
}

static int on_delay(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct persist *p = userdata;

	(void)src;
	(void)usec;
	if (p->dirty)
		write_all(p);
	return 0;
}

static int on_post(sd_event_source *src, void *userdata)
{
	struct persist *p = userdata;

	(void)sd_event_source_set_enabled(src, SD_EVENT_OFF);
	if (!p->dirty)
		return 0;
	if (p->src.pool && probe_pool_pending(p->src.pool) > 0 &&
	    now_monotonic_usec() < p->dirty_since + PERSIST_MAX_DELAY_USEC) {
		/* A pass is under way: its end writes, or the delay does. */
		(void)sd_event_source_set_time(p->delay, p->dirty_since + PERSIST_MAX_DELAY_USEC);
		(void)sd_event_source_set_enabled(p->delay, SD_EVENT_ONESHOT);
		return 0;
	}
	write_all(p);
	return 0;
}

void persist_mark(struct persist *p)
{
	if (!p->dirty) {
		p->dirty = true;
		p->dirty_since = now_monotonic_usec();
	}
	(void)sd_event_source_set_enabled(p->post, SD_EVENT_ONESHOT);
}

static int cmp_slot(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct service_slot *)a)->svc;
	uintptr_t y = (uintptr_t)((const struct service_slot *)b)->svc;

	return (x > y) - (x < y);
}

void persist_note_service(struct persist *p, const struct service *svc)
{
	struct service_slot key = { .svc = svc }, *found = NULL;

	if (p->src.n_services)
		found = bsearch(&key, p->slots, p->src.n_services, sizeof(key), cmp_slot);
	if (found)
		note(p, found->i);
}

void persist_note_item(struct persist *p, const struct check_item *it)
{
	/* Compared as addresses: it may be any service's item, of this source or not. */
	uintptr_t a = (uintptr_t)it, first = (uintptr_t)p->src.items;

	if (a >= first && a < first + p->src.n_items * sizeof(*it))
		note(p, p->src.n_services + (size_t)(it - p->src.items));
}

void persist_flush(struct persist *p)
{
	if (p && p->dirty)
		write_all(p);
}

/* What the notes need: a flag and a slot per record, the services by address. */
static int make_index(struct persist *p)
{
	size_t n = p->src.n_services + p->src.n_items;

	p->noted = calloc(n ? n : 1, sizeof(*p->noted));
	p->todo = calloc(n ? n : 1, sizeof(*p->todo));
	p->slots = calloc(p->src.n_services ? p->src.n_services : 1, sizeof(*p->slots));
	if (!p->noted || !p->todo || !p->slots)
		return -ENOMEM;
	for (size_t i = 0; i < p->src.n_services; i++)
		p->slots[i] = (struct service_slot) { .svc = p->src.services[i], .i = i };
	if (p->src.n_services > 1)
		qsort(p->slots, p->src.n_services, sizeof(*p->slots), cmp_slot);
	return 0;
}

int persist_new(sd_event *event, const char *state_dir, const char *metrics_file,
		const struct persist_source *src, struct persist **ret)
{
	struct persist *p = calloc(1, sizeof(*p));
	int r = -ENOMEM;

	if (!p)
		return -ENOMEM;
	p->event = sd_event_ref(event);
	p->src = *src;
	p->state_dir = strdup(state_dir);
	p->state = state_writer_new(state_dir);
	p->metrics_file = metrics_file ? strdup(metrics_file) : NULL;
	if (make_index(p) < 0 || !p->state_dir || !p->state || (metrics_file && !p->metrics_file))
		goto fail;
	r = sd_event_add_post(event, &p->post, on_post, p);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->post, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time(event, &p->delay, CLOCK_MONOTONIC, 0, 10 * USEC_PER_MSEC,
				      on_delay, p);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->delay, SD_EVENT_OFF);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	persist_free(p);
	return r;
}

void persist_free(struct persist *p)
{
	if (!p)
		return;
	sd_event_source_disable_unref(p->post);
	sd_event_source_disable_unref(p->delay);
	sd_event_unref(p->event);
	free(p->state_dir);
	state_writer_free(p->state);
	free(p->metrics_file);
	drop_kept(p);
	free(p->noted);
	free(p->todo);
	free(p->slots);
	free(p);
}
