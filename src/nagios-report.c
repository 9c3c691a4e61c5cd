/*
 * nagios-report.c - the plugin's output for checked items (see nagios.h):
 *
 *   CERTWATCH WARNING - 1 of 2 endpoints stale: dovecot/imap serves ... | 'dovecot/imap days'=...
 *   [WARNING] dovecot/imap (127.0.0.1:143 imap): STALE - the service serves ...
 *   [OK] dovecot/imaps (127.0.0.1:993 tls): OK - served certificate is the one on disk, ...
 *
 * A '|' in the text would start the performance data early, so every text
 * goes through nagios_put(), which replaces it (and control characters).
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nagios.h"

#define SEC_PER_DAY       86400.0
#define SUMMARY_NAMED     3       /* endpoints named on the status line */

/* What the plugin makes of one item. */
struct judged {
	enum severity severity;       /* the worse of the verdict's and the ranges' */
	bool have_days;               /* a certificate was served */
	double days;                  /* left on it */
	struct nagios_range warn, crit;
	bool by_range;                /* the ranges made it worse than the verdict */
};

static void judge(const struct check_item *it, const struct nagios_range *warn,
		  const struct nagios_range *crit, time_t now, struct judged *ret)
{
	enum severity s = SEVERITY_OK;
	long long w, c;

	*ret = (struct judged) { .severity = it->verdict.severity };
	if (it->probe.status != PROBE_OK)
		return;
	thresholds_for(&it->th, &it->probe.leaf, &w, &c);
	ret->have_days = true;
	ret->days = (double)(it->probe.leaf.not_after - now) / SEC_PER_DAY;
	ret->warn = (struct nagios_range) { .start = (double)w / SEC_PER_DAY, .end = INFINITY };
	ret->crit = (struct nagios_range) { .start = (double)c / SEC_PER_DAY, .end = INFINITY };
	if (warn)
		ret->warn = *warn;
	if (crit)
		ret->crit = *crit;
	if (nagios_range_alert(&ret->crit, ret->days))
		s = SEVERITY_CRITICAL;
	else if (nagios_range_alert(&ret->warn, ret->days))
		s = SEVERITY_WARNING;
	if (s > ret->severity) {
		ret->severity = s;
		ret->by_range = true;
	}
}

void nagios_put(FILE *f, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (char *p = buf; *p; p++)
		if (*p == '|')
			*p = '/';
		else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	fputs(buf, f);
}

/* "stale", "renewal overdue", ...: how the status line names a verdict state. */
static void state_word(enum verdict_state s, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", verdict_state_to_string(s));
	for (char *p = out; *p; p++)
		*p = *p == '-' ? ' ' : (char)(*p | 0x20);
}

static void fragment(FILE *f, const struct check_item *it, const struct judged *j)
{
	char name[256], served[SHA256_SHORT_HEX_LEN], disk[SHA256_SHORT_HEX_LEN], range[64];

	check_item_name(it, name, sizeof(name));
	if (it->verdict.state == STATE_STALE) {
		sha256_to_short_hex(it->probe.leaf.sha256, served);
		sha256_to_short_hex(it->disk.leaf.sha256, disk);
		nagios_put(f, "%s serves %s, disk has %s", name, served, disk);
	} else if (it->verdict.state == STATE_OK && j->by_range) {
		nagios_range_format(j->severity == SEVERITY_CRITICAL ? &j->crit : &j->warn, range,
				    sizeof(range));
		nagios_put(f, "%s has %.1f days left, outside %s", name, j->days, range);
	} else
		nagios_put(f, "%s: %s", name, msg_text(it->verdict.reason));
}

static void status_line(FILE *f, const struct check_item *items, const struct judged *j,
			size_t n, enum severity worst)
{
	size_t bad = 0, named = 0, soonest = n;
	int common = -1;    /* the state every problem shares; -2 mixed, _STATE_MAX near expiry */
	char word[32] = "not OK", name[256];

	for (size_t i = 0; i < n; i++) {
		int st = items[i].verdict.state == STATE_OK && j[i].by_range ?
			_STATE_MAX : (int)items[i].verdict.state;

		if (j[i].have_days && (soonest == n || j[i].days < j[soonest].days))
			soonest = i;
		if (j[i].severity == SEVERITY_OK)
			continue;
		bad++;
		common = common == -1 || common == st ? st : -2;
	}
	nagios_put(f, "CERTWATCH %s - ", severity_to_string(worst));
	if (bad == 0) {
		nagios_put(f, "%zu endpoint%s OK", n, n == 1 ? "" : "s");
		if (soonest < n) {
			check_item_name(&items[soonest], name, sizeof(name));
			nagios_put(f, ", the first expiry in %.1f days (%s)", j[soonest].days, name);
		}
		return;
	}
	if (common == _STATE_MAX)
		snprintf(word, sizeof(word), "near expiry");
	else if (common >= 0)
		state_word(common, word, sizeof(word));
	nagios_put(f, "%zu of %zu endpoints %s: ", bad, n, word);
	for (int sev = _SEVERITY_MAX - 1; sev > SEVERITY_OK; sev--)
		for (size_t i = 0; i < n && named < SUMMARY_NAMED; i++)
			if (j[i].severity == (enum severity)sev) {
				if (named++)
					nagios_put(f, "; ");
				fragment(f, &items[i], &j[i]);
			}
	if (bad > named)
		nagios_put(f, "; %zu more below", bad - named);
}

