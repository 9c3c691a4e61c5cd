/*
 * adhoc.h - one endpoint described on the command line instead of in the
 * configuration.  `certwatch check` and the plugin (`certwatch nagios`,
 * check_certwatch) take the same options for it from one table, so that
 * an option is spelled, checked and refused the same way in both.
 *
 * A front end builds its getopt tables with adhoc_getopt_init(), hands
 * every option getopt_long returns to adhoc_option() first, and calls
 * adhoc_finish() once the command line is read.  Nothing here prints but
 * adhoc_help(): a refusal is kept in a->error, for the front end to show
 * in its own form (a line on stderr, or the plugin's status line).
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "conf.h"
#include "key-type.h"

enum adhoc_option {
	ADHOC_CONNECT,        /* --connect HOST:PORT */
	ADHOC_HOSTNAME,       /* -H, --hostname HOST */
	ADHOC_PORT,           /* -p, --port PORT */
	ADHOC_STARTTLS,       /* --starttls PROTO */
	ADHOC_NAME,           /* --name NAME: SNI and the name to cover */
	ADHOC_CERT,           /* --cert FILE */
	ADHOC_CHAIN,          /* --chain FILE */
	ADHOC_KEY,            /* --key FILE */
	ADHOC_KEY_TYPE,       /* --key-type TYPE */
	ADHOC_EHLO_NAME,      /* --ehlo-name NAME: this client's name in EHLO, LHLO */
	ADHOC_TIMEOUT,        /* -t, --timeout DURATION */
	_ADHOC_OPTION_MAX,
};

#define ADHOC_MASK(o) (1u << (o))

/*
 * How both front ends' synopses write the options after the endpoint's
 * host and port, over lines that start with indent.  No '|': the plugin's
 * output must not have one.
 */
#define ADHOC_SYNOPSIS(indent) \
	"[--starttls PROTO] [--name NAME]\n" \
	indent "[--cert FILE [--chain FILE] [--key FILE]] [--key-type TYPE]\n" \
	indent "[--ehlo-name NAME] [-t DURATION]"

struct adhoc {
	const char *given[_ADHOC_OPTION_MAX];   /* each option's value as given; NULL: not */
	/* What they say (host and port complete after adhoc_finish()): */
	const char *host;                  /* -H, or --connect's host (in host_buf) */
	uint16_t port;
	int starttls;                      /* index into starttls_drivers[], -1: implicit TLS */
	enum key_type key_type;
	uint64_t timeout_usec;             /* 0: not given */
	char host_buf[256];
	char error[512];                   /* why the last call returned -EINVAL */
};

void adhoc_init(struct adhoc *a);

/*
 * getopt_long's tables for a front end: its own short options (a leading
 * ':' stays first) and long options (up to the all-zero row, or NULL),
 * then this module's.  The rows' values are their short letters (H, p, t)
 * or ADHOC_GETOPT_VAL + the option: a front end must use neither for its
 * own.
 */
#define ADHOC_GETOPT_VAL 0x200
#define ADHOC_GETOPT_MAX 32
struct adhoc_getopt {
	char shortopts[2 * ADHOC_GETOPT_MAX + 2];
	struct option longopts[ADHOC_GETOPT_MAX + 1];
};
void adhoc_getopt_init(struct adhoc_getopt *g, const char *own_short,
		       const struct option *own_long);

/*
 * Takes c, as getopt_long returned it, when it is one of these options.
 * Returns 1 when taken, 0 when c is not one of them, -EINVAL when its
 * value is wrong (a->error says what is wrong and what to write).
 */
int adhoc_option(struct adhoc *a, int c, const char *arg);

/* The long name of the option getopt_long returned as c ("key-type"); NULL: not one of these. */
const char *adhoc_option_name(int c);

/* Whether the command line names an endpoint (--connect or -H). */
bool adhoc_given(const struct adhoc *a);

/*
 * Checks the options together once all are read, and completes the port
 * of -H (the --starttls protocol's, or 443).  alone: ADHOC_MASK()s of the
 * options the front end also takes without an endpoint (the plugin's -t
 * bounds its whole run).  configured: the option given that selects
 * configured endpoints ("--service"), or NULL.  Returns 0 or -EINVAL.
 */
int adhoc_finish(struct adhoc *a, unsigned alone, const char *configured);

/*
 * The endpoint as the one item to check, with the probe deadline and
 * thresholds of an empty configuration, which *ret_conf receives (free
 * both: check_items_free(), conf_free()).  The item borrows strings from a
 * and from argv.  Returns 0 or -ENOMEM.
 */
int adhoc_items(const struct adhoc *a, struct conf **ret_conf,
		struct check_item **ret_items, size_t *ret_n);

/*
 * The options' entries of --help, in the table's order.  timeout_help: the
 * front end's words for -t, whose default and reach differ (the plugin's
 * bounds its whole run).
 */
void adhoc_help(FILE *f, const char *timeout_help);
