/*
 * discover.c - `certwatch discover`: runs the dumps in which Dovecot,
 * Postfix and nginx describe their own configuration and prints certwatch
 * service sections for what the parsers found in them.
 *
 * The daemons' dumps are the source of truth (doveconf -P -n, postconf -n -x
 * and -M -x, nginx -T): they have already applied includes, defaults and
 * conditionals that a reader of the files would have to reimplement.  The
 * parsers (discover-dovecot.c, discover-postfix.c, discover-nginx.c) are
 * pure and treat the dump as untrusted text; this file holds what they
 * share (discover-int.h): every endpoint and note goes through
 * disc_add_endpoint() and disc_note(), which bound them and keep bytes that
 * are not printable out of the output.  What is not understood becomes a
 * comment ("note") in the generated configuration rather than a guess.
 *
 * The commands run without a shell, with a clean environment, stdin from
 * /dev/null, stdout bounded to DISCOVER_MAX_OUTPUT and a timeout.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>

#include "conf.h"
#include "discover.h"
#include "discover-int.h"
#include "starttls.h"
#include "util.h"
#include "x509.h"

#define MAX_STDERR  1024   /* stderr kept for the message of a failed dump */
#define DEFAULT_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define DEFAULT_SEARCH_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_SYSTEMD_DIR "/run/systemd/system"

/* ---- the result ------------------------------------------------------------ */

static void endpoint_done(struct discovered_endpoint *e)
{
	free(e->name);
	free(e->address);
	free(e->sni);
	free(e->cert);
	free(e->key);
}

void discovered_done(struct discovered *d)
{
	if (!d)
		return;
	free(d->cert);
	free(d->key);
	free(d->hostname);
	for (size_t i = 0; i < d->n_endpoints; i++)
		endpoint_done(&d->endpoints[i]);
	free(d->endpoints);
	for (size_t i = 0; i < d->n_notes; i++)
		free(d->notes[i]);
	free(d->notes);
	*d = (struct discovered){ 0 };
}

struct disc_shown disc_show(const char *s)
{
	struct disc_shown r;

	escape_bytes(s, s ? strlen(s) : 0, r.s, sizeof(r.s));
	return r;
}

__attribute__((format(printf, 2, 0)))
static int vnote(struct discovered *d, const char *fmt, va_list ap)
{
	char buf[512];

	if (d->n_notes >= DISCOVER_MAX_NOTES)
		return 0;
	if (!d->notes && !(d->notes = calloc(DISCOVER_MAX_NOTES, sizeof(*d->notes))))
		return -ENOMEM;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (!(d->notes[d->n_notes] = strdup(buf)))
		return -ENOMEM;
	d->n_notes++;
	return 0;
}

int disc_note(struct discovered *d, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vnote(d, fmt, ap);
	va_end(ap);
	return r;
}

int disc_note_once(struct discovered *d, bool *noted, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*noted)
		return 0;
	*noted = true;
	va_start(ap, fmt);
	r = vnote(d, fmt, ap);
	va_end(ap);
	return r;
}

bool disc_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static bool valid_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static bool name_taken(const struct discovered *d, const char *name)
{
	for (size_t i = 0; i < d->n_endpoints; i++)
		if (strcmp(d->endpoints[i].name, name) == 0)
			return true;
	return false;
}

/* A valid endpoint name from base (anything), unique within d. */
static int unique_name(const struct discovered *d, const char *base, char out[MAX_NAME + 1])
{
	char clean[MAX_NAME + 1];
	size_t n = 0;

	for (const char *p = base; *p && n < MAX_NAME - 6; p++) {
		char c = valid_name_char(*p) ? *p : '-';
		if (n == 0 && (c == '.' || c == '-'))
			continue;
		clean[n++] = c;
	}
	while (n > 0 && clean[n - 1] == '-')
		n--;
	clean[n] = '\0';
	if (n == 0)
		snprintf(clean, sizeof(clean), "endpoint");
	snprintf(out, MAX_NAME + 1, "%s", clean);
	for (unsigned i = 2; name_taken(d, out); i++) {
		if (i > 99999)
			return -E2BIG;
		snprintf(out, MAX_NAME + 1, "%s-%u", clean, i);
	}
	return 0;
}

