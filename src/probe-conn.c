/*
 * probe-conn.c - one probe's connection, a state machine on the engine's
 * sd-event loop: resolve -> connect -> starttls -> handshake; see
 * probe-int.h for its contract with the engine.
 *
 * Numeric hosts are parsed at once; names go to resolve.c, whose request a
 * probe cancels when it ends first.  The addresses race to connect as
 * RFC 8305 says (connect-race.c); a socket certwatch cannot make for want
 * of descriptors hands the probe back to its engine to wait, never blaming
 * the server.  The
 * STARTTLS dialogue is a driver of starttls.c fed from bounded buffers,
 * and OpenSSL's side (a client's set-up, what a failed handshake means) is
 * in probe-tls.c.  Every way out goes through probe_fail() or
 * handshake_succeeded(), which release the connection at once and hand
 * the probe back to its engine; the deadline is the engine's timer, which
 * calls probe_conn_timeout().  Once the verdict is known, the connection
 * is ended politely by probe-goodbye.c, after the verdict is handed over.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "connect-race.h"
#include "probe-int.h"
#include "resolve.h"
#include "util.h"

static void connect_begin(struct probe *p);
static void starttls_begin(struct probe *p);
static void handshake_begin(struct probe *p);
static void handshake_step(struct probe *p);
static int probe_watch(struct probe *p, uint32_t events);

/* ---- the end of a probe ------------------------------------------------ */

void probe_conn_release(struct probe *p)
{
	resolve_cancel(p->resolve);
	p->resolve = NULL;
	connect_race_free(p->race);
	p->race = NULL;
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
	p->addrs = NULL;
}

static void probe_end(struct probe *p)
{
	probe_conn_release(p);
	p->env->ended(p);
}

__attribute__((format(printf, 3, 4)))
static void probe_fail(struct probe *p, enum probe_status status, const char *fmt, ...)
{
	va_list ap;

	p->result.status = status;
	p->result.phase = p->phase;
	va_start(ap, fmt);
	msg_vset(&p->result.detail, PROBE_DETAIL_MAX, fmt, ap);
	va_end(ap);
	probe_end(p);
}

static const char *describe_wait(struct probe *p, char *buf, size_t len)
{
	char peers[192];
	const char *proto;

	switch (p->phase) {
	case PROBE_PHASE_RESOLVE:
		snprintf(buf, len, "while resolving %s", p->target.host);
		break;
	case PROBE_PHASE_CONNECT:
		if (p->race) {
			connect_race_describe(p->race, peers, sizeof(peers));
			snprintf(p->result.peer, sizeof(p->result.peer), "%.*s",
				 (int)strcspn(peers, " ,"), peers);
		}
		snprintf(buf, len, "while connecting to %s", p->race ? peers : p->result.peer);
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

void probe_conn_timeout(struct probe *p)
{
	char dur[32], what[320];

	format_duration(p->target.timeout_usec, dur, sizeof(dur));
	probe_fail(p, PROBE_TIMEOUT, "no answer within %s %s", dur,
		   describe_wait(p, what, sizeof(what)));
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
	connect_begin(p);
}

/* The first phase.  Numeric addresses need no lookup; names go to resolve.c. */
void probe_conn_begin(struct probe *p)
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
		err = resolve_start(p->env->resolver, p->target.host, service,
				    on_resolved, p, &p->resolve);
	/* A request under way calls on_resolved from the loop instead. */
	if (!p->resolve)
		on_resolved(addrs, err, p);
}

/* ---- goodbye ----------------------------------------------------------- */

/*
 * Hands the connection to probe-goodbye.c, with the protocol's goodbye
 * when it has one: through TLS after the handshake, in plaintext after
 * the server refused STARTTLS.  Within the probe's deadline.
 */
static void say_goodbye(struct probe *p, bool in_tls)
{
	uint64_t t = p->target.timeout_usec;
	size_t n = p->st ? starttls_goodbye(&p->st->s, in_tls) : 0;

	probe_goodbye_begin(p, n ? p->st->s.out : NULL, n,
			    t < UINT64_MAX - p->start_usec ? p->start_usec + t : UINT64_MAX);
}

/* ---- connect ----------------------------------------------------------- */

static void connected(struct probe *p)
{
	p->result.connect_usec = now_monotonic_usec() - p->start_usec;
	if (p->target.starttls >= 0)
		starttls_begin(p);
	else
		handshake_begin(p);
}

static void on_raced(enum connect_race_end end, int fd, int error, const char *peer,
		     void *userdata)
{
	struct probe *p = userdata;
	size_t tried = connect_race_tried(p->race);
	char more[64] = "";

	connect_race_free(p->race);
	p->race = NULL;
	snprintf(p->result.peer, sizeof(p->result.peer), "%s", peer);
	if (end == CONNECT_RACE_CONNECTED) {
		p->fd = fd;
		connected(p);
		return;
	}
	if (end == CONNECT_RACE_STARVED) {
		p->env->starved(p, error);
		return;
	}
	if (tried > 1)
		snprintf(more, sizeof(more), " (the last of %zu addresses tried)", tried);
	if (error == ECONNREFUSED)
		probe_fail(p, PROBE_CONNECT_REFUSED, "connection refused by %s%s", p->result.peer,
			   more);
	else
		probe_fail(p, PROBE_CONNECT_FAILED, "cannot connect to %s%s: %s", p->result.peer,
			   more, strerror(error));
}

static void connect_begin(struct probe *p)
{
	p->phase = PROBE_PHASE_CONNECT;
	if (connect_race_start(p->env->event, p->addrs, on_raced, p, &p->race) < 0)
		p->env->starved(p, ENOMEM);
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
		/* A refusal leaves the dialogue in step: the client can still say goodbye. */
		if (r == STARTTLS_REFUSED)
			say_goodbye(p, false);
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
			      p->target.sni ? p->target.sni : p->target.host, p->target.helo_name);
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
	if (probe_tls_new(p->env->ctx, p->fd, p->target.sni, p->target.key_type, &p->tls, why,
			  sizeof(why), &p->ssl) < 0) {
		probe_fail(p, PROBE_TLS_FAILED, "%s", why);
		return;
	}
	handshake_step(p);
}

static void handshake_succeeded(struct probe *p)
{
	struct probe_result *r = &p->result;
	enum probe_status status;
	char why[256];

	r->handshake_usec = now_monotonic_usec() - p->handshake_start_usec;
	status = probe_result_from_ssl(r, p->ssl, p->target.sni, why, sizeof(why));
	say_goodbye(p, true);
	if (status != PROBE_OK) {
		probe_fail(p, status, "%s", why);
		return;
	}
	r->status = PROBE_OK;
	r->phase = p->phase = PROBE_PHASE_DONE;
	probe_end(p);
}

static void handshake_step(struct probe *p)
{
	enum probe_status status;
	char why[256], said[PROBE_DETAIL_MAX];
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
	if (status == PROBE_TLS_ALERT &&
	    probe_tls_cert_before_alert(p->ssl, &p->tls, said, sizeof(said))) {
		msg_set(&p->result.detail, PROBE_DETAIL_MAX, "%s", said);
		handshake_succeeded(p);
		return;
	}
	probe_fail(p, status, "%s", why);
}

static void handshake_io(struct probe *p, uint32_t revents)
{
	(void)revents;
	handshake_step(p);
}

/* ---- the socket's events, by phase ------------------------------------- */

static void (*const phase_io[_PROBE_PHASE_MAX])(struct probe *p, uint32_t revents) = {
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
	return sd_event_add_io(p->env->event, &p->io, p->fd, events, on_io, p);
}
