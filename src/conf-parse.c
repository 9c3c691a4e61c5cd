/*
 * conf-parse.c - libconfuse over the text of one configuration file, with
 * every value checked as it is parsed, when its line is known: the check
 * of its row's type (conf-check.c), the rule of one reload method per
 * service, global settings in the main file only, and, with check_owner,
 * the programs certwatch would run as root (conf-program.c).  Errors go to
 * the load's messages as FILE:LINE: ...; what involves several settings
 * is the loader's, once a section is parsed.
 *
 * Environment variables are refused, not expanded: libconfuse would put
 * the value of ${NAME} in a double-quoted string or an unquoted value, and
 * nothing at all where NAME is unset, so {"/bin/rm", "-rf",
 * "${SCRATCH}/cache"} would quietly become rm -rf /cache; and the daemon's
 * environment under systemd is not the shell's that ran --test-config.  A
 * file means the same thing wherever it is read.
 *
 * libconfuse gives its callbacks no user pointer, so the parse at work is
 * kept in a static.  Its lexer is global state too: parses never overlap.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf-int.h"
#include "conf-scan.h"
#include "util.h"

static struct {
	const struct conf_parse *p;
	cfg_t *top;
	char program_ok[PATH_MAX];   /* the last program that passed its check */
} active;

__attribute__((format(printf, 2, 3)))
static int value_error(cfg_t *cfg, const char *fmt, ...)
{
	char msg[CONF_MAX_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_error(active.p->errors, -EINVAL, active.p->file, (unsigned)cfg->line, "%s", msg);
	return -1;
}

/* The line where the index'th endpoint of the last service begins, or 0. */
static unsigned endpoint_line(size_t service, unsigned index)
{
	const struct conf_scan *sc = active.p->scan;

	for (size_t j = 0, k = 0; j < sc->n_endpoints; j++)
		if (sc->endpoints[j].service == service && k++ == index)
			return sc->endpoints[j].line;
	return 0;
}

static void report_duplicate_title(cfg_t *cfg, const char *title)
{
	bool is_service = cfg == active.top;
	const char *kind = is_service ? "service" : "endpoint", *file = active.p->file;
	const struct conf_scan *sc = active.p->scan;
	unsigned first = 0;

	for (unsigned i = 0; i < cfg_size(cfg, kind); i++) {
		if (strcmp(cfg_title(cfg_getnsec(cfg, kind, i)), title) != 0)
			continue;
		if (is_service)
			first = i < sc->n_services ? sc->services[i].line : 0;
		else
			first = endpoint_line(cfg_size(active.top, "service") - 1, i);
		break;
	}
	if (is_service)
		value_error(cfg, "service %s is defined twice: here and at %s:%u; rename or remove "
			    "one", conf_show(title).s, file, first);
	else
		value_error(cfg, "endpoint %s is defined twice in service %s: here and at %s:%u; "
			    "rename or remove one", conf_show(title).s, conf_show(cfg_title(cfg)).s,
			    file, first);
}

/* libconfuse's own errors: unknown options, syntax, bad numbers. */
static void on_confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	static const char dup[] = "found duplicate title '";
	char msg[CONF_MAX_MESSAGE];
	size_t n;

	if (!active.p)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (cfg && strncmp(msg, dup, strlen(dup)) == 0 && n > strlen(dup) && msg[n - 1] == '\'') {
		msg[n - 1] = '\0';
		report_duplicate_title(cfg, msg + strlen(dup));
		return;
	}
	conf_error(active.p->errors, -EINVAL, active.p->file, cfg ? (unsigned)cfg->line : 0,
		   "%s; see certwatch.conf(5) for the settings and the syntax", conf_show(msg).s);
}

/* A service has one reload method: reported at the second one's line. */
static int check_one_method(cfg_t *cfg, cfg_opt_t *opt)
{
	char all[128];

	for (int m = RELOAD_METHOD_NONE + 1; m < _RELOAD_METHOD_MAX; m++) {
		const char *other = reload_method_setting((enum reload_method)m);

		if (!other || strcmp(other, opt->name) == 0 || cfg_size(cfg, other) == 0)
			continue;
		conf_reload_methods(all, sizeof(all), " and ");
		return value_error(cfg, "service %s has both %s and %s; a service has one reload "
				   "method: keep one of %s", conf_show(cfg_title(cfg)).s, other,
				   opt->name, all);
	}
	return 0;
}

