/*
 * test-conf.c - the configuration loader: schema, inheritance, include
 * directory, every error message with its FILE:LINE, the ownership rule,
 * the limits and the dump.  Writes its files to a mkdtemp directory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "dane-judge.h"
#include "hostname.h"
#include "starttls.h"
#include "util.h"
#include "../tests/tap.h"
#include "../tests/conf-cases.h"

static const char svc_ok[] =
	"service web {\n"
	"  cert = \"/etc/ssl/web.pem\"\n"
	"  key = \"/etc/ssl/web.key\"\n"
	"  endpoint https { port = 443 }\n"
	"}\n";

static void test_valid_file_inherits_and_defaults(void)
{
	const char *d = new_case("valid");
	struct conf *c = NULL;
	const struct conf_service *s;
	const struct conf_endpoint *e;
	int r;

	put(d, "certwatch.conf",
	    "# certwatch test\n"
	    "// another comment\n"
	    "/* and a\n   block comment */\n"
	    "settle = \"500ms\"   # trailing\n"
	    "warn-days = 30\n"
	    "service mail {\n"
	    "  cert = \"/etc/ssl/mail.pem\"\n"
	    "  chain = \"/etc/ssl/chain.pem\"\n"
	    "  key = '/etc/ssl/mail.key'\n"
	    "  name = \"mail.example.com\"\n"
	    "  address = \"192.0.2.1\"\n"
	    "  reload-command = {\"/usr/bin/true\",  # a comment inside a list\n"
	    "                    \"reload\"}\n"
	    "  reload-check = {\"/usr/bin/env\", \"-n\"}\n"
	    "  reload-window = \"23:30-4:15\"\n"
	    "  allow-downgrade = true\n"
	    "  endpoint imaps { port = 993 }\n"
	    "  endpoint imap { starttls = \"imap\" }\n"
	    "  endpoint other {\n"
	    "    address = \"localhost\"\n"
	    "    port = 8993\n"
	    "    name = \"other.example.com\"\n"
	    "    cert = \"/etc/ssl/other.pem\"\n"
	    "    key = \"/etc/ssl/other.key\"\n"
	    "  }\n"
	    "}\n"
	    "service nginx {\n"
	    "  reload-signal = \"SIGHUP\"\n"
	    "  pid-file = \"/run/nginx.pid\"\n"
	    "  endpoint a { port = 443  cert = \"/a.pem\"  key = \"/a.key\" }\n"
	    "}\n");
	r = load(d, &c);
	ok(r == 0 && c, "a valid file with comments, inheritance and defaults loads");
	if (!c) {
		printf("# %s\n", err);
		return;
	}
	ok(c->interval_usec == 3600 * USEC_PER_SEC && c->timeout_usec == 10 * USEC_PER_SEC &&
	   c->poll_interval_usec == 30 * USEC_PER_SEC,
	   "unset durations take their defaults (1h, 10s, 30s)");
	ok(c->settle_usec == 500 * USEC_PER_MSEC, "settle = \"500ms\" is read as 500 ms");
	ok(c->warn_days == 30 && c->crit_days == 7 && c->max_probes == 32,
	   "warn-days is read, crit-days and max-probes default to 7 and 32");
	is_str(c->state_dir, LOCALSTATEDIR "/lib/certwatch", "state-dir defaults to LOCALSTATEDIR/lib/certwatch");
	is_str(c->include_dir, fmt("%s/conf.d", d), "include-dir defaults to conf.d beside the main file");
	is_str(c->ehlo_name, hostname_fqdn(), "ehlo-name defaults to this host's own name");
	ok(c->n_services == 2, "both services are loaded");

	s = conf_find_service(c, "mail");
	ok(s && s->n_endpoints == 3, "conf_find_service finds mail with its three endpoints");
	if (!s || s->n_endpoints != 3)
		goto out;
	is_str(s->file, fmt("%s/certwatch.conf", d), "a service records its file");
	ok(s->line == 7, "a service records the line of its header after comments (got %u)", s->line);
	ok(s->reload_command && !strcmp(s->reload_command[0], "/usr/bin/true") &&
	   !strcmp(s->reload_command[1], "reload") && !s->reload_command[2],
	   "reload-command is a NULL-terminated argv, even with a comment inside the list");
	ok(s->reload_check && !strcmp(s->reload_check[1], "-n"), "reload-check is read");
	ok(s->reload_window_start == 23 * 60 + 30 && s->reload_window_end == 4 * 60 + 15,
	   "a reload window that wraps midnight is kept as minutes after midnight");
	ok(s->allow_downgrade, "allow-downgrade = true is read");
	ok(s->reload_timeout_usec == 30 * USEC_PER_SEC && s->verify_timeout_usec == 60 * USEC_PER_SEC &&
	   s->max_failures == 3 && s->max_reloads_per_hour == 4 && s->reload_signal == 0,
	   "service reload settings take their defaults");

	e = &s->endpoints[0];
	is_str(e->name, "imaps", "endpoints keep their order");
	ok(e->port == 993 && e->starttls == -1, "an endpoint with a port and no starttls is implicit TLS");
	is_str(e->address, "192.0.2.1", "an endpoint inherits the service's address");
	is_str(e->sni, "mail.example.com", "an endpoint inherits the service's name as SNI");
	is_str(e->cert, "/etc/ssl/mail.pem", "an endpoint inherits the service's cert");
	is_str(e->chain, "/etc/ssl/chain.pem", "an endpoint inherits the service's chain");
	is_str(e->key, "/etc/ssl/mail.key", "an endpoint inherits the service's key");
	ok(e->line == 18, "an endpoint records the line of its header (got %u)", e->line);

	e = &s->endpoints[1];
	ok(e->starttls == starttls_lookup("imap") && e->port == 143,
	   "an endpoint with starttls and no port takes the protocol's default port");

	e = &s->endpoints[2];
	ok(e->port == 8993, "an endpoint's own port is kept");
	is_str(e->address, "localhost", "an endpoint's own address overrides the service's");
	is_str(e->sni, "other.example.com", "an endpoint's own name overrides the service's");
	is_str(e->cert, "/etc/ssl/other.pem", "an endpoint's own cert overrides the service's");
	ok(!e->chain, "an endpoint with its own cert does not take the service's chain");
	ok(e->line == 20, "a multi-line endpoint records its first line (got %u)", e->line);

	s = conf_find_service(c, "nginx");
	ok(s && s->reload_signal == SIGHUP && s->pid_file && !strcmp(s->pid_file, "/run/nginx.pid"),
	   "reload-signal = \"SIGHUP\" is read as SIGHUP with its pid-file");
	ok(s && s->n_endpoints == 1 && !strcmp(s->endpoints[0].address, "localhost") &&
	   !s->endpoints[0].sni && !s->endpoints[0].chain,
	   "address defaults to localhost; unset name and chain stay NULL");
	ok(s && s->reload_window_start == -1 && s->reload_window_end == -1,
	   "an unset reload window is -1");
	ok(!conf_find_service(c, "nope"), "conf_find_service returns NULL for an unknown name");
