/*
 * metrics.c - the Prometheus text format of check results.
 *
 * One family at a time (the format requires a family's samples to be
 * contiguous), each with HELP and TYPE.  Endpoints are labelled
 * {service, endpoint}; an ad-hoc check is service="-",
 * endpoint="HOST:PORT".  A fact that is not known (no certificate was
 * served, none is on disk) is left out instead of being written as a zero
 * that looks like 1970.
 * certwatch_endpoint_state is a state set: one sample per state, 1 for the
 * current one.  Names follow the Prometheus conventions: base units
 * (seconds), _total for counters, no timestamps (the textfile collector
 * refuses them).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "metrics.h"

enum family {
	FAM_SERVED_NOT_AFTER,
	FAM_DISK_NOT_AFTER,
	FAM_STALE,
	FAM_STATE,
	FAM_PROBE_DURATION,
	FAM_PROBE_SUCCESS,
	FAM_DANE_MATCH,
	FAM_DANE_LOOKUP,
	FAM_DANE_HOLD,
	_FAM_ENDPOINT_MAX,
};

static const struct {
	const char *name, *type, *help;
} families[_FAM_ENDPOINT_MAX] = {
	[FAM_SERVED_NOT_AFTER] = { "certwatch_served_not_after_seconds", "gauge",
		"Expiry (notAfter) of the certificate the endpoint serves, in seconds since the "
		"epoch." },
	[FAM_DISK_NOT_AFTER] = { "certwatch_disk_not_after_seconds", "gauge",
		"Expiry (notAfter) of the endpoint's certificate on disk, in seconds since the "
		"epoch." },
	[FAM_STALE] = { "certwatch_endpoint_stale", "gauge",
		"1 when a valid renewal is on disk but the endpoint serves an older certificate "
		"(the STALE state)." },
	[FAM_STATE] = { "certwatch_endpoint_state", "gauge",
		"The endpoint's verdict: 1 for the current state, 0 for the others." },
	[FAM_PROBE_DURATION] = { "certwatch_probe_duration_seconds", "gauge",
		"How long the last probe took: connect, STARTTLS and TLS handshake." },
	[FAM_PROBE_SUCCESS] = { "certwatch_probe_success", "gauge",
		"1 when the last probe fetched a certificate, 0 when it failed." },
	[FAM_DANE_MATCH] = { "certwatch_dane_match", "gauge",
		"1 when the chain (side: served or disk) matches the endpoint's TLSA records, "
		"0 when it does not; absent when they were not judged." },
	[FAM_DANE_LOOKUP] = { "certwatch_dane_lookup", "gauge",
		"The last look-up of the endpoint's TLSA records: 1 for its result, 0 for the "
		"others." },
	[FAM_DANE_HOLD] = { "certwatch_dane_hold", "gauge",
		"1 when a reload of the endpoint is held because the renewal on disk matches "
		"none of its TLSA records or pins." },
};

/* A label value with backslash, double quote and newline escaped, as the format requires. */
static void label_value(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * name{service="...",endpoint="..."  -- the caller closes the brace.  An
 * ad-hoc endpoint is named by its address, so that the files of several
 * `check --connect` runs can sit side by side in the collector's directory.
 */
static void endpoint_sample(FILE *f, const char *name, const struct check_item *it)
{
	char where[300];

	fprintf(f, "%s{service=", name);
	label_value(f, it->service);
	fputs(",endpoint=", f);
	if (strcmp(it->service, "-") == 0) {
		check_item_address(it, where, sizeof(where));
		label_value(f, where);
	} else
		label_value(f, it->endpoint);
}

/* The DANE families: only endpoints that have DANE or pins. */
static void dane_family(FILE *f, enum family fam, const struct check_item *it)
{
	const char *name = families[fam].name;
	const struct check_dane *d = it->dane;
	enum dane_side sides[2] = { d->verdict.served, d->verdict.disk };
	static const char *const side_names[2] = { "served", "disk" };

	if (fam == FAM_DANE_HOLD) {
		endpoint_sample(f, name, it);
		fprintf(f, "} %d\n", it->verdict.dane_held);
		return;
	}
	if (fam == FAM_DANE_LOOKUP) {
		for (int s = 0; d->answer && s < _DANE_STATUS_MAX; s++) {
			endpoint_sample(f, name, it);
			fputs(",result=", f);
			label_value(f, dane_status_to_string(s));
			fprintf(f, "} %d\n", d->answer->status == (enum dane_status)s);
		}
		return;
	}
	for (int i = 0; d->judged && i < 2; i++) {
		if (sides[i] != DANE_SIDE_MATCH && sides[i] != DANE_SIDE_MISMATCH)
			continue;
		endpoint_sample(f, name, it);
		fprintf(f, ",side=\"%s\"} %d\n", side_names[i], sides[i] == DANE_SIDE_MATCH);
	}
}

static void endpoint_family(FILE *f, enum family fam, const struct check_item *items, size_t n)
{
	const char *name = families[fam].name;

	header(f, name, families[fam].type, families[fam].help);
	for (size_t i = 0; i < n; i++) {
		const struct check_item *it = &items[i];
		bool served = it->probe.status == PROBE_OK;

		/* The daemon's endpoints not judged yet know nothing, probed or not. */
		if (!check_item_judged(it))
			continue;
		if (fam >= FAM_DANE_MATCH) {
			if (it->dane)
				dane_family(f, fam, it);
			continue;
		}
		switch (fam) {
		case FAM_SERVED_NOT_AFTER:
			if (!served)
				break;
			endpoint_sample(f, name, it);
			fprintf(f, "} %lld\n", (long long)it->probe.leaf.not_after);
			break;
		case FAM_DISK_NOT_AFTER:
			if (!it->cert || !it->disk.have_leaf)
				break;
			endpoint_sample(f, name, it);
			fprintf(f, "} %lld\n", (long long)it->disk.leaf.not_after);
			break;
		case FAM_STALE:
			if (!served)
				break;
			endpoint_sample(f, name, it);
			fprintf(f, "} %d\n", it->verdict.state == STATE_STALE);
			break;
		case FAM_STATE:
			/* No PENDING sample: such an endpoint is left out above. */
			for (int s = STATE_PENDING + 1; s < _STATE_MAX; s++) {
				endpoint_sample(f, name, it);
				fputs(",state=", f);
				label_value(f, verdict_state_to_string(s));
				fprintf(f, "} %d\n", it->verdict.state == (enum verdict_state)s);
			}
			break;
		case FAM_PROBE_DURATION:
			endpoint_sample(f, name, it);
			fprintf(f, "} %.6f\n", (double)it->probe.total_usec / 1e6);
			break;
		case FAM_PROBE_SUCCESS:
			endpoint_sample(f, name, it);
			fprintf(f, "} %d\n", served);
			break;
		default:
			break;
		}
	}
}

static void service_families(FILE *f, const struct metrics_service *services, size_t n)
{
	header(f, "certwatch_reloads_total", "counter",
	       "Reloads of the service, by result (ok: verified), kept across restarts in the "
	       "state file.");
	for (size_t i = 0; i < n; i++) {
		fputs("certwatch_reloads_total{service=", f);
		label_value(f, services[i].name);
		fprintf(f, ",result=\"ok\"} %llu\n", (unsigned long long)services[i].reloads_ok);
		fputs("certwatch_reloads_total{service=", f);
		label_value(f, services[i].name);
		fprintf(f, ",result=\"failed\"} %llu\n",
			(unsigned long long)services[i].reloads_failed);
	}
	header(f, "certwatch_service_paused", "gauge",
	       "1 when automatic reloads of the service are paused after repeated failures.");
	for (size_t i = 0; i < n; i++) {
		fputs("certwatch_service_paused{service=", f);
		label_value(f, services[i].name);
		fprintf(f, "} %d\n", services[i].paused);
	}
}

void metrics_write(FILE *f, const struct check_item *items, size_t n,
		   const struct metrics_service *services, size_t n_services)
{
	for (int fam = 0; fam < _FAM_ENDPOINT_MAX; fam++)
		endpoint_family(f, fam, items, n);
	if (services)
		service_families(f, services, n_services);
}

struct metrics_args {
	const struct check_item *items;
	size_t n;
	const struct metrics_service *services;
	size_t n_services;
};

static void write_args(FILE *f, const void *data)
{
	const struct metrics_args *a = data;

	metrics_write(f, a->items, a->n, a->services, a->n_services);
}

int metrics_write_file(const char *path, const struct check_item *items, size_t n,
		       const struct metrics_service *services, size_t n_services)
{
	const struct metrics_args a = { items, n, services, n_services };

	/* node_exporter runs as its own user: the metrics are not secret. */
	return write_file_atomic(path, 0644, write_args, &a);
}

int metrics_instance_path(const char *path, const char *service, char *buf, size_t len)
{
	static const char suffix[] = ".prom";
	size_t n = strlen(path), stem = n;
	int w;

	if (n >= strlen(suffix) && strcmp(path + n - strlen(suffix), suffix) == 0)
		stem = n - strlen(suffix);
	if (!service)
		w = snprintf(buf, len, "%s", path);
	else
		w = snprintf(buf, len, "%.*s-%s%s", (int)stem, path, service, path + stem);
	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}
