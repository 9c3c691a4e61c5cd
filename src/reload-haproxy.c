/*
 * reload-haproxy.c - HAProxy without new processes: its runtime API on
 * the admin socket (stats socket ... level admin) is asked which
 * certificate files it uses (show ssl cert, crt-list entries included),
 * and each is handed its current contents from disk (set ssl cert FILE
 * <<, the payload ending at an empty line) and committed (commit ssl
 * cert FILE).  Connections in flight keep their handshakes; new ones get
 * the new certificate; nothing is restarted.
 *
 * Where the API cannot be used (no socket, no admin level, an HAProxy too
 * old for show ssl cert) the service's reload-unit is reloaded instead,
 * and the result says why.  A certificate the API refuses is a failure:
 * its transaction is aborted, so that no half-made one blocks the next.
 *
 * One command per connection (the CLI's non-interactive mode: HAProxy
 * closes once it has answered).  Everything HAProxy answers is untrusted:
 * the answer is bounded, and shown escaped.  The operation's timeout
 * covers every exchange together.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "reload-op.h"
#include "util.h"

#define ANSWER_MAX   (256 * 1024)   /* bytes of one answer kept: a long certificate list */
#define PEM_MAX      (256 * 1024)   /* bytes of one certificate file */
#define FILES_MAX    4096           /* certificate files updated in one reload */
#define SHOWN_MAX    160            /* bytes of an answer shown in a message */

enum step {
	STEP_LIST,      /* show ssl cert */
	STEP_SET,       /* set ssl cert FILE << PEM */
	STEP_COMMIT,    /* commit ssl cert FILE */
	STEP_ABORT,     /* abort ssl cert FILE, after a refusal */
};

struct haproxy_op {
	struct reload_op op;        /* first: the common part */
	struct reload_env *env;
	const struct conf_service *cs;
	enum step step;
	int fd;
	sd_event_source *io;
	char *request;
	size_t request_len, sent;
	char *answer;
	size_t answer_len;
	bool answer_cut;
	char **files;
	size_t n_files, current;
	char failure[512];          /* why, when an abort runs before the end */
	struct reload_op *fallback;
};

static void exchange_close(struct haproxy_op *h)
{
	h->io = sd_event_source_disable_unref(h->io);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

static void haproxy_destroy(struct reload_op *op)
{
	struct haproxy_op *h = (struct haproxy_op *)op;

	exchange_close(h);
	reload_op_cancel(h->fallback);
	free(h->request);
	free(h->answer);
	for (size_t i = 0; i < h->n_files; i++)
		free(h->files[i]);
	free(h->files);
}

/* The answer, escaped and cut, for a message. */
static const char *shown(const struct haproxy_op *h, char *buf, size_t len)
{
	size_t n = h->answer_len;

	while (n > 0 && (h->answer[n - 1] == '\n' || h->answer[n - 1] == ' '))
		n--;
	escape_bytes(h->answer, n > SHOWN_MAX ? SHOWN_MAX : n, buf, len);
	return buf;
}

/* ---- one exchange: connect, send the request, read the answer to its end ---- */

static void step_done(struct haproxy_op *h);
static void api_unusable(struct haproxy_op *h, const char *why);

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct haproxy_op *h = userdata;
	char buf[4096];
	ssize_t n;

	(void)s;
	if (h->sent < h->request_len) {
		n = send(fd, h->request + h->sent, h->request_len - h->sent, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0) {
			reload_op_complete(&h->op, RELOAD_EXIT_FAILURE, "cannot write to HAProxy's "
					   "admin socket %s: %s", h->cs->control_socket, strerror(errno));
			return 0;
		}
		h->sent += (size_t)n;
		if (h->sent == h->request_len) {
			/* All said: HAProxy answers and closes. */
			(void)shutdown(fd, SHUT_WR);
			(void)sd_event_source_set_io_events(h->io, EPOLLIN);
		}
		return 0;
	}
	if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return 0;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0) {
		size_t keep = ANSWER_MAX - h->answer_len;

		if (keep > (size_t)n)
			keep = (size_t)n;
		memcpy(h->answer + h->answer_len, buf, keep);
		h->answer_len += keep;
		h->answer_cut |= keep < (size_t)n;
		return 0;
	}
	exchange_close(h);
	step_done(h);
	return 0;
}

/* Sends request (taken) on a new connection; its answer goes to step_done(). */
static void exchange(struct haproxy_op *h, enum step step, char *request, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	free(h->request);
	h->request = request;
	h->request_len = len;
	h->sent = 0;
	h->answer_len = 0;
	h->answer_cut = false;
	h->step = step;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h->cs->control_socket);
	h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	r = h->fd < 0 ? -errno : 0;
	if (r == 0 && connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS &&
	    errno != EAGAIN)
		r = -errno;
	if (r == 0)
		r = sd_event_add_io(h->op.event, &h->io, h->fd, EPOLLOUT, on_io, h);
	if (r == 0)
		return;
	exchange_close(h);
	if (step == STEP_LIST && r != -ENOMEM) {
		char why[PATH_MAX + 64];

		snprintf(why, sizeof(why), "cannot connect to %s: %s", h->cs->control_socket,
			 strerror(-r));
		api_unusable(h, why);
		return;
	}
	reload_op_complete(&h->op, RELOAD_EXIT_FAILURE, "cannot connect to HAProxy's admin socket "
			   "%s: %s", h->cs->control_socket, strerror(-r));
}