out:
	conf_free(c);
}

static void test_include_dir_two_files(void)
{
	const char *d = new_case("include");
	struct conf *c = NULL;
	int r;

	put(d, "certwatch.conf", "%s", svc_ok);
	put_dir(d, "conf.d");
	put(d, "conf.d/20-b.conf", "service b {\n cert = \"/b.pem\"\n key = \"/b.key\"\n"
	    " endpoint smtp { starttls = \"smtp\" }\n}\n");
	put(d, "conf.d/10-a.conf", "# a\nservice a {\n cert = \"/a.pem\"\n key = \"/a.key\"\n"
	    " endpoint imaps { port = 993 }\n}\n");
	put(d, "conf.d/.hidden.conf", "this is not parsed {");
	put(d, "conf.d/notes.txt", "this is not parsed either {");
	put(d, "conf.d/x.conf.bak", "nor this {");
	r = load(d, &c);
	ok(r == 0 && c, "a main file and an include directory with two files load");
	if (!c) {
		printf("# %s\n", err);
		return;
	}
	ok(c->n_services == 3 && !strcmp(c->services[0].name, "web") &&
	   !strcmp(c->services[1].name, "a") && !strcmp(c->services[2].name, "b"),
	   "services come from the main file, then the include files in name order");
	is_str(c->services[1].file, fmt("%s/conf.d/10-a.conf", d), "an included service names its file");
	ok(c->services[1].line == 2 && c->services[1].endpoints[0].line == 5,
	   "an included service and endpoint record their lines");
	ok(c->files[0] && c->files[1] && c->files[2] && !c->files[3] &&
	   !strcmp(c->files[2], fmt("%s/conf.d/20-b.conf", d)),
	   "files lists every file read, hidden and other names skipped");
	ok(c->services[2].endpoints[0].port == 25, "the included smtp endpoint defaults to port 25");
	conf_free(c);
}

