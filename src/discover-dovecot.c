/*
 * discover-dovecot.c - discover_dovecot(): the TLS endpoints of Dovecot
 * from `doveconf -P -n`.
 *
 * The dump is nested "type name {" sections of "key = value" lines.  What
 * is read: the global ssl, ssl_cert, ssl_key, ssl_alt_cert, ssl_alt_key,
 * protocols, listen and hostname; each service's inet_listener (port,
 * address, ssl, haproxy); protocol, local_name and local sections' own
 * pairs.  Built-in services keep Dovecot's default listeners unless the
 * dump changes them; a local_name with its own pair becomes an endpoint
 * that sends that name as SNI (a wildcard one, a name it covers), a local
 * address with its own pair an endpoint that connects there.  A pair
 * inherits what its section does not set, as in Dovecot: the alternative
 * certificate (ssl_alt_cert) of a section that sets none is the global
 * one.  Certificates chosen by remote address, or by protocol within a
 * local_name or local section, are left to the user with a note.  Pure:
 * no I/O.
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
	char name[MAX_VALUE];     /* protocol, local_name or local address */
	int ssl;                  /* -1: not set */
	char cert[MAX_VALUE], key[MAX_VALUE];
	char alt_cert[MAX_VALUE], alt_key[MAX_VALUE];   /* ssl_alt_cert, ssl_alt_key */
};

