/*
 * test-adhoc.c - the endpoint options that `certwatch check` and the
 * plugin share: every good command line and what it describes, every bad
 * one and its refusal, read the way each front end reads its command line
 * (its own options around them), and the same words from both.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "adhoc.h"
#include "cli.h"
#include "probe.h"
#include "starttls.h"
#include "util.h"
#include "../tests/tap.h"

#define MAX_ARGS 20

/* The surroundings of each front end: its own options, and what it takes without -H. */
static const struct option check_own[] = {
	{ "config",     required_argument, NULL, 'c' },
	{ "service",    required_argument, NULL, 's' },
	{ "json",       no_argument,       NULL, 0x100 },
	{ "help",       no_argument,       NULL, 'h' },
	{}
};
static const struct option plugin_own[] = {
	{ "config",     required_argument, NULL, 0x100 },
	{ "service",    required_argument, NULL, 0x101 },
	{ "warning",    required_argument, NULL, 'w' },
	{ "critical",   required_argument, NULL, 'c' },
	{ "verbose",    no_argument,       NULL, 'v' },
	{}
};
static const struct frontend {
	const char *name, *shortopts;
	const struct option *longopts;
	int service;                   /* getopt's value of --service */
	unsigned alone;
} check_fe = { "check", ":c:s:h", check_own, 's', 0 },
  plugin_fe = { "nagios", ":w:c:vVh", plugin_own, 0x101, ADHOC_MASK(ADHOC_TIMEOUT) };

/* Reads args (NULL-terminated) as fe would; 0 or -EINVAL with the reason in a->error. */
static int parse(const struct frontend *fe, const char *const *args, struct adhoc *a)
{
	char *argv[MAX_ARGS + 2] = { (char *)fe->name };
	struct adhoc_getopt g;
	const char *service = NULL;
	int argc = 1, c, r;

	for (; args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	adhoc_init(a);
	adhoc_getopt_init(&g, fe->shortopts, fe->longopts);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) >= 0) {
		r = adhoc_option(a, c, optarg);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (c == fe->service)
			service = optarg;
		else if (c == '?' || c == ':') {
			cli_getopt_refusal(c, optopt, argv[optind - 1], a->error, sizeof(a->error));
			return -EINVAL;
		}
	}
	return adhoc_finish(a, fe->alone, service ? "--service" : NULL);
}

static const struct good {
	const char *args[MAX_ARGS];
	const char *host;
	unsigned port;
	const char *protocol;          /* "tls" or the STARTTLS driver */
	const char *name, *cert, *chain, *key;
	const char *key_type;
	uint64_t timeout_usec;         /* 0: not given */
} goods[] = {
	{ .args = { "--connect", "127.0.0.1:993" },
	  .host = "127.0.0.1", .port = 993, .protocol = "tls" },
	{ .args = { "--connect=mail.test:993" },
	  .host = "mail.test", .port = 993, .protocol = "tls" },
	{ .args = { "--connect", "[::1]:993" },
	  .host = "::1", .port = 993, .protocol = "tls" },
	{ .args = { "-H", "mail.test" },
	  .host = "mail.test", .port = 443, .protocol = "tls" },
	{ .args = { "-H", "mail.test", "--starttls", "imap" },
	  .host = "mail.test", .port = 143, .protocol = "imap" },
	{ .args = { "--starttls", "sieve", "--hostname", "mail.test" },
	  .host = "mail.test", .port = 4190, .protocol = "sieve" },
	{ .args = { "--hostname", "mail.test", "--port", "10143", "--starttls", "imap" },
	  .host = "mail.test", .port = 10143, .protocol = "imap" },
	{ .args = { "-H", "[2001:db8::1]", "-p", "25" },
	  .host = "2001:db8::1", .port = 25, .protocol = "tls" },
	{ .args = { "-H", "2001:db8::1", "-p25" },
	  .host = "2001:db8::1", .port = 25, .protocol = "tls" },
	{ .args = { "--connect", "mx.test:25", "--starttls", "smtp", "--name", "mx.test",
		    "--cert", "c.pem", "--chain", "ch.pem", "--key", "k.pem", "--key-type", "rsa",
		    "--timeout", "2s" },
	  .host = "mx.test", .port = 25, .protocol = "smtp", .name = "mx.test", .cert = "c.pem",
	  .chain = "ch.pem", .key = "k.pem", .key_type = "rsa", .timeout_usec = 2000000 },
	{ .args = { "-H", "web.test", "--key-type", "ecdsa", "-t", "500ms" },
	  .host = "web.test", .port = 443, .protocol = "tls", .key_type = "ecdsa",
	  .timeout_usec = 500000 },
	{ .args = { "-H", "web.test", "-t", "10" },
	  .host = "web.test", .port = 443, .protocol = "tls", .timeout_usec = 10000000 },
	{ .args = { "-H", "web.test", "--key-type", "any" },
	  .host = "web.test", .port = 443, .protocol = "tls", .key_type = "any" },
	{ .args = { "-H", "web.test", "--cert", "c.pem", "--key", "k.pem" },
	  .host = "web.test", .port = 443, .protocol = "tls", .cert = "c.pem", .key = "k.pem" },
};

