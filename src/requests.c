/*
 * requests.c - the daemon's side of resume and sync; see requests.h and,
 * for the wire format, control.h.
 *
 * A sync is done for a service once it has finished a reconcile pass that
 * started after the request and has come to rest (service_at_rest()): the
 * files on disk as the ACME client left them have been looked at, and
 * whatever that called for (a reload, its verification, a failure) is
 * over.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "control.h"
#include "requests.h"

struct sync_wait {
	struct control_conn *conn;
	size_t n;
	struct service **services;
	unsigned long *looks;          /* each one's passes when asked */
	struct sync_wait *next;
};

struct requests {
	struct service *const *services;
	size_t n_services;
	void (*flush)(void *userdata);
	void *userdata;
	struct sync_wait *waits;
};

int requests_new(struct service *const *services, size_t n_services,
		 void (*flush)(void *userdata), void *userdata, struct requests **ret)
{
	struct requests *rq = calloc(1, sizeof(*rq));

	if (!rq)
		return -ENOMEM;
	*rq = (struct requests) { .services = services, .n_services = n_services,
				  .flush = flush, .userdata = userdata };
	*ret = rq;
	return 0;
}

static struct service *find(const struct requests *rq, const char *name, size_t len)
{
	for (size_t i = 0; i < rq->n_services; i++) {
		const char *s = service_name(rq->services[i]);

		if (strlen(s) == len && memcmp(s, name, len) == 0)
			return rq->services[i];
	}
	return NULL;
}

static void resume(struct requests *rq, struct control_conn *conn, const char *name)
{
	struct service *svc = find(rq, name, strlen(name));
	char answer[CONTROL_MAX_LINE];

	if (!svc) {
		snprintf(answer, sizeof(answer), CONTROL_ANSWER_ERROR "no service \"%.200s\" is "
			 "guarded", name);
		control_conn_reply(conn, answer);
		return;
	}
	snprintf(answer, sizeof(answer), CONTROL_ANSWER_OK "%s %s", service_name(svc),
		 service_paused(svc) ? "resumed" : "was not paused; reconciling");
	service_post(svc, EVENT_RESUME);
	control_conn_reply(conn, answer);
}

static void wait_free(struct sync_wait *w)
{
	free(w->services);
	free(w->looks);
	free(w);
}

/* The services named (all when none), each asked to look now. */
static int sync_start(struct requests *rq, const char *names, struct sync_wait *w, char *bad,
		      size_t badlen)
{
	size_t cap = rq->n_services ? rq->n_services : 1;

	w->services = calloc(cap, sizeof(*w->services));
	w->looks = calloc(cap, sizeof(*w->looks));
	if (!w->services || !w->looks)
		return -ENOMEM;
	for (const char *p = names; *p; ) {
		size_t len = strcspn(p, " ");
		struct service *svc = len ? find(rq, p, len) : NULL;

		if (len && !svc) {
			snprintf(bad, badlen, "%.*s", (int)(len > 200 ? 200 : len), p);
			return -ENOENT;
		}
		if (svc && w->n < cap)
			w->services[w->n++] = svc;
		p += len + (p[len] == ' ');
	}
	if (w->n == 0)
		for (size_t i = 0; i < rq->n_services; i++)
			w->services[w->n++] = rq->services[i];
	for (size_t i = 0; i < w->n; i++) {
		w->looks[i] = service_looks(w->services[i]);
		service_post(w->services[i], EVENT_SYNC);
	}
	return 0;
}

static void sync_request(struct requests *rq, struct control_conn *conn, const char *names)
{
	struct sync_wait *w = calloc(1, sizeof(*w));
	char bad[256] = "", answer[CONTROL_MAX_LINE];
	int r = w ? sync_start(rq, names, w, bad, sizeof(bad)) : -ENOMEM;

	if (r < 0) {
		if (r == -ENOENT)
			snprintf(answer, sizeof(answer), CONTROL_ANSWER_ERROR "no service \"%s\" is "
				 "guarded", bad);
		else
			snprintf(answer, sizeof(answer), CONTROL_ANSWER_ERROR "%s", strerror(-r));
		control_conn_reply(conn, answer);
		if (w)
			wait_free(w);
		return;
	}
	w->conn = conn;
	w->next = rq->waits;
	rq->waits = w;
}

void requests_handle(struct requests *rq, struct control_conn *conn, const char *request)
{
	size_t n = strcspn(request, " ");
	const char *arg = request + n + (request[n] == ' ');

	if (n == strlen(CONTROL_REQ_RESUME) && strncmp(request, CONTROL_REQ_RESUME, n) == 0 &&
	    *arg)
		resume(rq, conn, arg);
	else if (n == strlen(CONTROL_REQ_SYNC) && strncmp(request, CONTROL_REQ_SYNC, n) == 0)
		sync_request(rq, conn, arg);
	else
		control_conn_reply(conn, CONTROL_ANSWER_ERROR "unknown request");
}

static bool sync_done(const struct sync_wait *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (service_looks(w->services[i]) == w->looks[i] || !service_at_rest(w->services[i]))
			return false;
	return true;
}

void requests_check(struct requests *rq)
{
	bool flushed = false;

	for (struct sync_wait **p = &rq->waits; *p; ) {
		struct sync_wait *w = *p;

		if (!sync_done(w)) {
			p = &w->next;
			continue;
		}
		if (!flushed && rq->flush)
			rq->flush(rq->userdata);
		flushed = true;
		*p = w->next;
		control_conn_reply(w->conn, CONTROL_ANSWER_OK "synced");
		wait_free(w);
	}
}

void requests_free(struct requests *rq, const char *why)
{
	char answer[CONTROL_MAX_LINE];

	if (!rq)
		return;
	snprintf(answer, sizeof(answer), CONTROL_ANSWER_ERROR "%s", why);
	while (rq->waits) {
		struct sync_wait *w = rq->waits;

		rq->waits = w->next;
		control_conn_reply(w->conn, answer);
		wait_free(w);
	}
	free(rq);
}
