/*
 * discover-apache.c - discover_apache(): the TLS endpoints of Apache 2.4
 * from a bundle (discover-int.h) of `apache2ctl -t -D DUMP_VHOSTS -D
 * DUMP_RUN_CFG -D DUMP_INCLUDES` and the files that DUMP_INCLUDES lists
 * (what that output says: discover-apache-dump.c).
 *
 * Apache prints no whole configuration, so its files are read for
 * <VirtualHost> blocks; but only the blocks that DUMP_VHOSTS lists (by
 * file and line) are taken, so that a block Apache leaves out (inside
 * <IfModule> or <IfDefine> that does not hold) is not guessed into an
 * endpoint.  A block with SSLEngine on (its own, or the main server's)
 * gives one endpoint per port of its <VirtualHost> line, with its
 * SSLCertificateFile/SSLCertificateKeyFile pairs (the key in the
 * certificate's file when there is no key line), SSLCertificateChainFile,
 * and ServerName (else its first literal ServerAlias that is a host name;
 * one that is not is a note) as the name sent; the
 * main server's pairs when it has none of its own.  A value with a
 * ${VARIABLE} (Define) is not resolved: the block is left to the user with a
 * note.  Relative paths are relative to ServerRoot.  Pure: no I/O.
 *
 * Conditional sections (<IfDefine>, <IfModule>, <If> ...) are never
 * evaluated: around a whole block DUMP_VHOSTS already says whether Apache
 * uses it, but one of the directives above inside one, in a block, leaves
 * that block to the user with a note; in the main server's part, every
 * block that takes that default from it.  Sections are counted by depth,
 * per file as Apache closes them; one closed where it was not opened, or
 * never closed, is a note.  Macros (mod_macro) are not expanded: a <Macro>
 * body is skipped, a block that says Use is left to the user, and the
 * blocks a macro makes are noted from DUMP_VHOSTS.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discover.h"
#include "discover-apache-dump.h"
#include "discover-apache-syntax.h"
#include "discover-int.h"
#include "util.h"

#define AP_MAX_ADDRS 8      /* addresses of one <VirtualHost> line */
#define AP_MAX_BLOCKS 1024  /* <VirtualHost> blocks read */
#define AP_WHY 600          /* why a block is skipped */

struct ap_pairs {
	char cert[DISCOVER_MAX_PAIRS][MAX_VALUE], key[DISCOVER_MAX_PAIRS][MAX_VALUE];
	char chain[MAX_VALUE];
	size_t n_cert, n_key;
	int engine;                  /* SSLEngine: -1 unset, 0 off, 1 on */
};

struct ap_vhost {
	char file[MAX_VALUE];
	unsigned line;
	char addrs[AP_MAX_ADDRS][MAX_VALUE];
	size_t n_addrs;
	char name[MAX_VALUE], alias[MAX_VALUE];
	struct ap_pairs pairs;
	char why[AP_WHY];            /* why it is left to the user; "" if it is not */
};

/* An open conditional section (<IfModule mod_ssl.c>), for notes. */
struct ap_cond {
	char what[MAX_VALUE];
	unsigned line;
};

struct ap_state {
	struct discovered *d;
	struct disc_section dump;    /* apache2ctl's output */
	char root[MAX_VALUE];        /* ServerRoot */
	struct ap_pairs main;
	char main_engine_why[AP_WHY], main_pairs_why[AP_WHY];  /* main's, conditional */
	struct ap_cond conds[MAX_DEPTH];
	unsigned depth;              /* conditional sections open in the file being read */
	unsigned block_depth;        /* ... when its open <VirtualHost> began */
	bool in_macro;               /* inside <Macro>: Apache reads it only where it is used */
	unsigned macro_line;
	struct ap_vhost *vh;         /* the block being read; NULL outside one */
	bool in_block;               /* first pass: inside a block, not the main server's */
	bool pass_vhosts;            /* first pass: the main server; second: the blocks */
	unsigned plain, unused, blocks, files;
	bool noted_nested, noted_cut, noted_blocks, noted_files;
};

/* An absolute path for a file named in the configuration. */
static void ap_path(const struct ap_state *s, const char *v, char *out, size_t outlen)
{
	if (v[0] == '/' || strstr(v, "${"))
		snprintf(out, outlen, "%s", v);
	else
		snprintf(out, outlen, "%s/%s", s->root, v);
}

