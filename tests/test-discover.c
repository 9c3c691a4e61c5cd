/*
 * test-discover.c - certwatch discover: the parsers on dumps captured from
 * the real tools (tests/discover-fixtures/, made with doveconf -c FILE -P -n,
 * postconf -c DIR -n -x / -M -x and nginx -T -c FILE against private
 * configurations, paths rewritten to /etc/...), on hand-made edge cases and
 * garbage, and discover_write_opts() end to end with stand-in programs in
 * a temporary directory: a dump that fails, a daemon not installed, a dump
 * that hangs or never ends, and output that loads as a configuration.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "conf.h"
#include "discover.h"
#include "discover-int.h"
#include "starttls.h"
#include "util.h"
#include "../tests/tap.h"
#include "../tests/discover-fixture.h"
#include "../tests/pki.h"

static char top[PATH_MAX];

static void dovecot_full_listeners_and_local_names(void)
{
	struct discovered d;
	size_t len;
	char *t = fixture("dovecot-full.txt", &len);

	ok(discover_dovecot(t, len, NULL, &d) == 0, "dovecot: a full doveconf -P -n dump parses");
	is_str(render(&d),
	       "imap 127.0.0.1 143 imap - - -\n"
	       "imaps 127.0.0.1 993 tls - - -\n"
	       "pop3s 127.0.0.1 995 tls - - -\n"
	       "sieve 127.0.0.1 4190 sieve - - -\n"
	       "lmtp 127.0.0.1 24 lmtp - - -\n"
	       "imap.other.example 127.0.0.1 993 tls imap.other.example "
	       "/etc/ssl/other/fullchain.pem /etc/ssl/other/privkey.pem\n"
	       "mx.third.example 127.0.0.1 993 tls mx.third.example "
	       "/etc/ssl/third/fullchain.pem /etc/ssl/third/privkey.pem\n",
	       "dovecot: STARTTLS and implicit listeners, port 0 disabled, lmtp's address, "
	       "local_name blocks as SNI endpoints with their own pair");
	is_str(d.cert, "/etc/ssl/mail/fullchain.pem", "dovecot: ssl_cert without its \"<\"");
	is_str(d.key, "/etc/ssl/mail/privkey.pem", "dovecot: ssl_key read from the -P dump");
	discovered_done(&d);
	free(t);
}

static void dovecot_imaps_only(void)
{
	struct discovered d;
	size_t len;
	char *t = fixture("dovecot-imaps-only.txt", &len);

	ok(discover_dovecot(t, len, NULL, &d) == 0, "dovecot imaps only: parses");
	is_str(render(&d), "imaps 192.0.2.10 993 tls - - -\n",
	       "dovecot imaps only: one implicit-TLS endpoint on the listen address");
	is_str(d.hostname, "mail.example.com", "dovecot: hostname kept as a name candidate");
	discovered_done(&d);
	free(t);
}

static void dovecot_ssl_no(void)
{
	struct discovered d;
	size_t len;
	char *t = fixture("dovecot-ssl-no.txt", &len);

	ok(discover_dovecot(t, len, NULL, &d) == 0, "dovecot ssl = no: parses");
	ok(d.n_endpoints == 0, "dovecot ssl = no: no endpoint");
	like(notes(&d), "ssl = no", "dovecot ssl = no: a note says why");
	discovered_done(&d);
	free(t);
}

static void dovecot_defaults_haproxy_and_protocol_ssl(void)
{
	struct discovered d;
	size_t len;
	char *t = fixture("dovecot-defaults.txt", &len);

	ok(discover_dovecot(t, len, "imap pop3", &d) == 0, "dovecot defaults: parses");
	is_str(render(&d), "imap 127.0.0.1 143 imap - - -\n",
	       "dovecot defaults: the default imap listener from `protocols`; haproxy imaps "
	       "and pop3 with ssl = no skipped");
	like(notes(&d), "imaps: skipped: it expects the HAProxy protocol",
	     "dovecot: a haproxy listener is named in a note");
	like(notes(&d), "pop3s: skipped: ssl = no", "dovecot: protocol pop3 { ssl = no } is honoured");
	discovered_done(&d);
	free(t);
}

static void dovecot_hidden_and_inline_keys(void)
{
	static const char hidden[] =
		"ssl_cert = </etc/ssl/c.pem\nssl_key = # hidden, use -P to show it\n"
		"protocols = imap\n";
	static const char inline_pem[] =
		"ssl_cert = -----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
		"protocols = imap\n";
	struct discovered d;

	ok(discover_dovecot(hidden, sizeof(hidden) - 1, NULL, &d) == 0 && d.key == NULL,
	   "dovecot: a hidden ssl_key is not guessed");
	like(notes(&d), "run doveconf with -P", "dovecot: a hidden ssl_key says how to show it");
	discovered_done(&d);
	ok(discover_dovecot(inline_pem, sizeof(inline_pem) - 1, NULL, &d) == 0 &&
	   d.n_endpoints == 0 && d.cert == NULL, "dovecot: an inline PEM certificate gives no endpoint");
	like(notes(&d), "inline PEM", "dovecot: an inline certificate is named in a note");
	discovered_done(&d);
}

static void postfix_submission_and_overrides(void)
{
	struct discovered d;
	size_t ml, Ml;
	char *m = fixture("postfix-main.txt", &ml), *M = fixture("postfix-master.txt", &Ml);

	ok(discover_postfix(m, ml, M, Ml, &d) == 0, "postfix: postconf -n -x and -M -x parse");
	is_str(render(&d),
	       "smtp 127.0.0.1 25 smtp - - -\n"
	       "submission 127.0.0.1 587 smtp - - -\n"
	       "submissions 127.0.0.1 465 tls - /etc/letsencrypt/live/submit.example.com/fullchain.pem "
	       "/etc/letsencrypt/live/submit.example.com/privkey.pem postfix\n"
	       "smtpd-2525 127.0.0.1 2525 smtp - /etc/ssl/local smtp/cert.pem "
	       "/etc/ssl/local smtp/key.pem\n",
	       "postfix: 25 and 587 STARTTLS, 465 wrapper mode with smtpd_tls_chain_files, "
	       "a host:port service with braced -o overrides");
	is_str(d.cert, "/etc/letsencrypt/live/mx.example.com/fullchain.pem",
	       "postfix: main.cf's certificate, $names expanded by postconf -x");
	is_str(d.hostname, "mx.example.com", "postfix: myhostname kept as a name candidate");
	like(notes(&d), "[::1]:10025: skipped: no TLS", "postfix: a service with TLS off is named");
	discovered_done(&d);
	free(m);
	free(M);
}

static void postfix_postscreen_and_chain_file(void)
{
	struct discovered d;
	size_t ml, Ml;
	char *m = fixture("postfix-postscreen-main.txt", &ml);
	char *M = fixture("postfix-postscreen-master.txt", &Ml);

	ok(discover_postfix(m, ml, M, Ml, &d) == 0, "postfix postscreen: parses");
	is_str(render(&d), "smtp 127.0.0.1 25 smtp - - -\nsmtps 127.0.0.1 465 tls - - -\n",
	       "postfix: postscreen on 25 is STARTTLS, smtps wrapper mode, loopback-only");
	is_str(d.cert, "/etc/ssl/mx/combined.pem", "postfix: one chain file is certificate ...");
	is_str(d.key, "/etc/ssl/mx/combined.pem", "postfix: ... and key");
	ok(d.format == PAIR_FORMAT_POSTFIX_CHAIN_FILES, "postfix: ... read by Postfix's rules");
	discovered_done(&d);
	free(m);
	free(M);
}

static void nginx_vhosts(void)
{
	struct discovered d;
	size_t len;
	char *t = fixture("nginx-vhosts.txt", &len);

	ok(discover_nginx(t, len, &d) == 0, "nginx: an nginx -T dump parses");
	is_str(render(&d),
	       "shop.example.com 127.0.0.1 443 tls shop.example.com "
	       "/etc/letsencrypt/live/shop.example.com/fullchain.pem "
	       "/etc/letsencrypt/live/shop.example.com/privkey.pem\n"
	       "www.example.com 127.0.0.1 443 tls www.example.com "
	       "/etc/letsencrypt/live/www.example.com/fullchain.pem "
	       "/etc/letsencrypt/live/www.example.com/privkey.pem\n"
	       "wild.example.com 127.0.0.2 8443 tls certwatch-probe.wild.example.com "
	       "/etc/letsencrypt/live/wild.example.com/fullchain.pem "
	       "/etc/letsencrypt/live/wild.example.com/privkey.pem\n"
	       "old.example.com 127.0.0.1 9443 tls old.example.com "
	       "/etc/letsencrypt/live/old.example.com/fullchain.pem "
	       "/etc/letsencrypt/live/old.example.com/privkey.pem\n",
	       "nginx: two vhosts with their own certificates (one from an included snippet), "
	       "[::]:443 folded into *:443, a wildcard-only server sent a name it covers, "
	       "old-style ssl on");
	like(notes(&d), "2 server blocks without TLS skipped", "nginx: plain servers are skipped");
	like(notes(&d), "server wild.example.com: no literal server_name: probed as "
	     "certwatch-probe.wild.example.com, a name *.wild.example.com covers",
	     "nginx: the name probed for a wildcard-only server is said");
	discovered_done(&d);
	free(t);
}

static void nginx_stream_relative_quotes_and_skips(void)
{
	static const char dump[] =
		"# configuration file /etc/nginx/nginx.conf:\n"
		"stream {\n"
		"\tssl_certificate /etc/ssl/syslog.pem;\n"
		"\tssl_certificate_key syslog.key; # relative to /etc/nginx\n"
		"\tserver { listen 6514 ssl; proxy_pass 127.0.0.1:514; }\n"
		"\tserver { listen 5000; proxy_pass 127.0.0.1:5001; }\n"
		"}\n"
		"mail { server { listen 993 ssl; protocol imap; } }\n"
		"http {\n"
		"\tinclude conf.d/*.conf;\n"
		"\tserver { listen 443 ssl; server_name dyn.example.com;\n"
		"\t\tssl_certificate $ssl_server_name.crt; ssl_certificate_key $ssl_server_name.key; }\n"
		"\tserver { listen 8443 ssl proxy_protocol; server_name pp.example.com;\n"
		"\t\tssl_certificate /c.pem; ssl_certificate_key /k.pem; }\n"
		"\tserver { listen 7443 ssl; server_name nocert.example.com; }\n"
		"}\n"
		"\n"
		"# configuration file /etc/nginx/conf.d/a.conf:\n"
		"server {\n"
		"\tlisten [::]:8443 ssl;\n"
		"\tlisten unix:/run/a.sock ssl;\n"
		"\tlisten 127.0.0.1:8444 quic;\n"
		"\tserver_name \"a\\\"b.example\" '*.a.example';\n"
		"\tssl_certificate certs/a.pem;\n"
		"\tssl_certificate_key \"certs/a key.pem\";\n"
		"}\n";
	struct discovered d;

	ok(discover_nginx(dump, sizeof(dump) - 1, &d) == 0, "nginx edge cases: parse");
	is_str(render(&d),
	       "stream 127.0.0.1 6514 tls - /etc/ssl/syslog.pem /etc/nginx/syslog.key\n"
	       "a-b.example ::1 8443 tls - /etc/nginx/certs/a.pem "
	       "/etc/nginx/certs/a key.pem\n",
	       "nginx: a stream server with stream-level pair, a relative include and relative "
	       "paths, [::] to ::1, quotes and escapes, unix and quic listeners ignored");
	like(notes(&d), "a\\\"b.example: name \"a\\\"b.example\" is not a host name",
	     "nginx: a server_name the loader refuses is not sent, said");
	like(notes(&d), "dyn.example.com: skipped: the certificate is chosen at run time",
	     "nginx: a certificate from a variable is named in a note");
	like(notes(&d), "pp.example.com: skipped: it expects the PROXY protocol",
	     "nginx: a proxy_protocol listener is named in a note");
	like(notes(&d), "nocert.example.com: skipped: no ssl_certificate",
	     "nginx: listen ssl without a certificate is named in a note");
	like(notes(&d), "mail { } block is not read", "nginx: a mail block is named in a note");
	discovered_done(&d);
}

static void nginx_names_unique_and_valid(void)
{
	char dump[8192];
	struct discovered d;
	bool valid = true;
	int n;

	n = snprintf(dump, sizeof(dump), "# configuration file /etc/nginx/nginx.conf:\nhttp {\n");
	for (int i = 0; i < 3; i++)
		n += snprintf(dump + n, sizeof(dump) - (size_t)n,
			      "server { listen %d ssl; server_name %s; ssl_certificate /c; "
			      "ssl_certificate_key /k; }\n", 4430 + i,
			      "very-long-name-that-goes-on-and-on-and-on-and-on.and-on-and-on.and-on"
			      ".example.com");
	n += snprintf(dump + n, sizeof(dump) - (size_t)n,
		      "server { listen 4440 ssl; listen 4441 ssl; server_name -x:y/z; "
		      "ssl_certificate /c; ssl_certificate_key /k; }\n}\n");
	ok(discover_nginx(dump, (size_t)n, &d) == 0 && d.n_endpoints == 5,
	   "nginx names: five endpoints");
	for (size_t i = 0; i < d.n_endpoints; i++) {
		const char *s = d.endpoints[i].name;
		valid &= strlen(s) <= 64 && s[0] != '-' && s[0] != '.' &&
			 strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
			 strlen(s);
		for (size_t j = 0; j < i; j++)
			valid &= strcmp(s, d.endpoints[j].name) != 0;
	}
	ok(valid, "nginx names: at most 64 of [A-Za-z0-9._-], not starting with - or ., unique");
	ok(d.n_endpoints == 5 && strcmp(d.endpoints[3].name, "x-y-z-4440") == 0 &&
	   strcmp(d.endpoints[4].name, "x-y-z-4441") == 0,
	   "nginx names: a server with two TLS listeners gets NAME-PORT for each");
	discovered_done(&d);
}

/* Every place a daemon names a certificate: several pairs per listener, wildcards, sections. */
static void pairs_everywhere(void)
{
	static const char nginx[] =
		"# configuration file /etc/nginx/nginx.conf:\n"
		"http {\n"
		"\tserver { listen 443 ssl; server_name dual.example.com;\n"
		"\t\tssl_certificate /r.pem; ssl_certificate_key /r.key;\n"
		"\t\tssl_certificate /e.pem; ssl_certificate_key /e.key; }\n"
		"\tserver { listen 8443 ssl; server_name .short.example www.example.*;\n"
		"\t\tssl_certificate /s.pem; ssl_certificate_key /s.key; }\n"
		"\tserver { listen 9443 ssl; server_name ~^(?<x>.+)\\.example$;\n"
		"\t\tssl_certificate /x.pem; ssl_certificate_key /x.key; }\n"
		"\tserver { listen 7443 ssl; server_name odd.example.com;\n"
		"\t\tssl_certificate /o.pem; ssl_certificate /o2.pem; ssl_certificate_key /o.key; }\n"
		"}\n";
	static const char dovecot[] =
		"protocols = imap\nlisten = 127.0.0.1\n"
		"ssl_cert = </r.pem\nssl_key = </r.key\nssl_alt_cert = </e.pem\nssl_alt_key = </e.key\n"
		"service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n}\n"
		"local_name *.apps.example {\n  ssl_cert = </w.pem\n  ssl_key = </w.key\n}\n"
		"local 192.0.2.5 {\n  ssl_cert = </l.pem\n  ssl_key = </l.key\n}\n"
		"remote 10.0.0.0/8 {\n  ssl_cert = </m.pem\n  ssl_key = </m.key\n}\n";
	static const char pf_main[] =
		"smtpd_tls_cert_file = /r.pem\nsmtpd_tls_key_file = /r.key\n"
		"smtpd_tls_eccert_file = /e.pem\nsmtpd_tls_dcert_file = /d.pem\n"
		"smtpd_tls_security_level = may\ninet_interfaces = 127.0.0.1\n"
		"tls_server_sni_maps = hash:/etc/postfix/sni\n";
	static const char pf_master[] =
		"smtp inet n - y - - smtpd\n"
		"2465 inet n - y - - smtpd -o smtpd_tls_wrappermode=yes "
		"-o smtpd_tls_chain_files=/k.pem,/c.pem,/ch.pem\n";
	struct discovered d;

	ok(discover_nginx(nginx, sizeof(nginx) - 1, &d) == 0, "pairs: nginx parses");
	is_str(render(&d),
	       "dual.example.com 127.0.0.1 443 tls dual.example.com /r.pem /r.key +/e.pem\n"
	       "short.example 127.0.0.1 8443 tls short.example /s.pem /s.key\n"
	       "default 127.0.0.1 9443 tls - /x.pem /x.key\n",
	       "pairs: nginx: two ssl_certificate lines are two pairs; \".x\" is the name x; a "
	       "regex server has no name to send");
	like(notes(&d), "odd.example.com: skipped: its ssl_certificate and ssl_certificate_key lines "
	     "do not pair up", "pairs: nginx: certificates and keys that do not pair up are said");
	discovered_done(&d);

	ok(discover_dovecot(dovecot, sizeof(dovecot) - 1, NULL, &d) == 0, "pairs: dovecot parses");
	is_str(render(&d),
	       "imaps 127.0.0.1 993 tls - - -\n"
	       "apps.example 127.0.0.1 993 tls certwatch-probe.apps.example /w.pem /w.key +/e.pem\n"
	       "local-192.0.2.5 192.0.2.5 993 tls - /l.pem /l.key +/e.pem\n",
	       "pairs: dovecot: the global pairs inherited; a wildcard local_name sent a name it "
	       "covers; a local address its own endpoint; both keep the global ssl_alt_cert");
	ok(d.n_alt == 1 && strcmp(d.alt[0].cert, "/e.pem") == 0 && strcmp(d.alt[0].key, "/e.key") == 0,
	   "pairs: dovecot: ssl_alt_cert is the service's second pair");
	like(notes(&d), "local_name *.apps.example: probed as certwatch-probe.apps.example",
	     "pairs: dovecot: the name probed for a wildcard local_name is said");
	like(notes(&d), "by \"remote\" address", "pairs: dovecot: a remote section is said");
	discovered_done(&d);

	ok(discover_postfix(pf_main, sizeof(pf_main) - 1, pf_master, sizeof(pf_master) - 1, &d) == 0,
	   "pairs: postfix parses");
	is_str(render(&d),
	       "smtp 127.0.0.1 25 smtp - - -\n"
	       "smtpd-2465 127.0.0.1 2465 tls - /c.pem /k.pem chain=/ch.pem postfix\n",
	       "pairs: postfix: main.cf's pairs inherited; three chain files as key, certificate, "
	       "chain");
	ok(d.n_alt == 1 && strcmp(d.alt[0].cert, "/e.pem") == 0 && strcmp(d.alt[0].key, "/e.pem") == 0,
	   "pairs: postfix: smtpd_tls_eccert_file is the second pair, its key in it by default");
	like(notes(&d), "DSA pair (smtpd_tls_dcert_file) is not listed", "pairs: postfix: DSA is said");
	like(notes(&d), "tls_server_sni_maps gives per name are not listed",
	     "pairs: postfix: the per-name certificates of tls_server_sni_maps are said");
	discovered_done(&d);
}

