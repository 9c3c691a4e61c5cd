/*
 * pair-format.h - the rules by which a daemon reads a pair's files, so
 * that certwatch judges them as the daemon that loads them would.  A name
 * of its own, shared by the configuration, x509 and the reports.
 */
#pragma once

enum pair_format {
	/*
	 * OpenSSL's own reading, as nginx, Dovecot and most daemons do it:
	 * the certificate file's first certificate is the leaf and the
	 * certificates after it its chain, other PEM blocks skipped; the
	 * key is the first private key of the key file.
	 */
	PAIR_FORMAT_PEM,
	/*
	 * Postfix's smtpd_tls_chain_files: the key file, the certificate
	 * file and the chain file, concatenated, are a sequence of a key,
	 * its certificate, its chain, then the next key; nothing else.
	 */
	PAIR_FORMAT_POSTFIX_CHAIN_FILES,
	_PAIR_FORMAT_MAX,
};

/* "pem", "postfix-chain-files"; "?" for a value out of range. */
const char *pair_format_to_string(enum pair_format f);

/* The format named s, or -EINVAL. */
int pair_format_from_string(const char *s);
