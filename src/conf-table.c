/*
 * conf-table.c - every setting of certwatch.conf, one row each: its name,
 * its type, its default, its range, the sections it may appear in and
 * where its value lands in struct conf, conf_service or conf_endpoint.
 * The libconfuse schema, the checks, the copy into struct conf and the
 * dump all follow from the rows: a new setting is a new row (and its
 * field, and its entry in certwatch.conf(5), which a test holds to).
 *
 * The rows say nothing about what involves several settings (crit-days
 * below warn-days, a pid-file for reload-signal, a port or a STARTTLS
 * protocol): those rules are the loader's, conf.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-int.h"
#include "dane.h"
#include "util.h"

#define CONF_DEFAULT_STATE_DIR LOCALSTATEDIR "/lib/certwatch"
#define YEAR (UINT64_C(365) * 86400 * USEC_PER_SEC)

#define GLOBAL(f) .where = CONF_IN(CONF_GLOBAL), \
	.at[CONF_GLOBAL] = offsetof(struct conf, f)
#define SERVICE(f) .where = CONF_IN(CONF_SERVICE), \
	.at[CONF_SERVICE] = offsetof(struct conf_service, f)
#define ENDPOINT(f) .where = CONF_IN(CONF_ENDPOINT), \
	.at[CONF_ENDPOINT] = offsetof(struct conf_endpoint, f)
#define INHERITED(f) .where = CONF_INHERITED, \
	.at[CONF_SERVICE] = offsetof(struct conf_service, f), \
	.at[CONF_ENDPOINT] = offsetof(struct conf_endpoint, f)

/* In this order the dump writes them. */
const struct conf_row conf_rows[] = {
/*	  name                    type           default      min max      where */
	{ "interval",             CONF_DURATION, "1h",        1, YEAR,     GLOBAL(interval_usec) },
	{ "settle",               CONF_DURATION, "2s",        0, YEAR,     GLOBAL(settle_usec) },
	{ "timeout",              CONF_DURATION, "10s",       1, YEAR,     GLOBAL(timeout_usec) },
	{ "poll-interval",        CONF_DURATION, "30s",       1, YEAR,     GLOBAL(poll_interval_usec) },
	{ "warn-days",            CONF_UINT,     "21",        1, 3650,     GLOBAL(warn_days) },
	{ "crit-days",            CONF_UINT,     "7",         0, 3649,     GLOBAL(crit_days) },
	{ "max-probes",           CONF_UINT,     "32",        1, 1024,     GLOBAL(max_probes) },
	{ "state-dir",            CONF_PATH, CONF_DEFAULT_STATE_DIR, 0, 0, GLOBAL(state_dir) },
	/* Unset, conf.d beside the main file: the loader knows that one. */
	{ "include-dir",          CONF_PATH,     NULL,        0, 0,        GLOBAL(include_dir) },
	{ "metrics-file",         CONF_PATH,     NULL,        0, 0,        GLOBAL(metrics_file) },
	{ "dane-resolver",        CONF_RESOLVER, NULL,        0, 0,        GLOBAL(dane_resolver) },
	{ "dane-trust-anchor",    CONF_PATH, DANE_DEFAULT_TRUST_ANCHOR, 0, 0,
	  GLOBAL(dane_trust_anchor) },

	{ "address",              CONF_HOST,     "localhost", 0, 0,        INHERITED(address) },
	/* Unset, the STARTTLS protocol's port: the loader knows that one. */
	{ "port",                 CONF_PORT,     NULL,        1, 65535,    ENDPOINT(port) },
	{ "starttls",             CONF_STARTTLS, NULL,        0, 0,        ENDPOINT(starttls) },
	{ "name",                 CONF_HOST,     NULL,        0, 0,        INHERITED(sni) },
	{ "cert",                 CONF_PATH,     NULL,        0, 0,        INHERITED(cert) },
	/* A chain belongs with its certificate: an endpoint's own cert does
	 * not take the service's chain. */
	{ "chain",                CONF_PATH,     NULL,        0, 0,        INHERITED(chain),
	  .unless = "cert" },
	{ "key",                  CONF_PATH,     NULL,        0, 0,        INHERITED(key) },
	{ "key-type",             CONF_KEY_TYPE, "auto",      0, 0,        INHERITED(key_type) },
	{ "pair-format",          CONF_PAIR_FORMAT, "pem",    0, 0,        INHERITED(pair_format) },
	{ "dane",                 CONF_DANE_MODE, "auto",     0, 0,        INHERITED(dane) },
	{ "dane-override",        CONF_BOOL,     "false",     0, 0,        INHERITED(dane_override) },
	{ "pin-sha256",           CONF_PINS,     NULL,        0, 0,        INHERITED(pins) },
	{ "dane-name",            CONF_HOST,     NULL,        0, 0,        ENDPOINT(dane_name) },

	{ "kind",                 CONF_KIND,     NULL,        0, 0,        SERVICE(kind) },
	{ "reload-unit",          CONF_UNIT,     NULL,        0, 0,        SERVICE(reload_unit) },
	{ "reload-command",       CONF_ARGV,     NULL,        0, 0,        SERVICE(reload_command) },
	{ "reload-check",         CONF_ARGV,     NULL,        0, 0,        SERVICE(reload_check) },
	{ "reload-signal",        CONF_SIGNAL,   NULL,        0, 0,        SERVICE(reload_signal) },
	{ "pid-file",             CONF_PATH,     NULL,        0, 0,        SERVICE(pid_file) },
	{ "pid-file-owner",       CONF_USER,     NULL,        0, 0,        SERVICE(pid_file_owner) },
	{ "pid-program",          CONF_PATH,     NULL,        0, 0,        SERVICE(pid_program) },
	{ "restart-unit",         CONF_UNIT,     NULL,        0, 0,        SERVICE(restart_unit) },
	{ "control-socket",       CONF_PATH,     NULL,        0, 0,        SERVICE(control_socket) },
	{ "reload-timeout",       CONF_DURATION, "30s",       1, YEAR,     SERVICE(reload_timeout_usec) },
	{ "verify-timeout",       CONF_DURATION, "60s",       1, YEAR,     SERVICE(verify_timeout_usec) },
	{ "verify-passes",        CONF_UINT,     "3",         1, 20,       SERVICE(verify_passes) },
	{ "verify-stable",        CONF_DURATION, "200ms",     0, 600 * USEC_PER_SEC,
	  SERVICE(verify_stable_usec) },
	{ "max-failures",         CONF_UINT,     "3",         1, 100,      SERVICE(max_failures) },
	{ "max-reloads-per-hour", CONF_UINT,     "4",         1, 60,       SERVICE(max_reloads_per_hour) },
	{ "reload-window",        CONF_WINDOW,   NULL,        0, 0,        SERVICE(reload_window_start) },
	{ "allow-downgrade",      CONF_BOOL,     "false",     0, 0,        SERVICE(allow_downgrade) },
};

