/*
 * probe.c - the non-blocking probe engine; see probe.h for the contract.
 *
 * A probe is a state machine on one sd-event loop: queued -> resolve ->
 * connect -> starttls -> handshake -> done.  One timer is the deadline for
 * every phase.  Every way out goes through probe_fail() or
 * handshake_succeeded() and then probe_finish(), which releases the socket
 * and the sources at once and delivers the result from a defer source of
 * its own, so done never runs inside probe_start() and may start probes or
 * free the engine.
 *
 * Numeric hosts are parsed at once; names go to resolve.c, whose request
 * a probe cancels when it ends first.  OpenSSL's side (the context, a
 * client's set-up, what a failed handshake means) is in probe-tls.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "probe.h"
#include "probe-tls.h"
#include "resolve.h"
#include "starttls.h"
#include "util.h"

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
	struct probe_engine *engine;
	TAILQ_ENTRY(probe) link;      /* on the engine's queued, running or finished list */
	struct probe_target target;
	probe_done_t done;
	void *userdata;
	enum probe_phase phase;
	struct probe_result result;
	uint64_t start_usec, handshake_start_usec;
	sd_event_source *timer, *defer, *io;
	struct resolve_req *resolve;
	struct addrinfo *addrs, *addr;  /* every address, the one being tried */
	int fd;
	int last_errno;
	struct starttls_io *st;
	SSL *ssl;
	struct tls_capture tls;
};

TAILQ_HEAD(probe_list, probe);

struct probe_engine {
	sd_event *event;
	SSL_CTX *ctx;
	unsigned max_in_flight, n_running, n_probes;
	bool dispatching;
	struct probe_list queued, running, finished;
	struct resolver *resolver;
};

static const char *const status_names[_PROBE_STATUS_MAX] = {
	[PROBE_OK]               = "ok",
	[PROBE_RESOLVE_FAILED]   = "resolve-failed",
	[PROBE_CONNECT_REFUSED]  = "connection-refused",
	[PROBE_CONNECT_FAILED]   = "connect-failed",
	[PROBE_TIMEOUT]          = "timeout",
	[PROBE_STARTTLS_REFUSED] = "starttls-refused",
	[PROBE_PROTOCOL_ERROR]   = "protocol-error",
	[PROBE_TLS_ALERT]        = "tls-alert",
	[PROBE_TLS_FAILED]       = "tls-failed",
	[PROBE_NO_CERT]          = "no-certificate",
};

static const char *const phase_names[_PROBE_PHASE_MAX] = {
	[PROBE_PHASE_QUEUED]    = "queued",
	[PROBE_PHASE_RESOLVE]   = "resolve",
	[PROBE_PHASE_CONNECT]   = "connect",
	[PROBE_PHASE_STARTTLS]  = "starttls",
	[PROBE_PHASE_HANDSHAKE] = "handshake",
	[PROBE_PHASE_DONE]      = "done",
};

const char *probe_status_to_string(enum probe_status s)
{
	return (unsigned)s < _PROBE_STATUS_MAX ? status_names[s] : "?";
}

const char *probe_phase_to_string(enum probe_phase p)
{
	return (unsigned)p < _PROBE_PHASE_MAX ? phase_names[p] : "?";
}

void probe_result_done(struct probe_result *r)
{
	if (!r)
		return;
	cert_info_done(&r->leaf);
	memset(&r->leaf, 0, sizeof(r->leaf));
}

static void engine_dispatch(struct probe_engine *e);
static void connect_try(struct probe *p);
static void starttls_begin(struct probe *p);
static void handshake_begin(struct probe *p);
static void handshake_step(struct probe *p);

/* ---- the end of a probe ------------------------------------------------ */

/* Releases what the running phases hold; the one cleanup path. */
static void probe_release(struct probe *p)
{
	resolve_cancel(p->resolve);
	p->resolve = NULL;
	p->io = sd_event_source_disable_unref(p->io);
	SSL_free(p->ssl);
	p->ssl = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->st);
	p->st = NULL;
	if (p->addrs)
		freeaddrinfo(p->addrs);
	p->addrs = p->addr = NULL;
	if (p->timer)
		sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
}

static void probe_free(struct probe *p)
{
	probe_release(p);
	sd_event_source_disable_unref(p->timer);
	sd_event_source_disable_unref(p->defer);
	free(p);
}

