/*
 * discover-files.h - the bundles of files that Apache's and HAProxy's
 * parsers read (discover-int.h says what a bundle is), gathered from the
 * file system.  Not an API: the public interface is discover.h.
 */
#pragma once

#include <stddef.h>

#include "discover.h"

struct disc_bundle {
	char *text;          /* NUL-terminated; wiped when freed (PEM files hold keys) */
	size_t len;
	size_t n_sections;
};

/*
 * Adds a first section: a command's output (kind 'c', path describing the
 * command), or the file at path read as a parser's want of kind ('f',
 * 'p').  Returns 0 or -ENOMEM; a full bundle takes nothing more.
 */
int disc_bundle_seed(struct disc_bundle *b, char kind, const char *path, const char *text,
		     size_t len);

/*
 * Rounds of wants: each reads the files the parser asks for that the
 * bundle does not hold yet, until a round adds nothing (or after a few).
 * Returns 0 or -ENOMEM.
 */
int disc_bundle_gather(struct disc_bundle *b, discover_wants_fn wants);

void disc_bundle_done(struct disc_bundle *b);