/* One service over two files: a nginx with more virtual hosts than one file holds. */
static void test_service_continued(void)
{
	const char *d = new_case("continued");
	struct conf *c = NULL;
	int r;

	put(d, "certwatch.conf", "%s", "");
	put_dir(d, "conf.d");
	put(d, "conf.d/10-web.conf", "service web {\n address = \"192.0.2.1\"\n"
	    " cert = \"/a.pem\"\n key = \"/a.key\"\n reload-command = {\"/bin/true\"}\n"
	    " endpoint a { port = 443 name = \"a.test\" }\n}\n");
	put(d, "conf.d/20-web-more.conf", "service web {\n cert = \"/b.pem\"\n key = \"/b.key\"\n"
	    " endpoint b { port = 443 name = \"b.test\" }\n"
	    " endpoint c { port = 443 name = \"c.test\" cert = \"/c.pem\" key = \"/c.key\" }\n}\n");
	r = load(d, &c);
	ok(r == 0 && c, "a service continued in a second file of the include directory loads");
	if (!c) {
		printf("# %s\n", err);
		return;
	}
	ok(c->n_services == 1 && c->services[0].n_endpoints == 3 &&
	   !strcmp(c->services[0].endpoints[2].name, "c"),
	   "one service, with the endpoints of both files in file order");
	ok(c->services[0].reload_command && !strcmp(c->services[0].endpoints[1].cert, "/b.pem") &&
	   !strcmp(c->services[0].endpoints[2].cert, "/c.pem"),
	   "the first file says the service's reload, the continuation its endpoints' pairs");
	is_str(c->services[0].endpoints[1].file, fmt("%s/conf.d/20-web-more.conf", d),
	       "an endpoint of the continuation names its file");
	conf_free(c);
	c = NULL;
	put(d, "conf.d/20-web-more.conf", "service web {\n verify-timeout = \"5s\"\n"
	    " endpoint b { port = 443 cert = \"/b.pem\" key = \"/b.key\" }\n}\n");
	r = load(d, &c);
	ok(r < 0 && strstr(err, "20-web-more.conf:1:") && strstr(err, "sets verify-timeout") &&
	   strstr(err, "10-web.conf:1"),
	   "a continuation may not set what belongs to the service alone, and says where it is set");
	conf_free(c);
	c = NULL;
	put(d, "conf.d/20-web-more.conf", "service web {\n"
	    " endpoint a { port = 443 cert = \"/b.pem\" key = \"/b.key\" }\n}\n");
	r = load(d, &c);
	ok(r < 0 && strstr(err, "20-web-more.conf:2: endpoint a of service web is defined twice"),
	   "an endpoint name twice across the files is refused");
	conf_free(c);
}

