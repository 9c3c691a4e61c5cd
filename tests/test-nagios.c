/*
 * test-nagios.c - plugin mode without a network: the range grammar of the
 * Monitoring Plugins guidelines, and the output grammar (status line,
 * performance data, long output) for items whose verdicts come from the
 * real decision table.
 */
#include "config.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "nagios.h"
#include "../tests/tap.h"

#define DAY 86400

/* ---- ranges ------------------------------------------------------------------------ */

static const struct {
	const char *range;
	double value;
	bool alert;
} alerts[] = {
	{ "10",     -1,   true },    /* "10" is 0..10: below zero alerts */
	{ "10",      0,   false },
	{ "10",     10,   false },   /* inclusive */
	{ "10",     10.5, true },
	{ "21",     80,   true },    /* a bare number alerts ABOVE it */
	{ "21:",    20.9, true },    /* "N:" alerts below N */
	{ "21:",    21,   false },
	{ "21:",    400,  false },
	{ "~:10",   -1e6, false },
	{ "~:10",   11,   true },
	{ "10:20",   9,   true },
	{ "10:20",  15,   false },
	{ "10:20",  21,   true },
	{ "@10:20", 10,   true },    /* "@": inside alerts, inclusive */
	{ "@10:20", 15,   true },
	{ "@10:20",  9.99, false },
	{ "@10:20", 20.01, false },
	{ "@5",      3,   true },
	{ "@5",      6,   false },
	{ "-5:",    -4,   false },   /* negative days: an expired certificate */
	{ "-5:",    -6,   true },
	{ ":10",    11,   true },    /* an empty start is 0 */
	{ "1.5:",    1.4, true },
};

static const char *const invalid[] = {
	"", "@", ":", "abc", "10:5", "@20:10", "1e3", "0x10", "10::20", "~", "~:~",
	"10:abc", " 10", "10 ", "inf", "nan", "1.2.3", "-", "--1", "99999999999999999999",
};

static const char *const canonical[] = {
	"10", "21:", "~:10", "10:20", "@10:20", "@~:0.5", "0:", "-5:-1", "15.6667:",
};

static void test_ranges(void)
{
	struct nagios_range r;
	char out[64];

	for (size_t i = 0; i < ELEMENTSOF(alerts); i++) {
		bool parsed = nagios_range_parse(alerts[i].range, &r) == 0;

		ok(parsed && nagios_range_alert(&r, alerts[i].value) == alerts[i].alert,
		   "range \"%s\" %s for %g", alerts[i].range,
		   alerts[i].alert ? "alerts" : "does not alert", alerts[i].value);
	}
	for (size_t i = 0; i < ELEMENTSOF(invalid); i++) {
		r = (struct nagios_range) { 1, 2, true };
		ok(nagios_range_parse(invalid[i], &r) < 0 && r.start == 1 && r.end == 2 && r.inside,
		   "\"%s\" is not a range and leaves the result untouched", invalid[i]);
	}
	ok(nagios_range_parse(NULL, &r) < 0, "NULL is not a range");
	for (size_t i = 0; i < ELEMENTSOF(canonical); i++) {
		const char *c = canonical[i];

		nagios_range_parse(c, &r);
		nagios_range_format(&r, out, sizeof(out));
		ok(strcmp(out, c) == 0, "range \"%s\" is written back as it was read (got \"%s\")",
		   c, out);
	}
	nagios_range_parse(":10", &r);
	nagios_range_format(&r, out, sizeof(out));
	is_str(out, "10", "\":10\" is written in its short form \"10\"");
}

/* ---- output ------------------------------------------------------------------------- */

/* A leaf valid from now - used_days for lifetime_days, with a fingerprint byte. */
static struct cert_info leaf(time_t now, double used_days, double lifetime_days, uint8_t fp)
{
	struct cert_info ci = { 0 };

	memset(ci.sha256, fp, sizeof(ci.sha256));
	memset(ci.spki_sha256, fp, sizeof(ci.spki_sha256));
	ci.not_before = now - (time_t)(used_days * DAY);
	ci.not_after = ci.not_before + (time_t)(lifetime_days * DAY);
	return ci;
}

/* Lets go of the messages an item was given (its certificates are the test's own). */
static void item_done(struct check_item *it)
{
	msg_clear(&it->probe.detail);
	verdict_done(&it->verdict);
}

/* it: zeroed, or an item made before, which is let go of. */
static void item(struct check_item *it, const char *service, const char *endpoint)
{
	item_done(it);
	memset(it, 0, sizeof(*it));
	it->service = service;
	it->endpoint = endpoint;
	it->target = (struct probe_target) { .host = "127.0.0.1", .port = 993, .starttls = -1 };
	it->th = (struct thresholds) { .warn_days = 21, .crit_days = 7 };
	it->probe.phase = PROBE_PHASE_DONE;
}

