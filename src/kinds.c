/*
 * kinds.c - the table of known servers; see kinds.h.  One row each, with
 * what Debian 12 ships: unit names, pid files, sockets and programs.  The
 * row says how the server really takes a new certificate, which is not
 * always what its unit's reload does: vsftpd's SIGHUP leaves its
 * certificate alone, MariaDB and slapd have no reload of their own,
 * InspIRCd's rehash is not its TLS reload, and Exim, ProFTPD and INN read
 * their certificates for each connection, so a renewal needs nothing at all.
 * certwatch.conf(5) gives the reasons row by row.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "kinds.h"
#include "util.h"

#define SMTP_PORTS \
	{ "smtp", "smtp", 25 }, { "submission", "smtp", 587 }, { "submissions", NULL, 465 }, \
	{ "smtps", NULL, 465 }
#define FTP_PORTS   { "ftp", "ftp", 21 }, { "ftps", NULL, 990 }
#define HTTPS_PORTS { "https", NULL, 443 }

const struct kind kinds[] = {
	{ "nginx", "nginx", RELOAD_METHOD_UNIT, .unit = "nginx.service",
	  .check = { "/usr/sbin/nginx", "-t", "-q" },
	  .ports = { HTTPS_PORTS },
	  .how = "nginx reads its certificates again when reloaded; old workers finish "
		 "their connections with the old one" },
	{ "dovecot", "Dovecot", RELOAD_METHOD_UNIT, .unit = "dovecot.service",
	  .check = { "/usr/bin/doveconf", "-n" },
	  .ports = { { "imaps", NULL, 993 }, { "imap", "imap", 143 }, { "pop3s", NULL, 995 },
		     { "pop3", "pop3", 110 }, { "sieve", "sieve", 4190 } },
	  .how = "Dovecot reads its certificates again when reloaded (doveadm reload)" },
	{ "postfix", "Postfix", RELOAD_METHOD_UNIT, .unit = "postfix.service",
	  .check = { "/usr/sbin/postfix", "check" },
	  .ports = { SMTP_PORTS },
	  .how = "Postfix's long-lived smtpd and tlsproxy processes keep the old certificate "
		 "until postfix reload" },
	{ "exim", "Exim", RELOAD_METHOD_SELF,
	  .ports = { SMTP_PORTS },
	  .how = "Exim reads its certificate for each connection: a renewal is served at "
		 "once, and certwatch only verifies" },
	{ "apache", "Apache", RELOAD_METHOD_UNIT, .unit = "apache2.service",
	  .check = { "/usr/sbin/apache2ctl", "configtest" },
	  .ports = { HTTPS_PORTS },
	  .how = "Apache reads its certificates again at a graceful restart (the unit's "
		 "reload); busy children finish their requests first" },
	{ "haproxy", "HAProxy", RELOAD_METHOD_HAPROXY, .unit = "haproxy.service",
	  .check = { "/usr/sbin/haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg" },
	  .socket = "/run/haproxy/admin.sock",
	  .ports = { HTTPS_PORTS },
	  .how = "HAProxy takes every certificate it uses again through its runtime API "
		 "(set ssl cert, commit ssl cert), without new processes; without an admin "
		 "socket, a reload" },
	{ "postgresql", "PostgreSQL", RELOAD_METHOD_UNIT, .unit = "postgresql.service",
	  .ports = { { "postgres", "postgres", 5432 } },
	  .how = "PostgreSQL (10 and later) reads ssl_cert_file again when reloaded; "
		 "postgresql.service passes the reload on to every cluster" },
	{ "mariadb", "MariaDB", RELOAD_METHOD_COMMAND,
	  .command = { "/usr/bin/mariadb", "--batch", "--execute=FLUSH SSL" },
	  .socket_option = "--socket=", .socket = "/run/mysqld/mysqld.sock",
	  .ports = { { "mysql", "mysql", 3306 } },
	  .how = "MariaDB has no reload: the statement FLUSH SSL (10.4 and later), run through "
		 "its client as root, loads the certificate again without a restart" },
	{ "mysql", "MySQL", RELOAD_METHOD_COMMAND,
	  .command = { "/usr/bin/mysql", "--batch", "--execute=ALTER INSTANCE RELOAD TLS" },
	  .socket_option = "--socket=", .socket = "/run/mysqld/mysqld.sock",
	  .ports = { { "mysql", "mysql", 3306 } },
	  .how = "MySQL has no reload: the statement ALTER INSTANCE RELOAD TLS (8.0.16 and "
		 "later), run through its client as root, loads the certificate again" },
	{ "slapd", "OpenLDAP slapd", RELOAD_METHOD_SLAPD,
	  .socket = "/run/slapd/ldapi",
	  .ports = { { "ldap", "ldap", 389 }, { "ldaps", NULL, 636 } },
	  .how = "slapd builds its TLS context again only when its cn=config TLS settings are "
		 "set: certwatch sets them again to their own values over ldapi" },
	{ "prosody", "Prosody", RELOAD_METHOD_UNIT, .unit = "prosody.service",
	  .ports = { { "xmpp", "xmpp", 5222 }, { "xmpp-server", "xmpp-server", 5269 },
		     { "xmpps", NULL, 5223 } },
	  .how = "Prosody (0.12) reads its certificates again when reloaded (SIGHUP, "
		 "prosodyctl reload)" },
	{ "vsftpd", "vsftpd", RELOAD_METHOD_RESTART, .unit = "vsftpd.service",
	  .ports = { FTP_PORTS },
	  .how = "vsftpd reads its certificate only when it starts; its SIGHUP (the unit's "
		 "reload) does not: a restart, which ends open sessions" },
	{ "proftpd", "ProFTPD", RELOAD_METHOD_SELF,
	  .ports = { FTP_PORTS },
	  .how = "ProFTPD's mod_tls reads its certificates in the process it starts for each "
		 "session: a renewal is served at once, and certwatch only verifies" },
	{ "inn", "INN", RELOAD_METHOD_SELF,
	  .ports = { { "nntp", "nntp", 119 }, { "nntps", NULL, 563 } },
	  .how = "INN's nnrpd, started for each reader, reads the certificate for each "
		 "connection: a renewal is served at once, and certwatch only verifies" },
	{ "inspircd", "InspIRCd", RELOAD_METHOD_COMMAND,
	  .command = { "/bin/systemctl", "kill", "--kill-whom=main", "--signal=SIGUSR1",
		       "inspircd.service" },
	  .ports = { { "ircs", NULL, 6697 }, { "irc", "irc", 6667 } },
	  .how = "InspIRCd reads its certificates again on SIGUSR1 with its sslrehashsignal "
		 "module loaded; its rehash (the unit's reload) does not.  Debian's unit runs it "
		 "with --nopid, so the signal goes to the unit's main process through systemd" },
};

const size_t kinds_n = ELEMENTSOF(kinds);

const struct kind *kind_find(const char *name)
{
	for (size_t i = 0; name && i < kinds_n; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

const char *kind_names(void)
{
	static char names[256];

	if (names[0])
		return names;
	for (size_t i = 0, used = 0; i < kinds_n && used < sizeof(names); i++) {
		int n = snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
				 kinds[i].name);

		used += n > 0 ? (size_t)n : 0;
	}
	return names;
}

const struct kind_port *kind_port_named(const struct kind *k, const char *endpoint)
{
	for (size_t i = 0; i < KIND_MAX_PORTS && k->ports[i].endpoint; i++)
		if (endpoint && strcmp(k->ports[i].endpoint, endpoint) == 0)
			return &k->ports[i];
	return NULL;
}