/* A list is checked after each item: the program once it is there. */
static int check_program(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *program = cfg_opt_getnstr(opt, 0);
	char msg[CONF_MAX_MESSAGE];

	if (cfg_opt_size(opt) != 1 || strcmp(program, active.program_ok) == 0)
		return 0;
	if (conf_program_check(opt->name, program, msg, sizeof(msg)) < 0)
		return value_error(cfg, "%s", msg);
	snprintf(active.program_ok, sizeof(active.program_ok), "%s", program);
	return 0;
}

/* The check of every setting, run by libconfuse as it parses the value. */
static int validate(cfg_t *cfg, cfg_opt_t *opt)
{
	const struct conf_row *row = conf_row_find(opt->name);
	const struct conf_parse *p = active.p;
	char msg[CONF_MAX_MESSAGE];

	if (!row || !p)
		return 0;
	if (p->include && (row->where & CONF_IN(CONF_GLOBAL)))
		return value_error(cfg, "%s is a global setting and belongs in the main file %s; "
				   "%s may only hold service sections", opt->name, p->main_file,
				   p->file);
	if (conf_check_value(row, opt, msg, sizeof(msg)) < 0)
		return value_error(cfg, "%s", msg);
	if (conf_reload_method_of(row->name) != RELOAD_METHOD_NONE && check_one_method(cfg, opt) < 0)
		return -1;
	if (row->type == CONF_ARGV && p->check_owner)
		return check_program(cfg, opt);
	return 0;
}

/* Whether a "${" at buf[i], outside quotes, begins a token for libconfuse's lexer. */
static bool token_start(const char *buf, size_t i)
{
	return i == 0 || strchr(" #\"'\t\n\r={}()+,*", buf[i - 1]) != NULL;
}

/*
 * Reports every ${NAME} that libconfuse 3.3's lexer would replace: in a
 * double-quoted string unless a backslash comes before it, or as a token
 * of its own outside quotes; never in single quotes.  Comments are
 * already blanked.  Returns the number reported.
 */
static unsigned refuse_variables(const struct conf_parse *p, const char *buf, size_t len)
{
	unsigned line = 1, found = 0;
	char quote = 0;

	for (size_t i = 0; i < len; i++) {
		const char *close;

		if (buf[i] == '\n') {
			line++;
		} else if (quote && buf[i] == '\\' && i + 1 < len) {
			line += buf[++i] == '\n';
		} else if (quote && buf[i] == quote) {
			quote = 0;
		} else if (!quote && (buf[i] == '"' || buf[i] == '\'')) {
			quote = buf[i];
		} else if (buf[i] == '$' && quote != '\'' && i + 1 < len && buf[i + 1] == '{' &&
			   (quote || token_start(buf, i)) &&
			   (close = memchr(buf + i, '}', len - i)) != NULL) {
			size_t n = (size_t)(close - buf) - i + 1, name = strcspn(buf + i + 2, ":}");
			char ref[CONF_MAX_SHOWN], var[CONF_MAX_SHOWN];

			snprintf(ref, sizeof(ref), "%.*s", (int)n, buf + i);
			snprintf(var, sizeof(var), "%.*s", (int)name, buf + i + 2);
			conf_error(p->errors, -EINVAL, p->file, line, "%s would be replaced by the "
				   "environment variable %s, or by nothing where it is unset; certwatch "
				   "does not expand variables, since its environment is not your "
				   "shell's: write the value itself (and a literal \"${\" as \"\\${\")",
				   conf_show(ref).s, conf_show(var).s);
			found++;
			/* As the lexer: the reference is one piece, quotes and all. */
			for (; buf + i < close; i++)
				line += buf[i] == '\n';
		}
	}
	return found;
}

int conf_parse(const struct conf_parse *p, char *buf, size_t len, cfg_t **ret)
{
	_cleanup_fclose_ FILE *f = NULL;
	unsigned before = p->errors->n;
	int r;
	cfg_t *cfg;

	*ret = NULL;
	if (refuse_variables(p, buf, len) > 0)
		return 0;
	cfg = conf_schema_new(validate, on_confuse_error);
	if (!cfg)
		return -ENOMEM;
	if (len > 0) {
		f = fmemopen(buf, len, "r");
		if (!f) {
			r = -errno;
			cfg_free(cfg);
			return r;
		}
		active.p = p;
		active.top = cfg;
		active.program_ok[0] = '\0';
		r = cfg_parse_fp(cfg, f);
		active.p = NULL;
		active.top = NULL;
		if (r != CFG_SUCCESS) {
			if (p->errors->n == before)
				conf_error(p->errors, -EINVAL, p->file, 0, "cannot be parsed; see "
					   "certwatch.conf(5) for the syntax");
			cfg_free(cfg);
			return 0;
		}
	}
	*ret = cfg;
	return 0;
}
