/*
 * control.c - `certwatch status` and `certwatch resume`: the daemon seen
 * from outside, through the state file it writes and the control socket
 * it listens on; the protocol is in control.h, the daemon's side in
 * control-server.c.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "report.h"
#include "state.h"
#include "util.h"

int control_socket_path(const char *dir, char *out, size_t outlen)
{
	struct sockaddr_un sa;
	int n = snprintf(out, outlen, "%s/%s", dir, CONTROL_SOCKET_NAME);

	return n < 0 || (size_t)n >= outlen || (size_t)n >= sizeof(sa.sun_path) ?
		-ENAMETOOLONG : 0;
}

/* Waits for fd to be ready for events, at most until deadline (CLOCK_MONOTONIC usec). */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now = now_monotonic_usec();
	int r;

	if (now >= deadline)
		return -ETIMEDOUT;
	r = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static int read_answer(int fd, uint64_t deadline, char *reply, size_t replylen)
{
	size_t len = 0;
	int r;

	while (len + 1 < replylen) {
		ssize_t n = recv(fd, reply + len, replylen - 1 - len, MSG_DONTWAIT);

		if (n > 0) {
			len += (size_t)n;
			if (memchr(reply, '\n', len))
				break;
			continue;
		}
		if (n == 0)
			break;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		r = wait_fd(fd, POLLIN, deadline);
		if (r < 0)
			return r;
	}
	reply[len] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	return len > 0 ? 0 : -ECONNRESET;
}

int control_connect(const char *dir, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	r = control_socket_path(dir, sa.sun_path, sizeof(sa.sun_path));
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int control_request(const char *dir, const char *request, int timeout_ms, char *reply,
		    size_t replylen)
{
	uint64_t deadline = now_monotonic_usec() + (uint64_t)timeout_ms * USEC_PER_MSEC;
	char line[CONTROL_MAX_LINE + 2];
	int fd, r, n;

	n = snprintf(line, sizeof(line), "%s\n", request);
	if (n < 0 || (size_t)n > CONTROL_MAX_LINE)
		return -E2BIG;
	r = control_connect(dir, &fd);
	if (r < 0)
		return r;
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		r = -errno;
	else
		r = read_answer(fd, deadline, reply, replylen);
	close(fd);
	return r;
}

/*
 * The daemon guarding every service does not run: say which certwatch@NAME
 * instances do (their control socket answers), and how to see them.
 */
static void hint_instances(const struct conf *c)
{
	char dir[PATH_MAX];
	const char *sep = "";
	int fd;

	for (size_t i = 0; i < c->n_services; i++) {
		if (state_dir_for(c->state_dir, c->services[i].name, dir, sizeof(dir)) < 0 ||
		    control_connect(dir, &fd) < 0)
			continue;
		close(fd);
		fprintf(stderr, "%s%s", sep[0] ? sep : "certwatch: no daemon guards every service, "
			"but certwatch@NAME instances run for: ", c->services[i].name);
		sep = ", ";
	}
	if (sep[0])
		fprintf(stderr, "; see certwatch status -s NAME\n");
}

int control_trust_dir(const char *dir)
{
	char err[1024] = "";
	int r;

	/* A state, or a socket, that someone else could have put there is not believed. */
	r = state_dir_check(dir, err, sizeof(err));
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "certwatch: %s\n", err);
		return r;
	}
	return 0;
}

/*
 * An older certwatch wrote an endpoint it had not judged yet as OK, served
 * a certificate of 64 zero digits (its zeroed probe result; no certificate
 * has that fingerprint): shown as what it was, not checked yet.
 */
static void pending_if_zeroed(struct state_endpoint *e)
{
	if (strspn(e->served, "0") != sizeof(e->served) - 1)
		return;
	e->served[0] = '\0';
	e->served_not_after = 0;
	snprintf(e->state, sizeof(e->state), "%s", verdict_state_to_string(STATE_PENDING));
	snprintf(e->severity, sizeof(e->severity), "%s", severity_to_string(SEVERITY_UNKNOWN));
	free(e->reason);
	e->reason = strdup(VERDICT_PENDING_REASON);   /* NULL: none, as for any record */
}

/*
 * The state in dir, as the daemon wrote it (in a directory that may be
 * trusted, control_trust_dir()), with an older daemon's endpoints not
 * checked yet read as such; *running when its pid lives.  dir is the main
 * daemon's state-dir, or state-dir/NAME for the certwatch@NAME instance
 * that guards only NAME.
 */