static void test_errors(void)
{
	const char *d;

	d = new_case("unknown");
	put(d, "certwatch.conf", "# one\n# two\ninterval = \"1h\"\nservice a {\n  bogus = 1\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:5: no such option 'bogus'; see certwatch.conf(5) "
				  "for the settings and the syntax", d),
	       "an unknown option is reported by libconfuse at its line, comments counted once");

	d = new_case("syntax");
	put(d, "certwatch.conf", "/* x */\nservice a {\n  cert = \"/a\"\n\n}}\n");
	like(load_error(d), fmt("%s/certwatch.conf:5: ", d), "a syntax error is reported at its line");

	d = new_case("unclosed");
	put(d, "certwatch.conf", "# x\nservice a {\n cert = \"/a\"\n key = \"/b\"\n"
	    " endpoint e { port = 1 }\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:2: the section opened here is not closed: a '}' "
				  "is missing before the end of the file", d),
	       "a section left open at the end of the file is refused at its line");

	d = new_case("openstring");
	put(d, "certwatch.conf", "service web {\n\tcert = \"/a\"\n\tkey = \"/b\"\n"
	    "\tname = \"www.example.com\n\taddress = \"127.0.0.1\"\n"
	    "\tendpoint https { port = 443 }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:4: the string that begins here runs over the "
				  "end of its line, and the one that begins at line 5 is still open "
				  "at the end of the file: a closing quote (\") is missing, most "
				  "likely at the end of this line", d),
	       "a quote missing at the end of a line is reported at that line, not as a '}' missing");

	d = new_case("openlast");
	put(d, "certwatch.conf", "service web {\n\tcert = \"/a\"\n\tkey = '/b }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:3: the string that begins here is not closed: a "
				  "closing quote (') is missing before the end of the file", d),
	       "a string left open to the end of the file is reported at its line, with its quote");

	d = new_case("noendpoint");
	put(d, "certwatch.conf", "# x\n\nservice lonely {\n  cert = \"/a\"\n  key = \"/b\"\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:3: service lonely has no endpoint; add one, such "
				  "as endpoint https { port = 443 }", d),
	       "a service without endpoints is refused at its header line");

	d = new_case("starttls");
	put(d, "certwatch.conf", "service a {\n cert = \"/a\"\n key = \"/b\"\n"
	    " endpoint e {\n  starttls = \"imap4\"\n }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:5: starttls = \"imap4\" is not a known protocol; "
				  "write one of: %s", d, starttls_names()),
	       "an unknown STARTTLS protocol is refused with the list of known ones");

	d = new_case("port0");
	put(d, "certwatch.conf", "service a {\n cert = \"/a\"\n key = \"/b\"\n endpoint e { port = 0 }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:4: port = 0 is out of range; write a number from "
				  "1 to 65535", d), "port 0 is refused");

	d = new_case("port70000");
	put(d, "certwatch.conf", "service a {\n cert = \"/a\"\n key = \"/b\"\n endpoint e {\n"
	    "  port = 70000\n }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:5: port = 70000 is out of range; write a number "
				  "from 1 to 65535", d), "port 70000 is refused");

	d = new_case("noport");
	put(d, "certwatch.conf", "service a {\n cert = \"/a\"\n key = \"/b\"\n endpoint e { }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:4: endpoint e of service a has no port; implicit "
				  "TLS needs one, such as port = 443 (or name a protocol with "
				  "starttls = \"...\", or the server with kind = \"...\")", d),
	       "an implicit-TLS endpoint without a port is refused");

	d = new_case("dupfiles");
	put(d, "certwatch.conf", "# main\n%s", svc_ok);
	put_dir(d, "conf.d");
	put(d, "conf.d/web.conf", "\n\n%s", svc_ok);
	/* A second file continues the service (test_service_continued): its copy clashes. */
	is_str(load_error(d), fmt("%s/conf.d/web.conf:6: endpoint https of service web is defined "
				  "twice: here and at %s/certwatch.conf:5; rename or remove one", d, d),
	       "a service copied into two files is refused, naming both places");

	d = new_case("dupfile");
	put(d, "certwatch.conf", "%s# again\n%s", svc_ok, svc_ok);
	is_str(load_error(d), fmt("%s/certwatch.conf:7: service web is defined twice: here and at "
				  "%s/certwatch.conf:1; rename or remove one", d, d),
	       "two services with one name in one file are refused, naming both places");

	d = new_case("dupendpoint");
	put(d, "certwatch.conf", "service a {\n cert = \"/a\"\n key = \"/b\"\n"
	    " endpoint e { port = 1 }\n # x\n endpoint e { port = 2 }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:6: endpoint e is defined twice in service a: here "
				  "and at %s/certwatch.conf:4; rename or remove one", d, d),
	       "two endpoints with one name in a service are refused, naming both places");

	d = new_case("duration");
	put(d, "certwatch.conf", "interval = \"1h\"\nsettle = \"2 sec\"\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:2: settle = \"2 sec\" is not a duration; write a "
				  "number with a unit: \"500ms\", \"2s\", \"5m\", \"1h\", \"1d\"", d),
	       "an invalid duration is refused with examples of valid ones");

	d = new_case("zeroduration");
	put(d, "certwatch.conf", "service a {\n verify-timeout = \"0s\"\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:2: verify-timeout = \"0s\" is zero; write a "
				  "positive duration, such as \"60s\"", d),
	       "a zero timeout is refused");

	d = new_case("globalinclude");
	put(d, "certwatch.conf", "%s", svc_ok);
	put_dir(d, "conf.d");
	put(d, "conf.d/x.conf", "# x\n\nwarn-days = 10\n");
	is_str(load_error(d), fmt("%s/conf.d/x.conf:3: warn-days is a global setting and belongs in the "
				  "main file %s/certwatch.conf; %s/conf.d/x.conf may only hold service "
				  "sections", d, d, d),
	       "a global setting in an include file is refused");

	d = new_case("relative");
	put(d, "certwatch.conf", "service a {\n\n  key = \"/b\"\n  cert = \"fullchain.pem\"\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:4: cert = \"fullchain.pem\" is not an absolute "
				  "path; write the full path, starting with \"/\"", d),
	       "a relative path is refused");

	d = new_case("relativecmd");
	put(d, "certwatch.conf", "service a {\n reload-command = {\"nginx\", \"-s\", \"reload\"}\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:2: reload-command starts with \"nginx\", not an "
				  "absolute path; write the program's full path, such as "
				  "{\"/usr/sbin/nginx\", \"-s\", \"reload\"} (commands run without a "
				  "shell or PATH)", d),
	       "a reload command that is not an absolute path is refused");

	d = new_case("twomethods");
	put(d, "certwatch.conf", "service a {\n reload-unit = \"nginx.service\"\n"
	    " reload-command = {\"/usr/sbin/nginx\", \"-s\", \"reload\"}\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:3: service a has both reload-unit and "
				  "reload-command; a service has one reload method: keep one of "
				  "reload-unit, reload-command, reload-signal and restart-unit", d),
	       "two reload methods in one service are refused");

	d = new_case("nopidfile");
	put(d, "certwatch.conf", "\nservice a {\n cert = \"/a\"\n key = \"/b\"\n"
	    " reload-signal = \"USR1\"\n endpoint e { port = 1 }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:2: service a has reload-signal but no pid-file; "
				  "add pid-file = \"/run/a.pid\", the file holding the process id to "
				  "signal", d),
	       "reload-signal without pid-file is refused");

	d = new_case("pidowner");
	put(d, "certwatch.conf", "service a {\n cert = \"/a\"\n key = \"/b\"\n"
	    " pid-file-owner = \"no-such-user-here\"\n endpoint e { port = 1 }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:4: pid-file-owner = \"no-such-user-here\" is "
				  "not a user of this system; write the name of the user the service "
				  "runs as, such as \"postgres\"", d),
	       "a pid-file-owner that is no user is refused at its line");

	d = new_case("pidprogram");
	put(d, "certwatch.conf", "\nservice a {\n cert = \"/a\"\n key = \"/b\"\n"
	    " pid-program = \"/usr/sbin/nginx\"\n endpoint e { port = 1 }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:2: service a has pid-program but no pid-file; "
				  "remove it, or add reload-signal and pid-file", d),
	       "pid-program without a pid file is refused");

	d = new_case("badsignal");
	put(d, "certwatch.conf", "service a {\n reload-signal = \"KILL\"\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:2: reload-signal = \"KILL\" is not a signal "
				  "certwatch sends; write one of: HUP, USR1, USR2, WINCH, INT, QUIT, "
				  "TERM", d),
	       "a signal certwatch does not send is refused with the list");

	/* Names in forms certificates and SNI do not carry are said as such. */
	d = new_case("unicode-name");
	put(d, "certwatch.conf", "service a {\n name = \"b\xc3\xbc" "cher.example\"\n}\n");
	like(load_error(d), "name = \"b\\xc3\\xbccher.example\" is in Unicode: write its A-label",
	     "a name in Unicode is refused with the form to write");
	d = new_case("wildcard-name");
	put(d, "certwatch.conf", "service a {\n name = \"*.example.com\"\n}\n");
	like(load_error(d), "name = \"*.example.com\" is a wildcard: write a name it covers",
	     "a wildcard name is refused with what to write");
	d = new_case("pair-format");
	put(d, "certwatch.conf", "service a {\n pair-format = \"postfix\"\n}\n");
	like(load_error(d), "certwatch.conf:2: pair-format = \"postfix\" is not a pair format; "
	     "write \"pem\" (the default) or \"postfix-chain-files\"",
	     "an unknown pair format is refused with the choices");

	/* DANE's settings: each bad value names the line and what to write. */
	d = new_case("dane-mode");
	put(d, "certwatch.conf", "service a {\n dane = \"maybe\"\n}\n");
	like(load_error(d), "certwatch.conf:2: dane = \"maybe\" is not a DANE mode; write \"auto\"",
	     "an unknown DANE mode is refused with the choices");
	d = new_case("dane-pin");
	put(d, "certwatch.conf", "service a {\n endpoint e {\n  pin-sha256 = {\"abc\"}\n }\n}\n");
	like(load_error(d), "certwatch.conf:3: pin-sha256 = \"abc\": ",
	     "a pin that is not base64 of 32 bytes is refused at its line");
	d = new_case("dane-resolver");
	put(d, "certwatch.conf", "dane-resolver = \"ns.example@53\"\n");
	like(load_error(d), "certwatch.conf:1: dane-resolver = \"ns.example@53\" is not a resolver's "
	     "address; write a numeric address", "a resolver by name is refused");
	d = new_case("dane-resolver-port");
	put(d, "certwatch.conf", "dane-resolver = \"::1@70000\"\n");
	like(load_error(d), "dane-resolver = \"::1@70000\" is not a resolver's address",
	     "a resolver port out of range is refused");
	d = new_case("dane-ok");
	put(d, "certwatch.conf", "dane-resolver = \"::1@5353\"\nservice a {\n dane = \"yes\"\n"
	    " cert = \"/a.pem\" key = \"/a.key\"\n"
	    " pin-sha256 = {\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"}\n"
	    " endpoint e { port = 25 dane-name = \"mx.example\" dane = \"no\" }\n"
	    " endpoint f { port = 26 }\n}\n");
	{
		struct conf *c = NULL;
		int r = load(d, &c);
		const struct conf_service *s = r == 0 ? &c->services[0] : NULL;

		ok(s && s->n_endpoints == 2 && s->endpoints[0].dane == DANE_MODE_NO &&
		   s->endpoints[1].dane == DANE_MODE_YES && s->endpoints[1].pins &&
		   s->endpoints[1].pins[0] && !s->endpoints[1].pins[1] &&
		   strcmp(s->endpoints[0].dane_name, "mx.example") == 0 && !s->endpoints[1].dane_name &&
		   strcmp(c->dane_resolver, "::1@5353") == 0 &&
		   strcmp(c->dane_trust_anchor, DANE_DEFAULT_TRUST_ANCHOR) == 0,
		   "dane, pin-sha256 and dane-name are inherited or set per endpoint; the "
		   "trust anchor defaults to the system's");
		conf_free(c);
	}

	d = new_case("window");
	put(d, "certwatch.conf", "service a {\n reload-window = \"2-5\"\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:2: reload-window = \"2-5\" is not a time window; "
				  "write \"HH:MM-HH:MM\" in local time, such as \"02:00-05:00\" (it may "
				  "wrap past midnight)", d),
	       "a malformed reload window is refused");

	d = new_case("critwarn");
	put(d, "certwatch.conf", "warn-days = 10\n# x\ncrit-days = 10\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:3: crit-days = 10 is not less than warn-days = "
				  "10; lower crit-days or raise warn-days", d),
	       "crit-days >= warn-days is refused at the crit-days line");

	d = new_case("includedir");
	put(d, "certwatch.conf", "# x\ninclude-dir = \"%s/conf.dd\"\n", d);
	is_str(load_error(d), fmt("%s/certwatch.conf:2: include-dir %s/conf.dd does not exist; "
				  "correct the path, or create the directory", d, d),
	       "an include-dir named but missing is refused at its line, not read as empty");

	d = new_case("metricsname");
	put(d, "certwatch.conf", "metrics-file = \"%s/cw.txt\"\n", d);
	is_str(load_error(d), fmt("%s/certwatch.conf:1: metrics-file %s/cw.txt is not named "
				  "NAME.prom, the only files node_exporter's textfile collector reads; "
				  "name it, for example, certwatch.prom", d, d),
	       "a metrics-file the textfile collector would never read is refused");
	put(d, "certwatch.conf", "metrics-file = \"%s/\"\n", d);
	like(load_error(d), "/ is not named NAME.prom",
	     "so is a directory given as metrics-file");

	d = new_case("metricsdir");
	put(d, "certwatch.conf", "\nmetrics-file = \"%s/none/certwatch.prom\"\n", d);
	is_str(load_error(d), fmt("%s/certwatch.conf:2: the directory of metrics-file "
				  "%s/none/certwatch.prom does not exist; create it (Debian's "
				  "prometheus-node-exporter reads /var/lib/prometheus/node-exporter), or "
				  "unset metrics-file", d, d),
	       "a metrics-file in a missing directory is refused at load, not at the first write");

	d = new_case("maxprobes");
	put(d, "certwatch.conf", "max-probes = 2000\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:1: max-probes = 2000 is out of range; write a "
				  "number from 1 to 1024", d), "max-probes above 1024 is refused");

	d = new_case("nocert");
	put(d, "certwatch.conf", "service a {\n key = \"/b\"\n endpoint e { port = 1 }\n"
	    " endpoint f { port = 2 cert = \"/c\" }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:3: endpoint e of service a has no cert; set cert "
				  "in the service or in the endpoint", d),
	       "an endpoint without a cert, on itself or its service, is refused");

	d = new_case("badname");
	put(d, "certwatch.conf", "service \"a b\" {\n cert = \"/a\"\n key = \"/b\"\n"
	    " endpoint e { port = 1 }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:1: service \"a b\" has an unusable name; use up to "
				  "64 letters, digits, \".\", \"-\" and \"_\" (it names state files and the "
				  "certwatch@NAME unit)", d),
	       "a service name with a space is refused");

	d = new_case("includefile");
	put(d, "certwatch.conf", "include-dir = \"%s/certwatch.conf\"\n", d);
	is_str(load_error(d), fmt("%s/certwatch.conf: cannot read the include directory: Not a "
				  "directory; make it a readable directory, or set include-dir to "
				  "another one", d),
	       "an include-dir that cannot be read is an error");

	d = new_case("missing");
	is_str(load_error(d), fmt("%s/certwatch.conf: cannot open: No such file or directory", d),
	       "a missing main file is an error");

	d = new_case("several");
	put(d, "certwatch.conf", "service a {\n cert = \"/a\"\n key = \"/b\"\n}\n"
	    "service b {\n cert = \"/a\"\n key = \"/b\"\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:1: service a has no endpoint; add one, such as "
				  "endpoint https { port = 443 }\n"
				  "%s/certwatch.conf:5: service b has no endpoint; add one, such as "
				  "endpoint https { port = 443 }", d, d),
	       "every error after parsing is reported, one per line");
}