static void probe_finish(struct probe *p)
{
	struct probe_engine *e = p->engine;

	probe_release(p);
	p->result.total_usec = now_monotonic_usec() - p->start_usec;
	TAILQ_REMOVE(&e->running, p, link);
	TAILQ_INSERT_TAIL(&e->finished, p, link);
	e->n_running--;
	sd_event_source_set_enabled(p->defer, SD_EVENT_ONESHOT);
	engine_dispatch(e);
}

__attribute__((format(printf, 3, 4)))
static void probe_fail(struct probe *p, enum probe_status status, const char *fmt, ...)
{
	va_list ap;

	p->result.status = status;
	p->result.phase = p->phase;
	va_start(ap, fmt);
	vsnprintf(p->result.detail, sizeof(p->result.detail), fmt, ap);
	va_end(ap);
	probe_finish(p);
}

/* Runs in a loop iteration of its own, and lets go of p before done runs. */
static int on_deliver(sd_event_source *s, void *userdata)
{
	struct probe *p = userdata;
	struct probe_engine *e = p->engine;
	struct probe_target t = p->target;
	struct probe_result r = p->result;
	probe_done_t done = p->done;
	void *ud = p->userdata;

	(void)s;
	TAILQ_REMOVE(&e->finished, p, link);
	e->n_probes--;
	probe_free(p);
	done(&t, &r, ud);
	return 0;
}

static const char *describe_wait(struct probe *p, char *buf, size_t len)
{
	const char *proto;

	switch (p->phase) {
	case PROBE_PHASE_RESOLVE:
		snprintf(buf, len, "while resolving %s", p->target.host);
		break;
	case PROBE_PHASE_CONNECT:
		snprintf(buf, len, "while connecting to %s", p->result.peer);
		break;
	case PROBE_PHASE_STARTTLS:
		proto = starttls_drivers[p->target.starttls].name;
		if (p->st && p->st->last_line[0])
			snprintf(buf, len, "while waiting for the STARTTLS dialogue (%s); "
				 "last server line: \"%s\"", proto, p->st->last_line);
		else
			snprintf(buf, len, "while waiting for the STARTTLS dialogue (%s); "
				 "the server sent nothing", proto);
		break;
	default:
		snprintf(buf, len, "during the TLS handshake with %s", p->result.peer);
		break;
	}
	return buf;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct probe *p = userdata;
	char dur[32], what[320];

	(void)s;
	(void)usec;
	format_duration(p->target.timeout_usec, dur, sizeof(dur));
	probe_fail(p, PROBE_TIMEOUT, "no answer within %s %s", dur,
		   describe_wait(p, what, sizeof(what)));
	return 0;
}

/* ---- resolve ----------------------------------------------------------- */

static void on_resolved(struct addrinfo *addrs, int gai_error, void *userdata)
{
	struct probe *p = userdata;

	p->resolve = NULL;
	if (gai_error != 0) {
		probe_fail(p, PROBE_RESOLVE_FAILED, "cannot resolve %s: %s",
			   p->target.host, gai_strerror(gai_error));
		return;
	}
	p->addrs = addrs;
	p->phase = PROBE_PHASE_CONNECT;
	p->addr = p->addrs;
	connect_try(p);
}

/* Numeric addresses need no lookup; names go to resolve.c. */
static void resolve_begin(struct probe *p)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *addrs = NULL;
	char service[8];
	int err;

	p->phase = PROBE_PHASE_RESOLVE;
	snprintf(service, sizeof(service), "%u", p->target.port);
	err = getaddrinfo(p->target.host, service, &hints, &addrs);
	if (err == EAI_NONAME)
		err = resolve_start(p->engine->resolver, p->target.host, service,
				    on_resolved, p, &p->resolve);
	/* A request under way calls on_resolved from the loop instead. */
	if (!p->resolve)
		on_resolved(addrs, err, p);
}

/* ---- connect ----------------------------------------------------------- */

