/*
 * nagios.c - plugin mode (see nagios.h): the guidelines' options, the
 * items they select, the check, and the exit status.  The check is
 * check.c's, the output nagios-report.c's.
 *
 * -t bounds the run: no probe gets longer, and a timer a second later ends
 * the plugin with UNKNOWN when probes queued behind others are still
 * running, as the guidelines ask of a timeout.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "adhoc.h"
#include "cli.h"
#include "conf.h"
#include "nagios.h"
#include "x509.h"

#define DEFAULT_TIMEOUT   (30 * USEC_PER_SEC)
#define EXIT_UNKNOWN      3

struct plugin {
	const char *progname;
	const char *config, *service;
	bool config_given;
	struct adhoc endpoint;       /* -H and the rest, as `certwatch check` reads them */
	struct nagios_range warn, crit;
	bool warn_given, crit_given;
	unsigned verbose;
};

static void usage(const struct plugin *pl)
{
	printf("Usage: %s [--config FILE] [--service NAME] [-w RANGE] [-c RANGE]\n"
	       "           [-t DURATION] [-v]...\n"
	       "       %s -H HOST [-p PORT] " ADHOC_SYNOPSIS("           ")
	       " [-w RANGE] [-c RANGE] [-v]...\n"
	       "       %s -V\n"
	       "       %s -h\n", pl->progname, pl->progname, pl->progname, pl->progname);
}

static void help(const struct plugin *pl)
{
	printf("%s - is every TLS endpoint serving the certificate on disk?\n\n", pl->progname);
	usage(pl);
	printf("\n"
	       "Checks the endpoints of certwatch.conf (or of one service), or one endpoint\n"
	       "given with --connect or -H, and reports as a monitoring plugin: one status\n"
	       "line, one line per endpoint, performance data (days left, stale, handshake\n"
	       "time).\n"
	       "\n"
	       "The configured endpoints:\n"
	       "      --config FILE     the configuration (default %s)\n"
	       "      --service NAME    only this service's endpoints\n"
	       "\n"
	       "One endpoint instead (the same options as 'certwatch check'):\n", pl->config);
	adhoc_help(stdout, "seconds (\"10\") or a duration (\"500ms\", \"1m\") for the "
		   "whole check, with -H or without: no probe gets longer, UNKNOWN when "
		   "exceeded (default 30)");
	printf("\n"
	       "The plugin:\n"
	       "  -w, --warning RANGE   days left on the served certificate that are OK, as a\n"
	       "                        range of the plugin guidelines: \"21:\" warns below 21\n"
	       "                        days; a bare \"21\" alerts ABOVE 21 (0 to 21 is OK).\n"
	       "                        Default: each endpoint's warn-days, as \"21:\"\n"
	       "  -c, --critical RANGE  the same for CRITICAL; default crit-days, as \"7:\"\n"
	       "  -v, --verbose         more detail per endpoint; twice: the probe too\n"
	       "  -V, --version         show the version\n"
	       "  -h, --help            show this help\n"
	       "\n"
	       "Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.  See certwatch(8).\n");
}

/* A usage error: the status line, the usage line, UNKNOWN. */
static int usage_error(const struct plugin *pl, const char *why)
{
	nagios_put(stdout, "CERTWATCH UNKNOWN - %s", why);
	fputc('\n', stdout);
	usage(pl);
	return -EINVAL;
}

enum {
	OPT_CONFIG = 0x100,
	OPT_SERVICE,
};

/* The plugin's own options; adhoc.h adds the endpoint's. */
static const struct option plugin_options[] = {
	{ "config",   required_argument, NULL, OPT_CONFIG },
	{ "service",  required_argument, NULL, OPT_SERVICE },
	{ "warning",  required_argument, NULL, 'w' },
	{ "critical", required_argument, NULL, 'c' },
	{ "verbose",  no_argument,       NULL, 'v' },
	{ "version",  no_argument,       NULL, 'V' },
	{ "help",     no_argument,       NULL, 'h' },
	{}
};

/* -w or -c. */
static int take_range(struct plugin *pl, int c, const char *arg)
{
	char why[256];

	if (nagios_range_parse(arg, c == 'w' ? &pl->warn : &pl->crit) < 0) {
		snprintf(why, sizeof(why), "-%c %s is not a range; write days as N: (alert below "
			 "N), ~:N, N:M or @N:M", c, arg);
		return usage_error(pl, why);
	}
	*(c == 'w' ? &pl->warn_given : &pl->crit_given) = true;
	return 0;
}

/* Returns 0, 1 when the plugin is done (-h, -V), or -EINVAL after saying why. */
static int parse_args(int argc, char **argv, struct plugin *pl)
{
	struct adhoc_getopt g;
	char why[256];
	int c, r;

	adhoc_getopt_init(&g, ":w:c:vVh", plugin_options);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) >= 0) {
		r = adhoc_option(&pl->endpoint, c, optarg);
		if (r < 0)
			return usage_error(pl, pl->endpoint.error);
		if (r > 0)
			continue;
		switch (c) {
		case OPT_CONFIG: pl->config = optarg; pl->config_given = true; break;
		case OPT_SERVICE: pl->service = optarg; break;
		case 'v': pl->verbose++; break;
		case 'V': printf("%s (certwatch) %s\n", pl->progname, PACKAGE_VERSION); return 1;
		case 'h': help(pl); return 1;
		case 'w':
		case 'c':
			if (take_range(pl, c, optarg) < 0)
				return -EINVAL;
			break;
		default:
			cli_getopt_refusal(c, optopt, argv[optind - 1], why, sizeof(why));
			return usage_error(pl, why);
		}
	}
	if (optind < argc) {
		snprintf(why, sizeof(why), "unexpected argument \"%s\"; every value belongs to an "
			 "option", argv[optind]);
		return usage_error(pl, why);
	}
	/* -t bounds the whole run, so it stands without an endpoint too. */
	if (adhoc_finish(&pl->endpoint, ADHOC_MASK(ADHOC_TIMEOUT), pl->service ? "--service" :
			 pl->config_given ? "--config" : NULL) < 0)
		return usage_error(pl, pl->endpoint.error);
	return 0;
}

