/*
 * test-discover-web.c - certwatch discover for Apache and HAProxy, which
 * print no whole configuration: their parsers on bundles made of Debian-
 * style fixtures (tests/discover-fixtures/apache-*, haproxy*: apache2ctl's
 * DUMP_VHOSTS/DUMP_RUN_CFG/DUMP_INCLUDES output as Apache 2.4.62 prints it,
 * the files it lists, haproxy.cfg and a crt-list), on hostile bundles
 * (lines too long, NUL bytes, unclosed blocks, a file listed without end,
 * garbage), and the bundle gathered from a real directory tree: files and
 * directories read, a FIFO and missing files refused, not waited on.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover.h"
#include "discover-files.h"
#include "discover-int.h"
#include "../tests/tap.h"
#include "../tests/discover-fixture.h"

struct bundle {
	char *text;
	size_t len;
};

static void add(struct bundle *b, char kind, const char *path, const char *text, size_t n)
{
	char head[PATH_MAX + 64];
	int h = snprintf(head, sizeof(head), "@@ %c %zu %s\n", kind, n, path);

	b->text = realloc(b->text, b->len + (size_t)h + n + 2);
	if (!b->text)
		abort();
	memcpy(b->text + b->len, head, (size_t)h);
	memcpy(b->text + b->len + h, text, n);
	b->len += (size_t)h + n + 1;
	b->text[b->len - 1] = '\n';
	b->text[b->len] = '\0';
}

static void add_fixture(struct bundle *b, const char *name, const char *path)
{
	size_t len;
	char *t = fixture(name, &len);

	add(b, 'f', path, t, len);
	free(t);
}

static void add_text(struct bundle *b, char kind, const char *path, const char *text)
{
	add(b, kind, path, text, strlen(text));
}

/* discover_want_fn: records "KIND PATH" lines. */
static int record(char kind, const char *path, void *userdata)
{
	char *buf = userdata;
	size_t n = strlen(buf);

	snprintf(buf + n, 4096 - n, "%c %s\n", kind, path);
	return 0;
}

static struct bundle apache_bundle(void)
{
	struct bundle b = { 0 };
	size_t len;
	char *dump = fixture("apache-dump.txt", &len);

	add(&b, 'c', "apache2ctl", dump, len);
	free(dump);
	add_fixture(&b, "apache-apache2.conf", "/etc/apache2/apache2.conf");
	add_text(&b, 'm', "/etc/apache2/mods-enabled/ssl.load", "Permission denied");
	add_fixture(&b, "apache-ssl.conf", "/etc/apache2/mods-enabled/ssl.conf");
	add_fixture(&b, "apache-ports.conf", "/etc/apache2/ports.conf");
	add_fixture(&b, "apache-000-default.conf", "/etc/apache2/sites-enabled/000-default.conf");
	add_fixture(&b, "apache-default-ssl.conf", "/etc/apache2/sites-enabled/default-ssl.conf");
	add_fixture(&b, "apache-shop.conf", "/etc/apache2/sites-enabled/shop.conf");
	return b;
}

static void apache_debian(void)
{
	struct bundle b = apache_bundle();
	struct discovered d;
	char wants[4096] = "";

	ok(discover_apache_wants(b.text, b.len, record, wants) == 0 &&
	   strcmp(wants, "f /etc/apache2/apache2.conf\n"
		  "f /etc/apache2/mods-enabled/mpm_event.load\n"
		  "f /etc/apache2/mods-enabled/ssl.load\n"
		  "f /etc/apache2/mods-enabled/ssl.conf\n"
		  "f /etc/apache2/ports.conf\n"
		  "f /etc/apache2/sites-enabled/000-default.conf\n"
		  "f /etc/apache2/sites-enabled/default-ssl.conf\n"
		  "f /etc/apache2/sites-enabled/shop.conf\n") == 0,
	   "apache: the files wanted are those DUMP_INCLUDES lists, in order");
	ok(discover_apache(b.text, b.len, &d) == 0, "apache: a Debian configuration parses");
	is_str(render(&d),
	       "mail.example.org 127.0.0.1 443 tls mail.example.org "
	       "/etc/ssl/certs/ssl-cert-snakeoil.pem /etc/ssl/private/ssl-cert-snakeoil.key\n"
	       "shop.example.org 127.0.0.1 443 tls shop.example.org "
	       "/etc/letsencrypt/live/shop.example.org/cert.pem "
	       "/etc/letsencrypt/live/shop.example.org/privkey.pem "
	       "+/etc/apache2/ssl/shop-ecdsa.pem "
	       "chain=/etc/letsencrypt/live/shop.example.org/chain.pem\n"
	       "api.example.org ::1 8443 tls api.example.org /etc/ssl/api.pem /etc/ssl/api.pem\n",
	       "apache: _default_, ServerName with scheme and port, two pairs and a chain, a "
	       "relative path under ServerRoot, a ServerAlias, the key in the certificate's file, "
	       "a continued line");
	like(notes(&d), "shop.conf:28): skipped: a path names a ${variable}",
	     "apache: a ${CERTDIR} path is not resolved: a note, no guess");
	like(notes(&d), "2 <VirtualHost> blocks without SSLEngine on skipped",
	     "apache: the port 80 block and the SSLEngine off block, counted");
	like(notes(&d), "1 <VirtualHost> block that Apache does not use",
	     "apache: the block inside <IfDefine NEVER> is not guessed into an endpoint");
	like(notes(&d), "mods-enabled/ssl.load: not read: Permission denied",
	     "apache: a file not read, said with why");
	like(notes(&d), "mpm_event.load: not read\n", "apache: ... or that it was not");
	discovered_done(&d);
	free(b.text);
}

