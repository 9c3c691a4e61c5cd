/*
 * discover-dovecot.c - discover_dovecot(): the TLS endpoints of Dovecot
 * from `doveconf -P -n`.
 *
 * The dump is nested "type name {" sections of "key = value" lines.  What
 * is read: the global ssl, ssl_cert, ssl_key, protocols, listen and
 * hostname; each service's inet_listener (port, address, ssl, haproxy);
 * protocol and local_name sections' own pairs.  Built-in services keep
 * Dovecot's default listeners unless the dump changes them; a local_name
 * with its own pair becomes an endpoint that sends that name as SNI.
 * Certificates chosen by local or remote address, and alternative
 * certificates, are left to the user with a note.  Pure: no I/O.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "discover-int.h"
#include "starttls.h"
#include "util.h"

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

static bool word_in_list(const char *list, const char *word)
{
	const char *p = list, *item;
	size_t n;

	while ((item = disc_list_next(&p, &n)))
		if (n == strlen(word) && strncmp(item, word, n) == 0)
			return true;
	return false;
}

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
		disc_copy_trim(v + 1, strlen(v + 1), out, outlen);
		if (out[0] != '/') {
			disc_note(s->d, "%s: %s is not an absolute path", what, disc_show(out).s);
			out[0] = '\0';
		}
		return 0;
	}
	out[0] = '\0';
	if (v[0] == '#')
		return disc_note(s->d, "%s is hidden: run doveconf with -P to show its path", what);
	if (v[0])
		return disc_note(s->d, "%s is inline PEM, not a file: nothing to watch", what);
	return 0;
}

/*
 * ssl, ssl_cert and ssl_key, which mean the same at the top level and in a
 * protocol or local_name section.  Returns 1 when key is none of them.
 */
static int dc_tls_setting(struct dc_state *s, const char *key, const char *v, int *ssl,
			  char cert[MAX_VALUE], char keyfile[MAX_VALUE])
{
	if (strcmp(key, "ssl") == 0)
		*ssl = dc_ssl_value(v);
	else if (strcmp(key, "ssl_cert") == 0)
		return dc_path(s, "ssl_cert", v, cert, MAX_VALUE);
	else if (strcmp(key, "ssl_key") == 0)
		return dc_path(s, "ssl_key", v, keyfile, MAX_VALUE);
	else
		return 1;
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
	bool pair_key;
	int r;

	if (s->depth > MAX_DEPTH)
		return 0;
	if (s->depth == 0) {
		if ((r = dc_tls_setting(s, key, v, &s->ssl, s->cert, s->key)) <= 0)
			return r;
		if (strcmp(key, "protocols") == 0) {
			snprintf(s->protocols, sizeof(s->protocols), "%s", v);
			s->have_protocols = true;
		} else if (strcmp(key, "listen") == 0) {
			snprintf(s->listen, sizeof(s->listen), "%s", v);
			s->have_listen = true;
		} else if (strcmp(key, "hostname") == 0)
			snprintf(s->hostname, sizeof(s->hostname), "%s", v);
		else if (strcmp(key, "ssl_alt_cert") == 0 && v[0])
			return disc_note_once(s->d, &s->noted_alt,
					      "ssl_alt_cert is not listed: add an endpoint for it by hand");
		return 0;
	}
	if (s->depth == 2 && strcmp(st[0][0], "service") == 0 &&
	    strcmp(st[1][0], "inet_listener") == 0) {
		struct dc_listener *l = dc_listener(s, st[0][1], st[1][1], true);
		if (!l)
			return 0;
		if (strcmp(key, "port") == 0)
			l->port = disc_parse_port(v);
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
		r = dc_tls_setting(s, key, v, &p->ssl, p->cert, p->key);
		return r < 0 ? r : 0;
	}
	pair_key = strcmp(key, "ssl_cert") == 0 || strcmp(key, "ssl_key") == 0;
	if (strcmp(st[0][0], "local") == 0 || strcmp(st[0][0], "remote") == 0)
		return !pair_key ? 0 :
		       disc_note_once(s->d, &s->noted_local, "certificates chosen by \"local\" or "
				      "\"remote\" address are not listed: add endpoints for them by hand");
	if (strcmp(st[0][0], "local_name") == 0 && pair_key)
		return disc_note_once(s->d, &s->noted_local_proto, "per-protocol certificates "
				      "inside local_name %s are not listed", disc_show(st[0][1]).s);
	return 0;
}

