/*
 * discover-exim.c - discover_exim(): the TLS endpoints of Exim from
 * `exim -bP` of the options that decide them (see discover.h).
 *
 * Exim has one pair, tls_certificate and tls_privatekey (the key in the
 * certificate's file when unset), for every port of daemon_smtp_ports:
 * those also in tls_on_connect_ports speak TLS at once, the others offer
 * STARTTLS when tls_advertise_hosts is not empty.  The address is the
 * first of local_interfaces (loopback for a wildcard or none).  Values
 * Exim expands per connection (a "$") cannot be followed: they are
 * skipped with a note, as are ports that are not numbers or known names.
 * Lists are Exim's: colon-separated unless they start with "<" and a
 * separator of their own.  Pure: no I/O.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "discover.h"
#include "discover-int.h"
#include "starttls.h"
#include "util.h"

struct ex_opts {
	char cert[MAX_VALUE], key[MAX_VALUE], ports[MAX_VALUE], tls_ports[MAX_VALUE];
	char interfaces[MAX_VALUE], hostname[MAX_VALUE], advertise[MAX_VALUE];
};

static int ex_line(const char *line, bool cut, void *userdata)
{
	static const struct { const char *name; size_t off; } table[] = {
		{ "tls_certificate", offsetof(struct ex_opts, cert) },
		{ "tls_privatekey", offsetof(struct ex_opts, key) },
		{ "daemon_smtp_ports", offsetof(struct ex_opts, ports) },
		{ "tls_on_connect_ports", offsetof(struct ex_opts, tls_ports) },
		{ "local_interfaces", offsetof(struct ex_opts, interfaces) },
		{ "primary_hostname", offsetof(struct ex_opts, hostname) },
		{ "tls_advertise_hosts", offsetof(struct ex_opts, advertise) },
	};
	const char *eq = strchr(line, '=');
	char k[MAX_VALUE];

	if (cut || !eq)
		return 0;
	disc_copy_trim(line, (size_t)(eq - line), k, sizeof(k));
	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (strcmp(k, table[i].name) == 0)
			disc_copy_trim(eq + 1, strlen(eq + 1), (char *)userdata + table[i].off,
				       MAX_VALUE);
	return 0;
}

/* An Exim list being read: colon-separated unless it starts "<X". */
struct ex_list {
	const char *p;
	char sep;
};

static struct ex_list ex_list(const char *s)
{
	struct ex_list l = { s + strspn(s, " \t"), ':' };

	if (l.p[0] == '<' && l.p[1] && l.p[1] != ' ') {
		l.sep = l.p[1];
		l.p += 2;
	}
	return l;
}

/*
 * The next item of l, trimmed, into out (a doubled separator stands for
 * one, as in "::1" written "::::1"); false at the end of the list.
 */
static bool ex_next(struct ex_list *l, char *out, size_t outlen)
{
	char raw[MAX_VALUE];
	size_t n = 0;
	bool more = *l->p != '\0';

	while (*l->p && n + 1 < sizeof(raw)) {
		if (l->p[0] == l->sep && l->p[1] == l->sep) {
			raw[n++] = l->sep;
			l->p += 2;
		} else if (*l->p == l->sep) {
			break;
		} else {
			raw[n++] = *l->p++;
		}
	}
	if (*l->p)
		l->p++;
	disc_copy_trim(raw, n, out, outlen);
	return more;
}

static int ex_port(const char *name)
{
	static const struct { const char *name; uint16_t port; } usual[] = {
		{ "smtp", 25 }, { "submission", 587 }, { "smtps", 465 }, { "submissions", 465 },
		{ "ssmtp", 465 },
	};
	int port = disc_parse_port(name);

	for (size_t i = 0; port < 0 && i < ELEMENTSOF(usual); i++)
		if (strcmp(name, usual[i].name) == 0)
			port = usual[i].port;
	return port;
}

