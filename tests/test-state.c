/*
 * test-state.c - the state file: a round trip keeps every persisted
 * field, odd names and reasons survive, damage is reported with its line,
 * records are found by name, and the policy's times cross restarts and
 * reboots without a step of the wall clock freezing or skipping them.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/certwatch-test-state.XXXXXX";

/* Writes (mode "w") or appends ("a") text to the state file. */
static void put_file(const char *mode, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/state", dir);
	f = fopen(path, mode);
	fputs(text, f);
	fclose(f);
}

static void write_file(const char *text)
{
	put_file("w", text);
}

static void round_trip(void)
{
	struct state_service svc = { .name = (char *)"mail server" };
	struct state_endpoint ep = {
		.service = (char *)"mail server", .endpoint = (char *)"imap%s",
		.served = "aa", .disk = "", .state = "STALE", .severity = "WARNING",
		.served_not_after = 1800000000,
		.reason = (char *)"the service serves aa\nwhile bb=\"x\" is on disk",
	};
	struct state s = { .pid = 42, .written = 1700000000, .services = &svc, .n_services = 1,
			   .endpoints = &ep, .n_endpoints = 1,
			   .clock = { .boot_id = "0123456789abcdef0123456789abcdef",
				      .boottime = 5000, .realtime = 1700000000000000 } };
	struct state back;
	char err[256];
	struct stat st;
	char path[256];

	snprintf(svc.phase, sizeof(svc.phase), "paused");
	svc.failures = 3;
	svc.paused = true;
	svc.next_attempt = 11;
	svc.last_reload = 22;
	svc.last_verified = 33;
	for (unsigned i = 0; i < POLICY_MAX_RELOADS_PER_HOUR; i++)
		svc.reloads[svc.n_reloads++] = 1000 + i;
	snprintf(svc.last_result, sizeof(svc.last_result), "exited with status 1: \"boom\"");
	svc.reloads_ok = 7;
	svc.reloads_failed = 2;

	ok(state_save(dir, &s) == 0, "the state is saved");
	snprintf(path, sizeof(path), "%s/state", dir);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the state file is private (0600)");
	if (!ok(state_load(dir, &back, err, sizeof(err)) == 0, "the state is read back"))
		return;
	ok(back.pid == 42 && back.written == 1700000000, "pid and time survive");
	ok(strcmp(back.clock.boot_id, s.clock.boot_id) == 0 && back.clock.boottime == 5000 &&
	   back.clock.realtime == 1700000000000000, "the clocks of the writing survive");
	ok(back.n_services == 1 && back.n_endpoints == 1, "one service, one endpoint");
	is_str(back.services[0].name, "mail server", "a name with a space survives");
	ok(back.services[0].paused && back.services[0].failures == 3 &&
	   back.services[0].next_attempt == 11 && back.services[0].last_reload == 22 &&
	   back.services[0].last_verified == 33 && strcmp(back.services[0].phase, "paused") == 0,
	   "pause, failures, back-off and reload times survive");
	ok(back.services[0].n_reloads == POLICY_MAX_RELOADS_PER_HOUR &&
	   back.services[0].reloads[0] == 1000 &&
	   back.services[0].reloads[POLICY_MAX_RELOADS_PER_HOUR - 1] ==
	   1000 + POLICY_MAX_RELOADS_PER_HOUR - 1, "the reload times are kept, in order");
	is_str(back.services[0].last_result, svc.last_result, "the last result survives");
	ok(back.services[0].reloads_ok == 7 && back.services[0].reloads_failed == 2,
	   "the reload counters survive");
	is_str(back.endpoints[0].endpoint, "imap%s", "a name with a percent sign survives");
	is_str(back.endpoints[0].reason, ep.reason, "a reason with a newline, quotes and = survives");
	is_str(back.endpoints[0].disk, "", "an empty fingerprint stays empty");
	ok(back.endpoints[0].served_not_after == 1800000000, "notAfter survives");
	ok(state_find_service(&back, "mail server") != NULL && !state_find_service(&back, "x"),
	   "state_find_service finds by name");
	ok(state_find_endpoint(&back, "mail server", "imap%s") != NULL &&
	   !state_find_endpoint(&back, "mail server", "imap"), "state_find_endpoint finds by names");
	state_done(&back);
}

/* The size and inode of the state file; false when there is none. */
static bool file_is(struct stat *st)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/state", dir);
	return stat(path, st) == 0;
}