static const struct bad {
	const char *args[MAX_ARGS];
	const char *error;
} bads[] = {
	{ { "--connect", "localhost" }, "--connect localhost: write HOST:PORT, or [ADDRESS]:PORT "
	  "for IPv6, with a port from 1 to 65535" },
	{ { "--connect", "h:0" }, "--connect h:0: write HOST:PORT, or [ADDRESS]:PORT for IPv6, "
	  "with a port from 1 to 65535" },
	{ { "--connect", "h:65536" }, "--connect h:65536: write HOST:PORT, or [ADDRESS]:PORT for "
	  "IPv6, with a port from 1 to 65535" },
	{ { "--connect", "h:+1" }, "--connect h:+1: write HOST:PORT, or [ADDRESS]:PORT for "
	  "IPv6, with a port from 1 to 65535" },
	{ { "--connect", "::1:993" }, "--connect ::1:993: write HOST:PORT, or [ADDRESS]:PORT for "
	  "IPv6, with a port from 1 to 65535" },
	{ { "--connect", "[::1]" }, "--connect [::1]: write HOST:PORT, or [ADDRESS]:PORT for "
	  "IPv6, with a port from 1 to 65535" },
	{ { "--connect", ":993" }, "--connect :993: write HOST:PORT, or [ADDRESS]:PORT for "
	  "IPv6, with a port from 1 to 65535" },
	{ { "-H", "h", "-p", "99999" }, "--port 99999 is not a port; write a number from 1 to "
	  "65535" },
	{ { "-H", "h", "--port", "4x3" }, "--port 4x3 is not a port; write a number from 1 to "
	  "65535" },
	{ { "-H", "h:443" }, "--hostname \"h:443\": write the host name or address alone, the "
	  "port with --port PORT (or both as --connect HOST:PORT)" },
	{ { "-H", "" }, "--hostname \"\": write the host name or address alone, the port with "
	  "--port PORT (or both as --connect HOST:PORT)" },
	{ { "-H", "h", "--starttls", "smtpx" }, "--starttls smtpx is not a protocol certwatch "
	  "speaks; write one of smtp, " },
	{ { "-H", "h", "--key-type", "dsa" }, "--key-type dsa is not a key type; write rsa or "
	  "ecdsa (or auto, the default: the --cert's type; or any: whichever the server "
	  "prefers)" },
	{ { "-H", "h", "--name", "b\xc3\xbc" "cher.example" }, "--name b\xc3\xbc" "cher.example is in "
	  "Unicode: write its A-label" },
	{ { "-H", "h", "--name", "*.example.com" }, "--name *.example.com is a wildcard: write a "
	  "name it covers" },
	{ { "-H", "h", "--name", "" }, "--name needs a value; write --name NAME" },
	{ { "-H", "h", "-t", "soon" }, "--timeout soon: write a time above zero, in seconds "
	  "(\"10\") or with a unit (\"500ms\", \"2s\", \"1m\")" },
	{ { "-H", "h", "--timeout", "0" }, "--timeout 0: write a time above zero, in seconds "
	  "(\"10\") or with a unit (\"500ms\", \"2s\", \"1m\")" },
	{ { "-H", "h", "--name", "" }, "--name needs a value; write --name NAME" },
	{ { "--cert", "", "-H", "h" }, "--cert needs a value; write --cert FILE" },
	{ { "--connect", "h:1", "-H", "h" }, "--connect h:1 names the host and the port already; "
	  "write either --connect HOST:PORT or --hostname HOST --port PORT" },
	{ { "--connect", "h:1", "-p", "2" }, "--connect h:1 names the host and the port already; "
	  "write either --connect HOST:PORT or --hostname HOST --port PORT" },
	{ { "-H", "h", "--service", "web" }, "--hostname checks one endpoint and --service the "
	  "configured ones; give one or the other" },
	{ { "--service", "web", "--connect", "h:1" }, "--connect checks one endpoint and "
	  "--service the configured ones; give one or the other" },
	{ { "--name", "mail.test" }, "--name describes an endpoint given on the command line, "
	  "and there is none: add --connect HOST:PORT (or --hostname HOST), or for the "
	  "configured endpoints set name in the configuration" },
	{ { "-p", "443" }, "--port describes an endpoint given on the command line, and there is "
	  "none: add --connect HOST:PORT (or --hostname HOST), or for the configured endpoints "
	  "set port in the configuration" },
	{ { "--key-type", "rsa" }, "--key-type describes an endpoint given on the command line, "
	  "and there is none: add --connect HOST:PORT (or --hostname HOST), or for the "
	  "configured endpoints set key-type in the configuration" },
	{ { "-H", "h", "--key", "k.pem" }, "--key goes with --cert: add --cert FILE, the "
	  "certificate it belongs to" },
	{ { "-H", "h", "--chain", "ch.pem" }, "--chain goes with --cert: add --cert FILE, the "
	  "certificate it belongs to" },
	{ { "-H" }, "option -H needs a value" },
	{ { "-H", "h", "--key-type" }, "option --key-type needs a value" },
	{ { "-H", "h", "--key-types", "rsa" }, "unknown option --key-types" },
};