/* Stands in for the files: /r* RSA, /e* ECDSA, /two* both, /c.pem none known. */
static int fake_types(const struct discovered_pair *p, enum key_type *ret, size_t max,
		      void *userdata)
{
	(void)userdata;
	if (max < 2 || !p->cert)
		return 0;
	if (strncmp(p->cert, "/two", 4) == 0) {
		ret[0] = KEY_TYPE_RSA;
		ret[1] = KEY_TYPE_ECDSA;
		return 2;
	}
	ret[0] = p->cert[1] == 'r' ? KEY_TYPE_RSA : KEY_TYPE_ECDSA;
	return p->cert[1] == 'r' || p->cert[1] == 'e' ? 1 : 0;
}

static void split_one_endpoint_per_pair(void)
{
	struct discovered d = { 0 };
	char r_pem[] = "/r.pem", r_key[] = "/r.key", two[] = "/two.pem";

	d.cert = r_pem;
	d.key = r_key;
	d.n_alt = 1;
	d.alt[0] = (struct discovered_pair) { .cert = strdup("/e.pem"), .key = strdup("/e.key") };
	d.endpoints = calloc(DISCOVER_MAX_ENDPOINTS, sizeof(*d.endpoints));
	d.endpoints[0] = (struct discovered_endpoint) { .name = strdup("imaps"),
		.address = strdup("127.0.0.1"), .port = 993, .starttls = -1,
		.key_type = KEY_TYPE_AUTO };
	d.endpoints[1] = (struct discovered_endpoint) { .name = strdup("smtp"),
		.address = strdup("127.0.0.1"), .port = 25, .starttls = -1, .cert = strdup(two),
		.key = strdup(two), .format = PAIR_FORMAT_POSTFIX_CHAIN_FILES,
		.key_type = KEY_TYPE_AUTO };
	d.endpoints[2] = (struct discovered_endpoint) { .name = strdup("one"),
		.address = strdup("127.0.0.1"), .port = 443, .starttls = -1, .cert = strdup(r_pem),
		.key = strdup(r_key), .key_type = KEY_TYPE_AUTO };
	d.n_endpoints = 3;
	ok(discovered_split_pairs(&d, fake_types, NULL) == 0, "split: done");
	is_str(render(&d),
	       "imaps-rsa 127.0.0.1 993 tls - - - key-type=rsa\n"
	       "imaps-ecdsa 127.0.0.1 993 tls - /e.pem /e.key key-type=ecdsa\n"
	       "smtp-rsa 127.0.0.1 25 tls - /two.pem /two.pem postfix key-type=rsa\n"
	       "smtp-ecdsa 127.0.0.1 25 tls - /two.pem /two.pem postfix key-type=ecdsa\n"
	       "one 127.0.0.1 443 tls - /r.pem /r.key\n",
	       "split: a listener with the service's two pairs, a file with two pairs: one endpoint "
	       "per pair with its key type; one pair: as it was");
	ok(d.n_alt == 0, "split: the service's alternatives now belong to endpoints");
	d.cert = d.key = NULL;
	discovered_done(&d);
}

