/*
 * discover.c - `certwatch discover`: reads what Dovecot, Postfix and nginx
 * say about their own configuration and prints certwatch service sections
 * for them.
 *
 * The daemons' dumps are the source of truth (doveconf -P -n, postconf -n -x
 * and -M -x, nginx -T): they have already applied includes, defaults and
 * conditionals that a reader of the files would have to reimplement.  The
 * parsers are pure and treat the dump as untrusted text: every line, word,
 * list and nesting depth is bounded, bytes that are not printable never
 * reach the output, and what is not understood becomes a comment ("note")
 * in the generated configuration rather than a guess.
 *
 * The commands run without a shell, with a clean environment, stdin from
 * /dev/null, stdout bounded to DISCOVER_MAX_OUTPUT and a timeout.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>

#include "discover.h"
#include "starttls.h"
#include "util.h"
#include "x509.h"

#define MAX_LINE    4096   /* longest line or word of a dump that is read */
#define MAX_VALUE   1024   /* longest path, address or name kept */
#define MAX_DEPTH   16     /* sections or blocks nested, includes followed */
#define MAX_NAME    64     /* endpoint names, as certwatch.conf(5) */
#define MAX_ITEMS   256    /* listeners, protocols, local names, servers ... */
#define MAX_ARGS    32     /* words of one directive or master.cf entry */
#define MAX_FILES   4096   /* files of an nginx -T dump */
#define MAX_INCLUDES 4096  /* files parsed for nginx's include directives, in all */
#define MAX_STDERR  1024   /* stderr kept for the message of a failed dump */
#define DEFAULT_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define DEFAULT_SEARCH_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_SYSTEMD_DIR "/run/systemd/system"

/* ---- the result ------------------------------------------------------------ */

void discovered_done(struct discovered *d)
{
	if (!d)
		return;
	free(d->cert);
	free(d->key);
	free(d->hostname);
	for (size_t i = 0; i < d->n_endpoints; i++) {
		struct discovered_endpoint *e = &d->endpoints[i];
		free(e->name);
		free(e->address);
		free(e->sni);
		free(e->cert);
		free(e->key);
	}
	free(d->endpoints);
	for (size_t i = 0; i < d->n_notes; i++)
		free(d->notes[i]);
	free(d->notes);
	*d = (struct discovered){ 0 };
}

/* A printable rendering of an untrusted string, for notes. */
struct shown { char s[200]; };
static struct shown show(const char *s)
{
	struct shown r;

	escape_bytes(s, s ? strlen(s) : 0, r.s, sizeof(r.s));
	return r;
}

/* Adds a note; the caller passes untrusted parts through show(). */
__attribute__((format(printf, 2, 3)))
static int note(struct discovered *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (d->n_notes >= DISCOVER_MAX_NOTES)
		return 0;
	if (!d->notes && !(d->notes = calloc(DISCOVER_MAX_NOTES, sizeof(*d->notes))))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!(d->notes[d->n_notes] = strdup(buf)))
		return -ENOMEM;
	d->n_notes++;
	return 0;
}

/* Whether a value may be written into certwatch.conf and mean the same. */
static bool printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static bool valid_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static bool name_taken(const struct discovered *d, const char *name)
{
	for (size_t i = 0; i < d->n_endpoints; i++)
		if (strcmp(d->endpoints[i].name, name) == 0)
			return true;
	return false;
}

/* A valid endpoint name from base (anything), unique within d. */
static int unique_name(const struct discovered *d, const char *base, char out[MAX_NAME + 1])
{
	char clean[MAX_NAME + 1];
	size_t n = 0;

	for (const char *p = base; *p && n < MAX_NAME - 6; p++) {
		char c = valid_name_char(*p) ? *p : '-';
		if (n == 0 && (c == '.' || c == '-'))
			continue;
		clean[n++] = c;
	}
	while (n > 0 && clean[n - 1] == '-')
		n--;
	clean[n] = '\0';
	if (n == 0)
		snprintf(clean, sizeof(clean), "endpoint");
	snprintf(out, MAX_NAME + 1, "%s", clean);
	for (unsigned i = 2; name_taken(d, out); i++) {
		if (i > 99999)
			return -E2BIG;
		snprintf(out, MAX_NAME + 1, "%s-%u", clean, i);
	}
	return 0;
}

static int dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (s && !(*ret = strdup(s)))
		return -ENOMEM;
	return 0;
}

/* Adds an endpoint; a value that cannot be written out drops it with a note. */
static int add_endpoint(struct discovered *d, const char *base, const char *address,
			unsigned port, int starttls, const char *sni, const char *cert,
			const char *key)
{
	struct discovered_endpoint *e;
	char name[MAX_NAME + 1];
	int r;

	if (port == 0 || port > 65535)
		return note(d, "%s: port %u is not usable", show(base).s, port);
	if (!printable(address) || (sni && !printable(sni)) || (cert && !printable(cert)) ||
	    (key && !printable(key)))
		return note(d, "%s: skipped: a path or name holds control characters",
			    show(base).s);
	if (d->n_endpoints >= DISCOVER_MAX_ENDPOINTS)
		return note(d, "%s: skipped: more than %d endpoints", show(base).s,
			    DISCOVER_MAX_ENDPOINTS);
	if (!d->endpoints &&
	    !(d->endpoints = calloc(DISCOVER_MAX_ENDPOINTS, sizeof(*d->endpoints))))
		return -ENOMEM;
	if ((r = unique_name(d, base, name)) < 0)
		return note(d, "%s: skipped: no unique name left", show(base).s);
	e = &d->endpoints[d->n_endpoints];
	*e = (struct discovered_endpoint){ .port = (uint16_t)port, .starttls = starttls };
	if ((r = dup_or_null(name, &e->name)) < 0 || (r = dup_or_null(address, &e->address)) < 0 ||
	    (r = dup_or_null(sni, &e->sni)) < 0 || (r = dup_or_null(cert, &e->cert)) < 0 ||
	    (r = dup_or_null(key, &e->key)) < 0) {
		free(e->name);
		free(e->address);
		free(e->sni);
		free(e->cert);
		free(e->key);
		return r;
	}
	d->n_endpoints++;
	return 0;
}

/* ---- small text helpers ----------------------------------------------------- */

/* Copies at most outlen-1 bytes of s..s+n, trimmed of blanks at both ends. */
static void copy_trim(const char *s, size_t n, char *out, size_t outlen)
{
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/*
 * Calls fn for every line of text, without its newline, copied and
 * NUL-terminated; lines longer than MAX_LINE are passed cut, flagged.
 */
typedef int (*line_fn)(const char *line, bool cut, void *userdata);
static int for_each_line(const char *text, size_t len, line_fn fn, void *userdata)
{
	char line[MAX_LINE + 1];
	size_t i = 0;
	int r;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		size_t keep = n > MAX_LINE ? MAX_LINE : n;

		memcpy(line, text + i, keep);
		line[keep] = '\0';
		/* An embedded NUL would silently shorten the line: refuse it. */
		if (memchr(text + i, '\0', keep) == NULL && (r = fn(line, n > MAX_LINE, userdata)) < 0)
			return r;
		i += n + 1;
	}
	return 0;
}

/* Where to connect for a listening address: loopback for a wildcard. */
static void connect_address(const char *listen, char *out, size_t outlen)
{
	char a[MAX_VALUE];
	size_t n;

	copy_trim(listen, strlen(listen), a, sizeof(a));
	n = strlen(a);
	if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
		memmove(a, a + 1, n - 2);
		a[n - 2] = '\0';
	}
	if (a[0] == '\0' || strcmp(a, "*") == 0 || strcmp(a, "0.0.0.0") == 0)
		snprintf(out, outlen, "127.0.0.1");
	else if (strcmp(a, "::") == 0 || strcmp(a, "::0") == 0)
		snprintf(out, outlen, "::1");
	else
		snprintf(out, outlen, "%s", a);
}

/*
 * Chooses one address from a list ("*, ::" or "a b"): IPv4 wildcard first,
 * then the IPv6 wildcard, else the first entry.  Returns false for an
 * empty list (nothing listens).
 */