/* A label in single quotes, without the characters the guidelines forbid in one. */
static void perf_label(FILE *f, const char *name, const char *what)
{
	fputc('\'', f);
	for (const char *p = name; *p; p++)
		fputc(strchr("='|", *p) || (unsigned char)*p < 0x20 ? '_' : *p, f);
	fprintf(f, " %s'=", what);
}

static void perfdata(FILE *f, const struct check_item *items, const struct judged *j, size_t n)
{
	const char *sep = " | ";

	for (size_t i = 0; i < n; i++) {
		char name[256], v[32], w[64], c[64];

		if (!j[i].have_days)
			continue;
		check_item_name(&items[i], name, sizeof(name));
		nagios_number_format(j[i].days, v, sizeof(v));
		nagios_range_format(&j[i].warn, w, sizeof(w));
		nagios_range_format(&j[i].crit, c, sizeof(c));
		fputs(sep, f);
		perf_label(f, name, "days");
		fprintf(f, "%s;%s;%s ", v, w, c);
		perf_label(f, name, "stale");
		fprintf(f, "%d;;;0;1 ", items[i].verdict.state == STATE_STALE);
		perf_label(f, name, "handshake");
		nagios_number_format((double)items[i].probe.handshake_usec / 1e6, v, sizeof(v));
		fprintf(f, "%ss;;;0", v);
		/* DANE and pins: 0 nothing wrong, 1 a reload held, 2 the served chain refused. */
		if (items[i].dane) {
			fputc(' ', f);
			perf_label(f, name, "dane");
			fprintf(f, "%d;1;2;0;2", items[i].verdict.state == STATE_DANE_MISMATCH ? 2 :
				items[i].verdict.dane_held ? 1 : 0);
		}
		sep = " ";
	}
}

static void format_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, outlen, "@%lld", (long long)t);
}

static void long_line(FILE *f, const struct check_item *it, const struct judged *j,
		      unsigned verbose)
{
	const struct probe_result *p = &it->probe;
	char name[256], hex[SHA256_HEX_LEN], when[40], w[64], c[64];

	check_item_name(it, name, sizeof(name));
	fputc('\n', f);
	nagios_put(f, "[%s] %s (%s:%u %s): %s - %s", severity_to_string(j->severity), name,
	    it->target.host, (unsigned)it->target.port, check_item_protocol(it),
	    verdict_state_to_string(it->verdict.state), msg_text(it->verdict.reason));
	nagios_range_format(&j->warn, w, sizeof(w));
	nagios_range_format(&j->crit, c, sizeof(c));
	if (j->by_range)
		nagios_put(f, "; %.1f days left is outside -w %s or -c %s", j->days, w, c);
	if (verbose >= 1 && p->status == PROBE_OK) {
		sha256_to_hex(p->leaf.sha256, hex);
		format_time(p->leaf.not_after, when, sizeof(when));
		fputc('\n', f);
		nagios_put(f, "    served %s, expires %s (%.1f days)", hex, when, j->days);
	}
	if (verbose >= 1 && it->cert && it->disk.have_leaf) {
		sha256_to_hex(it->disk.leaf.sha256, hex);
		format_time(it->disk.leaf.not_after, when, sizeof(when));
		fputc('\n', f);
		nagios_put(f, "    disk   %s, expires %s (%s)", hex, when, it->cert);
	}
	if (verbose >= 2) {
		fputc('\n', f);
		nagios_put(f, "    probe: %s in phase %s, peer %s, %.3f s in all",
		    probe_status_to_string(p->status), probe_phase_to_string(p->phase),
		    p->peer[0] ? p->peer : "-", (double)p->total_usec / 1e6);
		if (p->status == PROBE_OK)
			nagios_put(f, ", %s %s, handshake %.3f s, chain %s; days ranges -w %s -c %s",
			    p->tls_version, p->cipher, (double)p->handshake_usec / 1e6,
			    p->verified ? "verified" : msg_text(p->verify_error), w, c);
	}
}

enum severity nagios_report(FILE *f, const struct check_item *items, size_t n,
			    const struct nagios_range *warn, const struct nagios_range *crit,
			    unsigned verbose, time_t now)
{
	struct judged *j = calloc(n ? n : 1, sizeof(*j));
	enum severity worst = SEVERITY_OK;

	if (!j) {
		fputs("CERTWATCH UNKNOWN - out of memory\n", f);
		return SEVERITY_UNKNOWN;
	}
	for (size_t i = 0; i < n; i++) {
		judge(&items[i], warn, crit, now, &j[i]);
		if (j[i].severity > worst)
			worst = j[i].severity;
	}
	if (n == 0) {
		worst = SEVERITY_UNKNOWN;
		fputs("CERTWATCH UNKNOWN - no endpoints to check: the configuration has no "
		      "service with an endpoint", f);
	} else
		status_line(f, items, j, n, worst);
	perfdata(f, items, j, n);
	for (size_t i = 0; i < n; i++)
		long_line(f, &items[i], &j[i], verbose);
	fputc('\n', f);
	free(j);
	return worst;
}
