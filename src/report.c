/*
 * report.c - renders check results.  Every string that came from a peer
 * or a certificate was escaped where it was captured; JSON output escapes
 * again for its own syntax.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "key-type.h"
#include "report.h"
#include "state.h"

#define SEC_PER_DAY 86400.0

void report_key_warnings(FILE *f, const struct check_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct check_item *it = &items[i];
		bool said = false;

		if (!it->cert || !it->key || !it->disk.key_warning)
			continue;
		/* Endpoints often share a pair: once per key file. */
		for (size_t j = 0; j < i && !said; j++)
			said = items[j].cert && items[j].key && strcmp(items[j].key, it->key) == 0 &&
			       items[j].disk.key_warning;
		if (!said)
			fprintf(f, "certwatch: warning: %s\n", it->disk.key_warning);
	}
}

void report_table(FILE *f, const struct check_item *items, size_t n, time_t now)
{
	fprintf(f, "%-12s %-10s %-11s %-12s %-12s %6s  %-15s %s\n",
		"SERVICE", "ENDPOINT", "PROTO", "SERVED", "DISK", "DAYS", "STATE", "REASON");
	for (size_t i = 0; i < n; i++) {
		const struct check_item *it = &items[i];
		char served[SHA256_SHORT_HEX_LEN] = "-", disk[SHA256_SHORT_HEX_LEN] = "-";
		char days[16] = "-";

		if (it->probe.status == PROBE_OK) {
			sha256_to_short_hex(it->probe.leaf.sha256, served);
			snprintf(days, sizeof(days), "%.1f",
				 (double)(it->probe.leaf.not_after - now) / SEC_PER_DAY);
		}
		if (it->cert && it->disk.have_leaf)
			sha256_to_short_hex(it->disk.leaf.sha256, disk);
		fprintf(f, "%-12s %-10s %-11s %-12s %-12s %6s  %-15s %s\n",
			it->service, it->endpoint, check_item_protocol(it), served, disk, days,
			verdict_state_to_string(it->verdict.state), msg_text(it->verdict.reason));
	}
	report_key_warnings(stderr, items, n);
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_time(FILE *f, time_t t)
{
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		fputs("null", f);
	else
		json_str(f, buf);
}

static void json_key(FILE *f, const char *key)
{
	json_str(f, key);
	fputs(": ", f);
}

/* ", "key": "value"": a string member after the first. */
static void json_kv(FILE *f, const char *key, const char *value)
{
	fputs(", ", f);
	json_key(f, key);
	json_str(f, value);
}

/* The fields shared by the served and the disk certificate. */
static void json_cert_fields(FILE *f, const struct cert_info *ci, time_t now)
{
	char hex[SHA256_HEX_LEN];

	sha256_to_hex(ci->sha256, hex);
	json_key(f, "sha256");
	json_str(f, hex);
	sha256_to_hex(ci->spki_sha256, hex);
	json_kv(f, "spki_sha256", hex);
	json_kv(f, "key_type", ci->key_alg);
	fputs(", ", f);
	json_key(f, "not_before");
	json_time(f, ci->not_before);
	fputs(", ", f);
	json_key(f, "not_after");
	json_time(f, ci->not_after);
	fprintf(f, ", \"days_left\": %.3f, ", (double)(ci->not_after - now) / SEC_PER_DAY);
	json_key(f, "subject");
	json_str(f, ci->subject);
	json_kv(f, "issuer", ci->issuer);
	fputs(", \"sans\": [", f);
	for (size_t i = 0; i < ci->n_sans; i++) {
		if (i > 0)
			fputs(", ", f);
		json_str(f, ci->sans[i]);
	}
	fputs("]", f);
}

/* ", "chain": [{...}, ...]": the certificates after the leaf, in order. */
static void json_chain(FILE *f, const struct cert_chain *c, time_t now)
{
	fputs(", \"chain\": [", f);
	for (size_t i = 0; i < c->n_issuers; i++) {
		fputs(i ? ", {" : "{", f);
		json_cert_fields(f, &c->issuers[i], now);
		fputs("}", f);
	}
	fputs("]", f);
}

static void json_lines(FILE *f, const char *key, const char lines[2][TLSA_LINE_MAX])
{
	fprintf(f, ", \"%s\": [", key);
	for (int i = 0; i < 2 && lines[i][0]; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, lines[i]);
	}
	fputs("]", f);
}