static void apache_hostile(void)
{
	static const char dump[] = "Included configuration files:\n  (*) /a.conf\n"
				   "VirtualHost configuration:\n*:443 x (/a.conf:1)\n";
	struct bundle b = { 0 };
	struct discovered d;
	char *big = malloc(3 * MAX_LINE);

	memset(big, 'x', 3 * MAX_LINE);
	memcpy(big, "<VirtualHost *:443>\nSSLEngine on\nServerName ", 45);
	big[3 * MAX_LINE - 1] = '\n';
	add_text(&b, 'c', "apache2ctl", dump);
	add(&b, 'f', "/a.conf", big, 3 * MAX_LINE);
	ok(discover_apache(b.text, b.len, &d) == 0 && d.n_endpoints == 0,
	   "apache: a huge line, then an unclosed block: nothing");
	like(notes(&d), "/a.conf:3: a line too long", "apache: ... the long line said");
	like(notes(&d), "/a.conf:1: <VirtualHost> is not closed", "apache: ... and the block");
	discovered_done(&d);
	free(b.text);
	free(big);

	b = (struct bundle){ 0 };
	add_text(&b, 'c', "apache2ctl", dump);
	add(&b, 'f', "/a.conf", "<VirtualHost *:443>\nSSLEngine on\nSSLCertificateFile /c\0x\n"
	    "</VirtualHost>\n", 67);
	ok(discover_apache(b.text, b.len, &d) == 0 && d.n_endpoints == 0,
	   "apache: a NUL byte in a path: the line is not read, no endpoint");
	like(notes(&d), "a line too long or with a NUL byte", "apache: ... said");
	discovered_done(&d);
	free(b.text);

	/* A dump that lists one file without end must not multiply the work. */
	b = (struct bundle){ 0 };
	{
		size_t n = 0, cap = 40 * 100000;
		char *many = malloc(cap);

		for (int i = 0; i < 100000; i++)
			n += (size_t)snprintf(many + n, cap - n, "  (1) /a.conf\n");
		add(&b, 'c', "apache2ctl", many, n);
		free(many);
	}
	add_text(&b, 'f', "/a.conf", "<VirtualHost *:443>\nSSLEngine on\n</VirtualHost>\n");
	ok(discover_apache(b.text, b.len, &d) == 0, "apache: a file listed 100000 times");
	like(notes(&d), "more than 512 included files", "apache: ... is read 512 times at most");
	discovered_done(&d);
	free(b.text);

	/* What a block says is its own, not the main server's default. */
	b = (struct bundle){ 0 };
	add_text(&b, 'c', "apache2ctl", "  (*) /a.conf\n(/a.conf:1) (/a.conf:5)\n");
	add_text(&b, 'f', "/a.conf", "<VirtualHost *:443>\nSSLEngine on\nSSLCertificateFile /c\n"
		 "</VirtualHost>\n<VirtualHost *:444>\n</VirtualHost>\n");
	ok(discover_apache(b.text, b.len, &d) == 0, "apache: a TLS block, then a plain one");
	is_str(render(&d), "default 127.0.0.1 443 tls - /c /c\n", "apache: ... one endpoint");
	like(notes(&d), "1 <VirtualHost> block without SSLEngine on", "apache: ... one plain block");
	discovered_done(&d);
	free(b.text);

	ok(discover_apache("@@ c 99999 x\n", 13, &d) == 0 && d.n_endpoints == 0,
	   "apache: a section longer than the bundle: no endpoint, no crash");
	discovered_done(&d);
	ok(discover_apache("garbage\0\xff", 9, &d) == 0 && d.n_endpoints == 0,
	   "apache: garbage: no endpoint, no crash");
	discovered_done(&d);
}