static bool pick_address(const char *list, char *out, size_t outlen)
{
	char first[MAX_VALUE] = "";
	bool v6any = false;
	const char *p = list;

	while (*p) {
		size_t n;
		char item[MAX_VALUE];

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == 0)
			break;
		copy_trim(p, n, item, sizeof(item));
		p += n;
		if (strcmp(item, "*") == 0 || strcmp(item, "0.0.0.0") == 0 ||
		    strcasecmp(item, "all") == 0) {
			snprintf(out, outlen, "127.0.0.1");
			return true;
		}
		if (strcmp(item, "::") == 0 || strcmp(item, "[::]") == 0)
			v6any = true;
		else if (!first[0])
			snprintf(first, sizeof(first), "%s", item);
	}
	if (first[0]) {
		connect_address(first, out, outlen);
		return true;
	}
	if (v6any) {
		snprintf(out, outlen, "::1");
		return true;
	}
	return false;
}

static bool word_in_list(const char *list, const char *word)
{
	size_t wn = strlen(word);

	for (const char *p = list; *p;) {
		size_t n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == wn && strncmp(p, word, n) == 0)
			return true;
		p += n;
	}
	return false;
}

static int parse_port(const char *s)
{
	char *end;
	long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

/* ---- Dovecot: doveconf -P -n ---------------------------------------------------- */

/*
 * Dovecot's built-in services and their default inet listeners; a listener
 * the dump does not mention keeps these, one it names without a port gets
 * the default of that name.
 */
static const struct dc_service {
	const char *protocol;     /* as in "protocols" */
	const char *service;
	const char *starttls;     /* certwatch's driver for the plaintext listeners */
	struct { const char *name; uint16_t port; bool ssl; } listeners[2];
} dc_services[] = {
	{ "imap", "imap-login", "imap", { { "imap", 143, false }, { "imaps", 993, true } } },
	{ "pop3", "pop3-login", "pop3", { { "pop3", 110, false }, { "pop3s", 995, true } } },
	{ "sieve", "managesieve-login", "sieve", { { "sieve", 4190, false } } },
	{ "lmtp", "lmtp", "lmtp", { { NULL } } },
	{ "submission", "submission-login", "smtp", { { "submission", 587, false } } },
};

struct dc_listener {
	char service[64], name[64];
	int port;                 /* -1: not set */
	char address[MAX_VALUE];  /* "": not set */
	int ssl;                  /* -1: not set, 0 no, 1 yes */
	bool haproxy;
};

struct dc_pair {
	char name[MAX_VALUE];     /* protocol or local_name */
	int ssl;                  /* -1: not set */
	char cert[MAX_VALUE], key[MAX_VALUE];
};

struct dc_state {
	struct discovered *d;
	char stack[MAX_DEPTH][2][MAX_VALUE];   /* section type and name */
	size_t depth;                          /* may exceed MAX_DEPTH: not recorded */
	int ssl;
	char cert[MAX_VALUE], key[MAX_VALUE];
	char protocols[MAX_VALUE], listen[MAX_VALUE], hostname[MAX_VALUE];
	bool have_protocols, have_listen;
	struct dc_listener listeners[MAX_ITEMS];
	size_t n_listeners;
	struct dc_pair protos[16], locals[MAX_ITEMS];
	size_t n_protos, n_locals;
	bool noted_local, noted_local_proto, noted_alt;
};

static int dc_ssl_value(const char *v)
{
	if (strcmp(v, "no") == 0)
		return 0;
	if (strcmp(v, "yes") == 0 || strcmp(v, "required") == 0)
		return 1;
	return -1;
}

/* ssl_cert and ssl_key name files with "<"; anything else is inline PEM. */
static int dc_path(struct dc_state *s, const char *what, const char *v, char *out, size_t outlen)
{
	if (v[0] == '<') {
		copy_trim(v + 1, strlen(v + 1), out, outlen);
		if (out[0] != '/') {
			note(s->d, "%s: %s is not an absolute path", what, show(out).s);
			out[0] = '\0';
		}
		return 0;
	}
	out[0] = '\0';
	if (v[0] == '#')
		return note(s->d, "%s is hidden: run doveconf with -P to show its path", what);
	if (v[0])
		return note(s->d, "%s is inline PEM, not a file: nothing to watch", what);
	return 0;
}

static struct dc_pair *dc_find(struct dc_pair *v, size_t *n, size_t max, const char *name, bool add)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	if (!add || *n >= max)
		return NULL;
	v[*n] = (struct dc_pair){ .ssl = -1 };
	snprintf(v[*n].name, sizeof(v[*n].name), "%s", name);
	return &v[(*n)++];
}

static struct dc_listener *dc_listener(struct dc_state *s, const char *service,
				       const char *name, bool add)
{
	for (size_t i = 0; i < s->n_listeners; i++)
		if (strcmp(s->listeners[i].service, service) == 0 &&
		    strcmp(s->listeners[i].name, name) == 0)
			return &s->listeners[i];
	if (!add || s->n_listeners >= MAX_ITEMS)
		return NULL;
	s->listeners[s->n_listeners] = (struct dc_listener){ .port = -1, .ssl = -1 };
	snprintf(s->listeners[s->n_listeners].service, 64, "%s", service);
	snprintf(s->listeners[s->n_listeners].name, 64, "%s", name);
	return &s->listeners[s->n_listeners++];
}

static int dc_setting(struct dc_state *s, const char *key, const char *v)
{
	const char (*st)[2][MAX_VALUE] = s->stack;
	struct dc_pair *p;

	if (s->depth > MAX_DEPTH)
		return 0;
	if (s->depth == 0) {
		if (strcmp(key, "ssl") == 0)
			s->ssl = dc_ssl_value(v);
		else if (strcmp(key, "ssl_cert") == 0)
			return dc_path(s, "ssl_cert", v, s->cert, sizeof(s->cert));
		else if (strcmp(key, "ssl_key") == 0)
			return dc_path(s, "ssl_key", v, s->key, sizeof(s->key));
		else if (strcmp(key, "protocols") == 0) {
			snprintf(s->protocols, sizeof(s->protocols), "%s", v);
			s->have_protocols = true;
		} else if (strcmp(key, "listen") == 0) {
			snprintf(s->listen, sizeof(s->listen), "%s", v);
			s->have_listen = true;
		} else if (strcmp(key, "hostname") == 0)
			snprintf(s->hostname, sizeof(s->hostname), "%s", v);
		else if (strcmp(key, "ssl_alt_cert") == 0 && v[0] && !s->noted_alt) {
			s->noted_alt = true;
			return note(s->d, "ssl_alt_cert is not listed: add an endpoint for it by hand");
		}
		return 0;
	}
	if (s->depth == 2 && strcmp(st[0][0], "service") == 0 &&
	    strcmp(st[1][0], "inet_listener") == 0) {
		struct dc_listener *l = dc_listener(s, st[0][1], st[1][1], true);
		if (!l)
			return 0;
		if (strcmp(key, "port") == 0)
			l->port = parse_port(v);
		else if (strcmp(key, "address") == 0)
			snprintf(l->address, sizeof(l->address), "%s", v);
		else if (strcmp(key, "ssl") == 0)
			l->ssl = strcmp(v, "yes") == 0;
		else if (strcmp(key, "haproxy") == 0)
			l->haproxy = strcmp(v, "yes") == 0;
		return 0;
	}
	if (s->depth == 1 && (strcmp(st[0][0], "protocol") == 0 || strcmp(st[0][0], "local_name") == 0)) {
		bool proto = strcmp(st[0][0], "protocol") == 0;
		p = proto ? dc_find(s->protos, &s->n_protos, ELEMENTSOF(s->protos), st[0][1], true)
			  : dc_find(s->locals, &s->n_locals, ELEMENTSOF(s->locals), st[0][1], true);
		if (!p)
			return 0;
		if (strcmp(key, "ssl") == 0)
			p->ssl = dc_ssl_value(v);
		else if (strcmp(key, "ssl_cert") == 0)
			return dc_path(s, "ssl_cert", v, p->cert, sizeof(p->cert));
		else if (strcmp(key, "ssl_key") == 0)
			return dc_path(s, "ssl_key", v, p->key, sizeof(p->key));
		return 0;
	}
	if (strcmp(st[0][0], "local") == 0 || strcmp(st[0][0], "remote") == 0) {
		if (!s->noted_local && (strcmp(key, "ssl_cert") == 0 || strcmp(key, "ssl_key") == 0)) {
			s->noted_local = true;
			return note(s->d, "certificates chosen by \"local\" or \"remote\" address "
				    "are not listed: add endpoints for them by hand");
		}
		return 0;
	}
	if (strcmp(st[0][0], "local_name") == 0 && !s->noted_local_proto &&
	    (strcmp(key, "ssl_cert") == 0 || strcmp(key, "ssl_key") == 0)) {
		s->noted_local_proto = true;
		return note(s->d, "per-protocol certificates inside local_name %s are not listed",
			    show(st[0][1]).s);
	}
	return 0;
}