static void format_peer(const struct sockaddr *sa, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, len, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

static int probe_watch(struct probe *p, uint32_t events);

static void probe_close_socket(struct probe *p)
{
	p->io = sd_event_source_disable_unref(p->io);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static void connected(struct probe *p)
{
	p->result.connect_usec = now_monotonic_usec() - p->start_usec;
	if (p->target.starttls >= 0)
		starttls_begin(p);
	else
		handshake_begin(p);
}

/* Tries the current address and then each next one until one is in progress. */
static void connect_try(struct probe *p)
{
	for (; p->addr; p->addr = p->addr->ai_next) {
		const struct addrinfo *a = p->addr;

		format_peer(a->ai_addr, p->result.peer, sizeof(p->result.peer));
		p->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       a->ai_protocol);
		if (p->fd < 0) {
			p->last_errno = errno;
			continue;
		}
		if (connect(p->fd, a->ai_addr, a->ai_addrlen) == 0) {
			connected(p);
			return;
		}
		if (errno == EINPROGRESS) {
			int r = probe_watch(p, EPOLLOUT);

			if (r < 0)
				probe_fail(p, PROBE_CONNECT_FAILED, "cannot watch the socket: %s",
					   strerror(-r));
			return;
		}
		p->last_errno = errno;
		probe_close_socket(p);
	}
	if (p->last_errno == ECONNREFUSED)
		probe_fail(p, PROBE_CONNECT_REFUSED, "connection refused by %s", p->result.peer);
	else
		probe_fail(p, PROBE_CONNECT_FAILED, "cannot connect to %s: %s",
			   p->result.peer, strerror(p->last_errno));
}

static void connect_io(struct probe *p, uint32_t revents)
{
	int err = 0;
	socklen_t len = sizeof(err);

	(void)revents;
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		connected(p);
		return;
	}
	p->last_errno = err;
	probe_close_socket(p);
	p->addr = p->addr->ai_next;
	connect_try(p);
}

/* ---- STARTTLS ---------------------------------------------------------- */

/* Keeps the last line of what the server just sent, for the timeout message. */
static void starttls_note_line(struct starttls_io *io, const uint8_t *buf, size_t n)
{
	size_t start;

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == 0)
		return;
	for (start = n; start > 0 && buf[start - 1] != '\n'; start--)
		;
	escape_bytes(buf + start, n - start, io->last_line, sizeof(io->last_line));
}

/* Sends what the driver queued; then reads on, or starts TLS when ready. */
static void starttls_flush(struct probe *p)
{
	struct starttls_io *io = p->st;
	int r;

	while (io->out_sent < io->out_len) {
		ssize_t n = send(p->fd, io->out + io->out_sent, io->out_len - io->out_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			r = probe_watch(p, EPOLLOUT);
			goto watched;
		}
		if (n < 0) {
			probe_fail(p, PROBE_CONNECT_FAILED,
				   "the connection failed during the STARTTLS dialogue: %s",
				   strerror(errno));
			return;
		}
		io->out_sent += (size_t)n;
	}
	io->out_len = io->out_sent = 0;
	if (io->ready) {
		handshake_begin(p);
		return;
	}
	r = probe_watch(p, EPOLLIN);
watched:
	if (r < 0)
		probe_fail(p, PROBE_PROTOCOL_ERROR, "cannot watch the socket: %s", strerror(-r));
}

/* Feeds the buffered input to the driver until it needs more. */
static void starttls_process(struct probe *p)
{
	struct starttls_io *io = p->st;
	enum starttls_result r;
	size_t used;

	do {
		r = starttls_feed(&io->s, io->in, io->in_len, &used);
		memmove(io->in, io->in + used, io->in_len - used);
		io->in_len -= used;
		if (io->s.out_len > sizeof(io->out) - io->out_len) {
			probe_fail(p, PROBE_PROTOCOL_ERROR,
				   "the STARTTLS driver queued more than %zu bytes", sizeof(io->out));
			return;
		}
		memcpy(io->out + io->out_len, io->s.out, io->s.out_len);
		io->out_len += io->s.out_len;
		io->s.out_len = 0;
	} while (r == STARTTLS_CONTINUE && used > 0 && io->in_len > 0);

	switch (r) {
	case STARTTLS_CONTINUE:
		if (io->in_len == sizeof(io->in)) {
			probe_fail(p, PROBE_PROTOCOL_ERROR,
				   "the server sent %zu bytes without completing a reply "
				   "(a line, a multi-line response or a packet)",
				   sizeof(io->in));
			return;
		}
		break;
	case STARTTLS_READY:
		io->ready = true;
		break;
	default:
		if (!io->s.detail[0])
			snprintf(io->s.detail, sizeof(io->s.detail), "the %s dialogue failed: %s",
				 starttls_drivers[io->s.proto].name, starttls_result_to_string(r));
		probe_fail(p, r == STARTTLS_REFUSED ? PROBE_STARTTLS_REFUSED : PROBE_PROTOCOL_ERROR,
			   "%s", io->s.detail);
		return;
	}
	starttls_flush(p);
}