static void test_good(const struct frontend *fe, const struct good *t, const char *line)
{
	struct adhoc a;
	struct conf *c = NULL;
	struct check_item *items = NULL;
	size_t n = 0;
	int r = parse(fe, t->args, &a);

	if (!ok(r == 0, "%s %s: accepted", fe->name, line)) {
		printf("#   refused: %s\n", a.error);
		return;
	}
	r = adhoc_items(&a, &c, &items, &n);
	ok(r == 0 && n == 1 && strcmp(items[0].target.host, t->host) == 0 &&
	   items[0].target.port == t->port && strcmp(check_item_protocol(&items[0]),
						      t->protocol) == 0,
	   "%s %s: %s port %u over %s", fe->name, line, t->host, t->port, t->protocol);
	if (r < 0)
		return;
	ok((items[0].target.sni == t->name || strcmp(items[0].target.sni, t->name) == 0) &&
	   (items[0].cert == t->cert || strcmp(items[0].cert, t->cert) == 0) &&
	   (items[0].chain == t->chain || strcmp(items[0].chain, t->chain) == 0) &&
	   (items[0].key == t->key || strcmp(items[0].key, t->key) == 0),
	   "%s %s: the name and files as given", fe->name, line);
	is_str(key_type_to_string(items[0].key_type),
	       t->key_type ? t->key_type : "auto", "%s %s: the key type", fe->name, line);
	ok(items[0].target.timeout_usec == (t->timeout_usec ? t->timeout_usec : c->timeout_usec),
	   "%s %s: the probe's deadline is %s", fe->name, line,
	   t->timeout_usec ? "the one given" : "the configuration's default");
	check_items_free(items, n);
	conf_free(c);
}

static void join(const char *const *args, char *out, size_t outlen)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; args[i] && len < outlen; i++)
		len += (size_t)snprintf(out + len, outlen - len, "%s%s", i ? " " : "",
					args[i][0] ? args[i] : "\"\"");
}

static void test_bad(const struct bad *t)
{
	struct adhoc ac, ap;
	char line[256];
	int rc = parse(&check_fe, t->args, &ac), rp = parse(&plugin_fe, t->args, &ap);

	join(t->args, line, sizeof(line));
	ok(rc < 0 && strncmp(ac.error, t->error, strlen(t->error)) == 0,
	   "check %s: refused with \"%s\"", line, t->error);
	if (rc == 0 || strncmp(ac.error, t->error, strlen(t->error)) != 0)
		printf("#   got: %s\n", rc < 0 ? ac.error : "(accepted)");
	ok(rp < 0 && strcmp(ap.error, ac.error) == 0, "nagios %s: refused in the same words",
	   line);
}

/* The one difference: the plugin's -t also bounds its whole run, so it stands alone. */
static void test_timeout_alone(void)
{
	static const char *const args[] = { "-t", "20", NULL };
	struct adhoc a;

	ok(parse(&check_fe, args, &a) < 0 && strstr(a.error, "--timeout describes an endpoint"),
	   "check -t 20 without an endpoint: refused, set timeout in the configuration");
	ok(parse(&plugin_fe, args, &a) == 0 && a.timeout_usec == 20 * USEC_PER_SEC &&
	   !adhoc_given(&a), "nagios -t 20 without -H: the plugin's whole run, 20 s");
}

static void test_help(void)
{
	char *text = NULL;
	size_t len = 0, widest = 0;
	FILE *f = open_memstream(&text, &len);

	adhoc_help(f, "TIMEOUT WORDS");
	fclose(f);
	like(text, "  -H, --hostname HOST   the same, the port apart\n", "help: -H's entry");
	like(text, "      --connect HOST:PORT\n                        probe this endpoint",
	     "help: a long label puts the text on the next line");
	like(text, "  -t, --timeout DURATION\n                        TIMEOUT WORDS\n",
	     "help: -t in the front end's words");
	like(text, "      --key-type TYPE   rsa or ecdsa", "help: --key-type's entry");
	for (size_t i = 0; i < starttls_n_drivers; i++)
		like(text, starttls_drivers[i].name, "help: --starttls lists %s",
		     starttls_drivers[i].name);
	for (const char *line = text; *line; line += strcspn(line, "\n") + 1)
		if (strcspn(line, "\n") > widest)
			widest = strcspn(line, "\n");
	ok(widest <= 78, "help: the entries wrap to 78 columns (the widest line has %zu)", widest);
	free(text);
}

int main(void)
{
	char line[256];

	for (size_t i = 0; i < ELEMENTSOF(goods); i++) {
		join(goods[i].args, line, sizeof(line));
		test_good(&check_fe, &goods[i], line);
		test_good(&plugin_fe, &goods[i], line);
	}
	for (size_t i = 0; i < ELEMENTSOF(bads); i++)
		test_bad(&bads[i]);
	test_timeout_alone();
	test_help();
	return tap_done();
}
