/*
 * conf-check.c - the check of one value of certwatch.conf, by the type of
 * its row, run while libconfuse parses (when the value's line is known).
 * Each check is pure: it returns -EINVAL and a message saying what is
 * wrong and what would be right, and reports nothing itself.  Also the
 * lookups that the copy and the dump share with the checks: signal names,
 * reload windows and users.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf-int.h"
#include "dane-judge.h"
#include "key-type.h"
#include "pair-format.h"
#include "kinds.h"
#include "starttls.h"
#include "util.h"

#define CONF_MAX_ARGS 64
#define CONF_MAX_HOST 253
#define CONF_MAX_UNIT 255

typedef int check_fn(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len);

__attribute__((format(printf, 3, 4)))
static int fail(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int check_duration(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	uint64_t usec = 0;
	char most[32];
	int r;

	r = parse_duration(v, &usec);
	if (r == -EINVAL)
		return fail(msg, len, "%s = \"%s\" is not a duration; write a number with a unit: "
			    "\"500ms\", \"2s\", \"5m\", \"1h\", \"1d\"", row->name, conf_show(v).s);
	format_duration(row->max, most, sizeof(most));
	if (r < 0 || usec > row->max)
		return fail(msg, len, "%s = \"%s\" is too long; write at most \"%s\"", row->name,
			    conf_show(v).s, most);
	if (usec < row->min)
		return fail(msg, len, "%s = \"%s\" is zero; write a positive duration, such as "
			    "\"%s\"", row->name, conf_show(v).s, row->def ? row->def : "1s");
	return 0;
}

static int check_number(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	long v = cfg_opt_getnint(opt, 0);

	if (v < 0 || (uint64_t)v < row->min || (uint64_t)v > row->max)
		return fail(msg, len, "%s = %ld is out of range; write a number from %llu to %llu",
			    row->name, v, (unsigned long long)row->min, (unsigned long long)row->max);
	return 0;
}

static int check_path(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (!v || v[0] != '/')
		return fail(msg, len, "%s = \"%s\" is not an absolute path; write the full path, "
			    "starting with \"/\"", row->name, conf_show(v).s);
	if (strlen(v) >= PATH_MAX)
		return fail(msg, len, "%s is longer than %d bytes; write a shorter path", row->name,
			    PATH_MAX - 1);
	return 0;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* Whether v is 1 to max bytes, every one of them in set. */
static bool made_of(const char *v, size_t max, const char *set)
{
	size_t n = v ? strlen(v) : 0;

	return n > 0 && n <= max && strspn(v, set) == n;
}

const char *conf_host_problem(const char *v)
{
	const char *why = host_name_problem(v);

	if (!why && (!made_of(v, CONF_MAX_HOST, ALNUM ".-_:%") || v[0] == '-'))
		why = "is not a host name or address; write one such as \"mail.example.com\" or "
		      "\"192.0.2.1\"";
	return why;
}

static int check_host(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	const char *why = conf_host_problem(v);

	if (why)
		return fail(msg, len, "%s = \"%s\" %s", row->name, conf_show(v).s, why);
	return 0;
}

static int check_unit(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (!made_of(v, CONF_MAX_UNIT, ALNUM ":-_.\\@") || !strchr(v, '.') || v[0] == '.')
		return fail(msg, len, "%s = \"%s\" is not a systemd unit name; write the full name, "
			    "such as \"nginx.service\"", row->name, conf_show(v).s);
	return 0;
}

static int check_argv(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *argv0 = cfg_opt_getnstr(opt, 0);

	if (cfg_opt_size(opt) > CONF_MAX_ARGS)
		return fail(msg, len, "%s has more than %d arguments; write a short command, or a "
			    "script that runs the long one", row->name, CONF_MAX_ARGS);
	if (!argv0 || argv0[0] != '/')
		return fail(msg, len, "%s starts with \"%s\", not an absolute path; write the "
			    "program's full path, such as {\"/usr/sbin/nginx\", \"-s\", \"reload\"} "
			    "(commands run without a shell or PATH)", row->name, conf_show(argv0).s);
	if (strlen(argv0) >= PATH_MAX)
		return fail(msg, len, "%s names a program longer than %d bytes; write a shorter path",
			    row->name, PATH_MAX - 1);
	return 0;
}

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

