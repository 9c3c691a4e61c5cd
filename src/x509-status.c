/*
 * x509-status.c - a pair's status: its names (x509_status_to_string()),
 * which statuses a daemon loads all the same, and pair_status(), which
 * every reader of the pair (x509.c, x509-file.c, x509-postfix.c) sets it
 * through, so that none of them calls back into another.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "x509.h"
#include "x509-int.h"

static const char *const status_names[_X509_STATUS_MAX] = {
	[X509_VALID]         = "valid",
	[X509_MISSING]       = "missing",
	[X509_UNREADABLE]    = "unreadable",
	[X509_NOT_PEM]       = "not-pem",
	[X509_NO_CERT]       = "no-certificate",
	[X509_BAD_KEY]       = "bad-key",
	[X509_KEY_MISMATCH]  = "key-mismatch",
	[X509_CHAIN_ORDER]   = "chain-order",
	[X509_EXPIRED]       = "expired",
	[X509_NOT_YET_VALID] = "not-yet-valid",
	[X509_NAME_MISMATCH] = "name-mismatch",
	[X509_REFUSED]       = "refused",
};

const char *x509_status_to_string(enum x509_status s)
{
	return (unsigned)s < _X509_STATUS_MAX ? status_names[s] : "?";
}

bool x509_status_loadable(enum x509_status s)
{
	return s == X509_VALID || s == X509_CHAIN_ORDER || s == X509_EXPIRED ||
	       s == X509_NOT_YET_VALID || s == X509_NAME_MISMATCH;
}

__attribute__((format(printf, 3, 4)))
void pair_status(struct disk_pair *p, enum x509_status s, const char *fmt, ...)
{
	va_list ap;

	p->status = s;
	va_start(ap, fmt);
	msg_vset(&p->detail, X509_DETAIL_MAX, fmt, ap);
	va_end(ap);
}
