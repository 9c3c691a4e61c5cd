/*
 * reload-slapd.c - OpenLDAP's slapd has no reload: it builds its TLS
 * context again only when the TLS settings of cn=config are modified.
 * So they are read (ldapsearch) and written back unchanged (ldapmodify),
 * both over the ldapi socket in control-socket, as root through SASL
 * EXTERNAL, which Debian's slapd maps to cn=config's manager.  slapd then
 * loads the files those settings name, and refuses the modification,
 * keeping what it serves, when they do not make a usable pair.
 *
 * What ldapsearch prints is the server's: bounded (the command runner
 * keeps RELOAD_MAX_OUTPUT bytes), and a value is used only when it is a
 * plain absolute path on one line.  A slapd configured by slapd.conf has
 * no such settings: the message says to restart it instead.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "reload-op.h"
#include "util.h"

#define LDAPSEARCH "/usr/bin/ldapsearch"
#define LDAPMODIFY "/usr/bin/ldapmodify"

/* The settings set again, in this order: slapd checks the pair once all are in. */
static const char *const tls_settings[] = {
	"olcTLSCACertificateFile",
	"olcTLSCertificateFile",
	"olcTLSCertificateKeyFile",
};

struct slapd_op {
	struct reload_op op;        /* first: the common part */
	sd_event *event;
	const struct conf_service *cs;
	char url[3 * PATH_MAX + 16];
	struct reload_op *step;     /* the command running */
	char *values[ELEMENTSOF(tls_settings)];
	int ldif_fd;
};

static void slapd_destroy(struct reload_op *op)
{
	struct slapd_op *d = (struct slapd_op *)op;

	reload_op_cancel(d->step);
	for (size_t i = 0; i < ELEMENTSOF(tls_settings); i++)
		free(d->values[i]);
	if (d->ldif_fd >= 0)
		close(d->ldif_fd);
}

/* ldapi://PATH with the path percent-encoded, as the URL scheme wants. */
static void ldapi_url(const char *path, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "ldapi://");

	for (const unsigned char *p = (const unsigned char *)path; *p && n + 4 < len; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_')
			buf[n++] = (char)*p;
		else
			n += (size_t)snprintf(buf + n, len - n, "%%%02X", *p);
	}
	buf[n] = '\0';
}

/* A failed step: what ran, what it said. */
static void step_failed(struct slapd_op *d, const char *program, const struct reload_result *r)
{
	d->op.result.exit_status = r->exit_status;
	reload_op_complete(&d->op, r->status, "%s on %s %s%s%s", program, d->cs->control_socket,
			   r->detail, r->output[0] ? ": " : "", r->output);
}

/* Takes "NAME: VALUE" lines of ldapsearch's output; -EINVAL for a value certwatch will not write. */
static int take_values(struct slapd_op *d, const char *out, size_t len)
{
	const char *p = out, *end = out + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		for (size_t i = 0; i < ELEMENTSOF(tls_settings); i++) {
			size_t k = strlen(tls_settings[i]);
			const char *v = p + k + 2;
			size_t vlen = n > k + 2 ? n - k - 2 : 0;

			if (n <= k || strncmp(p, tls_settings[i], k) != 0 || p[k] != ':')
				continue;
			if (p[k + 1] != ' ' || vlen == 0 || vlen >= PATH_MAX || v[0] != '/' ||
			    memchr(v, '\r', vlen) || d->values[i])
				return -EINVAL;
			d->values[i] = strndup(v, vlen);
			if (!d->values[i])
				return -ENOMEM;
		}
		p += n + 1;
	}
	return 0;
}

/* The modification that sets every setting found to its own value, in a memfd. */
static int write_ldif(struct slapd_op *d)
{
	_cleanup_fclose_ FILE *f = NULL;
	int fd = memfd_create("certwatch-slapd", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	f = fdopen(dup(fd), "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	fputs("dn: cn=config\nchangetype: modify\n", f);
	for (size_t i = 0; i < ELEMENTSOF(tls_settings); i++)
		if (d->values[i])
			fprintf(f, "replace: %s\n%s: %s\n-\n", tls_settings[i], tls_settings[i],
				d->values[i]);
	if (fflush(f) != 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -EIO;
	}
	d->ldif_fd = fd;
	return 0;
}

static void on_modified(const struct reload_result *r, void *userdata)
{
	struct slapd_op *d = userdata;

	d->step = NULL;
	if (r->status != RELOAD_OK) {
		step_failed(d, "ldapmodify", r);
		return;
	}
	reload_op_complete(&d->op, RELOAD_OK, "slapd's TLS settings set again over %s (%s)",
			   d->cs->control_socket, d->values[1]);
}

static void on_searched(const struct reload_result *r, void *userdata)
{
	struct slapd_op *d = userdata;
	char *argv[] = { (char *)LDAPMODIFY, (char *)"-Q", (char *)"-Y", (char *)"EXTERNAL",
			 (char *)"-H", d->url, NULL };
	int e;

	d->step = NULL;
	if (r->status != RELOAD_OK) {
		step_failed(d, "ldapsearch", r);
		return;
	}
	e = take_values(d, r->raw, r->raw_len);
	if (e == 0 && !d->values[1])
		e = -ENOENT;
	if (e == 0)
		e = write_ldif(d);
	if (e == -ENOENT || e == -EINVAL) {
		reload_op_complete(&d->op, RELOAD_EXIT_FAILURE, "cn=config on %s %s; restart slapd "
				   "instead (restart-unit)", d->cs->control_socket, e == -ENOENT ?
				   "has no olcTLSCertificateFile (slapd.conf, or no TLS)" :
				   "names TLS files certwatch does not write back as they are");
		return;
	}
	if (e == 0)
		e = reload_command_start_input(d->event, argv, d->ldif_fd, d->op.timeout_usec,
					       on_modified, d, &d->step);
	if (e < 0)
		reload_op_complete(&d->op, RELOAD_SPAWN_FAILED, "cannot run ldapmodify: %s",
				   strerror(-e));
}

/* ldapsearch of the settings, unwrapped: one line each. */
static int search(struct slapd_op *d)
{
	char *argv[] = { (char *)LDAPSEARCH, (char *)"-Q", (char *)"-LLL", (char *)"-o",
			 (char *)"ldif-wrap=no", (char *)"-Y", (char *)"EXTERNAL", (char *)"-H",
			 d->url, (char *)"-b", (char *)"cn=config", (char *)"-s", (char *)"base",
			 (char *)tls_settings[0], (char *)tls_settings[1], (char *)tls_settings[2],
			 NULL };

	return reload_command_start(d->event, argv, d->op.timeout_usec, on_searched, d, &d->step);
}

int reload_slapd_method_start(struct reload_env *env, const struct conf_service *cs,
			      reload_done_t done, void *userdata, struct reload_op **ret)
{
	struct reload_op *op = NULL;
	struct slapd_op *d;
	int r;

	if (!env || !cs || !cs->control_socket || !done || !ret)
		return -EINVAL;
	r = reload_op_new(env->event, sizeof(*d), done, userdata, &op);
	if (r < 0)
		return r;
	d = (struct slapd_op *)op;
	d->event = env->event;
	d->cs = cs;
	d->ldif_fd = -1;
	op->destroy = slapd_destroy;
	op->timeout_usec = cs->reload_timeout_usec;
	ldapi_url(cs->control_socket, d->url, sizeof(d->url));
	r = search(d);
	if (r < 0) {
		reload_op_free(op);
		return r;
	}
	*ret = op;
	return 0;
}
