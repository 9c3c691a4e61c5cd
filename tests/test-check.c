/*
 * test-check.c - judging one check item without a network: an endpoint
 * whose probe could not start is judged again on its last probe's result
 * (service-pass.c, fill_window()), after the daemon let go of what only a
 * report shows (check_item_keep_verdict_facts()).  That judgement must
 * come to what the first one said of the same result and the same files.
 * And files whose chain leads to no trusted root (an expired
 * intermediate) never replace a served chain that verifies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "check.h"
#include "../tests/pki.h"
#include "../tests/tap.h"

static char dir[] = "/tmp/test-check.XXXXXX";
static char cert_path[64], key_path[64];

static void write_pair_with(X509 *issuer)
{
	FILE *f = fopen(cert_path, "w");

	if (!f || !PEM_write_X509(f, leaf) || !PEM_write_X509(f, issuer) || fclose(f) != 0)
		abort();
	f = fopen(key_path, "w");
	if (!f || !PEM_write_PrivateKey(f, k_leaf, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0)
		abort();
}

static void write_pair(void)
{
	write_pair_with(inter);
}

/* The host trusts the test root alone (x509-store.c reads these). */
static void trust_root(void)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/root.pem", dir);
	f = fopen(path, "w");
	if (!f || !PEM_write_X509(f, root) || fclose(f) != 0)
		abort();
	setenv("SSL_CERT_FILE", path, 1);
	setenv("SSL_CERT_DIR", dir, 1);
}

/* What a probe that was served leaf and inter, and verified them, leaves. */
static void served(struct check_item *it)
{
	X509 *chain[] = { leaf, inter };

	it->probe.status = PROBE_OK;
	it->probe.verified = true;
	it->probe.name_covered = true;
	it->probe.chain_len = 1;
	if (cert_info_from_x509(leaf, &it->probe.leaf) < 0 ||
	    cert_chain_from_x509(chain, 2, &it->probe.chain) < 0)
		abort();
}

/*
 * The intermediate on disk expired (the same name and key as the one
 * served, so the files are in order), for the served leaf and for a
 * renewal: no reload, whatever else is on disk.
 */
static void test_chain_breaks(struct check_item *it)
{
	X509 *expired = pki_cert("test intermediate", k_int, root, k_root, NULL, -400 * DAY,
				 -2 * DAY);
	const char *why = "does not lead to a trusted root (certificate has expired) while the "
			  "served one does; no reload";

	for (int renewed = 0; renewed < 2; renewed++) {
		X509 *was_leaf = leaf;
		EVP_PKEY *was_key = k_leaf;

		check_item_let_go(it, false);
		probe_result_done(&it->probe);
		memset(&it->probe, 0, sizeof(it->probe));
		served(it);
		if (renewed)
			leaf = leaf_next, k_leaf = k_next;
		write_pair_with(expired);
		check_item_judge(it, time(NULL));
		ok(it->verdict.state == STATE_DISK_INVALID && it->verdict.action == ACTION_NONE &&
		   it->verdict.severity == SEVERITY_CRITICAL && it->verdict.vetoes_reload &&
		   strstr(msg_text(it->verdict.reason), why),
		   "%s with an expired intermediate on disk, the served chain verifying: "
		   "DISK-INVALID, no reload, the service's reloads vetoed (%s)",
		   renewed ? "a renewal" : "the served leaf", msg_text(it->verdict.reason));
		leaf = was_leaf, k_leaf = was_key;
	}
	write_pair();
	X509_free(expired);
}

int main(void)
{
	struct check_item it = {
		.service = "mx",
		.endpoint = "smtp",
		.target = { .host = "127.0.0.1", .port = 25, .starttls = -1,
			    .sni = "mx.example.com" },
		.th = { .warn_days = 21, .crit_days = 7 },
	};
	char first[512];
	enum verdict_state state;
	enum verdict_action action;
	EVP_PKEY *was_key;
	X509 *was_leaf;

	if (!mkdtemp(dir))
		abort();
	snprintf(cert_path, sizeof(cert_path), "%s/fullchain.pem", dir);
	snprintf(key_path, sizeof(key_path), "%s/privkey.pem", dir);
	pki_make();
	trust_root();
	write_pair();
	it.cert = cert_path;
	it.key = key_path;
	served(&it);

	check_item_judge(&it, time(NULL));
	state = it.verdict.state;
	action = it.verdict.action;
	snprintf(first, sizeof(first), "%s", msg_text(it.verdict.reason));
	ok(state == STATE_OK && action == ACTION_NONE,
	   "the leaf and chain on disk are served: OK, nothing to do (%s)", first);

	/* What the daemon does after each judgement (service-pass.c, judge_one()). */
	check_item_let_go(&it, false);
	check_item_keep_verdict_facts(&it);
	/* A probe that could not start: judged again on the last probe's result. */
	check_item_judge(&it, time(NULL));
	ok(it.verdict.state == state && it.verdict.action == action,
	   "judged again on the same result and files: the same verdict");
	is_str(msg_text(it.verdict.reason), first, "and the same reason");

	/* The next probe's result is judged as ever: a renewal on disk is seen. */
	check_item_let_go(&it, false);
	probe_result_done(&it.probe);
	memset(&it.probe, 0, sizeof(it.probe));
	served(&it);
	was_leaf = leaf, leaf = leaf_next, leaf_next = was_leaf;
	was_key = k_leaf, k_leaf = k_next, k_next = was_key;
	write_pair();
	check_item_judge(&it, time(NULL));
	ok(it.verdict.state == STATE_STALE && it.verdict.action == ACTION_RELOAD,
	   "a fresh result with a renewal on disk: STALE, reload (%s)", msg_text(it.verdict.reason));

	test_chain_breaks(&it);

	check_item_let_go(&it, false);
	probe_result_done(&it.probe);
	disk_pair_done(&it.disk);
	verdict_done(&it.verdict);
	pki_free();
	unlink(cert_path);
	unlink(key_path);
	snprintf(cert_path, sizeof(cert_path), "%s/root.pem", dir);
	unlink(cert_path);
	rmdir(dir);
	return tap_done();
}