/* A bundle of a DUMP_VHOSTS fixture, apache2.conf (main_fixture, or a bare one), and one site file. */
static struct bundle apache_site(const char *dump_fixture, const char *main_fixture,
				 const char *site_fixture, const char *path)
{
	struct bundle b = { 0 };
	size_t len;
	char *dump = fixture(dump_fixture, &len);

	add(&b, 'c', "apache2ctl", dump, len);
	free(dump);
	if (main_fixture)
		add_fixture(&b, main_fixture, "/etc/apache2/apache2.conf");
	else
		add_text(&b, 'f', "/etc/apache2/apache2.conf",
			 "IncludeOptional sites-enabled/*.conf\n");
	add_fixture(&b, site_fixture, path);
	return b;
}

static void apache_continued(void)
{
	struct bundle b = apache_site("apache-continued-dump.txt", NULL, "apache-continued.conf",
				      "/etc/apache2/sites-enabled/continued.conf");
	struct discovered d;

	ok(discover_apache(b.text, b.len, &d) == 0, "apache: continued lines parse");
	is_str(render(&d),
	       "cont.example.org 127.0.0.1 48443 tls cont.example.org /etc/ssl/cont.pem "
	       "/etc/ssl/cont.pem\n"
	       "default 127.0.0.1 48444 tls - /etc/ssl/crlf.pem /etc/ssl/crlf.pem\n",
	       "apache: a <VirtualHost> line continued is found at its last line, as DUMP_VHOSTS "
	       "says; a continued ServerName; a comment continued takes the next line; "
	       "a backslash before CR LF continues too");
	ok(!strstr(notes(&d), "does not use"), "apache: ... no block taken for unused");
	discovered_done(&d);
	free(b.text);
}

static void apache_conditional(void)
{
	struct bundle b = apache_site("apache-conditional-dump.txt", NULL,
				      "apache-conditional.conf",
				      "/etc/apache2/sites-enabled/conditional.conf");
	struct discovered d;

	ok(discover_apache(b.text, b.len, &d) == 0, "apache: conditionals in blocks parse");
	is_str(render(&d), "around.example.org 127.0.0.1 443 tls around.example.org "
	       "/etc/ssl/around.pem /etc/ssl/around.pem\n",
	       "apache: a block inside <IfModule> that DUMP_VHOSTS lists, a conditional without "
	       "what matters inside it: an endpoint; none for the others");
	like(notes(&d), "ec.example.org (/etc/apache2/sites-enabled/conditional.conf:2): skipped: "
	     "SSLCertificateFile is inside <IfDefine NEVER_DEFINED> at "
	     "/etc/apache2/sites-enabled/conditional.conf:7, a condition certwatch does not "
	     "evaluate: write its endpoint by hand",
	     "apache: a pair inside <IfDefine> in a block: the block skipped, said, no guess");
	like(notes(&d), "on.example.org (/etc/apache2/sites-enabled/conditional.conf:11): skipped: "
	     "SSLEngine is inside <ifmodule mod_nonexistent.c> at "
	     "/etc/apache2/sites-enabled/conditional.conf:15",
	     "apache: SSLEngine off inside <ifmodule> (any case): skipped, said");
	ok(!strstr(notes(&d), "without SSLEngine on"), "apache: ... not counted as plain");
	like(notes(&d), "nested.example.org (/etc/apache2/sites-enabled/conditional.conf:19): "
	     "skipped: ServerAlias is inside <Else> at "
	     "/etc/apache2/sites-enabled/conditional.conf:27",
	     "apache: nested conditionals, <If> then <Else>: the innermost one named");
	like(notes(&d), "unclosed.example.org (/etc/apache2/sites-enabled/conditional.conf:42): "
	     "skipped: <IfFile /etc/x> at /etc/apache2/sites-enabled/conditional.conf:46 is not "
	     "closed inside the block", "apache: a conditional not closed in its block");
	like(notes(&d), "stray.example.org (/etc/apache2/sites-enabled/conditional.conf:48): "
	     "skipped: </IfModule> at /etc/apache2/sites-enabled/conditional.conf:52 closes a "
	     "section opened outside the block", "apache: a close without its opening in a block");
	discovered_done(&d);
	free(b.text);
}

