/*
 * discover-postfix.c - discover_postfix(): the TLS endpoints of Postfix
 * from `postconf -n -x` (main.cf) and `postconf -M -x` (master.cf).
 *
 * Every inet service whose command is smtpd or postscreen is a candidate;
 * its TLS (security level, wrapper mode) and pairs come from main.cf as
 * overridden by the entry's own -o options, its address from the entry or
 * inet_interfaces.  The pairs are those of smtpd_tls_chain_files (the
 * files read by Postfix's own rules; how many pairs they hold, one per key
 * type, is for the caller to read), or else smtpd_tls_cert_file with
 * smtpd_tls_eccert_file beside it.  postscreen has no wrapper mode: its
 * port is always STARTTLS.  An entry without TLS or without an absolute
 * pair is skipped with a note; so are a DSA pair and the per-name pairs of
 * tls_server_sni_maps, which certwatch cannot ask for.  Pure: no I/O
 * beyond getservbyname() for a service name that is not a number.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "discover.h"
#include "discover-int.h"
#include "starttls.h"
#include "util.h"

/* The main.cf parameters that decide an smtpd's TLS, overridable by -o. */
struct pf_params {
	char cert[MAX_VALUE], key[MAX_VALUE], chain_files[MAX_VALUE];
	char eccert[MAX_VALUE], eckey[MAX_VALUE], dcert[MAX_VALUE], sni_maps[MAX_VALUE];
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
		P("smtpd_tls_eccert_file", eccert),
		P("smtpd_tls_eckey_file", eckey),
		P("smtpd_tls_dcert_file", dcert),
		P("tls_server_sni_maps", sni_maps),
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

/* "name = value", from main.cf or a master.cf -o option; no "=": ignored. */
static void pf_assign(struct pf_params *p, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	char k[MAX_VALUE], v[MAX_VALUE];

	if (!eq)
		return;
	disc_copy_trim(assignment, (size_t)(eq - assignment), k, sizeof(k));
	disc_copy_trim(eq + 1, strlen(eq + 1), v, sizeof(v));
	pf_param(p, k, v);
}

static int pf_main_line(const char *line, bool cut, void *userdata)
{
	if (!cut && line[0] != '#' && !isspace((unsigned char)line[0]))
		pf_assign(userdata, line);
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
	int port = disc_parse_port(name);

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
			disc_copy_trim(p + 1, end ? len - 2 : len - 1, words[n++], MAX_VALUE);
		} else {
			len = strcspn(p, " \t");
			disc_copy_trim(p, len, words[n++], MAX_VALUE);
		}
		p += len;
	}
	return n;
}

/* The pairs of smtpd with these parameters, in buffers of its own. */
struct pf_pairs {
	char files[3][MAX_VALUE];           /* chain files: key, certificate, chain */
	char cert[MAX_VALUE], key[MAX_VALUE], eccert[MAX_VALUE], eckey[MAX_VALUE];
	struct disc_pairs pairs;            /* pointing into the above */
};

static bool pf_absolute(const struct disc_pairs *p)
{
	bool ok = !p->chain || p->chain[0] == '/';

	for (size_t i = 0; i < p->n; i++)
		ok &= p->cert[i][0] == '/' && p->key[i][0] == '/';
	return ok;
}

/*
 * smtpd_tls_chain_files as one pair of certwatch's (key, certificate,
 * chain), read by Postfix's rules: the files' pairs are told apart by
 * key type later.  More than three files do not fit.
 */
static bool pf_chain_files(struct discovered *d, const char *service, const struct pf_params *p,
			   struct pf_pairs *out)
{
	const char *s = p->chain_files, *file;
	size_t n = 0, len;

	while ((file = disc_list_next(&s, &len))) {
		if (n == 3) {
			disc_note(d, "%s: skipped: more than three smtpd_tls_chain_files; add its "
				  "endpoints by hand", disc_show(service).s);
			return false;
		}
		disc_copy_trim(file, len, out->files[n++], MAX_VALUE);
	}
	out->pairs = (struct disc_pairs) {
		.cert = { out->files[n > 1 ? 1 : 0] }, .key = { out->files[0] },
		.chain = n > 2 ? out->files[2] : NULL, .format = PAIR_FORMAT_POSTFIX_CHAIN_FILES,
		.n = 1,
	};
	return true;
}

/* The pairs of smtpd with these parameters; false: none (said in a note when it matters). */
static bool pf_pair(struct discovered *d, const char *service, const struct pf_params *p,
		    struct pf_pairs *out)
{
	*out = (struct pf_pairs){ 0 };
	if (p->chain_files[0] && !pf_chain_files(d, service, p, out))
		return false;
	if (!p->chain_files[0]) {
		snprintf(out->cert, MAX_VALUE, "%s", p->cert);
		snprintf(out->key, MAX_VALUE, "%s", p->key[0] ? p->key : p->cert);
		snprintf(out->eccert, MAX_VALUE, "%s", p->eccert);
		snprintf(out->eckey, MAX_VALUE, "%s", p->eckey[0] ? p->eckey : p->eccert);
		if (out->cert[0]) {
			out->pairs.cert[out->pairs.n] = out->cert;
			out->pairs.key[out->pairs.n++] = out->key;
		}
		if (out->eccert[0]) {
			out->pairs.cert[out->pairs.n] = out->eccert;
			out->pairs.key[out->pairs.n++] = out->eckey;
		}
		if (p->dcert[0])
			disc_note(d, "%s: the DSA pair (smtpd_tls_dcert_file) is not listed: certwatch "
				  "cannot ask for it", disc_show(service).s);
	}
	if (out->pairs.n == 0)
		return false;
	if (!pf_absolute(&out->pairs)) {
		disc_note(d, "%s: skipped: certificate or key is not an absolute path",
			  disc_show(service).s);
		return false;
	}
	return true;
}

