/*
 * probe.h - the probe engine: what does an endpoint serve?
 *
 * Many probes run at once on one sd-event loop, at most max_in_flight
 * connections at a time (fewer when certwatch's descriptors are short);
 * the rest wait in order.  A probe resolves the
 * host without blocking the loop, connects (trying each address in turn),
 * runs the STARTTLS dialogue when asked, and does a TLS 1.2/1.3 handshake
 * with SNI, then leaves as a polite client does, after the verdict is
 * given.  One deadline covers every phase.  The served chain is kept
 * even when verification fails; trust is reported beside it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "key-type.h"
#include "msg.h"
#include "x509.h"

enum probe_status {
	PROBE_OK,
	PROBE_RESOLVE_FAILED,
	PROBE_CONNECT_REFUSED,
	PROBE_CONNECT_FAILED,     /* unreachable, reset, or other socket error */
	PROBE_TIMEOUT,            /* the deadline passed; phase says where */
	PROBE_STARTTLS_REFUSED,   /* the server does not offer or refused STARTTLS */
	PROBE_PROTOCOL_ERROR,     /* the STARTTLS dialogue went wrong, or a bound was hit */
	PROBE_TLS_ALERT,          /* the server sent a TLS alert */
	PROBE_TLS_FAILED,         /* the handshake failed otherwise (garbage, closed) */
	PROBE_NO_CERT,            /* the handshake finished without a certificate */
	_PROBE_STATUS_MAX,
};

enum probe_phase {
	PROBE_PHASE_QUEUED,
	PROBE_PHASE_RESOLVE,
	PROBE_PHASE_CONNECT,
	PROBE_PHASE_STARTTLS,
	PROBE_PHASE_HANDSHAKE,
	PROBE_PHASE_DONE,
	_PROBE_PHASE_MAX,
};

struct probe_target {
	const char *host;           /* name or numeric address */
	uint16_t port;
	int starttls;               /* index into starttls_drivers[], or -1 */
	const char *sni;            /* NULL: no SNI (and the host is XMPP's stream "to") */
	const char *helo_name;      /* this client's name in EHLO and LHLO; NULL: sni or host */
	uint64_t timeout_usec;      /* the deadline for every phase together */
	/*
	 * Of a server with one certificate per key type, the one to ask for:
	 * only that type's signature algorithms (and, in TLS 1.2, cipher
	 * suites) are offered, so the server must present it.
	 */
	enum key_type key_type;
	/*
	 * A server that refuses the handshake for want of a certificate of
	 * key_type (a renewal that changed the type, before the reload) is
	 * asked again for any: what it serves is still to be known.
	 */
	bool any_if_refused;
};

/* The bounds of a result's messages (msg.h), the NUL included. */
#define PROBE_DETAIL_MAX       512
#define PROBE_VERIFY_ERROR_MAX 128

struct probe_result {
	enum probe_status status;
	enum probe_phase phase;     /* where it ended (the failing phase on error) */
	char *detail;               /* human message (msg.h), NULL if none; peer data escaped */
	char peer[64];              /* the address connected to, "ip:port" or "[ip6]:port" */
	enum key_type key_type;     /* what the handshake asked for */
	/* On PROBE_OK: */
	struct cert_info leaf;
	struct cert_chain chain;    /* the leaf and what the server sent after it */
	size_t chain_len;           /* certificates the server sent after the leaf */
	bool verified;              /* chain verified against the system trust store */
	int verify_code;            /* X509_V_OK, or OpenSSL's X509_V_ERR_* */
	char *verify_error;         /* why not, when !verified (msg.h) */
	bool name_covered;          /* the leaf covers sni (true when no sni) */
	bool thinned;               /* its names and chain were let go of after judging
				     * (check_item_keep_verdict_facts()); never so fresh */
	char tls_version[16];       /* "TLSv1.3" */
	char cipher[64];
	uint64_t connect_usec;      /* from start to TCP established */
	uint64_t handshake_usec;    /* the TLS handshake alone */
	uint64_t total_usec;
};

struct probe_engine;

/*
 * The callee owns r's allocations: it copies *r by value into its own
 * storage (and later calls probe_result_done() on the copy), or calls
 * probe_result_done(r).  The engine never touches them afterwards.
 */
typedef void (*probe_done_t)(const struct probe_target *t, struct probe_result *r,
			     void *userdata);

/* The engine takes its own reference to event. */
int probe_engine_new(sd_event *event, unsigned max_in_flight, struct probe_engine **ret);

/* Whether probe_start() takes t: a host, and no STARTTLS or a driver of starttls.h. */
bool probe_target_valid(const struct probe_target *t);

/*
 * Queues a probe.  The target's strings must live until done is called.
 * done is called exactly once, from the event loop, never from inside
 * probe_start().
 */
int probe_start(struct probe_engine *e, const struct probe_target *t,
		probe_done_t done, void *userdata);

/*
 * Told, once, why fewer probes run at once than max_in_flight: at once
 * when the descriptors left allowed fewer from the start (fdlimit.h), or
 * when certwatch later runs out of them.  For people.
 */
typedef void (*probe_notice_t)(const char *message, void *userdata);
void probe_engine_on_notice(struct probe_engine *e, probe_notice_t notice, void *userdata);

/* Probes queued, running, or awaiting their done callback. */
unsigned probe_engine_pending(const struct probe_engine *e);

/*
 * Connections of delivered probes still being ended politely (the
 * protocol's goodbye, close_notify, the server's close), each for a
 * second at most.  A one-shot caller runs its loop until this is 0 too,
 * or probe_engine_free() cuts them short.
 */
unsigned probe_engine_closing(const struct probe_engine *e);

/* Cancels every probe (done is not called) and frees the engine; NULL is fine. */
void probe_engine_free(struct probe_engine *e);

void probe_result_done(struct probe_result *r);

const char *probe_status_to_string(enum probe_status s);
const char *probe_phase_to_string(enum probe_phase p);
