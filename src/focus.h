/*
 * focus.h - which of a service's endpoints its reconcile passes look at.
 *
 * After a file event, the endpoints whose files changed: a renewal costs
 * the same whatever else the service guards, and only they decide whether
 * the reload is verified.  Within a round (settle, validate, reload,
 * verify, back off, until the service is idle again) the focus only grows,
 * so that the verification looks at what the reload was for, and a retry
 * looks at the same endpoints again.  The periodic reconcile, a resume, a
 * sync with no file event and a round with nothing changed look at every
 * endpoint; so does the re-check that follows a reload verified on part of
 * the service, since a reload can break the others too.  Pure: no I/O,
 * driven by service.c around each policy step.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "reconcile.h"

struct focus {
	bool *changed;        /* per endpoint: its files changed, not yet looked at */
	bool *in;             /* per endpoint: looked at by this round's passes */
	size_t *list;         /* the endpoints in, ascending: n_in of them */
	size_t n, n_changed, n_in;
	/* What the endpoints not in add to a pass's facts (focus_fold_unseen()), when known. */
	struct policy_facts unseen;
	bool unseen_known;
	bool full;            /* the next pass looks at every endpoint */
	bool round_open;      /* the focus belongs to a round not yet idle */
	bool after_due;       /* a reload verified on part of the service: re-check all */
	bool after_check;     /* the pass running is that re-check */
};

/* For n endpoints, none changed; 0 or -ENOMEM. */
int focus_init(struct focus *f, size_t n);
void focus_done(struct focus *f);

/* The files of endpoint i changed. */
void focus_changed(struct focus *f, size_t i);

/* A pass starts (verifying: during a verification); sets f->in. */
void focus_choose(struct focus *f, bool verifying);

/* After a policy step on ev that gave o. */
void focus_step(struct focus *f, enum policy_event ev, const struct policy_out *o);

/*
 * After the step's action, the phase now: true when the re-check of the
 * whole service is due now (the caller posts EVENT_TICK for it).
 */
bool focus_settled(struct focus *f, enum policy_phase phase, bool pass_running);

/*
 * What an endpoint the pass did not look at adds to the facts: its files
 * did not change, so its last verdict on them stands; a pair that must not
 * be loaded still holds the reload back (a reload loads every pair of the
 * service), and a renewal not yet loaded is still due.  Only the endpoints
 * looked at decide whether the service is served.
 */
void focus_fold_unseen(struct policy_facts *f, const struct verdict *v, bool renewed);

/*
 * The endpoints not in stand still between passes: their sum is made once
 * (f->unseen, as the caller folds them in endpoint order, n_added set to
 * each one's index) and kept until the focus changes or this is called (a
 * reload starts and clears their renewals).
 */
void focus_forget_unseen(struct focus *f);

/*
 * Merges that sum into a pass's facts, made of the endpoints in with
 * n_added set to each one's index: the first veto of either, in endpoint
 * order; n_added becomes n, the service's endpoints.
 */
void focus_merge_unseen(struct policy_facts *facts, const struct focus *f);

/* The pass running is the re-check after a reload: it holds no verdict, nor a sync, back. */
bool focus_rechecking(const struct focus *f, enum policy_phase phase);