static int dc_line(const char *line, bool cut, void *userdata)
{
	struct dc_state *s = userdata;
	char l[MAX_LINE + 1];
	const char *eq;
	size_t n;

	copy_trim(line, strlen(line), l, sizeof(l));
	n = strlen(l);
	if (n == 0 || l[0] == '#')
		return 0;
	if (strcmp(l, "}") == 0) {
		if (s->depth > 0)
			s->depth--;
		return 0;
	}
	eq = strstr(l, " = ");
	if (!eq && strcmp(l + n - 1, "=") == 0 && n >= 2 && l[n - 2] == ' ')
		eq = l + n - 2;          /* "name =" : an empty value */
	if (l[n - 1] == '{' && (!eq || eq > strchr(l, '{'))) {
		char head[MAX_LINE + 1], *sp;

		copy_trim(l, n - 1, head, sizeof(head));
		if (s->depth < MAX_DEPTH) {
			char *type = s->stack[s->depth][0], *name = s->stack[s->depth][1];
			sp = head + strcspn(head, " \t");
			copy_trim(head, (size_t)(sp - head), type, MAX_VALUE);
			copy_trim(sp, strlen(sp), name, MAX_VALUE);
			/* local_name "a b" { : the first name is the one to send. */
			if (name[0] == '"') {
				memmove(name, name + 1, strlen(name));
				name[strcspn(name, "\"")] = '\0';
			}
			name[strcspn(name, " \t")] = '\0';
		}
		s->depth++;
		return 0;
	}
	if (!eq || cut)
		return 0;
	{
		char key[MAX_VALUE], value[MAX_LINE + 1];

		copy_trim(l, (size_t)(eq - l), key, sizeof(key));
		copy_trim(eq + 2, strlen(eq + 2), value, sizeof(value));
		return dc_setting(s, key, value);
	}
}

/* The listener to which local_name endpoints are attached: implicit TLS first. */
static size_t dc_preferred(const struct discovered *d)
{
	for (size_t i = 0; i < d->n_endpoints; i++)
		if (d->endpoints[i].starttls < 0)
			return i;
	return 0;
}

static int dc_endpoints(struct dc_state *s)
{
	struct discovered *d = s->d;
	size_t n_main;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(dc_services); i++) {
		const struct dc_service *sv = &dc_services[i];
		const struct dc_pair *proto;
		const char *names[2 + MAX_ITEMS];
		size_t n_names = 0;
		int ssl;

		if (!word_in_list(s->protocols, sv->protocol))
			continue;
		proto = dc_find(s->protos, &s->n_protos, ELEMENTSOF(s->protos), sv->protocol, false);
		ssl = proto && proto->ssl >= 0 ? proto->ssl : s->ssl;
		for (size_t j = 0; j < ELEMENTSOF(sv->listeners) && sv->listeners[j].name; j++)
			names[n_names++] = sv->listeners[j].name;
		for (size_t j = 0; j < s->n_listeners; j++)
			if (strcmp(s->listeners[j].service, sv->service) == 0 &&
			    (n_names < 1 || strcmp(s->listeners[j].name, names[0]) != 0) &&
			    (n_names < 2 || strcmp(s->listeners[j].name, names[1]) != 0))
				names[n_names++] = s->listeners[j].name;
		for (size_t j = 0; j < n_names; j++) {
			const struct dc_listener *l = dc_listener(s, sv->service, names[j], false);
			int port = 0;
			bool implicit = false;
			char address[MAX_VALUE];
			const char *cert = proto && proto->cert[0] ? proto->cert : NULL;
			const char *key = proto && proto->key[0] ? proto->key : NULL;

			for (size_t k = 0; k < ELEMENTSOF(sv->listeners) && sv->listeners[k].name; k++)
				if (strcmp(sv->listeners[k].name, names[j]) == 0) {
					port = sv->listeners[k].port;
					implicit = sv->listeners[k].ssl;
				}
			if (l && l->port >= 0)
				port = l->port;
			if (l && l->ssl >= 0)
				implicit = l->ssl;
			if (port <= 0)
				continue;        /* port = 0 disables a listener */
			if (l && l->haproxy) {
				if ((r = note(d, "%s: skipped: it expects the HAProxy protocol",
					      show(names[j]).s)) < 0)
					return r;
				continue;
			}
			if (ssl == 0) {
				if ((r = note(d, "%s: skipped: ssl = no", show(names[j]).s)) < 0)
					return r;
				continue;
			}
			if (!pick_address(l && l->address[0] ? l->address : s->listen, address,
					  sizeof(address)))
				continue;
			if (!cert && !s->cert[0]) {
				if ((r = note(d, "%s: skipped: no ssl_cert", show(names[j]).s)) < 0)
					return r;
				continue;
			}
			if ((r = add_endpoint(d, names[j], address, (unsigned)port,
					      implicit ? -1 : starttls_lookup(sv->starttls),
					      NULL, cert, key)) < 0)
				return r;
		}
	}
	n_main = d->n_endpoints;
	for (size_t i = 0; i < s->n_locals && n_main > 0; i++) {
		const struct dc_pair *ln = &s->locals[i];
		const struct discovered_endpoint *pref = &d->endpoints[dc_preferred(d)];
		char address[MAX_VALUE];

		if (!ln->cert[0] && !ln->key[0])
			continue;
		if (strchr(ln->name, '*') || !ln->name[0]) {
			if ((r = note(d, "local_name %s: skipped: not a name to send as SNI",
				      show(ln->name).s)) < 0)
				return r;
			continue;
		}
		if (!ln->cert[0] && !s->cert[0])
			continue;
		snprintf(address, sizeof(address), "%s", pref->address);
		if ((r = add_endpoint(d, ln->name, address, pref->port, pref->starttls, ln->name,
				      ln->cert[0] ? ln->cert : s->cert,
				      ln->key[0] ? ln->key : (s->key[0] ? s->key : NULL))) < 0)
			return r;
	}
	return 0;
}

int discover_dovecot(const char *text, size_t len, const char *protocols,
		     struct discovered *ret)
{
	struct dc_state *s;
	int r;

	*ret = (struct discovered){ 0 };
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->d = ret;
	s->ssl = 1;                            /* Dovecot 2.3's default */
	snprintf(s->listen, sizeof(s->listen), "*, ::");
	r = for_each_line(text, len, dc_line, s);
	if (r >= 0 && !s->have_protocols)
		snprintf(s->protocols, sizeof(s->protocols), "%s", protocols ? protocols : "imap pop3 lmtp");
	if (r >= 0 && s->ssl == 0 && s->n_protos == 0)
		r = note(ret, "ssl = no: Dovecot offers no TLS");
	else if (r >= 0)
		r = dc_endpoints(s);
	if (r >= 0 && s->cert[0])
		r = dup_or_null(s->cert, &ret->cert);
	if (r >= 0 && s->key[0])
		r = dup_or_null(s->key, &ret->key);
	if (r >= 0 && s->hostname[0])
		r = dup_or_null(s->hostname, &ret->hostname);
	if (r < 0)
		discovered_done(ret);
	explicit_bzero(s, sizeof(*s));
	free(s);
	return r;
}

/* ---- Postfix: postconf -n -x and postconf -M -x ------------------------------------- */

/* The main.cf parameters that decide an smtpd's TLS, overridable by -o. */
struct pf_params {
	char cert[MAX_VALUE], key[MAX_VALUE], chain_files[MAX_VALUE];
	char level[64], use_tls[16], enforce_tls[16], wrapper[16];
	char interfaces[MAX_VALUE], hostname[MAX_VALUE];
};

