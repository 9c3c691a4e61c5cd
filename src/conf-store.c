/*
 * conf-store.c - copying the parsed values into struct conf, conf_service
 * and conf_endpoint, row by row (conf-table.c), and freeing them again.
 * The values were checked while parsing, and every default is valid, so
 * a copy fails only for want of memory.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf-int.h"
#include "dane-judge.h"
#include "key-type.h"
#include "pair-format.h"
#include "starttls.h"
#include "util.h"

/* The two ints of a reload window lie side by side. */
_Static_assert(offsetof(struct conf_service, reload_window_end) ==
	       offsetof(struct conf_service, reload_window_start) + sizeof(int),
	       "reload_window_end follows reload_window_start");

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static int copy_argv(cfg_opt_t *opt, char ***ret)
{
	unsigned n = cfg_opt_size(opt);
	char **argv = calloc(n + 1, sizeof(*argv));

	if (!argv)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		argv[i] = strdup(cfg_opt_getnstr(opt, i));
		if (!argv[i]) {
			free_argv(argv);
			return -ENOMEM;
		}
	}
	*ret = argv;
	return 0;
}

/* An unset value: what each type holds when a setting has no value. */
static void store_unset(const struct conf_row *row, void *field)
{
	switch (row->type) {
	case CONF_SIGNAL:
		*(int *)field = 0;
		break;
	case CONF_WINDOW:
		((int *)field)[0] = ((int *)field)[1] = -1;
		break;
	case CONF_STARTTLS:
		*(int *)field = -1;
		break;
	case CONF_USER:
		*(uid_t *)field = (uid_t)-1;
		break;
	default:
		/* Durations, numbers, false, NULL, KEY_TYPE_ANY, PAIR_FORMAT_PEM,
		 * DANE_MODE_AUTO: all zero. */
		break;
	}
}

/* Copies opt's value into field, which holds nothing yet. */
static int store_value(const struct conf_row *row, cfg_opt_t *opt, void *field)
{
	const char *s = opt->type == CFGT_STR ? cfg_opt_getnstr(opt, 0) : NULL;

	switch (row->type) {
	case CONF_DURATION:
		return parse_duration(s, (uint64_t *)field) < 0 ? -EINVAL : 0;
	case CONF_UINT:
		*(unsigned *)field = (unsigned)cfg_opt_getnint(opt, 0);
		return 0;
	case CONF_PORT:
		*(uint16_t *)field = (uint16_t)cfg_opt_getnint(opt, 0);
		return 0;
	case CONF_BOOL:
		*(bool *)field = cfg_opt_getnbool(opt, 0);
		return 0;
	case CONF_PATH:
	case CONF_HOST:
	case CONF_UNIT:
	case CONF_KIND:
		*(char **)field = strdup(s);
		return *(char **)field ? 0 : -ENOMEM;
	case CONF_ARGV:
	case CONF_PINS:
		return copy_argv(opt, (char ***)field);
	case CONF_RESOLVER:
		*(char **)field = strdup(s);
		return *(char **)field ? 0 : -ENOMEM;
	case CONF_DANE_MODE:
		*(int *)field = dane_mode_from_string(s);
		return 0;
	case CONF_SIGNAL:
		*(int *)field = conf_signal_lookup(s);
		return 0;
	case CONF_WINDOW:
		return conf_parse_window(s, &((int *)field)[0], &((int *)field)[1]);
	case CONF_STARTTLS:
		*(int *)field = starttls_lookup(s);
		return 0;
	case CONF_KEY_TYPE:
		*(enum key_type *)field = (enum key_type)key_type_from_string(s);
		return 0;
	case CONF_PAIR_FORMAT:
		*(enum pair_format *)field = (enum pair_format)pair_format_from_string(s);
		return 0;
	case CONF_USER:
		/* Checked while parsing; a user removed since is an error all the same. */
		return conf_user_lookup(s, (uid_t *)field) < 0 ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

int conf_store(enum conf_scope scope, cfg_t *sec, cfg_t *parent, void *base)
{
	for (size_t i = 0; i < conf_n_rows; i++) {
		const struct conf_row *row = &conf_rows[i];
		void *field = (char *)base + row->at[scope];
		cfg_opt_t *opt;
		int r;

		if (!(row->where & CONF_IN(scope)))
			continue;
		opt = cfg_getopt(sec, row->name);
		if (cfg_opt_size(opt) == 0 && parent && (row->where & CONF_INHERITED) == CONF_INHERITED &&
		    !(row->unless && cfg_size(sec, row->unless) > 0))
			opt = cfg_getopt(parent, row->name);
		if (cfg_opt_size(opt) == 0) {
			store_unset(row, field);
			continue;
		}
		r = store_value(row, opt, field);
		/* Checked while parsing: only memory can be short here. */
		assert(r == 0 || r == -ENOMEM);
		if (r < 0)
			return r;
	}
	return 0;
}

void conf_store_free(enum conf_scope scope, void *base)
{
	for (size_t i = 0; base && i < conf_n_rows; i++) {
		const struct conf_row *row = &conf_rows[i];
		void *field = (char *)base + row->at[scope];

		if (!(row->where & CONF_IN(scope)))
			continue;
		if (row->type == CONF_ARGV || row->type == CONF_PINS)
			free_argv(*(char ***)field);
		else if (row->type == CONF_PATH || row->type == CONF_HOST || row->type == CONF_UNIT ||
			 row->type == CONF_RESOLVER || row->type == CONF_KIND)
			free(*(char **)field);
		else
			continue;
		*(void **)field = NULL;
	}
}
