/*
 * discover.c - `certwatch discover`: runs the dumps in which Dovecot,
 * Postfix, nginx, Exim and Apache describe their own configuration
 * (discover-run.c), hands each to its parser, and writes certwatch service
 * sections for what the parsers found, with the reload method and
 * configuration test each daemon needs, or the kind that knows them (Exim:
 * no reload at all; Apache: its unit; HAProxy: its runtime API).
 *
 * The daemons' dumps are the source of truth (doveconf -P -n, postconf -n -x
 * and -M -x, nginx -T, exim -bP): they have already applied includes,
 * defaults and conditionals that a reader of the files would have to
 * reimplement.  Apache prints which files it includes and which virtual
 * hosts it has, not their settings, and HAProxy prints nothing (haproxy -c
 * only says that its configuration is valid): their files are read into a
 * bundle (discover-files.c), in rounds that their parsers direct.  The
 * parsers (discover-dovecot.c, discover-postfix.c, discover-nginx.c,
 * discover-exim.c, discover-apache.c, discover-haproxy.c) are
 * pure and treat the dump as untrusted text; everything they find goes
 * through discover-result.c, which bounds it and keeps bytes that are not
 * printable out of the output.  What is not understood becomes a comment
 * ("note") in the generated configuration rather than a guess; so does a
 * daemon that is missing or whose dump fails.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <stdint.h>

#include "conf.h"
#include "discover.h"
#include "discover-files.h"
#include "discover-int.h"
#include "discover-run.h"
#include "kinds.h"
#include "starttls.h"
#include "util.h"
#include "x509.h"

#define DEFAULT_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define DEFAULT_SEARCH_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_SYSTEMD_DIR "/run/systemd/system"
#define DEFAULT_HAPROXY_CONF "/etc/haproxy/haproxy.cfg"

/* The rows of daemons[], in order. */
enum { DOVECOT, POSTFIX, NGINX, EXIM, APACHE, HAPROXY };

/* The service's own entry in the names of its endpoints. */
#define SERVICE SIZE_MAX

/*
 * Whether name is sent by another endpoint on endpoint i's listener
 * (address and port): the daemon would pick that one's pair for it.  A
 * name on another listener is no conflict: SNI picks among the pairs of
 * one listener only; nor is one of another key type on the same listener
 * (nginx's two ssl_certificate, Dovecot's ssl_alt_cert): the client's
 * offer picks between those.  names[] holds the names chosen so far for endpoints
 * without sni; for the service (i SERVICE), every endpoint that would send
 * its name is checked.
 */
static bool name_taken(const struct discovered *d, char *const names[], size_t i,
		       const char *name)
{
	const struct discovered_endpoint *e = i == SERVICE ? NULL : &d->endpoints[i];

	for (size_t j = 0; j < d->n_endpoints; j++) {
		const struct discovered_endpoint *o = &d->endpoints[j];
		const char *sent = o->sni ? o->sni : names[j];

		if (!e && !sent && name_taken(d, names, j, name))
			return true;
		/* Pairs of one name per key type share it: the key type picks between them. */
		if (e && j != i && sent && o->port == e->port && o->key_type == e->key_type &&
		    strcmp(o->address, e->address) == 0 && strcasecmp(sent, name) == 0)
			return true;
	}
	return false;
}

/*
 * A name the certificate covers, for endpoint i (or the service): the
 * daemon's host name, else the first DNS name that no other endpoint on
 * its listener sends.  NULL: none.
 */
