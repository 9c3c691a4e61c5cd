/*
 * discover-nginx.c - discover_nginx(): the TLS endpoints of nginx from
 * `nginx -T`.
 *
 * Every server block of http { } and stream { } with an ssl listener (or
 * "ssl on") becomes endpoints, one per TLS port, named after its first
 * server_name and sending the first that is a literal name as SNI (a
 * server whose names are wildcards only is sent a name its first wildcard
 * covers, and a note says which); its pairs (one per ssl_certificate
 * line: one per key type) are its own or the ones inherited from http or
 * stream.  Servers behind the PROXY protocol, pairs chosen at run time
 * ($variables, data:) and the mail { } block are left to the user with a
 * note.  Everything is
 * bounded: files, include expansions (in count and in bytes), nesting,
 * words, servers.  Pure: no I/O.
 *
 * nginx -T prints every file it read, each after a line
 * "# configuration file PATH:", in the order read, each once; include
 * directives stay as they are.  The parser tokenises each file as nginx
 * does (words, quotes with backslash escapes, ";", "{", "}", "#" comments)
 * and follows includes by matching their pattern against the printed names.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "discover-int.h"
#include "util.h"

#define MAX_FILES   4096   /* files of an nginx -T dump */
#define MAX_INCLUDES 4096  /* files parsed for nginx's include directives, in all */

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

/* The ssl_certificate and ssl_certificate_key lines of one level, paired in order. */
struct ng_pairs {
	char cert[DISCOVER_MAX_PAIRS][MAX_VALUE], key[DISCOVER_MAX_PAIRS][MAX_VALUE];
	size_t n_cert, n_key;
};

struct ng_server {
	bool stream;
	bool ssl_on;
	struct ng_pairs pairs;
	char sni[MAX_VALUE], first_name[MAX_VALUE];
	char wildcard[MAX_VALUE];     /* the first leading wildcard name, "*.example.com" */
	struct ng_listen listens[16];
	size_t n_listens;
	bool has_listen, proxy_protocol;
};

struct ng_state {
	struct discovered *d;
	struct ng_file *files;
	size_t n_files;
	char conf_dir[MAX_VALUE];
	struct ng_pairs http_pairs, stream_pairs;
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
		disc_copy_trim(a, (size_t)(rb - a) + 1, host, sizeof(host));
		if (rb[1] == ':')
			l.port = disc_parse_port(rb + 2);
	} else if (strchr(a, ':')) {
		const char *colon = strrchr(a, ':');
		disc_copy_trim(a, (size_t)(colon - a), host, sizeof(host));
		l.port = disc_parse_port(colon + 1);
	} else if (disc_parse_port(a) >= 0) {
		l.port = disc_parse_port(a);
	} else {
		snprintf(host, sizeof(host), "%s", a);
	}
	if (l.port <= 0)
		return;
	l.wildcard = strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0;
	l.v6any = strcmp(host, "[::]") == 0;
	disc_connect_address(host, l.address, sizeof(l.address));
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

/*
 * The first server_name a client could send as SNI: no "_", wildcard or
 * regex.  ".example.com" is nginx's short for example.com and its
 * subdomains: example.com is a literal name.  The first leading wildcard
 * is kept apart, for a server that has no literal name.
 */
static void ng_server_name(struct ng_server *sv, char args[][MAX_VALUE], size_t n)
{
	for (size_t i = 1; i < n; i++) {
		const char *v = args[i];
		const char *literal = v[0] == '.' ? v + 1 : v;

		if (!v[0] || strcmp(v, "_") == 0 || v[0] == '~' || strchr(v, '$'))
			continue;
		if (!sv->first_name[0])
			snprintf(sv->first_name, sizeof(sv->first_name), "%s", v[0] == '*' ||
				 v[0] == '.' ? v + 1 + (v[0] == '*' && v[1] == '.') : v);
		if (!sv->wildcard[0] && v[0] == '*' && v[1] == '.' && !strchr(v + 2, '*'))
			snprintf(sv->wildcard, sizeof(sv->wildcard), "%s", v);
		if (!sv->sni[0] && literal[0] && !strchr(literal, '*'))
			snprintf(sv->sni, sizeof(sv->sni), "%s", literal);
	}
}

/* Appends an ssl_certificate or ssl_certificate_key line to its level's pairs. */
static void ng_pair_line(const struct ng_state *s, struct ng_pairs *p, bool cert, const char *v)
{
	size_t *n = cert ? &p->n_cert : &p->n_key;

	if (*n < DISCOVER_MAX_PAIRS)
		ng_path(s, v, cert ? p->cert[*n] : p->key[*n], MAX_VALUE);
	(*n)++;
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
		if (++s->included > MAX_INCLUDES || s->files[i].len > s->include_budget)
			return disc_note_once(s->d, &s->noted_includes, "more than %d includes, or "
					      "includes of more than 8 times the whole dump: the rest "
					      "are not read", MAX_INCLUDES);
		s->include_budget -= s->files[i].len;
		if ((r = ng_block(s, &lx, ctx, sv, depth + 1)) < 0)
			return r;
	}
	return 0;
}

