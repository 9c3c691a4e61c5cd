/*
 * discover.h - `certwatch discover`: a ready configuration from what the
 * local daemons say about themselves (doveconf -n, postconf -n/-M,
 * nginx -T, exim -bP) or, for Apache and HAProxy, which print no whole
 * configuration, what their configuration files say.
 *
 * Two layers.  The parsers are pure: they take a daemon's dump as bytes
 * and fill a struct discovered, so they are tested on captured output and
 * fuzzed.  discover_write() runs the dumps (no shell, bounded output, a
 * timeout) and prints service sections in certwatch.conf(5) syntax.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "key-type.h"
#include "pair-format.h"

#define DISCOVER_MAX_OUTPUT    (4u << 20)  /* bytes of a dump read */
#define DISCOVER_MAX_ENDPOINTS 1024        /* per daemon */
#define DISCOVER_MAX_NOTES     64          /* per daemon */
#define DISCOVER_MAX_PAIRS     4           /* pairs one listener serves, one per key type */

/* A certificate and its key as a daemon names them, and how it reads them. */
struct discovered_pair {
	char *cert, *key;
	char *chain;      /* Postfix's chain files: a third file; NULL: none */
	enum pair_format format;
};

struct discovered_endpoint {
	char *name;       /* valid and unique within the daemon's service */
	char *address;    /* where to connect: 127.0.0.1 for a wildcard listen */
	uint16_t port;
	int starttls;     /* index into starttls_drivers[], or -1 for implicit TLS */
	char *sni;        /* NULL: the service's name */
	char *cert;       /* NULL: the service's pair (and its alternatives) */
	char *key;        /* NULL: the service's */
	char *chain;      /* with cert: Postfix's third chain file, or NULL */
	enum pair_format format;   /* with cert: how the daemon reads cert, key and chain */
	/*
	 * The listener's other pairs, one per key type (a second
	 * ssl_certificate, ssl_alt_cert, smtpd_tls_eccert_file); none, with
	 * cert NULL, means the service's.  discovered_split_pairs() turns
	 * them into endpoints of their own.
	 */
	struct discovered_pair alt[DISCOVER_MAX_PAIRS - 1];
	size_t n_alt;
	enum key_type key_type;    /* KEY_TYPE_AUTO, unless the listener serves several pairs */
};

struct discovered {
	char *cert, *key;   /* the daemon's default pair; NULL when it has none */
	char *chain;        /* Postfix's third chain file, or NULL */
	enum pair_format format;
	struct discovered_pair alt[DISCOVER_MAX_PAIRS - 1];  /* its other default pairs */
	size_t n_alt;
	char *hostname;     /* the daemon's own host name (Dovecot hostname,
			     * Postfix myhostname): a candidate for the SNI name */
	char *control_socket;  /* HAProxy's admin socket (stats socket ... level admin) */
	struct discovered_endpoint *endpoints;
	size_t n_endpoints;
	char **notes;       /* printable one-liners: what was skipped and why */
	size_t n_notes;
	size_t n_skipped;   /* endpoints past DISCOVER_MAX_ENDPOINTS, counted */
	char *skipped_note; /* one of notes: says n_skipped */
};

void discovered_done(struct discovered *d);

/*
 * The key types of the pairs a pair's files hold, in order, at most max
 * (pair_files_key_types(), which reads them); 0 when unknown.
 */
typedef int (*discover_types_fn)(const struct discovered_pair *p, enum key_type *ret,
				 size_t max, void *userdata);

/*
 * One endpoint per pair a client can get: an endpoint whose listener serves
 * more than one pair (alternatives, or files that hold a pair per key type,
 * as types says) becomes one endpoint per pair, named NAME-rsa,
 * NAME-ecdsa (NAME-2 ... for other or unknown types), each with its key
 * type and pair.  Returns 0 or -ENOMEM.
 */
int discovered_split_pairs(struct discovered *d, discover_types_fn types, void *userdata);

