/*
 * discover-haproxy.c - discover_haproxy(): the TLS endpoints of HAProxy
 * from a bundle (discover-int.h) of its configuration file and the
 * certificate files and lists it names; HAProxy has no dump of its own.
 *
 * Every "bind ADDR:PORT[,ADDR:PORT] ... ssl" line of a frontend or listen
 * section gives one endpoint per address and certificate (a TLS bind of
 * another section, peers or log-forward, is a note: nothing probes it):
 * each "crt PATH" (a file, or a directory whose every file but *.key,
 * *.ocsp, *.issuer and
 * *.sctl is one) and each line "PATH [options] [sni filters]" of a
 * "crt-list FILE", relative to crt-base.  HAProxy's certificate file is a
 * combined PEM, the key in it or, when PATH.key exists, in that file.  The
 * name sent is the crt-list's first literal filter, else none: certwatch
 * then takes one from the certificate.  "stats socket PATH ... level admin"
 * in global is the runtime API that kind haproxy takes renewals through.
 * Addresses and paths with $VARIABLES, unix sockets and port ranges are
 * left to the user with a note, and so is a bind inside a conditional
 * block (".if COND" ... ".endif", HAProxy 2.4 and later): whether COND
 * holds is HAProxy's to decide at start-up, from its environment and
 * build, which discovery cannot see.  Pure: no I/O.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "discover-int.h"
#include "util.h"

#define HP_MAX_CERTS 4096   /* certificates visited, in all */

struct hp_state {
	struct discovered *d;
	const char *bundle;
	size_t len;
	discover_want_fn want;       /* set: only say what is to be read */
	void *userdata;
	char crt_base[MAX_VALUE];
	char proxy[MAX_VALUE];       /* the frontend or listen section; "" elsewhere */
	char section[MAX_VALUE];     /* any section: its keyword and name, for notes */
	bool global;
	const char *file;            /* the configuration file, for notes */
	unsigned line;               /* the line being read */
	unsigned cond_depth;         /* .if blocks open around it */
	unsigned cond_line;          /* where the outermost one opened */
	bool noted_endif;
	char (*words)[MAX_VALUE];    /* of the line being read */
	unsigned certs;
	bool noted_certs;
};

/* One bind line's address being given its certificates. */
struct hp_bind {
	const char *proxy;
	char address[MAX_VALUE];
	int port;
};

/* The words of a line as HAProxy splits them: blanks, quotes, backslashes, "#". */
static size_t hp_words(const char *line, char words[][MAX_VALUE], size_t max)
{
	const char *p = line;
	size_t n = 0;

	for (;;) {
		size_t k = 0;
		char quote = 0;

		p += strspn(p, " \t\r");
		if (!*p || *p == '#' || n >= max)
			return n;
		for (; *p && (quote || !strchr(" \t\r#", *p)); p++) {
			if (!quote && (*p == '"' || *p == '\'')) {
				quote = *p;
				continue;
			}
			if (quote && *p == quote) {
				quote = 0;
				continue;
			}
			if (*p == '\\' && quote != '\'' && p[1])
				p++;
			if (k + 1 < MAX_VALUE)
				words[n][k++] = *p;
		}
		words[n++][k] = '\0';
	}
}

