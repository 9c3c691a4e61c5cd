/*
 * control.c - `certwatch status` and `certwatch resume`: the daemon seen
 * from outside, through the state file it writes and the control socket
 * it listens on (daemon.c serves the one request, "resume NAME").
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "report.h"
#include "state.h"

/*
 * The state in dir, as the daemon wrote it; *running when its pid lives.
 * dir is the main daemon's state-dir, or state-dir/NAME for the
 * certwatch@NAME instance that guards only NAME.
 */
static int load_state(const char *dir, struct state *ret, bool *running)
{
	char err[512] = "";
	int r;

	r = state_load(dir, ret, err, sizeof(err));
	if (r == -ENOENT)
		fprintf(stderr, "certwatch: no state in %s: the daemon (certwatch run) has not run "
			"with this configuration\n", dir);
	else if (r < 0)
		fprintf(stderr, "certwatch: %s\n", err[0] ? err : strerror(-r));
	else
		*running = ret->pid > 0 && (kill(ret->pid, 0) == 0 || errno == EPERM);
	return r;
}

int control_status(const struct conf *c, const char *service, bool json)
{
	char dir[PATH_MAX];
	struct state st = {};
	bool running = false;
	int worst = 0;

	if (state_dir_for(c->state_dir, service, dir, sizeof(dir)) < 0 ||
	    load_state(dir, &st, &running) < 0)
		return SEVERITY_UNKNOWN;
	if (json)
		report_status_json(stdout, &st, running);
	else
		report_status_table(stdout, &st, running);
	for (size_t i = 0; i < st.n_endpoints; i++)
		for (int sev = 0; sev < _SEVERITY_MAX; sev++)
			if (strcmp(st.endpoints[i].severity, severity_to_string(sev)) == 0 &&
			    sev > worst)
				worst = sev;
	for (size_t i = 0; i < st.n_services; i++)
		if (st.services[i].policy.paused)
			worst = SEVERITY_CRITICAL;
	if (!running)
		worst = SEVERITY_UNKNOWN;
	state_done(&st);
	return worst;
}

/* Asks the running daemon over its control socket; returns -errno when none answers. */
static int resume_running(const char *state_dir, const char *service)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[320];
	ssize_t n;
	int fd, r = 0;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control", state_dir) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval) { .tv_sec = 5 },
		   sizeof(struct timeval));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	snprintf(buf, sizeof(buf), "resume %s\n", service);
	if (send(fd, buf, strlen(buf), MSG_NOSIGNAL) < 0 || (n = recv(fd, buf, sizeof(buf) - 1, 0)) <= 0) {
		fprintf(stderr, "certwatch: the daemon did not answer on %s\n", sa.sun_path);
		close(fd);
		return 1;
	}
	close(fd);
	buf[n] = '\0';
	fputs(buf, strncmp(buf, "ok", 2) == 0 ? stdout : stderr);
	return strncmp(buf, "ok", 2) == 0 ? 0 : 1;
}

int control_resume(const struct conf *c, const char *service)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct state st = {};
	struct state_service *s;
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
	if (running) {
		r = resume_running(dir, service);
		/* Gone since its state was written: fall through to the file. */
		if (r != -ENOENT && r != -ECONNREFUSED) {
			state_done(&st);
			return r == 0 ? 0 : 1;
		}
	}
	/* No daemon: lift the pause in the state file, which the next start reads. */
	s = state_find_service(&st, service);
	if (!s) {
		fprintf(stderr, "certwatch: no service \"%s\" in the state file in %s\n", service,
			dir);
		r = 1;
	} else {
		s->policy.paused = false;
		s->policy.failures = 0;
		s->policy.next_attempt = 0;
		r = state_save(dir, &st);
		if (r < 0)
			fprintf(stderr, "certwatch: cannot write the state in %s: %s\n", dir,
				strerror(-r));
		else
			printf("ok: %s resumed; the daemon is not running, it will reconcile at start\n",
			       service);
		r = r < 0 ? 1 : 0;
	}
	state_done(&st);
	return r;
}
