/*
 * check-dane.h - an endpoint's TLSA records and pinned keys (dane-judge.h)
 * as part of its check: what the configuration asks, the latest look-up,
 * since when each record has been seen, and the judgement of the chains
 * the item holds.  The look-ups run on the caller's loop through its one
 * dane_resolver; the judgement is pure and joins the item's verdict
 * (reconcile_dane()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "dane-judge.h"

struct check_item;

/* NULL in an item when neither DANE nor pins apply to its endpoint. */
struct check_dane {
	enum dane_mode mode;
	bool override;                 /* dane-override */
	bool smtp;                     /* the endpoint speaks SMTP: auto looks it up */
	const char *name;              /* the TLSA base domain, borrowed from the conf */
	struct tlsa_pin *pins;         /* owned; n_pins of them */
	size_t n_pins;
	struct dane_answer *answer;    /* owned: the latest look-up's; NULL: none yet */
	struct dane_lookup *lookup;    /* in flight, or NULL */
	struct dane_track track;       /* since when each record was seen, across passes */
	bool primed;                   /* the track has had an answer */
	void (*done)(void *userdata);  /* check_dane_start()'s */
	void *userdata;
	bool judged;                   /* verdict holds this pass's judgement */
	struct dane_verdict verdict;
};

/*
 * The DANE part of an endpoint's item, or *ret NULL when no pin is set
 * and its records are never looked up (dane = no, or auto for an endpoint
 * that does not speak SMTP, dane_wanted(), or whose TLSA name is an IP
 * address).  Returns 0, or -ENOMEM.
 */
int check_dane_new(const struct conf_endpoint *ep, struct check_dane **ret);

/* Cancels a look-up in flight (before its resolver is freed); NULL is fine. */
void check_dane_cancel(struct check_dane *d);
void check_dane_free(struct check_dane *d);

/* Whether the item's TLSA records are looked up (dane_wanted()). */
bool check_dane_wanted(const struct check_item *it);

/* Whether any item's are: then the loop needs a resolver. */
bool check_items_want_dane(const struct check_item *items, size_t n);

/* The resolver's options from the configuration's dane-resolver and dane-trust-anchor. */
struct dane_options check_dane_options(const struct conf *c);

/*
 * Starts the look-up of the item's records, unless one is in flight;
 * done(userdata) runs from the loop once its answer is the item's.
 * Returns 1 when started, 0 when nothing was started (not wanted, or one
 * in flight), or a negative errno with dane_resolver_error() saying why.
 */
int check_dane_start(struct check_item *it, struct dane_resolver *r,
		     void (*done)(void *userdata), void *userdata);

/*
 * Judges the item's served chain and disk chain against its records and
 * pins and folds the judgement into its verdict (reconcile_dane()).
 * Nothing happens without DANE or pins.  Out of memory, the verdict is
 * left as the table made it, and the DANE part says it was not judged.
 */
void check_dane_judge(struct check_item *it, time_t now);
