/*
 * reload.c - the table of reload methods; see reload.h.  The core asks
 * the table, never which method a service has (curl's Curl_ssl backends
 * are the model): adding a method adds a row and a file.
 */
#include "config.h"

#include <errno.h>

#include "reload.h"

const struct reload_method_ops reload_method_table[_RELOAD_METHOD_MAX] = {
	[RELOAD_METHOD_NONE]    = { "none",         NULL },
	[RELOAD_METHOD_UNIT]    = { "systemd unit", reload_unit_method_start },
	[RELOAD_METHOD_COMMAND] = { "command",      reload_command_method_start },
	[RELOAD_METHOD_SIGNAL]  = { "signal",       reload_signal_method_start },
	[RELOAD_METHOD_RESTART] = { "systemd restart", reload_restart_method_start },
	/* Nothing to start: the policy verifies without a reload (reload_method_acts()). */
	[RELOAD_METHOD_SELF]    = { "none: the server loads it by itself", NULL },
	[RELOAD_METHOD_HAPROXY] = { "HAProxy runtime API", reload_haproxy_method_start },
	[RELOAD_METHOD_SLAPD]   = { "slapd cn=config", reload_slapd_method_start },
};

int reload_start(struct reload_env *env, const struct conf_service *cs, reload_done_t done,
		 void *userdata, struct reload_op **ret)
{
	if ((unsigned)cs->reload_method >= _RELOAD_METHOD_MAX ||
	    !reload_method_table[cs->reload_method].start)
		return -ENOTSUP;
	return reload_method_table[cs->reload_method].start(env, cs, done, userdata, ret);
}
