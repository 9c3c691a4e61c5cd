/*
 * dane.c - TLSA look-ups validated by libunbound, on an sd-event loop; see
 * dane.h.
 *
 * libunbound was chosen because it is the validating resolver library that
 * Postfix's and Exim's DANE users already run as their local resolver,
 * Debian ships it (libunbound-dev), and it reports exactly the four DNSSEC
 * outcomes DANE needs (secure, insecure, bogus with a reason, failure).
 * Its asynchronous mode works in a thread of its own and reports through
 * one descriptor (ub_fd), which becomes an sd-event I/O source here; its
 * callbacks run inside ub_process(), on the loop's thread.  Answers are
 * collected there and handed to the callers afterwards, so a done callback
 * may start or cancel look-ups freely.
 *
 * libunbound has no deadline of its own per query, so each look-up has an
 * sd-event timer; on expiry the query is cancelled and reported as failed.
 * Everything the DNS says (why_bogus names, record data) is untrusted:
 * reasons are escaped and records parsed with bounds (tlsa.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <unbound.h>

#include "dane.h"

#define DANE_MAX_PENDING 4096       /* look-ups in flight per resolver */
#define TYPE_TLSA 52
#define CLASS_IN 1
#define ANCHOR_FILE_MAX (1024 * 1024)

struct dane_lookup {
	struct dane_resolver *resolver;
	struct dane_lookup *prev, *next;   /* on resolver->lookups */
	int async_id;
	bool finished;                     /* the answer is in, not yet handed over */
	sd_event_source *deadline;
	dane_done_t done;
	void *userdata;
	struct dane_answer answer;
};

struct dane_resolver {
	struct ub_ctx *ctx;
	sd_event *event;
	sd_event_source *io;
	uint64_t timeout_usec;
	char via[128];                     /* where queries go, for messages */
	struct dane_lookup *lookups;
	unsigned pending;
	char error[512];
};

static const char *const status_names[_DANE_STATUS_MAX] = {
	[DANE_SECURE]      = "secure",
	[DANE_SECURE_NONE] = "secure-none",
	[DANE_INSECURE]    = "insecure",
	[DANE_BOGUS]       = "bogus",
	[DANE_FAILED]      = "failed",
};

const char *dane_status_to_string(enum dane_status s)
{
	return (unsigned)s < _DANE_STATUS_MAX ? status_names[s] : "?";
}

void dane_answer_done(struct dane_answer *a)
{
	if (!a)
		return;
	tlsa_records_free(a->records, a->n_records);
	a->records = NULL;
	a->n_records = 0;
}

bool dane_answer_same_records(const struct dane_answer *a, const struct dane_answer *b)
{
	if (a->n_records != b->n_records)
		return false;
	for (size_t i = 0; i < a->n_records; i++) {
		size_t j = 0;

		while (j < b->n_records && !tlsa_record_equal(&a->records[i], &b->records[j]))
			j++;
		if (j == b->n_records)
			return false;
	}
	return true;
}

static const char *rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	};

	return rcode >= 0 && (size_t)rcode < ELEMENTSOF(names) ? names[rcode] : "an unknown rcode";
}

/* The records of the answer, each bounded and checked by tlsa.c. */
static int take_records(struct dane_answer *a, const struct ub_result *res)
{
	size_t n = 0;

	while (res->data[n])
		n++;
	if (n > DANE_MAX_RECORDS) {
		a->n_dropped = n - DANE_MAX_RECORDS;
		n = DANE_MAX_RECORDS;
	}
	a->records = calloc(n ? n : 1, sizeof(*a->records));
	if (!a->records)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int e = res->len[i] < 0 ? -EBADMSG :
			tlsa_record_from_rdata((const uint8_t *)res->data[i], (size_t)res->len[i],
					       &a->records[a->n_records]);

		if (e == -ENOMEM)
			return e;
		if (e < 0)
			a->n_malformed++;
		else
			a->n_records++;
	}
	return 0;
}

/* Fills l->answer from what libunbound reported. */
static void answer_from_result(struct dane_lookup *l, int err, struct ub_result *res)
{
	struct dane_answer *a = &l->answer;
	const char *via = l->resolver->via;
	char why[384];

	if (err) {
		a->status = DANE_FAILED;
		snprintf(a->reason, sizeof(a->reason), "the validating resolver failed: %s",
			 ub_strerror(err));
		return;
	}
	a->ttl = res->ttl > 0 ? (uint32_t)res->ttl : 0;
	if (res->bogus) {
		a->status = DANE_BOGUS;
		escape_bytes(res->why_bogus ? res->why_bogus : "DNSSEC validation failed",
			     res->why_bogus ? strlen(res->why_bogus) : 24, why, sizeof(why));
		snprintf(a->reason, sizeof(a->reason), "DNSSEC validation of %s failed: %s",
			 a->owner, why);
	} else if (res->rcode != 0 && res->rcode != 3) {
		a->status = DANE_FAILED;
		a->ttl = 0;
		snprintf(a->reason, sizeof(a->reason), "the look-up of %s through %s failed "
			 "(%s): the resolver is unreachable or could not resolve the name",
			 a->owner, via, rcode_name(res->rcode));
	} else if (!res->secure) {
		a->status = DANE_INSECURE;
		snprintf(a->reason, sizeof(a->reason), "%s is not signed with DNSSEC (or not "
			 "below the trust anchor): DANE cannot apply", a->owner);
	} else if (!res->havedata) {
		a->status = DANE_SECURE_NONE;
		snprintf(a->reason, sizeof(a->reason), res->nxdomain ?
			 "validated: %s does not exist" : "validated: %s has no TLSA records",
			 a->owner);
		return;
	} else
		a->status = DANE_SECURE;
	/* Records of a bogus answer are not kept: nothing may rely on them. */
	if (res->havedata && (a->status == DANE_SECURE || a->status == DANE_INSECURE) &&
	    take_records(a, res) < 0) {
		dane_answer_done(a);
		a->status = DANE_FAILED;
		snprintf(a->reason, sizeof(a->reason), "out of memory");
	}
}

