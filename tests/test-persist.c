/*
 * test-persist.c - what the daemon writes of its endpoints (the state
 * file, STATUS= and the metrics file) before it has judged them: an
 * endpoint not checked yet is PENDING and UNKNOWN, with no served
 * certificate, is not counted as ok, is left out of the metrics, and
 * makes `certwatch status` say UNKNOWN unless a known problem outranks it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "control.h"
#include "persist.h"
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
	if (notify >= 0)
		close(notify);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
