/*
 * saved-view.h - whether a step of a service changed what the state file
 * says of it or of its endpoints, so that a step that changed nothing
 * writes nothing: the file holds every endpoint, and a verification's
 * passes over one endpoint of 10,000 must not rewrite the records of all.
 */
#pragma once

#include <stdint.h>

#include "check.h"
#include "policy.h"

/* A service's record besides its name, as compared before and after a step. */
struct saved_view {
	enum policy_phase phase;
	bool paused, last_reload_ok;
	unsigned failures, n_reloads;
	uint64_t next_attempt, last_reload, last_verified, reloads_ok, reloads_failed;
	uint64_t texts;               /* digest of the last result and why a reload is held */
};

/* The view of a service (compare two with memcmp: the padding is zeroed). */
void saved_view_of(const struct policy_state *ps, uint64_t reloads_ok, uint64_t reloads_failed,
		   const char *last_result, const char *held, struct saved_view *ret);

/* A digest of an endpoint's record: its verdict, reason, served and disk leaves. */
uint64_t saved_print(const struct check_item *it);
