/*
 * discover-apache-dump.h - what `apache2ctl -t -D DUMP_VHOSTS -D
 * DUMP_RUN_CFG -D DUMP_INCLUDES` says, for discover-apache.c: the files
 * Apache includes, the blocks it uses, its ServerRoot.  Not an API.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "discover-int.h"

/* Whether DUMP_VHOSTS lists the block at file:line, that is, Apache uses it. */
bool apache_dump_lists(const struct disc_section *dump, const char *file, unsigned line);

/* The file a line of DUMP_INCLUDES lists ("  (*) /etc/apache2/apache2.conf"), or NULL. */
const char *apache_dump_included(const char *line, bool cut);

/* ServerRoot as DUMP_RUN_CFG prints it into out; out untouched when it does not. */
void apache_dump_root(const struct disc_section *dump, char *out, size_t outlen);

/*
 * Notes the blocks DUMP_VHOSTS says a macro made (mod_macro): discovery
 * does not expand macros, so their endpoints are the user's to write.
 * Returns 0 or -ENOMEM.
 */
int apache_dump_macros(const struct disc_section *dump, struct discovered *d);
