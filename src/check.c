/*
 * check.c - a one-shot reconcile of endpoints, without acting on it.
 *
 * The items are shared out among a few workers, one thread per CPU (at
 * most PROBE_WORKERS_MAX), each with its own sd-event loop and probe
 * engine, and the max-probes bound shared out among them: a TLS handshake
 * costs the client about what it costs the server, so one loop on one
 * core bounds `check` of many endpoints.  The workers share nothing but
 * the items they do not touch and the x509 module's caches, which lock.
 * Each item's disk pair is loaded just before its probe and judged right
 * after it, so that a slow server does not hold a stale view of the files.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "check.h"
#include "fdlimit.h"
#include "probe-pool.h"
#include "starttls.h"

#define MIN_SHARE 32          /* items a worker is worth starting for */

/* The pair of an item as the judgement loads it: of files with a pair per key type, the one probed. */
#define ITEM_PAIR(it) { .cert = (it)->cert, .chain = (it)->chain, .key = (it)->key, \
			.format = (it)->pair_format, .key_type = (it)->target.key_type }

int check_items_from_conf(const struct conf *c, const char *service,
			  struct check_item **ret_items, size_t *ret_n)
{
	struct check_item *items;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < c->n_services; i++)
		if (!service || strcmp(c->services[i].name, service) == 0)
			n += c->services[i].n_endpoints;
	if (service && !conf_find_service(c, service))
		return -ENOENT;
	items = calloc(n ? n : 1, sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *s = &c->services[i];

		if (service && strcmp(s->name, service) != 0)
			continue;
		for (size_t j = 0; j < s->n_endpoints; j++) {
			const struct conf_endpoint *ep = &s->endpoints[j];
			struct check_item *it = &items[k++];

			it->service = s->name;
			it->endpoint = ep->name;
			it->target = (struct probe_target) {
				.host = ep->address,
				.port = ep->port,
				.starttls = ep->starttls,
				.sni = ep->sni,
				.helo_name = c->ehlo_name,
				.timeout_usec = c->timeout_usec,
			};
			it->key_type = ep->key_type;
			it->pair_format = ep->pair_format;
			it->cert = ep->cert;
			it->chain = ep->chain;
			it->key = ep->key;
			it->th = (struct thresholds) {
				.warn_days = c->warn_days,
				.crit_days = c->crit_days,
				.allow_downgrade = s->allow_downgrade,
			};
			if (check_dane_new(ep, &it->dane) < 0) {
				check_items_free(items, k);
				return -ENOMEM;
			}
		}
	}
	*ret_items = items;
	*ret_n = n;
	return 0;
}

/* A command of the command line: said on stderr, beside the report. */
static void on_notice(const char *message, void *userdata)
{
	(void)userdata;
	fprintf(stderr, "certwatch: %s\n", message);
}

/* What a probe's callback and a look-up's are given: its item, in its share. */
struct slot {
	struct share *s;
	struct check_item *it;
	bool probed;                  /* its probe has ended */
	bool looking_up;              /* its TLSA look-up is under way */
};

/*
 * One worker's share of the items: first, first + stride, ... on a loop of
 * its own.  Only a window of them is under way at a time: an item is
 * aimed (its pair loaded) and its TLSA records asked for just before its
 * probe starts, and judged as soon as both have ended; then it lets go of
 * the certificates themselves, keeping their facts for the report, and
 * the pair kept for it is dropped.  So memory follows the window, not the
 * number of endpoints, and the files are read right around the probe.
 */
struct share {
	struct check_item *items;
	size_t n, first, stride;
	size_t next;                  /* the next item to start */
	struct slot *slots;           /* one per item of the share */
	unsigned max_in_flight;
	time_t now;
	const struct dane_options *dane;
	struct probe_engine *engine;
	struct dane_resolver *resolver;   /* made when an item of the share wants DANE */
	sd_event *event;
	enum severity worst;
	int r;                        /* the worst severity, or a negative errno */
	char err[512];                /* why TLSA records could not be looked up */
	pthread_t thread;
	bool started;
};

static void on_probe_done(const struct probe_target *t, struct probe_result *r, void *userdata);
static void on_lookup_done(void *userdata);

