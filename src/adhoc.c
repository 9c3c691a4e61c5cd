/*
 * adhoc.c - the options of one endpoint on the command line (see adhoc.h).
 *
 * One row per option: its spelling, its --help entry, and the function
 * that checks and keeps its value.  Each value is checked when it is read,
 * so the refusal names what the user wrote; what depends on several
 * options (an endpoint at all, --cert under --key) is checked once in
 * adhoc_finish().  Every refusal says what was wrong and what to write.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "adhoc.h"
#include "cli.h"
#include "probe.h"
#include "starttls.h"
#include "util.h"

#define HTTPS_PORT 443

__attribute__((format(printf, 2, 3)))
static int fail(struct adhoc *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->error, sizeof(a->error), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A port number, 1 to 65535, and nothing after it. */
static int parse_port(const char *s, uint16_t *ret_port)
{
	unsigned long port;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	port = strtoul(s, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return -EINVAL;
	*ret_port = (uint16_t)port;
	return 0;
}

/* HOST:PORT, or [ADDRESS]:PORT, so that an IPv6 address's colons are not the port's. */
static int take_connect(struct adhoc *a, const char *s)
{
	const char *colon, *host = s, *host_end;

	if (s[0] == '[') {
		host = s + 1;
		host_end = strchr(host, ']');
		colon = host_end && host_end[1] == ':' ? host_end + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		host_end = colon && !memchr(s, ':', (size_t)(colon - s)) ? colon : NULL;
	}
	if (!colon || !host_end || host_end == host ||
	    (size_t)(host_end - host) >= sizeof(a->host_buf) || parse_port(colon + 1, &a->port) < 0)
		return fail(a, "--connect %s: write HOST:PORT, or [ADDRESS]:PORT for IPv6, with a "
			    "port from 1 to 65535", s);
	memcpy(a->host_buf, host, (size_t)(host_end - host));
	a->host_buf[host_end - host] = '\0';
	a->host = a->host_buf;
	return 0;
}

/* A name or an address alone; an IPv6 address may come in brackets. */
static int take_hostname(struct adhoc *a, const char *s)
{
	size_t len = strlen(s);
	const char *colon;

	if (len >= sizeof(a->host_buf))
		return fail(a, "--hostname: a host name has at most %zu characters; write the "
			    "name or address of the endpoint", sizeof(a->host_buf) - 1);
	a->host = s;
	if (len > 2 && s[0] == '[' && s[len - 1] == ']') {
		memcpy(a->host_buf, s + 1, len - 2);
		a->host_buf[len - 2] = '\0';
		a->host = a->host_buf;
	}
	colon = strchr(a->host, ':');
	if (a->host[0] == '\0' || (colon && !strchr(colon + 1, ':')))
		return fail(a, "--hostname \"%s\": write the host name or address alone, the port "
			    "with --port PORT (or both as --connect HOST:PORT)", s);
	return 0;
}

static int take_port(struct adhoc *a, const char *s)
{
	if (parse_port(s, &a->port) < 0)
		return fail(a, "--port %s is not a port; write a number from 1 to 65535", s);
	return 0;
}

static int take_starttls(struct adhoc *a, const char *s)
{
	a->starttls = starttls_lookup(s);
	if (a->starttls < 0)
		return fail(a, "--starttls %s is not a protocol certwatch speaks; write one of %s",
			    s, starttls_names());
	return 0;
}

static int take_key_type(struct adhoc *a, const char *s)
{
	int k = key_type_from_string(s);

	if (k < 0)
		return fail(a, "--key-type %s is not a key type; write rsa or ecdsa (or auto, the "
			    "default: the --cert's type; or any: whichever the server prefers)", s);
	a->key_type = k;
	return 0;
}

/* A host name or an address, as ehlo-name in the configuration. */
static int take_ehlo_name(struct adhoc *a, const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '-' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:") != n)
		return fail(a, "--ehlo-name %s is not a host name or address; write this host's "
			    "name as mail servers know it, such as monitor.example.com", s);
	return 0;
}

static int needs_value(struct adhoc *a, enum adhoc_option o);

static int take_name(struct adhoc *a, const char *s)
{
	const char *why = host_name_problem(s);

	if (!s[0])
		return needs_value(a, ADHOC_NAME);
	if (why)
		return fail(a, "--name %s %s", s, why);
	return 0;
}

static int take_timeout(struct adhoc *a, const char *s)
{
	if (parse_duration(s, &a->timeout_usec) < 0 || a->timeout_usec == 0)
		return fail(a, "--timeout %s: write a time above zero, in seconds (\"10\") or with "
			    "a unit (\"500ms\", \"2s\", \"1m\")", s);
	return 0;
}

static const struct row {
	const char *name;          /* the long option */
	char short_opt;            /* 0: none */
	const char *arg;           /* its value, in --help and in refusals */
	const char *help;          /* NULL: made by adhoc_help() */
	int (*take)(struct adhoc *a, const char *s);   /* NULL: any text but "" */
} rows[_ADHOC_OPTION_MAX] = {
	[ADHOC_CONNECT] = { "connect", 0, "HOST:PORT", "probe this endpoint instead of the "
		"configured ones ([ADDRESS]:PORT for IPv6)", take_connect },
	[ADHOC_HOSTNAME] = { "hostname", 'H', "HOST", "the same, the port apart", take_hostname },
	[ADHOC_PORT] = { "port", 'p', "PORT", "with -H (default: the --starttls protocol's "
		"port, or 443)", take_port },
	[ADHOC_STARTTLS] = { "starttls", 0, "PROTO", NULL, take_starttls },
	[ADHOC_NAME] = { "name", 0, "NAME", "SNI, and the name the certificate must cover",
		take_name },
	[ADHOC_CERT] = { "cert", 0, "FILE", "compare with this certificate (or full chain)",
		NULL },
	[ADHOC_CHAIN] = { "chain", 0, "FILE", "with --cert: a separate chain file", NULL },
	[ADHOC_KEY] = { "key", 0, "FILE", "with --cert: the private key, checked against the "
		"certificate", NULL },
	[ADHOC_KEY_TYPE] = { "key-type", 0, "TYPE", "rsa or ecdsa: ask a server that has one "
		"certificate per key type for that one; auto (the default): the --cert's type; "
		"any: whichever it prefers", take_key_type },
	[ADHOC_EHLO_NAME] = { "ehlo-name", 0, "NAME", "the name to greet SMTP and LMTP servers "
		"with (default: this host's own)", take_ehlo_name },
	[ADHOC_TIMEOUT] = { "timeout", 't', "DURATION", NULL, take_timeout },
};

static int getopt_val(enum adhoc_option o)
{
	return rows[o].short_opt ? rows[o].short_opt : ADHOC_GETOPT_VAL + (int)o;
}

void adhoc_init(struct adhoc *a)
{
	*a = (struct adhoc) { .starttls = -1, .key_type = KEY_TYPE_AUTO };
}

void adhoc_getopt_init(struct adhoc_getopt *g, const char *own_short,
		       const struct option *own_long)
{
	size_t n = 0, len = strlen(own_short);

	assert(len < sizeof(g->shortopts));
	memcpy(g->shortopts, own_short, len + 1);
	for (; own_long && own_long[n].name; n++) {
		assert(n < ADHOC_GETOPT_MAX - _ADHOC_OPTION_MAX);
		g->longopts[n] = own_long[n];
	}
	for (int o = 0; o < _ADHOC_OPTION_MAX; o++) {
		g->longopts[n++] = (struct option) { rows[o].name, required_argument, NULL,
						     getopt_val(o) };
		if (rows[o].short_opt) {
			assert(len + 3 <= sizeof(g->shortopts));
			g->shortopts[len++] = rows[o].short_opt;
			g->shortopts[len++] = ':';
			g->shortopts[len] = '\0';
		}
	}
	g->longopts[n] = (struct option) {};
}

const char *adhoc_option_name(int c)
{
	for (int o = 0; o < _ADHOC_OPTION_MAX; o++)
		if (c == getopt_val(o))
			return rows[o].name;
	return NULL;
}

static int needs_value(struct adhoc *a, enum adhoc_option o)
{
	return fail(a, "--%s needs a value; write --%s %s", rows[o].name, rows[o].name,
		    rows[o].arg);
}

int adhoc_option(struct adhoc *a, int c, const char *arg)
{
	for (int o = 0; o < _ADHOC_OPTION_MAX; o++) {
		if (c != getopt_val(o))
			continue;
		a->given[o] = arg;
		if (rows[o].take)
			return rows[o].take(a, arg) < 0 ? -EINVAL : 1;
		if (arg[0] == '\0')
			return needs_value(a, (enum adhoc_option)o);
		return 1;
	}
	return 0;
}

bool adhoc_given(const struct adhoc *a)
{
	return a->given[ADHOC_CONNECT] || a->given[ADHOC_HOSTNAME];
}

int adhoc_finish(struct adhoc *a, unsigned alone, const char *configured)
{
	const char *endpoint = a->given[ADHOC_CONNECT] ? "--connect" : "--hostname";

	if (a->given[ADHOC_CONNECT] && (a->given[ADHOC_HOSTNAME] || a->given[ADHOC_PORT]))
		return fail(a, "--connect %s names the host and the port already; write either "
			    "--connect HOST:PORT or --hostname HOST --port PORT",
			    a->given[ADHOC_CONNECT]);
	if (adhoc_given(a) && configured)
		return fail(a, "%s checks one endpoint and %s the configured ones; give one or "
			    "the other", endpoint, configured);
	for (int o = 0; o < _ADHOC_OPTION_MAX; o++)
		if (!adhoc_given(a) && a->given[o] && !(alone & ADHOC_MASK(o)))
			return fail(a, "--%s describes an endpoint given on the command line, and "
				    "there is none: add --connect HOST:PORT (or --hostname HOST), "
				    "or for the configured endpoints set %s in the configuration",
				    rows[o].name, rows[o].name);
	for (int o = ADHOC_CHAIN; o <= ADHOC_KEY; o++)
		if (a->given[o] && !a->given[ADHOC_CERT])
			return fail(a, "--%s goes with --cert: add --cert FILE, the certificate "
				    "it belongs to", rows[o].name);
	if (a->given[ADHOC_HOSTNAME] && !a->given[ADHOC_PORT])
		a->port = a->starttls >= 0 ? starttls_drivers[a->starttls].default_port :
			  HTTPS_PORT;
	return 0;
}

int adhoc_items(const struct adhoc *a, struct conf **ret_conf,
		struct check_item **ret_items, size_t *ret_n)
{
	struct conf *c = NULL;
	struct check_item *it;
	int r;

	r = conf_new_default(&c);
	if (r < 0)
		return r;
	it = calloc(1, sizeof(*it));
	if (!it) {
		conf_free(c);
		return -ENOMEM;
	}
	check_item_adhoc(it, c, a->host, a->port, a->starttls, a->given[ADHOC_NAME],
			 a->given[ADHOC_CERT], a->given[ADHOC_CHAIN], a->given[ADHOC_KEY]);
	it->key_type = a->key_type;
	if (a->given[ADHOC_EHLO_NAME])
		it->target.helo_name = a->given[ADHOC_EHLO_NAME];
	if (a->timeout_usec)
		it->target.timeout_usec = a->timeout_usec;
	*ret_conf = c;
	*ret_items = it;
	*ret_n = 1;
	return 0;
}

void adhoc_help(FILE *f, const char *timeout_help)
{
	char starttls[512];

	snprintf(starttls, sizeof(starttls), "speak this protocol's STARTTLS first: one of %s",
		 starttls_names());
	for (int o = 0; o < _ADHOC_OPTION_MAX; o++)
		cli_help_option(f, rows[o].short_opt, rows[o].name, rows[o].arg,
				o == ADHOC_STARTTLS ? starttls :
				o == ADHOC_TIMEOUT ? timeout_help : rows[o].help);
}
