/*
 * fuzz-x509-names.c - harness for certificate name matching: the input is
 * split at NUL bytes into a host name to check and a certificate's SAN
 * entries.  It aborts when x509_name_matches() breaks RFC 6125 as
 * x509.h states it (a match must survive a change of case and a
 * trailing dot on the host; without a wildcard, pattern and host are the
 * same name; a wildcard stands for exactly one non-empty label, and never
 * for part of an address), or when cert_info_covers() says a certificate
 * covers the host while none of its SANs matches it as a name or an equal
 * address, or looks at anything but the SANs (the subject's CN is the host
 * itself here, and a certificate without SANs covers nothing).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "x509.h"

#define MAX_SANS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static size_t len_without_dot(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

static int is_address(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static int same_address(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	return inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1 &&
	       memcmp(x, y, 16) == 0;
}

/* What any match of pattern and host implies. */
static void check_match(const char *pattern, const char *host)
{
	size_t pn = len_without_dot(pattern), hn = len_without_dot(host);
	const char *dot;

	check(pn > 0 && hn > 0);
	if (pn < 2 || pattern[0] != '*' || pattern[1] != '.') {
		check(pn == hn && strncasecmp(pattern, host, pn) == 0);
		return;
	}
	/* "*.rest" against "label.rest". */
	dot = memchr(host, '.', hn);
	check(!is_address(host) && dot && dot > host);
	check((size_t)(host + hn - dot) == pn - 1 && strncasecmp(dot, pattern + 1, pn - 1) == 0);
}

/* The same question with the host in upper case and with a trailing dot. */
static void check_variants(const char *pattern, const char *host, int matched)
{
	size_t n = strlen(host);
	char *v = malloc(n + 2);

	check(v != NULL);
	for (size_t i = 0; i <= n; i++)
		v[i] = (char)toupper((unsigned char)host[i]);
	check(x509_name_matches(pattern, v) == matched);
	if (n > 0 && host[n - 1] != '.') {
		memcpy(v, host, n);
		memcpy(v + n, ".", 2);
		check(x509_name_matches(pattern, v) == matched);
	}
	free(v);
}

static void check_covers(char **sans, size_t n_sans, char *host)
{
	char subject[300];
	struct cert_info ci = { .subject = subject, .sans = sans, .n_sans = n_sans };
	int any = 0;

	snprintf(subject, sizeof(subject), "CN=%s", host);
	for (size_t i = 0; i < n_sans; i++)
		any |= is_address(host) ? same_address(host, sans[i]) :
					  x509_name_matches(sans[i], host);
	check(cert_info_covers(&ci, host) == any);
	ci.n_sans = 0;
	check(!cert_info_covers(&ci, host));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *host, *sans[MAX_SANS], *p, *end;
	size_t n_sans = 0;

	check(copy != NULL);
	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	host = copy;
	for (p = host + strlen(host); p < end && n_sans < MAX_SANS; p += strlen(p))
		sans[n_sans++] = ++p;
	if (strlen(host) < 256) {
		for (size_t i = 0; i < n_sans; i++) {
			int m = x509_name_matches(sans[i], host);

			if (m)
				check_match(sans[i], host);
			check_variants(sans[i], host, m);
		}
		check_covers(sans, n_sans, host);
	}
	free(copy);
	return 0;
}