static char *name_from_cert(const char *cert, const char *hostname, const struct discovered *d,
			    char *const names[], size_t i)
{
	struct disk_pair p;
	char *name = NULL;

	if (!cert || disk_pair_load(cert, NULL, NULL, NULL, time(NULL), &p) < 0)
		return NULL;
	if (p.have_leaf) {
		if (hostname && !disc_name_problem(hostname) && cert_info_covers(&p.leaf, hostname))
			name = strdup(hostname);
		for (size_t k = 0; !name && k < p.leaf.n_sans; k++) {
			const char *san = p.leaf.sans[k];

			if (!disc_name_problem(san) && !name_taken(d, names, i, san))
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
	const char *args[8];
};

static const struct daemon_def {
	const char *service;     /* certwatch's service name */
	const char *unit;        /* systemd unit */
	struct daemon_cmd dumps[2], reload, check;
	const char *kind;        /* instead of reload and check: the kind that knows them */
	const char *why_mark;    /* marks the line of stderr that says why a dump failed;
				  * NULL: the first line */
} daemons[] = {
	{ "dovecot", "dovecot.service",
	  { { "doveconf", "/usr/bin/doveconf", { "-P", "-n" } },
	    { "doveconf", "/usr/bin/doveconf", { "-h", "protocols" } } },
	  { "doveadm", "/usr/bin/doveadm", { "reload" } },
	  { "doveconf", "/usr/bin/doveconf", { "-n" } }, NULL, NULL },
	{ "postfix", "postfix.service",
	  { { "postconf", "/usr/sbin/postconf", { "-n", "-x" } },
	    { "postconf", "/usr/sbin/postconf", { "-M", "-x" } } },
	  { "postfix", "/usr/sbin/postfix", { "reload" } },
	  { "postfix", "/usr/sbin/postfix", { "check" } }, NULL, NULL },
	{ "nginx", "nginx.service",
	  { { "nginx", "/usr/sbin/nginx", { "-T" } } },
	  { "nginx", "/usr/sbin/nginx", { "-s", "reload" } },
	  { "nginx", "/usr/sbin/nginx", { "-t" } }, NULL, NULL },
	{ "exim", "exim4.service",
	  { { "exim", "/usr/sbin/exim", { "-bP", DISCOVER_EXIM_OPTIONS } } },
	  { NULL, NULL, { NULL } }, { NULL, NULL, { NULL } }, "exim", NULL },
	/* apache2ctl, as Debian runs Apache: it reads /etc/apache2/envvars. */
	{ "apache", "apache2.service",
	  { { "apache2ctl", "/usr/sbin/apache2ctl",
	      { "-t", "-D", "DUMP_VHOSTS", "-D", "DUMP_RUN_CFG", "-D", "DUMP_INCLUDES" } } },
	  /* Written only for an instance of its own (--apache-conf): the kind's unit is the system's. */
	  { "apache2ctl", "/usr/sbin/apache2ctl", { "-k", "graceful" } },
	  { "apache2ctl", "/usr/sbin/apache2ctl", { "-t" } }, "apache", NULL },
	/*
	 * haproxy -c: the files are read only when HAProxy would load them.
	 * Without -q, which silences the reason too: HAProxy 2.6 prints
	 * "[NOTICE]" lines (its version, its path), then "[ALERT]" ones.
	 */
	{ "haproxy", "haproxy.service",
	  { { "haproxy", "/usr/sbin/haproxy", { "-c" } } },
	  { NULL, NULL, { NULL } }, { "haproxy", "/usr/sbin/haproxy", { "-c" } }, "haproxy",
	  "[ALERT]" },
};

#define MAX_CMD_ARGS 12

/* A command's argv with the private-instance options; *ret_prog is to be freed. */
static int build_argv(const struct discover_options *o, const char *search, size_t which,
		      const struct daemon_cmd *cmd, char *argv[MAX_CMD_ARGS], char **ret_prog)
{
	size_t n = 0;
	int r = disc_find_program(search, cmd->program, ret_prog);

	if (r == -ENOENT && !(*ret_prog = strdup(cmd->usual_path)))
		return -ENOMEM;
	if (r < 0 && r != -ENOENT)
		return r;
	argv[n++] = *ret_prog;
	if (which == DOVECOT && o->dovecot_conf) {
		argv[n++] = (char *)"-c";
		argv[n++] = (char *)o->dovecot_conf;
	} else if (which == POSTFIX && o->postfix_dir) {
		argv[n++] = (char *)"-c";
		argv[n++] = (char *)o->postfix_dir;
	} else if (which == EXIM && o->exim_conf) {
		argv[n++] = (char *)"-C";
		argv[n++] = (char *)o->exim_conf;
	} else if (which == APACHE && o->apache_conf) {
		argv[n++] = (char *)"-f";
		argv[n++] = (char *)o->apache_conf;
	} else if (which == HAPROXY) {
		argv[n++] = (char *)"-f";
		argv[n++] = (char *)(o->haproxy_conf ? o->haproxy_conf : DEFAULT_HAPROXY_CONF);
	} else if (which == NGINX) {
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

/* discover_types_fn: the files read, as the daemon reads them. */
static int pair_types(const struct discovered_pair *p, enum key_type *ret, size_t max,
		      void *userdata)
{
	const struct pair_files pf = { .cert = p->cert, .key = p->key, .chain = p->chain,
				       .format = p->format };

	(void)userdata;
	return p->cert ? pair_files_key_types(&pf, ret, max) : 0;
}

/* An endpoint's settings after its address: its name, pair and key type. */
static void print_endpoint_pair(FILE *f, const struct discovered *d,
				const struct discovered_endpoint *e, const char *name)
{
	conf_write_setting(f, "\t\t", "name", e->sni ? e->sni : name);
	conf_write_setting(f, "\t\t", "cert", e->cert);
	conf_write_setting(f, "\t\t", "key", e->key);
	conf_write_setting(f, "\t\t", "chain", e->chain);
	if (e->cert && e->format != d->format)
		conf_write_setting(f, "\t\t", "pair-format", pair_format_to_string(e->format));
	if (e->key_type != KEY_TYPE_AUTO)
		conf_write_setting(f, "\t\t", "key-type", key_type_to_string(e->key_type));
}

/*
 * The names to write where the daemon gave none: for each endpoint with a
 * pair of its own (its certificate must cover the name sent), then for the
 * service.  *ret_names has d->n_endpoints entries, NULL where none.
 */
static int choose_names(const struct discovered *d, char ***ret_names, char **ret_service)
{
	char **names = calloc(d->n_endpoints + 1, sizeof(*names));

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_endpoints; i++)
		if (!d->endpoints[i].sni && d->endpoints[i].cert)
			names[i] = name_from_cert(d->endpoints[i].cert, NULL, d, names, i);
	*ret_service = d->cert ? name_from_cert(d->cert, d->hostname, d, names, SERVICE) : NULL;
	*ret_names = names;
	return 0;
}

static void print_endpoints(FILE *f, const struct discovered *d, char *const names[])
{
	for (size_t i = 0; i < d->n_endpoints; i++) {
		const struct discovered_endpoint *e = &d->endpoints[i];

		fprintf(f, "\tendpoint %s {\n", e->name);
		conf_write_setting(f, "\t\t", "address", e->address);
		fprintf(f, "\t\tport = %u\n", e->port);
		if (e->starttls >= 0 && (size_t)e->starttls < starttls_n_drivers)
			fprintf(f, "\t\tstarttls = \"%s\"\n", starttls_drivers[e->starttls].name);
		print_endpoint_pair(f, d, e, names[i]);
		fputs("\t}\n", f);
	}
}

static int print_service(FILE *f, const struct discover_options *o, const char *search,
			 size_t which, const struct discovered *d)
{
	const struct daemon_def *def = &daemons[which];
	bool private = which == DOVECOT ? !!o->dovecot_conf : which == POSTFIX ? !!o->postfix_dir
		       : which == EXIM ? !!o->exim_conf : which == APACHE ? !!o->apache_conf
		       : which == HAPROXY ? !!o->haproxy_conf : o->nginx_conf || o->nginx_prefix;
	const struct kind *k = def->kind ? kind_find(def->kind) : NULL;
	struct stat st;
	char *argv[MAX_CMD_ARGS], *prog = NULL, *name = NULL, **names = NULL;
	int r = choose_names(d, &names, &name);

	if (r < 0)
		return r;
	fprintf(f, "service %s {\n", def->service);
	conf_write_setting(f, "\t", "cert", d->cert);
	conf_write_setting(f, "\t", "key", d->key);
	conf_write_setting(f, "\t", "chain", d->chain);
	if (d->cert && d->format != PAIR_FORMAT_PEM)
		conf_write_setting(f, "\t", "pair-format", pair_format_to_string(d->format));
	conf_write_setting(f, "\t", "name", name);
	/*
	 * A private instance is not the one systemd knows by the unit name,
	 * nor the one a kind's recipe reloads: its own command overrides it.
	 */
	if (def->kind)
		conf_write_setting(f, "\t", "kind", def->kind);
	if (!def->kind && !private &&
	    stat(o->systemd_dir ? o->systemd_dir : DEFAULT_SYSTEMD_DIR, &st) == 0)
		conf_write_setting(f, "\t", "reload-unit", def->unit);
	else if ((!def->kind || private) && def->reload.program &&
		 build_argv(o, search, which, &def->reload, argv, &prog) == 0)
		conf_write_argv(f, "reload-command", argv);
	else if (private && k && k->unit && k->method != RELOAD_METHOD_SELF)
		fprintf(f, "\t# what kind %s falls back on, %s, is the system's: for this instance, "
			"set reload-signal and pid-file (or reload-command)\n", def->kind, k->unit);
	free(prog);
	prog = NULL;
	/* A kind's own test is for the system's instance. */
	if (def->check.program && (!def->kind || private) &&
	    build_argv(o, search, which, &def->check, argv, &prog) == 0)
		conf_write_argv(f, "reload-check", argv);
	free(prog);
	if (d->control_socket && (!k || !k->socket || strcmp(k->socket, d->control_socket) != 0))
		conf_write_setting(f, "\t", "control-socket", d->control_socket);
	print_endpoints(f, d, names);
	fputs("}\n", f);
	for (size_t i = 0; i < d->n_endpoints; i++)
		free(names[i]);
	free(names);
	free(name);
	return 0;
}

/* The line of a command's stderr that says why (its first with mark, else its first), escaped. */
static void why_line(const struct cmd_result *c, const char *mark, char *out, size_t outlen)
{
	const char *line = mark ? strstr(c->err, mark) : NULL;

	while (line && line > c->err && line[-1] != '\n')
		line--;
	line = line ? line : c->err;
	escape_bytes(line, strcspn(line, "\n"), out, outlen);
}

/* Apache and HAProxy: the bundle of their files, then their parser. */
static int discover_from_files(const struct discover_options *o, size_t which,
			       const struct cmd_result *dump, struct discovered *ret)
{
	struct disc_bundle b = { 0 };
	int r;

	if (which == APACHE)
		r = disc_bundle_seed(&b, 'c', "apache2ctl -D DUMP_INCLUDES", dump->out, dump->out_len);
	else
		r = disc_bundle_seed(&b, 'f', o->haproxy_conf ? o->haproxy_conf :
				     DEFAULT_HAPROXY_CONF, NULL, 0);
	if (r >= 0)
		r = disc_bundle_gather(&b, which == APACHE ? discover_apache_wants :
				       discover_haproxy_wants);
	if (r >= 0)
		r = which == APACHE ? discover_apache(b.text ? b.text : "", b.len, ret) :
		    discover_haproxy(b.text ? b.text : "", b.len, ret);
	disc_bundle_done(&b);
	return r;
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

	if ((r = disc_find_program(search, def->dumps[0].program, &progs[0])) == -ENOENT) {
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
		if ((r = disc_run_command(argv, timeout, &res[k])) < 0) {
			fprintf(f, "# %s: cannot run %s: %s\n", def->service, disc_show(progs[k]).s,
				strerror(-r));
			r = 0;
			goto out;
		}
		why_line(&res[k], def->why_mark, msg, sizeof(msg));
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
	if (which == DOVECOT) {
		res[1].out[strcspn(res[1].out, "\n")] = '\0';
		r = discover_dovecot(res[0].out, res[0].out_len, res[1].out, &d);
	} else if (which == POSTFIX) {
		r = discover_postfix(res[0].out, res[0].out_len, res[1].out, res[1].out_len, &d);
	} else if (which == NGINX) {
		r = discover_nginx(res[0].out, res[0].out_len, &d);
	} else if (which == EXIM) {
		r = discover_exim(res[0].out, res[0].out_len, &d);
	} else {
		r = discover_from_files(o, which, &res[0], &d);
	}
	/* One endpoint per pair a client can get: the files say how many. */
	if (r >= 0)
		r = discovered_split_pairs(&d, pair_types, NULL);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < d.n_notes; i++)
		fprintf(f, "# %s: %s\n", def->service, d.notes[i]);
	if (d.n_endpoints == 0) {
		fprintf(f, "# %s: no TLS endpoint found\n", def->service);
		r = 0;
		goto out;
	}
	r = print_service(f, o, search, which, &d);
	if (r >= 0)
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
	      "# Review it, then save it in the conf.d directory beside " CONF_DEFAULT_FILE ",\n"
	      "# such as conf.d/local.conf (root's, mode 0600).\n", out);
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

