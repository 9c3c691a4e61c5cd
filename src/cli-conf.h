/*
 * cli-conf.h - the configuration a command of the command line works on:
 * the file, or what discover finds when there is none.  Unlike conf.c,
 * these say on stderr what is wrong, for the commands that end there.
 */
#pragma once

#include "conf.h"

/* conf_load() of path, its errors on stderr.  Returns 0 or a negative errno. */
int cli_conf_load(const char *path, struct conf **ret);

/*
 * What the local daemons' own configurations describe: discover's output,
 * through a private file that conf_load() validates like any other; on
 * stderr, that this is what is checked, or why nothing is.  Returns 0 or
 * a negative errno.
 */
int cli_conf_discovered(struct conf **ret);
