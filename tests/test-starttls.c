/*
 * test-starttls.c - every STARTTLS driver against server transcripts: the
 * exact bytes the client sends, the verdict, and the detail, with the
 * server's bytes delivered whole, one byte at a time, and split at every
 * point; then the line and preamble bounds.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "starttls.h"
#include "tap.h"
#include "util.h"

struct bytes {
	const char *p;
	size_t n;
};
#define B(str) { str, sizeof(str) - 1 }

struct turn {
	struct bytes server;   /* what the server sends */
	struct bytes client;   /* what the client must answer, exactly */
};

struct transcript {
	const char *name;             /* the behaviour it proves */
	const char *proto;
	const char *host;             /* NULL: mail.example.com */
	struct bytes hello;           /* what the client sends on connect */
	struct turn turns[5];         /* until server.p == NULL */
	enum starttls_result want;
	const char *detail;           /* a substring of the detail on failure */
	enum {
		SPLIT_ANY,            /* the same outcome however the bytes arrive */
		SPLIT_EARLY,          /* decided on the first bytes: split, the detail
				       * quotes only what had arrived */
		SPLIT_NEVER,          /* the last chunk means something only whole */
	} split;
};

#define SMTP_GREETING "220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n"
#define SMTP_EHLO "EHLO mail.example.com\r\n"
#define SMTP_CAPS "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n" \
	"250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n" \
	"250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"
#define IMAP_GREETING "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE " \
	"IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n"
#define IMAP_CAPS "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE " \
	"LITERAL+ STARTTLS LOGINDISABLED\r\na OK Pre-login capabilities listed, " \
	"post-login capabilities have more.\r\n"
#define POP3_CAPS "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n" \
	"AUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL\r\n.\r\n"
#define SIEVE_GREETING "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n" \
	"\"SIEVE\" \"fileinto reject envelope encoded-character vacation\"\r\n" \
	"\"NOTIFY\" \"mailto\"\r\n\"SASL\" \"\"\r\n\"STARTTLS\"\r\n" \
	"\"VERSION\" \"1.0\"\r\nOK \"Dovecot (Debian) ready.\"\r\n"
#define NNTP_GREETING "200 news.example.com InterNetNews server INN 2.7.1 ready\r\n"
#define NNTP_CAPS "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\n" \
	"READER\r\nSTARTTLS\r\nLIST ACTIVE NEWSGROUPS\r\n.\r\n"
/* INN 2.7's innd to a peer (transit mode), then the nnrpd it hands over to. */
#define INND_GREETING "200 news.example.com InterNetNews server INN 2.7.1 ready " \
	"(transit mode)\r\n"
#define INND_CAPS "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\n" \
	"AUTHINFO\r\nIHAVE\r\nLIST ACTIVE ACTIVE.TIMES MOTD NEWSGROUPS\r\nMODE-READER\r\n" \
	"STREAMING\r\n.\r\n"
#define NNRPD_GREETING "200 news.example.com InterNetNews NNRP server INN 2.7.1 ready " \
	"(posting ok)\r\n"
#define XMPP_HELLO(ns, to) "<?xml version='1.0'?><stream:stream " \
	"xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:" ns "' " \
	"to='" to "' version='1.0'>"
#define XMPP_HEADER "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " \
	"xmlns:stream='http://etherx.jabber.org/streams' id='8f3c' from='example.com' " \
	"version='1.0' xml:lang='en'>"
#define XMPP_FEATURES "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>" \
	"<required/></starttls></stream:features>"
#define XMPP_STARTTLS "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
#define LDAP_REQUEST "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" "1.3.6.1.4.1.1466.20037"
#define PG_REQUEST "\x00\x00\x00\x08\x04\xd2\x16\x2f"
#define MYSQL_HANDSHAKE(caps) "\x63\x00\x00\x00" "\x0a" "5.5.5-10.11.6-MariaDB-0+deb12u1\0" \
	"\x05\x00\x00\x00" "abcdefgh" "\x00" caps "\x2d" "\x02\x00" "\xff\x81" "\x15" \
	"\0\0\0\0\0\0" "\x1d\x00\x00\x00" "ijklmnopqrst\0" "mysql_native_password\0"
#define MYSQL_SSL_REQUEST "\x20\x00\x00\x01" "\x85\xae\x7f\x00" "\x00\x00\x00\x01" "\x21" \
	"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"