static void apache_conditional_main(void)
{
	struct bundle b = apache_site("apache-inherit-dump.txt", "apache-inherit-main.conf",
				      "apache-inherit.conf",
				      "/etc/apache2/sites-enabled/inherit.conf");
	struct discovered d;

	ok(discover_apache(b.text, b.len, &d) == 0, "apache: the main server's conditionals");
	is_str(render(&d), "own.example.org 127.0.0.1 443 tls own.example.org /etc/ssl/own.pem "
	       "/etc/ssl/own.pem\n", "apache: a block with its own SSLEngine and pair: an endpoint");
	like(notes(&d), "pairs.example.org (/etc/apache2/sites-enabled/inherit.conf:6): skipped: "
	     "the main server's SSLCertificateFile is inside <IfModule mod_ssl.c> at "
	     "/etc/apache2/apache2.conf:3, a condition certwatch does not evaluate: write its "
	     "endpoint by hand", "apache: a block taking a conditional pair from the main server");
	like(notes(&d), "engine.example.org (/etc/apache2/sites-enabled/inherit.conf:10): skipped: "
	     "the main server's SSLEngine is inside <IfDefine !NOT> at "
	     "/etc/apache2/apache2.conf:7", "apache: ... or a conditional SSLEngine, nested");
	like(notes(&d), "/etc/apache2/apache2.conf:2: </IfVersion> closes no open section",
	     "apache: a close without its opening, said");
	like(notes(&d), "<IfModule unterminated.c> at /etc/apache2/apache2.conf:12 is not closed "
	     "by the end of its file", "apache: a conditional never closed, said");
	discovered_done(&d);
	free(b.text);
}

static void apache_macro(void)
{
	struct bundle b = apache_site("apache-macro-dump.txt", NULL, "apache-macro.conf",
				      "/etc/apache2/sites-enabled/macro.conf");
	struct discovered d;
	const char *n;

	ok(discover_apache(b.text, b.len, &d) == 0 && d.n_endpoints == 0,
	   "apache: blocks made by macros: no endpoint guessed");
	n = notes(&d);
	like(n, "a.example.org: defined by a macro (mod_macro) at "
	     "/etc/apache2/sites-enabled/macro.conf:12 (Use tlshost): not read; write its "
	     "endpoints by hand", "apache: a block a macro made, said where it is used");
	like(n, "b.example.org: defined by a macro (mod_macro) at "
	     "/etc/apache2/sites-enabled/macro.conf:13", "apache: ... each");
	ok(strstr(n, "a.example.org: defined") &&
	   !strstr(strstr(n, "a.example.org: defined") + 1, "a.example.org: defined"),
	   "apache: ... once, though DUMP_VHOSTS lists it twice");
	ok(!strstr(n, "does not use"), "apache: ... a macro's body is not a block Apache leaves out");
	like(n, "uses.example.org (/etc/apache2/sites-enabled/macro.conf:14): skipped: a macro is "
	     "used at /etc/apache2/sites-enabled/macro.conf:17 (mod_macro), which certwatch does "
	     "not expand: write its endpoint by hand",
	     "apache: a block that uses a macro: skipped, not given the macro body's pair");
	like(n, "/etc/apache2/sites-enabled/macro.conf:19: <Macro> is not closed",
	     "apache: a macro never closed, said");
	discovered_done(&d);
	free(b.text);
}

static void apache_names(void)
{
	struct bundle b = apache_site("apache-names-dump.txt", NULL, "apache-names.conf",
				      "/etc/apache2/sites-enabled/names.conf");
	struct discovered d;

	ok(discover_apache(b.text, b.len, &d) == 0, "apache: names that are not host names");
	is_str(render(&d),
	       "ok.example.org 127.0.0.1 443 tls ok.example.org /etc/ssl/names.pem "
	       "/etc/ssl/names.pem\n"
	       "default 127.0.0.1 8443 tls - /etc/ssl/quote.pem /etc/ssl/quote.pem\n",
	       "apache: a ServerName with a blank, a ServerAlias non-ASCII or with braces, a quote: "
	       "not sent; the first alias that is a host name is");
	like(notes(&d), "names.conf:2: ServerName \"shop example.org\" is not a host name",
	     "apache: ... each said with file:line");
	like(notes(&d), "names.conf:3: ServerAlias \"caf\\xc3\\xa9.example.org\" is not",
	     "apache: ... non-ASCII");
	like(notes(&d), "names.conf:3: ServerAlias \"{x}.example.org\" is not", "apache: ... braces");
	like(notes(&d), "names.conf:8: ServerName \"a\\\"b.example.org\" is not", "apache: ... a quote");
	discovered_done(&d);
	free(b.text);
}