/*
 * The parsers.  Each fills *ret (zeroed first) from a dump and returns 0,
 * or -ENOMEM.  Input is bounded by the caller and may be garbage: what
 * cannot be understood becomes a note or is ignored.
 *
 * discover_dovecot: `doveconf -P -n` (-P, so that ssl_key shows its path);
 * protocols is the effective `protocols` setting (`doveconf -h protocols`),
 * used when the dump does not set it; NULL means "imap pop3 lmtp".
 * discover_postfix: `postconf -n -x` and `postconf -M -x`.
 * discover_nginx: `nginx -T`, every file it printed; include directives
 * are resolved against those files.
 * discover_exim: `exim -bP` of tls_certificate, tls_privatekey,
 * daemon_smtp_ports, tls_on_connect_ports, local_interfaces,
 * primary_hostname and tls_advertise_hosts (DISCOVER_EXIM_OPTIONS).
 */
int discover_dovecot(const char *text, size_t len, const char *protocols,
		     struct discovered *ret);
int discover_postfix(const char *main_text, size_t main_len,
		     const char *master_text, size_t master_len, struct discovered *ret);
int discover_nginx(const char *text, size_t len, struct discovered *ret);
int discover_exim(const char *text, size_t len, struct discovered *ret);
/*
 * Apache and HAProxy print no whole configuration: their parsers read a
 * bundle (discover-int.h), the files the daemon names, gathered in rounds.
 * A wants function is pure too: it calls want for every file its parser
 * needs that the bundle may not hold yet - kind 'f' for a file's
 * contents, 'p' to learn whether a path is a directory (then listed) or
 * a file - and returns 0, or want's first negative return.
 *
 * discover_apache: a bundle whose first section is the output of
 * `apache2ctl -t -D DUMP_VHOSTS -D DUMP_RUN_CFG -D DUMP_INCLUDES`; it wants
 * the files DUMP_INCLUDES lists.
 * discover_haproxy: a bundle whose first file is haproxy.cfg; it wants
 * the files and directories of crt and crt-list, and whether each
 * certificate's PATH.key exists.
 */
typedef int (*discover_want_fn)(char kind, const char *path, void *userdata);
typedef int (*discover_wants_fn)(const char *bundle, size_t len, discover_want_fn want,
				 void *userdata);
int discover_apache(const char *bundle, size_t len, struct discovered *ret);
int discover_apache_wants(const char *bundle, size_t len, discover_want_fn want, void *userdata);
int discover_haproxy(const char *bundle, size_t len, struct discovered *ret);
int discover_haproxy_wants(const char *bundle, size_t len, discover_want_fn want,
			   void *userdata);

#define DISCOVER_EXIM_OPTIONS "tls_certificate", "tls_privatekey", "daemon_smtp_ports", \
	"tls_on_connect_ports", "local_interfaces", "primary_hostname", "tls_advertise_hosts"

/* Where the dumps come from; every NULL or 0 field means the default. */
struct discover_options {
	const char *search_path;   /* colon-separated directories searched for the
				    * programs; default /usr/local/sbin:...:/bin */
	const char *dovecot_conf;  /* doveconf/doveadm -c FILE */
	const char *postfix_dir;   /* postconf/postfix -c DIR */
	const char *nginx_conf;    /* nginx -c FILE */
	const char *nginx_prefix;  /* nginx -p DIR */
	const char *exim_conf;     /* exim -C FILE */
	const char *apache_conf;   /* apache2ctl -f FILE */
	const char *haproxy_conf;  /* instead of /etc/haproxy/haproxy.cfg */
	const char *systemd_dir;   /* exists when systemd is PID 1: reload units;
				    * default /run/systemd/system */
	uint64_t timeout_usec;     /* per command; default 10 s */
};

/*
 * Runs the local daemons' own configuration dumps and writes a ready
 * configuration (one service per daemon found, with the reload method each
 * needs) to out; a daemon that is missing or whose dump fails is a comment
 * line saying why.  Returns the number of services written (0 is fine), or
 * a negative errno with err set.
 */
int discover_write(FILE *out, char *err, size_t errlen);
int discover_write_opts(FILE *out, const struct discover_options *o, char *err, size_t errlen);