/* The state the file says now, endpoint name's state field; "" when not found. */
static const char *state_of(struct state *back, const char *name)
{
	char err[256];
	const struct state_endpoint *e;

	state_done(back);
	if (state_load(dir, back, err, sizeof(err)) < 0)
		return "";
	e = state_find_endpoint(back, "svc", name);
	return e ? e->state : "";
}

/*
 * The daemon's writer: a change of one record of many appends that record
 * (the file keeps its inode and grows by a line or so), the reader takes
 * the last record of a name and leaves out a line cut short, and the file
 * is written whole again when the appended part would grow as large as the
 * whole, when another writer replaced or grew it, and when the records
 * are others.
 */
static void writer_appends(void)
{
	enum { N = 60 };
	struct state_endpoint eps[N];
	char names[N][16];
	struct state s = { .pid = 7, .endpoints = eps, .n_endpoints = N }, back = {};
	struct state_writer *w = state_writer_new(dir);
	unsigned long appends, wholes, before, saves = 0;
	struct stat st0, st1;
	off_t most = 0;
	bool ok_all = true, saved;

	memset(eps, 0, sizeof(eps));
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "ep%02d", i);
		eps[i].service = (char *)"svc";
		eps[i].endpoint = names[i];
		snprintf(eps[i].state, sizeof(eps[i].state), "OK");
		eps[i].reason = (char *)"the service serves the certificate on disk";
	}
	ok(w && state_writer_save(w, &s) == 0 && file_is(&st0), "the first save writes the file");
	snprintf(eps[7].state, sizeof(eps[7].state), "STALE");
	s.pid = 8;
	saved = state_writer_save(w, &s) == 0 && file_is(&st1);
	ok(saved && st1.st_ino == st0.st_ino &&
	   st1.st_size > st0.st_size && st1.st_size - st0.st_size < st0.st_size / 10,
	   "a change of one endpoint of 60 appends to the file: %lld bytes to %lld",
	   (long long)(st1.st_size - st0.st_size), (long long)st0.st_size);
	is_str(state_of(&back, "ep07"), "STALE", "the reader takes the appended record");
	ok(back.n_endpoints == N && back.pid == 8 && strcmp(state_of(&back, "ep08"), "OK") == 0,
	   "and keeps one record of each name, the others as they were, the header appended");
	state_writer_counts(w, &appends, &wholes);
	ok(appends == 1 && wholes == 1, "one whole write, one append");

	put_file("a", "endpoint service=svc name=ep07 state=DISK-INV");
	is_str(state_of(&back, "ep07"), "STALE", "a last line without its newline is left out");
	snprintf(eps[7].state, sizeof(eps[7].state), "OK");
	ok(state_writer_save(w, &s) == 0 && file_is(&st1) && st1.st_ino != st0.st_ino &&
	   strcmp(state_of(&back, "ep07"), "OK") == 0,
	   "a file another writer grew is written whole again, the cut line gone");

	{
		/* Rewritten in place to the same size (an edit, a backup copied over it). */
		char path[256];
		FILE *f;
		int c;

		snprintf(path, sizeof(path), "%s/state", dir);
		file_is(&st0);
		f = fopen(path, "r+");
		fseek(f, -3, SEEK_END);
		c = fgetc(f);
		fseek(f, -3, SEEK_END);
		fputc(c == 'x' ? 'y' : 'x', f);
		fclose(f);
		snprintf(eps[9].state, sizeof(eps[9].state), "STALE");
		ok(state_writer_save(w, &s) == 0 && file_is(&st1) && st1.st_ino != st0.st_ino,
		   "a file rewritten in place to the same size is written whole, not appended to");
	}

	/* Another writer replaces the file (certwatch resume, with no daemon). */
	st0 = st1;
	ok(state_save(dir, &s) == 0 && file_is(&st1) && st1.st_ino != st0.st_ino,
	   "another writer replaces the file");
	st0 = st1;
	snprintf(eps[3].state, sizeof(eps[3].state), "EXPIRING");
	ok(state_writer_save(w, &s) == 0 && file_is(&st1) && st1.st_ino != st0.st_ino &&
	   strcmp(state_of(&back, "ep03"), "EXPIRING") == 0,
	   "a file replaced by another writer is written whole, not appended to");

	/* A change of every record: written whole, not appended (it is as large). */
	file_is(&st0);
	for (int i = 0; i < N; i++)
		snprintf(eps[i].state, sizeof(eps[i].state), "WARNING");
	ok(state_writer_save(w, &s) == 0 && file_is(&st1) && st1.st_ino != st0.st_ino &&
	   strcmp(state_of(&back, "ep59"), "WARNING") == 0,
	   "a change of every record writes the file whole instead of appending as much");

	/* Changes go on: the file is written whole when the appended part would be as large. */
	state_writer_counts(w, &appends, &before);
	wholes = before;
	file_is(&st0);
	for (; wholes == before && saves < 10 * N; saves++) {
		snprintf(eps[saves % N].state, sizeof(eps[saves % N].state), "S%lu", saves);
		ok_all = ok_all && state_writer_save(w, &s) == 0 && file_is(&st1);
		if (st1.st_size > most)
			most = st1.st_size;
		state_writer_counts(w, &appends, &wholes);
	}
	ok(ok_all && wholes == before + 1 && most < 2 * st0.st_size,
	   "after %lu appends the file is written whole again, never past twice its size "
	   "(%lld bytes at most, %lld whole)", saves, (long long)most, (long long)st0.st_size);
	is_str(state_of(&back, names[(saves - 1) % N]), eps[(saves - 1) % N].state,
	       "the last change is read back");

	/* Other records (a configuration re-read): whole, and the old names gone. */
	eps[0].endpoint = (char *)"renamed";
	file_is(&st0);
	ok(state_writer_save(w, &s) == 0 && file_is(&st1) && st1.st_ino != st0.st_ino &&
	   strcmp(state_of(&back, "ep00"), "") == 0 && back.n_endpoints == N,
	   "records of other names are written whole: the old name is not kept");
	state_done(&back);
	state_writer_free(w);
}

