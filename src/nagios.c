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
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>

#include "conf.h"
#include "nagios.h"
#include "starttls.h"

#define DEFAULT_TIMEOUT   (30 * USEC_PER_SEC)
#define EXIT_UNKNOWN      3

struct plugin {
	const char *progname;
	const char *host, *port, *starttls, *name, *cert, *chain, *key;
	const char *config, *service;
	bool config_given;
	struct nagios_range warn, crit;
	bool warn_given, crit_given;
	uint64_t timeout_usec;
	unsigned verbose;
};

static void usage(const struct plugin *pl)
{
	printf("Usage: %s [-H HOST [-p PORT] [--starttls PROTO] [--name NAME] [--cert FILE "
	       "[--chain FILE] [--key FILE]]] [--config FILE] [--service NAME] [-w RANGE] "
	       "[-c RANGE] [-t TIMEOUT] [-v]... [-V] [-h]\n", pl->progname);
}

static void help(const struct plugin *pl)
{
	printf("%s - is every TLS endpoint serving the certificate on disk?\n\n", pl->progname);
	usage(pl);
	printf("\n"
	       "Checks the endpoints of certwatch.conf (or of one service), or one endpoint\n"
	       "given with -H, and reports as a monitoring plugin: one status line, one line\n"
	       "per endpoint, performance data (days left, stale, handshake time).\n"
	       "\n"
	       "  -H, --hostname HOST   check this endpoint instead of the configured ones\n"
	       "  -p, --port PORT       with -H (default: the --starttls protocol's port, or 443)\n"
	       "      --starttls PROTO  with -H: %s\n"
	       "      --name NAME       with -H: SNI and the name the certificate must cover\n"
	       "      --cert FILE       with -H: compare with this certificate (or full chain)\n"
	       "      --chain FILE      with --cert: a separate chain file\n"
	       "      --key FILE        with --cert: the private key, checked against it\n"
	       "      --config FILE     the configuration (default %s)\n"
	       "      --service NAME    only this service's endpoints\n"
	       "  -w, --warning RANGE   days left on the served certificate that are OK, as a\n"
	       "                        range of the plugin guidelines: \"21:\" warns below 21\n"
	       "                        days; a bare \"21\" alerts ABOVE 21 (0 to 21 is OK).\n"
	       "                        Default: each endpoint's warn-days, as \"21:\"\n"
	       "  -c, --critical RANGE  the same for CRITICAL; default crit-days, as \"7:\"\n"
	       "  -t, --timeout TIME    seconds, or a duration (\"500ms\", \"1m\"), for the\n"
	       "                        whole check; UNKNOWN when exceeded (default 30)\n"
	       "  -v, --verbose         more detail per endpoint; twice: the probe too\n"
	       "  -V, --version         show the version\n"
	       "  -h, --help            show this help\n"
	       "\n"
	       "Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.  See certwatch(8).\n",
	       starttls_names(), pl->config);
}

/* A usage error: the status line, the usage line, UNKNOWN. */
__attribute__((format(printf, 2, 3)))
static int usage_error(const struct plugin *pl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	nagios_put(stdout, "CERTWATCH UNKNOWN - %s", buf);
	fputc('\n', stdout);
	usage(pl);
	return -EINVAL;
}

enum {
	OPT_STARTTLS = 0x100,
	OPT_NAME,
	OPT_CERT,
	OPT_CHAIN,
	OPT_KEY,
	OPT_CONFIG,
	OPT_SERVICE,
};

static const struct option plugin_options[] = {
	{ "hostname", required_argument, NULL, 'H' },
	{ "port",     required_argument, NULL, 'p' },
	{ "starttls", required_argument, NULL, OPT_STARTTLS },
	{ "name",     required_argument, NULL, OPT_NAME },
	{ "cert",     required_argument, NULL, OPT_CERT },
	{ "chain",    required_argument, NULL, OPT_CHAIN },
	{ "key",      required_argument, NULL, OPT_KEY },
	{ "config",   required_argument, NULL, OPT_CONFIG },
	{ "service",  required_argument, NULL, OPT_SERVICE },
	{ "warning",  required_argument, NULL, 'w' },
	{ "critical", required_argument, NULL, 'c' },
	{ "timeout",  required_argument, NULL, 't' },
	{ "verbose",  no_argument,       NULL, 'v' },
	{ "version",  no_argument,       NULL, 'V' },
	{ "help",     no_argument,       NULL, 'h' },
	{}
};