static int ng_server_done(struct ng_state *s, struct ng_server *sv)
{
	if (s->n_servers >= MAX_ITEMS)
		return disc_note_once(s->d, &s->noted_servers,
				      "more than %d server blocks: the rest are not listed", MAX_ITEMS);
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
		/* Several certificates (RSA and ECDSA): each is a pair, in order. */
		else if (ssl_cert || ssl_key)
			ng_pair_line(s, &sv->pairs, ssl_cert, args[1]);
	} else if ((ctx == NG_HTTP || ctx == NG_STREAM) && (ssl_cert || ssl_key)) {
		ng_pair_line(s, ctx == NG_HTTP ? &s->http_pairs : &s->stream_pairs, ssl_cert, args[1]);
	}
	return 0;
}

static int ng_block(struct ng_state *s, struct ng_lexer *lx, enum ng_ctx ctx,
		    struct ng_server *sv, unsigned depth)
{
	char (*args)[MAX_VALUE] = NULL;
	size_t n = 0;
	int r = 0;

	if (depth > MAX_DEPTH)
		return disc_note_once(s->d, &s->noted_depth,
				      "blocks or includes nested more than %d deep are not read",
				      MAX_DEPTH);
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
			if (n > 0 && strcmp(args[0], "mail") == 0 && ctx == NG_MAIN &&
			    (r = disc_note_once(s->d, &s->noted_mail, "the mail { } block is not "
						"read: add its endpoints by hand")) < 0)
				break;
			r = ng_block(s, lx, NG_OTHER, NULL, depth + 1);
		}
		if (r < 0)
			break;
		n = 0;
	}
	free(args);
	return r;
}

/* Why a level's pairs cannot be listed; NULL when they can. */
static const char *ng_pairs_problem(const struct ng_pairs *p)
{
	if (p->n_cert == 0 || p->n_key == 0)
		return "no ssl_certificate or ssl_certificate_key";
	if (p->n_cert != p->n_key)
		return "its ssl_certificate and ssl_certificate_key lines do not pair up";
	if (p->n_cert > DISCOVER_MAX_PAIRS)
		return "more ssl_certificate lines than key types";
	for (size_t i = 0; i < p->n_cert; i++)
		if (strchr(p->cert[i], '$') || strchr(p->key[i], '$') ||
		    strncmp(p->cert[i], "data:", 5) == 0 || strncmp(p->key[i], "data:", 5) == 0)
			return "the certificate is chosen at run time";
	return NULL;
}

/*
 * The name a server is probed with: its first literal name, else one its
 * first wildcard covers (said in a note), else none (said too).
 */
static int ng_sni(struct ng_state *s, const struct ng_server *sv, const char *label,
		  char out[MAX_VALUE])
{
	snprintf(out, MAX_VALUE, "%s", sv->sni);
	if (sv->sni[0] || !sv->first_name[0])
		return 0;
	if (sv->wildcard[0]) {
		disc_wildcard_name(sv->wildcard, out, MAX_VALUE);
		return disc_note(s->d, "server %s: no literal server_name: probed as %s, a name "
				 "%s covers", disc_show(label).s, disc_show(out).s,
				 disc_show(sv->wildcard).s);
	}
	return disc_note(s->d, "server %s: its server_name entries are patterns only: probed "
			 "without SNI; set name to one it serves", disc_show(label).s);
}

/* The TLS listeners of one server, each an endpoint with the server's pairs. */
static int ng_server_endpoints(struct ng_state *s, const struct ng_server *sv,
			       const char *label, const struct ng_listen *ls, size_t n_listens,
			       size_t n_ssl)
{
	const struct ng_pairs *p = sv->pairs.n_cert || sv->pairs.n_key ? &sv->pairs :
				   sv->stream ? &s->stream_pairs : &s->http_pairs;
	const char *problem = ng_pairs_problem(p);
	struct disc_pairs pairs = { .n = p->n_cert };
	char sni[MAX_VALUE];
	int r;

	if (sv->proxy_protocol)
		return disc_note(s->d, "server %s: skipped: it expects the PROXY protocol",
				 disc_show(label).s);
	if (problem)
		return disc_note(s->d, "server %s: skipped: %s", disc_show(label).s, problem);
	for (size_t i = 0; i < p->n_cert; i++) {
		pairs.cert[i] = p->cert[i];
		pairs.key[i] = p->key[i];
	}
	if ((r = ng_sni(s, sv, label, sni)) < 0)
		return r;
	for (size_t j = 0; j < n_listens; j++) {
		char name[MAX_VALUE];

		if (!ls[j].ssl && !sv->ssl_on)
			continue;
		if (n_ssl > 1)
			snprintf(name, sizeof(name), "%.*s-%d", MAX_NAME - 12, label, ls[j].port);
		else
			snprintf(name, sizeof(name), "%s", label);
		if ((r = disc_add_endpoint_pairs(s->d, name, ls[j].address, (unsigned)ls[j].port, -1,
						 sni[0] ? sni : NULL, &pairs)) < 0)
			return r;
	}
	return 0;
}

static int ng_endpoints(struct ng_state *s)
{
	int r;

	for (size_t i = 0; i < s->n_servers; i++) {
		const struct ng_server *sv = &s->servers[i];
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
		if ((r = ng_server_endpoints(s, sv, label, ls, n_listens, n_ssl)) < 0)
			return r;
	}
	if (s->plain > 0 && (r = disc_note(s->d, "%u server block%s without TLS skipped", s->plain,
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
			disc_copy_trim(text + i + sizeof(head) - 1, n - sizeof(head), f->name,
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
		r = disc_note(ret, "no configuration file in the output of nginx -T");
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
