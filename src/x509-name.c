/*
 * x509-name.c - whether a certificate covers a name: RFC 6125 matching of
 * DNS names (x509_name_matches) and the comparison of IP addresses as
 * addresses (cert_info_covers).  Never the subject's CN.
 *
 * Names come from certificates and configurations and are untrusted: a
 * name that is not plain DNS syntax (an escaped NUL, a space, a stray '*')
 * matches nothing rather than loosely.  Pure: no I/O, no allocation.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "x509.h"

/* The first len bytes of s spell an IPv4 or IPv6 address. */
static bool is_ip_literal(const char *s, size_t len)
{
	unsigned char addr[16];
	char buf[INET6_ADDRSTRLEN];

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

/*
 * A host name as DNS spells it: letters, digits, '-', '_', non-empty
 * labels.  Anything else (a NUL turned "\x00" by escaping, a space, a
 * stray '*') makes the name unmatchable rather than loosely matched.
 */
static bool labels_valid(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-' || c == '_') {
			label++;
		} else {
			return false;
		}
	}
	return label > 0;
}

static bool ascii_equal_n(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static size_t len_without_final_dot(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && s[len - 1] == '.' ? len - 1 : len;
}

bool x509_name_matches(const char *pattern, const char *host)
{
	size_t plen, hlen;
	const char *hrest;

	if (!pattern || !host)
		return false;
	plen = len_without_final_dot(pattern);
	hlen = len_without_final_dot(host);
	if (!labels_valid(host, hlen))
		return false;

	if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* RFC 6125 6.4.3, narrowed as the CA/Browser Forum allows it. */
		const char *prest = pattern + 2;
		size_t prest_len = plen - 2;

		if (!labels_valid(prest, prest_len) || !memchr(prest, '.', prest_len))
			return false;
		/* An address is not a name: no wildcard stands for an octet, final dot or not. */
		if (is_ip_literal(host, hlen))
			return false;
		hrest = memchr(host, '.', hlen);
		if (!hrest)
			return false;
		hrest++;
		return (size_t)(host + hlen - hrest) == prest_len &&
		       ascii_equal_n(prest, hrest, prest_len);
	}
	return labels_valid(pattern, plen) && plen == hlen &&
	       ascii_equal_n(pattern, host, plen);
}

bool cert_info_covers(const struct cert_info *ci, const char *name)
{
	unsigned char want[16], have[16];
	int family = AF_UNSPEC;
	size_t alen = 0;

	if (!ci || !name || !*name)
		return false;
	if (inet_pton(AF_INET, name, want) == 1) {
		family = AF_INET;
		alen = 4;
	} else if (inet_pton(AF_INET6, name, want) == 1) {
		family = AF_INET6;
		alen = 16;
	}
	for (size_t i = 0; i < ci->n_sans; i++) {
		if (family == AF_UNSPEC) {
			if (x509_name_matches(ci->sans[i], name))
				return true;
		} else if (inet_pton(family, ci->sans[i], have) == 1 &&
			   memcmp(want, have, alen) == 0) {
			return true;
		}
	}
	return false;
}
