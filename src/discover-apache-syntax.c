/*
 * discover-apache-syntax.c - the syntax of Apache's configuration lines, for
 * discover-apache.c: words, quoting, which sections are conditional, which
 * directives make a block's endpoints, host names, <VirtualHost> addresses.
 * Pure: no state, no I/O; the text is untrusted and read within bounds.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "discover-apache-syntax.h"
#include "util.h"

size_t apache_words(const char *line, char words[][MAX_VALUE], size_t max)
{
	const char *p = line;
	size_t n = 0;

	for (;;) {
		size_t k = 0;

		p += strspn(p, " \t\r");
		if (!*p || (n == 0 && *p == '#') || n >= max)
			return n;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				if (k + 1 < MAX_VALUE)
					words[n][k++] = *p;
			}
			p += *p == '"';
		} else {
			for (; *p && !strchr(" \t\r", *p); p++)
				if (k + 1 < MAX_VALUE)
					words[n][k++] = *p;
		}
		words[n++][k] = '\0';
	}
}

bool apache_host_name(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return false;
	}
	return len > 0;
}

/* Apache's conditional sections, which discovery does not evaluate. */
static const char *const ap_conditionals[] = {
	"IfDefine", "IfModule", "IfVersion", "IfFile", "IfDirective", "IfSection", "If",
	"ElseIf", "Else",
};

static const char *const ap_matters[] = {
	"SSLEngine", "SSLCertificateFile", "SSLCertificateKeyFile", "SSLCertificateChainFile",
	"ServerName", "ServerAlias",
};

static bool ap_one_of(const char *word, size_t len, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncasecmp(word, list[i], len) == 0)
			return true;
	return false;
}

int apache_conditional(const char *word)
{
	int dir = 1;

	if (*word++ != '<')
		return 0;
	if (*word == '/') {
		word++;
		dir = -1;
	}
	return ap_one_of(word, strcspn(word, ">"), ap_conditionals,
			 ELEMENTSOF(ap_conditionals)) ? dir : 0;
}

bool apache_addr(const char *a, char *out, size_t outlen, int *ret_port)
{
	const char *colon = a[0] == '[' ? strstr(a, "]:") : strrchr(a, ':');
	char host[MAX_VALUE];
	int port;

	if (!colon || (port = disc_parse_port(colon + 1 + (a[0] == '['))) <= 0)
		return false;
	disc_copy_trim(a, (size_t)(colon - a) + (a[0] == '['), host, sizeof(host));
	if (strcmp(host, "_default_") == 0)
		snprintf(host, sizeof(host), "*");
	disc_connect_address(host, out, outlen);
	*ret_port = port;
	return true;
}

bool apache_matters(const char *word)
{
	return ap_one_of(word, strlen(word), ap_matters, ELEMENTSOF(ap_matters));
}
