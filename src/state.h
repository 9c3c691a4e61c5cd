/*
 * state.h - what the daemon knows, on disk: per service the persistent
 * part of its policy (failures, pause, back-off, reload history) and per
 * endpoint the last verdict.  Written at most once per turn of the event
 * loop: whole and atomically (temporary file, fsync, rename), or by
 * appending the records that changed (struct state_writer); read at start
 * (so a pause survives a restart) and by `certwatch status` and
 * `certwatch resume`.
 *
 * The file's records are their own types, not the policy's memory: the
 * policy's times are CLOCK_BOOTTIME, which means nothing after a reboot,
 * so the file carries the boot they belong to and the wall-clock time of
 * writing, and state_service_to_policy() carries them into a new boot
 * without letting a step of the wall clock freeze or skip them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "policy.h"

#define STATE_FILE_NAME "state"
#define STATE_BOOT_ID_LEN 33      /* 32 hex digits and a NUL */

/* The clocks at one moment: what the policy's times are relative to. */
struct state_clock {
	char boot_id[STATE_BOOT_ID_LEN];   /* "" when unknown */
	uint64_t boottime;                 /* now_boot_usec() */
	uint64_t realtime;                 /* CLOCK_REALTIME usec */
};

struct state_service {
	char *name;
	char phase[16];               /* as people see it (policy_display_phase()) */
	unsigned failures;            /* in a row */
	bool paused;
	uint64_t next_attempt;        /* now_boot_usec() of the writing boot; 0: none */
	uint64_t reloads[POLICY_MAX_RELOADS_PER_HOUR];  /* the same clock, oldest first */
	unsigned n_reloads;
	uint64_t last_reload;         /* CLOCK_REALTIME usec, for people; 0: never */
	bool last_reload_ok;
	uint64_t last_verified;       /* CLOCK_REALTIME usec, for people; 0: never */
	char last_result[256];        /* the last reload's outcome, for status */
	char held[256];               /* why a reload wanted is held back, "" when none */
	uint64_t reloads_ok, reloads_failed;  /* counters for metrics, kept across restarts */
	unsigned line;                /* read: the line it came from; 0 in memory */
};

struct state_endpoint {
	char *service, *endpoint;
	char served[65], disk[65];    /* SHA-256 hex, "" when unknown */
	char state[24], severity[12];
	int64_t served_not_after;     /* 0 when unknown */
	/* Loaded: allocated, as the names are; a snapshot's borrows the verdict's.  NULL: none. */
	char *reason;
	unsigned line;                /* read: the line it came from; 0 in memory */
};

struct state {
	pid_t pid;                    /* the daemon that wrote it */
	int64_t written;              /* CLOCK_REALTIME seconds */
	struct state_clock clock;     /* when it was written */
	struct state_service *services;
	size_t n_services;
	struct state_endpoint *endpoints;
	size_t n_endpoints;
};

/* Reads the clocks and this boot's id (/proc/sys/kernel/random/boot_id). */
void state_clock_now(struct state_clock *ret);

/*
 * The state directory of the daemon that guards only_service (a
 * certwatch@NAME instance: base/NAME, matching StateDirectory=certwatch/%i),
 * or of the one that guards every service (base).  -ENAMETOOLONG if it
 * does not fit, -EINVAL if only_service cannot be a directory name (empty,
 * ".", "..", or holding a '/').
 */
int state_dir_for(const char *base, const char *only_service, char *out, size_t outlen);

/*
 * Whether dir, the state directory, and the state file in it (when there
 * is one) may be trusted: reached through directories nobody else may
 * change, owned by root or the caller, writable by nobody else, the file a
 * regular file.  Returns 0, or a negative errno with a message in err
 * naming the path, what is wrong and the command that fixes it.
 */
int state_dir_check(const char *dir, char *err, size_t errlen);

/* The same rule for the state file at path, known by st (state_load()'s, once open). */
struct stat;
int state_file_check(const char *path, const struct stat *st, char *err, size_t errlen);

/* Writes dir/state atomically.  Returns 0 or a negative errno. */
int state_save(const char *dir, const struct state *s);

