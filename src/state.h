/*
 * state.h - what the daemon knows, on disk: per service the persistent
 * part of its policy (failures, pause, back-off, reload history) and per
 * endpoint the last verdict.  Written atomically (temporary file, fsync,
 * rename) after every change; read at start (so a pause survives a
 * restart) and by `certwatch status` and `certwatch resume`.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "policy.h"

#define STATE_FILE_NAME "state"

struct state_service {
	char *name;
	struct policy_state policy;   /* phase is informational when read back */
	char last_result[256];        /* the last reload's outcome, for status */
	uint64_t reloads_ok, reloads_failed;  /* counters for metrics, kept across restarts */
};

struct state_endpoint {
	char *service, *endpoint;
	char served[65], disk[65];    /* SHA-256 hex, "" when unknown */
	char state[24], severity[12];
	int64_t served_not_after;     /* 0 when unknown */
	char reason[512];
};

struct state {
	pid_t pid;                    /* the daemon that wrote it */
	int64_t written;              /* CLOCK_REALTIME seconds */
	struct state_service *services;
	size_t n_services;
	struct state_endpoint *endpoints;
	size_t n_endpoints;
};

/*
 * The state directory of the daemon that guards only_service (a
 * certwatch@NAME instance: base/NAME, matching StateDirectory=certwatch/%i),
 * or of the one that guards every service (base).  -ENAMETOOLONG if it
 * does not fit.
 */
int state_dir_for(const char *base, const char *only_service, char *out, size_t outlen);

/* Writes dir/state atomically.  Returns 0 or a negative errno. */
int state_save(const char *dir, const struct state *s);

/*
 * Reads dir/state.  Returns 0, -ENOENT when there is none yet, -EBADMSG
 * (with a line number in err) when it is damaged, or another negative errno.
 */
int state_load(const char *dir, struct state *ret, char *err, size_t errlen);

struct state_service *state_find_service(struct state *s, const char *name);

void state_done(struct state *s);