static void test_ownership(void)
{
	char path[PATH_MAX];
	const char *d;

	d = new_case("groupfile");
	put(d, "certwatch.conf", "%s", svc_ok);
	snprintf(path, sizeof(path), "%s/certwatch.conf", d);
	chmod(path, 0664);
	is_str(load_error(d), fmt("%s is writable by group or others (mode 0664); certwatch runs "
				  "commands named there as root: chmod go-w %s", path, path),
	       "a group-writable main file is refused with the chmod hint");

	d = new_case("groupdir");
	put(d, "certwatch.conf", "%s", svc_ok);
	put_dir(d, "conf.d");
	put(d, "conf.d/a.conf", "\n");
	snprintf(path, sizeof(path), "%s/conf.d", d);
	chmod(path, 0777);
	is_str(load_error(d), fmt("%s is writable by group or others (mode 0777); certwatch runs "
				  "commands named there as root: chmod go-w %s", path, path),
	       "a world-writable include directory is refused with the chmod hint");

	d = new_case("groupmaindir");
	put(d, "certwatch.conf", "%s", svc_ok);
	chmod(d, 0770);
	is_str(load_error(d), fmt("%s is writable by group or others (mode 0770); certwatch runs "
				  "commands named there as root: chmod go-w %s", d, d),
	       "a group-writable directory of the main file is refused");
	chmod(d, 0700);

	d = new_case("groupinclude");
	put(d, "certwatch.conf", "%s", svc_ok);
	put_dir(d, "conf.d");
	put(d, "conf.d/x.conf", "\n");
	snprintf(path, sizeof(path), "%s/conf.d/x.conf", d);
	chmod(path, 0602);
	is_str(load_error(d), fmt("%s is writable by group or others (mode 0602); certwatch runs "
				  "commands named there as root: chmod go-w %s", path, path),
	       "a world-writable include file is refused");

	d = new_case("owner");
	put(d, "certwatch.conf", "%s", svc_ok);
	put_dir(d, "conf.d");
	put(d, "conf.d/x.conf", "\n");
	snprintf(path, sizeof(path), "%s/conf.d/x.conf", d);
	if (geteuid() == 0 && chown(path, 12345, 12345) == 0) {
		is_str(load_error(d), fmt("%s is owned by uid 12345, not root; certwatch runs commands "
					  "named there as root: chown root %s", path, path),
		       "an include file owned by another uid is refused with the chown hint");
	} else {
		ok(1, "# SKIP not root: cannot give a file to another uid");
	}

	d = new_case("nocheck");
	put(d, "certwatch.conf", "%s", svc_ok);
	snprintf(path, sizeof(path), "%s/certwatch.conf", d);
	chmod(path, 0666);
	{
		struct conf *c = NULL;
		int r = conf_load(path, false, &c, err, sizeof(err));

		ok(r == 0 && c, "without check_owner a world-writable file is read");
		conf_free(c);
	}
}