static void pf_param(struct pf_params *p, const char *k, const char *v)
{
	static const struct { const char *name; size_t off, size; } table[] = {
#define P(name, field) { name, offsetof(struct pf_params, field), sizeof(((struct pf_params *)0)->field) }
		P("smtpd_tls_cert_file", cert),
		P("smtpd_tls_key_file", key),
		P("smtpd_tls_chain_files", chain_files),
		P("smtpd_tls_security_level", level),
		P("smtpd_use_tls", use_tls),
		P("smtpd_enforce_tls", enforce_tls),
		P("smtpd_tls_wrappermode", wrapper),
		P("inet_interfaces", interfaces),
		P("myhostname", hostname),
#undef P
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (strcmp(k, table[i].name) == 0)
			snprintf((char *)p + table[i].off, table[i].size, "%s", v);
}

static int pf_main_line(const char *line, bool cut, void *userdata)
{
	const char *eq = strchr(line, '=');
	char k[MAX_VALUE], v[MAX_VALUE];

	if (cut || !eq || line[0] == '#' || isspace((unsigned char)line[0]))
		return 0;
	copy_trim(line, (size_t)(eq - line), k, sizeof(k));
	copy_trim(eq + 1, strlen(eq + 1), v, sizeof(v));
	pf_param(userdata, k, v);
	return 0;
}

static bool pf_yes(const char *v)
{
	return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* The TCP port of a master.cf service name: a number, the usual names, /etc/services. */
static int pf_port(const char *name)
{
	static const struct { const char *name; uint16_t port; } usual[] = {
		{ "smtp", 25 }, { "submission", 587 }, { "submissions", 465 },
		{ "smtps", 465 }, { "ssmtp", 465 }, { "lmtp", 24 },
	};
	struct servent *se;
	int port = parse_port(name);

	if (port >= 0)
		return port;
	for (size_t i = 0; i < ELEMENTSOF(usual); i++)
		if (strcmp(name, usual[i].name) == 0)
			return usual[i].port;
	se = getservbyname(name, "tcp");
	return se ? ntohs((uint16_t)se->s_port) : -1;
}

/* Splits a master.cf entry into words; "{ ... }" is one word, braces removed. */
static size_t pf_words(const char *line, char words[MAX_ARGS][MAX_VALUE])
{
	size_t n = 0;
	const char *p = line;

	while (*p && n < MAX_ARGS) {
		size_t len;

		p += strspn(p, " \t");
		if (!*p)
			break;
		if (*p == '{') {
			const char *end = strchr(p, '}');
			len = end ? (size_t)(end - p) + 1 : strlen(p);
			copy_trim(p + 1, end ? len - 2 : len - 1, words[n++], MAX_VALUE);
		} else {
			len = strcspn(p, " \t");
			copy_trim(p, len, words[n++], MAX_VALUE);
		}
		p += len;
	}
	return n;
}

/* The certificate and key of smtpd with these parameters; false: none. */
static bool pf_pair(struct discovered *d, const char *service, const struct pf_params *p,
		    char *cert, char *key, size_t size)
{
	char files[4][MAX_VALUE];
	size_t n = 0;

	for (const char *s = p->chain_files; *s && n < 4;) {
		size_t len;

		s += strspn(s, ", \t");
		len = strcspn(s, ", \t");
		if (len)
			copy_trim(s, len, files[n++], MAX_VALUE);
		s += len;
	}
	if (n > 0) {
		/* smtpd_tls_chain_files: each key followed by its chain, in one
		 * file or across several; the first pair is the one listed. */
		snprintf(key, size, "%s", files[0]);
		snprintf(cert, size, "%s", n > 1 ? files[1] : files[0]);
		if (n > 2)
			note(d, "%s: only the first key and chain of smtpd_tls_chain_files are listed",
			     show(service).s);
	} else {
		snprintf(cert, size, "%s", p->cert);
		snprintf(key, size, "%s", p->key[0] ? p->key : p->cert);
	}
	if (!cert[0] || cert[0] != '/' || key[0] != '/') {
		if (cert[0] || key[0])
			note(d, "%s: skipped: certificate or key is not an absolute path",
			     show(service).s);
		return false;
	}
	return true;
}

struct pf_state {
	struct discovered *d;
	const struct pf_params *main;
	char main_cert[MAX_VALUE], main_key[MAX_VALUE];
	char entry[MAX_LINE + 1];      /* the entry being read (continuations joined) */
};

static int pf_entry(struct pf_state *s)
{
	char (*w)[MAX_VALUE] = calloc(MAX_ARGS, MAX_VALUE);
	struct pf_params p = *s->main;
	char cert[MAX_VALUE], key[MAX_VALUE], address[MAX_VALUE], name[MAX_VALUE];
	const char *svc, *colon, *portname;
	bool postscreen, implicit;
	size_t n;
	int port, r = 0;

	if (!w)
		return -ENOMEM;
	n = pf_words(s->entry, w);
	s->entry[0] = '\0';
	if (n < 8 || strcmp(w[1], "inet") != 0)
		goto out;
	postscreen = strcmp(w[7], "postscreen") == 0;
	if (strcmp(w[7], "smtpd") != 0 && !postscreen)
		goto out;
	for (size_t i = 8; i + 1 < n; i++)
		if (strcmp(w[i], "-o") == 0) {
			const char *eq = strchr(w[i + 1], '=');
			char k[MAX_VALUE], v[MAX_VALUE];

			if (!eq)
				continue;
			copy_trim(w[i + 1], (size_t)(eq - w[i + 1]), k, sizeof(k));
			copy_trim(eq + 1, strlen(eq + 1), v, sizeof(v));
			pf_param(&p, k, v);
			i++;
		}
	svc = w[0];
	/* host:port, [v6]:port, or a port alone */
	colon = strrchr(svc, ':');
	if (colon && (svc[0] != '[' || colon > strchr(svc, ']'))) {
		char host[MAX_VALUE];

		copy_trim(svc, (size_t)(colon - svc), host, sizeof(host));
		connect_address(host, address, sizeof(address));
		portname = colon + 1;
	} else {
		if (!pick_address(p.interfaces[0] ? p.interfaces : "all", address, sizeof(address)))
			goto out;
		if (strcasecmp(address, "loopback-only") == 0 || strcasecmp(address, "localhost") == 0)
			snprintf(address, sizeof(address), "127.0.0.1");
		portname = svc;
	}
	port = pf_port(portname);
	if (port <= 0) {
		r = note(s->d, "%s: skipped: unknown port", show(svc).s);
		goto out;
	}
	implicit = pf_yes(p.wrapper) && !postscreen;
	if (!implicit && (p.level[0] ? strcmp(p.level, "none") == 0
				     : !pf_yes(p.use_tls) && !pf_yes(p.enforce_tls))) {
		r = note(s->d, "%s: skipped: no TLS (smtpd_tls_security_level = %s)", show(svc).s,
			 p.level[0] ? show(p.level).s : "none");
		goto out;
	}
	if (!pf_pair(s->d, svc, &p, cert, key, sizeof(cert))) {
		r = note(s->d, "%s: skipped: no certificate", show(svc).s);
		goto out;
	}
	if (parse_port(portname) >= 0 || colon)
		snprintf(name, sizeof(name), "smtpd-%d", port);
	else
		snprintf(name, sizeof(name), "%s", svc);
	r = add_endpoint(s->d, name, address, (unsigned)port,
			 implicit ? -1 : starttls_lookup("smtp"), NULL,
			 strcmp(cert, s->main_cert) ? cert : NULL,
			 strcmp(key, s->main_key) ? key : NULL);
out:
	free(w);
	return r;
}

static int pf_master_line(const char *line, bool cut, void *userdata)
{
	struct pf_state *s = userdata;
	size_t used = strlen(s->entry);
	int r;

	if (line[0] == '#' || cut)
		return 0;
	if (isspace((unsigned char)line[0])) {     /* a continuation (postconf -Mf) */
		snprintf(s->entry + used, sizeof(s->entry) - used, " %s", line);
		return 0;
	}
	if (used && (r = pf_entry(s)) < 0)
		return r;
	snprintf(s->entry, sizeof(s->entry), "%s", line);
	return 0;
}

int discover_postfix(const char *main_text, size_t main_len,
		     const char *master_text, size_t master_len, struct discovered *ret)
{
	struct pf_params *p = calloc(1, sizeof(*p));
	struct pf_state *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	*ret = (struct discovered){ 0 };
	if (!p || !s)
		goto out;
	r = for_each_line(main_text, main_len, pf_main_line, p);
	s->d = ret;
	s->main = p;
	if (r >= 0 && pf_pair(ret, "main.cf", p, s->main_cert, s->main_key, MAX_VALUE)) {
		if ((r = dup_or_null(s->main_cert, &ret->cert)) >= 0)
			r = dup_or_null(s->main_key, &ret->key);
	}
	if (r >= 0)
		r = for_each_line(master_text, master_len, pf_master_line, s);
	if (r >= 0 && s->entry[0])
		r = pf_entry(s);
	if (r >= 0 && p->hostname[0])
		r = dup_or_null(p->hostname, &ret->hostname);
out:
	if (r < 0)
		discovered_done(ret);
	free(p);
	free(s);
	return r;
}

/* ---- nginx: nginx -T --------------------------------------------------------------- */

/*
 * nginx -T prints every file it read, each after a line
 * "# configuration file PATH:", in the order read, each once; include
 * directives stay as they are.  The parser tokenises each file as nginx
 * does (words, quotes with backslash escapes, ";", "{", "}", "#" comments)
 * and follows includes by matching their pattern against the printed names.
 */
struct ng_file {
	char name[MAX_VALUE];
	const char *text;
	size_t len;
};

struct ng_listen {
	char address[MAX_VALUE];
	int port;
	bool ssl, wildcard, v6any;
};

struct ng_server {
	bool stream;
	bool ssl_on;
	char cert[MAX_VALUE], key[MAX_VALUE];
	char sni[MAX_VALUE], first_name[MAX_VALUE];
	struct ng_listen listens[16];
	size_t n_listens;
	bool has_listen, proxy_protocol;
};

struct ng_state {
	struct discovered *d;
	struct ng_file *files;
	size_t n_files;
	char conf_dir[MAX_VALUE];
	char http_cert[MAX_VALUE], http_key[MAX_VALUE];
	char stream_cert[MAX_VALUE], stream_key[MAX_VALUE];
	struct ng_server *servers;
	size_t n_servers;
	unsigned plain, included;
	size_t include_budget;   /* bytes that includes may still make us read */
	bool noted_mail, noted_depth, noted_servers, noted_includes;
};

enum ng_ctx { NG_MAIN, NG_HTTP, NG_STREAM, NG_SERVER, NG_OTHER };

enum ng_tok { TOK_WORD, TOK_SEMI, TOK_OPEN, TOK_CLOSE, TOK_END };

struct ng_lexer {
	const char *p, *end;
	char word[MAX_LINE + 1];
	bool cut;
};

static enum ng_tok ng_next(struct ng_lexer *lx)
{
	size_t n = 0;

	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p))
			lx->p++;
		if (lx->p >= lx->end)
			return TOK_END;
		if (*lx->p != '#')
			break;
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
	}
	lx->cut = false;
	switch (*lx->p) {
	case ';': lx->p++; return TOK_SEMI;
	case '{': lx->p++; return TOK_OPEN;
	case '}': lx->p++; return TOK_CLOSE;
	case '"':
	case '\'': {
		char q = *lx->p++;
		while (lx->p < lx->end && *lx->p != q) {
			char c = *lx->p++;
			if (c == '\\' && lx->p < lx->end &&
			    (*lx->p == q || *lx->p == '\\'))
				c = *lx->p++;
			if (n < MAX_LINE)
				lx->word[n++] = c;
			else
				lx->cut = true;
		}
		if (lx->p < lx->end)
			lx->p++;
		break;
	}
	default:
		while (lx->p < lx->end && !isspace((unsigned char)*lx->p) && *lx->p != ';' &&
		       *lx->p != '{' && *lx->p != '}') {
			if (n < MAX_LINE)
				lx->word[n++] = *lx->p;
			else
				lx->cut = true;
			lx->p++;
		}
	}
	lx->word[n] = '\0';
	return TOK_WORD;
}

