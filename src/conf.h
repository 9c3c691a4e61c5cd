/*
 * conf.h - certwatch's configuration: parsed with libconfuse from a main
 * file and a directory of per-service files, validated, then immutable.
 *
 * Everything a caller needs is resolved here: an endpoint carries its
 * effective address, SNI name and certificate paths, so no other module
 * looks at inheritance rules.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "key-type.h"
#include "pair-format.h"

#define CONF_DEFAULT_FILE SYSCONFDIR "/certwatch/certwatch.conf"
#define CONF_MAX_SERVICES  4096
#define CONF_MAX_ENDPOINTS 65536   /* in all services together */

struct conf_endpoint {
	char *name;          /* endpoint NAME { ... } */
	char *address;       /* host name or numeric address to connect to */
	uint16_t port;
	int starttls;        /* index into starttls_drivers[], or -1 for implicit TLS */
	char *sni;           /* SNI and the name the certificate must cover; NULL: none */
	char *cert;          /* effective certificate (full chain or leaf) */
	char *chain;         /* effective separate chain file, or NULL */
	char *key;           /* effective private key */
	enum key_type key_type; /* which of a dual-certificate server's pairs */
	enum pair_format pair_format; /* the rules by which the daemon reads the files */
	int dane;            /* enum dane_mode (dane-judge.h) */
	bool dane_override;  /* near expiry, a reload held for DANE or pins goes ahead */
	char **pins;         /* pin-sha256, base64, NULL-terminated; NULL: none */
	char *dane_name;     /* the TLSA owner's host; NULL: the endpoint's name */
	const char *file;    /* where it was defined, for messages */
	unsigned line;
};

/*
 * How a service is made to load its new certificate: exactly one method,
 * or none (check only).  The loader sets it from whichever of the
 * method's settings is present, else from the service's kind (kinds.h).
 * The last three have no setting of their own: only a kind selects them.
 */
enum reload_method {
	RELOAD_METHOD_NONE,
	RELOAD_METHOD_UNIT,       /* reload-unit: systemd over D-Bus */
	RELOAD_METHOD_COMMAND,    /* reload-command: an argv, no shell */
	RELOAD_METHOD_SIGNAL,     /* reload-signal to the process in pid-file */
	RELOAD_METHOD_RESTART,    /* restart-unit: systemd's RestartUnit over D-Bus */
	RELOAD_METHOD_SELF,       /* the server loads a renewal by itself: verify only */
	RELOAD_METHOD_HAPROXY,    /* HAProxy's runtime API on control-socket, else reload-unit */
	RELOAD_METHOD_SLAPD,      /* slapd's cn=config TLS settings set again over control-socket */
	_RELOAD_METHOD_MAX,
};

/* The setting that selects m ("reload-unit", ...); NULL for a method only a kind selects. */
const char *reload_method_setting(enum reload_method m);

/* Whether m does anything to the server (false for none and for "by itself"). */
bool reload_method_acts(enum reload_method m);

struct conf_service {
	char *name;
	char *cert, *chain, *key, *sni;    /* service-wide defaults */
	char *address;                     /* service-wide default, "localhost" unless set */
	enum key_type key_type;            /* service-wide default */
	enum pair_format pair_format;      /* service-wide default */
	char *kind;                        /* kind = "...", or NULL */
	enum reload_method reload_method;
	/* Of reload_unit, reload_command, reload_signal and restart_unit only
	 * reload_method's is set; reload_unit also names HAProxy's fallback. */
	char *reload_unit;
	char *restart_unit;
	char *control_socket;              /* HAProxy's admin socket, slapd's ldapi, ... */
	char **reload_command;             /* NULL-terminated argv, or NULL */
	char **reload_check;               /* NULL-terminated argv, or NULL */
	int reload_signal;                 /* signal number, 0 if unset */
	char *pid_file;
	uid_t pid_file_owner;              /* besides root, who may own pid_file; (uid_t)-1: nobody */
	char *pid_program;                 /* the program pid_file's process must run, or NULL */
	uint64_t reload_timeout_usec;
	uint64_t verify_timeout_usec;
	unsigned verify_passes;            /* matching passes in a row that verify a reload */
	uint64_t verify_stable_usec;       /* ... spread over at least this long */
	unsigned max_failures;
	unsigned max_reloads_per_hour;
	int reload_window_start;           /* minutes after midnight, -1 if unset */
	int reload_window_end;
	bool allow_downgrade;
	int dane;                          /* service-wide defaults of the endpoints' */
	bool dane_override;
	char **pins;
	char *recipe;                      /* where the reload settings came from, for people */
	uint64_t kind_rows;                /* bit i: conf_rows[i]'s value came from the kind */
	struct conf_endpoint *endpoints;
	size_t n_endpoints;
	const char *file;
	unsigned line;
};

struct conf {
	uint64_t interval_usec;
	uint64_t settle_usec;
	uint64_t timeout_usec;       /* deadline of one probe, every phase */
	uint64_t poll_interval_usec;
	unsigned warn_days;
	unsigned crit_days;
	unsigned max_probes;         /* connections in flight */
	char *ehlo_name;             /* said in SMTP's EHLO and LMTP's LHLO */
	char *state_dir;
	char *include_dir;
	char *metrics_file;          /* Prometheus text written after each pass, or NULL */
	char *dane_resolver;         /* "ADDRESS[@PORT]" for TLSA look-ups; NULL: resolv.conf's */
	char *dane_trust_anchor;     /* the DNSSEC trust anchor file */
	struct conf_service *services;
	size_t n_services;
	char **files;                /* every file read, for messages; NULL-terminated */
};

/*
 * Loads path (the main file) and every *.conf in its include directory, in
 * name order.  check_owner: refuse files and directories that are writable
 * by group or others, or owned by someone other than root or the caller.
 *
 * Returns 0 and *ret, or a negative errno; on failure err holds one or more
 * lines of the form "FILE:LINE: what is wrong; what would be right".
 */
int conf_load(const char *path, bool check_owner, struct conf **ret,
	      char *err, size_t errlen);

/* A configuration with defaults and no services, for ad-hoc use. */
int conf_new_default(struct conf **ret);

const struct conf_service *conf_find_service(const struct conf *c, const char *name);

/* Prints the effective configuration, in the configuration file's syntax. */
void conf_dump(const struct conf *c, FILE *f);

/*
 * Writers of the configuration file's syntax, for conf_dump() and
 * `certwatch discover`.  conf_write_quoted() writes s double-quoted, as
 * libconfuse reads it back: '"', '\\' and '$' escaped with a backslash,
 * control characters as \xHH.  conf_write_setting() writes
 * INDENT KEY = "VALUE" and a newline; conf_write_argv() writes
 * <tab>KEY = {"ARG", ...} and a newline.  Both write nothing for NULL.
 */
void conf_write_quoted(FILE *f, const char *s);
void conf_write_setting(FILE *f, const char *indent, const char *key, const char *value);
void conf_write_argv(FILE *f, const char *key, char *const argv[]);

/*
 * Why v cannot be the value of a host setting (name, address, ehlo-name,
 * dane-name), in words that follow the value; NULL when it can.  The
 * loader's own check, for `certwatch discover` to write only values that
 * load.
 */
const char *conf_host_problem(const char *v);

void conf_free(struct conf *c);