static void test_limits(void)
{
	char path[PATH_MAX];
	const char *d;
	FILE *f;

	d = new_case("services");
	snprintf(path, sizeof(path), "%s/certwatch.conf", d);
	f = fopen(path, "w");
	for (int i = 0; f && i <= CONF_MAX_SERVICES; i++)
		fprintf(f, "service s%d {\n cert = \"/a\"\n key = \"/b\"\n endpoint e { port = 1 }\n}\n", i);
	if (f)
		fclose(f);
	chmod(path, 0600);
	is_str(load_error(d), fmt("%s/certwatch.conf:%d: more than %d services; split the hosts among "
				  "several certwatch instances", d, CONF_MAX_SERVICES * 5 + 1,
				  CONF_MAX_SERVICES),
	       "one service more than CONF_MAX_SERVICES is refused");

	d = new_case("endpoints");
	put_dir(d, "conf.d");
	put(d, "certwatch.conf", "\n");
	for (int i = 0; i < 33; i++) {
		snprintf(path, sizeof(path), "%s/conf.d/%02d.conf", d, i);
		f = fopen(path, "w");
		if (!f)
			break;
		fprintf(f, "service s%d {\n cert = \"/a\"\n key = \"/b\"\n", i);
		for (int j = 0; j < 2000; j++)
			fprintf(f, " endpoint e%d { port = 1 }\n", j);
		fprintf(f, "}\n");
		fclose(f);
		chmod(path, 0600);
	}
	is_str(load_error(d), fmt("%s/conf.d/32.conf:1: more than %d endpoints in all services; split "
				  "the hosts among several certwatch instances", d, CONF_MAX_ENDPOINTS),
	       "more than CONF_MAX_ENDPOINTS endpoints in all files are refused");

	d = new_case("big");
	snprintf(path, sizeof(path), "%s/certwatch.conf", d);
	f = fopen(path, "w");
	for (int i = 0; f && i < 1024 * 1024 / 64 + 1; i++)
		fprintf(f, "%63s\n", "#");
	if (f)
		fclose(f);
	chmod(path, 0600);
	is_str(load_error(d), fmt("%s: is larger than 1024 KiB; a configuration file is small: split it "
				  "into files in the include directory", path),
	       "a file larger than 1 MiB is refused");
}

