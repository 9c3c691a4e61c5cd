/*
 * conf-kind.c - a service's kind = "..." turned into its effective
 * settings, at load time: the reload method of the kind's row (kinds.c)
 * with its unit, signal and pid file, command or control socket, and its
 * configuration test; and the protocol and port of an endpoint that
 * names neither.  Whatever the service sets itself wins: an explicit
 * reload method replaces the row's method, and an explicit pid-file,
 * control-socket or reload-check replaces the row's.  The service keeps
 * a line saying which setting came from where, for --test-config.
 *
 * The programs a row names are held to the rule of the programs written
 * in the file (conf-program.c): certwatch runs them as root.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-int.h"
#include "kinds.h"
#include "starttls.h"
#include "util.h"

/* The row's argv, with extra (unless NULL) as its last argument. */
static int copy_argv(const char *const argv[], const char *extra, char ***ret)
{
	size_t n = 0;
	char **copy;

	while (n < KIND_MAX_ARGS && argv[n])
		n++;
	copy = calloc(n + 2, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i <= n; i++) {
		const char *a = i < n ? argv[i] : extra;

		if (!a)
			break;
		copy[i] = strdup(a);
		if (!copy[i]) {
			for (size_t j = 0; j < i; j++)
				free(copy[j]);
			free(copy);
			return -ENOMEM;
		}
	}
	*ret = copy;
	return 0;
}

static int set_string(char **field, const char *value)
{
	if (*field || !value)
		return 0;
	*field = strdup(value);
	return *field ? 0 : -ENOMEM;
}

/* Whether the method reads control-socket, as the row applies it. */
static bool uses_socket(const struct kind *k, enum reload_method m, bool from_kind)
{
	return m == RELOAD_METHOD_HAPROXY || m == RELOAD_METHOD_SLAPD ||
	       (from_kind && m == RELOAD_METHOD_COMMAND && k->socket_option);
}

/* The row's method and what it needs, for a service that names none. */
static int take_method(const struct kind *k, struct conf_service *s)
{
	_cleanup_free_ char *option = NULL;
	int r = 0;

	s->reload_method = k->method;
	if (uses_socket(k, k->method, true))
		r = set_string(&s->control_socket, k->socket);
	if (r < 0)
		return r;
	switch (k->method) {
	case RELOAD_METHOD_UNIT:
	case RELOAD_METHOD_HAPROXY:
		return set_string(&s->reload_unit, k->unit);
	case RELOAD_METHOD_RESTART:
		return set_string(&s->restart_unit, k->unit);
	case RELOAD_METHOD_SIGNAL:
		s->reload_signal = k->signal;
		return set_string(&s->pid_file, k->pid_file);
	case RELOAD_METHOD_COMMAND:
		if (k->socket_option && asprintf(&option, "%s%s", k->socket_option,
						 s->control_socket) < 0) {
			option = NULL;
			return -ENOMEM;
		}
		return copy_argv(k->command, option, &s->reload_command);
	default:
		return 0;
	}
}

/* A program the row names must pass the check of one written in the file. */
static void check_row_program(struct conf_errors *e, const struct conf_service *s,
			      const char *setting, const char *program)
{
	char msg[CONF_MAX_MESSAGE];

	if (conf_program_check(setting, program, msg, sizeof(msg)) < 0)
		conf_error(e, -EINVAL, s->file, s->line, "service %s, kind %s: %s; or set %s "
			   "yourself", conf_show(s->name).s, s->kind, msg, setting);
}

/* "from kind K: a, b; set here: c" into s->recipe. */
static int describe(struct conf_service *s, const char *from_kind, const char *here)
{
	const char *sep = from_kind[0] && here[0] ? "; " : "";

	if (asprintf(&s->recipe, "%s%s%s%s%s%s%s", from_kind[0] ? "from kind " : "",
		     from_kind[0] ? s->kind : "", from_kind[0] ? ": " : "", from_kind, sep,
		     here[0] ? "set here: " : "", here) < 0) {
		s->recipe = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void add_name(char *buf, size_t len, const char *name)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
}

/* The setting name took its value from the kind: listed, and marked for the dump. */
static void from_row(struct conf_service *s, char *buf, size_t len, const char *name)
{
	const struct conf_row *row = conf_row_find(name);

	add_name(buf, len, name);
	if (row)
		s->kind_rows |= UINT64_C(1) << (row - conf_rows);
}

int conf_kind_apply(struct conf_errors *e, bool check_owner, struct conf_service *s)
{
	const struct kind *k = kind_find(s->kind);
	char from_kind[160] = "", here[160] = "";
	enum reload_method explicit = s->reload_method;
	bool had_check = s->reload_check != NULL, had_pid = s->pid_file != NULL,
	     had_socket = s->control_socket != NULL;
	int r;

	if (explicit != RELOAD_METHOD_NONE)
		add_name(here, sizeof(here), reload_method_setting(explicit));
	if (k && explicit == RELOAD_METHOD_NONE) {
		r = take_method(k, s);
		if (r < 0)
			return r;
		if (reload_method_setting(k->method))
			from_row(s, from_kind, sizeof(from_kind), reload_method_setting(k->method));
		else
			add_name(from_kind, sizeof(from_kind), k->method == RELOAD_METHOD_SELF ?
				 "no reload (the server loads a renewal by itself)" :
				 k->method == RELOAD_METHOD_HAPROXY ? "HAProxy's runtime API" :
				 "slapd's cn=config over ldapi");
		if (k->method == RELOAD_METHOD_HAPROXY)
			from_row(s, from_kind, sizeof(from_kind), "reload-unit");
		if (k->method == RELOAD_METHOD_COMMAND && check_owner)
			check_row_program(e, s, "reload-command", s->reload_command[0]);
	}
	if (k && !had_check && k->check[0] && reload_method_acts(s->reload_method)) {
		r = copy_argv(k->check, NULL, &s->reload_check);
		if (r < 0)
			return r;
		from_row(s, from_kind, sizeof(from_kind), "reload-check");
		if (check_owner)
			check_row_program(e, s, "reload-check", s->reload_check[0]);
	}
	if (had_pid)
		add_name(here, sizeof(here), "pid-file");
	else if (s->pid_file)
		from_row(s, from_kind, sizeof(from_kind), "pid-file");
	if (had_socket)
		add_name(here, sizeof(here), "control-socket");
	else if (s->control_socket)
		from_row(s, from_kind, sizeof(from_kind), "control-socket");
	if (had_check)
		add_name(here, sizeof(here), "reload-check");
	if (had_socket && !uses_socket(k, s->reload_method, k && explicit == RELOAD_METHOD_NONE))
		conf_error(e, -EINVAL, s->file, s->line, "service %s has control-socket, which its "
			   "reload method does not use; remove it, or set kind to a server that has "
			   "one (haproxy, slapd, mariadb, mysql) without a reload method of your own",
			   conf_show(s->name).s);
	return describe(s, from_kind, here);
}

void conf_kind_endpoint(const struct conf_service *s, struct conf_endpoint *e)
{
	const struct kind *k = kind_find(s->kind);
	const struct kind_port *p;

	if (!k || e->starttls >= 0)
		return;
	p = kind_port_named(k, e->name);
	if (!p && e->port == 0)
		p = &k->ports[0];
	if (!p)
		return;
	if (e->port == 0)
		e->port = p->port;
	e->starttls = p->starttls ? starttls_lookup(p->starttls) : -1;
}