static void garbage_never_crashes(void)
{
	static const char *const inputs[] = {
		"", "{", "}", "}}}}{{{{", "= = =", "\0\0\0", "service {\n inet_listener {\n port = 99999\n",
		"# configuration file :\n", "# configuration file /x:\nhttp { server { listen [::1 ssl; } ",
		"# configuration file /x:\nhttp { include /x; }",   /* includes itself */
		"a inet n - n - - smtpd -o", "[::1 inet n - n - - smtpd", ":0 inet n - n - - smtpd",
		"# configuration file /x:\n\"unterminated", "# configuration file /x:\nserver { listen 443 ssl; }",
	};
	char big[70000];
	struct discovered d;
	bool fine = true;

	for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
		size_t len = strlen(inputs[i]) + (i == 5 ? 3 : 0);
		fine &= discover_dovecot(inputs[i], len, NULL, &d) == 0;
		discovered_done(&d);
		fine &= discover_postfix(inputs[i], len, inputs[i], len, &d) == 0;
		discovered_done(&d);
		fine &= discover_nginx(inputs[i], len, &d) == 0;
		discovered_done(&d);
		fine &= discover_exim(inputs[i], len, &d) == 0;
		discovered_done(&d);
	}
	ok(fine, "garbage, truncated blocks and a self-include: every parser returns 0");

	/* One endless line and deep nesting. */
	memset(big, '{', sizeof(big));
	memcpy(big, "# configuration file /x:\n", 25);
	fine = discover_nginx(big, sizeof(big), &d) == 0;
	like(notes(&d), "nested more than", "nginx: nesting deeper than the bound is a note, not a crash");
	discovered_done(&d);
	fine &= discover_dovecot(big, sizeof(big), NULL, &d) == 0;
	discovered_done(&d);
	fine &= discover_postfix(big, sizeof(big), big, sizeof(big), &d) == 0;
	discovered_done(&d);
	ok(fine, "a 70 kB line of braces: every parser returns 0");

	{
		static const char bomb[] = "# configuration file /x:\nhttp { include /x; include /x; "
					   "include /x; include /x; }\n";
		uint64_t t0 = now_monotonic_usec();
		ok(discover_nginx(bomb, sizeof(bomb) - 1, &d) == 0, "nginx: a file including itself four times parses");
		like(notes(&d), "the rest are not read", "nginx: includes are bounded in all, not only in depth");
		ok(now_monotonic_usec() - t0 < 2 * USEC_PER_SEC, "nginx: an include bomb takes no time");
		discovered_done(&d);
	}
}

