/*
 * resolve.h - name resolution that does not block an sd-event loop.
 *
 * A request resolves a host and a numeric service to SOCK_STREAM addresses
 * with getaddrinfo_a().  Its answer is delivered by done, from the loop,
 * never from inside resolve_start().  Everything here runs on the loop's
 * thread.
 */
#pragma once

#include <netdb.h>

#include <systemd/sd-event.h>

struct resolver;
struct resolve_req;

/*
 * gai_error is 0 and addrs the addresses (the callee owns them and calls
 * freeaddrinfo()), or gai_error is the EAI_* code and addrs NULL.  The
 * request is gone by the time done runs.  done must not free the resolver.
 */
typedef void (*resolve_done_t)(struct addrinfo *addrs, int gai_error, void *userdata);

/* The resolver reports through a source of its own on event. */
int resolver_new(sd_event *event, struct resolver **ret);

/*
 * Starts resolving host (any name) and service (a port number).  Returns 0
 * and sets *ret, or the EAI_* code getaddrinfo_a() failed with (glibc out of
 * memory); done is then never called.  host and service are copied.
 */
int resolve_start(struct resolver *r, const char *host, const char *service,
		  resolve_done_t done, void *userdata, struct resolve_req **ret);

/* done will not be called; q is gone.  Only before done, and before resolver_free(). */
void resolve_cancel(struct resolve_req *q);

/*
 * Frees the resolver; requests not yet cancelled are dropped without their
 * done.  NULL is fine.
 */
void resolver_free(struct resolver *r);
