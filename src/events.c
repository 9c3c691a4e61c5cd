/*
 * events.c - the daemon's account of what happened: one log line per
 * event, with the journal fields and the MESSAGE_ID of its kind (log.h),
 * worded for the administrator who reads it.
 */
#include "config.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "log.h"

/* Whether the renewal kept its key, and its key type, in words. */
static void key_change(const struct disk_seen *old, const struct cert_info *leaf,
		       const char *spki, char *out, size_t outlen)
{
	const char *reuse = !old->spki_sha256[0] ? "key reuse unknown" :
			    strcmp(old->spki_sha256, spki) == 0 ? "same public key" : "new public key";

	if (old->key_alg[0] && strcmp(old->key_alg, leaf->key_alg) != 0)
		snprintf(out, outlen, "%s; the key type changed from %s to %s", reuse, old->key_alg,
			 leaf->key_alg);
	else
		snprintf(out, outlen, "%s", reuse);
}

void event_disk_changed(const char *service, const struct check_item *it,
			struct disk_seen *seen)
{
	char new_fp[SHA256_HEX_LEN], spki[SHA256_HEX_LEN], f[8][128], how[128];
	const char *fields[9];
	size_t n = 0;

	if (!it->disk.have_leaf)
		return;
	sha256_to_hex(it->disk.leaf.sha256, new_fp);
	sha256_to_hex(it->disk.leaf.spki_sha256, spki);
	if (seen->sha256[0] && strcmp(new_fp, seen->sha256) != 0) {
		key_change(seen, &it->disk.leaf, spki, how, sizeof(how));
		snprintf(f[n++], sizeof(f[0]), "CERTWATCH_SERVICE=%s", service);
		snprintf(f[n++], sizeof(f[0]), "CERTWATCH_ENDPOINT=%s", it->endpoint);
		snprintf(f[n++], sizeof(f[0]), "CERTWATCH_OLD_SHA256=%s", seen->sha256);
		snprintf(f[n++], sizeof(f[0]), "CERTWATCH_NEW_SHA256=%s", new_fp);
		snprintf(f[n++], sizeof(f[0]), "CERTWATCH_NEW_SPKI_SHA256=%s", spki);
		snprintf(f[n++], sizeof(f[0]), "CERTWATCH_NEW_NOT_AFTER=%lld",
			 (long long)it->disk.leaf.not_after);
		snprintf(f[n++], sizeof(f[0]), "CERTWATCH_NEW_KEY_TYPE=%s", it->disk.leaf.key_alg);
		if (seen->spki_sha256[0])
			snprintf(f[n++], sizeof(f[0]), "CERTWATCH_OLD_SPKI_SHA256=%s",
				 seen->spki_sha256);
		for (size_t i = 0; i < n; i++)
			fields[i] = f[i];
		fields[n] = NULL;
		log_full(LOG_NOTICE, LOG_KIND_CERT_CHANGED, fields,
			 "%s/%s: certificate on disk changed from %.12s to %.12s (%s)", service,
			 it->endpoint, seen->sha256, new_fp, how);
	}
	snprintf(seen->sha256, sizeof(seen->sha256), "%s", new_fp);
	snprintf(seen->spki_sha256, sizeof(seen->spki_sha256), "%s", spki);
	snprintf(seen->key_alg, sizeof(seen->key_alg), "%s", it->disk.leaf.key_alg);
}

void event_verdict_changed(const char *service, const struct check_item *it,
			   const char *old_state)
{
	const char *st = verdict_state_to_string(it->verdict.state);
	enum log_kind kind = LOG_KIND_NONE;
	char f[2][128];
	const char *fields[3] = { f[0], f[1], NULL };

	if (old_state && strcmp(old_state, st) == 0)
		return;
	if (it->verdict.state == STATE_RENEWAL_OVERDUE || it->verdict.state == STATE_EXPIRED)
		kind = LOG_KIND_RENEWAL_OVERDUE;
	else if (it->verdict.state == STATE_DISK_INVALID)
		kind = LOG_KIND_DISK_INVALID;
	snprintf(f[0], sizeof(f[0]), "CERTWATCH_SERVICE=%s", service);
	snprintf(f[1], sizeof(f[1]), "CERTWATCH_ENDPOINT=%s", it->endpoint);
	log_full(it->verdict.severity == SEVERITY_OK ? LOG_INFO :
		 it->verdict.severity == SEVERITY_WARNING ? LOG_WARNING : LOG_ERR,
		 kind, fields, "%s/%s: %s: %s", service, it->endpoint, st,
		 msg_text(it->verdict.reason));
}

