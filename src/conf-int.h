/*
 * conf-int.h - what conf.c (the loader), conf-schema.c (the libconfuse
 * schema and the checks libconfuse runs on each value) and conf-dump.c
 * share.  Not an API: the public interface is conf.h.
 */
#pragma once

#include <confuse.h>

#define CONF_MAX_SHOWN 160     /* a value quoted in a message */

/* conf.c: messages to the loader at work. */

/* A value from the file, printable and bounded, for messages. */
struct conf_shown {
	char s[CONF_MAX_SHOWN];
};

struct conf_shown conf_show(const char *v);

/*
 * An error about the value being parsed, at its line, for a validate
 * callback: reported to the loader at work; returns -1, which stops the
 * parse.
 */
__attribute__((format(printf, 2, 3)))
int conf_value_error(cfg_t *cfg, const char *fmt, ...);

/* conf-schema.c */

/*
 * A libconfuse context for one file, with every value check installed and
 * on_error for libconfuse's own errors.  on_global, unless NULL, is run
 * for every global setting, for files that may hold services only.
 */
cfg_t *conf_schema_new(cfg_errfunc_t on_error, cfg_validate_callback_t on_global);

/* A reload-signal name, with or without "SIG", to its number; 0 if unknown. */
int conf_signal_lookup(const char *name);
const char *conf_signal_name(int signo);

/* "HH:MM-HH:MM" to minutes after midnight; -EINVAL if it is not one. */
int conf_parse_window(const char *s, int *ret_start, int *ret_end);
