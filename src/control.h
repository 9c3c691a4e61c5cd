/*
 * control.h - the control protocol between `certwatch status|resume` and
 * the running daemon, and its client side.
 *
 * The daemon listens on the stream socket CONTROL_SOCKET_NAME in its state
 * directory (mode 0600: root only).  A client connects, sends one request
 * line of at most CONTROL_MAX_LINE bytes, and reads one answer line; the
 * daemon closes the connection after answering.
 *
 *   request             answer
 *   resume SERVICE      "ok: SERVICE resumed" | "ok: SERVICE was not paused; reconciling"
 *                       | "error: no service "SERVICE" is guarded"
 *   sync [SERVICE...]   "ok: synced", once every service named (all when none) has
 *                       looked at its files after the request and come to rest;
 *                       "error: ..." (an unknown service, a configuration re-read)
 *   anything else       "error: unknown request"
 *
 * The state file (state.h) says, after a sync, what each service found.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define CONTROL_SOCKET_NAME  "control"
#define CONTROL_MAX_LINE     4096
#define CONTROL_REQ_RESUME   "resume"
#define CONTROL_REQ_SYNC     "sync"
#define CONTROL_ANSWER_OK    "ok: "
#define CONTROL_ANSWER_ERROR "error: "

/* dir/CONTROL_SOCKET_NAME; -ENAMETOOLONG when it does not fit a socket address. */
int control_socket_path(const char *dir, char *out, size_t outlen);

/*
 * A connection to the daemon listening in dir, into *ret_fd.  Returns 0, or
 * -ENOENT / -ECONNREFUSED when no daemon listens, or another negative errno.
 */
int control_connect(const char *dir, int *ret_fd);

/*
 * Sends request to the daemon whose state directory is dir and reads its
 * answer (without the newline) into reply, waiting at most timeout_ms.
 * Returns 0, or -ENOENT / -ECONNREFUSED when no daemon listens, -ETIMEDOUT,
 * or another negative errno.
 */
int control_request(const char *dir, const char *request, int timeout_ms, char *reply,
		    size_t replylen);

/*
 * Whether what is in dir, a state directory, may be believed
 * (state_dir_check()): someone else who could write there could forge the
 * state file or the control socket.  Returns 0 (also when dir is missing:
 * then nothing runs there), or a negative errno after saying why on stderr.
 */
int control_trust_dir(const char *dir);

/*
 * The plugin exit status a state file says for service (NULL: all): the
 * worst endpoint severity as severity_worse() ranks them (an endpoint not
 * checked yet is UNKNOWN, which a WARNING or CRITICAL outranks), CRITICAL
 * when the service is paused.
 */
struct state;
int control_worst(const struct state *st, const char *service);

/*
 * Asks the daemons guarding the services named (every configured service
 * when n == 0) to look now, waits at most wait_usec until each has looked
 * and come to rest (verified, paused, backing off or failed), then prints
 * what each endpoint is and returns a plugin exit status: the worst
 * severity, UNKNOWN when no daemon runs or one did not answer in time.
 */
int control_sync(const struct conf *c, char *const *services, size_t n, uint64_t wait_usec);

/*
 * Prints the state of the daemon guarding every service (service NULL) or
 * of the certwatch@service instance; when the former does not run, names
 * the instances that do.  Returns a plugin exit status: the
 * worst endpoint severity, CRITICAL when a service is paused, UNKNOWN when
 * the daemon is not running or has no state.
 */
int control_status(const struct conf *c, const char *service, bool json);

/*
 * Lifts the pause of service: through the running daemon's control socket,
 * or in its state file when it does not run.  Returns 0 or 1.
 */
int control_resume(const struct conf *c, const char *service);