static void starttls_begin(struct probe *p)
{
	p->phase = PROBE_PHASE_STARTTLS;
	p->st = calloc(1, sizeof(*p->st));
	if (!p->st) {
		probe_fail(p, PROBE_PROTOCOL_ERROR, "cannot start the STARTTLS dialogue: %s",
			   strerror(ENOMEM));
		return;
	}
	starttls_session_init(&p->st->s, p->target.starttls,
			      p->target.sni ? p->target.sni : p->target.host);
	/* The first step (len 0) lets client-first protocols speak: LDAP, Postgres. */
	starttls_process(p);
}

static void starttls_io(struct probe *p, uint32_t revents)
{
	struct starttls_io *io = p->st;
	ssize_t n;

	(void)revents;
	if (io->out_len > 0) {
		starttls_flush(p);
		return;
	}
	n = recv(p->fd, io->in + io->in_len, sizeof(io->in) - io->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		probe_fail(p, PROBE_CONNECT_FAILED,
			   "the connection failed during the STARTTLS dialogue: %s", strerror(errno));
		return;
	}
	if (n == 0) {
		probe_fail(p, PROBE_PROTOCOL_ERROR,
			   "the server closed the connection during the STARTTLS dialogue");
		return;
	}
	starttls_note_line(io, io->in + io->in_len, (size_t)n);
	io->in_len += (size_t)n;
	starttls_process(p);
}

/* ---- TLS handshake ----------------------------------------------------- */

static void handshake_begin(struct probe *p)
{
	char why[256];

	p->phase = PROBE_PHASE_HANDSHAKE;
	p->handshake_start_usec = now_monotonic_usec();
	if (probe_tls_new(p->engine->ctx, p->fd, p->target.sni, p->target.key_type, &p->tls, why,
			  sizeof(why), &p->ssl) < 0) {
		probe_fail(p, PROBE_TLS_FAILED, "%s", why);
		return;
	}
	handshake_step(p);
}

