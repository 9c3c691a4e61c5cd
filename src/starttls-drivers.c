#include "config.h"
#include "starttls-drivers.h"
/* PLACEHOLDER: replaced by the real drivers */
STARTTLS_DRIVER(smtp) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(lmtp) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(imap) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(pop3) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(sieve) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(ftp) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(xmpp) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(xmpp_server) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(ldap) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(postgres) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(mysql) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(nntp) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
STARTTLS_DRIVER(irc) { (void)s; (void)in; (void)len; *consumed = 0; return STARTTLS_PROTOCOL; }
