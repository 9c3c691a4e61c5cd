/*
 * check.c - a one-shot reconcile of endpoints, without acting on it.
 *
 * All probes share one sd-event loop and the engine's bound on connections
 * in flight; the disk pairs are loaded after the probes so that a slow
 * server does not hold a stale view of the files.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "check.h"
#include "starttls.h"

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

static void on_probe_done(const struct probe_target *t, struct probe_result *r, void *userdata)
{
	struct check_item *it = userdata;

	(void)t;
	it->probe = *r;   /* takes r's allocations */
}

/* A command of the command line: said on stderr, beside the report. */
static void on_notice(const char *message, void *userdata)
{
	(void)userdata;
	fprintf(stderr, "certwatch: %s\n", message);
}

/* What the loop waits for: probes and look-ups. */
struct run {
	struct probe_engine *engine;
	struct dane_resolver *resolver;
};

static int on_all_done(sd_event_source *s, void *userdata)
{
	struct run *run = userdata;

	if (probe_engine_pending(run->engine) == 0 &&
	    (!run->resolver || dane_resolver_pending(run->resolver) == 0))
		return sd_event_exit(sd_event_source_get_event(s), 0);
	return 0;
}

static void on_lookup_done(void *userdata)
{
	(void)userdata;   /* on_all_done() counts what is left */
}

/* One resolver for the loop, made only when an item wants DANE; its failure is said. */
static void start_lookups(sd_event *event, struct check_item *items, size_t n,
			  const struct dane_options *dane, struct dane_resolver **ret,
			  char *err, size_t errlen)
{
	char why[1024] = "";

	*ret = NULL;
	if (!dane || !check_items_want_dane(items, n))
		return;
	if (dane_resolver_new(event, dane, ret, why, sizeof(why)) < 0) {
		if (err)
			snprintf(err, errlen, "TLSA records cannot be looked up: %s", why);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (check_dane_start(&items[i], *ret, on_lookup_done, &items[i]) < 0 && err)
			snprintf(err, errlen, "%s", dane_resolver_error(*ret));
}

int check_items_run(struct check_item *items, size_t n, unsigned max_in_flight,
		    const struct dane_options *dane, time_t now, char *err, size_t errlen)
{
	sd_event *event = NULL;
	sd_event_source *post = NULL;
	struct run run = { 0 };
	enum severity worst = SEVERITY_OK;
	int r;

	r = sd_event_new(&event);
	if (r < 0)
		return r;
	r = probe_engine_new(event, max_in_flight, &run.engine);
	if (r < 0)
		goto out;
	probe_engine_on_notice(run.engine, on_notice, NULL);
	for (size_t i = 0; i < n; i++) {
		check_item_aim(&items[i], now);
		r = probe_start(run.engine, &items[i].target, on_probe_done, &items[i]);
		if (r < 0)
			goto out;
	}
	start_lookups(event, items, n, dane, &run.resolver, err, errlen);
	/* A post source runs after every dispatch: the loop ends when nothing is left. */
	r = sd_event_add_post(event, &post, on_all_done, &run);
	if (r < 0)
		goto out;
	if (n > 0) {
		r = sd_event_loop(event);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		check_item_judge(&items[i], now);
		if (items[i].verdict.severity > worst)
			worst = items[i].verdict.severity;
	}
	r = (int)worst;
out:
	sd_event_source_unref(post);
	for (size_t i = 0; i < n; i++)
		check_dane_cancel(items[i].dane);
	dane_resolver_free(run.resolver);
	probe_engine_free(run.engine);
	sd_event_unref(event);
	return r;
}

void check_item_aim(struct check_item *it, time_t now)
{
	struct disk_pair p;

	it->target.key_type = it->key_type;
	it->target.any_if_refused = false;
	if (it->key_type != KEY_TYPE_AUTO)
		return;
	it->target.key_type = KEY_TYPE_ANY;
	/* The certificate alone: the key and the rules are the judgement's business. */
	if (!it->cert || disk_pair_load(it->cert, NULL, NULL, NULL, now, &p) < 0)
		return;
	if (p.have_leaf && p.leaf.key_type != KEY_TYPE_ANY) {
		it->target.key_type = p.leaf.key_type;
		it->target.any_if_refused = true;
	}
	disk_pair_done(&p);
}

void check_item_judge(struct check_item *it, time_t now)
{
	int r;

	disk_pair_done(&it->disk);
	if (!it->cert) {
		reconcile(&it->probe, NULL, it->target.sni, &it->th, now, &it->verdict);
		check_dane_judge(it, now);
		return;
	}
	/* Of files with a pair per key type, the one of the type this pass asked for. */
	r = disk_pair_load_files(&(struct pair_files) {
			.cert = it->cert, .chain = it->chain, .key = it->key,
			.format = it->pair_format, .key_type = it->target.key_type,
		}, it->target.sni, now, &it->disk);
	if (r < 0) {
		it->disk.status = X509_UNREADABLE;
		snprintf(it->disk.detail, sizeof(it->disk.detail), "cannot load %s: %s", it->cert,
			 strerror(-r));
	}
	/*
	 * Whether the chain on disk leads to a trusted root is asked only of
	 * a leaf that is served with another chain that does not (reconcile.c).
	 */
	if (it->probe.status == PROBE_OK && !it->probe.verified && it->disk.have_leaf &&
	    cert_info_same(&it->disk.leaf, &it->probe.leaf) &&
	    !cert_chain_same_issuers(&it->disk.chain, &it->probe.chain))
		(void)disk_pair_trust(&it->disk, it->target.sni, now);
	reconcile(&it->probe, &it->disk, it->target.sni, &it->th, now, &it->verdict);
	check_dane_judge(it, now);
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
		check_dane_free(items[i].dane);
	}
	free(items);
}
