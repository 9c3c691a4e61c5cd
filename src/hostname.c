/*
 * hostname.c - the host's own fully-qualified name; see hostname.h.
 *
 * The name goes on the wire in a command line, so only the characters of a
 * host name are taken from the system; anything else falls back on
 * "localhost.localdomain", which every MTA accepts from a client it does
 * not know.
 */
#include "config.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hostname.h"

#define FALLBACK_DOMAIN "localdomain"

static bool plain_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > HOSTNAME_MAX - sizeof(FALLBACK_DOMAIN) || s[0] == '.' || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

/* Fully qualified: a dot inside, not at the end ("host." is the root's child). */
static bool qualified(const char *s)
{
	const char *dot = plain_name(s) ? strchr(s, '.') : NULL;

	return dot && dot[1] != '\0' && s[strlen(s) - 1] != '.';
}

void hostname_choose(const char *nodename, const char *canonical, char out[HOSTNAME_MAX + 1])
{
	if (qualified(nodename))
		snprintf(out, HOSTNAME_MAX + 1, "%s", nodename);
	else if (qualified(canonical))
		snprintf(out, HOSTNAME_MAX + 1, "%s", canonical);
	else if (plain_name(nodename) && !strchr(nodename, '.'))
		snprintf(out, HOSTNAME_MAX + 1, "%s." FALLBACK_DOMAIN, nodename);
	else
		snprintf(out, HOSTNAME_MAX + 1, "localhost." FALLBACK_DOMAIN);
}

const char *hostname_fqdn(void)
{
	static char name[HOSTNAME_MAX + 1];
	char node[HOSTNAME_MAX + 1] = "";
	struct addrinfo hints = { .ai_flags = AI_CANONNAME }, *ai = NULL;

	if (name[0])
		return name;
	if (gethostname(node, sizeof(node) - 1) < 0)
		node[0] = '\0';
	/* Only a short name needs the resolver; /etc/hosts usually answers. */
	if (plain_name(node) && !qualified(node) && getaddrinfo(node, NULL, &hints, &ai) != 0)
		ai = NULL;
	hostname_choose(node, ai ? ai->ai_canonname : NULL, name);
	if (ai)
		freeaddrinfo(ai);
	return name;
}