static int check_signal(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	char names[128] = "";

	if (conf_signal_lookup(v) != 0)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
		if (i > 0)
			strcat(names, ", ");
		strcat(names, signals[i].name);
	}
	return fail(msg, len, "%s = \"%s\" is not a signal certwatch sends; write one of: %s",
		    row->name, conf_show(v).s, names);
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

static int check_window(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	int start, end;

	if (conf_parse_window(v, &start, &end) < 0)
		return fail(msg, len, "%s = \"%s\" is not a time window; write \"HH:MM-HH:MM\" in "
			    "local time, such as \"02:00-05:00\" (it may wrap past midnight)",
			    row->name, conf_show(v).s);
	return 0;
}

static int check_starttls(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (starttls_lookup(v) < 0)
		return fail(msg, len, "%s = \"%s\" is not a known protocol; write one of: %s",
			    row->name, conf_show(v).s, starttls_names());
	return 0;
}

static int check_key_type(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (key_type_from_string(v) < 0)
		return fail(msg, len, "%s = \"%s\" is not a key type; write \"rsa\" or \"ecdsa\" "
			    "(or \"auto\", the default: the type of the certificate on disk, or "
			    "\"any\")", row->name, conf_show(v).s);
	return 0;
}

static int check_pair_format(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (pair_format_from_string(v) < 0)
		return fail(msg, len, "%s = \"%s\" is not a pair format; write \"pem\" (the "
			    "default) or \"postfix-chain-files\"", row->name, conf_show(v).s);
	return 0;
}

int conf_user_lookup(const char *name, uid_t *ret_uid)
{
	struct passwd *pw;
	char *end = NULL;
	unsigned long v;

	if (!name || !name[0])
		return -ENOENT;
	errno = 0;
	v = strtoul(name, &end, 10);
	if (name[0] >= '0' && name[0] <= '9' && *end == '\0' && errno == 0 && v < (uid_t)-1) {
		*ret_uid = (uid_t)v;
		return 0;
	}
	pw = getpwnam(name);
	if (!pw)
		return -ENOENT;
	*ret_uid = pw->pw_uid;
	return 0;
}

static int check_user(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	uid_t uid;

	if (conf_user_lookup(v, &uid) < 0)
		return fail(msg, len, "%s = \"%s\" is not a user of this system; write the name of "
			    "the user the service runs as, such as \"postgres\"", row->name,
			    conf_show(v).s);
	return 0;
}

static int check_dane_mode(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (dane_mode_from_string(v) < 0)
		return fail(msg, len, "%s = \"%s\" is not a DANE mode; write \"auto\" (the default: "
			    "SMTP endpoints and those whose TLSA records were seen), \"yes\" or "
			    "\"no\"", row->name, conf_show(v).s);
	return 0;
}

static int check_pins(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	unsigned n = cfg_opt_size(opt);
	struct tlsa_pin pin;
	char why[256];

	if (n > CONF_MAX_ARGS)
		return fail(msg, len, "%s has %u pins; write at most %d", row->name, n,
			    CONF_MAX_ARGS);
	for (unsigned i = 0; i < n; i++) {
		const char *v = cfg_opt_getnstr(opt, i);

		if (tlsa_pin_parse(v, &pin, why, sizeof(why)) < 0)
			return fail(msg, len, "%s = \"%s\": %s; write the base64 SHA-256 of the "
				    "key, as `certwatch tlsa FILE` prints it", row->name,
				    conf_show(v).s, why);
	}
	return 0;
}

