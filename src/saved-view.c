/*
 * saved-view.c - what the state file says of a service and of an
 * endpoint, reduced to something cheap to compare; see saved-view.h.
 */
#include "config.h"

#include <string.h>

#include "saved-view.h"

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME  UINT64_C(0x100000001b3)

static uint64_t fold(uint64_t h, const void *p, size_t n)
{
	for (const unsigned char *b = p; n > 0; n--, b++)
		h = (h ^ *b) * FNV_PRIME;
	return h;
}

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
	ret->texts = fold(fold(FNV_OFFSET, last_result, strlen(last_result) + 1), held,
			  strlen(held));
}

uint64_t saved_print(const struct check_item *it)
{
	int v[2] = { it->verdict.state, it->verdict.severity };
	uint64_t h = fold(FNV_OFFSET, v, sizeof(v));

	h = fold(h, msg_text(it->verdict.reason), strlen(msg_text(it->verdict.reason)));
	if (it->probe.status == PROBE_OK)
		h = fold(h, it->probe.leaf.sha256, sizeof(it->probe.leaf.sha256));
	if (it->disk.have_leaf)
		h = fold(h, it->disk.leaf.sha256, sizeof(it->disk.leaf.sha256));
	return h;
}
