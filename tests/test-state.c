/*
 * test-state.c - the state file: a round trip keeps every persisted
 * field, odd names and reasons survive, damage is reported with its line.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "tap.h"

static char dir[] = "/tmp/certwatch-test-state.XXXXXX";

static void write_file(const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/state", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void round_trip(void)
{
	struct state_service svc = { .name = (char *)"mail server" };
	struct state_endpoint ep = {
		.service = (char *)"mail server", .endpoint = (char *)"imap%s",
		.served = "aa", .disk = "", .state = "STALE", .severity = "WARNING",
		.served_not_after = 1800000000,
		.reason = "the service serves aa\nwhile bb=\"x\" is on disk",
	};
	struct state s = { .pid = 42, .written = 1700000000, .services = &svc, .n_services = 1,
			   .endpoints = &ep, .n_endpoints = 1 };
	struct state back;
	char err[256];
	struct stat st;
	char path[256];

	svc.policy = (struct policy_state) {
		.phase = PHASE_PAUSED, .failures = 3, .paused = true, .next_attempt = 11,
		.last_reload = 22, .last_reload_ok = false, .last_verified = 33,
	};
	for (unsigned i = 0; i < POLICY_MAX_RELOADS_PER_HOUR + 5; i++)
		svc.policy.reloads[svc.policy.n_reloads++ % POLICY_MAX_RELOADS_PER_HOUR] = 1000 + i;
	snprintf(svc.last_result, sizeof(svc.last_result), "exited with status 1: \"boom\"");
	svc.reloads_ok = 7;
	svc.reloads_failed = 2;

	ok(state_save(dir, &s) == 0, "the state is saved");
	snprintf(path, sizeof(path), "%s/state", dir);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the state file is private (0600)");
	if (!ok(state_load(dir, &back, err, sizeof(err)) == 0, "the state is read back"))
		return;
	ok(back.pid == 42 && back.written == 1700000000, "pid and time survive");
	ok(back.n_services == 1 && back.n_endpoints == 1, "one service, one endpoint");
	is_str(back.services[0].name, "mail server", "a name with a space survives");
	ok(back.services[0].policy.paused && back.services[0].policy.failures == 3 &&
	   back.services[0].policy.next_attempt == 11 && back.services[0].policy.last_reload == 22 &&
	   back.services[0].policy.last_verified == 33 &&
	   back.services[0].policy.phase == PHASE_PAUSED,
	   "pause, failures, back-off and reload times survive");
	ok(back.services[0].policy.n_reloads == POLICY_MAX_RELOADS_PER_HOUR &&
	   back.services[0].policy.reloads[0] == 1005, "the newest reload times are kept, in order");
	is_str(back.services[0].last_result, svc.last_result, "the last result survives");
	ok(back.services[0].reloads_ok == 7 && back.services[0].reloads_failed == 2,
	   "the reload counters survive");
	is_str(back.endpoints[0].endpoint, "imap%s", "a name with a percent sign survives");
	is_str(back.endpoints[0].reason, ep.reason, "a reason with a newline, quotes and = survives");
	is_str(back.endpoints[0].disk, "", "an empty fingerprint stays empty");
	ok(back.endpoints[0].served_not_after == 1800000000, "notAfter survives");
	ok(state_find_service(&back, "mail server") != NULL && !state_find_service(&back, "x"),
	   "state_find_service finds by name");
	state_done(&back);
}

static void damage(void)
{
	struct state s = {};
	char err[256] = "";

	write_file("certwatch-state 1\npid 1\nservice failures=1\n");
	ok(state_load(dir, &s, err, sizeof(err)) == -EBADMSG, "a service without a name is damage");
	like(err, "state:3: damaged state file", "the message names the line");
	write_file("something else\n");
	ok(state_load(dir, &s, err, sizeof(err)) == -EBADMSG, "a foreign file is refused");
	write_file("certwatch-state 1\nservice name=a failures=x\n");
	ok(state_load(dir, &s, err, sizeof(err)) == -EBADMSG, "a non-number is damage");
	write_file("certwatch-state 1\nservice name=a%zz\n");
	ok(state_load(dir, &s, err, sizeof(err)) == -EBADMSG, "a bad escape is damage");
	write_file("certwatch-state 1\nfuture stuff=1\nservice name=a colour=blue\n");
	ok(state_load(dir, &s, err, sizeof(err)) == 0 && s.n_services == 1,
	   "unknown records and keys are ignored");
	state_done(&s);
	ok(state_load("/tmp/nonexistent-certwatch-dir", &s, err, sizeof(err)) == -ENOENT,
	   "no state file yet is -ENOENT");
}

static void instance_dirs(void)
{
	char out[64];

	ok(state_dir_for("/var/lib/certwatch", NULL, out, sizeof(out)) == 0 &&
	   strcmp(out, "/var/lib/certwatch") == 0, "the main daemon's state is in state-dir");
	ok(state_dir_for("/var/lib/certwatch", "dovecot", out, sizeof(out)) == 0 &&
	   strcmp(out, "/var/lib/certwatch/dovecot") == 0,
	   "certwatch@dovecot keeps its state in state-dir/dovecot (StateDirectory=certwatch/%%i)");
	ok(state_dir_for("/var/lib/certwatch", "a-very-long-service-name-that-cannot-fit-here",
			 out, sizeof(out)) == -ENAMETOOLONG, "a directory that does not fit is refused");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	round_trip();
	damage();
	instance_dirs();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return tap_done();
}
