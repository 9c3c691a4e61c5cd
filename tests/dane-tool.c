/*
 * dane-tool.c - runs DANE look-ups (dane.c) against a resolver, for
 * tests/dane-lookup.sh and by hand.
 *
 *   dane-tool [-a ANCHOR] [-r RESOLVER] [-t TIMEOUT] [-k MSEC] [-m CHAIN]
 *             [-d DISK [-y] [-C] [-O]] NAME PORT [NAME PORT...]
 *
 * The look-ups run at once; each answer is printed when it comes, as
 * "key: value" lines starting with "owner:" (status, ttl, reason, one
 * "record:" line per record, and with -m the match of the chain in that
 * PEM file).  With -d, the decision too (dane-judge.c), CHAIN being the
 * served chain and DISK the renewal on disk: -y for dane = yes, -C when
 * the served certificate is near expiry, -O for dane-override.  -k frees
 * the resolver after MSEC with look-ups still running, to exercise
 * cancellation.  Exits 0 when every look-up
 * answered, 1 when the resolver was freed first, 2 on a usage or set-up
 * error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "dane-judge.h"
#include "tlsa-cmd.h"

struct run {
	sd_event *event;
	unsigned left;
	X509 **chain, **disk;
	size_t chain_len, disk_len;
	bool yes, critical, override;
};

static void print_match(const struct run *run, const struct dane_answer *a, const char *name)
{
	struct tlsa_match m;

	if (!run->chain)
		return;
	if (tlsa_match_chain(a->records, a->n_records, run->chain, run->chain_len, name,
			     time(NULL), &m) < 0) {
		printf("match: error\n");
		return;
	}
	printf("match: %s\nmatch-detail: %s\n", tlsa_match_status_to_string(m.status), m.detail);
}

struct slot {
	struct run *run;
	const char *name;
	uint16_t port;
};

static void print_verdict(const struct run *run, const struct dane_answer *a,
			  const struct slot *slot)
{
	struct dane_input in = {
		.mode = run->yes ? DANE_MODE_YES : DANE_MODE_AUTO, .answer = a,
		.served = run->chain, .n_served = run->chain_len,
		.disk = run->disk, .n_disk = run->disk_len, .name = slot->name, .port = slot->port,
		.served_critical = run->critical, .override = run->override, .now = time(NULL),
	};
	struct dane_verdict v;

	if (!run->disk)
		return;
	if (dane_judge(&in, &v) < 0) {
		printf("action: error\n");
		return;
	}
	printf("action: %s\nseverity: %s\nserved: %s\ndisk: %s\nverdict: %s\n",
	       dane_action_to_string(v.action), severity_to_string(v.severity),
	       dane_side_to_string(v.served), dane_side_to_string(v.disk), v.reason);
}

static void on_done(struct dane_answer *a, void *userdata)
{
	struct slot *slot = userdata;
	struct run *run = slot->run;

	printf("owner: %s\nstatus: %s\nttl: %u\nreason: %s\nrecords: %zu\n", a->owner,
	       dane_status_to_string(a->status), a->ttl, a->reason, a->n_records);
	for (size_t i = 0; i < a->n_records; i++) {
		_cleanup_free_ char *text = NULL;

		if (tlsa_record_to_text(&a->records[i], &text) == 0)
			printf("record: %s\n", text);
	}
	if (a->n_malformed)
		printf("malformed: %zu\n", a->n_malformed);
	print_match(run, a, slot->name);
	print_verdict(run, a, slot);
	printf("\n");
	fflush(stdout);
	dane_answer_done(a);
	if (--run->left == 0)
		sd_event_exit(run->event, 0);
}

static int on_kill(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct run *run = userdata;

	(void)s;
	(void)usec;
	return sd_event_exit(run->event, 1);
}

int main(int argc, char **argv)
{
	struct dane_options o = { 0 };
	struct run run = { 0 };
	struct dane_resolver *r = NULL;
	struct slot *slots;
	const char *chain_file = NULL, *disk_file = NULL;
	char err[1024] = "";
	unsigned long kill_ms = 0;
	int c, e, status;

	while ((c = getopt(argc, argv, "a:r:t:k:m:d:yCO")) >= 0) {
		switch (c) {
		case 'a': o.trust_anchor = optarg; break;
		case 'r': o.resolver = optarg; break;
		case 't':
			if (parse_duration(optarg, &o.timeout_usec) < 0)
				return 2;
			break;
		case 'k': kill_ms = strtoul(optarg, NULL, 10); break;
		case 'm': chain_file = optarg; break;
		case 'd': disk_file = optarg; break;
		case 'y': run.yes = true; break;
		case 'C': run.critical = true; break;
		case 'O': run.override = true; break;
		default: return 2;
		}
	}
	if (optind >= argc || (argc - optind) % 2) {
		fprintf(stderr, "usage: dane-tool [-a ANCHOR] [-r RESOLVER] [-t TIMEOUT] [-k MSEC] "
			"[-m CHAIN] [-d DISK [-y] [-C] [-O]] NAME PORT [NAME PORT...]\n");
		return 2;
	}
	if (chain_file && pem_chain_load(chain_file, &run.chain, &run.chain_len, err,
					 sizeof(err)) < 0) {
		fprintf(stderr, "dane-tool: %s\n", err);
		return 2;
	}
	if (disk_file && pem_chain_load(disk_file, &run.disk, &run.disk_len, err,
					sizeof(err)) < 0) {
		fprintf(stderr, "dane-tool: %s\n", err);
		return 2;
	}
	sd_event_default(&run.event);
	e = dane_resolver_new(run.event, &o, &r, err, sizeof(err));
	if (e < 0) {
		fprintf(stderr, "dane-tool: %s\n", err);
		return 2;
	}
	slots = calloc((size_t)(argc - optind) / 2, sizeof(*slots));
	for (int i = optind; i < argc; i += 2) {
		struct slot *slot = &slots[(i - optind) / 2];

		slot->run = &run;
		slot->name = argv[i];
		slot->port = (uint16_t)strtoul(argv[i + 1], NULL, 10);
		e = dane_lookup_start(r, argv[i], slot->port, on_done, slot, NULL);
		if (e < 0) {
			fprintf(stderr, "dane-tool: %s\n", dane_resolver_error(r));
			return 2;
		}
		run.left++;
	}
	if (kill_ms)
		sd_event_add_time_relative(run.event, NULL, CLOCK_MONOTONIC, kill_ms * USEC_PER_MSEC,
					   0, on_kill, &run);
	status = sd_event_loop(run.event);
	if (status == 1)
		printf("freed with %u look-ups pending\n", dane_resolver_pending(r));
	dane_resolver_free(r);
	free(slots);
	pem_chain_free(run.chain, run.chain_len);
	pem_chain_free(run.disk, run.disk_len);
	sd_event_unref(run.event);
	return status < 0 ? 2 : status;
}
