/*
 * control-server.h - the daemon's side of the control protocol (control.h):
 * the listening socket, one connection at a time per client, each read
 * without blocking the loop and within a deadline.
 */
#pragma once

#include <stddef.h>

#include <systemd/sd-event.h>

struct control_server;
struct control_conn;

/*
 * Handles one request line (without its newline): answers with
 * control_conn_reply(), now or later; the connection is closed after it.
 */
typedef void (*control_handler_t)(struct control_conn *conn, const char *request,
				  void *userdata);

/*
 * Listens on dir/CONTROL_SOCKET_NAME, mode 0600, replacing a socket file
 * left by an earlier run that nobody answers on; shares running's socket
 * (the server of the setup a SIGHUP replaces, or NULL) when it is the same
 * path.  Returns 0, -EADDRINUSE when another process listens there, or
 * another negative errno.
 */
int control_server_new(sd_event *event, const char *dir, const struct control_server *running,
		       control_handler_t handler, void *userdata, struct control_server **ret);

/* Sends answer and a newline, then closes the connection. */
void control_conn_reply(struct control_conn *conn, const char *answer);

/*
 * Closes the socket and every connection still open, and removes the
 * socket file unless another server has taken its name since or a server
 * sharing it still listens.  NULL is fine.
 */
void control_server_free(struct control_server *cs);