/* An absolute path for a file named in nginx's configuration. */
static void ng_path(const struct ng_state *s, const char *v, char *out, size_t outlen)
{
	if (v[0] == '/' || !v[0])
		snprintf(out, outlen, "%s", v);
	else
		snprintf(out, outlen, "%s/%s", s->conf_dir, v);
}

static void ng_listen(struct ng_server *sv, char args[][MAX_VALUE], size_t n)
{
	struct ng_listen l = { .port = 80 };
	const char *a = args[1];
	char host[MAX_VALUE] = "*";

	sv->has_listen = true;
	if (strncmp(a, "unix:", 5) == 0)
		return;
	for (size_t i = 2; i < n; i++) {
		if (strcmp(args[i], "ssl") == 0)
			l.ssl = true;
		else if (strcmp(args[i], "quic") == 0)
			return;                       /* UDP: nothing to probe over TCP */
		else if (strcmp(args[i], "proxy_protocol") == 0)
			sv->proxy_protocol = true;
	}
	if (a[0] == '[') {
		const char *rb = strchr(a, ']');
		if (!rb)
			return;
		copy_trim(a, (size_t)(rb - a) + 1, host, sizeof(host));
		if (rb[1] == ':')
			l.port = parse_port(rb + 2);
	} else if (strchr(a, ':')) {
		const char *colon = strrchr(a, ':');
		copy_trim(a, (size_t)(colon - a), host, sizeof(host));
		l.port = parse_port(colon + 1);
	} else if (parse_port(a) >= 0) {
		l.port = parse_port(a);
	} else {
		snprintf(host, sizeof(host), "%s", a);
	}
	if (l.port <= 0)
		return;
	l.wildcard = strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0;
	l.v6any = strcmp(host, "[::]") == 0;
	connect_address(host, l.address, sizeof(l.address));
	/* [::]:443 beside *:443 is the same service on the other family:
	 * probing the IPv4 one is enough, and needs no IPv6 on the host. */
	for (size_t i = 0; i < sv->n_listens; i++) {
		struct ng_listen *o = &sv->listens[i];
		if (o->port != l.port)
			continue;
		if (strcmp(o->address, l.address) == 0 || (o->wildcard && l.v6any)) {
			o->ssl |= l.ssl;
			return;
		}
		if (o->v6any && l.wildcard) {
			*o = l;
			return;
		}
	}
	if (sv->n_listens < ELEMENTSOF(sv->listens))
		sv->listens[sv->n_listens++] = l;
}

/* The first server_name a client could send as SNI: no "_", wildcard or regex. */
static void ng_server_name(struct ng_server *sv, char args[][MAX_VALUE], size_t n)
{
	for (size_t i = 1; i < n; i++) {
		const char *v = args[i];
		if (!sv->first_name[0] && v[0] && strcmp(v, "_") != 0 && v[0] != '~')
			snprintf(sv->first_name, sizeof(sv->first_name), "%s", v[0] == '*' ||
				 v[0] == '.' ? v + 1 + (v[0] == '*' && v[1] == '.') : v);
		if (!sv->sni[0] && v[0] && strcmp(v, "_") != 0 && v[0] != '~' && v[0] != '.' &&
		    !strchr(v, '*') && !strchr(v, '$'))
			snprintf(sv->sni, sizeof(sv->sni), "%s", v);
	}
}

static int ng_block(struct ng_state *s, struct ng_lexer *lx, enum ng_ctx ctx,
		    struct ng_server *sv, unsigned depth);

/* Parses every printed file that the include pattern names, in place. */
static int ng_include(struct ng_state *s, const char *pattern, enum ng_ctx ctx,
		      struct ng_server *sv, unsigned depth)
{
	char path[MAX_VALUE];
	int r;

	ng_path(s, pattern, path, sizeof(path));
	for (size_t i = 0; i < s->n_files; i++) {
		struct ng_lexer lx = { .p = s->files[i].text, .end = s->files[i].text + s->files[i].len };

		if (fnmatch(path, s->files[i].name, FNM_PATHNAME) != 0)
			continue;
		/* A file included many times over (or by itself) must not
		 * multiply the work without end. */
		if (++s->included > MAX_INCLUDES || s->files[i].len > s->include_budget) {
			if (s->noted_includes)
				return 0;
			s->noted_includes = true;
			return note(s->d, "more than %d includes, or includes of more than 8 times "
				    "the whole dump: the rest are not read", MAX_INCLUDES);
		}
		s->include_budget -= s->files[i].len;
		if ((r = ng_block(s, &lx, ctx, sv, depth + 1)) < 0)
			return r;
	}
	return 0;
}