static void test_dump_and_defaults(void)
{
	const char *d = new_case("dump"), *d2;
	struct conf *c = NULL, *c2 = NULL, *def = NULL;
	char *a = NULL, *b = NULL;
	FILE *f;
	char path[PATH_MAX];

	/* The dump names include-dir, conf.d here: named, it must exist. */
	snprintf(path, sizeof(path), "%s/conf.d", d);
	mkdir(path, 0700);
	put(d, "certwatch.conf",
	    "interval = \"90m\"\nmax-probes = 8\n"
	    "service mail {\n"
	    "  cert = \"/etc/ssl/ma\\\"il.pem\"\n  key = \"/etc/ssl/$mail.key\"\n"
	    "  name = \"mail.example.com\"\n"
	    "  reload-unit = \"dovecot.service\"\n  reload-check = {\"/usr/bin/env\", \"-n\"}\n"
	    "  reload-window = \"02:00-05:00\"\n  max-failures = 5\n"
	    "  endpoint imaps { port = 993 }\n  endpoint sieve { starttls = \"sieve\" }\n"
	    "}\n"
	    "service web {\n  reload-signal = \"HUP\"\n  pid-file = \"/run/nginx.pid\"\n"
	    "  endpoint a { port = 443  cert = \"/a.pem\"  chain = \"/c.pem\"  key = \"/a.key\" }\n"
	    "}\n");
	if (load(d, &c) < 0) {
		ok(0, "the dump's source file loads: %s", err);
		return;
	}
	a = dump_settings(c);
	like(a, "interval = \"90m\"\nsettle = \"2s\"\ntimeout = \"10s\"\npoll-interval = \"30s\"\n"
	     "warn-days = 21\ncrit-days = 7\nmax-probes = 8\n",
	     "the dump shows every global setting, durations formatted");
	like(a, "\tendpoint sieve {\n\t\taddress = \"localhost\"\n\t\tport = 4190\n"
	     "\t\tstarttls = \"sieve\"\n\t\tname = \"mail.example.com\"\n",
	     "the dump shows each endpoint's effective settings");
	like(a, "\treload-signal = \"HUP\"\n", "the dump names the signal");
	like(a, "\treload-window = \"02:00-05:00\"\n", "the dump shows the reload window");

	d2 = new_case("dump2");
	snprintf(path, sizeof(path), "%s/certwatch.conf", d2);
	f = fopen(path, "w");
	if (f) {
		conf_dump(c, f);
		fclose(f);
	}
	chmod(path, 0600);
	ok(load(d2, &c2) == 0, "the dump loads back as a configuration");
	b = c2 ? dump_settings(c2) : NULL;
	is_str(b, a, "the dump of the reloaded dump is the same, quotes and dollars included");
	ok(c2 && !strcmp(c2->services[0].cert, "/etc/ssl/ma\"il.pem") &&
	   !strcmp(c2->services[0].key, "/etc/ssl/$mail.key"),
	   "special characters survive the round trip");

	ok(conf_new_default(&def) == 0 && def && def->n_services == 0 &&
	   def->interval_usec == 3600 * USEC_PER_SEC && def->settle_usec == 2 * USEC_PER_SEC &&
	   def->warn_days == 21 && def->crit_days == 7 && def->max_probes == 32,
	   "conf_new_default has the defaults and no services");
	is_str(def ? def->include_dir : NULL, SYSCONFDIR "/certwatch/conf.d",
	       "the default include-dir is conf.d beside the default main file");
	is_str(def ? def->ehlo_name : NULL, hostname_fqdn(),
	       "the default ehlo-name is this host's own name");
	conf_free(NULL);
	ok(1, "conf_free(NULL) is harmless");
	free(a);
	free(b);
	conf_free(c);
	conf_free(c2);
	conf_free(def);
}