static void served(struct check_item *it, struct cert_info ci, uint64_t handshake_usec)
{
	it->probe.status = PROBE_OK;
	it->probe.leaf = ci;
	it->probe.name_covered = true;
	it->probe.handshake_usec = handshake_usec;
	it->probe.verified = true;
	snprintf(it->probe.tls_version, sizeof(it->probe.tls_version), "TLSv1.3");
	snprintf(it->probe.cipher, sizeof(it->probe.cipher), "TLS_AES_128_GCM_SHA256");
}

static void on_disk(struct check_item *it, struct cert_info ci)
{
	it->cert = "/etc/ssl/x.pem";
	it->disk.status = X509_VALID;
	it->disk.have_leaf = true;
	it->disk.key_matches = true;
	it->disk.leaf = ci;
}

static void decide(struct check_item *items, size_t n, time_t now)
{
	for (size_t i = 0; i < n; i++)
		reconcile(&items[i].probe, items[i].cert ? &items[i].disk : NULL, NULL,
			  &items[i].th, now, &items[i].verdict);
}

/* The plugin's output for items, and its state. */
static char *render(struct check_item *items, size_t n, const char *warn, const char *crit,
		    unsigned verbose, time_t now, enum severity *ret)
{
	struct nagios_range w, c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (warn)
		nagios_range_parse(warn, &w);
	if (crit)
		nagios_range_parse(crit, &c);
	*ret = nagios_report(f, items, n, warn ? &w : NULL, crit ? &c : NULL, verbose, now);
	fclose(f);
	return buf;
}

#define NUM   "-?[0-9]+(\\.[0-9]+)?"
#define RANGE "(@?((~|" NUM "):)?(" NUM ")?)"
#define PERF  "'[^'=]+'=" NUM "(s|ms|us|%|B|KB|MB|GB|TB|c)?" \
	      "(;" RANGE "(;" RANGE "(;(" NUM ")?(;(" NUM ")?)?)?)?)?"
#define STATUS "^CERTWATCH (OK|WARNING|CRITICAL|UNKNOWN) - [^|]+"

static bool matches(const char *s, const char *re)
{
	regex_t rx;
	bool m;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		abort();
	m = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return m;
}

/*
 * The guidelines' grammar: a status line, optionally " | " and
 * space-separated performance data; then long output lines with no '|'.
 */
