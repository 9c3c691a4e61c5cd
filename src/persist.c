/*
 * persist.c - the state file, STATUS= and the metrics file; see persist.h.
 *
 * Nothing here decides anything: the records are what the services and
 * their endpoints say (service_record(), the judged check items), and
 * STATUS= sums them up in one line.
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
	 * The records of the last write, their arrays kept for the next: with
	 * thousands of services they are megabytes, and arrays that large
	 * come fresh from the kernel at every allocation, a page fault per
	 * page, which was most of what a write cost.
	 */
	struct state snap;
};

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

/* The records of src into st, whose arrays hold as many as src has. */
static void snapshot_fill(const struct persist_source *src, struct state *st)
{
	st->pid = getpid();
	st->written = (int64_t)time(NULL);
	state_clock_now(&st->clock);
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

static void write_all(struct persist *p)
{
	int r;

	p->dirty = false;
	(void)sd_event_source_set_enabled(p->delay, SD_EVENT_OFF);
	r = 0;
	if (!p->snap.services)
		r = persist_snapshot(&p->src, &p->snap);
	else
		snapshot_fill(&p->src, &p->snap);
	if (r >= 0)
		r = state_writer_save(p->state, &p->snap);
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

void persist_flush(struct persist *p)
{
	if (p && p->dirty)
		write_all(p);
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
	if (!p->state_dir || !p->state || (metrics_file && !p->metrics_file))
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
	persist_snapshot_done(&p->snap);
	free(p);
}