static int dc_line(const char *line, bool cut, void *userdata)
{
	struct dc_state *s = userdata;
	char l[MAX_LINE + 1];
	const char *eq;
	size_t n;

	disc_copy_trim(line, strlen(line), l, sizeof(l));
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

		disc_copy_trim(l, n - 1, head, sizeof(head));
		if (s->depth < MAX_DEPTH) {
			char *type = s->stack[s->depth][0], *name = s->stack[s->depth][1];
			sp = head + strcspn(head, " \t");
			disc_copy_trim(head, (size_t)(sp - head), type, MAX_VALUE);
			disc_copy_trim(sp, strlen(sp), name, MAX_VALUE);
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

		disc_copy_trim(l, (size_t)(eq - l), key, sizeof(key));
		disc_copy_trim(eq + 2, strlen(eq + 2), value, sizeof(value));
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

/* The listeners of a built-in service: Dovecot's own, then those the dump adds. */
static size_t dc_listener_names(const struct dc_state *s, const struct dc_service *sv,
				const char *names[2 + MAX_ITEMS])
{
	size_t n = 0;

	for (size_t j = 0; j < ELEMENTSOF(sv->listeners) && sv->listeners[j].name; j++)
		names[n++] = sv->listeners[j].name;
	for (size_t j = 0; j < s->n_listeners; j++)
		if (strcmp(s->listeners[j].service, sv->service) == 0 &&
		    (n < 1 || strcmp(s->listeners[j].name, names[0]) != 0) &&
		    (n < 2 || strcmp(s->listeners[j].name, names[1]) != 0))
			names[n++] = s->listeners[j].name;
	return n;
}

/*
 * One listener of a service: an endpoint, a note saying why not, or
 * nothing for a listener that is switched off.  ssl is the protocol's (or
 * the global) ssl setting; proto the protocol's section, or NULL.
 */
static int dc_listener_endpoint(struct dc_state *s, const struct dc_service *sv,
				const struct dc_pair *proto, int ssl, const char *name)
{
	const struct dc_listener *l = dc_listener(s, sv->service, name, false);
	const char *cert = proto && proto->cert[0] ? proto->cert : NULL;
	const char *key = proto && proto->key[0] ? proto->key : NULL;
	char address[MAX_VALUE];
	bool implicit = false;
	int port = 0;

	for (size_t k = 0; k < ELEMENTSOF(sv->listeners) && sv->listeners[k].name; k++)
		if (strcmp(sv->listeners[k].name, name) == 0) {
			port = sv->listeners[k].port;
			implicit = sv->listeners[k].ssl;
		}
	if (l && l->port >= 0)
		port = l->port;
	if (l && l->ssl >= 0)
		implicit = l->ssl;
	if (port <= 0)
		return 0;        /* port = 0 disables a listener */
	if (l && l->haproxy)
		return disc_note(s->d, "%s: skipped: it expects the HAProxy protocol",
				 disc_show(name).s);
	if (ssl == 0)
		return disc_note(s->d, "%s: skipped: ssl = no", disc_show(name).s);
	if (!disc_pick_address(l && l->address[0] ? l->address : s->listen, address,
			       sizeof(address)))
		return 0;
	if (!cert && !s->cert[0])
		return disc_note(s->d, "%s: skipped: no ssl_cert", disc_show(name).s);
	return disc_add_endpoint(s->d, name, address, (unsigned)port,
				 implicit ? -1 : starttls_lookup(sv->starttls), NULL, cert, key);
}

static int dc_service_endpoints(struct dc_state *s, const struct dc_service *sv)
{
	const struct dc_pair *proto;
	const char *names[2 + MAX_ITEMS];
	size_t n_names;
	int ssl, r;

	if (!word_in_list(s->protocols, sv->protocol))
		return 0;
	proto = dc_find(s->protos, &s->n_protos, ELEMENTSOF(s->protos), sv->protocol, false);
	ssl = proto && proto->ssl >= 0 ? proto->ssl : s->ssl;
	n_names = dc_listener_names(s, sv, names);
	for (size_t j = 0; j < n_names; j++)
		if ((r = dc_listener_endpoint(s, sv, proto, ssl, names[j])) < 0)
			return r;
	return 0;
}

/* A local_name with a pair of its own: the preferred listener, sending that name. */
static int dc_local_name_endpoints(struct dc_state *s, size_t n_main)
{
	struct discovered *d = s->d;
	int r;

	for (size_t i = 0; i < s->n_locals && n_main > 0; i++) {
		const struct dc_pair *ln = &s->locals[i];
		const struct discovered_endpoint *pref = &d->endpoints[dc_preferred(d)];
		char address[MAX_VALUE];

		if (!ln->cert[0] && !ln->key[0])
			continue;
		if (strchr(ln->name, '*') || !ln->name[0]) {
			if ((r = disc_note(d, "local_name %s: skipped: not a name to send as SNI",
					   disc_show(ln->name).s)) < 0)
				return r;
			continue;
		}
		if (!ln->cert[0] && !s->cert[0])
			continue;
		snprintf(address, sizeof(address), "%s", pref->address);
		if ((r = disc_add_endpoint(d, ln->name, address, pref->port, pref->starttls, ln->name,
					   ln->cert[0] ? ln->cert : s->cert,
					   ln->key[0] ? ln->key : (s->key[0] ? s->key : NULL))) < 0)
			return r;
	}
	return 0;
}

static int dc_endpoints(struct dc_state *s)
{
	int r;

	for (size_t i = 0; i < ELEMENTSOF(dc_services); i++)
		if ((r = dc_service_endpoints(s, &dc_services[i])) < 0)
			return r;
	return dc_local_name_endpoints(s, s->d->n_endpoints);
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
	r = disc_for_each_line(text, len, dc_line, s);
	if (r >= 0 && !s->have_protocols)
		snprintf(s->protocols, sizeof(s->protocols), "%s", protocols ? protocols : "imap pop3 lmtp");
	if (r >= 0 && s->ssl == 0 && s->n_protos == 0)
		r = disc_note(ret, "ssl = no: Dovecot offers no TLS");
	else if (r >= 0)
		r = dc_endpoints(s);
	if (r >= 0 && s->cert[0])
		r = disc_dup_or_null(s->cert, &ret->cert);
	if (r >= 0 && s->key[0])
		r = disc_dup_or_null(s->key, &ret->key);
	if (r >= 0 && s->hostname[0])
		r = disc_dup_or_null(s->hostname, &ret->hostname);
	if (r < 0)
		discovered_done(ret);
	explicit_bzero(s, sizeof(*s));
	free(s);
	return r;
}