static bool well_formed(const char *out, enum severity sev)
{
	static const char *const words[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	char *copy = strdup(out), *nl = copy ? strchr(copy, '\n') : NULL, *bar, *p;
	bool good = false;
	char want[64];

	if (!nl)
		goto out;
	*nl = '\0';
	snprintf(want, sizeof(want), "^CERTWATCH %s - ", words[sev]);
	good = matches(copy, want) && matches(copy, STATUS);
	bar = strchr(copy, '|');
	if (bar)
		good = good && bar > copy && bar[-1] == ' ' && bar[1] == ' ' &&
		       matches(bar + 2, "^" PERF "( " PERF ")*$");
	for (p = nl + 1; *p; p++)
		good = good && *p != '|';
	good = good && out[strlen(out) - 1] == '\n';
out:
	free(copy);
	return good;
}

static void test_output(void)
{
	time_t now = 1767225600;   /* 2026-01-01 */
	struct check_item items[4] = { 0 };
	enum severity sev;
	char *out;

	/* Three endpoints: fine, stale, unreachable. */
	item(&items[0], "web", "https");
	served(&items[0], leaf(now, 10, 90, 0xaa), 12000);
	on_disk(&items[0], leaf(now, 10, 90, 0xaa));
	item(&items[1], "dovecot", "imap");
	served(&items[1], leaf(now, 50, 90, 0x1a), 3000);
	on_disk(&items[1], leaf(now, 1, 90, 0x9f));
	item(&items[2], "dovecot", "pop3");
	items[2].probe.status = PROBE_CONNECT_REFUSED;
	items[2].probe.phase = PROBE_PHASE_CONNECT;
	msg_set(&items[2].probe.detail, PROBE_DETAIL_MAX, "connection refused | injected 'x'=1");
	decide(items, 3, now);

	out = render(items, 2, NULL, NULL, 0, now, &sev);
	ok(sev == SEVERITY_WARNING, "one stale endpoint of two: WARNING");
	ok(well_formed(out, SEVERITY_WARNING), "WARNING output follows the guidelines' grammar");
	like(out, "CERTWATCH WARNING - 1 of 2 endpoints stale: dovecot/imap serves 1a1a1a1a1a1a, "
	     "disk has 9f9f9f9f9f9f | ", "the status line names the stale endpoint and both fingerprints");
	like(out, "'web/https days'=80;21:;7: 'web/https stale'=0;;;0;1 'web/https handshake'=0.012s;;;0",
	     "performance data: days with the default thresholds, stale, handshake in seconds");
	like(out, "'dovecot/imap days'=40;21:;7: 'dovecot/imap stale'=1;;;0;1",
	     "the stale endpoint's performance data says stale=1");
	like(out, "\n[WARNING] dovecot/imap (127.0.0.1:993 tls): STALE - ",
	     "the long output has a line for the stale endpoint");
	like(out, "\n[OK] web/https (127.0.0.1:993 tls): OK - ", "and one for the good one");
	free(out);

	out = render(items, 3, NULL, NULL, 0, now, &sev);
	ok(sev == SEVERITY_CRITICAL, "an unreachable endpoint makes it CRITICAL");
	ok(well_formed(out, SEVERITY_CRITICAL),
	   "CRITICAL output follows the grammar, with '|' from a peer kept out of the text");
	like(out, "2 of 3 endpoints not OK: dovecot/pop3: connection refused / injected 'x'=1; "
	     "dovecot/imap serves", "mixed problems: the worst first, '|' replaced");
	ok(!strstr(out, "dovecot/pop3 days"), "an unreachable endpoint has no days to report");
	free(out);

	out = render(items, 1, NULL, NULL, 0, now, &sev);
	ok(sev == SEVERITY_OK && well_formed(out, SEVERITY_OK), "OK output follows the grammar");
	like(out, "CERTWATCH OK - 1 endpoint OK, the first expiry in 80.0 days (web/https) | ",
	     "the OK status line says when the first certificate expires");
	free(out);

	/* -w and -c */
	out = render(items, 1, "90:", "10:", 0, now, &sev);
	ok(sev == SEVERITY_WARNING, "-w 90: with 80 days left: WARNING although the verdict is OK");
	like(out, "1 of 1 endpoints near expiry: web/https has 80.0 days left, outside 90:",
	     "the status line says which range was crossed");
	like(out, "'web/https days'=80;90:;10:", "the given ranges are the perfdata thresholds");
	free(out);
	out = render(items, 1, "21", NULL, 0, now, &sev);
	ok(sev == SEVERITY_WARNING, "a bare -w 21 follows the guidelines: 80 > 21 alerts");
	free(out);
	out = render(items, 1, "@0:100", "@70:85", 0, now, &sev);
	ok(sev == SEVERITY_CRITICAL, "-c @70:85 with 80 days left: CRITICAL (inside alerts)");
	free(out);
	out = render(&items[1], 1, "1:", "0:", 0, now, &sev);
	ok(sev == SEVERITY_WARNING, "ranges never hide a verdict: stale stays WARNING");
	free(out);

	/* A 6-day certificate with 3 days left: the default thresholds follow its lifetime. */
	item(&items[3], "short", "lived");
	served(&items[3], leaf(now, 3, 6, 0x33), 1000);
	on_disk(&items[3], leaf(now, 3, 6, 0x33));
	decide(&items[3], 1, now);
	out = render(&items[3], 1, NULL, NULL, 0, now, &sev);
	ok(sev == SEVERITY_OK, "a 6-day certificate with 3 days left is OK by default");
	like(out, "'short/lived days'=3;2:;1:", "its default thresholds are a third and a sixth of "
	     "its lifetime");
	free(out);

	/* Labels: no '=' or quote; verbose output. */
	item(&items[3], "we=b", "it's");
	served(&items[3], leaf(now, 10, 90, 0x44), 1000);
	decide(&items[3], 1, now);
	out = render(&items[3], 1, NULL, NULL, 2, now, &sev);
	like(out, "'we_b/it_s days'=", "'=' and quotes in a label are replaced");
	ok(well_formed(out, SEVERITY_OK), "output with odd names still follows the grammar");
	like(out, "\n    served 4444444444444444444444444444444444444444444444444444444444444444, "
	     "expires 2026-03-22 00:00:00 UTC", "-v adds the served certificate's fingerprint and "
	     "expiry");
	like(out, "\n    probe: ok in phase done, peer -, 0.000 s in all, TLSv1.3 TLS_AES_128_GCM_SHA256, "
	     "handshake 0.001 s, chain verified; days ranges -w 21: -c 7:",
	     "-vv adds the probe's details and the ranges in force");
	free(out);

	/* Ad hoc: named by address. */
	item(&items[3], "-", "-");
	items[3].target.host = "::1";
	served(&items[3], leaf(now, 10, 90, 0x55), 1000);
	decide(&items[3], 1, now);
	out = render(&items[3], 1, NULL, NULL, 0, now, &sev);
	like(out, "'[::1]:993 days'=", "an endpoint given with -H is named HOST:PORT");
	free(out);

	out = render(items, 0, NULL, NULL, 0, now, &sev);
	ok(sev == SEVERITY_UNKNOWN && well_formed(out, SEVERITY_UNKNOWN),
	   "no endpoints at all: UNKNOWN, still well formed");
	free(out);
	for (size_t i = 0; i < ELEMENTSOF(items); i++)
		item_done(&items[i]);
}

int main(void)
{
	test_ranges();
	test_output();
	return tap_done();
}