/* ---- discover_write_opts with stand-in programs -------------------------------------- */

static void put_script(const char *dir, const char *name, const char *body)
{
	char path[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		abort();
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
}

static char *write_to_string(const struct discover_options *o, int *ret)
{
	char *buf = NULL, err[256] = "";
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	*ret = discover_write_opts(f, o, err, sizeof(err));
	fclose(f);
	return buf;
}

static void write_with_stand_ins(void)
{
	char bin[PATH_MAX + 16], sd[PATH_MAX + 16], body[PATH_MAX * 3], conf[PATH_MAX + 32];
	char cdir[PATH_MAX + 16], err[4096];
	struct discover_options o = { 0 };
	struct conf *c = NULL;
	uint64_t t0;
	FILE *f;
	char *out;
	int r;

	snprintf(bin, sizeof(bin), "%s/bin", top);
	snprintf(sd, sizeof(sd), "%s/systemd", top);
	if (mkdir(bin, 0755) < 0 || mkdir(sd, 0755) < 0)
		abort();
	snprintf(body, sizeof(body),
		 "case \"$*\" in *protocols*) echo 'imap pop3 lmtp sieve' ;;\n"
		 "*) cat '%s/dovecot-full.txt' ;; esac", fixture_dirname());
	put_script(bin, "doveconf", body);
	put_script(bin, "postconf", "echo 'postconf: fatal: open /etc/postfix/main.cf: No such file "
		   "or directory' >&2; exit 1");
	o.search_path = bin;
	o.systemd_dir = sd;

	out = write_to_string(&o, &r);
	ok(r == 1, "write: one service found (got %d)", r);
	like(out, "service dovecot {", "write: the dovecot service");
	like(out, "\treload-unit = \"dovecot.service\"\n",
	     "write: with systemd as PID 1, dovecot is reloaded by its unit");
	like(out, "reload-check = {\"", "write: dovecot has a configuration test");
	like(out, "/bin/doveconf\", \"-n\"}", "write: the configuration test is doveconf -n");
	like(out, "\tendpoint imaps {\n\t\taddress = \"127.0.0.1\"\n\t\tport = 993\n\t}\n",
	     "write: an implicit-TLS endpoint");
	like(out, "\t\tstarttls = \"sieve\"\n", "write: a STARTTLS endpoint names its protocol");
	like(out, "# postfix: postconf -n -x failed (exit 1): postconf: fatal: open "
	     "/etc/postfix/main.cf: No such file or directory\n",
	     "write: a failing dump is a comment with its exit status and stderr");
	like(out, "# nginx: not installed (nginx: command not found)\n",
	     "write: a missing daemon is a comment");

	/* The output is a configuration certwatch loads. */
	snprintf(cdir, sizeof(cdir), "%s/etc", top);
	snprintf(conf, sizeof(conf), "%s/certwatch.conf", cdir);
	if (mkdir(cdir, 0700) < 0 || !(f = fopen(conf, "we")))
		abort();
	fputs(out, f);
	fclose(f);
	chmod(conf, 0600);
	r = conf_load(conf, true, &c, err, sizeof(err));
	ok(r == 0 && c->n_services == 1 && c->services[0].n_endpoints == 7,
	   "write: the output loads with conf_load, one service with 7 endpoints%s%s",
	   r ? ": " : "", r ? err : "");
	conf_free(c);
	free(out);

	/* Without systemd, the reload command of the private instance. */
	o.systemd_dir = "/nonexistent/systemd";
	o.dovecot_conf = "/srv/dovecot.conf";
	put_script(bin, "doveadm", "exit 0");
	out = write_to_string(&o, &r);
	snprintf(body, sizeof(body), "\treload-command = {\"%s/doveadm\", \"-c\", "
		 "\"/srv/dovecot.conf\", \"reload\"}\n", bin);
	like(out, body, "write: without systemd, doveadm -c FILE reload");
	free(out);

	/* A dump that hangs is cut off by the timeout. */
	put_script(bin, "nginx", "exec sleep 30");
	o.timeout_usec = 300 * USEC_PER_MSEC;
	t0 = now_monotonic_usec();
	out = write_to_string(&o, &r);
	like(out, "# nginx: nginx -T did not finish in time\n", "write: a hanging dump is a comment");
	ok(now_monotonic_usec() - t0 < 5 * USEC_PER_SEC, "write: the hanging dump was killed in time");
	free(out);

	/* A dump that never ends is cut at the bound. */
	put_script(bin, "nginx", "exec yes");
	o.timeout_usec = 20 * USEC_PER_SEC;
	out = write_to_string(&o, &r);
	like(out, "# nginx: nginx -T printed more than 4194304 bytes\n",
	     "write: an endless dump is cut at 4 MiB");
	free(out);
}

static void exim_ports_and_lists(void)
{
	static const char odd[] =
		"tls_certificate = /etc/exim4/exim.crt\n"
		"tls_privatekey = \n"
		"daemon_smtp_ports = <, 2525, 1465, pop3\n"
		"tls_on_connect_ports = <; 1465\n"
		"local_interfaces = [192.0.2.7]:2525 : 192.0.2.8.25\n"
		"tls_advertise_hosts = \n";
	static const char expanded[] =
		"tls_certificate = ${if exists{/etc/exim4/$tls_in_sni.crt}{...}}\n";
	struct discovered d;
	size_t len;
	char *t = fixture("exim-tls.txt", &len);

	ok(discover_exim(t, len, &d) == 0, "exim: an exim -bP dump parses");
	is_str(render(&d),
	       "smtp 127.0.0.1 25 smtp - - -\n"
	       "smtps 127.0.0.1 465 tls - - -\n"
	       "submission 127.0.0.1 587 smtp - - -\n",
	       "exim: STARTTLS on smtp and submission, TLS on connect on 465, loopback for the "
	       "wildcard");
	is_str(d.cert, "/etc/letsencrypt/live/mx.example.org/fullchain.pem", "exim: the pair");
	is_str(d.key, "/etc/letsencrypt/live/mx.example.org/privkey.pem", "exim: ... and key");
	is_str(d.hostname, "mx.example.org", "exim: primary_hostname is the name to probe");
	discovered_done(&d);
	free(t);

	t = fixture("exim-defaults.txt", &len);
	ok(discover_exim(t, len, &d) == 0 && d.n_endpoints == 0, "exim: Debian's defaults parse");
	like(notes(&d), "tls_certificate is not set: Exim offers no TLS",
	     "exim: no tls_certificate, no TLS, said");
	discovered_done(&d);
	free(t);

	ok(discover_exim(odd, sizeof(odd) - 1, &d) == 0, "exim: lists of their own separators");
	is_str(render(&d), "smtps 192.0.2.7 1465 tls - - -\n",
	       "exim: only the TLS-on-connect port, at the first interface without its port");
	is_str(d.key, "/etc/exim4/exim.crt", "exim: no tls_privatekey: the key is in the "
	       "certificate's file");
	like(notes(&d), "port 2525: tls_advertise_hosts is empty", "exim: no STARTTLS, said");
	like(notes(&d), "pop3 is not a port certwatch knows", "exim: an unknown port name, said");
	discovered_done(&d);

	ok(discover_exim(expanded, sizeof(expanded) - 1, &d) == 0 && d.n_endpoints == 0 &&
	   !d.cert, "exim: an expanded tls_certificate gives no endpoint");
	like(notes(&d), "expands it for each connection", "exim: ... and says why");
	discovered_done(&d);
}

/* ---- the common layer: names, bounds ------------------------------------------------ */

static void names_the_loader_refuses_are_left_out(void)
{
	static const char *const bad[] = { "caf\xe9.hap.test", "blog.hap.test}", "192.0.2.1",
					   "::1", "-x.example", "a\tb" };
	struct discovered d = { 0 };
	char pair[64];

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		snprintf(pair, sizeof(pair), "/c/%zu.pem", i);
		ok(disc_add_endpoint(&d, "fe", "127.0.0.1", 443, -1, bad[i], pair, pair) == 0,
		   "names: endpoint %zu added", i);
	}
	ok(d.n_endpoints == ELEMENTSOF(bad), "names: every endpoint kept, with its own pair");
	for (size_t i = 0; i < d.n_endpoints; i++)
		ok(!d.endpoints[i].sni, "names: endpoint %zu sends no name the loader refuses", i);
	like(notes(&d), "fe: name \"caf\\xe9.hap.test\" is in Unicode", "names: Latin-1, said escaped");
	like(notes(&d), "fe: name \"blog.hap.test}\" is not a host name", "names: a brace, said");
	like(notes(&d), "fe: name \"192.0.2.1\" is an IP address, which SNI does not carry",
	     "names: an IPv4 literal is no SNI name");
	like(notes(&d), "fe: name \"::1\" is an IP address", "names: nor is an IPv6 one");
	like(notes(&d), "fe: name \"a\\tb\" is not a host name", "names: a tab, said escaped");
	ok(disc_name_problem("api.hap.test") == NULL && disc_name_problem("xn--caf-dma.test") == NULL,
	   "names: host names and A-labels pass");
	discovered_done(&d);
}