int disc_dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (s && !(*ret = strdup(s)))
		return -ENOMEM;
	return 0;
}

int disc_add_endpoint(struct discovered *d, const char *base, const char *address,
		      unsigned port, int starttls, const char *sni, const char *cert,
		      const char *key)
{
	struct discovered_endpoint *e;
	char name[MAX_NAME + 1];
	int r;

	if (port == 0 || port > 65535)
		return disc_note(d, "%s: port %u is not usable", disc_show(base).s, port);
	if (!disc_printable(address) || (sni && !disc_printable(sni)) ||
	    (cert && !disc_printable(cert)) || (key && !disc_printable(key)))
		return disc_note(d, "%s: skipped: a path or name holds control characters",
				 disc_show(base).s);
	if (d->n_endpoints >= DISCOVER_MAX_ENDPOINTS)
		return disc_note(d, "%s: skipped: more than %d endpoints", disc_show(base).s,
				 DISCOVER_MAX_ENDPOINTS);
	if (!d->endpoints &&
	    !(d->endpoints = calloc(DISCOVER_MAX_ENDPOINTS, sizeof(*d->endpoints))))
		return -ENOMEM;
	if ((r = unique_name(d, base, name)) < 0)
		return disc_note(d, "%s: skipped: no unique name left", disc_show(base).s);
	e = &d->endpoints[d->n_endpoints];
	*e = (struct discovered_endpoint){ .port = (uint16_t)port, .starttls = starttls };
	if ((r = disc_dup_or_null(name, &e->name)) < 0 ||
	    (r = disc_dup_or_null(address, &e->address)) < 0 ||
	    (r = disc_dup_or_null(sni, &e->sni)) < 0 ||
	    (r = disc_dup_or_null(cert, &e->cert)) < 0 ||
	    (r = disc_dup_or_null(key, &e->key)) < 0) {
		endpoint_done(e);
		return r;
	}
	d->n_endpoints++;
	return 0;
}

/* ---- small text helpers ----------------------------------------------------- */

void disc_copy_trim(const char *s, size_t n, char *out, size_t outlen)
{
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

int disc_for_each_line(const char *text, size_t len, disc_line_fn fn, void *userdata)
{
	char line[MAX_LINE + 1];
	size_t i = 0;
	int r;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		size_t keep = n > MAX_LINE ? MAX_LINE : n;

		memcpy(line, text + i, keep);
		line[keep] = '\0';
		/* An embedded NUL would silently shorten the line: refuse it. */
		if (memchr(text + i, '\0', keep) == NULL && (r = fn(line, n > MAX_LINE, userdata)) < 0)
			return r;
		i += n + 1;
	}
	return 0;
}

const char *disc_list_next(const char **cursor, size_t *ret_len)
{
	const char *p = *cursor + strspn(*cursor, ", \t");
	size_t n = strcspn(p, ", \t");

	*cursor = p + n;
	if (n == 0)
		return NULL;
	*ret_len = n;
	return p;
}

void disc_connect_address(const char *listen, char *out, size_t outlen)
{
	char a[MAX_VALUE];
	size_t n;

	disc_copy_trim(listen, strlen(listen), a, sizeof(a));
	n = strlen(a);
	if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
		memmove(a, a + 1, n - 2);
		a[n - 2] = '\0';
	}
	if (a[0] == '\0' || strcmp(a, "*") == 0 || strcmp(a, "0.0.0.0") == 0)
		snprintf(out, outlen, "127.0.0.1");
	else if (strcmp(a, "::") == 0 || strcmp(a, "::0") == 0)
		snprintf(out, outlen, "::1");
	else
		snprintf(out, outlen, "%s", a);
}

