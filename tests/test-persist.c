/*
 * test-persist.c - what the daemon writes of its endpoints (the state
 * file, STATUS= and the metrics file) before it has judged them: an
 * endpoint not checked yet is PENDING and UNKNOWN, with no served
 * certificate, is not counted as ok, is left out of the metrics, and
 * makes `certwatch status` say UNKNOWN unless a known problem outranks it.
 * And a write, which builds again only the records it was told changed,
 * leaves in the file what a build of every record from scratch would.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "control.h"
#include "conf.h"
#include "persist.h"
#include "service.h"
#include "tap.h"

static char dir[] = "/tmp/certwatch-test-persist.XXXXXX";

/* A datagram socket in dir as NOTIFY_SOCKET, as systemd's; -1 when it cannot be. */
static int notify_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	return fd;
}

/* The items write_all() is given, written once through a persist of their own. */
static int write_through(const struct check_item *items, size_t n, const char *metrics)
{
	struct persist_source src = { .items = items, .n_items = n };
	struct persist *p = NULL;
	sd_event *e = NULL;
	int r = sd_event_new(&e);

	if (r >= 0)
		r = persist_new(e, dir, metrics, &src, &p);
	if (r >= 0) {
		persist_mark(p);
		persist_flush(p);
	}
	persist_free(p);
	sd_event_unref(e);
	return r;
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *m = open_memstream(&buf, &len);
	int c;

	while (f && (c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	if (f)
		fclose(f);
	return buf;
}

static void item(struct check_item *it, const char *endpoint)
{
	memset(it, 0, sizeof(*it));
	it->service = "svc";
	it->endpoint = endpoint;
	it->target = (struct probe_target) { .host = "127.0.0.1", .port = 443, .starttls = -1 };
}

/* A probe that fetched a certificate whose SHA-256 is all byte b. */
static void served(struct check_item *it, uint8_t b)
{
	it->probe.status = PROBE_OK;
	it->probe.phase = PROBE_PHASE_DONE;
	memset(it->probe.leaf.sha256, b, sizeof(it->probe.leaf.sha256));
	it->probe.leaf.not_after = 1800000000;
}

static void never_judged_is_pending(int notify)
{
	struct check_item items[3];
	char metrics[256], err[256], msg[512] = "", *text;
	struct state st = {};
	const struct state_endpoint *e;
	ssize_t n;

	item(&items[0], "new");          /* as the daemon makes it: zeroed */
	item(&items[1], "probed");       /* its probe ended, its TLSA look-up not yet */
	served(&items[1], 0xab);
	item(&items[2], "fine");
	served(&items[2], 0xcd);
	items[2].verdict.state = STATE_OK;
	items[2].verdict.severity = SEVERITY_OK;
	items[2].verdict.in_sync = true;
	snprintf(metrics, sizeof(metrics), "%s/m.prom", dir);

	ok(write_through(items, 3, metrics) == 0, "the state, STATUS= and the metrics are written");
	if (!ok(state_load(dir, &st, err, sizeof(err)) == 0 && st.n_endpoints == 3,
		"the state file holds the three endpoints"))
		return;
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "probed" : "new";

		e = state_find_endpoint(&st, "svc", name);
		if (!ok(e != NULL, "%s: its record is there", name))
			continue;
		ok(strcmp(e->state, "OK") != 0, "%s, not judged yet: its state is not OK (%s)",
		   name, e->state);
		is_str(e->state, "PENDING", "%s: its state is PENDING", name);
		is_str(e->severity, "UNKNOWN", "%s: its severity is UNKNOWN", name);
		is_str(e->served, "", "%s: no served fingerprint (not 64 zeros)", name);
		ok(e->served_not_after == 0, "%s: no served notAfter", name);
		is_str(e->disk, "", "%s: no disk fingerprint", name);
		like(e->reason, "not checked yet", "%s: the reason says it was not checked yet", name);
	}
	e = state_find_endpoint(&st, "svc", "fine");
	ok(e && strcmp(e->state, "OK") == 0 && strncmp(e->served, "cdcd", 4) == 0,
	   "a judged endpoint is written as it was judged");
	ok(control_worst(&st, NULL) == SEVERITY_UNKNOWN,
	   "certwatch status: an endpoint not checked yet beside OK ones is UNKNOWN, not OK");
	state_done(&st);

	n = notify >= 0 ? recv(notify, msg, sizeof(msg) - 1, 0) : -1;
	if (n > 0)
		msg[n] = '\0';
	like(msg, "STATUS=3 endpoints: 1 ok, 0 reload pending, 0 failing, 2 not checked yet; ",
	     "STATUS= counts only the judged endpoint as ok, and says two are not checked yet");

	text = slurp(metrics);
	ok(text && !strstr(text, "endpoint=\"new\"") && !strstr(text, "endpoint=\"probed\""),
	   "the metrics leave out the endpoints not judged yet");
	like(text, "certwatch_endpoint_state{service=\"svc\",endpoint=\"fine\",state=\"OK\"} 1\n",
	     "and say the judged one's state");
	ok(text && !strstr(text, "state=\"PENDING\""), "their state set has no PENDING sample");
	free(text);
}

/* A problem known is not hidden behind an endpoint not checked yet. */
static void known_problem_outranks_pending(void)
{
	struct check_item items[2];
	struct state st = {};
	char err[256];

	item(&items[0], "new");
	item(&items[1], "down");
	items[1].probe.status = PROBE_CONNECT_REFUSED;
	items[1].probe.phase = PROBE_PHASE_CONNECT;
	items[1].verdict.state = STATE_UNREACHABLE;
	items[1].verdict.severity = SEVERITY_CRITICAL;
	unsetenv("NOTIFY_SOCKET");
	ok(write_through(items, 2, NULL) == 0 && state_load(dir, &st, err, sizeof(err)) == 0,
	   "a critical endpoint beside one not checked yet is written");
	ok(control_worst(&st, NULL) == SEVERITY_CRITICAL,
	   "certwatch status says CRITICAL, not UNKNOWN");
	state_done(&st);
	items[1].verdict.severity = SEVERITY_WARNING;
	ok(write_through(items, 2, NULL) == 0 && state_load(dir, &st, err, sizeof(err)) == 0 &&
	   control_worst(&st, NULL) == SEVERITY_WARNING, "and WARNING over UNKNOWN");
	state_done(&st);
}

/* ---- a write builds again only what it was told changed ---------------- */

#define INC_SERVICES 12
#define INC_PER      5
#define INC_ITEMS    (INC_SERVICES * INC_PER)
#define INC_ROUNDS   60

/* What the services tell persist, as the daemon's setup forwards it. */
static void inc_record_changed(void *userdata, const struct service *svc)
{
	persist_note_service(*(struct persist **)userdata, svc);
}

static void inc_endpoint_changed(void *userdata, const struct check_item *it)
{
	persist_note_item(*(struct persist **)userdata, it);
}

static void inc_changed(void *userdata, bool save)
{
	if (save)
		persist_mark(*(struct persist **)userdata);
}

/*
 * A verdict's reason made again, as a new verdict makes its own and frees
 * the last one's (scribbled over here, so that a record still pointing
 * there says so).
 */
static void inc_reason(struct check_item *it, const char *text)
{
	char *old = it->verdict.reason;

	it->verdict.reason = strdup(text);
	if (old) {
		memset(old, 'x', strlen(old));
		free(old);
	}
}

/* An endpoint's verdict and leaves changed at random, told as a pass's end tells it. */
static void inc_change_item(struct persist *p, struct check_item *it)
{
	static const char *reasons[] = { "fine", "served an old one", "", "key = mismatch\n%" };
	static const enum verdict_state states[] = { STATE_OK, STATE_STALE, STATE_PENDING,
						     STATE_UNREACHABLE };

	it->verdict.state = states[rand() % 4];
	it->verdict.severity = (enum severity)(rand() % 4);
	inc_reason(it, reasons[rand() % 4]);
	if (rand() % 2)
		served(it, (uint8_t)rand());
	else
		it->probe.status = PROBE_CONNECT_REFUSED;
	it->disk.have_leaf = rand() % 2;
	memset(it->disk.leaf.sha256, rand(), sizeof(it->disk.leaf.sha256));
	persist_note_item(p, it);
}

/* Whether the state file's records are, one for one, those of a build from scratch. */
static bool inc_same_as_whole(const struct persist_source *src, unsigned round)
{
	struct state file = {}, whole = {};
	char err[256];
	bool same;

	if (state_load(dir, &file, err, sizeof(err)) < 0 || persist_snapshot(src, &whole) < 0)
		return false;
	state_index(&whole);
	same = file.n_services == whole.n_services && file.n_endpoints == whole.n_endpoints;
	for (size_t i = 0; same && i < file.n_services; i++)
		same = state_service_sum(&file.services[i]) == state_service_sum(&whole.services[i]);
	for (size_t i = 0; same && i < file.n_endpoints; i++)
		same = state_endpoint_sum(&file.endpoints[i]) ==
			state_endpoint_sum(&whole.endpoints[i]);
	if (!same)
		printf("# round %u: the file's records differ from a build from scratch\n", round);
	state_done(&file);
	persist_snapshot_done(&whole);
	return same;
}

/* Runs the loop until no service has an event queued. */
static void inc_settle(sd_event *e)
{
	while (sd_event_run(e, 0) > 0)
		;
}

static void incremental_is_whole(void)
{
	static struct check_item items[INC_ITEMS];
	struct conf_service cs[INC_SERVICES] = {};
	struct service *svc[INC_SERVICES] = {};
	char names[INC_SERVICES][16], eps[INC_ITEMS][16];
	struct conf c = { .settle_usec = 3600 * USEC_PER_SEC };   /* settling never ends here */
	struct persist *p = NULL;
	struct service_env env = { .conf = &c, .record_changed = inc_record_changed,
				   .endpoint_changed = inc_endpoint_changed,
				   .changed = inc_changed, .userdata = &p };
	struct persist_source src = { .services = svc, .n_services = INC_SERVICES,
				      .items = items, .n_items = INC_ITEMS };
	unsigned bad = 0, appended = 0;
	char path[300];
	struct stat before, after;
	int r = sd_event_new(&env.event);

	unsetenv("NOTIFY_SOCKET");
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE_NAME);
	srand(12);
	for (size_t i = 0; r >= 0 && i < INC_SERVICES; i++) {
		snprintf(names[i], sizeof(names[i]), "s%zu", i);
		cs[i] = (struct conf_service) { .name = names[i], .verify_passes = 1,
						.max_failures = 3, .max_reloads_per_hour = 6 };
		for (size_t j = 0; j < INC_PER; j++) {
			snprintf(eps[i * INC_PER + j], sizeof(eps[0]), "e%zu", j);
			item(&items[i * INC_PER + j], eps[i * INC_PER + j]);
			items[i * INC_PER + j].service = names[i];
		}
		r = service_new(&env, &cs[i], &items[i * INC_PER], INC_PER, NULL, &svc[i]);
	}
	if (r >= 0)
		r = persist_new(env.event, dir, NULL, &src, &p);
	if (!ok(r >= 0, "%d services of %d endpoints each, and their persist", INC_SERVICES,
		INC_PER))
		goto out;
	persist_mark(p);
	persist_flush(p);
	for (unsigned round = 1; round <= INC_ROUNDS; round++) {
		/* A few endpoints judged anew, and now and then a service's step. */
		for (int k = rand() % 4; k > 0; k--)
			inc_change_item(p, &items[rand() % INC_ITEMS]);
		/* Judged again alike: nothing to tell, but its reason is a new one. */
		for (int k = rand() % 4; k > 0; k--) {
			struct check_item *it = &items[rand() % INC_ITEMS];

			if (it->verdict.reason)
				inc_reason(it, it->verdict.reason);
		}
		/* Now and then the file is touched by another writer: written whole. */
		if (round % 7 == 0)
			(void)utimensat(AT_FDCWD, path, (const struct timespec[2]) {
					{ .tv_nsec = UTIME_NOW }, { .tv_sec = round } }, 0);
		if (rand() % 5 == 0)
			service_post(svc[rand() % INC_SERVICES], EVENT_FILES_CHANGED);
		inc_settle(env.event);
		persist_mark(p);
		if (stat(path, &before) < 0)
			memset(&before, 0, sizeof(before));
		persist_flush(p);
		/* An append leaves the file in place; a whole write renames a new one there. */
		appended += stat(path, &after) == 0 && after.st_ino == before.st_ino;
		bad += !inc_same_as_whole(&src, round);
	}
	ok(bad == 0, "after each of %d rounds of random changes the state file says of every "
	   "service and endpoint what a build from scratch says (%u rounds differ)", INC_ROUNDS,
	   bad);
	ok(appended > INC_ROUNDS / 2, "and most of those writes appended to the file (%u of %d)",
	   appended, INC_ROUNDS);
out:
	persist_free(p);
	for (size_t i = 0; i < INC_SERVICES; i++)
		service_free(svc[i]);
	for (size_t i = 0; i < INC_ITEMS; i++)
		free(items[i].verdict.reason);
	sd_event_unref(env.event);
}

int main(void)
{
	char cmd[300];
	int notify;

	if (!mkdtemp(dir))
		return 1;
	notify = notify_socket();
	ok(notify >= 0, "a notification socket to read STATUS= from");
	never_judged_is_pending(notify);
	known_problem_outranks_pending();
	incremental_is_whole();
	if (notify >= 0)
		close(notify);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
