/*
 * conf-int.h - what the files of the configuration share.  Not an API:
 * the public interface is conf.h.
 *
 *   conf-table.c    one row per setting, and the libconfuse schema made
 *                   from the rows
 *   conf-check.c    the check of one value, by the type of its row
 *   conf-parse.c    libconfuse over one file's text, with those checks
 *   conf-file.c     opening, checking and reading the files
 *   conf-store.c    copying the parsed values into struct conf, by row
 *   conf-dump.c     conf_dump(), by row
 *   conf-error.c    the messages of one load
 *   conf.c          the loader: files, sections, rules across settings
 *
 * Calls go one way: conf.c uses the others; conf-parse.c uses
 * conf-table.c and conf-check.c (and trust-program.c, the programs' rule,
 * shared with the command runner); conf-store.c and conf-dump.c use
 * conf-table.c and conf-check.c's lookups; any may use conf-error.c,
 * which uses none of them.
 */
#pragma once

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "conf.h"
#include "trust.h"

#define CONF_MAX_SHOWN   160      /* a value quoted in a message */
#define CONF_MAX_MESSAGE 1024

/*
 * Owned by root or by the user running certwatch: nobody else may change
 * it.  The rule for the files (conf-file.c) and the programs
 * (trust-program.c) alike.
 */
static inline bool conf_owner_trusted(uid_t uid)
{
	return trust_owner(uid, TRUST_NOBODY);
}

/* ---- conf-table.c: the rows ---------------------------------------------- */

/* The sections a setting may appear in. */
enum conf_scope {
	CONF_GLOBAL,     /* the main file, outside any section */
	CONF_SERVICE,
	CONF_ENDPOINT,
	_CONF_SCOPE_MAX,
};

#define CONF_IN(scope) (1u << (scope))
/* A setting of both: an endpoint that does not set it takes its service's. */
#define CONF_INHERITED (CONF_IN(CONF_SERVICE) | CONF_IN(CONF_ENDPOINT))

/* What a value is, how it is checked, stored (the C type) and dumped. */
enum conf_type {
	CONF_DURATION,   /* uint64_t usec, written "90s"; range in usec */
	CONF_UINT,       /* unsigned; range */
	CONF_PORT,       /* uint16_t; range */
	CONF_BOOL,       /* bool */
	CONF_PATH,       /* char *, absolute */
	CONF_HOST,       /* char *, a host name or address */
	CONF_UNIT,       /* char *, a systemd unit name */
	CONF_ARGV,       /* char **, NULL-terminated; a program and its arguments */
	CONF_SIGNAL,     /* int, a signal number; 0 unset */
	CONF_WINDOW,     /* int[2], minutes after midnight; -1 unset */
	CONF_STARTTLS,   /* int, index into starttls_drivers[]; -1 unset */
	CONF_KEY_TYPE,   /* enum key_type */
	CONF_PAIR_FORMAT, /* enum pair_format */
	CONF_USER,       /* uid_t, a user's name or number; (uid_t)-1 unset */
	CONF_DANE_MODE,  /* enum dane_mode: "auto", "yes", "no" */
	CONF_PINS,       /* char **, NULL-terminated; RFC 7469 pin-sha256 values, base64 */
	CONF_RESOLVER,   /* char *, "ADDRESS" or "ADDRESS@PORT", numeric */
	CONF_KIND,       /* char *, the name of a row of kinds.c */
	_CONF_TYPE_MAX,
};

struct conf_row {
	const char *name;
	enum conf_type type;
	const char *def;               /* the default, as written in a file; NULL: unset */
	uint64_t min, max;             /* the range of numbers and durations */
	unsigned where;                /* CONF_IN() of each scope */
	size_t at[_CONF_SCOPE_MAX];    /* offsetof in struct conf, conf_service, conf_endpoint */
	const char *unless;            /* inherited only if the endpoint does not set this */
};

extern const struct conf_row conf_rows[];
extern const size_t conf_n_rows;

/* The row of a setting, or NULL. */
const struct conf_row *conf_row_find(const char *name);

/*
 * A libconfuse context with an option for every row, nested in service and
 * endpoint sections, each with its row's default (at the outermost scope
 * of an inherited row only) and with validate as its check.  NULL on ENOMEM.
 */
cfg_t *conf_schema_new(cfg_validate_callback_t validate, cfg_errfunc_t on_error);

/* The reload method a setting selects, or RELOAD_METHOD_NONE. */
enum reload_method conf_reload_method_of(const char *setting);

/* "reload-unit, reload-command" conj "reload-signal", for messages. */
void conf_reload_methods(char *buf, size_t len, const char *conj);

/* ---- conf-check.c: values -------------------------------------------------- */