/* The look-up of the endpoint's TLSA records, and what they and the pins say of each chain. */
static void json_dane(FILE *f, const struct check_dane *d)
{
	const struct dane_answer *a = d ? d->answer : NULL;
	const struct dane_verdict *v = d ? &d->verdict : NULL;
	char *text = NULL;

	fputs(", \"dane\": ", f);
	if (!d) {
		fputs("null", f);
		return;
	}
	fputs("{", f);
	json_key(f, "mode");
	json_str(f, dane_mode_to_string(d->mode));
	json_kv(f, "name", d->name);
	json_kv(f, "lookup", a ? dane_status_to_string(a->status) : NULL);
	json_kv(f, "owner", a ? a->owner : NULL);
	json_kv(f, "lookup_reason", a && a->reason[0] ? a->reason : NULL);
	fprintf(f, ", \"ttl\": %u, \"records\": [", a ? a->ttl : 0);
	for (size_t i = 0; a && i < a->n_records; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, tlsa_record_to_text(&a->records[i], &text) == 0 ? text : NULL);
		free(text);
		text = NULL;
	}
	fputs("]", f);
	json_kv(f, "action", d->judged ? dane_action_to_string(v->action) : NULL);
	json_kv(f, "served", d->judged ? dane_side_to_string(v->served) : NULL);
	json_kv(f, "disk", d->judged ? dane_side_to_string(v->disk) : NULL);
	json_kv(f, "served_pins", d->judged ? dane_side_to_string(v->served_pins) : NULL);
	json_kv(f, "disk_pins", d->judged ? dane_side_to_string(v->disk_pins) : NULL);
	if (d->judged) {
		json_lines(f, "served_records", v->served_records);
		json_lines(f, "disk_records", v->disk_records);
	}
	json_kv(f, "disk_pin", d->judged && v->disk_pin[0] ? v->disk_pin : NULL);
	fputs("}", f);
}

static void json_item(FILE *f, const struct check_item *it, time_t now)
{
	const struct probe_result *p = &it->probe;

	fputs("{", f);
	json_key(f, "service");
	json_str(f, it->service);
	json_kv(f, "endpoint", it->endpoint);
	json_kv(f, "address", it->target.host);
	fprintf(f, ", \"port\": %u, ", (unsigned)it->target.port);
	json_key(f, "protocol");
	json_str(f, check_item_protocol(it));
	json_kv(f, "name", it->target.sni);
	json_kv(f, "key_type", key_type_to_string(it->key_type));
	json_kv(f, "pair_format", pair_format_to_string(it->pair_format));
	json_kv(f, "state", verdict_state_to_string(it->verdict.state));
	json_kv(f, "severity", severity_to_string(it->verdict.severity));
	json_kv(f, "action", verdict_action_to_string(it->verdict.action));
	json_kv(f, "reason", msg_text(it->verdict.reason));

	fputs(", \"probe\": {", f);
	json_key(f, "status");
	json_str(f, probe_status_to_string(p->status));
	json_kv(f, "phase", probe_phase_to_string(p->phase));
	json_kv(f, "key_type", key_type_to_string(p->key_type));
	json_kv(f, "detail", msg_text(p->detail));
	json_kv(f, "peer", p->peer);
	fprintf(f, ", \"seconds\": %.3f, \"handshake_seconds\": %.3f}",
		(double)p->total_usec / 1e6, (double)p->handshake_usec / 1e6);

	fputs(", \"served\": ", f);
	if (p->status == PROBE_OK) {
		fputs("{", f);
		json_cert_fields(f, &p->leaf, now);
		json_chain(f, &p->chain, now);
		fprintf(f, ", \"chain_length\": %zu, \"verified\": %s, ", p->chain_len,
			p->verified ? "true" : "false");
		json_key(f, "verify_error");
		json_str(f, p->verified ? NULL : msg_text(p->verify_error));
		fprintf(f, ", \"name_covered\": %s, ", p->name_covered ? "true" : "false");
		json_key(f, "tls_version");
		json_str(f, p->tls_version);
		json_kv(f, "cipher", p->cipher);
		fputs("}", f);
	} else
		fputs("null", f);

	fputs(", \"disk\": ", f);
	if (it->cert) {
		fputs("{", f);
		json_key(f, "cert");
		json_str(f, it->cert);
		json_kv(f, "status", x509_status_to_string(it->disk.status));
		json_kv(f, "detail", it->disk.status == X509_VALID ? NULL :
			msg_text(it->disk.detail));
		json_kv(f, "key_warning", it->disk.key_warning);
		if (it->disk.have_leaf) {
			fputs(", ", f);
			json_cert_fields(f, &it->disk.leaf, now);
			json_chain(f, &it->disk.chain, now);
			fprintf(f, ", \"chain_length\": %zu", it->disk.chain_len);
			if (it->disk.trust_checked) {
				fprintf(f, ", \"trusted\": %s", it->disk.trusted ? "true" : "false");
				json_kv(f, "trust_error", it->disk.trusted ? NULL :
					msg_text(it->disk.trust_error));
			}
			if (p->status == PROBE_OK)
				fprintf(f, ", \"same_key_as_served\": %s",
					cert_info_same_key(&it->disk.leaf, &p->leaf) ? "true" : "false");
		}
		fputs("}", f);
	} else
		fputs("null", f);
	json_dane(f, it->dane);
	fputs("}", f);
}

