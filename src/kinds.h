/*
 * kinds.h - the table of known servers, named in certwatch.conf by
 * kind = "...": for each, how it is made to serve a renewed certificate
 * (a systemd reload or restart, a signal, a statement through its client,
 * a runtime API, or nothing because it reads the files by itself), its
 * configuration test, where Debian 12 keeps its unit, pid file and control
 * socket, and its protocols and ports for endpoints that name none.
 *
 * Pure data and look-ups: the loader (conf-kind.c) turns a row into the
 * service's effective settings, under whatever the service sets itself.
 */
#pragma once

#include <stdint.h>

#include "conf.h"

#define KIND_MAX_ARGS  8
#define KIND_MAX_PORTS 6

/* One protocol of a kind: the endpoint name that asks for it, and its port. */
struct kind_port {
	const char *endpoint;        /* NULL ends the list */
	const char *starttls;        /* a starttls_drivers[] name; NULL: implicit TLS */
	uint16_t port;
};

struct kind {
	const char *name;
	const char *server;          /* as people call it: "nginx", "Dovecot" */
	enum reload_method method;
	const char *unit;            /* the unit reloaded or restarted; HAProxy's fallback */
	int signal;                  /* for RELOAD_METHOD_SIGNAL */
	const char *pid_file;        /* for RELOAD_METHOD_SIGNAL */
	const char *command[KIND_MAX_ARGS];  /* RELOAD_METHOD_COMMAND's argv, NULL-terminated */
	const char *socket_option;   /* the command gets this + the control socket, or NULL */
	const char *check[KIND_MAX_ARGS];    /* the configuration test, or { NULL } */
	const char *socket;          /* the control socket, where the method needs one */
	struct kind_port ports[KIND_MAX_PORTS];   /* the first is the default */
	const char *how;             /* how it takes a new certificate, in one sentence */
};

extern const struct kind kinds[];
extern const size_t kinds_n;

/* The row called name, or NULL. */
const struct kind *kind_find(const char *name);

/* "nginx, dovecot, ..." for messages. */
const char *kind_names(void);

/* The protocol of kind k that an endpoint of that name asks for, or NULL. */
const struct kind_port *kind_port_named(const struct kind *k, const char *endpoint);
