/*
 * conf.c - the configuration: loading the files, and the immutable struct
 * conf of conf.h.  The schema and the checks of single values are in
 * conf-schema.c, the comment scanner in conf-scan.c, conf_dump() in
 * conf-dump.c.
 *
 * The main file holds the global settings and may hold services; every
 * *.conf in the include directory holds services only.  Every error names
 * FILE:LINE, what is wrong and what would be right; nothing is printed.
 * Values are checked by validate callbacks while libconfuse parses, when
 * the line of the value is known; what involves several settings is
 * checked afterwards, against the line where the section begins.
 *
 * Each file is read into memory from the descriptor whose owner and mode
 * were checked, and conf-scan.c blanks its comments out before libconfuse
 * parses it, because libconfuse 3.3 miscounts the lines of comments; the
 * scanner also notes the line where each section begins, since a parsed
 * section only knows the line of its closing brace.
 *
 * libconfuse gives its callbacks no user pointer, so the loader at work is
 * kept in a static.  Its lexer is global state too: loads never overlap.
 */
#include "config.h"

#include <confuse.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "conf-int.h"
#include "conf-scan.h"
#include "probe.h"
#include "starttls.h"
#include "util.h"

#define CONF_MAX_FILE_SIZE     (1024 * 1024)
#define CONF_MAX_FILES         CONF_MAX_SERVICES
#define CONF_MAX_NAME          64      /* service and endpoint names */
#define CONF_MAX_MESSAGE       1024

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
	struct conf_scan scan;
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

int conf_value_error(cfg_t *cfg, const char *fmt, ...)
{
	char msg[CONF_MAX_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	loader_error(active, -EINVAL, active->file, (unsigned)cfg->line, "%s", msg);
	return -1;
}

struct conf_shown conf_show(const char *v)
{
	struct conf_shown out;

	escape_bytes(v, v ? strlen(v) : 0, out.s, sizeof(out.s));
	return out;
}

static unsigned header_line(const struct conf_scan_header *v, size_t n, size_t i, unsigned fallback)
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
			     conf_show(title).s, l->file, first);
	else
		loader_error(l, -EINVAL, l->file, (unsigned)cfg->line,
			     "endpoint %s is defined twice in service %s: here and at %s:%u; "
			     "rename or remove one", conf_show(title).s, conf_show(cfg_title(cfg)).s,
			     l->file, first);
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
		     "%s; see certwatch.conf(5) for the settings and the syntax", conf_show(msg).s);
}

/* The check of every global setting in an included file. */
static int reject_global(cfg_t *cfg, cfg_opt_t *opt)
{
	return conf_value_error(cfg, "%s is a global setting and belongs in the main file %s; "
				"%s may only hold service sections", opt->name, active->main_file,
				active->file);
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
	e->key_type = cfg_size(ep, "key-type") > 0 ?
		probe_key_type_from_string(cfg_getstr(ep, "key-type")) : s->key_type;
	if (e->key_type < 0)
		e->key_type = s->key_type;
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
			     "to %d letters, digits, \".\", \"-\" and \"_\"", conf_show(e->name).s,
			     CONF_MAX_NAME);
	if (cfg_size(ep, "port") > 0)
		e->port = (uint16_t)cfg_getint(ep, "port");
	else if (e->starttls >= 0)
		e->port = starttls_drivers[e->starttls].default_port;
	else
		loader_error(l, -EINVAL, l->file, line, "endpoint %s of service %s has no port; "
			     "implicit TLS needs one, such as port = 443 (or name a protocol with "
			     "starttls = \"...\")", conf_show(e->name).s, conf_show(s->name).s);
	if (!e->cert)
		what = "cert";
	else if (!e->key)
		what = "key";
	if (what)
		loader_error(l, -EINVAL, l->file, line, "endpoint %s of service %s has no %s; set "
			     "%s in the service or in the endpoint", conf_show(e->name).s,
			     conf_show(s->name).s, what, what);
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
		s->reload_signal = conf_signal_lookup(cfg_getstr(sec, "reload-signal"));
	s->reload_timeout_usec = get_duration(sec, "reload-timeout");
	s->verify_timeout_usec = get_duration(sec, "verify-timeout");
	s->max_failures = (unsigned)cfg_getint(sec, "max-failures");
	s->max_reloads_per_hour = (unsigned)cfg_getint(sec, "max-reloads-per-hour");
	s->reload_window_start = s->reload_window_end = -1;
	if (cfg_size(sec, "reload-window") > 0)
		(void)conf_parse_window(cfg_getstr(sec, "reload-window"), &s->reload_window_start,
					&s->reload_window_end);
	s->allow_downgrade = cfg_getbool(sec, "allow-downgrade");
	s->reload_method = s->reload_unit ? RELOAD_METHOD_UNIT :
		s->reload_command ? RELOAD_METHOD_COMMAND :
		s->reload_signal ? RELOAD_METHOD_SIGNAL : RELOAD_METHOD_NONE;

	if (s->reload_signal && !s->pid_file)
		loader_error(l, -EINVAL, l->file, line, "service %s has reload-signal but no pid-file; "
			     "add pid-file = \"/run/%s.pid\", the file holding the process id to signal",
			     conf_show(s->name).s, conf_show(s->name).s);
	if (s->pid_file && !s->reload_signal)
		loader_error(l, -EINVAL, l->file, line, "service %s has pid-file but no reload-signal; "
			     "add reload-signal = \"HUP\" or remove pid-file", conf_show(s->name).s);
	if (s->reload_check && !s->reload_unit && !s->reload_command && !s->reload_signal)
		loader_error(l, -EINVAL, l->file, line, "service %s has reload-check but no reload "
			     "method; add reload-unit, reload-command or reload-signal, or remove "
			     "reload-check", conf_show(s->name).s);
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
	/* Checked while parsing; an unknown value was reported there. */
	s.key_type = cfg_size(sec, "key-type") > 0 ?
		probe_key_type_from_string(cfg_getstr(sec, "key-type")) : PROBE_KEY_ANY;
	if (s.key_type < 0)
		s.key_type = PROBE_KEY_ANY;
	if (!valid_name(s.name))
		loader_error(l, -EINVAL, l->file, line, "service \"%s\" has an unusable name; use up "
			     "to %d letters, digits, \".\", \"-\" and \"_\" (it names state files and "
			     "the certwatch@NAME unit)", conf_show(s.name).s, CONF_MAX_NAME);
	other = conf_find_service(c, s.name);
	if (other)
		loader_error(l, -EINVAL, l->file, line, "service %s is defined twice: here and at "
			     "%s:%u; rename or remove one", conf_show(s.name).s, other->file, other->line);
	if (c->n_services >= CONF_MAX_SERVICES)
		loader_error(l, -E2BIG, l->file, line, "more than %d services; split the hosts "
			     "among several certwatch instances", CONF_MAX_SERVICES);
	total = total_endpoints(c);
	if (n == 0)
		loader_error(l, -EINVAL, l->file, line, "service %s has no endpoint; add one, such "
			     "as endpoint https { port = 443 }", conf_show(s.name).s);
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
	r = conf_scan_config(buf, len, &l->scan);
	if (r < 0)
		return r;
	if (l->scan.unclosed_line) {
		loader_error(l, -EINVAL, l->file, l->scan.unclosed_line, "the section opened "
			     "here is not closed: a '}' is missing before the end of the file");
		conf_scan_free(&l->scan);
		return 0;
	}

	cfg = conf_schema_new(on_confuse_error, include ? reject_global : NULL);
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
	conf_scan_free(&l->scan);
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
	cfg = conf_schema_new(on_confuse_error, NULL);
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