/* Many records: found by name through the index, whatever their order in the file. */
static void many_records_are_indexed(void)
{
	enum { N = 500 };
	struct state s = {}, back;
	char names[N][16], err[256];
	bool all = true;

	s.services = calloc(N, sizeof(*s.services));
	s.endpoints = calloc(N, sizeof(*s.endpoints));
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "svc%03d", (i * 7919) % N);
		s.services[i].name = names[i];
		s.endpoints[i].service = names[i];
		s.endpoints[i].endpoint = (char *)"https";
		snprintf(s.endpoints[i].state, sizeof(s.endpoints[i].state), "%s", names[i]);
	}
	s.n_services = s.n_endpoints = N;
	ok(state_save(dir, &s) == 0 && state_load(dir, &back, err, sizeof(err)) == 0,
	   "500 services saved and read back");
	for (int i = 0; i < N; i++) {
		const struct state_endpoint *e = state_find_endpoint(&back, names[i], "https");

		all = all && state_find_service(&back, names[i]) && e &&
			strcmp(e->state, names[i]) == 0;
	}
	ok(all, "every one is found by name, with its own record");
	state_done(&back);
	free(s.services);
	free(s.endpoints);
}

#define SEC(x) ((uint64_t)(x) * USEC_PER_SEC)

/*
 * Within a boot the policy's times are CLOCK_BOOTTIME and are taken as they
 * are, whatever the wall clock did; across a reboot they pass through the
 * wall clock, bounded.
 */
