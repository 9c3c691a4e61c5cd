/*
 * conf-dump.c - writing certwatch.conf syntax: conf_dump(), the effective
 * configuration, and the quoting that `certwatch discover` uses too, so
 * that every value written reads back as itself.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "conf-int.h"
#include "key-type.h"
#include "starttls.h"
#include "util.h"

void conf_write_quoted(FILE *f, const char *s)
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

void conf_write_setting(FILE *f, const char *indent, const char *key, const char *value)
{
	if (!value)
		return;
	fprintf(f, "%s%s = ", indent, key);
	conf_write_quoted(f, value);
	fputc('\n', f);
}

void conf_write_argv(FILE *f, const char *key, char *const argv[])
{
	if (!argv)
		return;
	fprintf(f, "\t%s = {", key);
	for (size_t i = 0; argv[i]; i++) {
		if (i > 0)
			fputs(", ", f);
		conf_write_quoted(f, argv[i]);
	}
	fputs("}\n", f);
}

static void dump_duration(FILE *f, const char *indent, const char *name, uint64_t usec)
{
	char buf[32];

	format_duration(usec, buf, sizeof(buf));
	fprintf(f, "%s%s = \"%s\"\n", indent, name, buf);
}

static void dump_service(FILE *f, const struct conf_service *s)
{
	fprintf(f, "\n# %s:%u\nservice %s {\n", s->file ? s->file : "?", s->line, s->name);
	conf_write_setting(f, "\t", "cert", s->cert);
	conf_write_setting(f, "\t", "chain", s->chain);
	conf_write_setting(f, "\t", "key", s->key);
	conf_write_setting(f, "\t", "name", s->sni);
	conf_write_setting(f, "\t", "reload-unit", s->reload_unit);
	conf_write_argv(f, "reload-command", s->reload_command);
	conf_write_argv(f, "reload-check", s->reload_check);
	if (s->reload_signal)
		fprintf(f, "\treload-signal = \"%s\"\n", conf_signal_name(s->reload_signal));
	conf_write_setting(f, "\t", "pid-file", s->pid_file);
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
		conf_write_setting(f, "\t\t", "address", e->address);
		fprintf(f, "\t\tport = %u\n", (unsigned)e->port);
		if (e->starttls >= 0)
			fprintf(f, "\t\tstarttls = \"%s\"\n", starttls_drivers[e->starttls].name);
		conf_write_setting(f, "\t\t", "name", e->sni);
		conf_write_setting(f, "\t\t", "cert", e->cert);
		conf_write_setting(f, "\t\t", "chain", e->chain);
		conf_write_setting(f, "\t\t", "key", e->key);
		if (e->key_type != KEY_TYPE_ANY)
			fprintf(f, "\t\tkey-type = \"%s\"\n", key_type_to_string(e->key_type));
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
	conf_write_setting(f, "", "state-dir", c->state_dir);
	conf_write_setting(f, "", "include-dir", c->include_dir);
	conf_write_setting(f, "", "metrics-file", c->metrics_file);
	for (size_t i = 0; i < c->n_services; i++)
		dump_service(f, &c->services[i]);
}
