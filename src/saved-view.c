/*
 * saved-view.c - what the state file says of a service and of an
 * endpoint, reduced to something cheap to compare; see saved-view.h.
 */
#include "config.h"

#include <string.h>

#include "saved-view.h"
#include "util.h"

void saved_view_of(const struct policy_state *ps, uint64_t reloads_ok, uint64_t reloads_failed,
		   const char *last_result, const char *held, struct saved_view *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->phase = ps->phase;
	ret->paused = ps->paused;
	ret->last_reload_ok = ps->last_reload_ok;
	ret->failures = ps->failures;
	ret->n_reloads = ps->n_reloads;
	ret->next_attempt = ps->next_attempt;
	ret->last_reload = ps->last_reload;
	ret->last_verified = ps->last_verified;
	ret->reloads_ok = reloads_ok;
	ret->reloads_failed = reloads_failed;
	ret->texts = fnv1a(fnv1a(FNV1A_OFFSET, last_result, strlen(last_result) + 1), held,
			  strlen(held));
}

uint64_t saved_print(const struct check_item *it)
{
	int v[2] = { it->verdict.state, it->verdict.severity };
	uint64_t h = fnv1a(FNV1A_OFFSET, v, sizeof(v));

	h = fnv1a(h, msg_text(it->verdict.reason), strlen(msg_text(it->verdict.reason)));
	if (it->probe.status == PROBE_OK)
		h = fnv1a(h, it->probe.leaf.sha256, sizeof(it->probe.leaf.sha256));
	if (it->disk.have_leaf)
		h = fnv1a(h, it->disk.leaf.sha256, sizeof(it->disk.leaf.sha256));
	return h;
}