static int load_state(const char *dir, struct state *ret, bool *running)
{
	char err[1024] = "";
	int r;

	r = control_trust_dir(dir);
	if (r < 0)
		return r;
	r = state_load(dir, ret, err, sizeof(err));
	if (r == -ENOENT)
		fprintf(stderr, "certwatch: no state in %s: the daemon (certwatch run) has not run "
			"with this configuration\n", dir);
	else if (r < 0)
		fprintf(stderr, "certwatch: %s\n", err[0] ? err : strerror(-r));
	else {
		*running = ret->pid > 0 && (kill(ret->pid, 0) == 0 || errno == EPERM);
		for (size_t i = 0; i < ret->n_endpoints; i++)
			pending_if_zeroed(&ret->endpoints[i]);
	}
	return r;
}

int control_worst(const struct state *st, const char *service)
{
	int worst = SEVERITY_OK;

	for (size_t i = 0; i < st->n_endpoints; i++) {
		if (service && strcmp(st->endpoints[i].service, service) != 0)
			continue;
		for (int sev = 0; sev < _SEVERITY_MAX; sev++)
			if (strcmp(st->endpoints[i].severity, severity_to_string(sev)) == 0)
				worst = severity_worse(worst, sev);
	}
	for (size_t i = 0; i < st->n_services; i++)
		if (st->services[i].paused && (!service || strcmp(st->services[i].name, service) == 0))
			worst = SEVERITY_CRITICAL;
	return worst;
}

int control_status(const struct conf *c, const char *service, bool json)
{
	char dir[PATH_MAX];
	struct state st = {};
	bool running = false;
	int worst = 0;

	if (state_dir_for(c->state_dir, service, dir, sizeof(dir)) < 0)
		return SEVERITY_UNKNOWN;
	if (load_state(dir, &st, &running) < 0) {
		if (!service)
			hint_instances(c);
		return SEVERITY_UNKNOWN;
	}
	if (json)
		report_status_json(stdout, &st, running);
	else
		report_status_table(stdout, &st, running);
	worst = control_worst(&st, NULL);
	if (!running && !service)
		hint_instances(c);
	if (!running)
		worst = SEVERITY_UNKNOWN;
	state_done(&st);
	return worst;
}

/* Asks the running daemon; returns -errno when none answers, else 0 or 1. */
static int resume_running(const char *dir, const char *service)
{
	char request[CONTROL_MAX_LINE], reply[CONTROL_MAX_LINE];
	bool ok;
	int r;

	snprintf(request, sizeof(request), "%s %s", CONTROL_REQ_RESUME, service);
	r = control_request(dir, request, 5000, reply, sizeof(reply));
	if (r == -ENOENT || r == -ECONNREFUSED)
		return r;
	if (r < 0) {
		fprintf(stderr, "certwatch: the daemon did not answer on %s/%s: %s\n", dir,
			CONTROL_SOCKET_NAME, strerror(-r));
		return 1;
	}
	ok = strncmp(reply, CONTROL_ANSWER_OK, strlen(CONTROL_ANSWER_OK)) == 0;
	fprintf(ok ? stdout : stderr, "%s\n", reply);
	return ok ? 0 : 1;
}

/* No daemon: lift the pause in the state file, which the next start reads. */
static int resume_in_file(const char *dir, struct state *st, const char *service)
{
	struct state_service *s = state_find_service(st, service);
	struct state_clock now;
	struct policy_state ps;
	int r;

	if (!s) {
		fprintf(stderr, "certwatch: no service \"%s\" in the state file in %s\n", service,
			dir);
		return 1;
	}
	state_clock_now(&now);
	state_service_to_policy(s, &st->clock, &now, &ps);
	policy_resume(&ps);
	state_service_from_policy(s, &ps, &now);
	st->clock = now;
	r = state_save(dir, st);
	if (r < 0) {
		fprintf(stderr, "certwatch: cannot write the state in %s: %s\n", dir, strerror(-r));
		return 1;
	}
	printf("ok: %s resumed; the daemon is not running, it will reconcile at start\n", service);
	return 0;
}

int control_resume(const struct conf *c, const char *service)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct state st = {};
	bool running = false;
	int r;

	/* A certwatch@NAME instance keeps its own state; else the main daemon's. */
	path[0] = '\0';
	if (state_dir_for(c->state_dir, service, dir, sizeof(dir)) == 0)
		snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE_NAME);
	if (!path[0] || access(path, F_OK) < 0)
		snprintf(dir, sizeof(dir), "%s", c->state_dir);
	if (load_state(dir, &st, &running) < 0)
		return 1;
	r = -ENOENT;
	if (running)
		r = resume_running(dir, service);
	/* Gone since its state was written: fall through to the file. */
	if (r == -ENOENT || r == -ECONNREFUSED)
		r = resume_in_file(dir, &st, service);
	state_done(&st);
	return r == 0 ? 0 : 1;
}
