/*
 * discover-result.c - struct discovered, what a parser found in a dump:
 * the one way to add an endpoint or a note to it, and freeing it.
 *
 * Both are bounded (DISCOVER_MAX_ENDPOINTS, DISCOVER_MAX_NOTES): a hostile
 * or enormous dump cannot make the output grow without end.  An endpoint
 * whose address, name or paths could not be written into certwatch.conf
 * as they are is dropped with a note, and every endpoint gets a name that
 * is valid and unique within its service.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "discover-int.h"

static void endpoint_done(struct discovered_endpoint *e)
{
	free(e->name);
	free(e->address);
	free(e->sni);
	free(e->cert);
	free(e->key);
}

void discovered_done(struct discovered *d)
{
	if (!d)
		return;
	free(d->cert);
	free(d->key);
	free(d->hostname);
	for (size_t i = 0; i < d->n_endpoints; i++)
		endpoint_done(&d->endpoints[i]);
	free(d->endpoints);
	for (size_t i = 0; i < d->n_notes; i++)
		free(d->notes[i]);
	free(d->notes);
	*d = (struct discovered){ 0 };
}

__attribute__((format(printf, 2, 0)))
static int vnote(struct discovered *d, const char *fmt, va_list ap)
{
	char buf[512];

	if (d->n_notes >= DISCOVER_MAX_NOTES)
		return 0;
	if (!d->notes && !(d->notes = calloc(DISCOVER_MAX_NOTES, sizeof(*d->notes))))
		return -ENOMEM;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (!(d->notes[d->n_notes] = strdup(buf)))
		return -ENOMEM;
	d->n_notes++;
	return 0;
}

int disc_note(struct discovered *d, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vnote(d, fmt, ap);
	va_end(ap);
	return r;
}

int disc_note_once(struct discovered *d, bool *noted, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*noted)
		return 0;
	*noted = true;
	va_start(ap, fmt);
	r = vnote(d, fmt, ap);
	va_end(ap);
	return r;
}

static bool valid_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static bool name_taken(const struct discovered *d, const char *name)
{
	for (size_t i = 0; i < d->n_endpoints; i++)
		if (strcmp(d->endpoints[i].name, name) == 0)
			return true;
	return false;
}

/* A valid endpoint name from base (anything), unique within d. */
static int unique_name(const struct discovered *d, const char *base, char out[MAX_NAME + 1])
{
	char clean[MAX_NAME + 1];
	size_t n = 0;

	for (const char *p = base; *p && n < MAX_NAME - 6; p++) {
		char c = valid_name_char(*p) ? *p : '-';
		if (n == 0 && (c == '.' || c == '-'))
			continue;
		clean[n++] = c;
	}
	while (n > 0 && clean[n - 1] == '-')
		n--;
	clean[n] = '\0';
	if (n == 0)
		snprintf(clean, sizeof(clean), "endpoint");
	snprintf(out, MAX_NAME + 1, "%s", clean);
	for (unsigned i = 2; name_taken(d, out); i++) {
		if (i > 99999)
			return -E2BIG;
		snprintf(out, MAX_NAME + 1, "%s-%u", clean, i);
	}
	return 0;
}

int disc_dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (s && !(*ret = strdup(s)))
		return -ENOMEM;
	return 0;
}

int disc_add_endpoint(struct discovered *d, const char *base, const char *address,
		      unsigned port, int starttls, const char *sni, const char *cert,
		      const char *key)
{
	struct discovered_endpoint *e;
	char name[MAX_NAME + 1];
	int r;

	if (port == 0 || port > 65535)
		return disc_note(d, "%s: port %u is not usable", disc_show(base).s, port);
	if (!disc_printable(address) || (sni && !disc_printable(sni)) ||
	    (cert && !disc_printable(cert)) || (key && !disc_printable(key)))
		return disc_note(d, "%s: skipped: a path or name holds control characters",
				 disc_show(base).s);
	if (d->n_endpoints >= DISCOVER_MAX_ENDPOINTS)
		return disc_note(d, "%s: skipped: more than %d endpoints", disc_show(base).s,
				 DISCOVER_MAX_ENDPOINTS);
	if (!d->endpoints &&
	    !(d->endpoints = calloc(DISCOVER_MAX_ENDPOINTS, sizeof(*d->endpoints))))
		return -ENOMEM;
	if ((r = unique_name(d, base, name)) < 0)
		return disc_note(d, "%s: skipped: no unique name left", disc_show(base).s);
	e = &d->endpoints[d->n_endpoints];
	*e = (struct discovered_endpoint){ .port = (uint16_t)port, .starttls = starttls };
	if ((r = disc_dup_or_null(name, &e->name)) < 0 ||
	    (r = disc_dup_or_null(address, &e->address)) < 0 ||
	    (r = disc_dup_or_null(sni, &e->sni)) < 0 ||
	    (r = disc_dup_or_null(cert, &e->cert)) < 0 ||
	    (r = disc_dup_or_null(key, &e->key)) < 0) {
		endpoint_done(e);
		return r;
	}
	d->n_endpoints++;
	return 0;
}