static struct bundle haproxy_bundle(void)
{
	struct bundle b = { 0 };

	add_fixture(&b, "haproxy.cfg", "/etc/haproxy/haproxy.cfg");
	add_text(&b, 'd', "/etc/haproxy/certs", ".hidden.pem\napi.pem\napi.pem.key\n"
		 "example.org.pem\nexample.org.pem.ocsp\nlegacy.pem\n");
	add_text(&b, 'x', "/etc/haproxy/certs/api.pem", "");
	add_text(&b, 'x', "/etc/haproxy/certs/api.pem.key", "");
	add_text(&b, 'x', "/etc/haproxy/certs/example.org.pem", "");
	add_text(&b, 'x', "/etc/haproxy/certs/legacy.pem", "");
	add_text(&b, 'x', "/etc/letsencrypt/live/shop.example.org/fullchain.pem", "");
	add_fixture(&b, "haproxy-crt-list.txt", "/etc/haproxy/crt-list.txt");
	add_text(&b, 'x', "/etc/letsencrypt/live/shop.example.org/fullchain.pem.key", "");
	return b;
}

static void haproxy_debian(void)
{
	struct bundle b = haproxy_bundle();
	struct discovered d;
	char wants[4096] = "";

	ok(discover_haproxy_wants(b.text, b.len, record, wants) == 0,
	   "haproxy: what to read next");
	like(wants, "p /etc/haproxy/certs/api.pem\np /etc/haproxy/certs/api.pem.key\n"
	     "p /etc/haproxy/certs/example.org.pem\np /etc/haproxy/certs/example.org.pem.key\n"
	     "p /etc/haproxy/certs/legacy.pem\np /etc/haproxy/certs/legacy.pem.key\n",
	     "haproxy: in a crt directory, each certificate and its PATH.key");
	like(wants, "f /etc/haproxy/crt-list.txt\n"
	     "p /etc/letsencrypt/live/shop.example.org/fullchain.pem\n"
	     "p /etc/letsencrypt/live/shop.example.org/fullchain.pem.key\n",
	     "haproxy: a crt-list's contents, then its certificates and their PATH.key");
	ok(discover_haproxy(b.text, b.len, &d) == 0, "haproxy: Debian's haproxy.cfg parses");
	is_str(render(&d),
	       "www-api 127.0.0.1 443 tls - /etc/haproxy/certs/api.pem "
	       "/etc/haproxy/certs/api.pem.key\n"
	       "www-example.org 127.0.0.1 443 tls - /etc/haproxy/certs/example.org.pem "
	       "/etc/haproxy/certs/example.org.pem\n"
	       "www-legacy 127.0.0.1 443 tls - /etc/haproxy/certs/legacy.pem "
	       "/etc/haproxy/certs/legacy.pem\n"
	       "api-api 192.0.2.10 8443 tls - /etc/haproxy/certs/api.pem "
	       "/etc/haproxy/certs/api.pem.key\n"
	       "api-shop.example.org 192.0.2.10 8443 tls shop.example.org "
	       "/etc/letsencrypt/live/shop.example.org/fullchain.pem "
	       "/etc/letsencrypt/live/shop.example.org/fullchain.pem.key\n"
	       "api-legacy 192.0.2.10 8443 tls - /etc/haproxy/certs/legacy.pem "
	       "/etc/haproxy/certs/legacy.pem\n",
	       "haproxy: a crt directory (not its .key, .ocsp and hidden files), crt-base, "
	       "[::]:443 beside :443 probed once, a crt-list's first literal SNI filter, the "
	       "key in PATH.key when it exists");
	is_str(d.control_socket, "/run/haproxy/admin.sock", "haproxy: the admin socket");
	like(notes(&d), "api: bind unix@/run/haproxy/api.sock: skipped: not a TCP address",
	     "haproxy: a unix socket, said");
	like(notes(&d), "bind :9000-9010: skipped: no single port", "haproxy: a port range, said");
	like(notes(&d), "bind ${API_ADDR}:8444: skipped: it names a variable",
	     "haproxy: a variable is not resolved, said");
	like(notes(&d), "stats socket /run/haproxy/admin.sock has level admin",
	     "haproxy: what the admin socket means, said");
	discovered_done(&d);
	free(b.text);
}