static void exchange_text(struct haproxy_op *h, enum step step, const char *fmt, const char *file)
{
	char *request = NULL;
	int n = asprintf(&request, fmt, file);

	if (n < 0) {
		reload_op_complete(&h->op, RELOAD_EXIT_FAILURE, "%s", strerror(ENOMEM));
		return;
	}
	exchange(h, step, request, (size_t)n);
}

/* ---- the steps ------------------------------------------------------------ */

/*
 * A name HAProxy's command line takes as one word: it splits on blanks and
 * ';' and unescapes '\'.  Anything else is refused rather than escaped.
 */
static bool plain_path(const char *s, size_t len)
{
	if (len == 0 || len >= PATH_MAX || s[0] != '/')
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == ';' || s[i] == '\\' || s[i] == 0x7f)
			return false;
	return true;
}

/*
 * The answer to show ssl cert: "# filename" and one file a line; a
 * transaction in progress shows as "# transaction" and "*FILE" first.
 * Returns 0, -EPROTO when it is no such list (the API is not there),
 * -E2BIG or -EINVAL when it is one certwatch will not use.
 */
static int parse_list(struct haproxy_op *h)
{
	bool header = false;
	char *p = h->answer, *end = h->answer + h->answer_len;

	if (h->answer_cut)
		return -E2BIG;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), **files;
		size_t len = (size_t)((nl ? nl : end) - p);

		if (len > 0 && p[0] == '#') {
			header = true;
		} else if (len > 0 && p[0] != '*') {
			if (!header)
				return -EPROTO;
			if (!plain_path(p, len))
				return -EINVAL;
			if (h->n_files == FILES_MAX)
				return -E2BIG;
			files = reallocarray(h->files, h->n_files + 1, sizeof(*files));
			if (!files)
				return -ENOMEM;
			h->files = files;
			h->files[h->n_files] = strndup(p, len);
			if (!h->files[h->n_files])
				return -ENOMEM;
			h->n_files++;
		}
		p += len + 1;
	}
	return header ? 0 : -EPROTO;
}

/* Appends the file at path to buf without its empty lines: one would end the payload. */
static int append_pem(const char *path, char *buf, size_t *len, size_t max)
{
	_cleanup_close_ int fd = open_regular(path, 0, NULL);
	char chunk[4096];
	bool line_start = *len == 0 || buf[*len - 1] == '\n';
	ssize_t n;

	if (fd < 0)
		return fd;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] == '\r' || (chunk[i] == '\n' && line_start))
				continue;
			if (*len == max)
				return -EFBIG;
			buf[(*len)++] = chunk[i];
			line_start = chunk[i] == '\n';
		}
	}
	if (*len > 0 && !line_start) {
		if (*len == max)
			return -EFBIG;
		buf[(*len)++] = '\n';
	}
	return 0;
}

/* set ssl cert FILE << with the file's contents now, its FILE.key too if it has no key. */
static void send_set(struct haproxy_op *h)
{
	const char *file = h->files[h->current];
	size_t max = PEM_MAX * 2 + PATH_MAX + 64, len;
	char *request = malloc(max + 1), key[PATH_MAX + 8];
	int r;

	if (!request) {
		reload_op_complete(&h->op, RELOAD_EXIT_FAILURE, "%s", strerror(ENOMEM));
		return;
	}
	len = (size_t)snprintf(request, max, "set ssl cert %s <<\n", file);
	r = append_pem(file, request, &len, len + PEM_MAX);
	request[len] = '\0';
	snprintf(key, sizeof(key), "%s.key", file);
	if (r == 0 && !strstr(request, "PRIVATE KEY-----") && access(key, F_OK) == 0)
		r = append_pem(key, request, &len, len + PEM_MAX);
	if (r < 0) {
		free(request);
		reload_op_complete(&h->op, RELOAD_EXIT_FAILURE, "cannot read %s, a certificate HAProxy "
				   "uses: %s", file, r == -EFBIG ? "larger than 256 KiB" : strerror(-r));
		return;
	}
	request[len++] = '\n';   /* the empty line that ends the payload */
	exchange(h, STEP_SET, request, len);
}

static void next_file(struct haproxy_op *h)
{
	if (h->current < h->n_files) {
		send_set(h);
		return;
	}
	reload_op_complete(&h->op, RELOAD_OK, "HAProxy took %zu certificate%s through its "
			   "runtime API on %s", h->n_files, h->n_files == 1 ? "" : "s",
			   h->cs->control_socket);
}

/* HAProxy refused a certificate: abort its transaction, then fail with why. */
static void refused(struct haproxy_op *h, const char *what)
{
	char esc[SHOWN_MAX * 4 + 4];

	snprintf(h->failure, sizeof(h->failure), "HAProxy refused to %s %s: \"%s\"", what,
		 h->files[h->current], shown(h, esc, sizeof(esc)));
	exchange_text(h, STEP_ABORT, "abort ssl cert %s\n", h->files[h->current]);
}

