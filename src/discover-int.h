/*
 * discover-int.h - what the parsers of `certwatch discover`
 * (discover-dovecot.c, discover-postfix.c, discover-nginx.c, discover-exim.c,
 * discover-apache.c, discover-haproxy.c) share: the
 * bounds on untrusted dumps, the one way to add an endpoint or a note to a
 * struct discovered (discover-result.c), and the text helpers more than
 * one parser needs (discover-text.c), the bundles of files that Apache's and
 * HAProxy's parsers read (discover-bundle.c).  Not an API: the public interface is
 * discover.h.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "discover.h"

#define MAX_LINE    4096   /* longest line or word of a dump that is read */
#define MAX_VALUE   1024   /* longest path, address or name kept */
#define MAX_DEPTH   16     /* sections or blocks nested, includes followed */
#define MAX_NAME    64     /* endpoint names, as certwatch.conf(5) */
#define MAX_ITEMS   256    /* listeners, protocols, local names, servers ... */
#define MAX_ARGS    32     /* words of one directive or master.cf entry */

/* A printable rendering of an untrusted string, for notes. */
struct disc_shown { char s[200]; };
struct disc_shown disc_show(const char *s);

/*
 * Adds a note (bounded by DISCOVER_MAX_NOTES); the caller passes untrusted
 * parts through disc_show().  disc_note_once() adds it only the first time
 * *noted is false, then sets it: for conditions that repeat per line.
 * Both return 0 or -ENOMEM.
 */
__attribute__((format(printf, 2, 3)))
int disc_note(struct discovered *d, const char *fmt, ...);
__attribute__((format(printf, 3, 4)))
int disc_note_once(struct discovered *d, bool *noted, const char *fmt, ...);

/* Whether a value may be written into certwatch.conf and mean the same. */
bool disc_printable(const char *s);

/*
 * Why name cannot be written as an endpoint's name (certwatch.conf's own
 * check of host settings, or an IP address, which SNI never carries), in
 * words that follow the value; NULL when it can.
 */
const char *disc_name_problem(const char *name);

/* *ret = a copy of s, or NULL for NULL; 0 or -ENOMEM. */
int disc_dup_or_null(const char *s, char **ret);

/*
 * The pairs a listener serves, as a parser found them: the first is the
 * listener's own (its chain and format with it), the others its
 * alternatives, one per key type.  n 0: the service's.
 */
struct disc_pairs {
	const char *cert[DISCOVER_MAX_PAIRS], *key[DISCOVER_MAX_PAIRS];
	const char *chain;
	enum pair_format format;
	size_t n;
};

/*
 * Adds an endpoint named after base (made valid and unique); a path or
 * address that cannot be written out drops it with a note, an sni that
 * disc_name_problem() refuses is left out with a note.  Past
 * DISCOVER_MAX_ENDPOINTS an endpoint is counted (disc_skip_endpoint()),
 * not added.  NULL sni: the service's;
 * pairs with n 0 (or a NULL cert and key): the service's.  Returns 0 or
 * -ENOMEM.
 */
int disc_add_endpoint_pairs(struct discovered *d, const char *base, const char *address,
			    unsigned port, int starttls, const char *sni,
			    const struct disc_pairs *pairs);
int disc_add_endpoint(struct discovered *d, const char *base, const char *address,
		      unsigned port, int starttls, const char *sni, const char *cert,
		      const char *key);

/*
 * Counts one endpoint that a bound left out, in the one note that says how
 * many were: a parser that stops looking at its own bound calls it for
 * each endpoint it did not look at.  Returns 0 or -ENOMEM.
 */
int disc_skip_endpoint(struct discovered *d);

/* The daemon's default pairs; nothing for n 0 or a value that cannot be written out. */
int disc_set_service_pairs(struct discovered *d, const struct disc_pairs *pairs);

/* Copies at most outlen-1 bytes of s..s+n, trimmed of blanks at both ends. */
void disc_copy_trim(const char *s, size_t n, char *out, size_t outlen);

/*
 * Calls fn for every line of text, without its newline, copied and
 * NUL-terminated; lines longer than MAX_LINE are passed cut, flagged.
 * A line with a NUL byte in what is kept is skipped, not shortened.
 * Stops at fn's first negative return.
 */
typedef int (*disc_line_fn)(const char *line, bool cut, void *userdata);
int disc_for_each_line(const char *text, size_t len, disc_line_fn fn, void *userdata);

/*
 * The next item of a list separated by commas and blanks ("*, ::",
 * "imap pop3"), not NUL-terminated: its start, its length in *ret_len, and
 * *cursor moved past it.  NULL at the end of the list.
 */
const char *disc_list_next(const char **cursor, size_t *ret_len);

/* Where to connect for a listening address: loopback for a wildcard. */
void disc_connect_address(const char *listen, char *out, size_t outlen);

/*
 * Chooses one address from a list ("*, ::" or "a b"): IPv4 wildcard first,
 * then the IPv6 wildcard, else the first entry.  Returns false for an
 * empty list (nothing listens).
 */
bool disc_pick_address(const char *list, char *out, size_t outlen);

/* A decimal port 0..65535, or -1. */
int disc_parse_port(const char *s);

/*
 * A name that the leading wildcard "*.suffix" covers, to probe a server
 * that has no literal name: one label of certwatch's own before suffix.
 */
#define DISC_WILDCARD_LABEL "certwatch-probe"
void disc_wildcard_name(const char *wildcard, char *out, size_t outlen);

/*
 * A bundle: the files a daemon names, as one text (discover-bundle.c reads
 * it, discover-files.c writes it).  Each section is a header line
 * "@@ KIND LENGTH PATH" and LENGTH bytes, then a newline.  Kinds:
 *   c  a command's output (PATH describes the command)
 *   f  a file's contents
 *   d  a directory's entries, one name a line, sorted
 *   x  PATH is a regular file (no contents)
 *   m  PATH could not be read: the contents say why
 */
#define DISC_MAX_SECTIONS 512      /* sections of a bundle */
#define DISC_MAX_FILE (1u << 20)   /* bytes of one file read into a bundle */

struct disc_section {
	char kind;
	char path[MAX_VALUE];
	const char *text;
	size_t len;
};

/* The section at *cursor (0 for the first), moving *cursor past it; false at the end. */
bool disc_section_next(const char *text, size_t len, size_t *cursor, struct disc_section *ret);

/* The first section of one of kinds ("fdxm") for path; false when there is none. */
bool disc_section_find(const char *text, size_t len, const char *kinds, const char *path,
		       struct disc_section *ret);
