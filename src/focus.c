/*
 * focus.c - which endpoints a service's passes look at; see focus.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "focus.h"

int focus_init(struct focus *f, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->changed = calloc(n ? n : 1, sizeof(*f->changed));
	f->in = calloc(n ? n : 1, sizeof(*f->in));
	f->list = calloc(n ? n : 1, sizeof(*f->list));
	if (!f->changed || !f->in || !f->list) {
		focus_done(f);
		return -ENOMEM;
	}
	f->n = n;
	return 0;
}

void focus_done(struct focus *f)
{
	free(f->changed);
	free(f->in);
	free(f->list);
	memset(f, 0, sizeof(*f));
}

void focus_changed(struct focus *f, size_t i)
{
	if (i < f->n && !f->changed[i]) {
		f->changed[i] = true;
		f->n_changed++;
	}
}

void focus_choose(struct focus *f, bool verifying)
{
	bool all = f->full || (f->n_changed == 0 && !f->round_open);

	if (verifying && !f->full)
		return;         /* the verification looks at what the reload was for */
	f->n_in = 0;
	for (size_t i = 0; i < f->n; i++) {
		f->in[i] = all || f->changed[i] || (f->round_open && f->in[i]);
		f->changed[i] = false;
		if (f->in[i])
			f->list[f->n_in++] = i;
	}
	f->unseen_known = false;
	f->n_changed = 0;
	f->full = false;
	f->round_open = true;
}

void focus_step(struct focus *f, enum policy_event ev, const struct policy_out *o)
{
	if (o->action == DO_PROBE && (ev == EVENT_TICK || ev == EVENT_RESUME ||
				      (ev == EVENT_SYNC && f->n_changed == 0))) {
		f->full = true;
		f->after_check = f->after_due && ev == EVENT_TICK;
		f->after_due = false;
	} else if (ev == EVENT_PROBED)
		f->after_check = false;
	if (o->outcome == OUTCOME_RELOAD_SUCCEEDED && f->n_in < f->n)
		f->after_due = true;
}

bool focus_settled(struct focus *f, enum policy_phase phase, bool pass_running)
{
	if (phase != PHASE_IDLE)
		return false;
	f->round_open = false;
	return f->after_due && !pass_running;
}

void focus_fold_unseen(struct policy_facts *f, const struct verdict *v, bool renewed)
{
	if (v->vetoes_reload && !f->vetoed) {
		f->vetoed = true;
		f->veto_index = f->n_added;
	}
	f->n_added++;
	if (renewed && verdict_loads_renewal(v))
		f->renewal_unloaded = true;
}

void focus_forget_unseen(struct focus *f)
{
	f->unseen_known = false;
}

void focus_merge_unseen(struct policy_facts *facts, const struct focus *f)
{
	if (f->unseen.vetoed && (!facts->vetoed || f->unseen.veto_index < facts->veto_index)) {
		facts->vetoed = true;
		facts->veto_index = f->unseen.veto_index;
	}
	facts->renewal_unloaded |= f->unseen.renewal_unloaded;
	facts->n_added = f->n;
}

bool focus_rechecking(const struct focus *f, enum policy_phase phase)
{
	return f->after_check && phase == PHASE_PROBING;
}
