/*
 * discover-fixture.h - helpers of the unit tests of discover's parsers
 * (tests/discover-fixture.c).
 */
#pragma once

#include <stddef.h>

#include "discover.h"

/* Where fixtures are: SRCDIR/discover-fixtures (SRCDIR NULL: "tests"). */
void fixture_dir(const char *srcdir);
const char *fixture_dirname(void);

/* A fixture's contents, NUL-terminated, to be freed; bails out if it is missing. */
char *fixture(const char *name, size_t *ret_len);

/*
 * One line per endpoint, "NAME ADDRESS PORT PROTO SNI CERT KEY", with "tls"
 * for implicit TLS and "-" for an inherited value, then " +ALTCERT" for
 * each alternative pair, " chain=FILE", " postfix" and " key-type=TYPE"
 * when there are.  A static buffer.
 */
const char *render(const struct discovered *d);

/* The notes, one a line.  A static buffer. */
const char *notes(const struct discovered *d);