static int ng_server_done(struct ng_state *s, struct ng_server *sv)
{
	if (s->n_servers >= MAX_ITEMS) {
		if (!s->noted_servers) {
			s->noted_servers = true;
			return note(s->d, "more than %d server blocks: the rest are not listed",
				    MAX_ITEMS);
		}
		return 0;
	}
	if (s->n_servers % 16 == 0) {
		struct ng_server *more = reallocarray(s->servers, s->n_servers + 16, sizeof(*more));
		if (!more)
			return -ENOMEM;
		s->servers = more;
	}
	s->servers[s->n_servers++] = *sv;
	return 0;
}

static int ng_directive(struct ng_state *s, enum ng_ctx ctx, struct ng_server *sv,
			char args[][MAX_VALUE], size_t n, unsigned depth)
{
	const char *d = args[0];
	bool ssl_cert = strcmp(d, "ssl_certificate") == 0;
	bool ssl_key = strcmp(d, "ssl_certificate_key") == 0;

	if (n < 2)
		return 0;
	if (strcmp(d, "include") == 0)
		return ng_include(s, args[1], ctx, sv, depth);
	if (ctx == NG_SERVER) {
		if (strcmp(d, "listen") == 0)
			ng_listen(sv, args, n);
		else if (strcmp(d, "server_name") == 0)
			ng_server_name(sv, args, n);
		else if (strcmp(d, "ssl") == 0)
			sv->ssl_on = strcmp(args[1], "on") == 0;
		/* Several certificates (RSA and ECDSA): the first is listed. */
		else if (ssl_cert && !sv->cert[0])
			ng_path(s, args[1], sv->cert, sizeof(sv->cert));
		else if (ssl_key && !sv->key[0])
			ng_path(s, args[1], sv->key, sizeof(sv->key));
	} else if (ctx == NG_HTTP || ctx == NG_STREAM) {
		char *cert = ctx == NG_HTTP ? s->http_cert : s->stream_cert;
		char *key = ctx == NG_HTTP ? s->http_key : s->stream_key;
		if (ssl_cert && !cert[0])
			ng_path(s, args[1], cert, MAX_VALUE);
		else if (ssl_key && !key[0])
			ng_path(s, args[1], key, MAX_VALUE);
	}
	return 0;
}

static int ng_block(struct ng_state *s, struct ng_lexer *lx, enum ng_ctx ctx,
		    struct ng_server *sv, unsigned depth)
{
	char (*args)[MAX_VALUE] = NULL;
	size_t n = 0;
	int r = 0;

	if (depth > MAX_DEPTH) {
		if (!s->noted_depth) {
			s->noted_depth = true;
			r = note(s->d, "blocks or includes nested more than %d deep are not read",
				 MAX_DEPTH);
		}
		return r;
	}
	args = calloc(MAX_ARGS, MAX_VALUE);
	if (!args)
		return -ENOMEM;
	for (;;) {
		enum ng_tok t = ng_next(lx);

		if (t == TOK_END || t == TOK_CLOSE)
			break;
		if (t == TOK_WORD) {
			if (n < MAX_ARGS)
				snprintf(args[n++], MAX_VALUE, "%s", lx->word);
			continue;
		}
		if (t == TOK_SEMI) {
			if (n > 0 && (r = ng_directive(s, ctx, sv, args, n, depth)) < 0)
				break;
			n = 0;
			continue;
		}
		/* TOK_OPEN: a block; its context decides what is read inside. */
		if (n > 0 && strcmp(args[0], "http") == 0 && ctx == NG_MAIN) {
			r = ng_block(s, lx, NG_HTTP, NULL, depth + 1);
		} else if (n > 0 && strcmp(args[0], "stream") == 0 && ctx == NG_MAIN) {
			r = ng_block(s, lx, NG_STREAM, NULL, depth + 1);
		} else if (n > 0 && strcmp(args[0], "server") == 0 &&
			   (ctx == NG_HTTP || ctx == NG_STREAM)) {
			struct ng_server *nsv = calloc(1, sizeof(*nsv));
			if (!nsv) {
				r = -ENOMEM;
				break;
			}
			nsv->stream = ctx == NG_STREAM;
			if ((r = ng_block(s, lx, NG_SERVER, nsv, depth + 1)) >= 0)
				r = ng_server_done(s, nsv);
			free(nsv);
		} else {
			if (n > 0 && strcmp(args[0], "mail") == 0 && ctx == NG_MAIN && !s->noted_mail) {
				s->noted_mail = true;
				if ((r = note(s->d, "the mail { } block is not read: add its "
					      "endpoints by hand")) < 0)
					break;
			}
			r = ng_block(s, lx, NG_OTHER, NULL, depth + 1);
		}
		if (r < 0)
			break;
		n = 0;
	}
	free(args);
	return r;
}

static int ng_endpoints(struct ng_state *s)
{
	struct discovered *d = s->d;
	int r;

	for (size_t i = 0; i < s->n_servers; i++) {
		const struct ng_server *sv = &s->servers[i];
		const char *cert = sv->cert[0] ? sv->cert : sv->stream ? s->stream_cert : s->http_cert;
		const char *key = sv->key[0] ? sv->key : sv->stream ? s->stream_key : s->http_key;
		const char *label = sv->first_name[0] ? sv->first_name :
				    sv->stream ? "stream" : "default";
		struct ng_listen deflt = { .address = "127.0.0.1", .port = 80, .wildcard = true };
		const struct ng_listen *ls = sv->listens;
		size_t n_ssl = 0, n_listens = sv->n_listens;

		if (!sv->has_listen && !sv->stream) {     /* nginx's default: *:80 */
			ls = &deflt;
			n_listens = 1;
		}
		for (size_t j = 0; j < n_listens; j++)
			n_ssl += ls[j].ssl || sv->ssl_on;
		if (n_ssl == 0) {
			s->plain++;
			continue;
		}
		if (sv->proxy_protocol) {
			if ((r = note(d, "server %s: skipped: it expects the PROXY protocol",
				      show(label).s)) < 0)
				return r;
			continue;
		}
		if (!cert[0] || !key[0] || strchr(cert, '$') || strchr(key, '$') ||
		    strncmp(cert, "data:", 5) == 0) {
			if ((r = note(d, "server %s: skipped: %s", show(label).s,
				      !cert[0] || !key[0] ? "no ssl_certificate or ssl_certificate_key"
							  : "the certificate is chosen at run time")) < 0)
				return r;
			continue;
		}
		for (size_t j = 0; j < n_listens; j++) {
			char name[MAX_VALUE];

			if (!ls[j].ssl && !sv->ssl_on)
				continue;
			if (n_ssl > 1)
				snprintf(name, sizeof(name), "%.*s-%d", MAX_NAME - 12, label, ls[j].port);
			else
				snprintf(name, sizeof(name), "%s", label);
			if ((r = add_endpoint(d, name, ls[j].address, (unsigned)ls[j].port, -1,
					      sv->sni[0] ? sv->sni : NULL, cert, key)) < 0)
				return r;
		}
	}
	if (s->plain > 0 && (r = note(d, "%u server block%s without TLS skipped", s->plain,
				      s->plain == 1 ? "" : "s")) < 0)
		return r;
	return 0;
}

/* Splits the dump into the files it printed. */
static int ng_split(struct ng_state *s, const char *text, size_t len)
{
	static const char head[] = "# configuration file ";
	size_t i = 0, n_heads = 0;

	for (const char *p = text; p && (size_t)(p - text) < len; p = memchr(p, '\n', len - (size_t)(p - text))) {
		p += *p == '\n';
		n_heads += (size_t)(text + len - p) >= sizeof(head) - 1 &&
			   memcmp(p, head, sizeof(head) - 1) == 0;
	}
	if (n_heads > MAX_FILES)
		n_heads = MAX_FILES;
	if (n_heads == 0)
		return 0;
	s->files = calloc(n_heads, sizeof(*s->files));
	if (!s->files)
		return -ENOMEM;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;

		if (n > sizeof(head) && memcmp(text + i, head, sizeof(head) - 1) == 0 &&
		    text[i + n - 1] == ':' && s->n_files < n_heads) {
			struct ng_file *f = &s->files[s->n_files++];
			copy_trim(text + i + sizeof(head) - 1, n - sizeof(head), f->name,
				  sizeof(f->name));
			f->text = text + i + n;
			f->len = 0;
		}
		i += n + 1;
		if (s->n_files > 0) {
			struct ng_file *f = &s->files[s->n_files - 1];
			f->len = (size_t)((i < len ? text + i : text + len) - f->text);
		}
	}
	return 0;
}