static void endpoints_past_the_bound_counted_once(void)
{
	struct discovered d = { 0 };
	bool added = true;

	for (int i = 0; i < DISCOVER_MAX_ENDPOINTS + 10; i++)
		added &= disc_add_endpoint(&d, "e", "127.0.0.1", 443, -1, NULL, NULL, NULL) == 0;
	ok(added && d.n_endpoints == DISCOVER_MAX_ENDPOINTS, "bound: %d endpoints kept",
	   DISCOVER_MAX_ENDPOINTS);
	is_str(notes(&d), "10 more endpoints not listed: at most 1024 are; write the others by hand\n",
	       "bound: one note counts the endpoints left out");
	discovered_done(&d);

	for (int i = 0; i < DISCOVER_MAX_NOTES + 5; i++)
		disc_note(&d, "note %d", i);
	disc_note(&d, "note 0");
	for (int i = 0; i < DISCOVER_MAX_ENDPOINTS + 2; i++)
		disc_add_endpoint(&d, "e", "127.0.0.1", 443, -1, NULL, NULL, NULL);
	ok(d.n_notes == DISCOVER_MAX_NOTES, "bound: notes stay bounded");
	like(notes(&d), "2 more endpoints not listed", "bound: ... and the count is kept when full");
	discovered_done(&d);

	disc_note(&d, "same");
	disc_note(&d, "same");
	is_str(notes(&d), "same\n", "notes: the same note is said once");
	discovered_done(&d);
}