static void ap_pair_line(const struct ap_state *s, struct ap_pairs *p, const char *d,
			 const char *v)
{
	if (strcasecmp(d, "SSLEngine") == 0)
		p->engine = strcasecmp(v, "on") == 0;
	else if (strcasecmp(d, "SSLCertificateFile") == 0 && p->n_cert++ < DISCOVER_MAX_PAIRS)
		ap_path(s, v, p->cert[p->n_cert - 1], MAX_VALUE);
	else if (strcasecmp(d, "SSLCertificateKeyFile") == 0 && p->n_key++ < DISCOVER_MAX_PAIRS)
		ap_path(s, v, p->key[p->n_key - 1], MAX_VALUE);
	else if (strcasecmp(d, "SSLCertificateChainFile") == 0)
		ap_path(s, v, p->chain, MAX_VALUE);
}

/*
 * The first literal name of a ServerName or ServerAlias line, without
 * scheme or port, into out; a name with other bytes (quotes, braces,
 * blanks, non-ASCII) is left out with a note naming file:line.
 */
static int ap_name(struct ap_state *s, const char *file, unsigned line, char *out,
		   char words[][MAX_VALUE], size_t n)
{
	for (size_t i = 1; i < n && !out[0]; i++) {
		const char *v = strstr(words[i], "://") ? strstr(words[i], "://") + 3 : words[i];
		size_t len = strcspn(v, ":/");
		int r;

		if (len == 0 || len >= MAX_VALUE || memchr(v, '*', len) || memchr(v, '?', len) ||
		    memchr(v, '$', len))
			continue;
		if (apache_host_name(v, len))
			snprintf(out, MAX_VALUE, "%.*s", (int)len, v);
		else if ((r = disc_note(s->d, "%s:%u: %s \"%s\" is not a host name: not used as "
					"the name sent", disc_show(file).s, line, words[0],
					disc_show(words[i]).s)) < 0)
			return r;
	}
	return 0;
}