/* Ends the plugin from SIGALRM: one write of a message made in advance. */
static char timeout_msg[256];
static size_t timeout_len;

static void on_timeout(int sig)
{
	ssize_t w;

	(void)sig;
	w = write(STDOUT_FILENO, timeout_msg, timeout_len);
	(void)w;
	_exit(EXIT_UNKNOWN);
}

static void arm_timeout(uint64_t usec)
{
	struct sigaction sa = { .sa_handler = on_timeout };
	struct itimerval t = { .it_value = {
		.tv_sec = (time_t)(usec / USEC_PER_SEC) + 1,
		.tv_usec = (suseconds_t)(usec % USEC_PER_SEC),
	} };
	char d[32];

	format_duration(usec, d, sizeof(d));
	snprintf(timeout_msg, sizeof(timeout_msg), "CERTWATCH UNKNOWN - not every endpoint was "
		 "probed within -t %s; raise -t, or max-probes in the configuration\n", d);
	timeout_len = strlen(timeout_msg);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &t, NULL);
}

/*
 * -t bounds the probes and the report, not the set-up: what every probe
 * shares is built before its clock starts, as the configuration is read.
 * The trust store alone is a few hundred ms on a loaded machine (the CA
 * bundle parsed), which ate -t's grace of a second before the first
 * connection was even made.  A store that cannot be built now is tried
 * again, and said, by the probe that needs it.
 */
static void warm_up(void)
{
	X509_STORE *store;

	if (x509_trust_store(&store) == 0)
		X509_STORE_free(store);
}

static int load_items(const struct plugin *pl, struct conf **ret_conf,
		      struct check_item **ret_items, size_t *ret_n)
{
	char err[4096] = "";
	int r;

	if (adhoc_given(&pl->endpoint)) {
		r = adhoc_items(&pl->endpoint, ret_conf, ret_items, ret_n);
		if (r < 0)
			printf("CERTWATCH UNKNOWN - %s\n", strerror(-r));
		return r;
	}
	r = conf_load(pl->config, true, ret_conf, err, sizeof(err));
	if (r < 0) {
		nagios_put(stdout, "CERTWATCH UNKNOWN - the configuration %s cannot be used; fix it "
		    "(certwatch --test-config shows the same)", pl->config);
		printf("\n%s%s", err, err[0] && err[strlen(err) - 1] != '\n' ? "\n" : "");
		return r;
	}
	r = check_items_from_conf(*ret_conf, pl->service, ret_items, ret_n);
	if (r == -ENOENT) {
		nagios_put(stdout, "CERTWATCH UNKNOWN - no service \"%s\" in %s; --service takes a name "
		    "from its service sections", pl->service, pl->config);
		fputc('\n', stdout);
	} else if (r < 0)
		printf("CERTWATCH UNKNOWN - %s\n", strerror(-r));
	return r;
}

int nagios_main(int argc, char **argv, const char *config)
{
	const char *slash = strrchr(argv[0], '/');
	struct plugin pl = {
		.progname = strcmp(slash ? slash + 1 : argv[0], "nagios") == 0 ?
			"certwatch nagios" : slash ? slash + 1 : argv[0],
		.config = config,
	};
	struct conf *c = NULL;
	struct check_item *items = NULL;
	struct dane_options dane;
	char err[1024] = "";
	size_t n = 0;
	uint64_t timeout;
	time_t now;
	int r;

	adhoc_init(&pl.endpoint);
	r = parse_args(argc, argv, &pl);
	if (r != 0)
		return EXIT_UNKNOWN;   /* -h and -V too, as the guidelines ask */
	timeout = pl.endpoint.timeout_usec ? pl.endpoint.timeout_usec : DEFAULT_TIMEOUT;
	r = load_items(&pl, &c, &items, &n);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (items[i].target.timeout_usec > timeout)
			items[i].target.timeout_usec = timeout;
	warm_up();
	arm_timeout(timeout);
	now = time(NULL);
	dane = check_dane_options(c);
	r = check_items_run(items, n, c->max_probes, &dane, now, err, sizeof(err));
	if (err[0])
		fprintf(stderr, "certwatch: %s\n", err);
	setitimer(ITIMER_REAL, &(struct itimerval) {}, NULL);
	if (r < 0)
		printf("CERTWATCH UNKNOWN - the probes could not run: %s\n", strerror(-r));
	else
		r = (int)nagios_report(stdout, items, n, pl.warn_given ? &pl.warn : NULL,
				       pl.crit_given ? &pl.crit : NULL, pl.verbose, now);
out:
	check_items_free(items, n);
	conf_free(c);
	fflush(stdout);
	return r < 0 ? EXIT_UNKNOWN : r;
}