static void lookup_unlink(struct dane_lookup *l)
{
	struct dane_resolver *r = l->resolver;

	if (l->prev)
		l->prev->next = l->next;
	else
		r->lookups = l->next;
	if (l->next)
		l->next->prev = l->prev;
	r->pending--;
	l->deadline = sd_event_source_disable_unref(l->deadline);
}

/* Unlinks l and hands its answer over; l is gone afterwards. */
static void deliver(struct dane_lookup *l)
{
	dane_done_t done = l->done;
	void *userdata = l->userdata;
	struct dane_answer a = l->answer;

	lookup_unlink(l);
	free(l);
	done(&a, userdata);
}

/* Runs inside ub_process(): only notes the answer. */
static void on_result(void *mydata, int err, struct ub_result *res)
{
	struct dane_lookup *l = mydata;

	answer_from_result(l, err, res);
	l->finished = true;
	ub_resolve_free(res);
}

static void deliver_finished(struct dane_resolver *r)
{
	struct dane_lookup *l;

	/* From the head each time: a done callback may change the list. */
	for (;;) {
		for (l = r->lookups; l && !l->finished; l = l->next)
			;
		if (!l)
			return;
		deliver(l);
	}
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct dane_resolver *r = userdata;
	int e = ub_process(r->ctx);

	(void)s;
	(void)fd;
	(void)revents;
	if (e != 0) {
		/* The validator's thread is gone: nothing pending will ever come back. */
		for (struct dane_lookup *l = r->lookups; l; l = l->next)
			if (!l->finished) {
				l->finished = true;
				l->answer.status = DANE_FAILED;
				snprintf(l->answer.reason, sizeof(l->answer.reason),
					 "the validating resolver stopped: %s", ub_strerror(e));
			}
		r->io = sd_event_source_disable_unref(r->io);
	}
	deliver_finished(r);
	return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dane_lookup *l = userdata;
	char t[32];

	(void)s;
	(void)usec;
	(void)ub_cancel(l->resolver->ctx, l->async_id);
	format_duration(l->resolver->timeout_usec, t, sizeof(t));
	l->answer.status = DANE_FAILED;
	snprintf(l->answer.reason, sizeof(l->answer.reason), "no answer for %s from %s within %s",
		 l->answer.owner, l->resolver->via, t);
	deliver(l);
	return 0;
}

int dane_lookup_start(struct dane_resolver *r, const char *name, uint16_t port,
		      dane_done_t done, void *userdata, struct dane_lookup **ret)
{
	struct dane_lookup *l;
	int e;

	if (r->pending >= DANE_MAX_PENDING) {
		snprintf(r->error, sizeof(r->error), "%u DANE look-ups are already running", r->pending);
		return -EBUSY;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	if (tlsa_owner(name, port, l->answer.owner) < 0) {
		snprintf(r->error, sizeof(r->error), "\"%s\" cannot be a host name for a TLSA look-up",
			 name ? name : "");
		free(l);
		return -EINVAL;
	}
	e = sd_event_add_time_relative(r->event, &l->deadline, CLOCK_MONOTONIC, r->timeout_usec,
				       0, on_deadline, l);
	if (e < 0) {
		snprintf(r->error, sizeof(r->error), "cannot arm the look-up's deadline: %s",
			 strerror(-e));
		free(l);
		return e;
	}
	e = ub_resolve_async(r->ctx, l->answer.owner, TYPE_TLSA, CLASS_IN, l, on_result,
			     &l->async_id);
	if (e != 0) {
		snprintf(r->error, sizeof(r->error), "cannot start the look-up of %s: %s",
			 l->answer.owner, ub_strerror(e));
		sd_event_source_disable_unref(l->deadline);
		free(l);
		return e == UB_NOMEM ? -ENOMEM : -EIO;
	}
	l->resolver = r;
	l->done = done;
	l->userdata = userdata;
	l->next = r->lookups;
	if (l->next)
		l->next->prev = l;
	r->lookups = l;
	r->pending++;
	if (ret)
		*ret = l;
	return 0;
}

void dane_lookup_cancel(struct dane_lookup *l)
{
	if (!l)
		return;
	if (!l->finished)
		(void)ub_cancel(l->resolver->ctx, l->async_id);
	lookup_unlink(l);
	dane_answer_done(&l->answer);
	free(l);
}

unsigned dane_resolver_pending(const struct dane_resolver *r)
{
	return r->pending;
}

const char *dane_resolver_error(const struct dane_resolver *r)
{
	return r->error;
}

/*
 * Whether the trust anchor file can be read and names at least one DS or
 * DNSKEY record: libunbound reads it only later, and an anchor file with
 * no anchor would make every answer "insecure" without a word.
 */
static int anchor_file_check(const char *path, char *err, size_t errlen)
{
	_cleanup_fclose_ FILE *f = NULL;
	char line[4096];
	int fd = open_regular(path, 0, NULL);
	size_t total = 0;

	if (fd < 0) {
		snprintf(err, errlen, "cannot read the DNSSEC trust anchor file %s: %s (install "
			 "the Debian package dns-root-data, or name another file with "
			 "dane-trust-anchor)", path, strerror(-fd));
		return fd;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	while (fgets(line, sizeof(line), f) && (total += strlen(line)) <= ANCHOR_FILE_MAX) {
		char *save = NULL, *c = strchr(line, ';');

		if (c)
			*c = '\0';
		for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save))
			if (strcmp(t, "DS") == 0 || strcmp(t, "DNSKEY") == 0)
				return 0;
	}
	snprintf(err, errlen, "the DNSSEC trust anchor file %s holds no DS or DNSKEY record", path);
	return -EINVAL;
}