int discover_nginx(const char *text, size_t len, struct discovered *ret)
{
	struct ng_state *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	*ret = (struct discovered){ 0 };
	if (!s)
		goto out;
	s->d = ret;
	s->include_budget = len * 8 + 65536;
	if ((r = ng_split(s, text, len)) < 0)
		goto out;
	if (s->n_files == 0) {
		r = note(ret, "no configuration file in the output of nginx -T");
		goto out;
	}
	/* Relative paths are relative to the directory of the main file. */
	snprintf(s->conf_dir, sizeof(s->conf_dir), "%s", s->files[0].name);
	if (strrchr(s->conf_dir, '/'))
		*strrchr(s->conf_dir, '/') = '\0';
	else
		snprintf(s->conf_dir, sizeof(s->conf_dir), "/etc/nginx");
	{
		struct ng_lexer lx = { .p = s->files[0].text, .end = s->files[0].text + s->files[0].len };
		r = ng_block(s, &lx, NG_MAIN, NULL, 0);
	}
	if (r >= 0)
		r = ng_endpoints(s);
out:
	if (r < 0)
		discovered_done(ret);
	if (s) {
		free(s->files);
		free(s->servers);
	}
	free(s);
	return r;
}

/* ---- running the dumps ------------------------------------------------------------------ */

struct cmd_result {
	char *out;           /* stdout, NUL-terminated */
	size_t out_len;
	char err[MAX_STDERR];
	size_t err_len;
	int status;          /* exit status, or 128 + signal */
	bool timed_out, too_long;
};

static void cmd_result_done(struct cmd_result *r)
{
	if (r->out) {
		/* doveconf -P shows secrets such as ssl_key_password. */
		explicit_bzero(r->out, r->out_len);
		free(r->out);
	}
	*r = (struct cmd_result){ 0 };
}

/* Finds name in the colon-separated search path; *ret is a malloc'ed path. */
static int find_program(const char *search, const char *name, char **ret)
{
	const char *p = search;

	while (*p) {
		size_t n = strcspn(p, ":");
		char *path;

		if (n > 0 && p[0] == '/') {
			if (asprintf(&path, "%.*s/%s", (int)n, p, name) < 0)
				return -ENOMEM;
			if (access(path, X_OK) == 0) {
				*ret = path;
				return 0;
			}
			free(path);
		}
		p += n;
		p += *p == ':';
	}
	return -ENOENT;
}

static int run_command(char *const argv[], uint64_t timeout_usec, struct cmd_result *ret)
{
	static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	uint64_t deadline = now_monotonic_usec() + timeout_usec;
	size_t cap = 65536;
	pid_t pid = -1;
	int r, wstatus;

	*ret = (struct cmd_result){ 0 };
	if (!(ret->out = malloc(cap + 1)))
		return -ENOMEM;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					POSIX_SPAWN_SETPGROUP);
	r = -posix_spawn(&pid, argv[0], &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	if (r < 0) {
		pid = -1;
		goto out;
	}

	for (;;) {
		struct pollfd pfd[2] = { { .fd = out[0], .events = POLLIN },
					 { .fd = err[0], .events = POLLIN } };
		uint64_t now = now_monotonic_usec();
		char buf[8192];
		ssize_t n;

		if (pfd[0].fd < 0 && pfd[1].fd < 0)
			break;
		if (now >= deadline) {
			ret->timed_out = true;
			break;
		}
		if (poll(pfd, 2, (int)((deadline - now + 999) / 1000)) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (pfd[0].revents) {
			n = read(out[0], buf, sizeof(buf));
			if (n <= 0) {
				close(out[0]);
				out[0] = -1;
			} else if (ret->out_len + (size_t)n > DISCOVER_MAX_OUTPUT) {
				ret->too_long = true;
				break;
			} else {
				if (ret->out_len + (size_t)n > cap) {
					char *bigger;
					cap = cap * 2 > DISCOVER_MAX_OUTPUT ? DISCOVER_MAX_OUTPUT : cap * 2;
					if (!(bigger = realloc(ret->out, cap + 1))) {
						r = -ENOMEM;
						goto out;
					}
					ret->out = bigger;
				}
				memcpy(ret->out + ret->out_len, buf, (size_t)n);
				ret->out_len += (size_t)n;
			}
		}
		if (pfd[1].revents) {
			n = read(err[0], buf, sizeof(buf));
			if (n <= 0) {
				close(err[0]);
				err[0] = -1;
			} else {
				size_t keep = sizeof(ret->err) - 1 - ret->err_len;
				if ((size_t)n < keep)
					keep = (size_t)n;
				memcpy(ret->err + ret->err_len, buf, keep);
				ret->err_len += keep;
			}
		}
	}
	r = 0;
out:
	if (pid > 0) {
		if (ret->timed_out || ret->too_long || r < 0)
			kill(-pid, SIGKILL);
		while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
			;
		ret->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	}
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (ret->out)
		ret->out[ret->out_len] = '\0';
	ret->err[ret->err_len] = '\0';
	if (r < 0)
		cmd_result_done(ret);
	return r;
}

/* ---- writing the configuration ----------------------------------------------------------- */

static void print_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == '$')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

static void print_argv(FILE *f, const char *key, char *const argv[])
{
	fprintf(f, "\t%s = {", key);
	for (size_t i = 0; argv[i]; i++) {
		fputs(i ? ", " : "", f);
		print_str(f, argv[i]);
	}
	fputs("}\n", f);
}

/* A name the certificate covers: the daemon's host name, else its first DNS name. */
static char *name_from_cert(const char *cert, const char *hostname, const struct discovered *d)
{
	struct disk_pair p;
	char *name = NULL;

	if (!cert || disk_pair_load(cert, NULL, NULL, NULL, time(NULL), &p) < 0)
		return NULL;
	if (p.have_leaf) {
		if (hostname && printable(hostname) && cert_info_covers(&p.leaf, hostname))
			name = strdup(hostname);
		for (size_t i = 0; !name && i < p.leaf.n_sans; i++) {
			const char *san = p.leaf.sans[i];
			unsigned char buf[16];
			bool taken = false;

			if (strchr(san, '*') || !printable(san) || inet_pton(AF_INET, san, buf) == 1 ||
			    inet_pton(AF_INET6, san, buf) == 1)
				continue;
			/* Another endpoint sends it: the daemon would pick that one's pair. */
			for (size_t j = 0; j < d->n_endpoints; j++)
				taken |= d->endpoints[j].sni && strcasecmp(d->endpoints[j].sni, san) == 0;
			if (!taken)
				name = strdup(san);
		}
	}
	disk_pair_done(&p);
	return name;
}

/*
 * Each daemon: its dumps, and the commands written into its service.  A
 * command is a program (looked up in the search path, else the usual
 * absolute path) and arguments that follow the private-instance options.
 */
struct daemon_cmd {
	const char *program, *usual_path;
	const char *args[3];
};

static const struct daemon_def {
	const char *service;     /* certwatch's service name */
	const char *unit;        /* systemd unit */
	struct daemon_cmd dumps[2], reload, check;
} daemons[] = {
	{ "dovecot", "dovecot.service",
	  { { "doveconf", "/usr/bin/doveconf", { "-P", "-n" } },
	    { "doveconf", "/usr/bin/doveconf", { "-h", "protocols" } } },
	  { "doveadm", "/usr/bin/doveadm", { "reload" } },
	  { "doveconf", "/usr/bin/doveconf", { "-n" } } },
	{ "postfix", "postfix.service",
	  { { "postconf", "/usr/sbin/postconf", { "-n", "-x" } },
	    { "postconf", "/usr/sbin/postconf", { "-M", "-x" } } },
	  { "postfix", "/usr/sbin/postfix", { "reload" } },
	  { "postfix", "/usr/sbin/postfix", { "check" } } },
	{ "nginx", "nginx.service",
	  { { "nginx", "/usr/sbin/nginx", { "-T" } } },
	  { "nginx", "/usr/sbin/nginx", { "-s", "reload" } },
	  { "nginx", "/usr/sbin/nginx", { "-t" } } },
};

#define MAX_CMD_ARGS 12

