/*
 * probe-tool.c - runs the probe engine against one endpoint, for the
 * integration tests and by hand.
 *
 *   probe-tool [-n COUNT] [-j MAX] [-t TIMEOUT] [-k MSEC] [-H FDS] HOST PORT [STARTTLS|-] [SNI|-]
 *
 * One probe prints "key: value" lines (status, phase, detail, peer,
 * sha256, ...); COUNT probes print one line each, "INDEX STATUS PHASE
 * DETAIL", in the order they finish.  -k frees the engine after MSEC with
 * probes still running, to exercise cancellation.  -H takes FDS more
 * descriptors once the engine is made (copies of /dev/null), so that
 * under a real `ulimit -n` the probes run out of them half-way.  What the
 * engine says of its limit goes to stderr as "notice: ...".  Exits 0 when every
 * probe succeeded, 1 when one did not, 2 on a usage or set-up error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "probe.h"
#include "starttls.h"
#include "util.h"

struct run {
	sd_event *event;
	struct probe_engine *engine;
	unsigned count, failed;
};

struct slot {
	struct run *run;
	unsigned index;
};

static void print_one(const struct probe_result *r)
{
	char hex[SHA256_HEX_LEN];

	printf("status: %s\nphase: %s\ndetail: %s\npeer: %s\n",
	       probe_status_to_string(r->status), probe_phase_to_string(r->phase),
	       msg_text(r->detail), r->peer);
	if (r->status != PROBE_OK)
		return;
	sha256_to_hex(r->leaf.sha256, hex);
	printf("sha256: %s\n", hex);
	sha256_to_hex(r->leaf.spki_sha256, hex);
	printf("spki-sha256: %s\n", hex);
	printf("subject: %s\nissuer: %s\nnot-after: %" PRId64 "\n",
	       r->leaf.subject ? r->leaf.subject : "", r->leaf.issuer ? r->leaf.issuer : "",
	       (int64_t)r->leaf.not_after);
	printf("chain: %zu\nverified: %s\nverify-error: %s\nname-covered: %s\n",
	       r->chain_len, r->verified ? "yes" : "no", msg_text(r->verify_error),
	       r->name_covered ? "yes" : "no");
	printf("tls-version: %s\ncipher: %s\n", r->tls_version, r->cipher);
	printf("connect-usec: %" PRIu64 "\nhandshake-usec: %" PRIu64 "\ntotal-usec: %" PRIu64 "\n",
	       r->connect_usec, r->handshake_usec, r->total_usec);
}

static void on_done(const struct probe_target *t, struct probe_result *r, void *userdata)
{
	struct slot *slot = userdata;
	struct run *run = slot->run;

	(void)t;
	if (r->status != PROBE_OK)
		run->failed++;
	if (run->count == 1)
		print_one(r);
	else
		printf("%u %s %s %s\n", slot->index, probe_status_to_string(r->status),
		       probe_phase_to_string(r->phase), msg_text(r->detail));
	fflush(stdout);
	probe_result_done(r);
}

/* After every event: done once every probe is delivered and every goodbye said. */
static int on_post(sd_event_source *s, void *userdata)
{
	struct run *run = userdata;

	(void)s;
	if (probe_engine_pending(run->engine) == 0 && probe_engine_closing(run->engine) == 0)
		return sd_event_exit(run->event, 0);
	return 0;
}

static int on_kill(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct run *run = userdata;

	(void)s;
	(void)usec;
	printf("cancelled with %u probes pending\n", probe_engine_pending(run->engine));
	run->failed++;
	return sd_event_exit(run->event, 0);
}

static int usage(void)
{
	fprintf(stderr, "usage: probe-tool [-n COUNT] [-j MAX] [-t TIMEOUT] [-k MSEC] [-H FDS] "
		"HOST PORT [STARTTLS|-] [SNI|-]\n");
	return 2;
}

static void on_notice(const char *message, void *userdata)
{
	(void)userdata;
	fprintf(stderr, "notice: %s\n", message);
}

/* Takes n descriptors for good (the process ends with them). */
static void hold_fds(unsigned n)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	for (unsigned i = 0; fd >= 0 && i < n; i++)
		if (fcntl(fd, F_DUPFD_CLOEXEC, 0) < 0)
			break;
}

int main(int argc, char **argv)
{
	struct probe_target t = { .starttls = -1, .timeout_usec = 10 * USEC_PER_SEC };
	struct run run = { .count = 1 };
	struct slot *slots = NULL;
	unsigned max = 4, kill_msec = 0, hold = 0;
	int c, r, ret = 2;

	while ((c = getopt(argc, argv, "n:j:t:k:H:")) != -1) {
		switch (c) {
		case 'H': hold = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': run.count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'j': max = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k': kill_msec = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't':
			if (parse_duration(optarg, &t.timeout_usec) < 0)
				return usage();
			break;
		default: return usage();
		}
	}
	if (argc - optind < 2 || argc - optind > 4 || run.count == 0)
		return usage();
	t.host = argv[optind];
	t.port = (uint16_t)strtoul(argv[optind + 1], NULL, 10);
	if (argc - optind > 2 && strcmp(argv[optind + 2], "-") != 0 &&
	    (t.starttls = starttls_lookup(argv[optind + 2])) < 0) {
		fprintf(stderr, "unknown STARTTLS protocol %s; known: %s\n",
			argv[optind + 2], starttls_names());
		return 2;
	}
	if (argc - optind > 3 && strcmp(argv[optind + 3], "-") != 0)
		t.sni = argv[optind + 3];

	slots = calloc(run.count, sizeof(*slots));
	r = slots ? sd_event_default(&run.event) : -ENOMEM;
	if (r >= 0)
		r = probe_engine_new(run.event, max, &run.engine);
	if (r >= 0) {
		probe_engine_on_notice(run.engine, on_notice, NULL);
		hold_fds(hold);
	}
	for (unsigned i = 0; r >= 0 && i < run.count; i++) {
		slots[i] = (struct slot){ &run, i };
		r = probe_start(run.engine, &t, on_done, &slots[i]);
	}
	if (r >= 0)
		r = sd_event_add_post(run.event, NULL, on_post, &run);
	if (r >= 0 && kill_msec > 0)
		r = sd_event_add_time_relative(run.event, NULL, CLOCK_MONOTONIC,
					       kill_msec * USEC_PER_MSEC, 0, on_kill, &run);
	if (r >= 0)
		r = sd_event_loop(run.event);
	if (r < 0)
		fprintf(stderr, "probe-tool: %s\n", strerror(-r));
	else
		ret = run.failed > 0;
	probe_engine_free(run.engine);
	sd_event_unref(run.event);
	free(slots);
	return ret;
}