/* Applies the options to a fresh context; messages name the setting. */
static int configure(struct dane_resolver *r, const struct dane_options *o,
		     char *err, size_t errlen)
{
	const char *anchor = o && o->trust_anchor ? o->trust_anchor : DANE_DEFAULT_TRUST_ANCHOR;
	int e;

	/* A local validating resolver on 127.0.0.1 is the usual set-up for DANE. */
	e = ub_ctx_set_option(r->ctx, "do-not-query-localhost:", "no");
	if (e == 0)
		e = ub_ctx_async(r->ctx, 1);
	if (e != 0) {
		snprintf(err, errlen, "cannot set up libunbound: %s", ub_strerror(e));
		return -EIO;
	}
	e = anchor_file_check(anchor, err, errlen);
	if (e < 0)
		return e;
	if (ub_ctx_add_ta_file(r->ctx, anchor) != 0)
		return -ENOMEM;
	if (o && o->resolver) {
		e = ub_ctx_set_fwd(r->ctx, o->resolver);
		snprintf(r->via, sizeof(r->via), "%s", o->resolver);
	} else {
		e = ub_ctx_resolvconf(r->ctx, NULL);
		snprintf(r->via, sizeof(r->via), "the resolvers of /etc/resolv.conf");
	}
	if (e != 0) {
		snprintf(err, errlen, o && o->resolver ? "dane-resolver \"%s\" is not an address "
			 "(ADDRESS or ADDRESS@PORT)" : "cannot read the resolvers of %s",
			 o && o->resolver ? o->resolver : "/etc/resolv.conf");
		return -EINVAL;
	}
	/*
	 * libunbound reads the anchors when it first needs them; removing
	 * local data (of a name that has none) makes it do so now, so that a
	 * broken anchor file is reported here, at start-up.
	 */
	e = ub_ctx_data_remove(r->ctx, "certwatch.invalid.");
	if (e != 0) {
		snprintf(err, errlen, "libunbound refuses the trust anchor file %s: %s", anchor,
			 ub_strerror(e));
		return -EINVAL;
	}
	return 0;
}

int dane_resolver_new(sd_event *event, const struct dane_options *options,
		      struct dane_resolver **ret, char *err, size_t errlen)
{
	struct dane_resolver *r = calloc(1, sizeof(*r));
	int e;

	if (!r)
		return -ENOMEM;
	r->event = sd_event_ref(event);
	r->timeout_usec = options && options->timeout_usec ? options->timeout_usec :
			  DANE_DEFAULT_TIMEOUT_USEC;
	r->ctx = ub_ctx_create();
	if (!r->ctx) {
		snprintf(err, errlen, "cannot create a libunbound context");
		e = -ENOMEM;
		goto fail;
	}
	e = configure(r, options, err, errlen);
	if (e < 0)
		goto fail;
	e = sd_event_add_io(event, &r->io, ub_fd(r->ctx), EPOLLIN, on_readable, r);
	if (e < 0) {
		snprintf(err, errlen, "cannot watch libunbound's descriptor: %s", strerror(-e));
		goto fail;
	}
	*ret = r;
	return 0;
fail:
	dane_resolver_free(r);
	return e;
}

void dane_resolver_free(struct dane_resolver *r)
{
	if (!r)
		return;
	while (r->lookups)
		dane_lookup_cancel(r->lookups);
	r->io = sd_event_source_disable_unref(r->io);
	if (r->ctx)
		ub_ctx_delete(r->ctx);
	sd_event_unref(r->event);
	free(r);
}
