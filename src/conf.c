/*
 * conf.c - the configuration: the libconfuse schema, validation, and the
 * immutable struct conf of conf.h.
 *
 * The main file holds the global settings and may hold services; every
 * *.conf in the include directory holds services only.  Every error names
 * FILE:LINE, what is wrong and what would be right; nothing is printed.
 * Values are checked by validate callbacks while libconfuse parses, when
 * the line of the value is known; what involves several settings is
 * checked afterwards, against the line where the section begins.
 *
 * libconfuse 3.3 counts each comment's line two or three times, so its
 * line numbers drift after the first comment, and it cannot parse a
 * comment inside a list.  So each file is read into memory (from the
 * descriptor whose owner and mode were checked), a scanner that follows
 * libconfuse's own lexer blanks the comments out, and libconfuse parses
 * the rest, where its line numbers are exact.  A parsed section only knows
 * the line of its closing brace, so the same scanner notes where each
 * service and endpoint begins.
 *
 * libconfuse gives its callbacks no user pointer, so the loader at work is
 * kept in a static.  Its lexer is global state too: loads never overlap.
 */
#include "config.h"

#include <confuse.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "starttls.h"
#include "util.h"

#define CONF_DEFAULT_STATE_DIR LOCALSTATEDIR "/lib/certwatch"
#define CONF_MAX_FILE_SIZE     (1024 * 1024)
#define CONF_MAX_FILES         CONF_MAX_SERVICES
#define CONF_MAX_DURATION_USEC (UINT64_C(365) * 86400 * USEC_PER_SEC)
#define CONF_MAX_ARGS          64
#define CONF_MAX_NAME          64      /* service and endpoint names */
#define CONF_MAX_HOST          253
#define CONF_MAX_MESSAGE       1024
#define CONF_MAX_SHOWN         160     /* a value quoted in a message */

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
	CFG_END()
};