/*
 * Checks opt's value (as parsed so far) against row.  Returns 0, or
 * -EINVAL with a message in msg: what is wrong and what would be right.
 */
int conf_check_value(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len);

struct conf_errors;

/*
 * metrics-file set at file:line: said to e when node_exporter's textfile
 * collector would never read it (a name not ending in .prom, a directory
 * that is not there).
 */
void conf_check_metrics_file(struct conf_errors *e, const char *file, unsigned line,
			     const char *path);

/* A reload-signal name, with or without "SIG", to its number; 0 if unknown. */
int conf_signal_lookup(const char *name);
const char *conf_signal_name(int signo);

/* A user's name or number to its uid; -ENOENT when there is no such user. */
int conf_user_lookup(const char *name, uid_t *ret_uid);

/* "HH:MM-HH:MM" to minutes after midnight; -EINVAL if it is not one. */
int conf_parse_window(const char *s, int *ret_start, int *ret_end);

struct conf_errors;

/* ---- conf-kind.c: kind = "..." ----------------------------------------------- */

/*
 * Fills in what s's kind says and s does not set: the reload method and
 * its settings (when s names no method), the reload-check, and s->recipe,
 * which says where each reload setting came from.  With check_owner the
 * programs the kind names are checked as trust-program.c checks those of
 * the file.  Reports errors to e; returns 0 or -ENOMEM.
 */
int conf_kind_apply(struct conf_errors *e, bool check_owner, struct conf_service *s);

/*
 * The protocol and port of s's kind for e, when e names no protocol: those
 * its name asks for (its own port kept), else with no port of its own the
 * kind's first.
 */
void conf_kind_endpoint(const struct conf_service *s, struct conf_endpoint *e);

/* ---- conf-error.c: messages ------------------------------------------------ */

/* The messages of one load, one per line. */
struct conf_errors {
	char *buf;
	size_t len, used;
	int first;                 /* the first error, a negative errno; 0 if none */
	unsigned n;                /* errors reported */
};

/* Adds "FILE:LINE: message" (FILE: without a line; no FILE: the message alone). */
__attribute__((format(printf, 5, 6)))
void conf_error(struct conf_errors *e, int error, const char *file, unsigned line,
		const char *fmt, ...);

/* A value from the file, printable and bounded, for messages. */
struct conf_shown {
	char s[CONF_MAX_SHOWN];
};

struct conf_shown conf_show(const char *v);

/* ---- conf-file.c: files ---------------------------------------------------- */

/*
 * Opens path (never blocking: a FIFO is refused, not waited on), checks
 * it (with check_owner, its owner and mode) and reads it.  Returns 0 and the text,
 * NUL-terminated, or a negative errno, reported to e unless -ENOMEM.
 */
int conf_file_read(struct conf_errors *e, const char *path, bool check_owner,
		   char **ret_buf, size_t *ret_len);

/* Checks the directory path, as a configuration file's directory. */
int conf_file_check_dir(struct conf_errors *e, const char *path, bool check_owner);

/*
 * The *.conf names in dir, sorted, at most CONF_MAX_FILES; none when it
 * does not exist.  Returns 0, or a negative errno (reported unless -ENOMEM).
 */
int conf_file_list(struct conf_errors *e, const char *dir, bool check_owner,
		   char ***ret_names, size_t *ret_n);

void conf_file_list_free(char **names, size_t n);

/* ---- conf-parse.c: one file's text ---------------------------------------- */

struct conf_scan;

struct conf_parse {
	struct conf_errors *errors;
	const char *file;              /* the file parsed, for messages */
	const char *main_file;
	bool include;                  /* an included file: services only */
	bool check_owner;              /* conf_load()'s: check the programs too */
	const struct conf_scan *scan;  /* where its sections begin */
};

/*
 * Parses buf[0..len), its comments blanked by conf_scan_config().
 * Returns 0 and *ret (free it with cfg_free()); 0 and NULL when the file
 * has errors, which are reported; or -ENOMEM.
 */
int conf_parse(const struct conf_parse *p, char *buf, size_t len, cfg_t **ret);

/* ---- conf-store.c: struct conf ---------------------------------------------- */

/*
 * Stores every row of scope from sec into base (a struct conf,
 * conf_service or conf_endpoint): the value set in sec, else for an
 * inherited row in an endpoint the service's (parent's), else the row's
 * default.  Values were checked while parsing.  Returns 0 or -ENOMEM.
 */
int conf_store(enum conf_scope scope, cfg_t *sec, cfg_t *parent, void *base);

/* Frees what conf_store() allocated in base. */
void conf_store_free(enum conf_scope scope, void *base);
