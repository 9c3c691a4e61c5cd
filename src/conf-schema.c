/*
 * conf-schema.c - the libconfuse schema of certwatch.conf and the checks
 * libconfuse runs on each value while it parses, when the line of the
 * value is known.  A failed check reports through conf_value_error() and
 * stops the parse; what involves several settings is conf.c's, checked
 * once a section is parsed.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "conf-int.h"
#include "key-type.h"
#include "starttls.h"
#include "util.h"

#define CONF_DEFAULT_STATE_DIR LOCALSTATEDIR "/lib/certwatch"
#define CONF_MAX_DURATION_USEC (UINT64_C(365) * 86400 * USEC_PER_SEC)
#define CONF_MAX_ARGS          64
#define CONF_MAX_HOST          253

static const char duration_hint[] =
	"write a number with a unit: \"500ms\", \"2s\", \"5m\", \"1h\", \"1d\"";

/* ---- the schema ---------------------------------------------------------- */

static cfg_opt_t endpoint_opts[] = {
	CFG_STR("address", NULL, CFGF_NODEFAULT),
	CFG_INT("port", 0, CFGF_NODEFAULT),
	CFG_STR("starttls", NULL, CFGF_NODEFAULT),
	CFG_STR("name", NULL, CFGF_NODEFAULT),
	CFG_STR("cert", NULL, CFGF_NODEFAULT),
	CFG_STR("chain", NULL, CFGF_NODEFAULT),
	CFG_STR("key", NULL, CFGF_NODEFAULT),
	CFG_STR("key-type", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t service_opts[] = {
	CFG_STR("cert", NULL, CFGF_NODEFAULT),
	CFG_STR("chain", NULL, CFGF_NODEFAULT),
	CFG_STR("key", NULL, CFGF_NODEFAULT),
	CFG_STR("name", NULL, CFGF_NODEFAULT),
	CFG_STR("address", NULL, CFGF_NODEFAULT),
	CFG_STR("key-type", NULL, CFGF_NODEFAULT),
	CFG_STR("reload-unit", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("reload-command", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("reload-check", NULL, CFGF_NODEFAULT),
	CFG_STR("reload-signal", NULL, CFGF_NODEFAULT),
	CFG_STR("pid-file", NULL, CFGF_NODEFAULT),
	CFG_STR("reload-timeout", "30s", CFGF_NONE),
	CFG_STR("verify-timeout", "60s", CFGF_NONE),
	CFG_INT("max-failures", 3, CFGF_NONE),
	CFG_INT("max-reloads-per-hour", 4, CFGF_NONE),
	CFG_STR("reload-window", NULL, CFGF_NODEFAULT),
	CFG_BOOL("allow-downgrade", cfg_false, CFGF_NONE),
	CFG_SEC("endpoint", endpoint_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

static cfg_opt_t main_opts[] = {
	CFG_STR("interval", "1h", CFGF_NONE),
	CFG_STR("settle", "2s", CFGF_NONE),
	CFG_STR("timeout", "10s", CFGF_NONE),
	CFG_STR("poll-interval", "30s", CFGF_NONE),
	CFG_INT("warn-days", 21, CFGF_NONE),
	CFG_INT("crit-days", 7, CFGF_NONE),
	CFG_INT("max-probes", 32, CFGF_NONE),
	CFG_STR("state-dir", CONF_DEFAULT_STATE_DIR, CFGF_NONE),
	CFG_STR("include-dir", NULL, CFGF_NODEFAULT),
	CFG_STR("metrics-file", NULL, CFGF_NODEFAULT),
	CFG_SEC("service", service_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

static const char *const global_names[] = {
	"interval", "settle", "timeout", "poll-interval", "warn-days", "crit-days",
	"max-probes", "state-dir", "include-dir", "metrics-file",
};

static const struct int_range {
	const char *name;
	long min, max;
} int_ranges[] = {
	{ "warn-days",            1, 3650 },
	{ "crit-days",            0, 3649 },
	{ "max-probes",           1, 1024 },
	{ "max-failures",         1, 100 },
	{ "max-reloads-per-hour", 1, 60 },
	{ "port",                 1, 65535 },
};

/* Signals a daemon may reasonably take as "reload"; named without "SIG". */
static const struct {
	const char *name;
	int signo;
} signals[] = {
	{ "HUP",   SIGHUP },
	{ "USR1",  SIGUSR1 },
	{ "USR2",  SIGUSR2 },
	{ "WINCH", SIGWINCH },
	{ "INT",   SIGINT },
	{ "QUIT",  SIGQUIT },
	{ "TERM",  SIGTERM },
};

static const char *const reload_methods[] = { "reload-unit", "reload-command", "reload-signal" };

/* ---- value checks, run while parsing ------------------------------------- */

static int check_duration(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	uint64_t usec = 0;
	int r;

	r = parse_duration(v, &usec);
	if (r == -EINVAL)
		return conf_value_error(cfg, "%s = \"%s\" is not a duration; %s", opt->name,
					conf_show(v).s, duration_hint);
	if (r < 0 || usec > CONF_MAX_DURATION_USEC)
		return conf_value_error(cfg, "%s = \"%s\" is too long; write at most \"365d\"",
					opt->name, conf_show(v).s);
	if (usec == 0 && strcmp(opt->name, "settle") != 0)
		return conf_value_error(cfg, "%s = \"%s\" is zero; write a positive duration, "
					"such as \"%s\"", opt->name, conf_show(v).s,
					opt->def.string ? opt->def.string : "1s");
	return 0;
}

static int check_int(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);

	for (size_t i = 0; i < ELEMENTSOF(int_ranges); i++) {
		if (strcmp(int_ranges[i].name, opt->name) != 0)
			continue;
		if (v < int_ranges[i].min || v > int_ranges[i].max)
			return conf_value_error(cfg, "%s = %ld is out of range; write a number "
						"from %ld to %ld", opt->name, v, int_ranges[i].min,
						int_ranges[i].max);
	}
	return 0;
}

static int check_path(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (!v || v[0] != '/')
		return conf_value_error(cfg, "%s = \"%s\" is not an absolute path; write the full path, "
					"starting with \"/\"", opt->name, conf_show(v).s);
	if (strlen(v) >= PATH_MAX)
		return conf_value_error(cfg, "%s is longer than %d bytes; write a shorter path",
					opt->name, PATH_MAX - 1);
	return 0;
}

static bool valid_host(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= CONF_MAX_HOST && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%") == n;
}

static int check_host(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (!valid_host(v))
		return conf_value_error(cfg, "%s = \"%s\" is not a host name or address; write one "
					"such as \"mail.example.com\" or \"192.0.2.1\"", opt->name,
					conf_show(v).s);
	return 0;
}

static int check_starttls(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (starttls_lookup(v) < 0)
		return conf_value_error(cfg, "starttls = \"%s\" is not a known protocol; write one "
					"of: %s", conf_show(v).s, starttls_names());
	return 0;
}

static int check_key_type(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (key_type_from_string(v) < 0)
		return conf_value_error(cfg, "key-type = \"%s\" is not a key type; write \"rsa\" or "
					"\"ecdsa\" (or \"any\", the default)", conf_show(v).s);
	return 0;
}

static int check_one_method(cfg_t *cfg, cfg_opt_t *opt)
{
	for (size_t i = 0; i < ELEMENTSOF(reload_methods); i++) {
		if (strcmp(reload_methods[i], opt->name) == 0 || cfg_size(cfg, reload_methods[i]) == 0)
			continue;
		return conf_value_error(cfg, "service %s has both %s and %s; a service has one reload "
					"method: keep one of reload-unit, reload-command and reload-signal",
					conf_show(cfg_title(cfg)).s, reload_methods[i], opt->name);
	}
	return 0;
}

static int check_unit(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	size_t n = v ? strlen(v) : 0;

	if (n == 0 || n > 255 || !strchr(v, '.') || v[0] == '.' ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@") != n)
		return conf_value_error(cfg, "reload-unit = \"%s\" is not a systemd unit name; write the "
					"full name, such as \"nginx.service\"", conf_show(v).s);
	return check_one_method(cfg, opt);
}

static int check_argv(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *argv0 = cfg_opt_getnstr(opt, 0);
	unsigned n = cfg_opt_size(opt);

	if (n > CONF_MAX_ARGS)
		return conf_value_error(cfg, "%s has more than %d arguments; write a short command, or a "
					"script that runs the long one", opt->name, CONF_MAX_ARGS);
	if (!argv0 || argv0[0] != '/')
		return conf_value_error(cfg, "%s starts with \"%s\", not an absolute path; write the "
					"program's full path, such as {\"/usr/sbin/nginx\", \"-s\", "
					"\"reload\"} (commands run without a shell or PATH)", opt->name,
					conf_show(argv0).s);
	if (strcmp(opt->name, "reload-command") == 0)
		return check_one_method(cfg, opt);
	return 0;
}

int conf_signal_lookup(const char *name)
{
	if (name && strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; name && i < ELEMENTSOF(signals); i++)
		if (strcmp(signals[i].name, name) == 0)
			return signals[i].signo;
	return 0;
}

const char *conf_signal_name(int signo)
{
	for (size_t i = 0; i < ELEMENTSOF(signals); i++)
		if (signals[i].signo == signo)
			return signals[i].name;
	return "?";
}

static int check_signal(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	char names[128] = "";

	if (conf_signal_lookup(v) == 0) {
		for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
			if (i > 0)
				strcat(names, ", ");
			strcat(names, signals[i].name);
		}
		return conf_value_error(cfg, "reload-signal = \"%s\" is not a signal certwatch sends; "
					"write one of: %s", conf_show(v).s, names);
	}
	return check_one_method(cfg, opt);
}

/* "HH:MM" or "H:MM" to minutes after midnight, or -1. */
static int parse_clock(const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len);
	size_t hl = colon ? (size_t)(colon - s) : 0;
	unsigned h = 0, m = 0;

	if (!colon || hl < 1 || hl > 2 || len - hl - 1 != 2)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (i == hl)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (i < hl)
			h = h * 10 + (unsigned)(s[i] - '0');
		else
			m = m * 10 + (unsigned)(s[i] - '0');
	}
	return h < 24 && m < 60 ? (int)(h * 60 + m) : -1;
}

int conf_parse_window(const char *s, int *ret_start, int *ret_end)
{
	const char *dash = s ? strchr(s, '-') : NULL;
	int start, end;

	if (!dash)
		return -EINVAL;
	start = parse_clock(s, (size_t)(dash - s));
	end = parse_clock(dash + 1, strlen(dash + 1));
	if (start < 0 || end < 0 || start == end)
		return -EINVAL;
	*ret_start = start;
	*ret_end = end;
	return 0;
}

static int check_window(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	int start, end;

	if (conf_parse_window(v, &start, &end) < 0)
		return conf_value_error(cfg, "reload-window = \"%s\" is not a time window; write "
					"\"HH:MM-HH:MM\" in local time, such as \"02:00-05:00\" "
					"(it may wrap past midnight)", conf_show(v).s);
	return 0;
}

static const struct {
	const char *path;
	cfg_validate_callback_t check;
} checks[] = {
	{ "interval", check_duration },
	{ "settle", check_duration },
	{ "timeout", check_duration },
	{ "poll-interval", check_duration },
	{ "warn-days", check_int },
	{ "crit-days", check_int },
	{ "max-probes", check_int },
	{ "state-dir", check_path },
	{ "include-dir", check_path },
	{ "metrics-file", check_path },
	{ "service|cert", check_path },
	{ "service|chain", check_path },
	{ "service|key", check_path },
	{ "service|name", check_host },
	{ "service|address", check_host },
	{ "service|key-type", check_key_type },
	{ "service|reload-unit", check_unit },
	{ "service|reload-command", check_argv },
	{ "service|reload-check", check_argv },
	{ "service|reload-signal", check_signal },
	{ "service|pid-file", check_path },
	{ "service|reload-timeout", check_duration },
	{ "service|verify-timeout", check_duration },
	{ "service|max-failures", check_int },
	{ "service|max-reloads-per-hour", check_int },
	{ "service|reload-window", check_window },
	{ "service|endpoint|address", check_host },
	{ "service|endpoint|port", check_int },
	{ "service|endpoint|starttls", check_starttls },
	{ "service|endpoint|name", check_host },
	{ "service|endpoint|cert", check_path },
	{ "service|endpoint|chain", check_path },
	{ "service|endpoint|key", check_path },
	{ "service|endpoint|key-type", check_key_type },
};

cfg_t *conf_schema_new(cfg_errfunc_t on_error, cfg_validate_callback_t on_global)
{
	cfg_t *cfg = cfg_init(main_opts, CFGF_NONE);

	if (!cfg)
		return NULL;
	cfg_set_error_function(cfg, on_error);
	for (size_t i = 0; i < ELEMENTSOF(checks); i++)
		cfg_set_validate_func(cfg, checks[i].path, checks[i].check);
	for (size_t i = 0; on_global && i < ELEMENTSOF(global_names); i++)
		cfg_set_validate_func(cfg, global_names[i], on_global);
	return cfg;
}