static void on_fallback_done(const struct reload_result *r, void *userdata)
{
	struct haproxy_op *h = userdata;

	h->fallback = NULL;
	h->op.result.exit_status = r->exit_status;
	reload_op_complete(&h->op, r->status, "%s; %s", h->failure, r->detail);
}

/* No runtime API: the service's reload-unit instead, if it has one. */
static void api_unusable(struct haproxy_op *h, const char *why)
{
	int r;

	if (!h->cs->reload_unit) {
		reload_op_complete(&h->op, RELOAD_EXIT_FAILURE, "HAProxy's runtime API cannot be used "
				   "(%s), and the service names no reload-unit to fall back on", why);
		return;
	}
	snprintf(h->failure, sizeof(h->failure), "no runtime API (%s), reloaded instead", why);
	/* The reload has its own timeout. */
	(void)sd_event_source_set_enabled(h->op.timer, SD_EVENT_OFF);
	r = reload_unit_method_start(h->env, h->cs, on_fallback_done, h, &h->fallback);
	if (r < 0)
		reload_op_complete(&h->op, RELOAD_BUS_ERROR, "%s; cannot reload %s: %s", h->failure,
				   h->cs->reload_unit, strerror(-r));
}

static void listed(struct haproxy_op *h)
{
	char esc[SHOWN_MAX * 4 + 4], why[SHOWN_MAX * 4 + 64];
	int r = parse_list(h);

	if (r == -EPROTO) {
		snprintf(why, sizeof(why), "show ssl cert answered \"%s\"", shown(h, esc, sizeof(esc)));
		api_unusable(h, why);
	} else if (r < 0) {
		reload_op_complete(&h->op, RELOAD_EXIT_FAILURE, "HAProxy's list of certificates %s",
				   r == -E2BIG ? "is too long" : r == -EINVAL ?
				   "names a file with blanks, ';' or '\\' in its name, which certwatch "
				   "does not pass to HAProxy's command line" : strerror(-r));
	} else if (h->n_files == 0) {
		reload_op_complete(&h->op, RELOAD_EXIT_FAILURE, "HAProxy lists no certificate file "
				   "in use (show ssl cert on %s)", h->cs->control_socket);
	} else {
		next_file(h);
	}
}

static void step_done(struct haproxy_op *h)
{
	h->answer[h->answer_len < ANSWER_MAX ? h->answer_len : ANSWER_MAX] = '\0';
	switch (h->step) {
	case STEP_LIST:
		listed(h);
		break;
	case STEP_SET:
		if (strncmp(h->answer, "Transaction ", 12) != 0)
			refused(h, "take the new contents of");
		else
			exchange_text(h, STEP_COMMIT, "commit ssl cert %s\n", h->files[h->current]);
		break;
	case STEP_COMMIT:
		if (!strstr(h->answer, "Success!")) {
			refused(h, "commit");
			break;
		}
		h->current++;
		next_file(h);
		break;
	case STEP_ABORT:
		reload_op_complete(&h->op, RELOAD_EXIT_FAILURE, "%s", h->failure);
		break;
	}
}

/* ---- the method ------------------------------------------------------------ */

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct haproxy_op *h = userdata;
	char timeout[32];

	(void)s;
	(void)usec;
	format_duration(h->op.timeout_usec, timeout, sizeof(timeout));
	reload_op_complete(&h->op, RELOAD_TIMEOUT, "HAProxy's runtime API on %s did not finish "
			   "within %s (%zu of %zu certificates done)", h->cs->control_socket, timeout,
			   h->current, h->n_files);
	exchange_close(h);
	return 0;
}

static void haproxy_cancel(struct reload_op *op)
{
	exchange_close((struct haproxy_op *)op);
}

int reload_haproxy_method_start(struct reload_env *env, const struct conf_service *cs,
				reload_done_t done, void *userdata, struct reload_op **ret)
{
	struct reload_op *op = NULL;
	struct haproxy_op *h;
	int r;

	if (!env || !cs || !cs->control_socket || !done || !ret)
		return -EINVAL;
	r = reload_op_new(env->event, sizeof(*h), done, userdata, &op);
	if (r < 0)
		return r;
	h = (struct haproxy_op *)op;
	h->env = env;
	h->cs = cs;
	h->fd = -1;
	op->cancel = haproxy_cancel;
	op->destroy = haproxy_destroy;
	op->timeout_usec = cs->reload_timeout_usec;
	h->answer = malloc(ANSWER_MAX + 1);
	r = h->answer ? reload_op_add_timer(op, on_timer) : -ENOMEM;
	if (r < 0) {
		reload_op_free(op);
		return r;
	}
	if (strlen(cs->control_socket) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
		reload_op_complete(op, RELOAD_EXIT_FAILURE, "control-socket %s is longer than a "
				   "socket's name may be", cs->control_socket);
	else
		exchange_text(h, STEP_LIST, "show ssl cert%s\n", "");
	*ret = op;
	return 0;
}