void report_json(FILE *f, const struct check_item *items, size_t n, enum severity worst,
		 time_t now)
{
	fputs("{", f);
	json_key(f, "status");
	json_str(f, severity_to_string(worst));
	fputs(", ", f);
	json_key(f, "checked_at");
	json_time(f, now);
	fputs(", \"endpoints\": [", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n  " : "\n  ", f);
		json_item(f, &items[i], now);
	}
	fputs(n ? "\n]}\n" : "]}\n", f);
}

/* ---- the daemon's view ----------------------------------------------------- */

static void format_usec(uint64_t usec, char *out, size_t outlen)
{
	time_t t = (time_t)(usec / USEC_PER_SEC);
	struct tm tm;

	if (usec == 0 || !localtime_r(&t, &tm) ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, outlen, "-");
}

void report_status_table(FILE *f, const struct state *s, bool running)
{
	char written[32];

	format_usec((uint64_t)s->written * USEC_PER_SEC, written, sizeof(written));
	if (running)
		fprintf(f, "certwatch is running (pid %ld); state written %s\n\n", (long)s->pid,
			written);
	else
		fprintf(f, "certwatch is NOT running; last state written %s by pid %ld\n\n",
			written, (long)s->pid);
	fprintf(f, "%-12s %-10s %-8s %-19s %-19s %s\n", "SERVICE", "PHASE", "FAILURES",
		"LAST RELOAD", "LAST VERIFIED", "LAST RESULT");
	for (size_t i = 0; i < s->n_services; i++) {
		const struct state_service *sv = &s->services[i];
		char reload[32], verified[32];

		format_usec(sv->last_reload, reload, sizeof(reload));
		format_usec(sv->last_verified, verified, sizeof(verified));
		/* A reload held back says more than how the last one went. */
		fprintf(f, "%-12s %-10s %-8u %-19s %-19s %s%s%s\n", sv->name,
			sv->paused ? "PAUSED" : sv->phase,
			sv->failures, reload, verified, sv->held[0] ? "reload held: " : "",
			sv->held[0] ? sv->held : sv->last_result[0] ? sv->last_result : "-",
			sv->paused ? "; run 'certwatch resume' with the service's name" : "");
	}
	fprintf(f, "\n%-12s %-10s %-12s %-12s %-15s %s\n", "SERVICE", "ENDPOINT", "SERVED", "DISK",
		"STATE", "REASON");
	for (size_t i = 0; i < s->n_endpoints; i++) {
		const struct state_endpoint *e = &s->endpoints[i];

		fprintf(f, "%-12s %-10s %-12.12s %-12.12s %-15s %s\n", e->service, e->endpoint,
			e->served[0] ? e->served : "-", e->disk[0] ? e->disk : "-", e->state,
			msg_text(e->reason));
	}
}

void report_status_json(FILE *f, const struct state *s, bool running)
{
	fprintf(f, "{\"running\": %s, \"pid\": %ld, \"written\": ", running ? "true" : "false",
		(long)s->pid);
	json_time(f, (time_t)s->written);
	fputs(", \"services\": [", f);
	for (size_t i = 0; i < s->n_services; i++) {
		const struct state_service *sv = &s->services[i];

		fputs(i ? ",\n  {" : "\n  {", f);
		json_key(f, "name");
		json_str(f, sv->name);
		json_kv(f, "phase", sv->phase);
		fprintf(f, ", \"paused\": %s, \"failures\": %u, \"last_reload\": ",
			sv->paused ? "true" : "false", sv->failures);
		if (sv->last_reload)
			json_time(f, (time_t)(sv->last_reload / USEC_PER_SEC));
		else
			fputs("null", f);
		fprintf(f, ", \"last_reload_ok\": %s, \"last_verified\": ",
			sv->last_reload_ok ? "true" : "false");
		if (sv->last_verified)
			json_time(f, (time_t)(sv->last_verified / USEC_PER_SEC));
		else
			fputs("null", f);
		json_kv(f, "last_result", sv->last_result);
		json_kv(f, "reload_held", sv->held[0] ? sv->held : NULL);
		fputs("}", f);
	}
	fputs("],\n\"endpoints\": [", f);
	for (size_t i = 0; i < s->n_endpoints; i++) {
		const struct state_endpoint *e = &s->endpoints[i];

		fputs(i ? ",\n  {" : "\n  {", f);
		json_key(f, "service");
		json_str(f, e->service);
		json_kv(f, "endpoint", e->endpoint);
		json_kv(f, "served_sha256", e->served[0] ? e->served : NULL);
		json_kv(f, "disk_sha256", e->disk[0] ? e->disk : NULL);
		json_kv(f, "state", e->state);
		json_kv(f, "severity", e->severity);
		json_kv(f, "reason", msg_text(e->reason));
		fputs("}", f);
	}
	fputs("]}\n", f);
}