const size_t conf_n_rows = ELEMENTSOF(conf_rows);

/* conf_service.kind_rows has a bit per row. */
_Static_assert(ELEMENTSOF(conf_rows) <= 64, "more rows than kind_rows has bits");

/*
 * The setting that selects each method; a service has at most one of
 * them.  The methods without a setting are a kind's (kinds.c).
 */
static const char *const reload_method_settings[_RELOAD_METHOD_MAX] = {
	[RELOAD_METHOD_NONE]    = NULL,
	[RELOAD_METHOD_UNIT]    = "reload-unit",
	[RELOAD_METHOD_COMMAND] = "reload-command",
	[RELOAD_METHOD_SIGNAL]  = "reload-signal",
	[RELOAD_METHOD_RESTART] = "restart-unit",
	[RELOAD_METHOD_SELF]    = NULL,
	[RELOAD_METHOD_HAPROXY] = NULL,
	[RELOAD_METHOD_SLAPD]   = NULL,
};

const char *reload_method_setting(enum reload_method m)
{
	return (unsigned)m < _RELOAD_METHOD_MAX ? reload_method_settings[m] : NULL;
}

bool reload_method_acts(enum reload_method m)
{
	return m != RELOAD_METHOD_NONE && m != RELOAD_METHOD_SELF && (unsigned)m < _RELOAD_METHOD_MAX;
}

enum reload_method conf_reload_method_of(const char *setting)
{
	for (int m = RELOAD_METHOD_NONE + 1; setting && m < _RELOAD_METHOD_MAX; m++)
		if (reload_method_settings[m] && strcmp(reload_method_settings[m], setting) == 0)
			return (enum reload_method)m;
	return RELOAD_METHOD_NONE;
}

