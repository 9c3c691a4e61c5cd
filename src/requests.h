/*
 * requests.h - the daemon's answers to the control requests of control.h:
 * resume a service, and sync (look now, answer once every service named
 * has looked and come to rest: verified, paused, backing off or failed).
 */
#pragma once

#include <stddef.h>

#include "control-server.h"
#include "service.h"

struct requests;

/*
 * The services answered for: borrowed from the setup, valid as long as it
 * is.  flush(userdata) is called before a sync is answered, so that the
 * state file the client reads next says what the services found.
 */
int requests_new(struct service *const *services, size_t n_services,
		 void (*flush)(void *userdata), void *userdata, struct requests **ret);

/* Handles one request line; the answer comes now, or (sync) later. */
void requests_handle(struct requests *rq, struct control_conn *conn, const char *request);

/* A service changed: answers the syncs that are done. */
void requests_check(struct requests *rq);

/* Answers the syncs still waiting with "error: why", and frees; NULL is fine. */
void requests_free(struct requests *rq, const char *why);