static void say_lookup_error(struct share *s, const char *why)
{
	if (!s->err[0])
		snprintf(s->err, sizeof(s->err), "TLSA records cannot be looked up: %s", why);
}

/* Aims and starts the next item, if any.  Returns 0 or a negative errno. */
static int start_next(struct share *s)
{
	struct slot *sl;
	int e;

	if (s->next >= s->n)
		return 0;
	sl = &s->slots[(s->next - s->first) / s->stride];
	*sl = (struct slot) { .s = s, .it = &s->items[s->next] };
	s->next += s->stride;
	check_item_aim(sl->it);
	/* A look-up that cannot start leaves the item judged without records, and is said. */
	e = check_dane_start(sl->it, s->resolver, on_lookup_done, sl);
	if (e < 0)
		say_lookup_error(s, dane_resolver_error(s->resolver));
	sl->looking_up = e > 0;
	return probe_start(s->engine, &sl->it->target, on_probe_done, sl);
}

/* The item's probe and look-up have both ended: judged, let go of, and the next started. */
static void item_done(struct slot *sl)
{
	struct share *s = sl->s;
	struct check_item *it = sl->it;
	int e;

	check_item_judge(it, s->now);
	if (it->verdict.severity > s->worst)
		s->worst = it->verdict.severity;
	check_item_let_go(it, false);
	e = start_next(s);
	if (e < 0 && s->r >= 0) {
		s->r = e;
		(void)sd_event_exit(s->event, e);
	}
}

static void on_probe_done(const struct probe_target *t, struct probe_result *r, void *userdata)
{
	struct slot *sl = userdata;

	(void)t;
	probe_result_done(&sl->it->probe);
	sl->it->probe = *r;   /* takes r's allocations */
	sl->probed = true;
	if (!sl->looking_up)
		item_done(sl);
}

static void on_lookup_done(void *userdata)
{
	struct slot *sl = userdata;

	sl->looking_up = false;
	if (sl->probed)
		item_done(sl);
}

static int on_all_done(sd_event_source *src, void *userdata)
{
	struct share *s = userdata;

	/* The servers are left as a polite client leaves, before the loop ends. */
	if (s->next >= s->n && probe_engine_pending(s->engine) == 0 &&
	    probe_engine_closing(s->engine) == 0 &&
	    (!s->resolver || dane_resolver_pending(s->resolver) == 0))
		return sd_event_exit(sd_event_source_get_event(src), 0);
	return 0;
}

/* The window: enough probes queued for the engine never to wait for the next. */
static size_t window_of(const struct share *s)
{
	return 2 * (size_t)s->max_in_flight + 16;
}

/* One resolver for the share's loop, made only when one of its items wants DANE. */
static void start_resolver(struct share *s)
{
	char why[384] = "";
	bool wanted = false;

	for (size_t i = s->first; i < s->n && !wanted; i += s->stride)
		wanted = check_dane_wanted(&s->items[i]);
	if (wanted && s->dane && dane_resolver_new(s->event, s->dane, &s->resolver, why, sizeof(why)) < 0)
		say_lookup_error(s, why);
}

static int run_share(struct share *s)
{
	size_t n_slots = s->first < s->n ? (s->n - s->first + s->stride - 1) / s->stride : 0;
	sd_event_source *post = NULL;
	int r;

	s->next = s->first;
	s->worst = SEVERITY_OK;
	s->r = 0;
	s->slots = calloc(n_slots ? n_slots : 1, sizeof(*s->slots));
	r = s->slots ? sd_event_new(&s->event) : -ENOMEM;
	if (r < 0)
		goto out;
	r = probe_engine_new(s->event, s->max_in_flight, &s->engine);
	if (r < 0)
		goto out;
	probe_engine_on_notice(s->engine, on_notice, NULL);
	start_resolver(s);
	for (size_t i = 0; i < window_of(s) && r >= 0; i++)
		r = start_next(s);
	if (r < 0)
		goto out;
	/* A post source runs after every dispatch: the loop ends when nothing is left. */
	r = sd_event_add_post(s->event, &post, on_all_done, s);
	if (r >= 0 && n_slots > 0)
		r = sd_event_loop(s->event);
	if (r >= 0)
		r = s->r < 0 ? s->r : (int)s->worst;
out:
	sd_event_source_unref(post);
	for (size_t i = s->first; i < s->n; i += s->stride)
		check_dane_cancel(s->items[i].dane);
	dane_resolver_free(s->resolver);
	s->resolver = NULL;
	probe_engine_free(s->engine);
	s->engine = NULL;
	s->event = sd_event_unref(s->event);
	free(s->slots);
	s->slots = NULL;
	return r;
}

