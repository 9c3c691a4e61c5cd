/*
 * conf.c - the loader: it reads the main file and every *.conf of the
 * include directory, and builds the immutable struct conf of conf.h.
 *
 * The main file holds the global settings and may hold services; every
 * *.conf in the include directory holds services only.  Each file is
 * opened, checked and read by conf-file.c; conf-scan.c blanks its
 * comments (libconfuse 3.3 miscounts their lines) and notes where each
 * section begins, since a parsed section only knows the line of its
 * closing brace; conf-parse.c parses it, checking each value at its line.
 * The values are copied row by row (conf-store.c); this file adds what
 * no row can say: the rules across settings (crit-days below warn-days,
 * a pid-file with reload-signal, a port or a protocol, a cert and a key),
 * the names of sections, the limits, and the reload method of a service.
 *
 * Every error names FILE:LINE, what is wrong and what would be right;
 * nothing is printed, and every error in the files is reported at once.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf-int.h"
#include "conf-scan.h"
#include "hostname.h"
#include "starttls.h"
#include "util.h"

#define CONF_MAX_NAME 64      /* service and endpoint names */

struct loader {
	struct conf *conf;
	struct conf_errors errors;
	bool check_owner;
	const char *main_file;
	/* The file being loaded. */
	const char *file;
	struct conf_scan scan;
	size_t endpoint_cursor;   /* first endpoint header of the next service */
	unsigned include_dir_line; /* where include-dir was set in the main file, or 0 */
};

#define loader_error(l, error, file, line, ...) conf_error(&(l)->errors, error, file, line, __VA_ARGS__)

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

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= CONF_MAX_NAME && s[0] != '.' && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* ---- sections ----------------------------------------------------------------- */

static void endpoint_done(struct conf_endpoint *e)
{
	conf_store_free(CONF_ENDPOINT, e);
	free(e->name);
}

static void service_done(struct conf_service *s)
{
	conf_store_free(CONF_SERVICE, s);
	free(s->name);
	free(s->recipe);
	for (size_t i = 0; i < s->n_endpoints; i++)
		endpoint_done(&s->endpoints[i]);
	free(s->endpoints);
}

static int take_endpoint(struct loader *l, const struct conf_service *s, cfg_t *sec, cfg_t *ep,
			 unsigned line, struct conf_endpoint *e)
{
	const char *what = NULL;
	int r;

	e->file = l->file;
	e->line = line;
	e->name = strdup(cfg_title(ep));
	if (!e->name)
		return -ENOMEM;
	r = conf_store(CONF_ENDPOINT, ep, sec, e);
	if (r < 0)
		return r;
	conf_kind_endpoint(s, e);

	if (!valid_name(e->name))
		loader_error(l, -EINVAL, l->file, line, "endpoint \"%s\" has an unusable name; use up "
			     "to %d letters, digits, \".\", \"-\" and \"_\"", conf_show(e->name).s,
			     CONF_MAX_NAME);
	if (e->port == 0 && e->starttls >= 0)
		e->port = starttls_drivers[e->starttls].default_port;
	else if (e->port == 0)
		loader_error(l, -EINVAL, l->file, line, "endpoint %s of service %s has no port; "
			     "implicit TLS needs one, such as port = 443 (or name a protocol with "
			     "starttls = \"...\", or the server with kind = \"...\")",
			     conf_show(e->name).s, conf_show(s->name).s);
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

/* The reload method, and the rules between the reload settings. */
static int take_reload(struct loader *l, cfg_t *sec, unsigned line, struct conf_service *s)
{
	char methods[128];
	int r;

	/* At most one is set: conf-parse.c refused a second one. */
	for (int m = RELOAD_METHOD_NONE + 1; m < _RELOAD_METHOD_MAX; m++) {
		const char *setting = reload_method_setting((enum reload_method)m);

		if (setting && cfg_size(sec, setting) > 0)
			s->reload_method = (enum reload_method)m;
	}
	r = conf_kind_apply(&l->errors, l->check_owner, s);
	if (r < 0)
		return r;

	if (s->reload_signal && !s->pid_file)
		loader_error(l, -EINVAL, l->file, line, "service %s has reload-signal but no pid-file; "
			     "add pid-file = \"/run/%s.pid\", the file holding the process id to signal",
			     conf_show(s->name).s, conf_show(s->name).s);
	if (s->pid_file && !s->reload_signal)
		loader_error(l, -EINVAL, l->file, line, "service %s has pid-file but no reload-signal; "
			     "add reload-signal = \"HUP\" or remove pid-file", conf_show(s->name).s);
	if ((s->pid_file_owner != (uid_t)-1 || s->pid_program) && !s->pid_file)
		loader_error(l, -EINVAL, l->file, line, "service %s has %s but no pid-file; remove "
			     "it, or add reload-signal and pid-file", conf_show(s->name).s,
			     s->pid_program ? "pid-program" : "pid-file-owner");
	if (s->reload_check && !reload_method_acts(s->reload_method)) {
		conf_reload_methods(methods, sizeof(methods), " or ");
		loader_error(l, -EINVAL, l->file, line, "service %s has reload-check but no reload "
			     "method; add %s (or a kind that has one), or remove reload-check",
			     conf_show(s->name).s, methods);
	}
	return 0;
}

static size_t total_endpoints(const struct conf *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_services; i++)
		n += c->services[i].n_endpoints;
	return n;
}

