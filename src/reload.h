/*
 * reload.h - the ways to make a service load its new certificate, behind
 * one table indexed by the configuration's enum reload_method: a systemd
 * unit reloaded or restarted over D-Bus (waiting for the job), a command
 * run with its argument vector, a signal to the process in a pid file,
 * HAProxy's runtime API, slapd's cn=config over ldapi; or nothing, for a
 * server that loads a renewal by itself.  The command runner also runs a
 * service's configuration test (reload-check).
 *
 * Every method has a timeout and ends in exactly one call of done, from
 * the event loop, never from inside the start function.  start functions
 * return a negative errno only when they cannot arrange for done to be
 * called (bad arguments, no memory, the loop refuses a source); a command
 * that cannot be started, a bus that cannot be written to, a missing pid
 * file all end in done with their status.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "conf.h"

#define RELOAD_MAX_OUTPUT 2048   /* bytes of a command's output kept */

enum reload_status {
	RELOAD_OK,
	RELOAD_EXIT_FAILURE,   /* the command exited non-zero or was killed by a signal */
	RELOAD_TIMEOUT,        /* the command or the job did not finish in time */
	RELOAD_SPAWN_FAILED,   /* the command could not be started */
	RELOAD_BUS_ERROR,      /* D-Bus connection or call failed */
	RELOAD_JOB_FAILED,     /* systemd's job ended with a result other than "done" */
	RELOAD_NO_PROCESS,     /* pid file missing, malformed, or its process is gone */
	_RELOAD_STATUS_MAX,
};

struct reload_result {
	enum reload_status status;
	char detail[512];             /* human message: what failed and how */
	char output[RELOAD_MAX_OUTPUT + 1];  /* a command's stdout and stderr, escaped, cut */
	char raw[RELOAD_MAX_OUTPUT];  /* the same as they came, for a method that reads them */
	size_t raw_len;
	int exit_status;              /* a command's exit status, or 128 + signal */
	uint64_t usec;                /* how long it took */
};

struct reload_op;

typedef void (*reload_done_t)(const struct reload_result *r, void *userdata);

/* What the methods share for a daemon's lifetime. */
struct reload_env {
	sd_event *event;
	sd_bus *bus;      /* the unit method's own: opened at first use, reopened once closed */
};

struct reload_method_ops {
	const char *name;   /* for people: "systemd unit", "command", "signal" */
	int (*start)(struct reload_env *env, const struct conf_service *cs, reload_done_t done,
		     void *userdata, struct reload_op **ret);
};

/* Indexed by enum reload_method; RELOAD_METHOD_NONE's row has no start. */
extern const struct reload_method_ops reload_method_table[_RELOAD_METHOD_MAX];

/* Starts the reload method of cs (-ENOTSUP when it has none). */
int reload_start(struct reload_env *env, const struct conf_service *cs, reload_done_t done,
		 void *userdata, struct reload_op **ret);

/* Closes what the methods opened (the bus); the operations must be over. */
void reload_env_done(struct reload_env *env);

/*
 * Runs argv[0] (an absolute path) without a shell, with an empty
 * environment but PATH=/usr/sbin:/usr/bin:/sbin:/bin, stdin from /dev/null,
 * stdout and stderr captured together (at most RELOAD_MAX_OUTPUT bytes
 * kept), every other descriptor closed, in its own session and process
 * group, and in a cgroup of its own where one can be made.  Done comes at
 * its exit, naming what it left running (which lives on); after
 * timeout_usec every process it started gets SIGTERM, and SIGKILL a few
 * seconds later.  SIGCHLD must be blocked in the calling thread (sd-event's
 * child sources).
 */
int reload_command_start(sd_event *event, char *const argv[], uint64_t timeout_usec,
			 reload_done_t done, void *userdata, struct reload_op **ret);

/* The same with stdin from input_fd (read from where it stands), which the caller keeps. */
int reload_command_start_input(sd_event *event, char *const argv[], int input_fd,
			       uint64_t timeout_usec, reload_done_t done, void *userdata,
			       struct reload_op **ret);

/*
 * Calls org.freedesktop.systemd1.Manager.ReloadUnit(unit, "replace") on bus
 * and waits for the job's JobRemoved signal; RELOAD_OK when its result is
 * "done".
 */
int reload_unit_start(sd_event *event, sd_bus *bus, const char *unit, uint64_t timeout_usec,
		      reload_done_t done, void *userdata, struct reload_op **ret);

/* The same with RestartUnit: for servers that read their certificate only when they start. */
int reload_restart_start(sd_event *event, sd_bus *bus, const char *unit, uint64_t timeout_usec,
			 reload_done_t done, void *userdata, struct reload_op **ret);

/*
 * Reads the pid file now (not earlier: daemons change pid on restart),
 * checks it and its process as pidfile.h says, and sends sig to that
 * process.  Done is called from the loop as for the others.
 */
struct pidfile_expect;
int reload_signal_start(sd_event *event, const struct pidfile_expect *x, int sig,
			reload_done_t done, void *userdata, struct reload_op **ret);

/* The table's start functions, one per method file. */
int reload_command_method_start(struct reload_env *env, const struct conf_service *cs,
				reload_done_t done, void *userdata, struct reload_op **ret);
int reload_unit_method_start(struct reload_env *env, const struct conf_service *cs,
			     reload_done_t done, void *userdata, struct reload_op **ret);
int reload_signal_method_start(struct reload_env *env, const struct conf_service *cs,
			       reload_done_t done, void *userdata, struct reload_op **ret);
int reload_restart_method_start(struct reload_env *env, const struct conf_service *cs,
				reload_done_t done, void *userdata, struct reload_op **ret);
int reload_haproxy_method_start(struct reload_env *env, const struct conf_service *cs,
				reload_done_t done, void *userdata, struct reload_op **ret);
int reload_slapd_method_start(struct reload_env *env, const struct conf_service *cs,
			      reload_done_t done, void *userdata, struct reload_op **ret);

/*
 * Whether commands run in a cgroup of their own here, so that whatever
 * they start is found and killed at a timeout; when not, why, in why.
 */
bool reload_commands_confined(char *why, size_t len);

/* Cancels an operation: done is not called; a command is killed. NULL is fine. */
void reload_op_cancel(struct reload_op *op);

const char *reload_status_to_string(enum reload_status s);
