/*
 * tlsa-cmd.c - "certwatch tlsa [--port N] [--name NAME] FILE...": for each
 * certificate file, the records a zone publishes so that SMTP clients that
 * validate DANE accept it: "3 1 1" for the leaf's key, "2 1 1" for its
 * issuer's (when the file holds the chain), and the RFC 7469 pin of the
 * leaf's key for pin-sha256.
 *
 * "3 1 1" binds the key, not the certificate, so a renewal that keeps its
 * key keeps matching; for a new key, publishing the next key's record a few
 * TTLs before the switch ("current + next") keeps mail flowing.  The
 * owner name is _PORT._tcp.NAME, NAME being --name or the leaf's first DNS
 * name.  Output is zone-file text; comments start with ';'.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tlsa-cmd.h"
#include "tlsa.h"
#include "x509.h"

#define EXIT_UNKNOWN 3
#define PEM_FILE_MAX (1024 * 1024)

void pem_chain_free(X509 **chain, size_t n)
{
	if (!chain)
		return;
	for (size_t i = 0; i < n; i++)
		X509_free(chain[i]);
	free(chain);
}

static BIO *pem_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open_regular(path, 0, &st);
	BIO *b;

	if (fd == -EISDIR || fd == -ENXIO) {
		snprintf(err, errlen, "%s: is %s, not a regular file: name a PEM certificate file",
			 path, path_type_name(path));
		return NULL;
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-fd));
		return NULL;
	}
	if (st.st_size > PEM_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes: not a certificate file", path,
			 PEM_FILE_MAX);
		close(fd);
		return NULL;
	}
	b = BIO_new_fd(fd, BIO_CLOSE);
	if (!b) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
	}
	return b;
}

int pem_chain_load(const char *path, X509 ***ret, size_t *ret_n, char *err, size_t errlen)
{
	X509 **chain = calloc(X509_MAX_CHAIN, sizeof(*chain));
	BIO *b;
	size_t n = 0;
	unsigned long e;

	if (!chain)
		return -ENOMEM;
	b = pem_open(path, err, errlen);
	if (!b) {
		free(chain);
		return -EIO;
	}
	ERR_clear_error();
	while (n < X509_MAX_CHAIN && (chain[n] = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		n++;
	/* The end of the file reads as "no start line"; anything else is damage. */
	e = ERR_peek_last_error();
	BIO_free(b);
	if (n == 0 || (n < X509_MAX_CHAIN && e && ERR_GET_REASON(e) != PEM_R_NO_START_LINE)) {
		snprintf(err, errlen, n == 0 ? "%s: no PEM certificate in the file" :
			 "%s: certificate %zu cannot be parsed", path, n + 1);
		ERR_clear_error();
		pem_chain_free(chain, n);
		return -EBADMSG;
	}
	ERR_clear_error();
	*ret = chain;
	*ret_n = n;
	return 0;
}

/* The leaf's first DNS name that can be an owner name (no wildcard), or NULL. */
static char *first_dns_name(X509 *x)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	char owner[TLSA_OWNER_MAX], *found = NULL;

	for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && !found; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const unsigned char *s;
		int len;

		if (g->type != GEN_DNS)
			continue;
		s = ASN1_STRING_get0_data(g->d.dNSName);
		len = ASN1_STRING_length(g->d.dNSName);
		if (len <= 0 || memchr(s, '\0', (size_t)len))
			continue;
		found = strndup((const char *)s, (size_t)len);
		if (found && tlsa_owner(found, 25, owner) < 0) {
			free(found);
			found = NULL;
		}
	}
	GENERAL_NAMES_free(names);
	return found;
}

static void subject_line(X509 *x, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long len;

	out[0] = '\0';
	if (!b)
		return;
	X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_get_mem_data(b, &p);
	escape_bytes(p, len > 0 ? (size_t)len : 0, out, outlen);
	BIO_free(b);
}

/* Prints the records of one file; 0 or EXIT_UNKNOWN. */
static int print_file(const char *path, const char *name, uint16_t port)
{
	X509 **chain = NULL;
	size_t n = 0;
	_cleanup_free_ char *leaf_name = NULL;
	char err[512], owner[TLSA_OWNER_MAX], line[TLSA_LINE_MAX], subject[256];
	char pin_text[TLSA_PIN_TEXT_LEN];
	struct tlsa_pin pin;
	int status = EXIT_UNKNOWN;

	if (pem_chain_load(path, &chain, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "certwatch tlsa: %s\n", err);
		return EXIT_UNKNOWN;
	}
	if (!name)
		name = leaf_name = first_dns_name(chain[0]);
	if (!name) {
		fprintf(stderr, "certwatch tlsa: %s: the certificate has no DNS name to form the "
			"owner name from; give one with --name\n", path);
		goto out;
	}
	if (tlsa_owner(name, port, owner) < 0) {
		fprintf(stderr, "certwatch tlsa: \"%s\" cannot be a host name\n", name);
		goto out;
	}
	subject_line(chain[0], subject, sizeof(subject));
	printf("; %s: %s\n", path, subject);
	if (tlsa_line_spki_sha256(owner, TLSA_USAGE_DANE_EE, chain[0], line) < 0)
		goto oom;
	printf("%s\n", line);
	if (n > 1) {
		if (tlsa_line_spki_sha256(owner, TLSA_USAGE_DANE_TA, chain[1], line) < 0)
			goto oom;
		subject_line(chain[1], subject, sizeof(subject));
		printf("%s\n; (2 1 1 is the key of the issuer, %s)\n", line, subject);
	} else
		printf("; no issuer certificate in %s: 2 1 1 needs the full chain\n", path);
	if (tlsa_pin_for_cert(chain[0], &pin) < 0)
		goto oom;
	tlsa_pin_to_text(&pin, pin_text);
	printf("; pin-sha256 = \"%s\"\n", pin_text);
	status = 0;
	goto out;
oom:
	fprintf(stderr, "certwatch tlsa: out of memory\n");
out:
	pem_chain_free(chain, n);
	return status;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: certwatch tlsa [--port PORT] [--name NAME] FILE...\n"
		"\n"
		"Prints the DANE TLSA records that match each certificate file: 3 1 1 for\n"
		"the leaf's key and, when the file holds the chain, 2 1 1 for its issuer's,\n"
		"with the owner name _PORT._tcp.NAME, and the leaf's pin-sha256.\n"
		"\n"
		"Options:\n"
		"  -p, --port PORT       the TCP port of the owner name (default 25)\n"
		"  -n, --name NAME       the host name of the owner name (default: the\n"
		"                        leaf's first DNS name)\n"
		"  -h, --help            show this help\n");
}

int tlsa_main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	unsigned long port = 25;
	char *end;
	int c, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:n:h", options, NULL)) >= 0) {
		switch (c) {
		case 'p':
			errno = 0;
			port = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || port == 0 || port > 65535) {
				fprintf(stderr, "certwatch tlsa: --port \"%s\" is not a port "
					"number from 1 to 65535\n", optarg);
				return EXIT_UNKNOWN;
			}
			break;
		case 'n': name = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "Try 'certwatch tlsa --help'.\n");
			return EXIT_UNKNOWN;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_UNKNOWN;
	}
	for (int i = optind; i < argc; i++) {
		if (i > optind)
			printf("\n");
		if (print_file(argv[i], name, (uint16_t)port) != 0)
			status = EXIT_UNKNOWN;
	}
	return status;
}
