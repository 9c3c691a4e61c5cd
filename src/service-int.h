/*
 * service-int.h - what service.c (the events, the reload, the life cycle)
 * and service-pass.c (a reconcile pass over the endpoints) share of one
 * service; not an API: the public interface is service.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "check.h"
#include "events.h"
#include "focus.h"
#include "policy.h"
#include "reload.h"
#include "saved-view.h"
#include "service.h"

#define QUEUE_MAX 16   /* more than the distinct events: duplicates are merged */

/* One endpoint: what a probe callback needs, and the verdict last logged. */
struct endpoint_ref {
	struct service *s;
	struct check_item *it;
	struct disk_seen disk;        /* the disk leaf last seen */
	char state[24];               /* the state last logged, "" if none */
	uint8_t target[SHA256_LEN];   /* the disk leaf when the reload started */
	bool has_target;
	bool dane_held;               /* the last pass held its reload for DANE or pins */
	uint64_t saved;               /* saved_print() of its record when last looked at */
	bool renewed;                 /* the disk leaf changed since the last reload started */
	bool probed, looking_up;      /* in the pass under way: its probe ended, its look-up not */
};

struct service {
	const struct service_env *env;
	const struct conf_service *conf;
	struct policy_conf pc;
	struct policy_state ps;
	struct policy_facts facts;    /* of the last pass, for EVENT_PROBED */
	sd_event_source *timer;
	sd_event_source *defer;
	enum policy_event queue[QUEUE_MAX];
	unsigned q_head, q_len;
	struct reload_op *op;
	struct endpoint_ref *eps;
	size_t n_eps;
	unsigned pending;             /* endpoints of the pass under way, not judged yet */
	size_t cursor;                /* the next of focus.list the pass starts */
	struct focus focus;           /* the endpoints the passes look at (focus.h) */
	bool unsaved;                 /* an endpoint's record changed in the last pass */
	struct saved_view told;       /* the view its record was last told changed with */
	char last_result[256];
	char reload_said[256];        /* the reload method's own result */
	char held[256];               /* why a reload wanted is held back, "" when none */
	uint64_t reloads_ok, reloads_failed;   /* kept in the state file */
	unsigned long looks;          /* reconcile passes finished, for certwatch sync */
};

/*
 * Starts a reconcile pass over the endpoints in focus, unless one is under
 * way; its end posts EVENT_PROBED with the facts in s->facts.
 */
void service_pass_start(struct service *s);

/* Logs each endpoint's verdict, of those in focus, where it differs from the one logged last. */
void service_pass_log_verdicts(struct service *s);

/* The parsed pairs a verification's passes kept (check_item_let_go()) let go of. */
void service_pass_forget_pairs(struct service *s);
