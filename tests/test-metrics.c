/*
 * test-metrics.c - the Prometheus text format without a network: label
 * escaping, families grouped with HELP and TYPE, unknown facts left out,
 * the per-service families only when there are services, and the atomic
 * file write.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "../tests/tap.h"

static char *render(const struct check_item *items, size_t n,
		    const struct metrics_service *services, size_t n_services)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	metrics_write(f, items, n, services, n_services);
	fclose(f);
	return buf;
}

/* How many lines start with prefix. */
static unsigned count_lines(const char *text, const char *prefix)
{
	unsigned k = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		k += strncmp(p, prefix, strlen(prefix)) == 0;
	return k;
}

int main(void)
{
	struct check_item items[3];
	struct metrics_service svc[] = {
		{ .name = "web", .paused = true, .reloads_ok = 3, .reloads_failed = 2 },
	};
	char path[] = "/tmp/test-metrics.XXXXXX", file[64], *out;
	struct stat st;
	FILE *f;

	memset(items, 0, sizeof(items));
	items[0] = (struct check_item) {
		.service = "we\"b\\", .endpoint = "a\nb",
		.target = { .host = "127.0.0.1", .port = 443, .starttls = -1 },
		.cert = "/x.pem",
	};
	items[0].probe.status = PROBE_OK;
	items[0].probe.phase = PROBE_PHASE_DONE;
	items[0].probe.leaf.not_after = 1800000000;
	items[0].probe.total_usec = 1500;
	items[0].disk.have_leaf = true;
	items[0].disk.leaf.not_after = 1900000000;
	items[0].verdict.state = STATE_STALE;
	items[1] = (struct check_item) {
		.service = "web", .endpoint = "down",
		.target = { .host = "::1", .port = 8443, .starttls = -1 },
	};
	items[1].probe.status = PROBE_CONNECT_REFUSED;
	items[1].probe.phase = PROBE_PHASE_CONNECT;
	items[1].verdict.state = STATE_UNREACHABLE;
	items[2] = (struct check_item) { .service = "web", .endpoint = "later" };

	out = render(items, 3, NULL, 0);
	like(out, "certwatch_served_not_after_seconds{service=\"we\\\"b\\\\\",endpoint=\"a\\nb\"} "
	     "1800000000\n", "label values escape double quote, backslash and newline");
	like(out, "certwatch_disk_not_after_seconds{service=\"we\\\"b\\\\\",endpoint=\"a\\nb\"} "
	     "1900000000\n", "the disk notAfter is written in unix seconds");
	like(out, "certwatch_endpoint_stale{service=\"we\\\"b\\\\\",endpoint=\"a\\nb\"} 1\n",
	     "a STALE endpoint has stale 1");
	like(out, "certwatch_probe_duration_seconds{service=\"we\\\"b\\\\\",endpoint=\"a\\nb\"} "
	     "0.001500\n", "the probe duration is in seconds");
	ok(!strstr(out, "certwatch_served_not_after_seconds{service=\"web\",endpoint=\"down\"}") &&
	   !strstr(out, "certwatch_endpoint_stale{service=\"web\",endpoint=\"down\"}"),
	   "an unreachable endpoint has no served notAfter and no stale sample");
	like(out, "certwatch_endpoint_state{service=\"web\",endpoint=\"down\",state=\"UNREACHABLE\"} 1\n",
	     "its state set says UNREACHABLE");
	like(out, "certwatch_probe_success{service=\"web\",endpoint=\"down\"} 0\n",
	     "and its probe failed");
	ok(!strstr(out, "endpoint=\"later\""), "an endpoint not judged yet is left out");
	ok(count_lines(out, "certwatch_endpoint_state{service=\"web\",endpoint=\"down\"") ==
	   _STATE_MAX - 1 && !strstr(out, "state=\"PENDING\""),
	   "the state set has one sample per state a verdict can have (not PENDING)");
	ok(count_lines(out, "# HELP ") == 9 && count_lines(out, "# TYPE ") == 9,
	   "nine endpoint families (three of DANE), each with HELP and TYPE");
	ok(!strstr(out, "certwatch_reloads_total") && !strstr(out, "certwatch_service_paused"),
	   "without services, no reload or pause families");
	free(out);

	/*
	 * What the daemon keeps of an endpoint between its judgements is what
	 * its metrics read: shedding the leaves' names and the issuers' facts
	 * changes nothing here.
	 */
	items[0].probe.leaf.subject = strdup("CN=a");
	items[0].disk.leaf.issuer = strdup("CN=ca");
	items[0].disk.chain.issuers = calloc(1, sizeof(*items[0].disk.chain.issuers));
	items[0].disk.chain.n_issuers = 1;
	out = render(items, 3, NULL, 0);
	check_item_keep_verdict_facts(&items[0]);
	ok(!items[0].probe.leaf.subject && !items[0].disk.leaf.issuer &&
	   !items[0].disk.chain.issuers && items[0].disk.have_leaf &&
	   items[0].probe.leaf.not_after == 1800000000,
	   "keeping the verdict's facts frees the names and the issuers, keeps the dates");
	{
		char *again = render(items, 3, NULL, 0);

		is_str(again, out, "and the metrics read from what is kept are the same");
		free(again);
	}
	free(out);

	items[1].service = "-";
	out = render(&items[1], 1, NULL, 0);
	like(out, "certwatch_probe_success{service=\"-\",endpoint=\"[::1]:8443\"} 0\n",
	     "an ad-hoc endpoint is labelled by its address");
	free(out);

	out = render(items, 1, svc, 1);
	like(out, "# HELP certwatch_reloads_total ", "the daemon's reloads have HELP");
	like(out, "# TYPE certwatch_reloads_total counter\n"
	     "certwatch_reloads_total{service=\"web\",result=\"ok\"} 3\n"
	     "certwatch_reloads_total{service=\"web\",result=\"failed\"} 2\n",
	     "reloads are a counter by result");
	like(out, "# TYPE certwatch_service_paused gauge\ncertwatch_service_paused{service=\"web\"} 1\n",
	     "a paused service is 1");
	free(out);

	if (!mkdtemp(path)) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	snprintf(file, sizeof(file), "%s/m.prom", path);
	ok(metrics_write_file(file, items, 1, svc, 1) == 0, "metrics_write_file succeeds");
	ok(stat(file, &st) == 0 && (st.st_mode & 0777) == 0644, "the file is mode 0644");
	f = fopen(file, "r");
	ok(f && fgetc(f) == '#', "the file holds the metrics");
	if (f)
		fclose(f);
	unlink(file);
	rmdir(path);
	ok(metrics_write_file("/nonexistent-dir/m.prom", items, 1, NULL, 0) == -ENOENT,
	   "a missing directory is -ENOENT");

	/* certwatch@NAME: one file per instance, still *.prom. */
	ok(metrics_instance_path("/d/certwatch.prom", "nginx", file, sizeof(file)) == 0, "instance path");
	is_str(file, "/d/certwatch-nginx.prom", "an instance's name goes before .prom");
	metrics_instance_path("/d/certwatch.metrics", "nginx", file, sizeof(file));
	is_str(file, "/d/certwatch.metrics-nginx", "without .prom, after the name");
	metrics_instance_path("/d/certwatch.prom", NULL, file, sizeof(file));
	is_str(file, "/d/certwatch.prom", "without an instance, the path itself");
	ok(metrics_instance_path("/d/certwatch.prom", "nginx", file, 10) == -ENAMETOOLONG,
	   "a path that does not fit is -ENAMETOOLONG");
	return tap_done();
}