static bool ex_in_list(const char *list, int port)
{
	struct ex_list l = ex_list(list);
	char one[MAX_VALUE];

	while (ex_next(&l, one, sizeof(one)))
		if (one[0] && ex_port(one) == port)
			return true;
	return false;
}

/*
 * Where to connect for local_interfaces: loopback when it has the IPv4
 * wildcard (Exim's default lists "::0" first), else its first address,
 * without a port of its own ("[a]:p", "a.p").
 */
static void ex_address(const char *interfaces, char *out, size_t outlen)
{
	struct ex_list l = ex_list(interfaces);
	char first[MAX_VALUE] = "", item[MAX_VALUE];
	char *close;

	while (ex_next(&l, item, sizeof(item))) {
		if (strcmp(item, "0.0.0.0") == 0) {
			snprintf(out, outlen, "127.0.0.1");
			return;
		}
		if (!first[0])
			snprintf(first, sizeof(first), "%s", item);
	}
	if (first[0] == '[' && (close = strchr(first, ']')))
		close[1] = '\0';
	else if (strspn(first, "0123456789.") == strlen(first) && strchr(first, '.'))
		for (int dots = 0, i = 0; first[i]; i++)
			if (first[i] == '.' && ++dots == 4)
				first[i] = '\0';
	disc_connect_address(first, out, outlen);
}

static int ex_endpoints(struct discovered *d, const struct ex_opts *x)
{
	struct ex_list l = ex_list(x->ports);
	char item[MAX_VALUE], address[MAX_VALUE];
	bool starttls = x->advertise[0] != '\0';
	int r = 0;

	ex_address(x->interfaces, address, sizeof(address));
	while (r >= 0 && ex_next(&l, item, sizeof(item))) {
		int port = item[0] ? ex_port(item) : 0;
		bool implicit = port > 0 && ex_in_list(x->tls_ports, port);

		if (!item[0])
			continue;
		if (port <= 0)
			r = disc_note(d, "daemon_smtp_ports: %s is not a port certwatch knows; skipped",
				      disc_show(item).s);
		else if (!implicit && !starttls)
			r = disc_note(d, "port %d: tls_advertise_hosts is empty, so Exim offers no "
				      "STARTTLS there; skipped", port);
		else
			r = disc_add_endpoint(d, disc_parse_port(item) < 0 ? item : implicit ? "smtps"
					      : "smtp", address, (unsigned)port,
					      implicit ? -1 : starttls_lookup("smtp"), NULL, NULL, NULL);
	}
	return r;
}

int discover_exim(const char *text, size_t len, struct discovered *ret)
{
	struct ex_opts x = { .ports = "smtp" };
	struct disc_pairs pairs = { .format = PAIR_FORMAT_PEM, .n = 1 };
	int r;

	*ret = (struct discovered){ 0 };
	r = disc_for_each_line(text, len, ex_line, &x);
	if (r < 0)
		return r;
	if (x.hostname[0] && disc_printable(x.hostname) && !strchr(x.hostname, '$') &&
	    disc_dup_or_null(x.hostname, &ret->hostname) < 0)
		return -ENOMEM;
	if (!x.cert[0])
		return disc_note(ret, "tls_certificate is not set: Exim offers no TLS");
	if (x.cert[0] != '/' || strchr(x.cert, '$') || (x.key[0] && (x.key[0] != '/' ||
							      strchr(x.key, '$'))))
		return disc_note(ret, "tls_certificate %s (tls_privatekey %s) is not one absolute "
				 "file: Exim expands it for each connection, which certwatch "
				 "cannot follow; write its service by hand", disc_show(x.cert).s,
				 disc_show(x.key).s);
	pairs.cert[0] = x.cert;
	pairs.key[0] = x.key[0] ? x.key : x.cert;
	r = disc_set_service_pairs(ret, &pairs);
	return r < 0 ? r : ex_endpoints(ret, &x);
}