/* A command's argv with the private-instance options; *ret_prog is to be freed. */
static int build_argv(const struct discover_options *o, const char *search, size_t which,
		      const struct daemon_cmd *cmd, char *argv[MAX_CMD_ARGS], char **ret_prog)
{
	size_t n = 0;
	int r = find_program(search, cmd->program, ret_prog);

	if (r == -ENOENT && !(*ret_prog = strdup(cmd->usual_path)))
		return -ENOMEM;
	if (r < 0 && r != -ENOENT)
		return r;
	argv[n++] = *ret_prog;
	if (which == 0 && o->dovecot_conf) {
		argv[n++] = (char *)"-c";
		argv[n++] = (char *)o->dovecot_conf;
	} else if (which == 1 && o->postfix_dir) {
		argv[n++] = (char *)"-c";
		argv[n++] = (char *)o->postfix_dir;
	} else if (which == 2) {
		if (o->nginx_prefix) {
			argv[n++] = (char *)"-p";
			argv[n++] = (char *)o->nginx_prefix;
		}
		if (o->nginx_conf) {
			argv[n++] = (char *)"-c";
			argv[n++] = (char *)o->nginx_conf;
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(cmd->args) && cmd->args[i]; i++)
		argv[n++] = (char *)cmd->args[i];
	argv[n] = NULL;
	return 0;
}

/* "doveconf -P -n", for messages. */
static void describe(const struct daemon_cmd *cmd, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s", cmd->program);

	for (size_t i = 0; i < ELEMENTSOF(cmd->args) && cmd->args[i] && n > 0 && (size_t)n < outlen; i++)
		n += snprintf(out + n, outlen - (size_t)n, " %s", cmd->args[i]);
}

static void print_service(FILE *f, const struct discover_options *o, const char *search,
			  size_t which, const struct discovered *d)
{
	const struct daemon_def *def = &daemons[which];
	bool private = which == 0 ? !!o->dovecot_conf : which == 1 ? !!o->postfix_dir
				  : o->nginx_conf || o->nginx_prefix;
	struct stat st;
	char *argv[MAX_CMD_ARGS], *prog = NULL;
	char *name = d->cert ? name_from_cert(d->cert, d->hostname, d) : NULL;

	fprintf(f, "service %s {\n", def->service);
	if (d->cert) {
		fputs("\tcert = ", f);
		print_str(f, d->cert);
		fputc('\n', f);
	}
	if (d->key) {
		fputs("\tkey = ", f);
		print_str(f, d->key);
		fputc('\n', f);
	}
	if (name) {
		fputs("\tname = ", f);
		print_str(f, name);
		fputc('\n', f);
	}
	/* A private instance is not the one systemd knows by the unit name. */
	if (!private && stat(o->systemd_dir ? o->systemd_dir : DEFAULT_SYSTEMD_DIR, &st) == 0) {
		fputs("\treload-unit = ", f);
		print_str(f, def->unit);
		fputc('\n', f);
	} else if (build_argv(o, search, which, &def->reload, argv, &prog) == 0) {
		print_argv(f, "reload-command", argv);
	}
	free(prog);
	prog = NULL;
	if (build_argv(o, search, which, &def->check, argv, &prog) == 0)
		print_argv(f, "reload-check", argv);
	free(prog);
	for (size_t i = 0; i < d->n_endpoints; i++) {
		const struct discovered_endpoint *e = &d->endpoints[i];
		char *ename = NULL;

		fprintf(f, "\tendpoint %s {\n\t\taddress = ", e->name);
		print_str(f, e->address);
		fprintf(f, "\n\t\tport = %u\n", e->port);
		if (e->starttls >= 0 && (size_t)e->starttls < starttls_n_drivers)
			fprintf(f, "\t\tstarttls = \"%s\"\n", starttls_drivers[e->starttls].name);
		/* An endpoint with a pair of its own needs a name its certificate covers. */
		if (!e->sni && e->cert)
			ename = name_from_cert(e->cert, NULL, d);
		if (e->sni || ename) {
			fputs("\t\tname = ", f);
			print_str(f, e->sni ? e->sni : ename);
			fputc('\n', f);
		}
		if (e->cert) {
			fputs("\t\tcert = ", f);
			print_str(f, e->cert);
			fputc('\n', f);
		}
		if (e->key) {
			fputs("\t\tkey = ", f);
			print_str(f, e->key);
			fputc('\n', f);
		}
		fputs("\t}\n", f);
		free(ename);
	}
	fputs("}\n", f);
	free(name);
}

/* The first line of a command's stderr, escaped, for a comment. */
static void first_line(const struct cmd_result *c, char *out, size_t outlen)
{
	size_t n = strcspn(c->err, "\n");

	escape_bytes(c->err, n, out, outlen);
}

/*
 * One daemon: run its dumps, parse, print.  Returns 1 when a service was
 * written, 0 when a comment was, or a negative errno.
 */
static int discover_one(FILE *f, const struct discover_options *o, const char *search, size_t which)
{
	const struct daemon_def *def = &daemons[which];
	struct cmd_result res[2] = { { 0 } };
	struct discovered d = { 0 };
	uint64_t timeout = o->timeout_usec ? o->timeout_usec : DEFAULT_TIMEOUT_USEC;
	char *progs[2] = { NULL, NULL }, *argv[MAX_CMD_ARGS];
	int r;

	if ((r = find_program(search, def->dumps[0].program, &progs[0])) == -ENOENT) {
		fprintf(f, "# %s: not installed (%s: command not found)\n", def->service,
			def->dumps[0].program);
		return 0;
	}
	if (r < 0)
		return r;
	for (size_t k = 0; k < ELEMENTSOF(def->dumps) && def->dumps[k].program; k++) {
		char what[64], msg[300];

		free(progs[k]);
		progs[k] = NULL;
		if ((r = build_argv(o, search, which, &def->dumps[k], argv, &progs[k])) < 0)
			goto out;
		describe(&def->dumps[k], what, sizeof(what));
		if ((r = run_command(argv, timeout, &res[k])) < 0) {
			fprintf(f, "# %s: cannot run %s: %s\n", def->service, show(progs[k]).s,
				strerror(-r));
			r = 0;
			goto out;
		}
		first_line(&res[k], msg, sizeof(msg));
		if (res[k].timed_out)
			fprintf(f, "# %s: %s did not finish in time\n", def->service, what);
		else if (res[k].too_long)
			fprintf(f, "# %s: %s printed more than %u bytes\n", def->service, what,
				DISCOVER_MAX_OUTPUT);
		else if (res[k].status != 0)
			fprintf(f, "# %s: %s failed (exit %d): %s\n", def->service, what,
				res[k].status, msg);
		else
			continue;
		r = 0;
		goto out;
	}
	if (which == 0) {
		res[1].out[strcspn(res[1].out, "\n")] = '\0';
		r = discover_dovecot(res[0].out, res[0].out_len, res[1].out, &d);
	} else if (which == 1) {
		r = discover_postfix(res[0].out, res[0].out_len, res[1].out, res[1].out_len, &d);
	} else {
		r = discover_nginx(res[0].out, res[0].out_len, &d);
	}
	if (r < 0)
		goto out;
	for (size_t i = 0; i < d.n_notes; i++)
		fprintf(f, "# %s: %s\n", def->service, d.notes[i]);
	if (d.n_endpoints == 0) {
		fprintf(f, "# %s: no TLS endpoint found\n", def->service);
		r = 0;
		goto out;
	}
	print_service(f, o, search, which, &d);
	r = 1;
out:
	discovered_done(&d);
	cmd_result_done(&res[0]);
	cmd_result_done(&res[1]);
	free(progs[0]);
	free(progs[1]);
	return r;
}

int discover_write_opts(FILE *out, const struct discover_options *o, char *err, size_t errlen)
{
	const char *search = o->search_path ? o->search_path : DEFAULT_SEARCH_PATH;
	int found = 0, r;

	fputs("# Written by certwatch discover from the daemons' own configuration dumps.\n"
	      "# Review it, then install it as /etc/certwatch/conf.d/NAME.conf (root's, mode 0600).\n",
	      out);
	for (size_t i = 0; i < ELEMENTSOF(daemons); i++) {
		if ((r = discover_one(out, o, search, i)) < 0) {
			snprintf(err, errlen, "discovering %s: %s", daemons[i].service, strerror(-r));
			return r;
		}
		found += r;
	}
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "cannot write the configuration: %s", strerror(errno));
		return -EIO;
	}
	return found;
}

int discover_write(FILE *out, char *err, size_t errlen)
{
	static const struct discover_options defaults = { 0 };

	return discover_write_opts(out, &defaults, err, errlen);
}