static void haproxy_hostile(void)
{
	static const char cfg[] =
		"global\n\tcrt-base /c\nfrontend fe\n\tbind :443 ssl crt missing.pem crt-list l\n"
		"\tbind :444 ssl crt \"unterminated\n";
	struct bundle b = { 0 };
	struct discovered d;

	add_text(&b, 'f', "/h.cfg", cfg);
	add_text(&b, 'm', "/c/missing.pem", "No such file or directory");
	ok(discover_haproxy(b.text, b.len, &d) == 0 && d.n_endpoints == 0,
	   "haproxy: missing certificate and crt-list files give no endpoint");
	like(notes(&d), "fe: crt /c/missing.pem: No such file or directory",
	     "haproxy: a missing crt, said with why");
	like(notes(&d), "fe: crt-list /c/l: not read", "haproxy: a crt-list not read, said");
	like(notes(&d), "fe: crt /c/unterminated: not read",
	     "haproxy: an unterminated quote ends the word at the end of the line");
	ok(!strstr(notes(&d), "level admin"), "haproxy: no endpoint, nothing said of the socket");
	discovered_done(&d);
	free(b.text);

	b = (struct bundle){ 0 };
	add_text(&b, 'f', "/h.cfg", "frontend fe\n\tbind :445 ssl crt \"\" crt-list ''\n");
	ok(discover_haproxy(b.text, b.len, &d) == 0 && d.n_endpoints == 0,
	   "haproxy: empty paths without crt-base give no endpoint");
	like(notes(&d), "fe: an empty certificate path; skipped", "haproxy: crt \"\", said");
	like(notes(&d), "fe: an empty crt-list path; skipped", "haproxy: crt-list '', said");
	discovered_done(&d);
	free(b.text);

	b = (struct bundle){ 0 };
	add_text(&b, 'm', "/h.cfg", "Permission denied");
	ok(discover_haproxy(b.text, b.len, &d) == 0, "haproxy: a configuration not read");
	like(notes(&d), "/h.cfg: Permission denied", "haproxy: ... said with why");
	discovered_done(&d);
	free(b.text);
	ok(discover_haproxy("", 0, &d) == 0 && d.n_endpoints == 0,
	   "haproxy: an empty bundle: no endpoint, no crash");
	discovered_done(&d);
	ok(discover_haproxy("@@ f 5 /x\nbind", 14, &d) == 0 && d.n_endpoints == 0,
	   "haproxy: a cut bundle: no endpoint, no crash");
	discovered_done(&d);
}