/*
 * Adds the endpoints of section idx of the file (a service, or its
 * continuation) to s, with the lines of their headers.
 */
static int take_endpoints(struct loader *l, cfg_t *sec, size_t idx, struct conf_service *s)
{
	size_t n = cfg_size(sec, "endpoint"), first = l->endpoint_cursor, old = s->n_endpoints;
	struct conf_endpoint *eps;

	while (first < l->scan.n_endpoints && l->scan.endpoints[first].service < idx)
		first++;
	l->endpoint_cursor = first;
	eps = reallocarray(s->endpoints, old + n + 1, sizeof(*eps));
	if (!eps)
		return -ENOMEM;
	s->endpoints = eps;
	memset(eps + old, 0, (n + 1) * sizeof(*eps));
	eps += old;
	for (size_t j = 0; j < n; j++) {
		cfg_t *ep = cfg_getnsec(sec, "endpoint", (unsigned)j);
		size_t h = first + j;
		unsigned line = h < l->scan.n_endpoints && l->scan.endpoints[h].service == idx
				? l->scan.endpoints[h].line : (unsigned)ep->line;
		int r;

		s->n_endpoints++;
		r = take_endpoint(l, s, sec, ep, line, &eps[j]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The rules on a service as a whole: its name, its endpoints, the limits. */
static bool service_fits(struct loader *l, const struct conf_service *s, size_t n, unsigned line)
{
	const struct conf *c = l->conf;
	const struct conf_service *other = conf_find_service(c, s->name);
	size_t total = total_endpoints(c);

	if (!valid_name(s->name))
		loader_error(l, -EINVAL, l->file, line, "service \"%s\" has an unusable name; use up "
			     "to %d letters, digits, \".\", \"-\" and \"_\" (it names state files and "
			     "the certwatch@NAME unit)", conf_show(s->name).s, CONF_MAX_NAME);
	if (other)
		loader_error(l, -EINVAL, l->file, line, "service %s is defined twice: here and at "
			     "%s:%u; rename or remove one", conf_show(s->name).s, other->file, other->line);
	if (c->n_services >= CONF_MAX_SERVICES)
		loader_error(l, -E2BIG, l->file, line, "more than %d services; split the hosts "
			     "among several certwatch instances", CONF_MAX_SERVICES);
	if (n == 0)
		loader_error(l, -EINVAL, l->file, line, "service %s has no endpoint; add one, such "
			     "as endpoint https { port = 443 }", conf_show(s->name).s);
	else if (total + n > CONF_MAX_ENDPOINTS)
		loader_error(l, -E2BIG, l->file, line, "more than %d endpoints in all services; split "
			     "the hosts among several certwatch instances", CONF_MAX_ENDPOINTS);
	return n > 0 && total + n <= CONF_MAX_ENDPOINTS;
}

static int cmp_endpoint_names(const void *a, const void *b)
{
	return strcmp((*(const struct conf_endpoint *const *)a)->name,
		      (*(const struct conf_endpoint *const *)b)->name);
}

/* Each endpoint name once in a service continued over several files. */
static int unique_endpoints(struct loader *l, const struct conf_service *s)
{
	_cleanup_free_ const struct conf_endpoint **by_name = calloc(s->n_endpoints + 1,
								      sizeof(*by_name));

	if (!by_name)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_endpoints; i++)
		by_name[i] = &s->endpoints[i];
	qsort(by_name, s->n_endpoints, sizeof(*by_name), cmp_endpoint_names);
	for (size_t i = 1; i < s->n_endpoints; i++)
		if (strcmp(by_name[i]->name, by_name[i - 1]->name) == 0)
			loader_error(l, -EINVAL, by_name[i]->file, by_name[i]->line, "endpoint %s of "
				     "service %s is defined twice: here and at %s:%u; rename or "
				     "remove one", conf_show(by_name[i]->name).s, conf_show(s->name).s,
				     by_name[i - 1]->file, by_name[i - 1]->line);
	return 0;
}

/*
 * A service's section in a later file than its first one continues it: so
 * that one service (one nginx with 65,536 virtual hosts) fits in files of
 * a sensible size.  The continuation adds endpoints, and may set what its
 * endpoints inherit (address, name, cert, key...); what belongs to the
 * service alone (its reload, verification, limits) is said once, where it
 * is first defined.
 */
static int continue_service(struct loader *l, cfg_t *sec, size_t idx, unsigned line,
			    struct conf_service *first)
{
	size_t n = cfg_size(sec, "endpoint");
	bool ok = true;

	for (size_t i = 0; i < conf_n_rows; i++) {
		const struct conf_row *row = &conf_rows[i];
		cfg_opt_t *opt = cfg_getopt(sec, row->name);

		if (row->where & CONF_IN(CONF_ENDPOINT) || !(row->where & CONF_IN(CONF_SERVICE)) ||
		    !opt || !(opt->flags & CFGF_MODIFIED))
			continue;
		loader_error(l, -EINVAL, l->file, line, "service %s continues its definition at %s:%u "
			     "and sets %s, which only that definition may set; move it there",
			     conf_show(first->name).s, first->file, first->line, row->name);
		ok = false;
	}
	if (n == 0)
		loader_error(l, -EINVAL, l->file, line, "service %s continues its definition at %s:%u "
			     "but adds no endpoint; add one, or remove the section",
			     conf_show(first->name).s, first->file, first->line);
	else if (total_endpoints(l->conf) + n > CONF_MAX_ENDPOINTS)
		loader_error(l, -E2BIG, l->file, line, "more than %d endpoints in all services; split "
			     "the hosts among several certwatch instances", CONF_MAX_ENDPOINTS);
	if (!ok || n == 0 || total_endpoints(l->conf) + n > CONF_MAX_ENDPOINTS)
		return 0;
	if (take_endpoints(l, sec, idx, first) < 0)
		return -ENOMEM;
	return unique_endpoints(l, first);
}

/* Adds service idx of the file being loaded; reports what is wrong with it. */
static int take_service(struct loader *l, cfg_t *sec, size_t idx)
{
	struct conf *c = l->conf;
	struct conf_service s = { 0 }, *ns;
	unsigned line = idx < l->scan.n_services ? l->scan.services[idx].line : (unsigned)sec->line;
	const struct conf_service *other = conf_find_service(c, cfg_title(sec));
	int r;

	if (other && strcmp(other->file, l->file) != 0)
		return continue_service(l, sec, idx, line, &c->services[other - c->services]);

	s.file = l->file;
	s.line = line;
	s.name = strdup(cfg_title(sec));
	if (!s.name) {
		r = -ENOMEM;
		goto out;
	}
	r = conf_store(CONF_SERVICE, sec, NULL, &s);
	if (r < 0)
		goto out;
	r = take_reload(l, sec, line, &s);
	if (r < 0)
		goto out;
	if (service_fits(l, &s, cfg_size(sec, "endpoint"), line)) {
		r = take_endpoints(l, sec, idx, &s);
		if (r < 0)
			goto out;
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
	int r;

	r = conf_store(CONF_GLOBAL, cfg, NULL, c);
	if (r < 0)
		return r;
	if (!c->include_dir) {
		_cleanup_free_ char *dir = dir_of(main_file);

		if (!dir || asprintf(&c->include_dir, "%s/conf.d", strcmp(dir, "/") ? dir : "") < 0) {
			c->include_dir = NULL;
			return -ENOMEM;
		}
	}
	if (!c->ehlo_name && !(c->ehlo_name = strdup(hostname_fqdn())))
		return -ENOMEM;
	l->include_dir_line = l->scan.include_dir_line;
	if (c->metrics_file)
		conf_check_metrics_file(&l->errors, l->file, l->scan.metrics_file_line, c->metrics_file);
	if (c->crit_days >= c->warn_days)
		loader_error(l, -EINVAL, l->file,
			     l->scan.crit_days_line ? l->scan.crit_days_line : l->scan.warn_days_line,
			     "crit-days = %u is not less than warn-days = %u; lower crit-days or "
			     "raise warn-days", c->crit_days, c->warn_days);
	return 0;
}

/* ---- files ------------------------------------------------------------------ */

/*
 * Loads one file and adds its services (and, for the main file, the global
 * settings).  Errors in the file are reported; the return value is negative
 * only when loading cannot go on.
 */
static int load_file(struct loader *l, const char *path, bool include)
{
	struct conf_parse p = {
		.errors = &l->errors,
		.main_file = l->main_file,
		.include = include,
		.check_owner = l->check_owner,
		.scan = &l->scan,
	};
	_cleanup_free_ char *buf = NULL;
	cfg_t *cfg = NULL;
	size_t len = 0;
	int r;

	l->file = p.file = add_file(l, path);
	if (!l->file)
		return -ENOMEM;
	l->endpoint_cursor = 0;
	/* What conf_file_read() refuses is reported; other files may go on. */
	r = conf_file_read(&l->errors, l->file, l->check_owner, &buf, &len);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	r = conf_scan_config(buf, len, &l->scan);
	if (r < 0)
		return r;
	if (l->scan.open_string_line) {
		conf_scan_report_open_string(&l->scan, &l->errors, l->file);
		goto out;
	}
	if (l->scan.unclosed_line) {
		loader_error(l, -EINVAL, l->file, l->scan.unclosed_line, "the section opened "
			     "here is not closed: a '}' is missing before the end of the file");
		goto out;
	}
	r = conf_parse(&p, buf, len, &cfg);
	if (r < 0 || !cfg)
		goto out;
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
out:
	if (cfg)
		cfg_free(cfg);
	conf_scan_free(&l->scan);
	return r;
}

static int load_include_dir(struct loader *l)
{
	const char *dir = l->conf->include_dir;
	char **names = NULL;
	size_t n = 0;
	int r;

	/* Unset, conf.d beside the main file may be missing; named, it must be there. */
	if (l->include_dir_line && access(dir, F_OK) < 0 && errno == ENOENT) {
		loader_error(l, -ENOENT, l->main_file, l->include_dir_line, "include-dir %s does not "
			     "exist; correct the path, or create the directory", dir);
		return 0;
	}
	r = conf_file_list(&l->errors, dir, l->check_owner, &names, &n);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			path = NULL;
			r = -ENOMEM;
			break;
		}
		r = load_file(l, path, true);
	}
	conf_file_list_free(names, n);
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
		.errors = { .buf = err, .len = errlen },
		.check_owner = check_owner,
		.main_file = path ? path : CONF_DEFAULT_FILE,
	};
	int r = 0;

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
		r = conf_file_check_dir(&l.errors, dir, true);
		if (r < 0)
			goto out;
	}
	r = load_file(&l, path, false);
	if (r < 0 || l.errors.first < 0)
		goto out;
	r = load_include_dir(&l);
out:
	if (r >= 0 && l.errors.first < 0)
		r = l.errors.first;
	if (r < 0) {
		if (r == -ENOMEM && l.errors.first == 0)
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
	cfg_t *cfg = NULL;
	int r;

	l.conf = conf_alloc();
	/* No file parsed: every setting takes its row's default. */
	cfg = l.conf ? conf_schema_new(NULL, NULL) : NULL;
	if (!cfg) {
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
	conf_store_free(CONF_GLOBAL, c);
	for (size_t i = 0; c->files && c->files[i]; i++)
		free(c->files[i]);
	free(c->files);
	free(c);
}
