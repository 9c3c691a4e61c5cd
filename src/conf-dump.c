/*
 * conf-dump.c - writing certwatch.conf syntax: conf_dump(), the effective
 * configuration, row by row (conf-table.c), so that every setting is
 * shown with its value or default; and the quoting that `certwatch
 * discover` uses too, so that every value written reads back as itself.
 * A setting without a value (an unset path, no reload-signal) is left out:
 * the syntax has no way to write "unset".
 */
#include "config.h"

#include <stdint.h>
#include <pwd.h>
#include <stdio.h>

#include "conf.h"
#include "conf-int.h"
#include "dane-judge.h"
#include "key-type.h"
#include "pair-format.h"
#include "kinds.h"
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

static void write_argv(FILE *f, const char *indent, const char *key, char *const argv[])
{
	if (!argv)
		return;
	fprintf(f, "%s%s = {", indent, key);
	for (size_t i = 0; argv[i]; i++) {
		if (i > 0)
			fputs(", ", f);
		conf_write_quoted(f, argv[i]);
	}
	fputs("}\n", f);
}

void conf_write_argv(FILE *f, const char *key, char *const argv[])
{
	write_argv(f, "\t", key, argv);
}

/* A user's name, or its number when it has none; NULL if unset. */
static const char *format_user(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw;

	if (uid == (uid_t)-1)
		return NULL;
	pw = getpwuid(uid);
	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}

/* The value of a row that is not a string, in the file's syntax; NULL if unset. */
static const char *format_value(const struct conf_row *row, const void *field,
				char *buf, size_t len)
{
	const int *i = field;

	switch (row->type) {
	case CONF_DURATION:
		format_duration(*(const uint64_t *)field, buf, len);
		return buf;
	case CONF_SIGNAL:
		return *i ? conf_signal_name(*i) : NULL;
	case CONF_WINDOW:
		if (i[0] < 0)
			return NULL;
		snprintf(buf, len, "%02d:%02d-%02d:%02d", i[0] / 60, i[0] % 60, i[1] / 60, i[1] % 60);
		return buf;
	case CONF_STARTTLS:
		return *i >= 0 ? starttls_drivers[*i].name : NULL;
	case CONF_KEY_TYPE:
		return key_type_to_string(*(const enum key_type *)field);
	case CONF_PAIR_FORMAT:
		return pair_format_to_string(*(const enum pair_format *)field);
	case CONF_USER:
		return format_user(*(const uid_t *)field, buf, len);
	case CONF_DANE_MODE:
		return dane_mode_to_string(*(const int *)field);
	default:
		return *(char *const *)field;
	}
}

static void dump_row(FILE *f, const char *indent, const struct conf_row *row, const void *field)
{
	char buf[64];

	switch (row->type) {
	case CONF_UINT:
		fprintf(f, "%s%s = %u\n", indent, row->name, *(const unsigned *)field);
		break;
	case CONF_PORT:
		fprintf(f, "%s%s = %u\n", indent, row->name, (unsigned)*(const uint16_t *)field);
		break;
	case CONF_BOOL:
		fprintf(f, "%s%s = %s\n", indent, row->name, *(const bool *)field ? "true" : "false");
		break;
	case CONF_ARGV:
	case CONF_PINS:
		write_argv(f, indent, row->name, *(char *const *const *)field);
		break;
	default:
		conf_write_setting(f, indent, row->name, format_value(row, field, buf, sizeof(buf)));
		break;
	}
}

/* Rows in from_kind are written as comments: the kind sets them, and the dump reads back as itself. */
static void dump_scope(FILE *f, const char *indent, enum conf_scope scope, const void *base,
		       uint64_t from_kind)
{
	char commented[16];

	snprintf(commented, sizeof(commented), "%s# ", indent);
	for (size_t i = 0; i < conf_n_rows; i++)
		if (conf_rows[i].where & CONF_IN(scope))
			dump_row(f, from_kind & (UINT64_C(1) << i) ? commented : indent, &conf_rows[i],
				 (const char *)base + conf_rows[i].at[scope]);
}

/* Where the service's reload recipe came from, as comments. */
static void dump_recipe(FILE *f, const struct conf_service *s)
{
	const struct kind *k = kind_find(s->kind);

	if (k)
		fprintf(f, "\t# kind %s: %s\n", k->name, k->how);
	if (s->recipe && s->recipe[0])
		fprintf(f, "\t# reload settings %s%s\n", s->recipe,
			s->kind_rows ? " (the kind's shown commented out)" : "");
	else
		fputs("\t# no reload method: certwatch checks and reports, and never reloads\n", f);
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
	dump_scope(f, "", CONF_GLOBAL, c, 0);
	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *s = &c->services[i];

		fprintf(f, "\n# %s:%u\nservice %s {\n", s->file ? s->file : "?", s->line, s->name);
		dump_recipe(f, s);
		dump_scope(f, "\t", CONF_SERVICE, s, s->kind_rows);
		for (size_t j = 0; j < s->n_endpoints; j++) {
			fprintf(f, "\tendpoint %s {\n", s->endpoints[j].name);
			dump_scope(f, "\t\t", CONF_ENDPOINT, &s->endpoints[j], 0);
			fputs("\t}\n", f);
		}
		fputs("}\n", f);
	}
}