void conf_reload_methods(char *buf, size_t len, const char *conj)
{
	const char *names[_RELOAD_METHOD_MAX];
	size_t used = 0, n = 0;

	for (int m = RELOAD_METHOD_NONE + 1; m < _RELOAD_METHOD_MAX; m++)
		if (reload_method_settings[m])
			names[n++] = reload_method_settings[m];
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i == 0 ? "" : i == n - 1 ? conj : ", ",
				 names[i]);

		used += w > 0 ? (size_t)w : 0;
	}
}

const struct conf_row *conf_row_find(const char *name)
{
	for (size_t i = 0; name && i < conf_n_rows; i++)
		if (strcmp(conf_rows[i].name, name) == 0)
			return &conf_rows[i];
	return NULL;
}

/* ---- the libconfuse schema ------------------------------------------------- */

/* How libconfuse reads each type: numbers and booleans its own way. */
static const cfg_type_t cfg_types[_CONF_TYPE_MAX] = {
	[CONF_DURATION] = CFGT_STR,
	[CONF_UINT]     = CFGT_INT,
	[CONF_PORT]     = CFGT_INT,
	[CONF_BOOL]     = CFGT_BOOL,
	[CONF_PATH]     = CFGT_STR,
	[CONF_HOST]     = CFGT_STR,
	[CONF_UNIT]     = CFGT_STR,
	[CONF_ARGV]     = CFGT_STR,
	[CONF_SIGNAL]   = CFGT_STR,
	[CONF_WINDOW]   = CFGT_STR,
	[CONF_STARTTLS] = CFGT_STR,
	[CONF_KEY_TYPE] = CFGT_STR,
	[CONF_PAIR_FORMAT] = CFGT_STR,
	[CONF_USER]     = CFGT_STR,
	[CONF_DANE_MODE] = CFGT_STR,
	[CONF_PINS]     = CFGT_STR,
	[CONF_RESOLVER] = CFGT_STR,
	[CONF_KIND]     = CFGT_STR,
};

static cfg_opt_t row_opt(const struct conf_row *row, enum conf_scope scope,
			 cfg_validate_callback_t validate)
{
	/* An inherited row's default belongs to the service alone: an
	 * endpoint that has it unset must be seen to. */
	bool has_default = row->def && !(scope == CONF_ENDPOINT && row->where & CONF_IN(CONF_SERVICE));
	cfg_opt_t o = {
		.name = row->name,
		.type = cfg_types[row->type],
		.flags = row->type == CONF_ARGV || row->type == CONF_PINS ? CFGF_LIST : CFGF_NONE,
		.validcb = validate,
	};

	if (!has_default)
		o.flags |= CFGF_NODEFAULT;
	else if (o.type == CFGT_INT)
		o.def.number = strtol(row->def, NULL, 10);
	else if (o.type == CFGT_BOOL)
		o.def.boolean = strcmp(row->def, "true") == 0 ? cfg_true : cfg_false;
	else
		o.def.string = row->def;
	return o;
}

/* The options of scope, then section (unless NULL), then the end. */
static cfg_opt_t *scope_opts(enum conf_scope scope, const cfg_opt_t *section,
			     cfg_validate_callback_t validate)
{
	cfg_opt_t *opts = calloc(conf_n_rows + 2, sizeof(*opts)), end = CFG_END();
	size_t n = 0;

	if (!opts)
		return NULL;
	for (size_t i = 0; i < conf_n_rows; i++)
		if (conf_rows[i].where & CONF_IN(scope))
			opts[n++] = row_opt(&conf_rows[i], scope, validate);
	if (section)
		opts[n++] = *section;
	opts[n] = end;
	return opts;
}

cfg_t *conf_schema_new(cfg_validate_callback_t validate, cfg_errfunc_t on_error)
{
	const int flags = CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES;
	cfg_opt_t *endpoint = NULL, *service = NULL, *global = NULL;
	cfg_t *cfg = NULL;

	endpoint = scope_opts(CONF_ENDPOINT, NULL, validate);
	if (endpoint) {
		cfg_opt_t sec = CFG_SEC("endpoint", endpoint, flags);

		service = scope_opts(CONF_SERVICE, &sec, validate);
	}
	if (service) {
		cfg_opt_t sec = CFG_SEC("service", service, flags);

		global = scope_opts(CONF_GLOBAL, &sec, validate);
	}
	/* cfg_init() copies the options. */
	if (global)
		cfg = cfg_init(global, CFGF_NONE);
	if (cfg)
		cfg_set_error_function(cfg, on_error);
	free(global);
	free(service);
	free(endpoint);
	return cfg;
}
