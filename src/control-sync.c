/*
 * control-sync.c - `certwatch sync`, the ACME client's deploy hook: asks
 * each running daemon that guards a service named to look now, waits for
 * its answer (control.h), then reads what the daemon wrote in its state
 * file and prints it, with a plugin exit status.
 *
 * A service named that a certwatch@NAME instance guards is asked there
 * (its state directory holds a control socket), every other one of the
 * daemon guarding all services.  With none named, each configured service
 * is asked of the daemon that guards it: the one guarding all services
 * when it runs, else the service's instance; a service nobody guards makes
 * the exit UNKNOWN and is named.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "msg.h"
#include "reconcile.h"
#include "state.h"
#include "util.h"

#define DAEMONS_MAX 64   /* daemons asked in one sync; more is an error */

/* One daemon to ask, and the services it is asked for. */
struct ask {
	char dir[PATH_MAX];
	char request[CONTROL_MAX_LINE];
	size_t len;
	bool all;                 /* every service it guards */
};

/* The state directory of the daemon that answers for service. */
static void dir_for(const struct conf *c, const char *service, char *out, size_t outlen)
{
	char sock[PATH_MAX];

	if (service && state_dir_for(c->state_dir, service, out, outlen) == 0 &&
	    control_socket_path(out, sock, sizeof(sock)) == 0 && access(sock, F_OK) == 0)
		return;
	snprintf(out, outlen, "%s", c->state_dir);
}

static void ask_init(struct ask *a, const char *dir, bool all)
{
	snprintf(a->dir, sizeof(a->dir), "%s", dir);
	a->len = (size_t)snprintf(a->request, sizeof(a->request), "%s", CONTROL_REQ_SYNC);
	a->all = all;
}

static struct ask *ask_for(struct ask *asks, size_t *n, const char *dir)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(asks[i].dir, dir) == 0)
			return &asks[i];
	if (*n == DAEMONS_MAX)
		return NULL;
	ask_init(&asks[*n], dir, false);
	return &asks[(*n)++];
}

/* Groups the services named by the daemon that guards them. */
static int plan(const struct conf *c, char *const *services, size_t n, struct ask *asks,
		size_t *n_asks)
{
	char dir[PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		struct ask *a;
		int len;

		dir_for(c, services[i], dir, sizeof(dir));
		a = ask_for(asks, n_asks, dir);
		if (!a)
			return -E2BIG;
		len = snprintf(a->request + a->len, sizeof(a->request) - a->len, " %s", services[i]);
		if (len < 0 || (size_t)len >= sizeof(a->request) - a->len)
			return -E2BIG;
		a->len += (size_t)len;
	}
	return 0;
}

static bool named(const char *service, char *const *services, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(services[i], service) == 0)
			return true;
	return n == 0;
}

/* What the daemon found, for the services asked about; returns their worst status. */
static int report(const struct ask *a, char *const *services, size_t n)
{
	char err[512] = "";
	struct state st = {};
	int worst = 0;

	if (state_load(a->dir, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "certwatch sync: cannot read the state in %s: %s\n", a->dir,
			err[0] ? err : "no state file");
		return 3;
	}
	for (size_t i = 0; i < st.n_services; i++) {
		const struct state_service *sv = &st.services[i];
		int w;

		if (!a->all && !named(sv->name, services, n))
			continue;
		w = control_worst(&st, sv->name);
		worst = severity_worse(worst, w);
		printf("%s: %s%s%s\n", sv->name, sv->paused ? "PAUSED" : sv->phase,
		       sv->last_result[0] ? "; last reload: " : "", sv->last_result);
		for (size_t j = 0; j < st.n_endpoints; j++)
			if (strcmp(st.endpoints[j].service, sv->name) == 0)
				printf("  %s %s: %s\n", st.endpoints[j].endpoint,
				       st.endpoints[j].state, msg_text(st.endpoints[j].reason));
	}
	state_done(&st);
	return worst;
}

static bool nobody_listens(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED;
}

static void say_not_running(const char *dir)
{
	fprintf(stderr, "certwatch sync: no daemon is running in %s (nothing listens on its "
		"control socket); start it, e.g. systemctl start certwatch.service\n", dir);
}