static void handshake_succeeded(struct probe *p)
{
	struct probe_result *r = &p->result;
	X509 *leaf = SSL_get0_peer_certificate(p->ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(p->ssl);
	long verify = SSL_get_verify_result(p->ssl);
	int n;

	r->handshake_usec = now_monotonic_usec() - p->handshake_start_usec;
	if (!leaf) {
		probe_fail(p, PROBE_NO_CERT, "the server completed the handshake without a certificate");
		return;
	}
	n = cert_info_from_x509(leaf, &r->leaf);
	if (n < 0) {
		probe_fail(p, PROBE_TLS_FAILED, "cannot read the server's certificate: %s",
			   strerror(-n));
		return;
	}
	/* On the client side the peer chain includes the leaf. */
	n = chain ? sk_X509_num(chain) : 0;
	r->chain_len = n > 0 ? (size_t)n - 1 : 0;
	r->verified = verify == X509_V_OK;
	if (!r->verified)
		snprintf(r->verify_error, sizeof(r->verify_error), "%s",
			 X509_verify_cert_error_string(verify));
	r->name_covered = !p->target.sni || cert_info_covers(&r->leaf, p->target.sni);
	snprintf(r->tls_version, sizeof(r->tls_version), "%s", SSL_get_version(p->ssl));
	snprintf(r->cipher, sizeof(r->cipher), "%s", SSL_get_cipher_name(p->ssl));
	/* One close_notify, not waited for: the certificate is all we came for. */
	SSL_shutdown(p->ssl);
	ERR_clear_error();
	r->status = PROBE_OK;
	r->phase = p->phase = PROBE_PHASE_DONE;
	probe_finish(p);
}

static void handshake_step(struct probe *p)
{
	enum probe_status status;
	char why[256];
	int r, err, saved_errno;

	/* The error queue is per thread and shared by every probe. */
	ERR_clear_error();
	errno = 0;
	r = SSL_connect(p->ssl);
	saved_errno = errno;
	if (r == 1) {
		handshake_succeeded(p);
		return;
	}
	err = SSL_get_error(p->ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		r = probe_watch(p, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
		if (r < 0)
			probe_fail(p, PROBE_TLS_FAILED, "cannot watch the socket: %s", strerror(-r));
		return;
	}
	status = probe_tls_failure(&p->tls, err, saved_errno, why, sizeof(why));
	probe_fail(p, status, "%s", why);
}

static void handshake_io(struct probe *p, uint32_t revents)
{
	(void)revents;
	handshake_step(p);
}

/* ---- the socket's events, by phase ------------------------------------- */

static void (*const phase_io[_PROBE_PHASE_MAX])(struct probe *p, uint32_t revents) = {
	[PROBE_PHASE_CONNECT]   = connect_io,
	[PROBE_PHASE_STARTTLS]  = starttls_io,
	[PROBE_PHASE_HANDSHAKE] = handshake_io,
};

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct probe *p = userdata;

	(void)s;
	(void)fd;
	if (phase_io[p->phase])
		phase_io[p->phase](p, revents);
	return 0;
}

static int probe_watch(struct probe *p, uint32_t events)
{
	if (p->io)
		return sd_event_source_set_io_events(p->io, events);
	return sd_event_add_io(p->engine->event, &p->io, p->fd, events, on_io, p);
}

/* ---- the engine -------------------------------------------------------- */

static void probe_begin(struct probe *p)
{
	uint64_t t = p->target.timeout_usec;

	p->start_usec = now_monotonic_usec();
	sd_event_source_set_time(p->timer, t < UINT64_MAX - 1 - p->start_usec ?
				 p->start_usec + t : UINT64_MAX - 1);
	sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
	resolve_begin(p);
}

/* Starts queued probes while there is room; re-entered by probes that end at once. */
static void engine_dispatch(struct probe_engine *e)
{
	struct probe *p;

	if (e->dispatching)
		return;
	e->dispatching = true;
	while (e->n_running < e->max_in_flight && (p = TAILQ_FIRST(&e->queued))) {
		TAILQ_REMOVE(&e->queued, p, link);
		TAILQ_INSERT_TAIL(&e->running, p, link);
		e->n_running++;
		probe_begin(p);
	}
	e->dispatching = false;
}

int probe_start(struct probe_engine *e, const struct probe_target *t,
		probe_done_t done, void *userdata)
{
	struct probe *p;
	int r;

	if (!e || !t || !t->host || !done ||
	    (t->starttls >= 0 && (size_t)t->starttls >= starttls_n_drivers))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->engine = e;
	p->target = *t;
	p->done = done;
	p->userdata = userdata;
	p->fd = -1;
	p->phase = PROBE_PHASE_QUEUED;
	/* Both sources now, so that nothing after this can fail to deliver. */
	r = sd_event_add_time(e->event, &p->timer, CLOCK_MONOTONIC, 0, 10 * USEC_PER_MSEC,
			      on_deadline, p);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_defer(e->event, &p->defer, on_deliver, p);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->defer, SD_EVENT_OFF);
	if (r < 0) {
		probe_free(p);
		return r;
	}
	TAILQ_INSERT_TAIL(&e->queued, p, link);
	e->n_probes++;
	engine_dispatch(e);
	return 0;
}

unsigned probe_engine_pending(const struct probe_engine *e)
{
	return e ? e->n_probes : 0;
}

/*
 * OpenSSL writes to the socket with write(2), not send(MSG_NOSIGNAL): a
 * server that resets the connection must not kill the process.  A handler
 * the program installed itself is left alone.
 */
static void ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

int probe_engine_new(sd_event *event, unsigned max_in_flight, struct probe_engine **ret)
{
	struct probe_engine *e;
	int r;

	if (!event || max_in_flight == 0 || !ret)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->event = sd_event_ref(event);
	e->max_in_flight = max_in_flight;
	TAILQ_INIT(&e->queued);
	TAILQ_INIT(&e->running);
	TAILQ_INIT(&e->finished);
	e->ctx = probe_tls_ctx_new();
	ERR_clear_error();
	r = e->ctx ? resolver_new(event, &e->resolver) : -ENOMEM;
	if (r < 0) {
		probe_engine_free(e);
		return r;
	}
	ignore_sigpipe();
	*ret = e;
	return 0;
}

void probe_engine_free(struct probe_engine *e)
{
	struct probe *p;

	if (!e)
		return;
	while ((p = TAILQ_FIRST(&e->queued))) {
		TAILQ_REMOVE(&e->queued, p, link);
		probe_free(p);
	}
	while ((p = TAILQ_FIRST(&e->running))) {
		TAILQ_REMOVE(&e->running, p, link);
		probe_free(p);
	}
	while ((p = TAILQ_FIRST(&e->finished))) {
		TAILQ_REMOVE(&e->finished, p, link);
		probe_result_done(&p->result);
		probe_free(p);
	}
	resolver_free(e->resolver);
	SSL_CTX_free(e->ctx);
	sd_event_unref(e->event);
	free(e);
}