struct dc_state {
	struct discovered *d;
	char stack[MAX_DEPTH][2][MAX_VALUE];   /* section type and name */
	size_t depth;                          /* may exceed MAX_DEPTH: not recorded */
	struct dc_pair top;                    /* the global ssl and pairs */
	char protocols[MAX_VALUE], listen[MAX_VALUE], hostname[MAX_VALUE];
	bool have_protocols, have_listen;
	struct dc_listener listeners[MAX_ITEMS];
	size_t n_listeners;
	struct dc_pair protos[16], locals[MAX_ITEMS], addrs[64];
	size_t n_protos, n_locals, n_addrs;
	bool noted_local, noted_local_proto;
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
 * ssl and the pairs' settings, which mean the same at the top level and in
 * a protocol, local_name or local section.  Returns 1 when key is none of
 * them.
 */
static int dc_tls_setting(struct dc_state *s, const char *key, const char *v, struct dc_pair *p)
{
	static const struct { const char *name; size_t off; } files[] = {
		{ "ssl_cert",     offsetof(struct dc_pair, cert) },
		{ "ssl_key",      offsetof(struct dc_pair, key) },
		{ "ssl_alt_cert", offsetof(struct dc_pair, alt_cert) },
		{ "ssl_alt_key",  offsetof(struct dc_pair, alt_key) },
	};

	if (strcmp(key, "ssl") == 0) {
		p->ssl = dc_ssl_value(v);
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(files); i++)
		if (strcmp(key, files[i].name) == 0)
			return dc_path(s, files[i].name, v, (char *)p + files[i].off, MAX_VALUE);
	return 1;
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
		if ((r = dc_tls_setting(s, key, v, &s->top)) <= 0)
			return r;
		if (strcmp(key, "protocols") == 0) {
			snprintf(s->protocols, sizeof(s->protocols), "%s", v);
			s->have_protocols = true;
		} else if (strcmp(key, "listen") == 0) {
			snprintf(s->listen, sizeof(s->listen), "%s", v);
			s->have_listen = true;
		} else if (strcmp(key, "hostname") == 0)
			snprintf(s->hostname, sizeof(s->hostname), "%s", v);
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
	pair_key = strncmp(key, "ssl_", 4) == 0 && (strstr(key, "_cert") || strstr(key, "_key"));
	p = s->depth != 1 ? NULL :
	    strcmp(st[0][0], "protocol") == 0 ?
		dc_find(s->protos, &s->n_protos, ELEMENTSOF(s->protos), st[0][1], true) :
	    strcmp(st[0][0], "local_name") == 0 ?
		dc_find(s->locals, &s->n_locals, ELEMENTSOF(s->locals), st[0][1], true) :
	    /* One address (not a network): an endpoint can connect there. */
	    strcmp(st[0][0], "local") == 0 && !strchr(st[0][1], '/') && pair_key ?
		dc_find(s->addrs, &s->n_addrs, ELEMENTSOF(s->addrs), st[0][1], true) : NULL;
	if (p) {
		r = dc_tls_setting(s, key, v, p);
		return r < 0 ? r : 0;
	}
	if (strcmp(st[0][0], "local") == 0 || strcmp(st[0][0], "remote") == 0)
		return !pair_key ? 0 :
		       disc_note_once(s->d, &s->noted_local, "certificates chosen by \"remote\" "
				      "address, by a \"local\" network or by protocol within a "
				      "\"local\" section are not listed: add endpoints for them by hand");
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
 * The pairs a section serves, as Dovecot resolves them: what the section
 * sets, else the global setting, the alternative pair (ssl_alt_cert) too.
 * A section that sets none of its own serves the service's pairs (n 0),
 * unless named is true: then they are named all the same.
 */
static void dc_pairs(const struct dc_state *s, const struct dc_pair *p, bool named,
		     struct disc_pairs *out)
{
	const struct dc_pair *top = &s->top;
	bool own = p && (p->cert[0] || p->key[0] || p->alt_cert[0] || p->alt_key[0]);
	const char *alt = p && p->alt_cert[0] ? p->alt_cert : top->alt_cert;
	const char *alt_key = p && p->alt_cert[0] ? p->alt_key : top->alt_key;

	*out = (struct disc_pairs){ 0 };
	if (!own && !named)
		return;
	out->cert[0] = p && p->cert[0] ? p->cert : top->cert[0] ? top->cert : NULL;
	out->key[0] = p && p->key[0] ? p->key : top->key[0] ? top->key : NULL;
	out->n = 1;
	if (alt[0]) {
		out->cert[1] = alt;
		out->key[1] = alt_key[0] ? alt_key : alt;
		out->n = 2;
	}
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
	struct disc_pairs pairs;
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
	dc_pairs(s, proto, false, &pairs);
	if (pairs.n ? !pairs.cert[0] : !s->top.cert[0])
		return disc_note(s->d, "%s: skipped: no ssl_cert", disc_show(name).s);
	return disc_add_endpoint_pairs(s->d, name, address, (unsigned)port,
				       implicit ? -1 : starttls_lookup(sv->starttls), NULL, &pairs);
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
	ssl = proto && proto->ssl >= 0 ? proto->ssl : s->top.ssl;
	n_names = dc_listener_names(s, sv, names);
	for (size_t j = 0; j < n_names; j++)
		if ((r = dc_listener_endpoint(s, sv, proto, ssl, names[j])) < 0)
			return r;
	return 0;
}

/*
 * A local_name with a pair of its own: the preferred listener, sending that
 * name (for a wildcard, a name it covers); a local address with a pair of
 * its own: the preferred listener's port on that address.
 */
static int dc_section_endpoint(struct dc_state *s, const struct dc_pair *sec, bool by_name)
{
	struct discovered *d = s->d;
	const struct discovered_endpoint *pref = &d->endpoints[dc_preferred(d)];
	char address[MAX_VALUE], sni[MAX_VALUE], base[MAX_VALUE];
	struct disc_pairs pairs;
	int r;

	if (!sec->cert[0] && !sec->key[0] && !sec->alt_cert[0])
		return 0;
	dc_pairs(s, sec, true, &pairs);
	if (!pairs.cert[0])
		return 0;
	snprintf(address, sizeof(address), "%s", by_name ? pref->address : sec->name);
	snprintf(base, sizeof(base), "%s%s", by_name ? "" : "local-", sec->name);
	snprintf(sni, sizeof(sni), "%s", sec->name);
	if (by_name && sec->name[0] == '*' && sec->name[1] == '.' && !strchr(sec->name + 2, '*')) {
		disc_wildcard_name(sec->name, sni, sizeof(sni));
		if ((r = disc_note(d, "local_name %s: probed as %s, a name it covers",
				   disc_show(sec->name).s, disc_show(sni).s)) < 0)
			return r;
	} else if (by_name && (strchr(sec->name, '*') || !sec->name[0]))
		return disc_note(d, "local_name %s: skipped: not a name to send as SNI",
				 disc_show(sec->name).s);
	return disc_add_endpoint_pairs(d, base, address, pref->port, pref->starttls,
				       by_name ? sni : NULL, &pairs);
}

static int dc_endpoints(struct dc_state *s)
{
	size_t n_main;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(dc_services); i++)
		if ((r = dc_service_endpoints(s, &dc_services[i])) < 0)
			return r;
	n_main = s->d->n_endpoints;
	for (size_t i = 0; i < s->n_locals && n_main > 0; i++)
		if ((r = dc_section_endpoint(s, &s->locals[i], true)) < 0)
			return r;
	for (size_t i = 0; i < s->n_addrs && n_main > 0; i++)
		if ((r = dc_section_endpoint(s, &s->addrs[i], false)) < 0)
			return r;
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
	s->top.ssl = 1;                        /* Dovecot 2.3's default */
	snprintf(s->listen, sizeof(s->listen), "*, ::");
	r = disc_for_each_line(text, len, dc_line, s);
	if (r >= 0 && !s->have_protocols)
		snprintf(s->protocols, sizeof(s->protocols), "%s", protocols ? protocols : "imap pop3 lmtp");
	if (r >= 0 && s->top.ssl == 0 && s->n_protos == 0)
		r = disc_note(ret, "ssl = no: Dovecot offers no TLS");
	else if (r >= 0)
		r = dc_endpoints(s);
	if (r >= 0 && s->top.cert[0]) {
		struct disc_pairs pairs;

		dc_pairs(s, NULL, true, &pairs);
		r = disc_set_service_pairs(ret, &pairs);
	}
	if (r >= 0 && s->hostname[0])
		r = disc_dup_or_null(s->hostname, &ret->hostname);
	if (r < 0)
		discovered_done(ret);
	explicit_bzero(s, sizeof(*s));
	free(s);
	return r;
}