static cfg_opt_t service_opts[] = {
	CFG_STR("cert", NULL, CFGF_NODEFAULT),
	CFG_STR("chain", NULL, CFGF_NODEFAULT),
	CFG_STR("key", NULL, CFGF_NODEFAULT),
	CFG_STR("name", NULL, CFGF_NODEFAULT),
	CFG_STR("address", NULL, CFGF_NODEFAULT),
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

/* ---- the comment scanner ------------------------------------------------- */

struct header {
	unsigned line;
	size_t service;          /* for an endpoint: its service's index */
};

struct scan {
	struct header *services, *endpoints;
	size_t n_services, n_endpoints;
	unsigned warn_days_line, crit_days_line;
	unsigned unclosed_line;  /* a section still open at the end of the file */
	unsigned open_line;      /* the top-level section being scanned */
};

enum tok { TOK_NONE, TOK_STR, TOK_OPEN, TOK_CLOSE, TOK_EQ, TOK_OTHER };

struct token {
	enum tok kind;
	const char *text;
	size_t len;
	unsigned line;
};

static void scan_free(struct scan *sc)
{
	free(sc->services);
	free(sc->endpoints);
	*sc = (struct scan) { 0 };
}

static int scan_push(struct header **v, size_t *n, unsigned line, size_t service)
{
	struct header *nv = reallocarray(*v, *n + 1, sizeof(**v));

	if (!nv)
		return -ENOMEM;
	nv[*n] = (struct header) { line, service };
	*v = nv;
	(*n)++;
	return 0;
}

/* What ends an unquoted word in libconfuse's lexer. */
static bool is_delim(char c)
{
	return c == '\0' || strchr(" #\"'\t\n\r={}()+,*", c) != NULL;
}

static size_t word_len(const char *p, size_t len)
{
	size_t n = 0;

	while (n < len && !is_delim(p[n]))
		n++;
	return n;
}

static bool tok_is(const struct token *t, const char *s)
{
	return t->kind == TOK_STR && t->len == strlen(s) && memcmp(t->text, s, t->len) == 0;
}

/* Skips "${NAME}" at p[i], as libconfuse substitutes it; 0 if there is none. */
static size_t skip_env(const char *p, size_t len, size_t i, unsigned *line)
{
	const char *close;

	if (i + 1 >= len || p[i] != '$' || p[i + 1] != '{')
		return 0;
	close = memchr(p + i + 2, '}', len - i - 2);
	if (!close)
		return 0;
	for (const char *q = p + i; q < close; q++)
		*line += *q == '\n';
	return (size_t)(close - p) + 1;
}

/* Returns the index just past the string opened by the quote at p[i]. */
static size_t skip_string(const char *p, size_t len, size_t i, unsigned *line)
{
	char quote = p[i];

	for (i++; i < len; i++) {
		size_t env;

		if (p[i] == '\\' && i + 1 < len) {
			i++;
			*line += p[i] == '\n';
		} else if (p[i] == quote) {
			return i + 1;
		} else if (p[i] == '\n') {
			(*line)++;
		} else if (quote == '"' && (env = skip_env(p, len, i, line)) > 0) {
			i = env - 1;
		}
	}
	return len;
}

/* Blanks a comment from p[i] up to end (exclusive), keeping its newlines. */
static void blank(char *p, size_t i, size_t end, unsigned *line)
{
	for (; i < end; i++) {
		if (p[i] == '\n')
			(*line)++;
		else
			p[i] = ' ';
	}
}

static int scan_token(struct scan *sc, const struct token *t, const struct token prev[2],
		      unsigned *depth)
{
	int r = 0;

	switch (t->kind) {
	case TOK_OPEN:
		if (*depth == 0)
			sc->open_line = t->line;
		if (prev[0].kind == TOK_STR && prev[1].kind == TOK_STR) {
			if (*depth == 0 && tok_is(&prev[1], "service"))
				r = scan_push(&sc->services, &sc->n_services, prev[1].line, 0);
			else if (*depth == 1 && sc->n_services > 0 && tok_is(&prev[1], "endpoint"))
				r = scan_push(&sc->endpoints, &sc->n_endpoints, prev[1].line,
					      sc->n_services - 1);
		}
		(*depth)++;
		break;
	case TOK_CLOSE:
		if (*depth > 0)
			(*depth)--;
		break;
	case TOK_EQ:
		if (*depth == 0 && tok_is(&prev[0], "warn-days"))
			sc->warn_days_line = prev[0].line;
		if (*depth == 0 && tok_is(&prev[0], "crit-days"))
			sc->crit_days_line = prev[0].line;
		break;
	default:
		break;
	}
	return r;
}

/*
 * Blanks every comment in buf and notes where sections begin.  Follows the
 * rules of libconfuse 3.3's lexer.l: "#" or a run of "/" (unless the word
 * it starts is longer) to the end of the line, and "/" "*" to "*" "/".
 */
static int scan_config(char *buf, size_t len, struct scan *ret)
{
	struct token prev[2] = { { TOK_NONE, NULL, 0, 0 }, { TOK_NONE, NULL, 0, 0 } };
	struct scan sc = { 0 };
	unsigned line = 1, depth = 0;
	size_t i = 0;
	int r = 0;

	while (i < len) {
		struct token t = { TOK_OTHER, buf + i, 1, line };
		char c = buf[i];
		size_t end, n;

		if (c == '\n' || c == ' ' || c == '\t' || c == '\r' || c == '*' ||
		    (c == '+' && (i + 1 >= len || buf[i + 1] != '='))) {
			line += c == '\n';
			i++;
			continue;
		}
		if (c == '#' || (c == '/' && i + 1 < len && buf[i + 1] == '/' &&
				 word_len(buf + i, len - i) == strspn(buf + i, "/"))) {
			const char *nl = memchr(buf + i, '\n', len - i);

			end = nl ? (size_t)(nl - buf) : len;
			blank(buf, i, end, &line);
			i = end;
			continue;
		}
		if (c == '/' && i + 1 < len && buf[i + 1] == '*') {
			end = len;
			for (size_t j = i + 2; j + 1 < len; j++) {
				if (buf[j] == '*' && buf[j + 1] == '/') {
					end = j + 2;
					break;
				}
			}
			blank(buf, i, end, &line);
			i = end;
			continue;
		}

		if (c == '"' || c == '\'') {
			end = skip_string(buf, len, i, &line);
			t = (struct token) { TOK_STR, buf + i + 1, end - i - 1, t.line };
			if (t.len > 0 && end <= len && buf[end - 1] == c)
				t.len--;
		} else if ((end = skip_env(buf, len, i, &line)) > 0) {
			t = (struct token) { TOK_STR, buf + i, end - i, t.line };
		} else if (c == '{' || c == '}' || c == '=' || c == '+') {
			t.kind = c == '{' ? TOK_OPEN : c == '}' ? TOK_CLOSE : TOK_EQ;
			end = i + (c == '+' ? 2 : 1);
		} else if (c == '(' || c == ')' || c == ',') {
			end = i + 1;
		} else {
			n = word_len(buf + i, len - i);
			t = (struct token) { TOK_STR, buf + i, n, t.line };
			end = i + n;
		}
		r = scan_token(&sc, &t, prev, &depth);
		if (r < 0)
			goto out;
		prev[1] = prev[0];
		prev[0] = t;
		i = end;
	}
	/* libconfuse 3.3 takes the end of the file as the end of an open section. */
	if (depth > 0)
		sc.unclosed_line = sc.open_line;
	*ret = sc;
	sc = (struct scan) { 0 };
out:
	scan_free(&sc);
	return r;
}

/* ---- the loader and its messages ----------------------------------------- */

struct loader {
	struct conf *conf;
	char *err;
	size_t errlen, errused;
	int error;                /* the first error, a negative errno */
	bool check_owner;
	const char *main_file;
	/* The file being parsed. */
	const char *file;
	bool include;
	cfg_t *cfg;
	struct scan scan;
	size_t endpoint_cursor;   /* first endpoint header of the next service */
};

static struct loader *active;

__attribute__((format(printf, 5, 6)))
static void loader_error(struct loader *l, int error, const char *file, unsigned line,
			 const char *fmt, ...)
{
	char msg[CONF_MAX_MESSAGE];
	const char *sep = l->errused > 0 ? "\n" : "";
	va_list ap;
	int n;

	if (l->error == 0)
		l->error = error;
	if (!l->err || l->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (file && line > 0)
		n = snprintf(l->err + l->errused, l->errlen - l->errused, "%s%s:%u: %s",
			     sep, file, line, msg);
	else if (file)
		n = snprintf(l->err + l->errused, l->errlen - l->errused, "%s%s: %s", sep, file, msg);
	else
		n = snprintf(l->err + l->errused, l->errlen - l->errused, "%s%s", sep, msg);
	if (n > 0)
		l->errused += (size_t)n < l->errlen - l->errused ? (size_t)n : l->errlen - l->errused - 1;
}

/* An error about the value being parsed, at its line; stops the parse. */
__attribute__((format(printf, 2, 3)))
static int value_error(cfg_t *cfg, const char *fmt, ...)
{
	char msg[CONF_MAX_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	loader_error(active, -EINVAL, active->file, (unsigned)cfg->line, "%s", msg);
	return -1;
}

/* A value from the file, printable and bounded, for messages. */
struct shown {
	char s[CONF_MAX_SHOWN];
};

static struct shown show(const char *v)
{
	struct shown out;

	escape_bytes(v, v ? strlen(v) : 0, out.s, sizeof(out.s));
	return out;
}

static unsigned header_line(const struct header *v, size_t n, size_t i, unsigned fallback)
{
	return i < n ? v[i].line : fallback;
}

static void report_duplicate_title(struct loader *l, cfg_t *cfg, const char *title)
{
	bool is_service = cfg == l->cfg;
	const char *kind = is_service ? "service" : "endpoint";
	unsigned first = 0;

	for (unsigned i = 0; i < cfg_size(cfg, kind); i++) {
		if (strcmp(cfg_title(cfg_getnsec(cfg, kind, i)), title) != 0)
			continue;
		if (is_service) {
			first = header_line(l->scan.services, l->scan.n_services, i, 0);
		} else {
			size_t svc = cfg_size(l->cfg, "service") - 1, k = 0;

			for (size_t j = 0; j < l->scan.n_endpoints; j++) {
				if (l->scan.endpoints[j].service == svc && k++ == i) {
					first = l->scan.endpoints[j].line;
					break;
				}
			}
		}
		break;
	}
	if (is_service)
		loader_error(l, -EINVAL, l->file, (unsigned)cfg->line,
			     "service %s is defined twice: here and at %s:%u; rename or remove one",
			     show(title).s, l->file, first);
	else
		loader_error(l, -EINVAL, l->file, (unsigned)cfg->line,
			     "endpoint %s is defined twice in service %s: here and at %s:%u; "
			     "rename or remove one", show(title).s, show(cfg_title(cfg)).s, l->file, first);
}

/* libconfuse's own errors: unknown options, syntax, bad numbers. */
static void on_confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	static const char dup[] = "found duplicate title '";
	char msg[CONF_MAX_MESSAGE];
	size_t n;

	if (!active)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (cfg && strncmp(msg, dup, strlen(dup)) == 0 && n > strlen(dup) && msg[n - 1] == '\'') {
		msg[n - 1] = '\0';
		report_duplicate_title(active, cfg, msg + strlen(dup));
		return;
	}
	loader_error(active, -EINVAL, active->file, cfg ? (unsigned)cfg->line : 0,
		     "%s; see certwatch.conf(5) for the settings and the syntax", show(msg).s);
}

/* ---- value checks, run while parsing ------------------------------------- */

static int check_duration(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	uint64_t usec = 0;
	int r;

	r = parse_duration(v, &usec);
	if (r == -EINVAL)
		return value_error(cfg, "%s = \"%s\" is not a duration; %s", opt->name, show(v).s,
				   duration_hint);
	if (r < 0 || usec > CONF_MAX_DURATION_USEC)
		return value_error(cfg, "%s = \"%s\" is too long; write at most \"365d\"",
				   opt->name, show(v).s);
	if (usec == 0 && strcmp(opt->name, "settle") != 0)
		return value_error(cfg, "%s = \"%s\" is zero; write a positive duration, such as \"%s\"",
				   opt->name, show(v).s, opt->def.string ? opt->def.string : "1s");
	return 0;
}

static int check_int(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);

	for (size_t i = 0; i < ELEMENTSOF(int_ranges); i++) {
		if (strcmp(int_ranges[i].name, opt->name) != 0)
			continue;
		if (v < int_ranges[i].min || v > int_ranges[i].max)
			return value_error(cfg, "%s = %ld is out of range; write a number from %ld to %ld",
					   opt->name, v, int_ranges[i].min, int_ranges[i].max);
	}
	return 0;
}

static int check_path(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (!v || v[0] != '/')
		return value_error(cfg, "%s = \"%s\" is not an absolute path; write the full path, "
				   "starting with \"/\"", opt->name, show(v).s);
	if (strlen(v) >= PATH_MAX)
		return value_error(cfg, "%s is longer than %d bytes; write a shorter path",
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
		return value_error(cfg, "%s = \"%s\" is not a host name or address; write one such as "
				   "\"mail.example.com\" or \"192.0.2.1\"", opt->name, show(v).s);
	return 0;
}

static int check_starttls(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (starttls_lookup(v) < 0)
		return value_error(cfg, "starttls = \"%s\" is not a known protocol; write one of: %s",
				   show(v).s, starttls_names());
	return 0;
}

static int check_one_method(cfg_t *cfg, cfg_opt_t *opt)
{
	for (size_t i = 0; i < ELEMENTSOF(reload_methods); i++) {
		if (strcmp(reload_methods[i], opt->name) == 0 || cfg_size(cfg, reload_methods[i]) == 0)
			continue;
		return value_error(cfg, "service %s has both %s and %s; a service has one reload "
				   "method: keep one of reload-unit, reload-command and reload-signal",
				   show(cfg_title(cfg)).s, reload_methods[i], opt->name);
	}
	return 0;
}

static int check_unit(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	size_t n = v ? strlen(v) : 0;

	if (n == 0 || n > 255 || !strchr(v, '.') || v[0] == '.' ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@") != n)
		return value_error(cfg, "reload-unit = \"%s\" is not a systemd unit name; write the "
				   "full name, such as \"nginx.service\"", show(v).s);
	return check_one_method(cfg, opt);
}

static int check_argv(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *argv0 = cfg_opt_getnstr(opt, 0);
	unsigned n = cfg_opt_size(opt);

	if (n > CONF_MAX_ARGS)
		return value_error(cfg, "%s has more than %d arguments; write a short command, or a "
				   "script that runs the long one", opt->name, CONF_MAX_ARGS);
	if (!argv0 || argv0[0] != '/')
		return value_error(cfg, "%s starts with \"%s\", not an absolute path; write the "
				   "program's full path, such as {\"/usr/sbin/nginx\", \"-s\", \"reload\"} "
				   "(commands run without a shell or PATH)", opt->name, show(argv0).s);
	if (strcmp(opt->name, "reload-command") == 0)
		return check_one_method(cfg, opt);
	return 0;
}

static int signal_lookup(const char *name)
{
	if (name && strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; name && i < ELEMENTSOF(signals); i++)
		if (strcmp(signals[i].name, name) == 0)
			return signals[i].signo;
	return 0;
}

static const char *signal_name(int signo)
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

	if (signal_lookup(v) == 0) {
		for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
			if (i > 0)
				strcat(names, ", ");
			strcat(names, signals[i].name);
		}
		return value_error(cfg, "reload-signal = \"%s\" is not a signal certwatch sends; "
				   "write one of: %s", show(v).s, names);
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

static int parse_window(const char *s, int *ret_start, int *ret_end)
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

	if (parse_window(v, &start, &end) < 0)
		return value_error(cfg, "reload-window = \"%s\" is not a time window; write "
				   "\"HH:MM-HH:MM\" in local time, such as \"02:00-05:00\" "
				   "(it may wrap past midnight)", show(v).s);
	return 0;
}

static int reject_global(cfg_t *cfg, cfg_opt_t *opt)
{
	return value_error(cfg, "%s is a global setting and belongs in the main file %s; "
			   "%s may only hold service sections", opt->name, active->main_file,
			   active->file);
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
};

static cfg_t *new_cfg(bool include)
{
	cfg_t *cfg = cfg_init(main_opts, CFGF_NONE);

	if (!cfg)
		return NULL;
	cfg_set_error_function(cfg, on_confuse_error);
	for (size_t i = 0; i < ELEMENTSOF(checks); i++)
		cfg_set_validate_func(cfg, checks[i].path, checks[i].check);
	for (size_t i = 0; include && i < ELEMENTSOF(global_names); i++)
		cfg_set_validate_func(cfg, global_names[i], reject_global);
	return cfg;
}

/* ---- files --------------------------------------------------------------- */

static const char *add_file(struct loader *l, const char *path)
{
	size_t n = 0;
	char **files, *copy;

	while (l->conf->files[n])
		n++;
	copy = strdup(path);
	files = copy ? reallocarray(l->conf->files, n + 2, sizeof(*files)) : NULL;
	if (!files) {
		free(copy);
		return NULL;
	}
	files[n] = copy;
	files[n + 1] = NULL;
	l->conf->files = files;
	return copy;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Checks an open file or directory; with check_owner, its owner and mode. */
static int check_fd(struct loader *l, int fd, const char *path, bool dir)
{
	struct stat st;
	uid_t euid = geteuid();

	if (fstat(fd, &st) < 0) {
		int r = -errno;

		loader_error(l, r, path, 0, "cannot stat: %s", strerror(-r));
		return r;
	}
	if (!dir && !S_ISREG(st.st_mode)) {
		loader_error(l, -EINVAL, path, 0, "is not a regular file; a configuration file must be one");
		return -EINVAL;
	}
	if (!l->check_owner)
		return 0;
	if (st.st_uid != 0 && st.st_uid != euid) {
		if (euid == 0)
			loader_error(l, -EPERM, NULL, 0, "%s is owned by uid %u, not root; certwatch "
				     "runs commands named there as root: chown root %s",
				     path, (unsigned)st.st_uid, path);
		else
			loader_error(l, -EPERM, NULL, 0, "%s is owned by uid %u, neither root nor uid %u "
				     "that runs certwatch; certwatch runs commands named there: "
				     "chown root %s", path, (unsigned)st.st_uid, (unsigned)euid, path);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		loader_error(l, -EPERM, NULL, 0, "%s is writable by group or others (mode %04o); "
			     "certwatch runs commands named there as root: chmod go-w %s",
			     path, (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

static int check_dir(struct loader *l, const char *path)
{
	_cleanup_close_ int fd = -1;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;

		loader_error(l, r, path, 0, "cannot open the directory: %s", strerror(-r));
		return r;
	}
	return check_fd(l, fd, path, true);
}

/* Reads the checked file behind fd, at most CONF_MAX_FILE_SIZE bytes. */
static int read_fd(struct loader *l, int fd, const char *path, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, size = 0;

	for (;;) {
		ssize_t n;

		if (len == size) {
			char *nb;

			if (size > CONF_MAX_FILE_SIZE) {
				loader_error(l, -EFBIG, path, 0, "is larger than %d KiB; a configuration "
					     "file is small: split it into files in the include directory",
					     CONF_MAX_FILE_SIZE / 1024);
				return -EFBIG;
			}
			size = size ? size * 2 : 4096;
			if (size > CONF_MAX_FILE_SIZE)
				size = CONF_MAX_FILE_SIZE + 1;
			nb = realloc(buf, size + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			loader_error(l, r, path, 0, "cannot read: %s", strerror(-r));
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (memchr(buf, '\0', len)) {
		loader_error(l, -EINVAL, path, 0, "contains a NUL byte; a configuration file is text");
		return -EINVAL;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	return 0;
}

/* ---- building struct conf ------------------------------------------------ */

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static void endpoint_done(struct conf_endpoint *e)
{
	free(e->name);
	free(e->address);
	free(e->sni);
	free(e->cert);
	free(e->chain);
	free(e->key);
}

static void service_done(struct conf_service *s)
{
	free(s->name);
	free(s->cert);
	free(s->chain);
	free(s->key);
	free(s->sni);
	free(s->reload_unit);
	free_argv(s->reload_command);
	free_argv(s->reload_check);
	free(s->pid_file);
	for (size_t i = 0; i < s->n_endpoints; i++)
		endpoint_done(&s->endpoints[i]);
	free(s->endpoints);
}

static uint64_t get_duration(cfg_t *cfg, const char *name)
{
	uint64_t usec = 0;

	/* Checked while parsing; the defaults are valid. */
	(void)parse_duration(cfg_getstr(cfg, name), &usec);
	return usec;
}

/* The string option name of sec, or fallback (which may be NULL), copied. */
static int get_str(cfg_t *sec, const char *name, const char *fallback, char **ret)
{
	const char *v = cfg_size(sec, name) > 0 ? cfg_getstr(sec, name) : fallback;

	*ret = NULL;
	if (!v)
		return 0;
	*ret = strdup(v);
	return *ret ? 0 : -ENOMEM;
}

static int get_argv(cfg_t *sec, const char *name, char ***ret)
{
	unsigned n = cfg_size(sec, name);
	char **argv;

	*ret = NULL;
	if (n == 0)
		return 0;
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		argv[i] = strdup(cfg_getnstr(sec, name, i));
		if (!argv[i]) {
			free_argv(argv);
			return -ENOMEM;
		}
	}
	*ret = argv;
	return 0;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= CONF_MAX_NAME && s[0] != '.' && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int take_endpoint(struct loader *l, const struct conf_service *s, cfg_t *sec, cfg_t *ep,
			 unsigned line, struct conf_endpoint *e)
{
	const char *what = NULL;
	int r;

	e->file = l->file;
	e->line = line;
	e->starttls = cfg_size(ep, "starttls") > 0 ? starttls_lookup(cfg_getstr(ep, "starttls")) : -1;
	if ((r = get_str(ep, "address", cfg_size(sec, "address") ? cfg_getstr(sec, "address")
								 : "localhost", &e->address)) < 0 ||
	    (r = get_str(ep, "name", s->sni, &e->sni)) < 0 ||
	    (r = get_str(ep, "cert", s->cert, &e->cert)) < 0 ||
	    /* A chain belongs with its certificate: an endpoint's own cert
	     * does not take the service's chain. */
	    (r = get_str(ep, "chain", cfg_size(ep, "cert") ? NULL : s->chain, &e->chain)) < 0 ||
	    (r = get_str(ep, "key", s->key, &e->key)) < 0)
		return r;
	e->name = strdup(cfg_title(ep));
	if (!e->name)
		return -ENOMEM;

	if (!valid_name(e->name))
		loader_error(l, -EINVAL, l->file, line, "endpoint \"%s\" has an unusable name; use up "
			     "to %d letters, digits, \".\", \"-\" and \"_\"", show(e->name).s,
			     CONF_MAX_NAME);
	if (cfg_size(ep, "port") > 0)
		e->port = (uint16_t)cfg_getint(ep, "port");
	else if (e->starttls >= 0)
		e->port = starttls_drivers[e->starttls].default_port;
	else
		loader_error(l, -EINVAL, l->file, line, "endpoint %s of service %s has no port; "
			     "implicit TLS needs one, such as port = 443 (or name a protocol with "
			     "starttls = \"...\")", show(e->name).s, show(s->name).s);
	if (!e->cert)
		what = "cert";
	else if (!e->key)
		what = "key";
	if (what)
		loader_error(l, -EINVAL, l->file, line, "endpoint %s of service %s has no %s; set "
			     "%s in the service or in the endpoint", show(e->name).s, show(s->name).s,
			     what, what);
	return 0;
}

static int take_reload(struct loader *l, cfg_t *sec, unsigned line, struct conf_service *s)
{
	int r;

	if ((r = get_str(sec, "reload-unit", NULL, &s->reload_unit)) < 0 ||
	    (r = get_argv(sec, "reload-command", &s->reload_command)) < 0 ||
	    (r = get_argv(sec, "reload-check", &s->reload_check)) < 0 ||
	    (r = get_str(sec, "pid-file", NULL, &s->pid_file)) < 0)
		return r;
	if (cfg_size(sec, "reload-signal") > 0)
		s->reload_signal = signal_lookup(cfg_getstr(sec, "reload-signal"));
	s->reload_timeout_usec = get_duration(sec, "reload-timeout");
	s->verify_timeout_usec = get_duration(sec, "verify-timeout");
	s->max_failures = (unsigned)cfg_getint(sec, "max-failures");
	s->max_reloads_per_hour = (unsigned)cfg_getint(sec, "max-reloads-per-hour");
	s->reload_window_start = s->reload_window_end = -1;
	if (cfg_size(sec, "reload-window") > 0)
		(void)parse_window(cfg_getstr(sec, "reload-window"), &s->reload_window_start,
				   &s->reload_window_end);
	s->allow_downgrade = cfg_getbool(sec, "allow-downgrade");

	if (s->reload_signal && !s->pid_file)
		loader_error(l, -EINVAL, l->file, line, "service %s has reload-signal but no pid-file; "
			     "add pid-file = \"/run/%s.pid\", the file holding the process id to signal",
			     show(s->name).s, show(s->name).s);
	if (s->pid_file && !s->reload_signal)
		loader_error(l, -EINVAL, l->file, line, "service %s has pid-file but no reload-signal; "
			     "add reload-signal = \"HUP\" or remove pid-file", show(s->name).s);
	if (s->reload_check && !s->reload_unit && !s->reload_command && !s->reload_signal)
		loader_error(l, -EINVAL, l->file, line, "service %s has reload-check but no reload "
			     "method; add reload-unit, reload-command or reload-signal, or remove "
			     "reload-check", show(s->name).s);
	return 0;
}

static size_t total_endpoints(const struct conf *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_services; i++)
		n += c->services[i].n_endpoints;
	return n;
}

/* Adds service idx of the file being loaded; reports what is wrong with it. */
static int take_service(struct loader *l, cfg_t *sec, size_t idx)
{
	struct conf *c = l->conf;
	struct conf_service s = { 0 }, *ns;
	const struct conf_service *other;
	unsigned line = header_line(l->scan.services, l->scan.n_services, idx, (unsigned)sec->line);
	size_t n = cfg_size(sec, "endpoint"), first = l->endpoint_cursor, total;
	int r;

	while (first < l->scan.n_endpoints && l->scan.endpoints[first].service < idx)
		first++;
	l->endpoint_cursor = first;

	s.file = l->file;
	s.line = line;
	s.name = strdup(cfg_title(sec));
	if (!s.name) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = get_str(sec, "cert", NULL, &s.cert)) < 0 ||
	    (r = get_str(sec, "chain", NULL, &s.chain)) < 0 ||
	    (r = get_str(sec, "key", NULL, &s.key)) < 0 ||
	    (r = get_str(sec, "name", NULL, &s.sni)) < 0 ||
	    (r = take_reload(l, sec, line, &s)) < 0)
		goto out;
	if (!valid_name(s.name))
		loader_error(l, -EINVAL, l->file, line, "service \"%s\" has an unusable name; use up "
			     "to %d letters, digits, \".\", \"-\" and \"_\" (it names state files and "
			     "the certwatch@NAME unit)", show(s.name).s, CONF_MAX_NAME);
	other = conf_find_service(c, s.name);
	if (other)
		loader_error(l, -EINVAL, l->file, line, "service %s is defined twice: here and at "
			     "%s:%u; rename or remove one", show(s.name).s, other->file, other->line);
	if (c->n_services >= CONF_MAX_SERVICES)
		loader_error(l, -E2BIG, l->file, line, "more than %d services; split the hosts "
			     "among several certwatch instances", CONF_MAX_SERVICES);
	total = total_endpoints(c);
	if (n == 0)
		loader_error(l, -EINVAL, l->file, line, "service %s has no endpoint; add one, such "
			     "as endpoint https { port = 443 }", show(s.name).s);
	else if (total + n > CONF_MAX_ENDPOINTS)
		loader_error(l, -E2BIG, l->file, line, "more than %d endpoints in all services; split "
			     "the hosts among several certwatch instances", CONF_MAX_ENDPOINTS);
	if (n > 0 && total + n <= CONF_MAX_ENDPOINTS) {
		s.endpoints = calloc(n, sizeof(*s.endpoints));
		if (!s.endpoints) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t j = 0; j < n; j++) {
			cfg_t *ep = cfg_getnsec(sec, "endpoint", (unsigned)j);
			size_t h = first + j;
			unsigned ep_line = h < l->scan.n_endpoints && l->scan.endpoints[h].service == idx
					   ? l->scan.endpoints[h].line : (unsigned)ep->line;

			s.n_endpoints++;
			r = take_endpoint(l, &s, sec, ep, ep_line, &s.endpoints[j]);
			if (r < 0)
				goto out;
		}
	}

	ns = reallocarray(c->services, c->n_services + 1, sizeof(*ns));
	if (!ns) {
		r = -ENOMEM;
		goto out;
	}
	c->services = ns;
	c->services[c->n_services++] = s;
	s = (struct conf_service) { 0 };
	r = 0;
out:
	service_done(&s);
	return r;
}

static int take_globals(struct loader *l, cfg_t *cfg, const char *main_file)
{
	struct conf *c = l->conf;
	long warn = cfg_getint(cfg, "warn-days"), crit = cfg_getint(cfg, "crit-days");

	c->interval_usec = get_duration(cfg, "interval");
	c->settle_usec = get_duration(cfg, "settle");
	c->timeout_usec = get_duration(cfg, "timeout");
	c->poll_interval_usec = get_duration(cfg, "poll-interval");
	c->warn_days = (unsigned)warn;
	c->crit_days = (unsigned)crit;
	c->max_probes = (unsigned)cfg_getint(cfg, "max-probes");
	c->state_dir = strdup(cfg_getstr(cfg, "state-dir"));
	if (cfg_size(cfg, "include-dir") > 0) {
		c->include_dir = strdup(cfg_getstr(cfg, "include-dir"));
	} else {
		_cleanup_free_ char *dir = dir_of(main_file);

		if (dir && asprintf(&c->include_dir, "%s/conf.d", strcmp(dir, "/") ? dir : "") < 0)
			c->include_dir = NULL;
	}
	if (cfg_size(cfg, "metrics-file") > 0 &&
	    !(c->metrics_file = strdup(cfg_getstr(cfg, "metrics-file"))))
		return -ENOMEM;
	if (!c->state_dir || !c->include_dir)
		return -ENOMEM;
	if (crit >= warn)
		loader_error(l, -EINVAL, l->file,
			     l->scan.crit_days_line ? l->scan.crit_days_line : l->scan.warn_days_line,
			     "crit-days = %ld is not less than warn-days = %ld; lower crit-days or "
			     "raise warn-days", crit, warn);
	return 0;
}

/*
 * Parses one file, open on fd, and adds its services (and, for the main
 * file, the global settings).  Errors in the file are reported and leave
 * l->error set; the return value is negative only when loading cannot go on.
 */
static int load_file(struct loader *l, int fd, const char *path, bool include)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	cfg_t *cfg = NULL;
	size_t len = 0;
	int r, before = l->error;

	l->file = add_file(l, path);
	if (!l->file)
		return -ENOMEM;
	l->include = include;
	l->endpoint_cursor = 0;
	/* What check_fd() and read_fd() refuse is reported; other files may go on. */
	r = check_fd(l, fd, l->file, false);
	if (r < 0)
		return 0;
	r = read_fd(l, fd, l->file, &buf, &len);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	r = scan_config(buf, len, &l->scan);
	if (r < 0)
		return r;
	if (l->scan.unclosed_line) {
		loader_error(l, -EINVAL, l->file, l->scan.unclosed_line, "the section opened "
			     "here is not closed: a '}' is missing before the end of the file");
		scan_free(&l->scan);
		return 0;
	}

	cfg = new_cfg(include);
	if (!cfg) {
		r = -ENOMEM;
		goto out;
	}
	l->cfg = cfg;
	if (len > 0) {
		f = fmemopen(buf, len, "r");
		if (!f) {
			r = -errno;
			goto out;
		}
		active = l;
		r = cfg_parse_fp(cfg, f);
		active = NULL;
		if (r != CFG_SUCCESS) {
			if (l->error == before)
				loader_error(l, -EINVAL, l->file, 0, "cannot be parsed; see "
					     "certwatch.conf(5) for the syntax");
			r = 0;
			goto out;
		}
	}
	if (!include) {
		r = take_globals(l, cfg, path);
		if (r < 0)
			goto out;
	}
	for (unsigned i = 0; i < cfg_size(cfg, "service"); i++) {
		r = take_service(l, cfg_getnsec(cfg, "service", i), i);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	l->cfg = NULL;
	if (cfg)
		cfg_free(cfg);
	scan_free(&l->scan);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static int load_include_dir(struct loader *l)
{
	const char *dir = l->conf->include_dir;
	DIR *d = NULL;
	char **names = NULL;
	size_t n = 0;
	int fd, r;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		loader_error(l, -errno, dir, 0, "cannot read the include directory: %s; make it a "
			     "readable directory, or set include-dir to another one", strerror(errno));
		return 0;
	}
	r = check_fd(l, fd, dir, true);
	if (r < 0) {
		close(fd);
		return 0;
	}
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	for (;;) {
		struct dirent *de;
		char **nn;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno != 0)
				loader_error(l, -errno, dir, 0, "cannot read the include directory: %s",
					     strerror(errno));
			break;
		}
		if (!is_conf_name(de->d_name))
			continue;
		if (n >= CONF_MAX_FILES) {
			loader_error(l, -E2BIG, dir, 0, "holds more than %d *.conf files; put several "
				     "services in one file", CONF_MAX_FILES);
			break;
		}
		nn = reallocarray(names, n + 1, sizeof(*names));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			r = -ENOMEM;
			goto out;
		}
		names = nn;
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	r = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *path = NULL;
		_cleanup_close_ int ffd = -1;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			path = NULL;
			r = -ENOMEM;
			break;
		}
		ffd = openat(dirfd(d), names[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (ffd < 0) {
			loader_error(l, -errno, path, 0, "cannot open: %s", strerror(errno));
			continue;
		}
		r = load_file(l, ffd, path, true);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

static struct conf *conf_alloc(void)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->files = calloc(1, sizeof(*c->files));
	if (!c->files) {
		free(c);
		return NULL;
	}
	return c;
}

int conf_load(const char *path, bool check_owner, struct conf **ret, char *err, size_t errlen)
{
	struct loader l = {
		.err = err,
		.errlen = errlen,
		.check_owner = check_owner,
		.main_file = path ? path : CONF_DEFAULT_FILE,
	};
	_cleanup_close_ int fd = -1;
	int r;

	if (err && errlen > 0)
		err[0] = '\0';
	path = l.main_file;
	l.conf = conf_alloc();
	if (!l.conf)
		return -ENOMEM;

	if (check_owner) {
		_cleanup_free_ char *dir = dir_of(path);

		if (!dir) {
			r = -ENOMEM;
			goto out;
		}
		r = check_dir(&l, dir);
		if (r < 0)
			goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		loader_error(&l, r, path, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	r = load_file(&l, fd, path, false);
	if (r < 0 || l.error < 0)
		goto out;
	r = load_include_dir(&l);
out:
	if (r >= 0 && l.error < 0)
		r = l.error;
	if (r < 0) {
		if (r == -ENOMEM && l.error == 0)
			loader_error(&l, r, path, 0, "out of memory");
		conf_free(l.conf);
		return r;
	}
	*ret = l.conf;
	return 0;
}

int conf_new_default(struct conf **ret)
{
	struct loader l = { .main_file = CONF_DEFAULT_FILE };
	cfg_t *cfg;
	int r;

	l.conf = conf_alloc();
	cfg = new_cfg(false);
	if (!l.conf || !cfg) {
		r = -ENOMEM;
		goto out;
	}
	r = take_globals(&l, cfg, CONF_DEFAULT_FILE);
out:
	if (cfg)
		cfg_free(cfg);
	if (r < 0) {
		conf_free(l.conf);
		return r;
	}
	*ret = l.conf;
	return 0;
}

const struct conf_service *conf_find_service(const struct conf *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->n_services; i++)
		if (strcmp(c->services[i].name, name) == 0)
			return &c->services[i];
	return NULL;
}

/* ---- dump ---------------------------------------------------------------- */

/* A double-quoted string libconfuse reads back as s. */
static void dump_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == '$')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void dump_opt_str(FILE *f, const char *indent, const char *name, const char *v)
{
	if (!v)
		return;
	fprintf(f, "%s%s = ", indent, name);
	dump_str(f, v);
	fputc('\n', f);
}

static void dump_duration(FILE *f, const char *indent, const char *name, uint64_t usec)
{
	char buf[32];

	format_duration(usec, buf, sizeof(buf));
	fprintf(f, "%s%s = \"%s\"\n", indent, name, buf);
}

static void dump_argv(FILE *f, const char *name, char **argv)
{
	if (!argv)
		return;
	fprintf(f, "\t%s = {", name);
	for (size_t i = 0; argv[i]; i++) {
		if (i > 0)
			fputs(", ", f);
		dump_str(f, argv[i]);
	}
	fputs("}\n", f);
}

static void dump_service(FILE *f, const struct conf_service *s)
{
	fprintf(f, "\n# %s:%u\nservice %s {\n", s->file ? s->file : "?", s->line, s->name);
	dump_opt_str(f, "\t", "cert", s->cert);
	dump_opt_str(f, "\t", "chain", s->chain);
	dump_opt_str(f, "\t", "key", s->key);
	dump_opt_str(f, "\t", "name", s->sni);
	dump_opt_str(f, "\t", "reload-unit", s->reload_unit);
	dump_argv(f, "reload-command", s->reload_command);
	dump_argv(f, "reload-check", s->reload_check);
	if (s->reload_signal)
		fprintf(f, "\treload-signal = \"%s\"\n", signal_name(s->reload_signal));
	dump_opt_str(f, "\t", "pid-file", s->pid_file);
	dump_duration(f, "\t", "reload-timeout", s->reload_timeout_usec);
	dump_duration(f, "\t", "verify-timeout", s->verify_timeout_usec);
	fprintf(f, "\tmax-failures = %u\n", s->max_failures);
	fprintf(f, "\tmax-reloads-per-hour = %u\n", s->max_reloads_per_hour);
	if (s->reload_window_start >= 0)
		fprintf(f, "\treload-window = \"%02d:%02d-%02d:%02d\"\n",
			s->reload_window_start / 60, s->reload_window_start % 60,
			s->reload_window_end / 60, s->reload_window_end % 60);
	fprintf(f, "\tallow-downgrade = %s\n", s->allow_downgrade ? "true" : "false");
	for (size_t i = 0; i < s->n_endpoints; i++) {
		const struct conf_endpoint *e = &s->endpoints[i];

		fprintf(f, "\tendpoint %s {\n", e->name);
		dump_opt_str(f, "\t\t", "address", e->address);
		fprintf(f, "\t\tport = %u\n", (unsigned)e->port);
		if (e->starttls >= 0)
			fprintf(f, "\t\tstarttls = \"%s\"\n", starttls_drivers[e->starttls].name);
		dump_opt_str(f, "\t\t", "name", e->sni);
		dump_opt_str(f, "\t\t", "cert", e->cert);
		dump_opt_str(f, "\t\t", "chain", e->chain);
		dump_opt_str(f, "\t\t", "key", e->key);
		fputs("\t}\n", f);
	}
	fputs("}\n", f);
}

void conf_dump(const struct conf *c, FILE *f)
{
	if (!c || !f)
		return;
	if (c->files && c->files[0]) {
		fputs("# certwatch configuration, read from:\n", f);
		for (size_t i = 0; c->files[i]; i++)
			fprintf(f, "#   %s\n", c->files[i]);
	}
	dump_duration(f, "", "interval", c->interval_usec);
	dump_duration(f, "", "settle", c->settle_usec);
	dump_duration(f, "", "timeout", c->timeout_usec);
	dump_duration(f, "", "poll-interval", c->poll_interval_usec);
	fprintf(f, "warn-days = %u\n", c->warn_days);
	fprintf(f, "crit-days = %u\n", c->crit_days);
	fprintf(f, "max-probes = %u\n", c->max_probes);
	dump_opt_str(f, "", "state-dir", c->state_dir);
	dump_opt_str(f, "", "include-dir", c->include_dir);
	dump_opt_str(f, "", "metrics-file", c->metrics_file);
	for (size_t i = 0; i < c->n_services; i++)
		dump_service(f, &c->services[i]);
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_services; i++)
		service_done(&c->services[i]);
	free(c->services);
	free(c->state_dir);
	free(c->include_dir);
	free(c->metrics_file);
	for (size_t i = 0; c->files && c->files[i]; i++)
		free(c->files[i]);
	free(c->files);
	free(c);
}