static void *share_thread(void *userdata)
{
	struct share *s = userdata;

	s->r = run_share(s);
	return NULL;
}

/*
 * How many workers: the probe pool's rule (one per CPU, at most
 * PROBE_WORKERS_MAX, each with one probe in flight at least), each with at
 * least MIN_SHARE items.  A handshake costs the client about as much CPU
 * as the server: one loop on one core is what bounds `check` of many
 * endpoints, not the network.
 */
static unsigned workers_for(size_t n, unsigned max_in_flight)
{
	unsigned k = probe_workers(max_in_flight);

	if (k > n / MIN_SHARE)
		k = (unsigned)(n / MIN_SHARE);
	return k ? k : 1;
}

int check_items_run(struct check_item *items, size_t n, unsigned max_in_flight,
		    const struct dane_options *dane, time_t now, char *err, size_t errlen)
{
	struct share shares[PROBE_WORKERS_MAX];
	char why[512];
	unsigned k;
	int r = SEVERITY_OK;

	if (err && errlen)
		err[0] = '\0';
	/* The descriptors are the process's: the workers share what is left, said once. */
	max_in_flight = fdlimit_probes(max_in_flight, why, sizeof(why));
	if (why[0])
		on_notice(why, NULL);
	k = workers_for(n, max_in_flight);

	for (unsigned w = 0; w < k; w++) {
		/* max-probes is the bound for the whole command: shared out. */
		shares[w] = (struct share) {
			.items = items, .n = n, .first = w, .stride = k, .now = now, .dane = dane,
			.max_in_flight = max_in_flight / k + (w < max_in_flight % k),
		};
		/* A worker that cannot be started has its share run here, after. */
		if (w > 0)
			shares[w].started = pthread_create(&shares[w].thread, NULL, share_thread,
							   &shares[w]) == 0;
	}
	for (unsigned w = 0; w < k; w++) {
		if (w == 0 || !shares[w].started)
			shares[w].r = run_share(&shares[w]);
		else
			pthread_join(shares[w].thread, NULL);
		if (r >= 0 && (shares[w].r < 0 || shares[w].r > r))
			r = shares[w].r;
		if (err && shares[w].err[0] && !err[0])
			snprintf(err, errlen, "%s", shares[w].err);
	}
	return r;
}

void check_item_aim(struct check_item *it)
{
	enum key_type kt;

	it->target.key_type = it->key_type;
	it->target.any_if_refused = false;
	if (it->key_type != KEY_TYPE_AUTO)
		return;
	it->target.key_type = KEY_TYPE_ANY;
	/*
	 * The first certificate of the file: of files with a pair per key
	 * type, whose pair depends on the type this decides, the first pair's.
	 */
	if (it->cert && pair_leaf_key_type(&(struct pair_files) ITEM_PAIR(it), &kt) == 0 &&
	    kt != KEY_TYPE_ANY) {
		it->target.key_type = kt;
		it->target.any_if_refused = true;
	}
}

/*
 * Whether the chain on disk leads to a trusted root matters only where it
 * is not what is served (reconcile.c): for a leaf served with another
 * chain that does not verify, whether a reload would mend it; for files
 * with a chain of their own that would replace a served chain that
 * verifies, whether a reload would break it.
 */
static bool trust_asked(const struct probe_result *served, const struct disk_pair *disk)
{
	bool same_leaf, same_chain;

	if (served->status != PROBE_OK || !disk->have_leaf || disk->status != X509_VALID)
		return false;
	same_leaf = cert_info_same(&disk->leaf, &served->leaf);
	same_chain = cert_chain_same_issuers(&disk->chain, &served->chain);
	if (!served->verified)
		return same_leaf && !same_chain;
	return disk->chain.n_issuers > 0 && !(same_leaf && same_chain);
}