bool disc_pick_address(const char *list, char *out, size_t outlen)
{
	char first[MAX_VALUE] = "";
	bool v6any = false;
	const char *p = list, *word;
	size_t n;

	while ((word = disc_list_next(&p, &n))) {
		char item[MAX_VALUE];

		disc_copy_trim(word, n, item, sizeof(item));
		if (strcmp(item, "*") == 0 || strcmp(item, "0.0.0.0") == 0 ||
		    strcasecmp(item, "all") == 0) {
			snprintf(out, outlen, "127.0.0.1");
			return true;
		}
		if (strcmp(item, "::") == 0 || strcmp(item, "[::]") == 0)
			v6any = true;
		else if (!first[0])
			snprintf(first, sizeof(first), "%s", item);
	}
	if (first[0]) {
		disc_connect_address(first, out, outlen);
		return true;
	}
	if (v6any) {
		snprintf(out, outlen, "::1");
		return true;
	}
	return false;
}

int disc_parse_port(const char *s)
{
	char *end;
	long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

/* ---- running the dumps ------------------------------------------------------------------ */

struct cmd_result {
	char *out;           /* stdout, NUL-terminated */
	size_t out_len;
	char err[MAX_STDERR];
	size_t err_len;
	int status;          /* exit status, or 128 + signal */
	bool timed_out, too_long;
};

static void cmd_result_done(struct cmd_result *r)
{
	if (r->out) {
		/* doveconf -P shows secrets such as ssl_key_password. */
		explicit_bzero(r->out, r->out_len);
		free(r->out);
	}
	*r = (struct cmd_result){ 0 };
}

/* Finds name in the colon-separated search path; *ret is a malloc'ed path. */
static int find_program(const char *search, const char *name, char **ret)
{
	const char *p = search;

	while (*p) {
		size_t n = strcspn(p, ":");
		char *path;

		if (n > 0 && p[0] == '/') {
			if (asprintf(&path, "%.*s/%s", (int)n, p, name) < 0)
				return -ENOMEM;
			if (access(path, X_OK) == 0) {
				*ret = path;
				return 0;
			}
			free(path);
		}
		p += n;
		p += *p == ':';
	}
	return -ENOENT;
}

static int run_command(char *const argv[], uint64_t timeout_usec, struct cmd_result *ret)
{
	static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	uint64_t deadline = now_monotonic_usec() + timeout_usec;
	size_t cap = 65536;
	pid_t pid = -1;
	int r, wstatus;

	*ret = (struct cmd_result){ 0 };
	if (!(ret->out = malloc(cap + 1)))
		return -ENOMEM;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					POSIX_SPAWN_SETPGROUP);
	r = -posix_spawn(&pid, argv[0], &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	if (r < 0) {
		pid = -1;
		goto out;
	}

	for (;;) {
		struct pollfd pfd[2] = { { .fd = out[0], .events = POLLIN },
					 { .fd = err[0], .events = POLLIN } };
		uint64_t now = now_monotonic_usec();
		char buf[8192];
		ssize_t n;

		if (pfd[0].fd < 0 && pfd[1].fd < 0)
			break;
		if (now >= deadline) {
			ret->timed_out = true;
			break;
		}
		if (poll(pfd, 2, (int)((deadline - now + 999) / 1000)) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (pfd[0].revents) {
			n = read(out[0], buf, sizeof(buf));
			if (n <= 0) {
				close(out[0]);
				out[0] = -1;
			} else if (ret->out_len + (size_t)n > DISCOVER_MAX_OUTPUT) {
				ret->too_long = true;
				break;
			} else {
				if (ret->out_len + (size_t)n > cap) {
					char *bigger;
					cap = cap * 2 > DISCOVER_MAX_OUTPUT ? DISCOVER_MAX_OUTPUT : cap * 2;
					if (!(bigger = realloc(ret->out, cap + 1))) {
						r = -ENOMEM;
						goto out;
					}
					ret->out = bigger;
				}
				memcpy(ret->out + ret->out_len, buf, (size_t)n);
				ret->out_len += (size_t)n;
			}
		}
		if (pfd[1].revents) {
			n = read(err[0], buf, sizeof(buf));
			if (n <= 0) {
				close(err[0]);
				err[0] = -1;
			} else {
				size_t keep = sizeof(ret->err) - 1 - ret->err_len;
				if ((size_t)n < keep)
					keep = (size_t)n;
				memcpy(ret->err + ret->err_len, buf, keep);
				ret->err_len += keep;
			}
		}
	}
	r = 0;
out:
	if (pid > 0) {
		if (ret->timed_out || ret->too_long || r < 0)
			kill(-pid, SIGKILL);
		while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
			;
		ret->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	}
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (ret->out)
		ret->out[ret->out_len] = '\0';
	ret->err[ret->err_len] = '\0';
	if (r < 0)
		cmd_result_done(ret);
	return r;
}

/* ---- writing the configuration ----------------------------------------------------------- */

/* A name the certificate covers: the daemon's host name, else its first DNS name. */
static char *name_from_cert(const char *cert, const char *hostname, const struct discovered *d)
{
	struct disk_pair p;
	char *name = NULL;

	if (!cert || disk_pair_load(cert, NULL, NULL, NULL, time(NULL), &p) < 0)
		return NULL;
	if (p.have_leaf) {
		if (hostname && disc_printable(hostname) && cert_info_covers(&p.leaf, hostname))
			name = strdup(hostname);
		for (size_t i = 0; !name && i < p.leaf.n_sans; i++) {
			const char *san = p.leaf.sans[i];
			unsigned char buf[16];
			bool taken = false;

			if (strchr(san, '*') || !disc_printable(san) ||
			    inet_pton(AF_INET, san, buf) == 1 || inet_pton(AF_INET6, san, buf) == 1)
				continue;
			/* Another endpoint sends it: the daemon would pick that one's pair. */
			for (size_t j = 0; j < d->n_endpoints; j++)
				taken |= d->endpoints[j].sni && strcasecmp(d->endpoints[j].sni, san) == 0;
			if (!taken)
				name = strdup(san);
		}
	}
	disk_pair_done(&p);
	return name;
}

/*
 * Each daemon: its dumps, and the commands written into its service.  A
 * command is a program (looked up in the search path, else the usual
 * absolute path) and arguments that follow the private-instance options.
 */
struct daemon_cmd {
	const char *program, *usual_path;
	const char *args[3];
};

static const struct daemon_def {
	const char *service;     /* certwatch's service name */
	const char *unit;        /* systemd unit */
	struct daemon_cmd dumps[2], reload, check;
} daemons[] = {
	{ "dovecot", "dovecot.service",
	  { { "doveconf", "/usr/bin/doveconf", { "-P", "-n" } },
	    { "doveconf", "/usr/bin/doveconf", { "-h", "protocols" } } },
	  { "doveadm", "/usr/bin/doveadm", { "reload" } },
	  { "doveconf", "/usr/bin/doveconf", { "-n" } } },
	{ "postfix", "postfix.service",
	  { { "postconf", "/usr/sbin/postconf", { "-n", "-x" } },
	    { "postconf", "/usr/sbin/postconf", { "-M", "-x" } } },
	  { "postfix", "/usr/sbin/postfix", { "reload" } },
	  { "postfix", "/usr/sbin/postfix", { "check" } } },
	{ "nginx", "nginx.service",
	  { { "nginx", "/usr/sbin/nginx", { "-T" } } },
	  { "nginx", "/usr/sbin/nginx", { "-s", "reload" } },
	  { "nginx", "/usr/sbin/nginx", { "-t" } } },
};

#define MAX_CMD_ARGS 12

/* A command's argv with the private-instance options; *ret_prog is to be freed. */
static int build_argv(const struct discover_options *o, const char *search, size_t which,
		      const struct daemon_cmd *cmd, char *argv[MAX_CMD_ARGS], char **ret_prog)
{
	size_t n = 0;
	int r = find_program(search, cmd->program, ret_prog);

	if (r == -ENOENT && !(*ret_prog = strdup(cmd->usual_path)))
		return -ENOMEM;
	if (r < 0 && r != -ENOENT)
		return r;
	argv[n++] = *ret_prog;
	if (which == 0 && o->dovecot_conf) {
		argv[n++] = (char *)"-c";
		argv[n++] = (char *)o->dovecot_conf;
	} else if (which == 1 && o->postfix_dir) {
		argv[n++] = (char *)"-c";
		argv[n++] = (char *)o->postfix_dir;
	} else if (which == 2) {
		if (o->nginx_prefix) {
			argv[n++] = (char *)"-p";
			argv[n++] = (char *)o->nginx_prefix;
		}
		if (o->nginx_conf) {
			argv[n++] = (char *)"-c";
			argv[n++] = (char *)o->nginx_conf;
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(cmd->args) && cmd->args[i]; i++)
		argv[n++] = (char *)cmd->args[i];
	argv[n] = NULL;
	return 0;
}

/* "doveconf -P -n", for messages. */
static void describe(const struct daemon_cmd *cmd, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s", cmd->program);

	for (size_t i = 0; i < ELEMENTSOF(cmd->args) && cmd->args[i] && n > 0 && (size_t)n < outlen; i++)
		n += snprintf(out + n, outlen - (size_t)n, " %s", cmd->args[i]);
}

static void print_service(FILE *f, const struct discover_options *o, const char *search,
			  size_t which, const struct discovered *d)
{
	const struct daemon_def *def = &daemons[which];
	bool private = which == 0 ? !!o->dovecot_conf : which == 1 ? !!o->postfix_dir
				  : o->nginx_conf || o->nginx_prefix;
	struct stat st;
	char *argv[MAX_CMD_ARGS], *prog = NULL;
	char *name = d->cert ? name_from_cert(d->cert, d->hostname, d) : NULL;

	fprintf(f, "service %s {\n", def->service);
	conf_write_setting(f, "\t", "cert", d->cert);
	conf_write_setting(f, "\t", "key", d->key);
	conf_write_setting(f, "\t", "name", name);
	/* A private instance is not the one systemd knows by the unit name. */
	if (!private && stat(o->systemd_dir ? o->systemd_dir : DEFAULT_SYSTEMD_DIR, &st) == 0)
		conf_write_setting(f, "\t", "reload-unit", def->unit);
	else if (build_argv(o, search, which, &def->reload, argv, &prog) == 0)
		conf_write_argv(f, "reload-command", argv);
	free(prog);
	prog = NULL;
	if (build_argv(o, search, which, &def->check, argv, &prog) == 0)
		conf_write_argv(f, "reload-check", argv);
	free(prog);
	for (size_t i = 0; i < d->n_endpoints; i++) {
		const struct discovered_endpoint *e = &d->endpoints[i];
		char *ename = NULL;

		fprintf(f, "\tendpoint %s {\n", e->name);
		conf_write_setting(f, "\t\t", "address", e->address);
		fprintf(f, "\t\tport = %u\n", e->port);
		if (e->starttls >= 0 && (size_t)e->starttls < starttls_n_drivers)
			fprintf(f, "\t\tstarttls = \"%s\"\n", starttls_drivers[e->starttls].name);
		/* An endpoint with a pair of its own needs a name its certificate covers. */
		if (!e->sni && e->cert)
			ename = name_from_cert(e->cert, NULL, d);
		conf_write_setting(f, "\t\t", "name", e->sni ? e->sni : ename);
		conf_write_setting(f, "\t\t", "cert", e->cert);
		conf_write_setting(f, "\t\t", "key", e->key);
		fputs("\t}\n", f);
		free(ename);
	}
	fputs("}\n", f);
	free(name);
}

/* The first line of a command's stderr, escaped, for a comment. */
static void first_line(const struct cmd_result *c, char *out, size_t outlen)
{
	size_t n = strcspn(c->err, "\n");

	escape_bytes(c->err, n, out, outlen);
}

/*
 * One daemon: run its dumps, parse, print.  Returns 1 when a service was
 * written, 0 when a comment was, or a negative errno.
 */
static int discover_one(FILE *f, const struct discover_options *o, const char *search, size_t which)
{
	const struct daemon_def *def = &daemons[which];
	struct cmd_result res[2] = { { 0 } };
	struct discovered d = { 0 };
	uint64_t timeout = o->timeout_usec ? o->timeout_usec : DEFAULT_TIMEOUT_USEC;
	char *progs[2] = { NULL, NULL }, *argv[MAX_CMD_ARGS];
	int r;

	if ((r = find_program(search, def->dumps[0].program, &progs[0])) == -ENOENT) {
		fprintf(f, "# %s: not installed (%s: command not found)\n", def->service,
			def->dumps[0].program);
		return 0;
	}
	if (r < 0)
		return r;
	for (size_t k = 0; k < ELEMENTSOF(def->dumps) && def->dumps[k].program; k++) {
		char what[64], msg[300];

		free(progs[k]);
		progs[k] = NULL;
		if ((r = build_argv(o, search, which, &def->dumps[k], argv, &progs[k])) < 0)
			goto out;
		describe(&def->dumps[k], what, sizeof(what));
		if ((r = run_command(argv, timeout, &res[k])) < 0) {
			fprintf(f, "# %s: cannot run %s: %s\n", def->service, disc_show(progs[k]).s,
				strerror(-r));
			r = 0;
			goto out;
		}
		first_line(&res[k], msg, sizeof(msg));
		if (res[k].timed_out)
			fprintf(f, "# %s: %s did not finish in time\n", def->service, what);
		else if (res[k].too_long)
			fprintf(f, "# %s: %s printed more than %u bytes\n", def->service, what,
				DISCOVER_MAX_OUTPUT);
		else if (res[k].status != 0)
			fprintf(f, "# %s: %s failed (exit %d): %s\n", def->service, what,
				res[k].status, msg);
		else
			continue;
		r = 0;
		goto out;
	}
	if (which == 0) {
		res[1].out[strcspn(res[1].out, "\n")] = '\0';
		r = discover_dovecot(res[0].out, res[0].out_len, res[1].out, &d);
	} else if (which == 1) {
		r = discover_postfix(res[0].out, res[0].out_len, res[1].out, res[1].out_len, &d);
	} else {
		r = discover_nginx(res[0].out, res[0].out_len, &d);
	}
	if (r < 0)
		goto out;
	for (size_t i = 0; i < d.n_notes; i++)
		fprintf(f, "# %s: %s\n", def->service, d.notes[i]);
	if (d.n_endpoints == 0) {
		fprintf(f, "# %s: no TLS endpoint found\n", def->service);
		r = 0;
		goto out;
	}
	print_service(f, o, search, which, &d);
	r = 1;
out:
	discovered_done(&d);
	cmd_result_done(&res[0]);
	cmd_result_done(&res[1]);
	free(progs[0]);
	free(progs[1]);
	return r;
}

int discover_write_opts(FILE *out, const struct discover_options *o, char *err, size_t errlen)
{
	const char *search = o->search_path ? o->search_path : DEFAULT_SEARCH_PATH;
	int found = 0, r;

	fputs("# Written by certwatch discover from the daemons' own configuration dumps.\n"
	      "# Review it, then install it as /etc/certwatch/conf.d/NAME.conf (root's, mode 0600).\n",
	      out);
	for (size_t i = 0; i < ELEMENTSOF(daemons); i++) {
		if ((r = discover_one(out, o, search, i)) < 0) {
			snprintf(err, errlen, "discovering %s: %s", daemons[i].service, strerror(-r));
			return r;
		}
		found += r;
	}
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "cannot write the configuration: %s", strerror(errno));
		return -EIO;
	}
	return found;
}

int discover_write(FILE *out, char *err, size_t errlen)
{
	static const struct discover_options defaults = { 0 };

	return discover_write_opts(out, &defaults, err, errlen);
}