/* Returns 0, 1 when the plugin is done (-h, -V), or -EINVAL after saying why. */
static int parse_args(int argc, char **argv, struct plugin *pl)
{
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":H:p:w:c:t:vVh", plugin_options, NULL)) >= 0) {
		switch (c) {
		case 'H': pl->host = optarg; break;
		case 'p': pl->port = optarg; break;
		case OPT_STARTTLS: pl->starttls = optarg; break;
		case OPT_NAME: pl->name = optarg; break;
		case OPT_CERT: pl->cert = optarg; break;
		case OPT_CHAIN: pl->chain = optarg; break;
		case OPT_KEY: pl->key = optarg; break;
		case OPT_CONFIG: pl->config = optarg; pl->config_given = true; break;
		case OPT_SERVICE: pl->service = optarg; break;
		case 'v': pl->verbose++; break;
		case 'V': printf("%s (certwatch) %s\n", pl->progname, PACKAGE_VERSION); return 1;
		case 'h': help(pl); return 1;
		case 'w':
		case 'c':
			if (nagios_range_parse(optarg, c == 'w' ? &pl->warn : &pl->crit) < 0)
				return usage_error(pl, "-%c %s is not a range; write days as N: "
						   "(alert below N), ~:N, N:M or @N:M", c, optarg);
			*(c == 'w' ? &pl->warn_given : &pl->crit_given) = true;
			break;
		case 't':
			if (parse_duration(optarg, &pl->timeout_usec) < 0 || pl->timeout_usec == 0)
				return usage_error(pl, "-t %s is not a timeout; write seconds "
						   "(\"10\") or a duration (\"500ms\", \"1m\")",
						   optarg);
			break;
		case ':':
			if (optopt)
				return usage_error(pl, "option -%c needs a value", optopt);
			return usage_error(pl, "option %s needs a value", argv[optind - 1]);
		default:
			if (optopt)
				return usage_error(pl, "unknown option -%c", optopt);
			return usage_error(pl, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error(pl, "unexpected argument \"%s\"; every value belongs to an "
				   "option", argv[optind]);
	if (!pl->host && (pl->port || pl->starttls || pl->name || pl->cert))
		return usage_error(pl, "-p, --starttls, --name and --cert go with -H; for the "
				   "configured endpoints set them in the configuration");
	if (pl->host && (pl->config_given || pl->service))
		return usage_error(pl, "-H checks one endpoint, --config and --service the "
				   "configured ones: give one or the other");
	if ((pl->key || pl->chain) && !pl->cert)
		return usage_error(pl, "--key and --chain go with --cert");
	return 0;
}

/* The endpoint of -H, with the defaults of an empty configuration. */
static int adhoc_item(const struct plugin *pl, const struct conf *defaults, struct check_item *it)
{
	unsigned long port;
	char *end;
	int proto = -1;

	if (pl->starttls && (proto = starttls_lookup(pl->starttls)) < 0)
		return usage_error(pl, "--starttls %s is not a known protocol; known: %s",
				   pl->starttls, starttls_names());
	port = proto >= 0 ? starttls_drivers[proto].default_port : 443;
	if (pl->port) {
		errno = 0;
		port = strtoul(pl->port, &end, 10);
		if (errno || *end || end == pl->port || port == 0 || port > 65535)
			return usage_error(pl, "-p %s is not a port; write a number from 1 "
					   "to 65535", pl->port);
	}
	check_item_adhoc(it, defaults, pl->host, (uint16_t)port, proto, pl->name, pl->cert,
			 pl->chain, pl->key);
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

static int load_items(struct plugin *pl, struct conf **ret_conf, struct check_item **ret_items,
		      size_t *ret_n)
{
	char err[4096] = "";
	int r;

	if (pl->host) {
		r = conf_new_default(ret_conf);
		if (r >= 0 && !(*ret_items = calloc(1, sizeof(**ret_items))))
			r = -ENOMEM;
		if (r < 0) {
			printf("CERTWATCH UNKNOWN - %s\n", strerror(-r));
			return r;
		}
		*ret_n = 1;
		return adhoc_item(pl, *ret_conf, *ret_items);
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
		.timeout_usec = DEFAULT_TIMEOUT,
	};
	struct conf *c = NULL;
	struct check_item *items = NULL;
	size_t n = 0;
	time_t now;
	int r;

	r = parse_args(argc, argv, &pl);
	if (r != 0)
		return EXIT_UNKNOWN;   /* -h and -V too, as the guidelines ask */
	r = load_items(&pl, &c, &items, &n);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (items[i].target.timeout_usec > pl.timeout_usec)
			items[i].target.timeout_usec = pl.timeout_usec;
	arm_timeout(pl.timeout_usec);
	now = time(NULL);
	r = check_items_run(items, n, c->max_probes, now);
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
