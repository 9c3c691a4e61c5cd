/*
 * report.c - renders check results.  Every string that came from a peer
 * or a certificate was escaped where it was captured; JSON output escapes
 * again for its own syntax.
 */
#include "config.h"

#include <string.h>

#include "report.h"
#include "starttls.h"

#define SEC_PER_DAY 86400.0

static void short_hex(const uint8_t digest[SHA256_LEN], char out[13])
{
	char hex[SHA256_HEX_LEN];

	sha256_to_hex(digest, hex);
	memcpy(out, hex, 12);
	out[12] = '\0';
}

void report_table(FILE *f, const struct check_item *items, size_t n, time_t now)
{
	fprintf(f, "%-12s %-10s %-11s %-12s %-12s %6s  %-15s %s\n",
		"SERVICE", "ENDPOINT", "PROTO", "SERVED", "DISK", "DAYS", "STATE", "REASON");
	for (size_t i = 0; i < n; i++) {
		const struct check_item *it = &items[i];
		char served[13] = "-", disk[13] = "-", days[16] = "-";

		if (it->probe.status == PROBE_OK) {
			short_hex(it->probe.leaf.sha256, served);
			snprintf(days, sizeof(days), "%.1f",
				 (double)(it->probe.leaf.not_after - now) / SEC_PER_DAY);
		}
		if (it->cert && it->disk.have_leaf)
			short_hex(it->disk.leaf.sha256, disk);
		fprintf(f, "%-12s %-10s %-11s %-12s %-12s %6s  %-15s %s\n",
			it->service, it->endpoint, check_item_protocol(it), served, disk, days,
			verdict_state_to_string(it->verdict.state), it->verdict.reason);
	}
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

/* The fields shared by the served and the disk certificate. */
static void json_cert_fields(FILE *f, const struct cert_info *ci, time_t now)
{
	char hex[SHA256_HEX_LEN];

	sha256_to_hex(ci->sha256, hex);
	json_key(f, "sha256");
	json_str(f, hex);
	sha256_to_hex(ci->spki_sha256, hex);
	fputs(", ", f);
	json_key(f, "spki_sha256");
	json_str(f, hex);
	fputs(", ", f);
	json_key(f, "not_before");
	json_time(f, ci->not_before);
	fputs(", ", f);
	json_key(f, "not_after");
	json_time(f, ci->not_after);
	fprintf(f, ", \"days_left\": %.3f, ", (double)(ci->not_after - now) / SEC_PER_DAY);
	json_key(f, "subject");
	json_str(f, ci->subject);
	fputs(", ", f);
	json_key(f, "issuer");
	json_str(f, ci->issuer);
	fputs(", \"sans\": [", f);
	for (size_t i = 0; i < ci->n_sans; i++) {
		if (i > 0)
			fputs(", ", f);
		json_str(f, ci->sans[i]);
	}
	fputs("]", f);
}

static void json_item(FILE *f, const struct check_item *it, time_t now)
{
	const struct probe_result *p = &it->probe;

	fputs("{", f);
	json_key(f, "service");
	json_str(f, it->service);
	fputs(", ", f);
	json_key(f, "endpoint");
	json_str(f, it->endpoint);
	fputs(", ", f);
	json_key(f, "address");
	json_str(f, it->target.host);
	fprintf(f, ", \"port\": %u, ", (unsigned)it->target.port);
	json_key(f, "protocol");
	json_str(f, check_item_protocol(it));
	fputs(", ", f);
	json_key(f, "name");
	json_str(f, it->target.sni);
	fputs(", ", f);
	json_key(f, "state");
	json_str(f, verdict_state_to_string(it->verdict.state));
	fputs(", ", f);
	json_key(f, "severity");
	json_str(f, severity_to_string(it->verdict.severity));
	fputs(", ", f);
	json_key(f, "action");
	json_str(f, verdict_action_to_string(it->verdict.action));
	fputs(", ", f);
	json_key(f, "reason");
	json_str(f, it->verdict.reason);

	fputs(", \"probe\": {", f);
	json_key(f, "status");
	json_str(f, probe_status_to_string(p->status));
	fputs(", ", f);
	json_key(f, "phase");
	json_str(f, probe_phase_to_string(p->phase));
	fputs(", ", f);
	json_key(f, "detail");
	json_str(f, p->detail);
	fputs(", ", f);
	json_key(f, "peer");
	json_str(f, p->peer);
	fprintf(f, ", \"seconds\": %.3f, \"handshake_seconds\": %.3f}",
		(double)p->total_usec / 1e6, (double)p->handshake_usec / 1e6);

	fputs(", \"served\": ", f);
	if (p->status == PROBE_OK) {
		fputs("{", f);
		json_cert_fields(f, &p->leaf, now);
		fprintf(f, ", \"chain_length\": %zu, \"verified\": %s, ", p->chain_len,
			p->verified ? "true" : "false");
		json_key(f, "verify_error");
		json_str(f, p->verified ? NULL : p->verify_error);
		fprintf(f, ", \"name_covered\": %s, ", p->name_covered ? "true" : "false");
		json_key(f, "tls_version");
		json_str(f, p->tls_version);
		fputs(", ", f);
		json_key(f, "cipher");
		json_str(f, p->cipher);
		fputs("}", f);
	} else
		fputs("null", f);

	fputs(", \"disk\": ", f);
	if (it->cert) {
		fputs("{", f);
		json_key(f, "cert");
		json_str(f, it->cert);
		fputs(", ", f);
		json_key(f, "status");
		json_str(f, x509_status_to_string(it->disk.status));
		fputs(", ", f);
		json_key(f, "detail");
		json_str(f, it->disk.status == X509_VALID ? NULL : it->disk.detail);
		if (it->disk.have_leaf) {
			fputs(", ", f);
			json_cert_fields(f, &it->disk.leaf, now);
			fprintf(f, ", \"chain_length\": %zu", it->disk.chain_len);
			if (p->status == PROBE_OK)
				fprintf(f, ", \"same_key_as_served\": %s",
					cert_info_same_key(&it->disk.leaf, &p->leaf) ? "true" : "false");
		}
		fputs("}", f);
	} else
		fputs("null", f);
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