static void haproxy_conditions_and_sections(void)
{
	static const char cfg[] =
		"global\n\tcrt-base /c\n"
		"frontend fe\n"
		"\tbind :443 ssl crt a.pem\n"
		".if defined(NEVER_SET)\n"
		"\tbind :8443 ssl crt a.pem\n"
		"  .if version_atleast(2.4)\n"
		"\tbind :8444 ssl crt a.pem\n"
		"  .endif\n"
		".elif streq(\"$X\",y)\n"
		"\tbind :8445 ssl crt a.pem\n"
		".else\n"
		"\tbind :8446 ssl crt a.pem\n"
		"\tbind :8080\n"
		".endif\n"
		"\tbind :444 ssl crt a.pem\n"
		".endif\n"
		"log-forward syslog\n"
		"\tbind :6514 ssl crt a.pem\n"
		"peers mypeers\n"
		"\tbind :10000 ssl crt a.pem\n"
		"fcgi-app php\n"
		"\tbind :8447 ssl crt a.pem\n"
		"listen li\n"
		"\tbind :445 ssl crt a.pem\n"
		".if defined(HAPROXY_LOCALPEER)\n"
		"\tbind :8448 ssl crt a.pem\n";
	struct bundle b = { 0 };
	struct discovered d;

	add_text(&b, 'f', "/h.cfg", cfg);
	add_text(&b, 'x', "/c/a.pem", "");
	ok(discover_haproxy(b.text, b.len, &d) == 0, "haproxy conditions: parse");
	is_str(render(&d),
	       "fe-a 127.0.0.1 443 tls - /c/a.pem /c/a.pem\n"
	       "fe-a-2 127.0.0.1 444 tls - /c/a.pem /c/a.pem\n"
	       "li-a 127.0.0.1 445 tls - /c/a.pem /c/a.pem\n",
	       "haproxy conditions: only binds outside .if blocks and in frontend or listen");
	like(notes(&d), "/h.cfg:6: bind :8443: inside .if: not evaluated; write it by hand",
	     "haproxy conditions: a bind inside .if, said with file:line");
	like(notes(&d), "/h.cfg:8: bind :8444: inside .if", "haproxy conditions: nested, said");
	like(notes(&d), "/h.cfg:11: bind :8445: inside .if", "haproxy conditions: .elif, said");
	like(notes(&d), "/h.cfg:13: bind :8446: inside .if", "haproxy conditions: .else, said");
	ok(!strstr(notes(&d), ":8080"), "haproxy conditions: a bind without ssl, not said");
	like(notes(&d), "/h.cfg:17: .endif without .if", "haproxy conditions: a stray .endif");
	like(notes(&d), "/h.cfg:26: .if without .endif: the rest of the file was taken as inside it",
	     "haproxy conditions: an unterminated .if, said where it opened");
	like(notes(&d), "/h.cfg:27: bind :8448: inside .if", "haproxy conditions: ... and its bind");
	like(notes(&d), "log-forward syslog: bind :6514 ssl: not a frontend or listen",
	     "haproxy sections: log-forward starts a section; its TLS bind, said");
	like(notes(&d), "peers mypeers: bind :10000 ssl: not a frontend", "haproxy: peers, said");
	like(notes(&d), "fcgi-app php: bind :8447 ssl", "haproxy sections: fcgi-app is one");
	discovered_done(&d);
	free(b.text);
}

static void haproxy_bounds_and_names(void)
{
	struct bundle b = { 0 };
	struct discovered d;
	char *list = malloc(12001 * 24 + 1);
	size_t n = 0;

	for (int i = 0; i < 12001 && list; i++)
		n += (size_t)sprintf(list + n, "/a.pem h%d.hap.test\n", i);
	if (!list)
		abort();
	add_text(&b, 'f', "/h.cfg", "frontend fe\n\tbind :443 ssl crt-list /l\n");
	add_text(&b, 'f', "/l", list);
	add_text(&b, 'x', "/a.pem", "");
	ok(discover_haproxy(b.text, b.len, &d) == 0 && d.n_endpoints == DISCOVER_MAX_ENDPOINTS,
	   "haproxy bounds: 12,001 crt-list lines give %d endpoints", DISCOVER_MAX_ENDPOINTS);
	is_str(notes(&d), "10977 more endpoints not listed: at most 1024 are; write the others by "
	       "hand\nno stats socket with level admin in global: a renewal reloads "
	       "haproxy.service\n", "haproxy bounds: one note counts the rest");
	discovered_done(&d);
	free(b.text);
	free(list);

	b = (struct bundle){ 0 };
	add_text(&b, 'f', "/h.cfg", "frontend fe\n\tbind :443 ssl crt-list /l\n");
	add_text(&b, 'f', "/l", "/a.pem caf\xe9.hap.test\n/a.pem blog.hap.test}\n/a.pem 192.0.2.7\n"
		 "/a.pem [alpn h2] !x.test *.w.test ok.hap.test\n");
	add_text(&b, 'x', "/a.pem", "");
	ok(discover_haproxy(b.text, b.len, &d) == 0, "haproxy names: parse");
	is_str(render(&d), "fe-a 127.0.0.1 443 tls - /a.pem /a.pem\n"
	       "fe-a-2 127.0.0.1 443 tls - /a.pem /a.pem\n"
	       "fe-a-3 127.0.0.1 443 tls - /a.pem /a.pem\n"
	       "fe-a-4 127.0.0.1 443 tls ok.hap.test /a.pem /a.pem\n",
	       "haproxy names: filters the loader would refuse are not sent");
	like(notes(&d), "fe-a: name \"caf\\xe9.hap.test\" is in Unicode", "haproxy names: Latin-1");
	like(notes(&d), "fe-a: name \"blog.hap.test}\" is not a host name", "haproxy names: a brace");
	like(notes(&d), "fe-a: name \"192.0.2.7\" is an IP address", "haproxy names: an IP literal");
	discovered_done(&d);
	free(b.text);
}