/* A PEM certificate for sans, signed by pki.h's intermediate. */
static void put_cert(const char *path, const char *sans)
{
	X509 *x = pki_cert("hap", k_leaf, inter, k_int, sans, -DAY, 90 * DAY);
	FILE *f = fopen(path, "we");

	if (!f || !PEM_write_X509(f, x) || !PEM_write_PrivateKey(f, k_leaf, NULL, NULL, 0, NULL,
								   NULL) || fclose(f) != 0)
		abort();
	X509_free(x);
}

static void names_unique_per_listener_not_per_service(void)
{
	char dir[PATH_MAX + 16], path[PATH_MAX + 32], text[PATH_MAX * 4], bin[PATH_MAX + 16];
	struct discover_options o = { 0 };
	const char *fe_b_api;
	char *out;
	FILE *f;
	int r;

	snprintf(dir, sizeof(dir), "%s/hap", top);
	snprintf(bin, sizeof(bin), "%s/hapbin", top);
	snprintf(path, sizeof(path), "%s/certs", dir);
	if (mkdir(dir, 0700) < 0 || mkdir(path, 0700) < 0 || mkdir(bin, 0700) < 0)
		abort();
	put_script(bin, "haproxy", "exit 0");
	pki_make();
	snprintf(path, sizeof(path), "%s/certs/0www.pem", dir);
	put_cert(path, "DNS:www.hap.test");
	snprintf(path, sizeof(path), "%s/certs/api.pem", dir);
	put_cert(path, "DNS:api.hap.test");
	snprintf(path, sizeof(path), "%s/list", dir);
	if (!(f = fopen(path, "we")) || fputs("api.pem api.hap.test\n", f) < 0 || fclose(f) != 0)
		abort();
	snprintf(text, sizeof(text), "global\n\tcrt-base %s/certs\nfrontend fe_a\n"
		 "\tbind 127.0.0.1:8441 ssl crt-list %s/list crt api.pem\nfrontend fe_b\n"
		 "\tbind 127.0.0.1:8442 ssl crt %s/certs\n", dir, dir, dir);
	snprintf(path, sizeof(path), "%s/haproxy.cfg", dir);
	if (!(f = fopen(path, "we")) || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
	o.search_path = bin;
	o.haproxy_conf = path;
	out = write_to_string(&o, &r);
	ok(r == 1, "listener names: the haproxy service written");
	fe_b_api = out ? strstr(out, "endpoint fe_b-api {") : NULL;
	ok(fe_b_api && strncmp(strstr(fe_b_api, "port = "), "port = 8442\n\t\tname = "
			       "\"api.hap.test\"", 34) == 0,
	   "listener names: fe_b's api.pem is probed as api.hap.test, which fe_a's crt-list sends "
	   "on another port");
	like(out, "endpoint fe_a-api {\n\t\taddress = \"127.0.0.1\"\n\t\tport = 8441\n\t\tname = "
	     "\"api.hap.test\"", "listener names: fe_a's crt-list line sends its filter");
	like(out, "endpoint fe_a-api-2 {\n\t\taddress = \"127.0.0.1\"\n\t\tport = 8441\n\t\tcert",
	     "listener names: on fe_a's own listener the name is taken: none given");
	like(out, "endpoint fe_b-0www {\n\t\taddress = \"127.0.0.1\"\n\t\tport = 8442\n\t\tname = "
	     "\"www.hap.test\"", "listener names: each certificate of a crt dir, its own name");
	free(out);
	pki_free();
}

/* HAProxy 2.6's haproxy -c, failing: "[NOTICE]" lines first, then why. */
static void haproxy_check_failure_says_why(void)
{
	char bin[PATH_MAX + 16];
	struct discover_options o = { .haproxy_conf = "/nonexistent/haproxy.cfg" };
	char *out;
	int r;

	snprintf(bin, sizeof(bin), "%s/hapbin", top);
	put_script(bin, "haproxy", "case \"$*\" in *-q*) exit 1 ;; esac\n"
		   "echo '[NOTICE]   (1) : haproxy version is 2.6.12' >&2\n"
		   "echo '[NOTICE]   (1) : path to executable is /usr/sbin/haproxy' >&2\n"
		   "echo \"[ALERT]    (1) : config : parsing [h.cfg:2] : unknown keyword 'x'\" >&2\n"
		   "exit 1");
	o.search_path = bin;
	out = write_to_string(&o, &r);
	like(out, "# haproxy: haproxy -c failed (exit 1): [ALERT]    (1) : config : parsing "
	     "[h.cfg:2] : unknown keyword 'x'\n", "haproxy -c: a failure says HAProxy's reason");
	free(out);
}

int main(void)
{
	const char *src = getenv("TESTS_SRCDIR");

	fixture_dir(src);
	snprintf(top, sizeof(top), "%s/test-discover.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(top))
		return 99;

	dovecot_full_listeners_and_local_names();
	pairs_everywhere();
	split_one_endpoint_per_pair();
	dovecot_imaps_only();
	dovecot_ssl_no();
	dovecot_defaults_haproxy_and_protocol_ssl();
	dovecot_hidden_and_inline_keys();
	postfix_submission_and_overrides();
	postfix_postscreen_and_chain_file();
	nginx_vhosts();
	nginx_stream_relative_quotes_and_skips();
	nginx_names_unique_and_valid();
	exim_ports_and_lists();
	garbage_never_crashes();
	write_with_stand_ins();
	names_the_loader_refuses_are_left_out();
	endpoints_past_the_bound_counted_once();
	names_unique_per_listener_not_per_service();
	haproxy_check_failure_says_why();

	{
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", top);
	}
	return tap_done();
}