static void clocks_carry_the_policy(void)
{
	const uint64_t B = BOOT_CLOCK_OFFSET_USEC;
	const struct state_clock written = { .boot_id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
					     .boottime = B + SEC(1000), .realtime = SEC(1800000000) };
	struct state_clock now = written;
	struct state_service r = { .failures = 1, .next_attempt = B + SEC(1030), .n_reloads = 2,
				   .reloads = { B + SEC(100), B + SEC(990) },
				   .last_reload = SEC(1800000000) - SEC(10) };
	struct policy_state ps;

	/* the same boot, 5 s later, the wall clock set back two hours */
	now.boottime = B + SEC(1005);
	now.realtime = SEC(1800000000) - SEC(7200);
	state_service_to_policy(&r, &written, &now, &ps);
	ok(ps.next_attempt == B + SEC(1030) && ps.n_reloads == 2 &&
	   ps.reloads[1] == B + SEC(990) && ps.failures == 1,
	   "same boot, wall clock set back 2 h: back-off and reloads unchanged");
	now.realtime = SEC(1800000000) + SEC(7200);
	state_service_to_policy(&r, &written, &now, &ps);
	ok(ps.next_attempt == B + SEC(1030), "same boot, wall clock set forward 2 h: back-off unchanged");

	/* a reboot: 20 s of wall clock later, 12 s after boot */
	snprintf(now.boot_id, sizeof(now.boot_id), "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	now.boottime = B + SEC(12);
	now.realtime = SEC(1800000000) + SEC(20);
	state_service_to_policy(&r, &written, &now, &ps);
	ok(ps.next_attempt == B + SEC(12) + SEC(10), "after a reboot the back-off keeps what is left");
	ok(ps.n_reloads == 2 && ps.reloads[0] == B + SEC(12) - SEC(920) &&
	   ps.reloads[1] == B + SEC(12) - SEC(30),
	   "after a reboot the reloads of the last hour keep their age, even from before the boot");
	/* the wall clock went back across the reboot: never a negative time since writing */
	now.realtime = SEC(1800000000) - SEC(86400);
	state_service_to_policy(&r, &written, &now, &ps);
	ok(ps.next_attempt == B + SEC(12) + SEC(30), "a wall clock set back across a reboot "
	   "does not lengthen the back-off");
	/* forward by a day: everything is over */
	now.realtime = SEC(1800000000) + SEC(86400);
	state_service_to_policy(&r, &written, &now, &ps);
	ok(ps.next_attempt == 0 && ps.n_reloads == 0, "a day later nothing holds the service");
	/* a hostile file cannot hold a service for more than the longest back-off */
	r.next_attempt = UINT64_MAX / 2;
	now.realtime = written.realtime;
	state_service_to_policy(&r, &written, &now, &ps);
	ok(ps.next_attempt == now.boottime + POLICY_BACKOFF_MAX_USEC,
	   "a back-off beyond the longest one is cut to POLICY_BACKOFF_MAX_USEC");
}

static void policy_round_trip(void)
{
	struct policy_state ps = { .phase = PHASE_IDLE, .paused = true, .failures = 3,
				   .next_attempt = SEC(2000), .last_reload = SEC(1500),
				   .last_reload_ok = false, .last_verified = SEC(1400) };
	struct state_clock now = { .boot_id = "cccccccccccccccccccccccccccccccc",
				   .boottime = SEC(1600), .realtime = SEC(1800000000) };

	/* (the clock's offset does not matter within one boot) */
	struct state_service r = {};
	struct policy_state back;

	for (unsigned i = 0; i < 70; i++)
		ps.reloads[ps.n_reloads++ % POLICY_MAX_RELOADS_PER_HOUR] = SEC(1000 + i);
	state_service_from_policy(&r, &ps, &now);
	ok(strcmp(r.phase, "paused") == 0 && r.paused && r.failures == 3,
	   "a paused service at rest is recorded as paused");
	ok(r.last_reload == SEC(1800000000) - SEC(100) && r.last_verified == SEC(1800000000) - SEC(200),
	   "the times people read are wall-clock times");
	{
		/* 0.3 s later, read as state_clock_now() reads the clocks, to the microsecond. */
		struct state_clock first = now, later = now;
		struct state_service r1 = {}, r2 = {};

		first.realtime += 123456;
		later.boottime += 300000 + 17;
		later.realtime += 123456 + 300000 + 29;
		state_service_from_policy(&r1, &ps, &first);
		state_service_from_policy(&r2, &ps, &later);
		ok(r1.last_reload == r2.last_reload && r1.last_verified == r2.last_verified &&
		   state_service_sum(&r1) == state_service_sum(&r2),
		   "the same moment is the same wall-clock time at the next writing: the record is unchanged");
	}
	{
		/*
		 * Read back at a start (the clocks read then) and written again
		 * (read once more, their readings a few microseconds apart): the
		 * same second, restart after restart.
		 */
		struct state_clock start = now, write = now;
		struct state_service r1 = { .last_reload = SEC(1800000000) - SEC(100) }, r2 = {};
		struct policy_state p1;
		bool same = true;

		for (unsigned i = 1; i <= 20; i++) {
			start.boottime = now.boottime + SEC(10 * i);
			start.realtime = now.realtime + SEC(10 * i) + 3;
			write.boottime = start.boottime + 250000;
			write.realtime = start.realtime + 250000 - 7;
			state_service_to_policy(&r1, &start, &start, &p1);
			state_service_from_policy(&r2, &p1, &write);
			same = same && r2.last_reload == r1.last_reload;
			r1.last_reload = r2.last_reload;
		}
		ok(same && r1.last_reload == SEC(1800000000) - SEC(100),
		   "a reload's wall-clock time read back and written again keeps its second");
	}
	ok(r.n_reloads == POLICY_MAX_RELOADS_PER_HOUR && r.reloads[0] == SEC(1006) &&
	   r.reloads[POLICY_MAX_RELOADS_PER_HOUR - 1] == SEC(1069),
	   "the ring is written oldest first, the newest kept");
	state_service_to_policy(&r, &now, &now, &back);
	ok(back.paused && back.failures == 3 && back.next_attempt == SEC(2000) &&
	   back.n_reloads == POLICY_MAX_RELOADS_PER_HOUR && back.last_reload == SEC(1500) &&
	   back.phase == PHASE_IDLE, "and read back into the policy as it was, at rest");
}

/* certwatch 0.1's file had no clocks: its wall-clock times are carried over. */
static void older_files_are_read(void)
{
	struct state s = {};
	struct state_clock now;
	struct policy_state ps;
	char err[256] = "", text[256];

	state_clock_now(&now);
	snprintf(text, sizeof(text), "certwatch-state 1\npid 1\nwritten 1700000000\n"
		 "service name=a phase=backoff failures=1 paused=0 next_attempt=%llu\n",
		 (unsigned long long)(now.realtime + SEC(30)));
	write_file(text);
	ok(state_load(dir, &s, err, sizeof(err)) == 0 && s.n_services == 1,
	   "a state file of certwatch 0.1 is read");
	if (s.n_services == 1) {
		state_service_to_policy(&s.services[0], &s.clock, &now, &ps);
		ok(ps.next_attempt > now.boottime + SEC(25) &&
		   ps.next_attempt <= now.boottime + SEC(30), "its back-off goes on where it was");
	}
	state_done(&s);
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
	write_file("certwatch-state 1\nservice name=p paused=1\n");
	{
		char zeros[4096] = "";
		char path[256];
		FILE *f;

		snprintf(path, sizeof(path), "%s/state", dir);
		f = fopen(path, "a");
		fwrite(zeros, 1, sizeof(zeros), f);
		fclose(f);
	}
	ok(state_load(dir, &s, err, sizeof(err)) == 0 && s.n_services == 1 && s.services[0].paused,
	   "zeros after the last line (what a crash may leave of an append): left out, the pause kept");
	state_done(&s);
	write_file("certwatch-state 1\nservice name=p paused=1\n");
	{
		char *tail = malloc(10001);

		memset(tail, 'x', 10000);
		tail[10000] = '\0';
		put_file("a", tail);
		free(tail);
	}
	ok(state_load(dir, &s, err, sizeof(err)) == 0 && s.n_services == 1 && s.services[0].paused,
	   "a last line of 10,000 bytes without its newline: left out, the pause kept");
	state_done(&s);
	{
		char *line = malloc(10002);

		memcpy(line, "service name=", 13);
		memset(line + 13, 'x', 10000 - 13);
		memcpy(line + 10000, "\n", 2);
		write_file("certwatch-state 1\n");
		put_file("a", line);
		free(line);
	}
	ok(state_load(dir, &s, err, sizeof(err)) == -EBADMSG,
	   "a line of 10,000 bytes with its newline is damage (longer than any record)");
	write_file("certwatch-state 1\nservice name=a name=b name=c\n");
	ok(state_load(dir, &s, err, sizeof(err)) == 0 && s.n_services == 1 &&
	   strcmp(s.services[0].name, "c") == 0, "a repeated key: the last counts (and none leaks)");
	state_done(&s);
	{
		char path[256];
		FILE *f;

		snprintf(path, sizeof(path), "%s/state", dir);
		f = fopen(path, "w");
		fwrite("certwatch-state 1\nservice name=a\0b\n", 1, 36, f);
		fclose(f);
	}
	ok(state_load(dir, &s, err, sizeof(err)) == -EBADMSG, "a NUL byte in a line is damage");
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/state", dir);
		unlink(path);
		ok(mkfifo(path, 0600) == 0 && state_load(dir, &s, err, sizeof(err)) == -ENXIO,
		   "a FIFO in place of the state file is refused at once");
		unlink(path);
	}
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
	ok(state_dir_for("/var/lib/certwatch", "../../x", out, sizeof(out)) == -EINVAL &&
	   state_dir_for("/var/lib/certwatch", "..", out, sizeof(out)) == -EINVAL &&
	   state_dir_for("/var/lib/certwatch", "", out, sizeof(out)) == -EINVAL,
	   "a service name that would leave the state directory is refused");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	round_trip();
	many_records_are_indexed();
	writer_appends();
	clocks_carry_the_policy();
	policy_round_trip();
	older_files_are_read();
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
