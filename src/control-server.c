/*
 * control-server.c - the daemon's side of the control protocol; see
 * control-server.h and, for the requests, control.h.
 *
 * A client is untrusted input even as root: its request is read without
 * blocking, bounded to CONTROL_MAX_LINE bytes, and must arrive within
 * REQUEST_DEADLINE_USEC, or the connection is closed without an answer.
 *
 * The socket someone listens on is never removed: only one nobody answers
 * on (left by a run that was killed) is replaced.  On SIGHUP the new setup's
 * server shares the running one's listening socket instead of binding its
 * own, so clients never find the socket missing, and the last of the two
 * to go removes the file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control-server.h"
#include "control.h"
#include "log.h"
#include "util.h"

#define REQUEST_DEADLINE_USEC (2 * USEC_PER_SEC)
#define CONNS_MAX 64

struct control_conn {
	struct control_server *server;
	int fd;
	sd_event_source *io, *timer;
	char buf[CONTROL_MAX_LINE + 1];
	size_t len;
	struct control_conn *next;
};

/* The bound socket file, shared by the servers listening on it. */
struct control_listener {
	unsigned refs;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;              /* the socket file we bound, to remove only ours */
	ino_t ino;
};

struct control_server {
	sd_event *event;
	int fd;                 /* this server's descriptor of the listening socket */
	sd_event_source *io;
	struct control_listener *listener;
	control_handler_t handler;
	void *userdata;
	struct control_conn *conns;
	unsigned n_conns;
};

static void conn_free(struct control_conn *c)
{
	struct control_server *cs = c->server;

	for (struct control_conn **p = &cs->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	cs->n_conns--;
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	close(c->fd);
	free(c);
}

void control_conn_reply(struct control_conn *c, const char *answer)
{
	char line[CONTROL_MAX_LINE + 2];
	int n = snprintf(line, sizeof(line), "%s\n", answer);

	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	/* A client that does not read its answer loses it: the loop never waits. */
	if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_warning("control socket: cannot answer: %m");
	conn_free(c);
}

static int on_conn_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src;
	(void)usec;
	conn_free(userdata);
	return 0;
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct control_conn *c = userdata;
	char *nl;
	ssize_t n;

	(void)src;
	(void)revents;
	n = recv(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_free(c);
		return 0;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	nl = memchr(c->buf, '\n', c->len);
	if (!nl && c->len < sizeof(c->buf) - 1)
		return 0;
	if (!nl || strlen(c->buf) < (size_t)(nl - c->buf)) {
		control_conn_reply(c, CONTROL_ANSWER_ERROR "request too long or not text");
		return 0;
	}
	*nl = '\0';
	if (nl > c->buf && nl[-1] == '\r')
		nl[-1] = '\0';
	(void)sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
	(void)sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	c->server->handler(c, c->buf, c->server->userdata);
	return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct control_server *cs = userdata;
	struct control_conn *c;
	int cfd, r;

	(void)src;
	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0;
	if (cs->n_conns >= CONNS_MAX || !(c = calloc(1, sizeof(*c)))) {
		close(cfd);
		return 0;
	}
	*c = (struct control_conn) { .server = cs, .fd = cfd, .next = cs->conns };
	cs->conns = c;
	cs->n_conns++;
	r = sd_event_add_io(cs->event, &c->io, cfd, EPOLLIN, on_conn_io, c);
	if (r >= 0)
		r = sd_event_add_time_relative(cs->event, &c->timer, CLOCK_MONOTONIC,
					       REQUEST_DEADLINE_USEC, 0, on_conn_timeout, c);
	if (r < 0)
		conn_free(c);
	return 0;
}

/* Binds a new socket at sa, replacing a file nobody answers on. */
static int listen_new(struct control_server *cs, const char *dir, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	r = control_connect(dir, &fd);
	if (r >= 0) {
		close(fd);
		return -EADDRINUSE;
	}
	if (r == -ECONNREFUSED)
		(void)unlink(sa->sun_path);
	cs->listener = calloc(1, sizeof(*cs->listener));
	if (!cs->listener)
		return -ENOMEM;
	cs->listener->refs = 1;
	snprintf(cs->listener->path, sizeof(cs->listener->path), "%s", sa->sun_path);
	cs->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (cs->fd < 0 || bind(cs->fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    chmod(sa->sun_path, 0600) < 0 || listen(cs->fd, 16) < 0 || stat(sa->sun_path, &st) < 0)
		return -errno;
	cs->listener->dev = st.st_dev;
	cs->listener->ino = st.st_ino;
	return 0;
}

/* The running server's socket, when it is the one at sa: shared. */
static bool listen_shared(struct control_server *cs, const struct control_server *running,
			  const struct sockaddr_un *sa)
{
	if (!running || !running->listener ||
	    strcmp(running->listener->path, sa->sun_path) != 0)
		return false;
	cs->fd = fcntl(running->fd, F_DUPFD_CLOEXEC, 3);
	if (cs->fd < 0)
		return false;
	cs->listener = running->listener;
	cs->listener->refs++;
	return true;
}

int control_server_new(sd_event *event, const char *dir, const struct control_server *running,
		       control_handler_t handler, void *userdata, struct control_server **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control_server *cs;
	int r;

	r = control_socket_path(dir, sa.sun_path, sizeof(sa.sun_path));
	if (r < 0)
		return r;
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	*cs = (struct control_server) { .event = sd_event_ref(event), .fd = -1,
					.handler = handler, .userdata = userdata };
	r = listen_shared(cs, running, &sa) ? 0 : listen_new(cs, dir, &sa);
	if (r >= 0)
		r = sd_event_add_io(event, &cs->io, cs->fd, EPOLLIN, on_accept, cs);
	if (r < 0) {
		control_server_free(cs);
		return r;
	}
	*ret = cs;
	return 0;
}

static void listener_unref(struct control_listener *l)
{
	struct stat st;

	if (!l || --l->refs > 0)
		return;
	if (l->ino && stat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
		(void)unlink(l->path);
	free(l);
}

void control_server_free(struct control_server *cs)
{
	if (!cs)
		return;
	while (cs->conns)
		conn_free(cs->conns);
	sd_event_source_disable_unref(cs->io);
	if (cs->fd >= 0)
		close(cs->fd);
	listener_unref(cs->listener);
	sd_event_unref(cs->event);
	free(cs);
}