/*
 * The daemon's writer of dir/state, which keeps the cost of a change in
 * proportion to the change: the file of 10,000 endpoints is 3 MB, and a
 * renewal changes two or three of its records.  The first save writes
 * the file whole (state_save()); a later one appends to it only the
 * records that differ from what the file holds (and the header, with the
 * time of writing), fdatasync()ed, since the reader takes the last record
 * of each name and ignores a last line without its newline (an append
 * cut short).  The file is written whole again by the save that would
 * make the appended part as large as the whole (the pass that changed
 * many records, not the small change after it), when the records are not
 * the same names in the same order as those last written whole, when the
 * file is not the one this writer wrote (replaced by `certwatch resume`,
 * removed, grown or rewritten in place by another writer: its inode, size
 * or times differ), and after an append failed.
 */
struct state_writer;

/* Returns NULL without memory.  dir is copied. */
struct state_writer *state_writer_new(const char *dir);

/* Saves s as described above.  Returns 0 or a negative errno, as state_save(). */
int state_writer_save(struct state_writer *w, const struct state *s);

/*
 * The same for a caller that knows what changed: of s's records (its
 * services' first, then its endpoints', from 0) only those numbered in
 * some[0..n_some) may differ from the ones of the last save, whose names
 * and order s keeps; only theirs are summed, so that the cost follows the
 * change and not the host.  Without a last save of the same numbers of
 * records, as state_writer_save().
 */
int state_writer_save_some(struct state_writer *w, const struct state *s, const size_t *some,
			   size_t n_some);

/* How many saves appended, and how many wrote the file whole. */
void state_writer_counts(const struct state_writer *w, unsigned long *appends,
			 unsigned long *wholes);

/* NULL is fine. */
void state_writer_free(struct state_writer *w);

/* Writes the state file's text to f (state_save's content; for tests and fuzzing). */
void state_write(FILE *f, const struct state *s);

/* Parts of that text, for the writer of appends: the header lines, one record. */
void state_write_header(FILE *f, const struct state *s);
void state_write_service(FILE *f, const struct state_service *rec);
void state_write_endpoint(FILE *f, const struct state_endpoint *rec);

/*
 * A digest of what the file says of a record (FNV-1a over every field it
 * is written with, the name included; not the line it was read from).
 */
uint64_t state_service_sum(const struct state_service *rec);
uint64_t state_endpoint_sum(const struct state_endpoint *rec);

/*
 * Reads dir/state: of two records of one name the later counts, and the
 * bytes after the last newline (an append under way, or what a crash left
 * of one: a record cut anywhere, zeros) are left out.  Returns 0, -ENOENT when there is none yet, -ENXIO when
 * it is not a regular file, -EPERM (with the message in err) when others
 * could have written it (state_file_check()), -EBADMSG (with a line number
 * in err) when it is damaged, or another negative errno.
 */
int state_load(const char *dir, struct state *ret, char *err, size_t errlen);

/* Parses the state file's text from f; as state_load(), with path for messages. */
int state_read(FILE *f, const char *path, struct state *ret, char *err, size_t errlen);

/*
 * Sorts the records by name, so that the finders below take O(log n);
 * state_read() does it, a state built in memory needs it once.
 */
void state_index(struct state *s);

/* The record of a service, or of an endpoint, in an indexed state; NULL if none. */
struct state_service *state_find_service(const struct state *s, const char *name);
struct state_endpoint *state_find_endpoint(const struct state *s, const char *service,
					   const char *endpoint);

/*
 * The policy's persisted part into a record (times as of now), and back:
 * within the same boot the CLOCK_BOOTTIME values are taken as they are;
 * after a reboot they are carried over through the wall clock, with the
 * time since writing never negative, a back-off never longer than
 * POLICY_BACKOFF_MAX_USEC and reloads older than an hour dropped.
 */
void state_service_from_policy(struct state_service *r, const struct policy_state *ps,
			       const struct state_clock *now);
void state_service_to_policy(const struct state_service *r, const struct state_clock *written,
			     const struct state_clock *now, struct policy_state *ret);

void state_done(struct state *s);
