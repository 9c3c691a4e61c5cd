/*
 * discover-apache-syntax.h - the syntax of Apache's configuration lines,
 * for discover-apache.c (discover-apache-syntax.c).  Not an API.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "discover-int.h"

/* The words of one directive line, "quoted" ones unquoted; 0 for a comment. */
size_t apache_words(const char *line, char words[][MAX_VALUE], size_t max);

/* Whether v..v+len is made of a host name's characters: sent as SNI, written out. */
bool apache_host_name(const char *v, size_t len);

/*
 * 1 if word opens one of Apache's conditional sections ("<IfModule",
 * "<If", "<Else>" ..., any case), -1 if it closes one, else 0.
 */
int apache_conditional(const char *word);

/* Whether the directive word changes a block's endpoints (SSLEngine, a pair, ServerName ...). */
bool apache_matters(const char *word);

/* "addr:port" of a <VirtualHost> line: where to connect, and the port; false if none. */
bool apache_addr(const char *a, char *out, size_t outlen, int *ret_port);