/* Keeps the first reason a block (or the main server's part) is left to the user. */
__attribute__((format(printf, 2, 3)))
static void ap_why(char why[AP_WHY], const char *fmt, ...)
{
	va_list ap;

	if (why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(why, AP_WHY, fmt, ap);
	va_end(ap);
}

/* The innermost conditional section open, "<IfDefine X> at FILE:LINE"; depth > 0. */
static void ap_cond_where(const struct ap_state *s, const char *file, char *out, size_t outlen)
{
	const struct ap_cond *c = &s->conds[(s->depth < MAX_DEPTH ? s->depth : MAX_DEPTH) - 1];

	snprintf(out, outlen, "%s at %s:%u", disc_show(c->what).s, disc_show(file).s, c->line);
}

/*
 * A conditional section opened (dir 1) or closed (-1).  Apache refuses a
 * section closed where it was not opened (outside its <VirtualHost>, or
 * never): the block is left to the user, the main server's line ignored.
 */
static int ap_section(struct ap_state *s, const char *file, unsigned line,
		      char words[][MAX_VALUE], size_t n, int dir)
{
	if (dir > 0) {
		if (s->depth < MAX_DEPTH) {
			struct ap_cond *c = &s->conds[s->depth];
			size_t k = (size_t)snprintf(c->what, sizeof(c->what), "%s", words[0]);

			for (size_t i = 1; i < n && k < sizeof(c->what); i++)
				k += (size_t)snprintf(c->what + k, sizeof(c->what) - k, " %s", words[i]);
			c->line = line;
		}
		/* Deeper than MAX_DEPTH, only counted: notes name the deepest kept. */
		s->depth++;
		return 0;
	}
	if (s->depth > (s->in_block ? s->block_depth : 0)) {
		s->depth--;
		return 0;
	}
	if (s->vh)
		ap_why(s->vh->why, "%s at %s:%u closes a section opened outside the block",
		       disc_show(words[0]).s, disc_show(file).s, line);
	else if (!s->pass_vhosts && !s->in_block)
		return disc_note(s->d, "%s:%u: %s closes no open section: ignored",
				 disc_show(file).s, line, disc_show(words[0]).s);
	return 0;
}

/*
 * A directive that matters inside a conditional section: discovery does not
 * guess whether Apache reads it, so its block is left to the user; the main
 * server's leaves the blocks that take that default from it.
 */
static void ap_in_conditional(struct ap_state *s, const char *file, const char *d)
{
	char where[AP_WHY];

	ap_cond_where(s, file, where, sizeof(where));
	if (s->vh)
		ap_why(s->vh->why, "%s is inside %s, a condition certwatch does not evaluate",
		       d, where);
	else if (s->pass_vhosts || s->in_block)
		return;
	else if (strcasecmp(d, "SSLEngine") == 0)
		ap_why(s->main_engine_why, "the main server's SSLEngine is inside %s, a condition "
		       "certwatch does not evaluate", where);
	else if (strncasecmp(d, "SSLCertificate", 14) == 0)
		ap_why(s->main_pairs_why, "the main server's %s is inside %s, a condition "
		       "certwatch does not evaluate", d, where);
}

static int ap_vhost_done(struct ap_state *s);

static int ap_directive(struct ap_state *s, const char *file, unsigned line,
			char words[][MAX_VALUE], size_t n)
{
	const char *d = words[0];
	int dir = apache_conditional(d);

	/* DUMP_VHOSTS names the blocks a macro makes by the macro: see apache_dump_macros(). */
	if (s->in_macro) {
		s->in_macro = strcasecmp(d, "</Macro>") != 0;
		return 0;
	}
	if (strcasecmp(d, "<Macro") == 0) {
		s->in_macro = true;
		s->macro_line = line;
		return 0;
	}
	if (dir)
		return ap_section(s, file, line, words, n, dir);
	if (strcasecmp(d, "<VirtualHost") == 0) {
		if (s->in_block)
			return disc_note_once(s->d, &s->noted_nested, "%s:%u: a <VirtualHost> inside "
					      "another is not read", disc_show(file).s, line);
		s->in_block = true;
		s->block_depth = s->depth;
		if (!s->pass_vhosts)
			return 0;
		if (++s->blocks > AP_MAX_BLOCKS)
			return disc_note_once(s->d, &s->noted_blocks, "more than %d <VirtualHost> "
					      "blocks: the rest are not read", AP_MAX_BLOCKS);
		if (!(s->vh = calloc(1, sizeof(*s->vh))))
			return -ENOMEM;
		snprintf(s->vh->file, sizeof(s->vh->file), "%s", file);
		s->vh->line = line;
		s->vh->pairs.engine = -1;
		for (size_t i = 1; i < n && s->vh->n_addrs < AP_MAX_ADDRS; i++) {
			words[i][strcspn(words[i], ">")] = '\0';
			if (words[i][0])
				snprintf(s->vh->addrs[s->vh->n_addrs++], MAX_VALUE, "%s", words[i]);
		}
		return 0;
	}
	if (strcasecmp(d, "</VirtualHost>") == 0) {
		if (s->in_block && s->depth > s->block_depth) {
			char where[AP_WHY];

			ap_cond_where(s, file, where, sizeof(where));
			if (s->vh)
				ap_why(s->vh->why, "%s is not closed inside the block", where);
			s->depth = s->block_depth;
		}
		s->in_block = false;
		return ap_vhost_done(s);
	}
	if (n < 2)
		return 0;
	if (s->vh && strcasecmp(d, "Use") == 0)
		ap_why(s->vh->why, "a macro is used at %s:%u (mod_macro), which certwatch does not "
		       "expand", disc_show(file).s, line);
	if (s->depth > (s->in_block ? s->block_depth : 0) &&
	    apache_matters(d)) {
		ap_in_conditional(s, file, d);
		return 0;
	}
	if (s->vh) {
		if (strcasecmp(d, "ServerName") == 0)
			return ap_name(s, file, line, s->vh->name, words, n);
		if (strcasecmp(d, "ServerAlias") == 0)
			return ap_name(s, file, line, s->vh->alias, words, n);
		ap_pair_line(s, &s->vh->pairs, d, words[1]);
	} else if (!s->pass_vhosts && !s->in_block) {
		ap_pair_line(s, &s->main, d, words[1]);
	}
	return 0;
}

/* The directive lines of one file, continuations ("\" at the end) joined. */
static int ap_file(struct ap_state *s, const struct disc_section *f)
{
	char (*words)[MAX_VALUE] = calloc(MAX_ARGS, MAX_VALUE);
	char line[MAX_LINE + 1];
	const char *p = f->text, *end = f->text + f->len;
	unsigned lineno = 0;
	int r = words ? 0 : -ENOMEM;

	while (r >= 0 && p < end) {
		size_t n = 0;
		bool cut = false, more = true;

		/*
		 * As Apache: a "\" right before the newline (or CR LF) joins the
		 * next line, and the directive counts as on its last line (the
		 * line DUMP_VHOSTS gives for a <VirtualHost> continued so).
		 */
		while (more && p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t whole = nl ? (size_t)(nl - p) : (size_t)(end - p), len = whole;

			lineno++;
			len -= nl && len > 0 && p[len - 1] == '\r';
			more = nl && len > 0 && p[len - 1] == '\\';
			len = more ? len - 1 : whole;
			if (n + len > MAX_LINE || memchr(p, '\0', len)) {
				cut = true;
			} else {
				memcpy(line + n, p, len);
				n += len;
			}
			p += whole + (nl != NULL);
		}
		line[n] = '\0';
		if (cut)
			r = disc_note_once(s->d, &s->noted_cut, "%s:%u: a line too long or with a NUL "
					   "byte is not read", disc_show(f->path).s, lineno);
		else if ((n = apache_words(line, words, MAX_ARGS)) > 0)
			r = ap_directive(s, f->path, lineno, words, n);
	}
	s->in_block = false;
	if (r >= 0 && s->depth > 0 && !s->pass_vhosts) {
		char where[AP_WHY];

		ap_cond_where(s, f->path, where, sizeof(where));
		r = disc_note(s->d, "%s is not closed by the end of its file: what follows it "
			      "was taken as conditional", where);
	}
	s->depth = 0;
	if (r >= 0 && s->in_macro && !s->pass_vhosts)
		r = disc_note(s->d, "%s:%u: <Macro> is not closed by the end of its file",
			      disc_show(f->path).s, s->macro_line);
	s->in_macro = false;
	if (r >= 0 && s->vh) {
		r = disc_note(s->d, "%s:%u: <VirtualHost> is not closed: not read",
			      disc_show(f->path).s, s->vh->line);
		free(s->vh);
		s->vh = NULL;
	}
	free(words);
	return r;
}

/* Why a block's pairs cannot be listed; NULL when they can. */
static const char *ap_pairs_problem(const struct ap_pairs *p)
{
	if (p->n_cert == 0)
		return "no SSLCertificateFile";
	if (p->n_key != 0 && p->n_key != p->n_cert)
		return "its SSLCertificateFile and SSLCertificateKeyFile lines do not pair up";
	if (p->n_cert > DISCOVER_MAX_PAIRS)
		return "more SSLCertificateFile lines than key types";
	for (size_t i = 0; i < p->n_cert; i++)
		if (strstr(p->cert[i], "${") || (i < p->n_key && strstr(p->key[i], "${")))
			return "a path names a ${variable} (Define), which certwatch does not resolve";
	if (strstr(p->chain, "${"))
		return "its chain file names a ${variable} (Define), which certwatch does not resolve";
	return NULL;
}

static int ap_endpoints(struct ap_state *s, const struct ap_vhost *v, const char *label)
{
	const struct ap_pairs *p = v->pairs.n_cert ? &v->pairs : &s->main;
	const char *problem = ap_pairs_problem(p), *sni = v->name[0] ? v->name : v->alias;
	struct disc_pairs pairs = { .n = p->n_cert, .chain = p->chain[0] ? p->chain : NULL };
	int ports[AP_MAX_ADDRS], r;
	size_t n_ports = 0;

	if (problem)
		return disc_note(s->d, "%s (%s:%u): skipped: %s", disc_show(label).s,
				 disc_show(v->file).s, v->line, problem);
	for (size_t i = 0; i < p->n_cert; i++) {
		pairs.cert[i] = p->cert[i];
		pairs.key[i] = i < p->n_key ? p->key[i] : p->cert[i];
	}
	for (size_t i = 0; i < v->n_addrs; i++) {
		char address[MAX_VALUE], name[MAX_VALUE];
		int port;
		bool seen = false;

		if (!apache_addr(v->addrs[i], address, sizeof(address), &port)) {
			r = disc_note(s->d, "%s (%s:%u): address %s has no port certwatch can read; "
				      "skipped", disc_show(label).s, disc_show(v->file).s, v->line,
				      disc_show(v->addrs[i]).s);
			if (r < 0)
				return r;
			continue;
		}
		/* *:443 beside [::]:443 is one service: one probe is enough. */
		for (size_t j = 0; j < n_ports; j++)
			seen |= ports[j] == port;
		if (seen)
			continue;
		ports[n_ports++] = port;
		snprintf(name, sizeof(name), n_ports > 1 ? "%.40s-%d" : "%.40s", label, port);
		if ((r = disc_add_endpoint_pairs(s->d, name, address, (unsigned)port, -1,
						 sni[0] ? sni : NULL, &pairs)) < 0)
			return r;
	}
	return 0;
}

/* Why a block is left to the user: a reason of its own, or of the default it takes; or NULL. */
static const char *ap_vhost_why(const struct ap_state *s, const struct ap_vhost *v, int engine)
{
	if (v->why[0])
		return v->why;
	if (v->pairs.engine < 0 && s->main_engine_why[0])
		return s->main_engine_why;
	if (engine == 1 && v->pairs.n_cert == 0 && s->main_pairs_why[0])
		return s->main_pairs_why;
	return NULL;
}

static int ap_vhost_done(struct ap_state *s)
{
	struct ap_vhost *v = s->vh;
	int engine = v && v->pairs.engine >= 0 ? v->pairs.engine : s->main.engine;
	const char *label, *why;
	int r = 0;

	if (!v)
		return 0;
	s->vh = NULL;
	label = v->name[0] ? v->name : v->alias[0] ? v->alias : "default";
	if (!apache_dump_lists(&s->dump, v->file, v->line))
		s->unused++;
	else if ((why = ap_vhost_why(s, v, engine)))
		r = disc_note(s->d, "%s (%s:%u): skipped: %s: write its endpoint by hand",
			      disc_show(label).s, disc_show(v->file).s, v->line, why);
	else if (engine != 1)
		s->plain++;
	else
		r = ap_endpoints(s, v, label);
	free(v);
	return r;
}

struct ap_read {
	struct ap_state *s;
	const char *bundle;
	size_t len;
};

/* Reads one included file for the pass at hand; a file not read is a note. */
static int ap_read_line(const char *line, bool cut, void *userdata)
{
	struct ap_read *a = userdata;
	const char *path = apache_dump_included(line, cut);
	struct disc_section f;
	char why[100];

	if (!path)
		return 0;
	/* A list naming files over and over must not multiply the work. */
	if (++a->s->files > DISC_MAX_SECTIONS)
		return disc_note_once(a->s->d, &a->s->noted_files, "more than %d included files: "
				      "the rest are not read", DISC_MAX_SECTIONS);
	if (disc_section_find(a->bundle, a->len, "f", path, &f))
		return ap_file(a->s, &f);
	if (a->s->pass_vhosts)
		return 0;
	if (!disc_section_find(a->bundle, a->len, "m", path, &f))
		f = (struct disc_section){ .text = "" };
	disc_copy_trim(f.text, f.len, why, sizeof(why));
	return disc_note(a->s->d, "%s: not read%s%s", disc_show(path).s, why[0] ? ": " : "",
			 disc_show(why).s);
}

int discover_apache(const char *bundle, size_t len, struct discovered *ret)
{
	struct ap_state *s = calloc(1, sizeof(*s));
	struct ap_read a = { s, bundle, len };
	size_t cursor = 0;
	int r = -ENOMEM;

	*ret = (struct discovered){ 0 };
	if (!s)
		goto out;
	s->d = ret;
	s->main.engine = -1;
	snprintf(s->root, sizeof(s->root), "/etc/apache2");
	if (!disc_section_next(bundle, len, &cursor, &s->dump) || s->dump.kind != 'c') {
		r = disc_note(ret, "no output of apache2ctl -D DUMP_INCLUDES to read");
		goto out;
	}
	apache_dump_root(&s->dump, s->root, sizeof(s->root));
	/* The main server first: its pairs and SSLEngine are the blocks' defaults. */
	if ((r = disc_for_each_line(s->dump.text, s->dump.len, ap_read_line, &a)) < 0)
		goto out;
	s->pass_vhosts = true;
	s->files = 0;
	if ((r = disc_for_each_line(s->dump.text, s->dump.len, ap_read_line, &a)) < 0)
		goto out;
	if (s->plain && (r = disc_note(ret, "%u <VirtualHost> block%s without SSLEngine on skipped",
				       s->plain, s->plain == 1 ? "" : "s")) < 0)
		goto out;
	if ((r = apache_dump_macros(&s->dump, ret)) < 0)
		goto out;
	if (s->unused)
		r = disc_note(ret, "%u <VirtualHost> block%s that Apache does not use (DUMP_VHOSTS "
			      "does not list %s) skipped", s->unused, s->unused == 1 ? "" : "s",
			      s->unused == 1 ? "it" : "them");
out:
	if (r < 0)
		discovered_done(ret);
	free(s);
	return r;
}