/* A path relative to crt-base, without a trailing "/" (a directory's). */
static void hp_path(const struct hp_state *s, const char *v, char *out, size_t outlen)
{
	size_t n;

	if (v[0] == '/' || !s->crt_base[0])
		snprintf(out, outlen, "%s", v);
	else
		snprintf(out, outlen, "%s/%s", s->crt_base, v);
	for (n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
		out[n - 1] = '\0';
}

/* Why path was not read, from its 'm' section, for a note. */
static struct disc_shown hp_why(const struct hp_state *s, const char *path)
{
	struct disc_section m;
	char why[100];

	if (disc_section_find(s->bundle, s->len, "d", path, &m))
		return disc_show("a directory, which HAProxy does not look into");
	if (!disc_section_find(s->bundle, s->len, "m", path, &m))
		m = (struct disc_section){ .text = "" };
	disc_copy_trim(m.text, m.len, why, sizeof(why));
	return disc_show(why[0] ? why : "not read");
}

/*
 * An endpoint's name: the proxy's, then the certificate's file without
 * ".pem", or its directory's for certbot's fullchain.pem ("fe-www.example").
 */
static void hp_label(const char *proxy, const char *cert, char *out, size_t outlen)
{
	const char *base = strrchr(cert, '/') ? strrchr(cert, '/') + 1 : cert;
	size_t n = strlen(base);

	if (strcmp(base, "fullchain.pem") == 0 && base > cert + 1) {
		const char *dir = base - 1;

		while (dir > cert && dir[-1] != '/')
			dir--;
		snprintf(out, outlen, "%.30s-%.*s", proxy, (int)(base - 1 - dir), dir);
		return;
	}
	if (n > 4 && strcmp(base + n - 4, ".pem") == 0)
		n -= 4;
	snprintf(out, outlen, "%.30s-%.*s", proxy, (int)(n < 30 ? n : 30), base);
}

/*
 * One certificate of a bind address, if it is a file: an endpoint with its
 * pair.  listed: an entry of a crt directory, whose note names no proxy, so
 * that it is said once however many bind lines name the directory.
 */
static int hp_cert(struct hp_state *s, const struct hp_bind *b, const char *cert,
		   const char *sni, bool listed)
{
	char key[MAX_VALUE + 8], label[MAX_NAME + 1];
	struct disc_section x;
	int r;

	snprintf(key, sizeof(key), "%s.key", cert);
	if (!cert[0])
		return s->want ? 0 : disc_note(s->d, "%s: an empty certificate path; skipped",
					       disc_show(b->proxy).s);
	/* Past the bound, each would be an endpoint past the endpoints' bound too. */
	if (++s->certs > HP_MAX_CERTS)
		return s->want ? 0 : s->d->n_endpoints >= DISCOVER_MAX_ENDPOINTS ?
		       disc_skip_endpoint(s->d) :
		       disc_note_once(s->d, &s->noted_certs, "more than %d certificates: the rest "
				      "are not listed", HP_MAX_CERTS);
	if (s->want)
		return (r = s->want('p', cert, s->userdata)) < 0 ? r :
		       s->want('p', key, s->userdata);
	if (strchr(cert, '$'))
		return disc_note(s->d, "%s: certificate %s names a variable, which certwatch does "
				 "not resolve; skipped", disc_show(b->proxy).s, disc_show(cert).s);
	if (!disc_section_find(s->bundle, s->len, "x", cert, &x))
		return listed ? disc_note(s->d, "crt %s: %s; skipped", disc_show(cert).s,
					  hp_why(s, cert).s) :
		       disc_note(s->d, "%s: crt %s: %s", disc_show(b->proxy).s, disc_show(cert).s,
				 hp_why(s, cert).s);
	hp_label(b->proxy, cert, label, sizeof(label));
	return disc_add_endpoint(s->d, label, b->address, (unsigned)b->port, -1, sni, cert,
				 disc_section_find(s->bundle, s->len, "x", key, &x) ? key : cert);
}

/* "crt PATH": a file, or a directory of them. */
static int hp_crt(struct hp_state *s, const struct hp_bind *b, const char *arg)
{
	static const char *const extra[] = { ".key", ".ocsp", ".issuer", ".sctl" };
	char path[MAX_VALUE], cert[2 * MAX_VALUE];
	struct disc_section f;
	int r = 0;

	hp_path(s, arg, path, sizeof(path));
	if (!disc_section_find(s->bundle, s->len, "d", path, &f))
		return hp_cert(s, b, path, NULL, false);
	for (const char *p = f.text, *end = f.text + f.len; r >= 0 && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		bool skip = n == 0 || p[0] == '.' || n >= MAX_VALUE || memchr(p, '\0', n);

		for (size_t i = 0; i < ELEMENTSOF(extra); i++)
			skip |= n >= strlen(extra[i]) &&
				memcmp(p + n - strlen(extra[i]), extra[i], strlen(extra[i])) == 0;
		snprintf(cert, sizeof(cert), "%s/%.*s", path, (int)n, p);
		if (!skip)
			r = hp_cert(s, b, cert, NULL, true);
		p += n + 1;
	}
	return r;
}

struct hp_list {
	struct hp_state *s;
	const struct hp_bind *b;
	char (*words)[MAX_VALUE];
};

/* A crt-list line: "PATH [ssl options] [sni filters]". */
static int hp_list_line(const char *line, bool cut, void *userdata)
{
	struct hp_list *l = userdata;
	size_t n = cut ? 0 : hp_words(line, l->words, MAX_ARGS), i = 1;
	char cert[MAX_VALUE];
	const char *sni = NULL;

	if (n == 0)
		return 0;
	if (l->words[1][0] == '[')
		while (i < n && !strchr(l->words[i++], ']'))
			;
	for (; i < n && !sni; i++)
		if (l->words[i][0] != '!' && !strchr(l->words[i], '*'))
			sni = l->words[i];
	hp_path(l->s, l->words[0], cert, sizeof(cert));
	return hp_cert(l->s, l->b, cert, sni, false);
}

/* "crt-list FILE". */
static int hp_crt_list(struct hp_state *s, const struct hp_bind *b, const char *arg)
{
	struct hp_list l = { s, b, NULL };
	char path[MAX_VALUE];
	struct disc_section f;
	int r;

	hp_path(s, arg, path, sizeof(path));
	if (!path[0])
		return s->want ? 0 : disc_note(s->d, "%s: an empty crt-list path; skipped",
					       disc_show(b->proxy).s);
	if (s->want && (r = s->want('f', path, s->userdata)) < 0)
		return r;
	if (!disc_section_find(s->bundle, s->len, "f", path, &f))
		return s->want ? 0 : disc_note(s->d, "%s: crt-list %s: %s", disc_show(b->proxy).s,
					       disc_show(path).s, hp_why(s, path).s);
	if (!(l.words = calloc(MAX_ARGS, MAX_VALUE)))
		return -ENOMEM;
	r = disc_for_each_line(f.text, f.len, hp_list_line, &l);
	free(l.words);
	return r;
}

/* One "ADDR:PORT" of a bind line; false (with *ret_why) when it cannot be probed. */
static bool hp_address(const char *a, struct hp_bind *b, const char **ret_why)
{
	const char *colon, *at = strchr(a, '@');
	char host[MAX_VALUE];

	if (at && strncmp(a, "ipv4@", 5) != 0 && strncmp(a, "ipv6@", 5) != 0) {
		*ret_why = "not a TCP address";
		return false;
	}
	a = at ? at + 1 : a;
	if (strchr(a, '$')) {
		*ret_why = "it names a variable, which certwatch does not resolve";
		return false;
	}
	if (a[0] == '/' || !(colon = strrchr(a, ':')) || (b->port = disc_parse_port(colon + 1)) <= 0) {
		*ret_why = "no single port (a range, or a unix socket)";
		return false;
	}
	disc_copy_trim(a, (size_t)(colon - a), host, sizeof(host));
	if (strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0)
		snprintf(host, sizeof(host), "::");
	disc_connect_address(host, b->address, sizeof(b->address));
	return true;
}

/* A bind line with ssl: its certificates at each of its addresses. */
static int hp_bind(struct hp_state *s, char words[][MAX_VALUE], size_t n)
{
	struct hp_bind b = { .proxy = s->proxy };
	bool ssl = false;
	const char *why = NULL, *p = words[1];
	int ports[8], r = 0;
	size_t n_ports = 0;

	for (size_t i = 2; i < n; i++)
		ssl |= strcmp(words[i], "ssl") == 0;
	if (!ssl)
		return 0;
	while (r >= 0 && *p) {
		char one[MAX_VALUE];
		size_t len = strcspn(p, ",");

		disc_copy_trim(p, len, one, sizeof(one));
		p += len + (p[len] == ',');
		if (!hp_address(one, &b, &why)) {
			r = s->want ? 0 : disc_note(s->d, "%s: bind %s: skipped: %s",
						    disc_show(s->proxy).s, disc_show(one).s, why);
			continue;
		}
		/* ":443,[::]:443" is one service on two families: one probe is enough. */
		for (size_t i = 0; i < n_ports && b.port; i++)
			if (ports[i] == b.port)
				b.port = 0;
		if (b.port == 0 || n_ports >= ELEMENTSOF(ports))
			continue;
		ports[n_ports++] = b.port;
		for (size_t i = 2; r >= 0 && i + 1 < n; i++)
			if (strcmp(words[i], "crt") == 0)
				r = hp_crt(s, &b, words[++i]);
			else if (strcmp(words[i], "crt-list") == 0)
				r = hp_crt_list(s, &b, words[++i]);
	}
	return r;
}

/* global's "stats socket PATH ... level admin": the runtime API. */
static int hp_stats_socket(struct hp_state *s, char words[][MAX_VALUE], size_t n)
{
	bool admin = false;

	for (size_t i = 3; i + 1 < n; i++)
		admin |= strcmp(words[i], "level") == 0 && strcmp(words[i + 1], "admin") == 0;
	if (!admin || s->want || s->d->control_socket || words[2][0] != '/' ||
	    !disc_printable(words[2]))
		return 0;
	return disc_dup_or_null(words[2], &s->d->control_socket);
}

/* HAProxy 2.6's section keywords; each ends the section before it. */
static const char *const hp_sections[] = {
	"global", "defaults", "frontend", "listen", "backend", "peers", "resolvers", "userlist",
	"mailers", "program", "http-errors", "ring", "log-forward", "cache", "fcgi-app",
};

static void hp_section(struct hp_state *s, size_t which, char words[][MAX_VALUE], size_t n)
{
	bool proxy = which == 2 || which == 3;

	s->global = which == 0;
	snprintf(s->proxy, sizeof(s->proxy), "%s", !proxy ? "" : n > 1 ? words[1] : "haproxy");
	snprintf(s->section, sizeof(s->section), "%s%s%.200s", hp_sections[which],
		 n > 1 ? " " : "", n > 1 ? words[1] : "");
}

/*
 * ".if", ".elif", ".else", ".endif": only counted.  Nesting needs no bound
 * of its own: a counter per line of a bounded file.
 */
static int hp_condition(struct hp_state *s, const char *word)
{
	if (strcmp(word, ".if") == 0 && s->cond_depth++ == 0)
		s->cond_line = s->line;
	else if (strcmp(word, ".endif") == 0 && s->cond_depth > 0)
		s->cond_depth--;
	else if (strcmp(word, ".endif") == 0 && !s->want)
		return disc_note_once(s->d, &s->noted_endif, "%s:%u: .endif without .if",
				      disc_show(s->file).s, s->line);
	return 0;
}

/* A bind line that is no endpoint (inside .if, or of another section): a note, if TLS. */
static int hp_bind_not_read(struct hp_state *s, char words[][MAX_VALUE], size_t n)
{
	bool ssl = false;

	for (size_t i = 2; i < n; i++)
		ssl |= strcmp(words[i], "ssl") == 0;
	if (!ssl || s->want)
		return 0;
	if (s->cond_depth > 0)
		return disc_note(s->d, "%s:%u: bind %s: inside .if: not evaluated; write it by hand",
				 disc_show(s->file).s, s->line, disc_show(words[1]).s);
	return disc_note(s->d, "%s: bind %s ssl: not a frontend or listen, so not an endpoint; "
			 "write one by hand to watch its certificates", disc_show(s->section).s,
			 disc_show(words[1]).s);
}

static int hp_line(const char *line, bool cut, void *userdata)
{
	struct hp_state *s = userdata;
	char (*words)[MAX_VALUE] = s->words;
	size_t n = cut ? 0 : hp_words(line, words, MAX_ARGS);

	s->line++;
	if (n > 0 && words[0][0] == '.')
		return hp_condition(s, words[0]);
	for (size_t i = 0; n > 0 && i < ELEMENTSOF(hp_sections); i++)
		if (strcmp(words[0], hp_sections[i]) == 0) {
			hp_section(s, i, words, n);
			return 0;
		}
	if (n >= 2 && strcmp(words[0], "bind") == 0)
		return s->proxy[0] && s->cond_depth == 0 ? hp_bind(s, words, n) :
		       hp_bind_not_read(s, words, n);
	/* Settings inside .if may not hold: none is taken. */
	if (s->cond_depth > 0)
		return 0;
	if (n >= 2 && s->global && strcmp(words[0], "crt-base") == 0)
		snprintf(s->crt_base, sizeof(s->crt_base), "%s", words[1]);
	else if (n >= 3 && s->global && strcmp(words[0], "stats") == 0 &&
		 strcmp(words[1], "socket") == 0)
		return hp_stats_socket(s, words, n);
	return 0;
}

/* Walks the configuration, the first file of the bundle. */
static int hp_walk(struct hp_state *s)
{
	struct disc_section f;
	size_t cursor = 0;
	int r;

	while (disc_section_next(s->bundle, s->len, &cursor, &f)) {
		if (f.kind == 'm' && !s->want)
			return disc_note(s->d, "%s: %s", disc_show(f.path).s, hp_why(s, f.path).s);
		if (f.kind != 'f')
			continue;
		if (!(s->words = calloc(MAX_ARGS, MAX_VALUE)))
			return -ENOMEM;
		s->file = f.path;
		r = disc_for_each_line(f.text, f.len, hp_line, s);
		free(s->words);
		if (r >= 0 && s->cond_depth > 0 && !s->want)
			r = disc_note(s->d, "%s:%u: .if without .endif: the rest of the file was "
				      "taken as inside it", disc_show(f.path).s, s->cond_line);
		return r;
	}
	return s->want ? 0 : disc_note(s->d, "no configuration file to read");
}

int discover_haproxy_wants(const char *bundle, size_t len, discover_want_fn want,
			   void *userdata)
{
	struct hp_state *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	*s = (struct hp_state){ .bundle = bundle, .len = len, .want = want, .userdata = userdata };
	r = hp_walk(s);
	free(s);
	return r;
}

int discover_haproxy(const char *bundle, size_t len, struct discovered *ret)
{
	struct hp_state *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	*ret = (struct discovered){ 0 };
	if (s) {
		*s = (struct hp_state){ .d = ret, .bundle = bundle, .len = len };
		r = hp_walk(s);
	}
	/* What kind haproxy will do with a renewal, said for the reader. */
	if (r >= 0 && ret->n_endpoints > 0)
		r = ret->control_socket ?
		    disc_note(ret, "stats socket %s has level admin: renewals are taken through "
			      "HAProxy's runtime API there", disc_show(ret->control_socket).s) :
		    disc_note(ret, "no stats socket with level admin in global: a renewal reloads "
			      "haproxy.service");
	if (r < 0)
		discovered_done(ret);
	free(s);
	return r;
}