void event_dane_hold(const char *service, const struct check_item *it, bool was_held)
{
	bool held = it->verdict.dane_held;
	char f[2][128];
	const char *fields[3] = { f[0], f[1], NULL };

	if (held == was_held)
		return;
	snprintf(f[0], sizeof(f[0]), "CERTWATCH_SERVICE=%s", service);
	snprintf(f[1], sizeof(f[1]), "CERTWATCH_ENDPOINT=%s", it->endpoint);
	if (held)
		log_full(it->verdict.severity == SEVERITY_CRITICAL ? LOG_ERR : LOG_WARNING,
			 LOG_KIND_DANE_HELD, fields, "%s/%s: reload held: %s", service, it->endpoint,
			 msg_text(it->verdict.reason));
	else
		log_full(LOG_NOTICE, LOG_KIND_DANE_RELEASED, fields, "%s/%s: reload no longer held "
			 "for DANE or pins: %s: %s", service, it->endpoint,
			 verdict_state_to_string(it->verdict.state), msg_text(it->verdict.reason));
}

void event_note(const struct event_context *c, const struct policy_out *o)
{
	static const enum log_kind kinds[_NOTE_MAX] = {
		[NOTE_RELOAD_STARTED] = LOG_KIND_RELOAD_STARTED,
		[NOTE_VERIFIED]       = LOG_KIND_RELOAD_VERIFIED,
		[NOTE_RELOAD_FAILED]  = LOG_KIND_RELOAD_FAILED,
		[NOTE_PAUSED]         = LOG_KIND_SERVICE_PAUSED,
	};
	const char *name = c->service;
	char f[128], when[32];
	const char *fields[2] = { f, NULL };
	time_t t = (time_t)(c->timer_realtime / USEC_PER_SEC);
	struct tm tm;

	if (o->note == NOTE_NONE)
		return;
	snprintf(f, sizeof(f), "CERTWATCH_SERVICE=%s", name);
	if (!localtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(when, sizeof(when), "later");
	switch (o->note) {
	case NOTE_RELOAD_STARTED:
		log_full(LOG_NOTICE, kinds[o->note], fields, "%s: the pair on disk is valid%s; "
			 "reloading to serve the certificate on disk", name,
			 c->has_check ? " and reload-check passed" : "");
		break;
	case NOTE_VERIFIED:
		log_full(LOG_NOTICE, kinds[o->note], fields, "%s: reload verified: every "
			 "endpoint serves the certificate on disk", name);
		break;
	case NOTE_RELOAD_FAILED:
		log_full(LOG_ERR, kinds[o->note], fields, "%s: reload failed (failures in a row: "
			 "%u): %s; next attempt at %s", name, c->failures, c->last_result, when);
		break;
	case NOTE_PAUSED:
		log_full(LOG_CRIT, kinds[o->note], fields, "%s: failures in a row: %u (%s); "
			 "automatic reloads are paused. Fix the service, then run "
			 "'certwatch resume %s'", name, c->failures, c->last_result, name);
		break;
	case NOTE_PAUSE_CLEARED:
		log_full(LOG_NOTICE, LOG_KIND_NONE, fields, "%s: every endpoint serves the "
			 "certificate on disk; the pause is lifted", name);
		break;
	case NOTE_RATE_LIMITED:
		log_full(LOG_WARNING, LOG_KIND_NONE, fields, "%s: %u reloads in the last hour; "
			 "the next waits until %s", name, c->max_reloads_per_hour, when);
		break;
	case NOTE_OUTSIDE_WINDOW:
		log_full(LOG_NOTICE, LOG_KIND_NONE, fields, "%s: reload pending until the "
			 "reload window opens at %s", name, when);
		break;
	case NOTE_RESUMED:
		log_full(LOG_NOTICE, LOG_KIND_NONE, fields, "%s: resumed", name);
		break;
	case NOTE_VETOED:
		log_full(LOG_WARNING, LOG_KIND_NONE, fields, "%s: reload held: %s", name, c->held);
		break;
	case NOTE_RETARGETED:
		log_full(LOG_NOTICE, LOG_KIND_NONE, fields, "%s: the files changed while the reload "
			 "was being verified; looking at them again", name);
		break;
	default:
		break;
	}
}

/*
 * The key files whose mode was reported, so that each is named once for
 * the daemon's life however many endpoints share it and however many
 * passes see it, and again only after it was fixed and broke anew.  A
 * tsearch(3) tree of copies of their paths: every endpoint of every pass
 * asks, and 10,000 lineages' keys may all be on it.
 */
static void *keys_said;

static int cmp_path(const void *a, const void *b)
{
	return strcmp(a, b);
}

void event_key_mode(const struct check_item *it)
{
	char **said, *copy;

	if (!it->cert || !it->key)
		return;
	said = tfind(it->key, &keys_said, cmp_path);
	if (!it->disk.key_warning) {
		if (said && it->disk.status != X509_UNREADABLE) {
			copy = *said;
			tdelete(copy, &keys_said, cmp_path);
			free(copy);
		}
		return;
	}
	if (said)
		return;
	log_warning("%s", it->disk.key_warning);
	copy = strdup(it->key);
	if (copy && !tsearch(copy, &keys_said, cmp_path))
		free(copy);   /* said again next time: no worse than said too often */
}