/* The installed sample: valid as shipped, and its example once uncommented. */
static void test_sample_file(void)
{
	const char *src = getenv("TESTS_SRCDIR"), *d = new_case("sample");
	char path[PATH_MAX], line[512];
	struct conf *c = NULL;
	bool in_example = false;
	FILE *in, *out;
	int r;

	if (!src) {
		ok(1, "# SKIP TESTS_SRCDIR is not set");
		return;
	}
	snprintf(path, sizeof(path), "%s/../conf.d/certwatch.conf", src);
	r = conf_load(path, false, &c, err, sizeof(err));
	ok(r == 0 && c && c->n_services == 0 && c->warn_days == 21 &&
	   c->interval_usec == 3600 * USEC_PER_SEC, "the shipped sample loads, with defaults and no service");
	if (r < 0)
		printf("# %s\n", err);
	conf_free(c);
	c = NULL;

	in = fopen(path, "r");
	snprintf(path, sizeof(path), "%s/certwatch.conf", d);
	out = fopen(path, "w");
	while (in && out && fgets(line, sizeof(line), in)) {
		const char *p = line;

		if (strncmp(line, "# service dovecot {", 19) == 0)
			in_example = true;
		if (in_example && line[0] == '#')
			p = line[1] == ' ' ? line + 2 : line + 1;
		if (strncmp(line, "# }", 3) == 0)
			in_example = false;
		fputs(p, out);
	}
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	chmod(path, 0600);
	/* Without check_owner: the example names Dovecot's programs, which
	 * need not be installed where the tests run. */
	r = conf_load(path, false, &c, err, sizeof(err));
	ok(r == 0 && c && c->n_services == 1 && c->services[0].n_endpoints == 3 &&
	   c->services[0].endpoints[2].port == 4190 && c->services[0].reload_unit,
	   "the sample's example service, uncommented, loads");
	if (r < 0)
		printf("# %s\n", err);
	conf_free(c);
}

/* metrics-file: unset by default, an absolute path, main file only, kept by the dump. */
static void test_metrics_file(void)
{
	const char *d = new_case("metrics");
	struct conf *c = NULL;
	char *dump = NULL;

	put(d, "certwatch.conf", "%s", svc_ok);
	ok(load(d, &c) == 0 && c && !c->metrics_file, "metrics-file is unset by default");
	conf_free(c);
	c = NULL;

	d = new_case("metrics2");
	put(d, "certwatch.conf", "metrics-file = \"%s/certwatch.prom\"\n%s", d, svc_ok);
	ok(load(d, &c) == 0 && c, "a file with metrics-file loads");
	is_str(c ? c->metrics_file : NULL, fmt("%s/certwatch.prom", d), "metrics-file is read");
	dump = c ? dump_settings(c) : NULL;
	like(dump, fmt("metrics-file = \"%s/certwatch.prom\"\n", d),
	     "the dump shows metrics-file");
	free(dump);
	conf_free(c);

	d = new_case("metrics3");
	put(d, "certwatch.conf", "\nmetrics-file = \"certwatch.prom\"\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:2: metrics-file = \"certwatch.prom\" is not an "
				  "absolute path; write the full path, starting with \"/\"", d),
	       "a relative metrics-file is refused with its line");

	d = new_case("metrics4");
	put(d, "certwatch.conf", "%s", svc_ok);
	put_dir(d, "conf.d");
	put(d, "conf.d/x.conf", "metrics-file = \"/m.prom\"\n");
	like(load_error(d), "x.conf:1: metrics-file is a global setting and belongs in the main file",
	     "metrics-file in an include file is refused");
}

int main(void)
{
	if (!cases_begin("test-conf"))
		return 99;
	test_valid_file_inherits_and_defaults();
	test_include_dir_two_files();
	test_service_continued();
	test_errors();
	test_ownership();
	test_limits();
	test_dump_and_defaults();
	test_sample_file();
	test_metrics_file();
	cases_end();
	return tap_done();
}
