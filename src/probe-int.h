/*
 * probe-int.h - what the probe engine (probe.c) shares with the state
 * machine of one probe's connection (probe-conn.c) and the bookkeeping of
 * its result (probe-result.c).  Not an API: the public interface is
 * probe.h.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <openssl/ssl.h>
#include <systemd/sd-event.h>

#include "connect-race.h"
#include "probe.h"
#include "probe-tls.h"
#include "starttls.h"
#include "util.h"

struct probe;
struct probe_goodbye;

/* What a connection needs of its engine, the same for every probe. */
struct probe_env {
	sd_event *event;
	SSL_CTX *ctx;
	struct resolver *resolver;
	/*
	 * Called once, when the probe's verdict is known.  Its connection is
	 * released, or still saying goodbye (p->bye is set).
	 */
	void (*ended)(struct probe *p);
	/*
	 * Instead of ended, when certwatch itself had no socket to give
	 * (error: EMFILE, ENFILE, ENOBUFS, ENOMEM): the engine takes the
	 * probe back, to run it again once descriptors are free.
	 */
	void (*starved)(struct probe *p, int error);
	/* Called once the goodbye is over and p->bye is gone; after ended. */
	void (*closed)(struct probe *p);
};

/* The STARTTLS dialogue's buffers, allocated only for probes that use it. */
struct starttls_io {
	struct starttls_session s;
	uint8_t in[2 * STARTTLS_MAX_LINE];
	size_t in_len;
	uint8_t out[2 * STARTTLS_MAX_OUT];
	size_t out_len, out_sent;
	bool ready;                   /* TLS starts once out is sent */
	char last_line[128];          /* escaped, for the timeout message */
};

struct probe {
	/* The engine's: */
	const struct probe_env *env;
	TAILQ_ENTRY(probe) link;      /* on the engine's queued, running or finished list */
	probe_done_t done;
	void *userdata;
	sd_event_source *timer, *defer;
	/* Both's: */
	struct probe_target target;
	enum probe_phase phase;
	struct probe_result result;
	uint64_t start_usec;
	uint64_t first_start_usec;    /* of the first run, when a shortage made it wait */
	/* The connection's, released by probe_conn_release(): */
	uint64_t handshake_start_usec;
	sd_event_source *io;
	struct resolve_req *resolve;
	struct addrinfo *addrs;       /* every address of the host */
	struct connect_race *race;    /* while connecting */
	int fd;
	struct starttls_io *st;
	SSL *ssl;
	struct tls_capture tls;
	/* The goodbye's, once the verdict is known (probe-goodbye.c): */
	struct probe_goodbye *bye;
	bool delivered;               /* the engine has handed the result over */
};

/*
 * probe-conn.c: one probe from resolving its host to the end of its
 * handshake.  begin starts it (the deadline is the engine's); timeout ends
 * it with a message that says what it was waiting for; release lets go of
 * the socket, the TLS session, the addresses and a pending lookup, and may
 * be called at any time, twice too.  Every way a probe ends fills
 * p->result, releases, and calls p->env->ended(p).
 */
void probe_conn_begin(struct probe *p);
void probe_conn_timeout(struct probe *p);
void probe_conn_release(struct probe *p);

/*
 * probe-goodbye.c: the end of a connection whose verdict is known, as a
 * polite client ends it, so that the server logs a client that left, not
 * an error: the protocol's goodbye (say, n bytes: QUIT, a LOGOUT ...),
 * then TLS's close_notify when the handshake is done, then whatever the
 * server still sends is read and dropped until it closes.  Closing at once
 * with unread data would reset the connection, and a server still writing
 * its greeting would fail with EPIPE.
 *
 * begin takes over p's socket and TLS session (p->fd, p->ssl and p->io
 * are left empty) unless there is no connection or no memory, and returns
 * whether it did; nothing is written before the loop runs again, so the
 * verdict goes out first.  It ends by the deadline at the latest, or at
 * most PROBE_GOODBYE_USEC after it began, then frees p->bye and calls
 * p->env->closed(p).  free cuts a goodbye short (NULL is fine).
 */
#define PROBE_GOODBYE_USEC (1 * USEC_PER_SEC)
bool probe_goodbye_begin(struct probe *p, const uint8_t *say, size_t n, uint64_t deadline);
void probe_goodbye_free(struct probe_goodbye *b);

/*
 * probe-result.c: fills r, but its status and timings, from a finished
 * handshake: the leaf's facts, the chain's length, trust, whether sni is
 * covered, the TLS version and cipher.  Returns PROBE_OK, or the status of
 * the failure (PROBE_NO_CERT, PROBE_TLS_FAILED) with its message in detail.
 */
enum probe_status probe_result_from_ssl(struct probe_result *r, SSL *ssl, const char *sni,
					char *detail, size_t len);