/* Whether two sets of parameters give the same pairs: then the entry's are the service's. */
static bool pf_same_pairs(const struct pf_params *a, const struct pf_params *b)
{
	return strcmp(a->cert, b->cert) == 0 && strcmp(a->key, b->key) == 0 &&
	       strcmp(a->chain_files, b->chain_files) == 0 && strcmp(a->eccert, b->eccert) == 0 &&
	       strcmp(a->eckey, b->eckey) == 0;
}

struct pf_state {
	struct discovered *d;
	const struct pf_params *main;
	bool noted_sni_maps;
	struct pf_pairs main_pairs;
	char entry[MAX_LINE + 1];      /* the entry being read (continuations joined) */
};

static int pf_entry(struct pf_state *s)
{
	char (*w)[MAX_VALUE] = calloc(MAX_ARGS, MAX_VALUE);
	struct pf_params p = *s->main;
	struct pf_pairs *pairs = calloc(1, sizeof(*pairs));
	char address[MAX_VALUE], name[MAX_VALUE];
	const char *svc, *colon, *portname;
	bool postscreen, implicit;
	size_t n;
	int port, r = 0;

	if (!w || !pairs) {
		free(w);
		free(pairs);
		return -ENOMEM;
	}
	n = pf_words(s->entry, w);
	s->entry[0] = '\0';
	if (n < 8 || strcmp(w[1], "inet") != 0)
		goto out;
	postscreen = strcmp(w[7], "postscreen") == 0;
	if (strcmp(w[7], "smtpd") != 0 && !postscreen)
		goto out;
	for (size_t i = 8; i + 1 < n; i++)
		if (strcmp(w[i], "-o") == 0 && strchr(w[i + 1], '='))
			pf_assign(&p, w[++i]);
	svc = w[0];
	/* host:port, [v6]:port, or a port alone */
	colon = strrchr(svc, ':');
	if (colon && (svc[0] != '[' || colon > strchr(svc, ']'))) {
		char host[MAX_VALUE];

		disc_copy_trim(svc, (size_t)(colon - svc), host, sizeof(host));
		disc_connect_address(host, address, sizeof(address));
		portname = colon + 1;
	} else {
		if (!disc_pick_address(p.interfaces[0] ? p.interfaces : "all", address, sizeof(address)))
			goto out;
		if (strcasecmp(address, "loopback-only") == 0 || strcasecmp(address, "localhost") == 0)
			snprintf(address, sizeof(address), "127.0.0.1");
		portname = svc;
	}
	port = pf_port(portname);
	if (port <= 0) {
		r = disc_note(s->d, "%s: skipped: unknown port", disc_show(svc).s);
		goto out;
	}
	implicit = pf_yes(p.wrapper) && !postscreen;
	if (!implicit && (p.level[0] ? strcmp(p.level, "none") == 0
				     : !pf_yes(p.use_tls) && !pf_yes(p.enforce_tls))) {
		r = disc_note(s->d, "%s: skipped: no TLS (smtpd_tls_security_level = %s)", disc_show(svc).s,
			      p.level[0] ? disc_show(p.level).s : "none");
		goto out;
	}
	if (p.sni_maps[0] && (r = disc_note_once(s->d, &s->noted_sni_maps, "the certificates "
			"tls_server_sni_maps gives per name are not listed: add an endpoint with "
			"name, cert and key for each")) < 0)
		goto out;
	if (!pf_pair(s->d, svc, &p, pairs)) {
		r = disc_note(s->d, "%s: skipped: no certificate", disc_show(svc).s);
		goto out;
	}
	if (disc_parse_port(portname) >= 0 || colon)
		snprintf(name, sizeof(name), "smtpd-%d", port);
	else
		snprintf(name, sizeof(name), "%s", svc);
	if (pf_same_pairs(&p, s->main))
		pairs->pairs.n = 0;        /* the service's */
	r = disc_add_endpoint_pairs(s->d, name, address, (unsigned)port,
				    implicit ? -1 : starttls_lookup("smtp"), NULL, &pairs->pairs);
out:
	free(w);
	free(pairs);
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
	r = disc_for_each_line(main_text, main_len, pf_main_line, p);
	s->d = ret;
	s->main = p;
	if (r >= 0 && pf_pair(ret, "main.cf", p, &s->main_pairs))
		r = disc_set_service_pairs(ret, &s->main_pairs.pairs);
	if (r >= 0)
		r = disc_for_each_line(master_text, master_len, pf_master_line, s);
	if (r >= 0 && s->entry[0])
		r = pf_entry(s);
	if (r >= 0 && p->hostname[0])
		r = disc_dup_or_null(p->hostname, &ret->hostname);
out:
	if (r < 0)
		discovered_done(ret);
	free(p);
	free(s);
	return r;
}