/* "ADDRESS" or "ADDRESS@PORT", numeric: libunbound forwards to it, and resolves no name. */
static int check_resolver(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0), *at = v ? strrchr(v, '@') : NULL;
	char addr[INET6_ADDRSTRLEN], *end = NULL;
	uint8_t buf[sizeof(struct in6_addr)];
	size_t alen = at ? (size_t)(at - v) : strlen(v);
	unsigned long port = 53;

	if (at) {
		errno = 0;
		port = strtoul(at + 1, &end, 10);
		if (!at[1] || *end || errno || port == 0 || port > 65535 || at[1] == '-')
			port = 0;
	}
	if (alen < sizeof(addr)) {
		memcpy(addr, v, alen);
		addr[alen] = '\0';
	}
	if (alen >= sizeof(addr) || port == 0 || (inet_pton(AF_INET, addr, buf) != 1 &&
						  inet_pton(AF_INET6, addr, buf) != 1))
		return fail(msg, len, "%s = \"%s\" is not a resolver's address; write a numeric "
			    "address with an optional port, such as \"127.0.0.1\" or "
			    "\"::1@5353\"", row->name, conf_show(v).s);
	return 0;
}

static int check_kind(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (!kind_find(v))
		return fail(msg, len, "%s = \"%s\" is not a server certwatch knows; write one of: %s "
			    "(or leave kind out and set the reload method yourself)", row->name,
			    conf_show(v).s, kind_names());
	return 0;
}

static check_fn *const checks[_CONF_TYPE_MAX] = {
	[CONF_DURATION] = check_duration,
	[CONF_UINT]     = check_number,
	[CONF_PORT]     = check_number,
	[CONF_BOOL]     = NULL,           /* libconfuse reads true/false, yes/no, on/off */
	[CONF_PATH]     = check_path,
	[CONF_HOST]     = check_host,
	[CONF_UNIT]     = check_unit,
	[CONF_ARGV]     = check_argv,
	[CONF_SIGNAL]   = check_signal,
	[CONF_WINDOW]   = check_window,
	[CONF_STARTTLS] = check_starttls,
	[CONF_KEY_TYPE] = check_key_type,
	[CONF_PAIR_FORMAT] = check_pair_format,
	[CONF_USER]     = check_user,
	[CONF_DANE_MODE] = check_dane_mode,
	[CONF_PINS]     = check_pins,
	[CONF_RESOLVER] = check_resolver,
	[CONF_KIND]     = check_kind,
};

int conf_check_value(const struct conf_row *row, cfg_opt_t *opt, char *msg, size_t len)
{
	check_fn *check = (unsigned)row->type < _CONF_TYPE_MAX ? checks[row->type] : NULL;

	return check ? check(row, opt, msg, len) : 0;
}

/*
 * metrics-file: node_exporter's textfile collector reads only *.prom files
 * of a directory that exists; a name it would never read, or a directory
 * that is not there, is said now rather than at the first write.
 */
void conf_check_metrics_file(struct conf_errors *e, const char *file, unsigned line,
			     const char *path)
{
	static const char suffix[] = ".prom";
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir = !slash ? NULL :
				   strndup(path, slash == path ? 1 : (size_t)(slash - path));
	const char *base = slash ? slash + 1 : path;
	size_t n = strlen(base);
	struct stat st;

	if (n <= strlen(suffix) || strcmp(base + n - strlen(suffix), suffix) != 0)
		conf_error(e, -EINVAL, file, line, "metrics-file %s is not named NAME.prom, "
			   "the only files node_exporter's textfile collector reads; name it, for "
			   "example, certwatch.prom", path);
	else if (dir && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		conf_error(e, -ENOENT, file, line, "the directory of metrics-file %s does not "
			   "exist; create it (Debian's prometheus-node-exporter reads "
			   "/var/lib/prometheus/node-exporter), or unset metrics-file", path);
}