/*
 * Sends one daemon its request and waits for the answer, within the
 * deadline.  Returns 0 when it answered that it is done, -ETIMEDOUT when it
 * did not finish in time, another negative errno when it cannot be asked or
 * refused; says why on stderr, except when nobody listens (nobody_listens()).
 */
static int ask(const struct ask *a, uint64_t deadline)
{
	uint64_t now = now_monotonic_usec();
	char reply[CONTROL_MAX_LINE];
	int r;

	r = now < deadline ? control_request(a->dir, a->request,
					     (int)((deadline - now + 999) / 1000), reply,
					     sizeof(reply)) : -ETIMEDOUT;
	if (nobody_listens(r))
		return r;
	if (r == -ETIMEDOUT)
		fprintf(stderr, "certwatch sync: the daemon in %s did not finish in time; what "
			"it knows so far follows (a longer --wait may help)\n", a->dir);
	else if (r < 0)
		fprintf(stderr, "certwatch sync: the daemon in %s did not answer: %s\n", a->dir,
			strerror(-r));
	else if (strncmp(reply, CONTROL_ANSWER_OK, strlen(CONTROL_ANSWER_OK)) != 0) {
		fprintf(stderr, "certwatch sync: the daemon in %s says: %s\n", a->dir, reply);
		r = -EPROTO;
	}
	return r;
}

/*
 * Asks the daemon in a->dir, once its directory is trusted, and prints what
 * it found.  Returns the plugin status, or -ENOENT / -ECONNREFUSED, unsaid,
 * when no daemon listens there.
 */
static int ask_report(const struct ask *a, char *const *services, size_t n, uint64_t deadline)
{
	int r = control_trust_dir(a->dir), w = 3;

	if (r >= 0)
		r = ask(a, deadline);
	if (nobody_listens(r))
		return r;
	if (r == 0 || r == -ETIMEDOUT)
		w = report(a, services, n);
	return r < 0 ? 3 : w;
}

/*
 * No service named: every configured service, of the daemon guarding all
 * of them when it runs, else each of its certwatch@NAME instance.
 */
static int sync_all(const struct conf *c, uint64_t deadline)
{
	struct ask a;
	size_t guarded = 0;
	bool *lost;
	int worst = 0, w;

	ask_init(&a, c->state_dir, true);
	w = ask_report(&a, NULL, 0, deadline);
	if (!nobody_listens(w))
		return w;
	lost = calloc(c->n_services ? c->n_services : 1, sizeof(*lost));
	if (!lost)
		return 3;
	for (size_t i = 0; i < c->n_services; i++) {
		w = state_dir_for(c->state_dir, c->services[i].name, a.dir, sizeof(a.dir)) < 0 ?
			-ENOENT : ask_report(&a, NULL, 0, deadline);
		lost[i] = nobody_listens(w);
		if (lost[i])
			w = 3;
		else
			guarded++;
		worst = w > worst ? w : worst;
	}
	for (size_t i = 0; i < c->n_services && guarded > 0; i++)
		if (lost[i])
			fprintf(stderr, "certwatch sync: no daemon guards service %s: none runs in %s "
				"(every service) nor in %s/%s (certwatch@%s); start one, e.g. "
				"systemctl start certwatch@%s.service\n", c->services[i].name,
				c->state_dir, c->state_dir, c->services[i].name,
				c->services[i].name, c->services[i].name);
	if (guarded == 0)
		say_not_running(c->state_dir);
	free(lost);
	return guarded ? worst : 3;
}

int control_sync(const struct conf *c, char *const *services, size_t n, uint64_t wait_usec)
{
	static struct ask asks[DAEMONS_MAX];
	uint64_t deadline = now_monotonic_usec() + wait_usec;
	size_t n_asks = 0;
	int worst = 0;

	if (n == 0)
		return sync_all(c, deadline);
	if (plan(c, services, n, asks, &n_asks) < 0) {
		fprintf(stderr, "certwatch sync: too many services at once; name fewer\n");
		return 3;
	}
	for (size_t i = 0; i < n_asks; i++) {
		int w = ask_report(&asks[i], services, n, deadline);

		if (nobody_listens(w)) {
			say_not_running(asks[i].dir);
			w = 3;
		}
		worst = w > worst ? w : worst;
	}
	return worst;
}