static const struct transcript transcripts[] = {
	/* ---- the happy paths ---- */
	{ "smtp: Postfix greeting, EHLO, STARTTLS, 220 is the go-ahead", "smtp", NULL, B(""),
	  { { B(SMTP_GREETING), B(SMTP_EHLO) },
	    { B(SMTP_CAPS), B("STARTTLS\r\n") },
	    { B("220 2.0.0 Ready to start TLS\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "smtp: multi-line greeting, bare LF and a lower-case keyword are accepted", "smtp",
	  NULL, B(""),
	  { { B("220-mail.example.com ESMTP\n220-no UCE\n220 hi\n"), B(SMTP_EHLO) },
	    { B("250-mail.example.com\n250-starttls\n250 SIZE\n"), B("STARTTLS\r\n") },
	    { B("220 go ahead\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "smtp: an IPv4 address is sent as an address literal in EHLO", "smtp", "192.0.2.7",
	  B(""),
	  { { B("220 hi\r\n"), B("EHLO [192.0.2.7]\r\n") },
	    { B("250-x\r\n250 STARTTLS\r\n"), B("STARTTLS\r\n") },
	    { B("220 go\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "lmtp: Dovecot greeting, LHLO, STARTTLS", "lmtp", NULL, B(""),
	  { { B("220 mail.example.com Dovecot (Debian) ready.\r\n"), B("LHLO mail.example.com\r\n") },
	    { B("250-mail.example.com\r\n250-8BITMIME\r\n250-CHUNKING\r\n250-STARTTLS\r\n"
		"250 PIPELINING\r\n"), B("STARTTLS\r\n") },
	    { B("220 2.0.0 Begin TLS.\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "imap: Dovecot greeting, CAPABILITY, STARTTLS, b OK is the go-ahead", "imap", NULL, B(""),
	  { { B(IMAP_GREETING), B("a CAPABILITY\r\n") },
	    { B(IMAP_CAPS), B("b STARTTLS\r\n") },
	    { B("b OK Begin TLS negotiation now.\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "imap: a PREAUTH greeting and capabilities in the tagged response code", "imap", NULL,
	  B(""),
	  { { B("* preauth ready\n"), B("a CAPABILITY\r\n") },
	    { B("a ok [CAPABILITY IMAP4rev1 STARTTLS] done\n"), B("b STARTTLS\r\n") },
	    { B("* OK still here\nb ok go\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "pop3: Dovecot greeting, CAPA, STLS, +OK is the go-ahead", "pop3", NULL, B(""),
	  { { B("+OK Dovecot (Debian) ready.\r\n"), B("CAPA\r\n") },
	    { B(POP3_CAPS), B("STLS\r\n") },
	    { B("+OK Begin TLS negotiation now.\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "pop3: a server that does not know CAPA is still asked for STLS", "pop3", NULL, B(""),
	  { { B("+OK ready\r\n"), B("CAPA\r\n") },
	    { B("-ERR unknown command\r\n"), B("STLS\r\n") },
	    { B("+OK\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "sieve: Dovecot capabilities, STARTTLS, OK is the go-ahead", "sieve", NULL, B(""),
	  { { B(SIEVE_GREETING), B("STARTTLS\r\n") },
	    { B("OK \"Begin TLS negotiation now.\"\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "ftp: multi-line greeting with uncoded text, AUTH TLS, 234 is the go-ahead", "ftp",
	  NULL, B(""),
	  { { B("220-Welcome\r\n  to the server\r\n220 ProFTPD Server ready.\r\n"),
	      B("AUTH TLS\r\n") },
	    { B("234 AUTH TLS successful\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "ftp: a 120 preliminary reply is followed by the 220 greeting", "ftp", NULL, B(""),
	  { { B("120 ready in 1 minute\r\n"), B("") },
	    { B("220 ready\r\n"), B("AUTH TLS\r\n") },
	    { B("234 go\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "xmpp: stream header, features with starttls, proceed is the go-ahead", "xmpp", NULL,
	  B(XMPP_HELLO("client", "mail.example.com")),
	  { { B(XMPP_HEADER XMPP_FEATURES), B(XMPP_STARTTLS) },
	    { B("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "xmpp-server: jabber:server namespace; a whitespace keep-alive and a long-form proceed",
	  "xmpp-server", NULL, B(XMPP_HELLO("server", "mail.example.com")),
	  { { B(XMPP_HEADER), B("") },
	    { B(XMPP_FEATURES), B(XMPP_STARTTLS) },
	    { B(" \n<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'></proceed>"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "xmpp: quote, < and & in the name are escaped in the stream header", "xmpp",
	  "a'b<c&d", B(XMPP_HELLO("client", "a&apos;b&lt;c&amp;d")),
	  { { B(XMPP_HEADER XMPP_FEATURES), B(XMPP_STARTTLS) },
	    { B("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "ldap: OpenLDAP's success ExtendedResponse with a responseName", "ldap", NULL,
	  B(LDAP_REQUEST),
	  { { B("\x30\x24\x02\x01\x01\x78\x1f\x0a\x01\x00\x04\x00\x04\x00\x8a\x16"
		"1.3.6.1.4.1.1466.20037"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "ldap: long-form BER lengths are read", "ldap", NULL, B(LDAP_REQUEST),
	  { { B("\x30\x81\x0e\x02\x01\x01\x78\x82\x00\x07\x0a\x01\x00\x04\x00\x04\x00"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "postgres: SSLRequest, S is the go-ahead", "postgres", NULL, B(PG_REQUEST),
	  { { B("S"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "mysql: MariaDB handshake with CLIENT_SSL, SSLRequest sent, then TLS", "mysql", NULL,
	  B(""),
	  { { B(MYSQL_HANDSHAKE("\xfe\xff")), B(MYSQL_SSL_REQUEST) } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "nntp: INN greeting, CAPABILITIES, STARTTLS, 382 is the go-ahead", "nntp", NULL, B(""),
	  { { B(NNTP_GREETING), B("CAPABILITIES\r\n") },
	    { B(NNTP_CAPS), B("STARTTLS\r\n") },
	    { B("382 Begin TLS negotiation now\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "nntp: innd in transit mode lists MODE-READER: MODE READER, then the reader's "
	  "CAPABILITIES, STARTTLS", "nntp", NULL, B(""),
	  { { B(INND_GREETING), B("CAPABILITIES\r\n") },
	    { B(INND_CAPS), B("MODE READER\r\n") },
	    { B(NNRPD_GREETING), B("CAPABILITIES\r\n") },
	    { B(NNTP_CAPS), B("STARTTLS\r\n") },
	    { B("382 Begin TLS negotiation now\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "nntp: a 5xx to CAPABILITIES still tries STARTTLS", "nntp", NULL, B(""),
	  { { B("201 no posting\r\n"), B("CAPABILITIES\r\n") },
	    { B("500 What?\r\n"), B("STARTTLS\r\n") },
	    { B("382 go\r\n"), B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },
	{ "irc: STARTTLS first, NOTICEs skipped, 670 is the go-ahead", "irc", NULL,
	  B("STARTTLS\r\n"),
	  { { B(":irc.example.net NOTICE * :*** Looking up your hostname...\r\n"
		"NOTICE AUTH :*** Checking Ident\r\n:irc.example.net 020 * :Please wait\r\n"), B("") },
	    { B(":irc.example.net 670 * :STARTTLS successful, proceed with TLS handshake\r\n"),
	      B("") } },
	  STARTTLS_READY, NULL, SPLIT_ANY },

	/* ---- STARTTLS not offered ---- */
	{ "smtp: no STARTTLS keyword line is refused, quoting the capabilities", "smtp", NULL, B(""),
	  { { B(SMTP_GREETING), B(SMTP_EHLO) },
	    { B("250-mail.example.com says STARTTLS\r\n250-PIPELINING\r\n250 8BITMIME\r\n"),
	      B("") } },
	  STARTTLS_REFUSED, "the SMTP server does not offer STARTTLS; its capabilities: "
	  "\"250-mail.example.com says STARTTLS\\r\\n250-PIPELINING\\r\\n250 8BITMIME\"", SPLIT_ANY },
	{ "lmtp: no STARTTLS keyword line is refused", "lmtp", NULL, B(""),
	  { { B("220 ready\r\n"), B("LHLO mail.example.com\r\n") },
	    { B("250-mail.example.com\r\n250 PIPELINING\r\n"), B("") } },
	  STARTTLS_REFUSED, "the LMTP server does not offer STARTTLS; its capabilities: "
	  "\"250-mail.example.com\\r\\n250 PIPELINING\"", SPLIT_ANY },
	{ "imap: capabilities without STARTTLS (XSTARTTLS does not count) are refused", "imap",
	  NULL, B(""),
	  { { B("* OK ready\r\n"), B("a CAPABILITY\r\n") },
	    { B("* CAPABILITY IMAP4rev1 XSTARTTLS LOGINDISABLED\r\na OK done\r\n"), B("") } },
	  STARTTLS_REFUSED, "the IMAP server does not offer STARTTLS; its capabilities: "
	  "\"* CAPABILITY IMAP4rev1 XSTARTTLS LOGINDISABLED", SPLIT_ANY },
	{ "pop3: CAPA without STLS is refused", "pop3", NULL, B(""),
	  { { B("+OK ready\r\n"), B("CAPA\r\n") },
	    { B("+OK\r\nUSER\r\nTOP\r\n.\r\n"), B("") } },
	  STARTTLS_REFUSED, "the POP3 server does not offer STARTTLS; its capabilities: "
	  "\"+OK\\r\\nUSER\\r\\nTOP\\r\\n.\"", SPLIT_ANY },
	{ "sieve: capabilities without \"STARTTLS\" are refused", "sieve", NULL, B(""),
	  { { B("\"IMPLEMENTATION\" \"Dovecot\"\r\n\"SASL\" \"PLAIN\"\r\nOK \"ready\"\r\n"),
	      B("") } },
	  STARTTLS_REFUSED, "the ManageSieve server does not offer STARTTLS; its capabilities: \"",
	  SPLIT_ANY },
	{ "nntp: capabilities without STARTTLS are refused", "nntp", NULL, B(""),
	  { { B(NNTP_GREETING), B("CAPABILITIES\r\n") },
	    { B("101 Capability list:\r\nVERSION 2\r\nREADER\r\n.\r\n"), B("") } },
	  STARTTLS_REFUSED, "the NNTP server does not offer STARTTLS; its capabilities: "
	  "\"101 Capability list:\\r\\nVERSION 2\\r\\nREADER\\r\\n.\"", SPLIT_ANY },
	{ "nntp: MODE READER is sent once: the reader's capabilities without STARTTLS are "
	  "refused", "nntp", NULL, B(""),
	  { { B(INND_GREETING), B("CAPABILITIES\r\n") },
	    { B(INND_CAPS), B("MODE READER\r\n") },
	    { B(NNRPD_GREETING), B("CAPABILITIES\r\n") },
	    { B(INND_CAPS), B("") } },
	  STARTTLS_REFUSED, "the NNTP server does not offer STARTTLS; its capabilities: "
	  "\"101 Capability list:\\r\\nVERSION 2", SPLIT_ANY },
	{ "nntp: a 502 to MODE READER (no reading allowed) is refused", "nntp", NULL, B(""),
	  { { B(INND_GREETING), B("CAPABILITIES\r\n") },
	    { B(INND_CAPS), B("MODE READER\r\n") },
	    { B("502 You have no permission to talk.  Goodbye!\r\n"), B("") } },
	  STARTTLS_REFUSED, "the NNTP server refused MODE READER: \"502 You have", SPLIT_ANY },
	{ "xmpp: features without starttls are refused, quoting them", "xmpp", NULL,
	  B(XMPP_HELLO("client", "mail.example.com")),
	  { { B(XMPP_HEADER "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:"
		"xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"), B("") } },
	  STARTTLS_REFUSED, "the XMPP server does not offer STARTTLS; its features: "
	  "\"<stream:features><mechanisms", SPLIT_ANY },
	{ "xmpp: empty features are refused", "xmpp", NULL,
	  B(XMPP_HELLO("client", "mail.example.com")),
	  { { B(XMPP_HEADER "<stream:features/>"), B("") } },
	  STARTTLS_REFUSED, "its features: \"<stream:features/>\"", SPLIT_ANY },
	{ "mysql: a handshake without CLIENT_SSL is refused, naming the version", "mysql", NULL,
	  B(""),
	  { { B(MYSQL_HANDSHAKE("\xff\xf7")), B("") } },
	  STARTTLS_REFUSED, "does not offer SSL; its version: \"5.5.5-10.11.6-MariaDB-0+deb12u1\"",
	  SPLIT_ANY },

	/* ---- negative answers ---- */
	{ "smtp: 454 to STARTTLS is refused", "smtp", NULL, B(""),
	  { { B(SMTP_GREETING), B(SMTP_EHLO) },
	    { B(SMTP_CAPS), B("STARTTLS\r\n") },
	    { B("454 4.7.0 TLS not available due to local problem\r\n"), B("") } },
	  STARTTLS_REFUSED,
	  "the SMTP server refused STARTTLS: \"454 4.7.0 TLS not available due to local problem\"",
	  SPLIT_ANY },
	{ "imap: b NO is refused", "imap", NULL, B(""),
	  { { B(IMAP_GREETING), B("a CAPABILITY\r\n") },
	    { B(IMAP_CAPS), B("b STARTTLS\r\n") },
	    { B("b NO [UNAVAILABLE] TLS support isn't enabled\r\n"), B("") } },
	  STARTTLS_REFUSED, "the IMAP server refused STARTTLS: \"b NO [UNAVAILABLE]", SPLIT_ANY },
	{ "imap: b BAD is refused", "imap", NULL, B(""),
	  { { B(IMAP_GREETING), B("a CAPABILITY\r\n") },
	    { B(IMAP_CAPS), B("b STARTTLS\r\n") },
	    { B("b BAD unknown command\r\n"), B("") } },
	  STARTTLS_REFUSED, "refused STARTTLS: \"b BAD unknown command\"", SPLIT_ANY },
	{ "pop3: -ERR to STLS is refused", "pop3", NULL, B(""),
	  { { B("+OK ready\r\n"), B("CAPA\r\n") },
	    { B(POP3_CAPS), B("STLS\r\n") },
	    { B("-ERR TLS not available\r\n"), B("") } },
	  STARTTLS_REFUSED, "the POP3 server refused STLS: \"-ERR TLS not available\"", SPLIT_ANY },
	{ "sieve: NO to STARTTLS is refused", "sieve", NULL, B(""),
	  { { B(SIEVE_GREETING), B("STARTTLS\r\n") },
	    { B("NO \"TLS not configured\"\r\n"), B("") } },
	  STARTTLS_REFUSED, "the ManageSieve server refused STARTTLS: \"NO ", SPLIT_ANY },
	{ "ftp: 530 to AUTH TLS is refused", "ftp", NULL, B(""),
	  { { B("220 ready\r\n"), B("AUTH TLS\r\n") },
	    { B("530 Please login with USER and PASS.\r\n"), B("") } },
	  STARTTLS_REFUSED, "the FTP server refused AUTH TLS: \"530 Please login", SPLIT_ANY },
	{ "nntp: 580 to STARTTLS is refused", "nntp", NULL, B(""),
	  { { B(NNTP_GREETING), B("CAPABILITIES\r\n") },
	    { B(NNTP_CAPS), B("STARTTLS\r\n") },
	    { B("580 Can not initiate TLS negotiation\r\n"), B("") } },
	  STARTTLS_REFUSED, "the NNTP server refused STARTTLS: \"580 Can not", SPLIT_ANY },
	{ "nntp: 502 to STARTTLS is refused", "nntp", NULL, B(""),
	  { { B(NNTP_GREETING), B("CAPABILITIES\r\n") },
	    { B(NNTP_CAPS), B("STARTTLS\r\n") },
	    { B("502 Command unavailable\r\n"), B("") } },
	  STARTTLS_REFUSED, "refused STARTTLS: \"502 Command unavailable\"", SPLIT_ANY },
	{ "irc: 691 is refused", "irc", NULL, B("STARTTLS\r\n"),
	  { { B(":irc.example.net 691 * :STARTTLS failed\r\n"), B("") } },
	  STARTTLS_REFUSED, "the IRC server refused STARTTLS: \":irc.example.net 691", SPLIT_ANY },
	{ "irc: 421 unknown command means the server does not know STARTTLS", "irc", NULL,
	  B("STARTTLS\r\n"),
	  { { B(":irc.example.net 421 * STARTTLS :Unknown command\r\n"), B("") } },
	  STARTTLS_REFUSED, "the IRC server does not know STARTTLS", SPLIT_ANY },
	{ "irc: 451 not registered means the server does not know STARTTLS", "irc", NULL,
	  B("STARTTLS\r\n"),
	  { { B(":irc.example.net 451 STARTTLS :You have not registered\r\n"), B("") } },
	  STARTTLS_REFUSED, "the IRC server does not know STARTTLS", SPLIT_ANY },
	{ "xmpp: failure is refused", "xmpp", NULL, B(XMPP_HELLO("client", "mail.example.com")),
	  { { B(XMPP_HEADER XMPP_FEATURES), B(XMPP_STARTTLS) },
	    { B("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"), B("") } },
	  STARTTLS_REFUSED, "the XMPP server refused STARTTLS: \"<failure", SPLIT_ANY },
	{ "ldap: result code 2 is refused with the diagnosticMessage", "ldap", NULL,
	  B(LDAP_REQUEST),
	  { { B("\x30\x2a\x02\x01\x01\x78\x25\x0a\x01\x02\x04\x00\x04\x1e"
		"unsupported extended operation"), B("") } },
	  STARTTLS_REFUSED, "refused StartTLS with result code 2: \"unsupported extended operation\"",
	  SPLIT_ANY },
	{ "postgres: N is refused", "postgres", NULL, B(PG_REQUEST),
	  { { B("N"), B("") } },
	  STARTTLS_REFUSED, "the PostgreSQL server does not accept SSL", SPLIT_ANY },

	/* ---- protocol errors ---- */
	{ "smtp: a 554 greeting is a protocol error quoting it", "smtp", NULL, B(""),
	  { { B("554 5.7.1 mail.example.com: no SMTP service here\r\n"), B("") } },
	  STARTTLS_PROTOCOL,
	  "the SMTP server greeted with \"554 5.7.1 mail.example.com: no SMTP service here\"",
	  SPLIT_ANY },
	{ "smtp: an HTTP response is a protocol error", "smtp", NULL, B(""),
	  { { B("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "the SMTP server greeted with \"HTTP/1.1 400 Bad Request\"", SPLIT_ANY },
	{ "smtp: NUL bytes and terminal escapes in a reply are escaped in the detail", "smtp",
	  NULL, B(""),
	  { { B("554 \x00\x1b[2J\x1b]0;pwned\x07 bye\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "\"554 \\x00\\x1b[2J\\x1b]0;pwned\\x07 bye\"", SPLIT_ANY },
	{ "smtp: a 5xx to EHLO is a protocol error", "smtp", NULL, B(""),
	  { { B(SMTP_GREETING), B(SMTP_EHLO) },
	    { B("501 5.5.2 Syntax: EHLO hostname\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "the SMTP server answered EHLO with \"501 5.5.2", SPLIT_ANY },
	{ "smtp: a name with CR LF cannot smuggle a command into EHLO", "smtp",
	  "evil\r\nMAIL FROM:<x>", B(""),
	  { { B(SMTP_GREETING), B("") } },
	  STARTTLS_PROTOCOL, "cannot send a command with a line break or too long: "
	  "\"EHLO evil\\r\\nMAIL", SPLIT_ANY },
	{ "imap: a BYE greeting is a protocol error", "imap", NULL, B(""),
	  { { B("* BYE Too many connections\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "the IMAP server greeted with \"* BYE Too many connections\"", SPLIT_ANY },
	{ "pop3: a -ERR greeting is a protocol error", "pop3", NULL, B(""),
	  { { B("-ERR [SYS/TEMP] Too many connections\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "the POP3 server greeted with \"-ERR [SYS/TEMP]", SPLIT_ANY },
	{ "sieve: a BYE greeting is a protocol error", "sieve", NULL, B(""),
	  { { B("BYE \"Too many connections\"\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "the ManageSieve server greeted with \"BYE", SPLIT_ANY },
	{ "ftp: a 421 greeting is a protocol error", "ftp", NULL, B(""),
	  { { B("421 Too many connections\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "the FTP server greeted with \"421 Too many", SPLIT_ANY },
	{ "nntp: a 502 greeting is a protocol error", "nntp", NULL, B(""),
	  { { B("502 You have no permission to talk.\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "the NNTP server greeted with \"502 You have", SPLIT_ANY },
	{ "irc: ERROR is a protocol error", "irc", NULL, B("STARTTLS\r\n"),
	  { { B("ERROR :Closing Link: 192.0.2.1 (Throttled)\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "the IRC server closed the connection: \"ERROR :Closing", SPLIT_ANY },
	{ "xmpp: a stream error is a protocol error quoting it", "xmpp", NULL,
	  B(XMPP_HELLO("client", "mail.example.com")),
	  { { B(XMPP_HEADER "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:"
		"xmpp-streams'/></stream:error></stream:stream>"), B("") } },
	  STARTTLS_PROTOCOL, "the XMPP server sent a stream error: \"<stream:error><host-unknown",
	  SPLIT_EARLY },
	{ "xmpp: an answer that is not XML is a protocol error", "xmpp", NULL,
	  B(XMPP_HELLO("client", "mail.example.com")),
	  { { B("HTTP/1.1 400 Bad Request\r\n\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "the server did not open an XMPP stream: \"HTTP/1.1 400", SPLIT_EARLY },
	{ "ldap: an answer that is not an LDAPMessage is a protocol error", "ldap", NULL,
	  B(LDAP_REQUEST),
	  { { B("HTTP/1.1 400 Bad Request\r\n\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "the server did not answer the LDAP StartTLS request: \"HTTP", SPLIT_EARLY },
	{ "ldap: an ExtendedResponse without a resultCode is a protocol error", "ldap", NULL,
	  B(LDAP_REQUEST),
	  { { B("\x30\x09\x02\x01\x01\x78\x04\x04\x00\x04\x00"), B("") } },
	  STARTTLS_PROTOCOL, "malformed ExtendedResponse", SPLIT_ANY },
	{ "ldap: a notice of disconnection is a protocol error", "ldap", NULL, B(LDAP_REQUEST),
	  { { B("\x30\x17\x02\x01\x00\x78\x12\x0a\x01\x34\x04\x00\x04\x0b" "server busy"), B("") } },
	  STARTTLS_PROTOCOL, "notice for message 0, result code 52: \"server busy\"", SPLIT_ANY },
	{ "ldap: an element longer than its message is a protocol error", "ldap", NULL,
	  B(LDAP_REQUEST),
	  { { B("\x30\x05\x02\x01\x01\x78\x7f"), B("") } },
	  STARTTLS_PROTOCOL, "did not send an ExtendedResponse", SPLIT_ANY },
	{ "postgres: an ErrorResponse is a protocol error", "postgres", NULL, B(PG_REQUEST),
	  { { B("E\x00\x00\x00\x1eSFATAL\0Munsupported protocol\0\0"), B("") } },
	  STARTTLS_PROTOCOL, "answered the SSLRequest with an error: ", SPLIT_ANY },
	{ "postgres: any other byte is a protocol error", "postgres", NULL, B(PG_REQUEST),
	  { { B("HTTP/1.1 400"), B("") } },
	  STARTTLS_PROTOCOL, "did not answer the PostgreSQL SSLRequest: \"HTTP/1.1 400\"", SPLIT_EARLY },
	{ "mysql: an error packet is a protocol error quoting its message", "mysql", NULL, B(""),
	  { { B("\x44\x00\x00\x00\xff\x6a\x04"
		"Host '192.0.2.1' is not allowed to connect to this MariaDB server"), B("") } },
	  STARTTLS_PROTOCOL, "the MySQL server sent error 1130: \"Host '192.0.2.1' is not allowed",
	  SPLIT_ANY },
	{ "mysql: a protocol 9 handshake is a protocol error", "mysql", NULL, B(""),
	  { { B("\x06\x00\x00\x00\x09" "3.2\0\0"), B("") } },
	  STARTTLS_PROTOCOL, "did not send a MySQL protocol 10 handshake", SPLIT_ANY },
	{ "mysql: a handshake cut before the capabilities is a protocol error", "mysql", NULL,
	  B(""),
	  { { B("\x0a\x00\x00\x00\x0a" "8.0\0" "\x01\x00\x00\x00\x00"), B("") } },
	  STARTTLS_PROTOCOL, "truncated handshake", SPLIT_ANY },

	/* ---- bounds of the binary protocols ---- */
	{ "mysql: a packet length beyond the bound is too long", "mysql", NULL, B(""),
	  { { B("HTTP/1.1 400 Bad Request\r\n"), B("") } },
	  STARTTLS_TOO_LONG, "more than a MySQL greeting: \"HTTP/1.1 400", SPLIT_EARLY },
	{ "ldap: a message length beyond the bound is too long", "ldap", NULL, B(LDAP_REQUEST),
	  { { B("\x30\x84\x7f\xff\xff\xff\x02\x01\x01"), B("") } },
	  STARTTLS_TOO_LONG, "announced a message of 2147483647 bytes", SPLIT_ANY },

	/* ---- nothing may follow the go-ahead ---- */
	{ "smtp: plaintext after 220 in the same read is injection", "smtp", NULL, B(""),
	  { { B(SMTP_GREETING), B(SMTP_EHLO) },
	    { B(SMTP_CAPS), B("STARTTLS\r\n") },
	    { B("220 go ahead\r\nINJECTED"), B("") } },
	  STARTTLS_PROTOCOL, "injected before TLS: \"INJECTED\"", SPLIT_NEVER },
	{ "imap: an untagged line after b OK is injection", "imap", NULL, B(""),
	  { { B(IMAP_GREETING), B("a CAPABILITY\r\n") },
	    { B(IMAP_CAPS), B("b STARTTLS\r\n") },
	    { B("b OK go\r\n* OK injected\r\n"), B("") } },
	  STARTTLS_PROTOCOL, "injected before TLS: \"* OK injected\\r\\n\"", SPLIT_NEVER },
	{ "xmpp: bytes after proceed are injection", "xmpp", NULL,
	  B(XMPP_HELLO("client", "mail.example.com")),
	  { { B(XMPP_HEADER XMPP_FEATURES), B(XMPP_STARTTLS) },
	    { B("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message/>"), B("") } },
	  STARTTLS_PROTOCOL, "injected before TLS: \"<message/>\"", SPLIT_NEVER },
	{ "postgres: bytes after S are injection", "postgres", NULL, B(PG_REQUEST),
	  { { B("SX"), B("") } },
	  STARTTLS_PROTOCOL, "injected before TLS: \"X\"", SPLIT_NEVER },
	{ "mysql: bytes after the handshake are injection", "mysql", NULL, B(""),
	  { { B(MYSQL_HANDSHAKE("\xfe\xff") "X"), B(MYSQL_SSL_REQUEST) } },
	  STARTTLS_PROTOCOL, "injected before TLS: \"X\"", SPLIT_NEVER },
};

/* The probe engine's part: a buffer of unconsumed bytes and what was sent. */
struct conn {
	struct starttls_session s;
	uint8_t *buf;
	size_t len;
	char sent[2048];
	size_t sent_len;
	bool broken;         /* the driver broke the contract */
};

static enum starttls_result deliver(struct conn *c, const void *p, size_t n)
{
	enum starttls_result r;
	size_t used = SIZE_MAX;

	if (n > 0) {
		c->buf = realloc(c->buf, c->len + n);
		if (!c->buf)
			abort();
		memcpy(c->buf + c->len, p, n);
		c->len += n;
	}
	r = starttls_feed(&c->s, c->buf, c->len, &used);
	if (used > c->len || c->s.out_len > STARTTLS_MAX_OUT ||
	    c->s.out_len > sizeof(c->sent) - c->sent_len) {
		c->broken = true;
		return STARTTLS_PROTOCOL;
	}
	if (used > 0) {
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
	memcpy(c->sent + c->sent_len, c->s.out, c->s.out_len);
	c->sent_len += c->s.out_len;
	c->s.out_len = 0;
	return r;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/*
 * Plays a transcript, each server chunk delivered as a first piece of
 * `first` bytes and then pieces of `step` bytes.  On failure says why.
 */
static bool play(const struct transcript *t, size_t first, size_t step, char *why,
		 size_t whylen)
{
	struct conn c = { .len = 0 };
	enum starttls_result r;
	bool good = false;
	char got[256], want[256];

	starttls_session_init(&c.s, starttls_lookup(t->proto),
			      t->host ? t->host : "mail.example.com", NULL);
	r = deliver(&c, NULL, 0);
	if (c.sent_len != t->hello.n || memcmp(c.sent, t->hello.p, c.sent_len) != 0) {
		escape_bytes(c.sent, c.sent_len, got, sizeof(got));
		snprintf(why, whylen, "on connect sent \"%s\"", got);
		goto out;
	}
	for (size_t i = 0; i < ELEMENTSOF(t->turns) && t->turns[i].server.p; i++) {
		const struct bytes *srv = &t->turns[i].server, *cli = &t->turns[i].client;
		bool last = i + 1 == ELEMENTSOF(t->turns) || !t->turns[i + 1].server.p;
		size_t off = 0;

		c.sent_len = 0;
		while (off < srv->n && r == STARTTLS_CONTINUE) {
			size_t piece = off == 0 ? first : step;

			if (piece > srv->n - off)
				piece = srv->n - off;
			r = deliver(&c, srv->p + off, piece);
			off += piece;
		}
		if (c.broken) {
			snprintf(why, whylen, "the driver broke the contract in turn %zu", i);
			goto out;
		}
		if (r != STARTTLS_CONTINUE && (!last || (r == STARTTLS_READY && off < srv->n))) {
			snprintf(why, whylen, "ended early in turn %zu with %s: %s", i,
				 starttls_result_to_string(r), c.s.detail);
			goto out;
		}
		if (c.sent_len != cli->n || memcmp(c.sent, cli->p, c.sent_len) != 0) {
			escape_bytes(c.sent, c.sent_len, got, sizeof(got));
			escape_bytes(cli->p, cli->n, want, sizeof(want));
			snprintf(why, whylen, "after turn %zu sent \"%s\", want \"%s\"", i, got, want);
			goto out;
		}
	}
	if (r != t->want) {
		snprintf(why, whylen, "ended with %s (%s), want %s", starttls_result_to_string(r),
			 c.s.detail, starttls_result_to_string(t->want));
		goto out;
	}
	if (r == STARTTLS_READY && c.len != 0) {
		snprintf(why, whylen, "ready with %zu bytes unconsumed", c.len);
		goto out;
	}
	if (r != STARTTLS_READY && (!printable(c.s.detail) || c.s.detail[0] == '\0' ||
	    ((t->split != SPLIT_EARLY || first == SIZE_MAX) && !strstr(c.s.detail, t->detail)))) {
		snprintf(why, whylen, "detail \"%s\" lacks \"%s\" or is not printable",
			 c.s.detail, t->detail);
		goto out;
	}
	good = true;
out:
	free(c.buf);
	return good;
}

static void transcripts_play(void)
{
	for (size_t i = 0; i < ELEMENTSOF(transcripts); i++) {
		const struct transcript *t = &transcripts[i];
		size_t longest = 0;
		char why[512] = "";
		bool good;

		if (!ok(play(t, SIZE_MAX, SIZE_MAX, why, sizeof(why)), "%s", t->name))
			printf("#   %s\n", why);
		if (t->split == SPLIT_NEVER)
			continue;
		if (!ok(play(t, 1, 1, why, sizeof(why)), "%s, fed one byte at a time", t->name))
			printf("#   %s\n", why);
		for (size_t k = 0; k < ELEMENTSOF(t->turns) && t->turns[k].server.p; k++)
			if (t->turns[k].server.n > longest)
				longest = t->turns[k].server.n;
		good = true;
		for (size_t k = 1; good && k < longest; k++)
			good = play(t, k, SIZE_MAX, why, sizeof(why));
		if (!ok(good, "%s, with each chunk split in two at every point", t->name))
			printf("#   %s\n", why);
	}
}

/* What each line protocol is sent before the tested reply, to reach a state. */
static const struct {
	const char *proto;
	const char *before;      /* server bytes that lead to the flooded reply */
	const char *flood_line;  /* a valid-looking line that keeps the reply open */
} floods[] = {
	{ "smtp", SMTP_GREETING, "250-PIPELINING\r\n" },
	{ "lmtp", "220 hi\r\n", "250-PIPELINING\r\n" },
	{ "imap", "* OK hi\r\n", "* CAPABILITY IMAP4rev1\r\n" },
	{ "pop3", "+OK hi\r\n", "+OK\r\nUSER\r\n" },
	{ "sieve", "", "\"SASL\" \"PLAIN\"\r\n" },
	{ "ftp", "", "220-Welcome\r\n" },
	{ "nntp", NNTP_GREETING, "101 Capability list:\r\nREADER\r\n" },
	{ "irc", "", ":irc.example.net NOTICE * :*** hello\r\n" },
	{ "xmpp", XMPP_HEADER, "<stream:features><x/>" },
};

static void line_too_long(void)
{
	static char line[5000];

	memset(line, 'A', sizeof(line));
	for (size_t i = 0; i < ELEMENTSOF(floods); i++) {
		struct conn c = { .len = 0 };
		enum starttls_result r;

		if (strcmp(floods[i].proto, "xmpp") == 0)
			continue;
		starttls_session_init(&c.s, starttls_lookup(floods[i].proto), "mail.example.com", NULL);
		deliver(&c, NULL, 0);
		r = deliver(&c, line, sizeof(line));
		if (!ok(r == STARTTLS_TOO_LONG &&
			strstr(c.s.detail, "the server sent a line longer than 4096 bytes: \"AAAA"),
			"%s: a 5000-byte line without a newline is too long", floods[i].proto))
			printf("#   %s: %s\n", starttls_result_to_string(r), c.s.detail);
		free(c.buf);
	}
}

static void line_at_the_bound(void)
{
	static char line[STARTTLS_MAX_LINE + 2];
	struct conn c = { .len = 0 };
	enum starttls_result r;
	size_t i;

	/* 4096 bytes of text and CR LF is the longest line a server may send. */
	memcpy(line, "220 ", 4);
	memset(line + 4, 'a', STARTTLS_MAX_LINE - 4);
	memcpy(line + STARTTLS_MAX_LINE, "\r\n", 2);
	starttls_session_init(&c.s, starttls_lookup("smtp"), "mail.example.com", NULL);
	r = deliver(&c, NULL, 0);
	for (i = 0; i < sizeof(line) && r == STARTTLS_CONTINUE; i++)
		r = deliver(&c, line + i, 1);
	ok(r == STARTTLS_CONTINUE && i == sizeof(line) && c.sent_len == strlen(SMTP_EHLO),
	   "smtp: a greeting of exactly %d bytes plus CR LF, fed byte by byte, is accepted",
	   STARTTLS_MAX_LINE);
	free(c.buf);
}

static void preamble_flood(void)
{
	for (size_t i = 0; i < ELEMENTSOF(floods); i++) {
		struct conn c = { .len = 0 };
		enum starttls_result r;
		char chunk[1024];
		size_t fed = 0, n = strlen(floods[i].flood_line), cn = 0;

		/* About 1 KiB of whole lines per read, as a socket would deliver. */
		while (cn + n <= sizeof(chunk)) {
			memcpy(chunk + cn, floods[i].flood_line, n);
			cn += n;
		}

		starttls_session_init(&c.s, starttls_lookup(floods[i].proto), "mail.example.com", NULL);
		r = deliver(&c, NULL, 0);
		if (floods[i].before[0])
			r = deliver(&c, floods[i].before, strlen(floods[i].before));
		while (r == STARTTLS_CONTINUE && fed < 70000) {
			r = deliver(&c, chunk, cn);
			fed += cn;
		}
		if (!ok(r == STARTTLS_TOO_LONG &&
			strstr(c.s.detail, "the server sent more than 65536 bytes before TLS"),
			"%s: 70000 bytes of valid-looking lines hit the preamble bound",
			floods[i].proto))
			printf("#   %s: %s\n", starttls_result_to_string(r), c.s.detail);
		free(c.buf);
	}
}

/* The greeting names this client (ehlo-name), never the server it greets. */
static void helo_names(void)
{
	static const struct {
		const char *proto, *host, *helo, *greeting, *want;
	} cases[] = {
		{ "smtp", "mail.example.com", "probe.example.net", SMTP_GREETING,
		  "EHLO probe.example.net\r\n" },
		{ "lmtp", "mail.example.com", "probe.example.net", "220 ready\r\n",
		  "LHLO probe.example.net\r\n" },
		{ "smtp", "mail.example.com", "192.0.2.9", SMTP_GREETING, "EHLO [192.0.2.9]\r\n" },
		{ "smtp", "mail.example.com", "2001:db8::7", SMTP_GREETING,
		  "EHLO [IPv6:2001:db8::7]\r\n" },
		{ "smtp", "192.0.2.1", NULL, SMTP_GREETING, "EHLO [192.0.2.1]\r\n" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct conn c = { .len = 0 };
		enum starttls_result r;

		starttls_session_init(&c.s, starttls_lookup(cases[i].proto), cases[i].host,
				      cases[i].helo);
		deliver(&c, NULL, 0);
		r = deliver(&c, cases[i].greeting, strlen(cases[i].greeting));
		ok(r == STARTTLS_CONTINUE && c.sent_len == strlen(cases[i].want) &&
		   memcmp(c.sent, cases[i].want, c.sent_len) == 0,
		   "%s to %s as %s: the greeting is %.*s", cases[i].proto, cases[i].host,
		   cases[i].helo ? cases[i].helo : "(none: the server's name)",
		   (int)strlen(cases[i].want) - 2, cases[i].want);
		free(c.buf);
	}
}

static void table(void)
{
	ok(starttls_n_drivers == 13 && starttls_lookup("xmpp-server") == 7 &&
	   starttls_lookup("nope") == -1, "the table has the 13 drivers and lookup finds them");
}

int main(void)
{
	table();
	transcripts_play();
	helo_names();
	line_too_long();
	line_at_the_bound();
	preamble_flood();
	return tap_done();
}