static void haproxy_crt_dir_notes_once(void)
{
	struct bundle b = { 0 };
	struct discovered d;

	add_text(&b, 'f', "/h.cfg", "frontend fe\n\tbind :443 ssl crt /d\n\tbind :444 ssl crt /d\n"
		 "frontend fe2\n\tbind :445,:446 ssl crt /d/\n");
	add_text(&b, 'd', "/d", "a.pem\nfifo.pem\nsub\n");
	add_text(&b, 'x', "/d/a.pem", "");
	add_text(&b, 'm', "/d/fifo.pem", "not a regular file");
	add_text(&b, 'd', "/d/sub", "x.pem\n");
	ok(discover_haproxy(b.text, b.len, &d) == 0 && d.n_endpoints == 4,
	   "haproxy crt dir: one endpoint per bind address");
	is_str(notes(&d), "crt /d/fifo.pem: not a regular file; skipped\n"
	       "crt /d/sub: a directory, which HAProxy does not look into; skipped\n"
	       "no stats socket with level admin in global: a renewal reloads haproxy.service\n",
	       "haproxy crt dir: a FIFO and a subdirectory, each said once");
	discovered_done(&d);
	free(b.text);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "we")) || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static void gather_from_disk(const char *top)
{
	char certs[PATH_MAX + 16], cfg[PATH_MAX + 16], fifo[PATH_MAX + 16];
	char text[PATH_MAX * 4], expect[PATH_MAX * 4];
	struct disc_bundle b = { 0 };
	struct discovered d;

	snprintf(certs, sizeof(certs), "%s/certs", top);
	snprintf(cfg, sizeof(cfg), "%s/haproxy.cfg", top);
	snprintf(fifo, sizeof(fifo), "%s/fifo.pem", top);
	if (mkdir(certs, 0700) < 0 || mkfifo(fifo, 0600) < 0)
		abort();
	write_file(certs, "a.pem", "not read: only its existence\n");
	write_file(certs, "a.pem.key", "");
	write_file(certs, "b.pem", "");
	snprintf(text, sizeof(text), "certs/b.pem www.example\n%s/fifo.pem\n", top);
	write_file(top, "list", text);
	snprintf(text, sizeof(text), "global\n\tcrt-base %s\nfrontend fe\n"
		 "\tbind 127.0.0.1:443 ssl crt %s/ crt %s crt-list %s/list crt-list nope\n",
		 top, certs, fifo, top);
	write_file(top, "haproxy.cfg", text);

	ok(disc_bundle_seed(&b, 'f', cfg, NULL, 0) == 0 &&
	   disc_bundle_gather(&b, discover_haproxy_wants) == 0, "gather: haproxy's files");
	ok(discover_haproxy(b.text, b.len, &d) == 0, "gather: the bundle parses");
	snprintf(expect, sizeof(expect),
		 "fe-a 127.0.0.1 443 tls - %s/a.pem %s/a.pem.key\n"
		 "fe-b 127.0.0.1 443 tls - %s/b.pem %s/b.pem\n"
		 "fe-b-2 127.0.0.1 443 tls www.example %s/b.pem %s/b.pem\n",
		 certs, certs, certs, certs, certs, certs);
	is_str(render(&d), expect, "gather: a directory listed, PATH.key found where it exists, "
	       "a crt-list read");
	like(notes(&d), "fifo.pem: not a regular file", "gather: a FIFO is not read, not waited on");
	like(notes(&d), "/nope: No such file or directory", "gather: a missing crt-list");
	ok(!strstr(b.text, "only its existence"),
	   "gather: a certificate file's contents are not read");
	discovered_done(&d);
	disc_bundle_done(&b);
}

int main(void)
{
	const char *src = getenv("TESTS_SRCDIR");
	char top[PATH_MAX];

	fixture_dir(src);
	snprintf(top, sizeof(top), "%s/test-discover-web.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(top))
		return 99;

	apache_debian();
	apache_hostile();
	apache_continued();
	apache_conditional();
	apache_conditional_main();
	apache_macro();
	apache_names();
	haproxy_debian();
	haproxy_hostile();
	gather_from_disk(top);
	haproxy_conditions_and_sections();
	haproxy_bounds_and_names();
	haproxy_crt_dir_notes_once();

	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", top);
	}
	return tap_done();
}