void check_item_judge(struct check_item *it, time_t now)
{
	struct pair_files pf;
	int r;

	/*
	 * Judged again on a served side the daemon kept only the verdict's
	 * facts of, the chain served would be none and differ from the one
	 * on disk: a reload asked for on facts that were let go of.  Its
	 * verdict stands until the next probe's result.
	 */
	if (it->probe.status == PROBE_OK && it->probe.thinned)
		return;
	disk_pair_done(&it->disk);
	if (!it->cert) {
		reconcile(&it->probe, NULL, it->target.sni, &it->th, now, &it->verdict);
		check_dane_judge(it, now);
		return;
	}
	/*
	 * Of files with a pair per key type, the one of the type this pass
	 * asked for; what the server sent is taken where the files hold it.
	 */
	pf = (struct pair_files) ITEM_PAIR(it);
	if (it->probe.status == PROBE_OK) {
		pf.seen_leaf = &it->probe.leaf;
		pf.seen_chain = &it->probe.chain;
	}
	r = disk_pair_load_files(&pf, it->target.sni, now, &it->disk);
	if (r < 0) {
		it->disk.status = X509_UNREADABLE;
		msg_set(&it->disk.detail, X509_DETAIL_MAX, "cannot load %s: %s", it->cert,
			strerror(-r));
	}
	if (trust_asked(&it->probe, &it->disk))
		(void)disk_pair_trust(&it->disk, it->target.sni, now);
	reconcile(&it->probe, &it->disk, it->target.sni, &it->th, now, &it->verdict);
	check_dane_judge(it, now);
}

void check_item_let_go(struct check_item *it, bool keep_pair)
{
	cert_chain_drop_x509(&it->probe.chain);
	cert_chain_drop_x509(&it->disk.chain);
	if (!keep_pair)
		check_item_forget_pair(it);
}

void check_item_keep_verdict_facts(struct check_item *it)
{
	it->probe.thinned = true;
	cert_info_drop_names(&it->probe.leaf);
	cert_chain_done(&it->probe.chain);
	cert_info_drop_names(&it->disk.leaf);
	cert_chain_done(&it->disk.chain);
}

void check_item_forget_pair(struct check_item *it)
{
	if (it->cert)
		x509_pair_cache_drop(&(struct pair_files) ITEM_PAIR(it));
}

void check_item_adhoc(struct check_item *it, const struct conf *defaults, const char *host,
		      uint16_t port, int starttls, const char *sni, const char *cert,
		      const char *chain, const char *key)
{
	*it = (struct check_item) {
		.service = "-",
		.endpoint = "-",
		.target = {
			.host = host,
			.port = port,
			.starttls = starttls,
			.sni = sni,
			.helo_name = defaults->ehlo_name,
			.timeout_usec = defaults->timeout_usec,
		},
		.cert = cert,
		.chain = chain,
		.key = key,
		.th = { .warn_days = defaults->warn_days, .crit_days = defaults->crit_days },
	};
}

void check_item_address(const struct check_item *it, char *out, size_t outlen)
{
	snprintf(out, outlen, strchr(it->target.host, ':') ? "[%s]:%u" : "%s:%u",
		 it->target.host, (unsigned)it->target.port);
}

void check_item_name(const struct check_item *it, char *out, size_t outlen)
{
	if (strcmp(it->service, "-") == 0)
		check_item_address(it, out, outlen);
	else
		snprintf(out, outlen, "%s/%s", it->service, it->endpoint);
}

const char *check_item_protocol(const struct check_item *it)
{
	return it->target.starttls < 0 ? "tls" : starttls_drivers[it->target.starttls].name;
}

void check_items_free(struct check_item *items, size_t n)
{
	if (!items)
		return;
	for (size_t i = 0; i < n; i++) {
		probe_result_done(&items[i].probe);
		disk_pair_done(&items[i].disk);
		verdict_done(&items[i].verdict);
		check_dane_free(items[i].dane);
	}
	free(items);
}
