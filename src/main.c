/*
 * main.c - certwatch's command line: global options, the sub-command, its
 * options, and the exit status.  Everything else happens in the modules.
 *
 * Exit status follows the monitoring-plugin convention: 0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN (which includes usage and configuration errors);
 * --test-config exits 0 or 1 like nginx -t.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <time.h>


#include "check.h"
#include "conf.h"
#include "control.h"
#include "daemon.h"
#include "discover.h"
#include "key-type.h"
#include "metrics.h"
#include "nagios.h"
#include "report.h"
#include "starttls.h"

#define EXIT_UNKNOWN 3

struct options {
	const char *config;
	bool config_given;
	const char *service;
	bool json;
	bool prometheus;
	const char *connect;
	const char *starttls;
	const char *name;
	const char *cert, *chain, *key;
	const char *timeout;
	const char *key_type;
};

/* Options that describe the one endpoint of --connect. */
static bool endpoint_options(const struct options *o)
{
	return o->starttls || o->name || o->cert || o->chain || o->key || o->key_type ||
	       o->timeout;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: certwatch [--config FILE] COMMAND [OPTIONS]\n"
		"       certwatch --test-config [--config FILE]\n"
		"\n"
		"Keeps TLS services serving the certificate that is on disk.\n"
		"\n"
		"Commands:\n"
		"  run [-s NAME]         the daemon: watch the certificate files, reload\n"
		"                        services when a renewal is not served, verify\n"
		"  check                 probe every configured endpoint and compare what is\n"
		"                        served with what is on disk; changes nothing; with no\n"
		"                        configuration file, checks what discover finds\n"
		"  status [-s NAME] [--json]\n"
		"                        what the running daemon (or the certwatch@NAME\n"
		"                        instance) knows, from its state file\n"
		"  resume SERVICE        lift the pause of a service after repeated failures\n"
		"  discover              print a configuration for the local Dovecot, Postfix\n"
		"                        and nginx, from their own configuration dumps\n"
		"  nagios [OPTIONS]      a monitoring plugin (also installed as check_certwatch);\n"
		"                        'certwatch nagios --help' lists its options\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE     main configuration file (default %s)\n"
		"  -n, --test-config     check the configuration, print it, exit 0 or 1\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n"
		"\n"
		"Options of run, check and status:\n"
		"  -s, --service NAME    only this service\n"
		"\n"
		"Options of check:\n"
		"      --json            check, status: print JSON instead of a table\n"
		"      --prometheus      check: print Prometheus text-format metrics instead\n"
		"      --connect HOST:PORT\n"
		"                        probe one endpoint without a configuration file\n"
		"                        ([ADDRESS]:PORT for IPv6)\n"
		"      --starttls PROTO  with --connect: %s\n"
		"      --name NAME       with --connect: SNI and the name the certificate must cover\n"
		"      --cert FILE       with --connect: compare with this certificate (or full chain)\n"
		"      --chain FILE      with --cert: a separate chain file\n"
		"      --key FILE        with --cert: the private key, checked against the certificate\n"
		"      --key-type TYPE   with --connect: ask for the rsa or the ecdsa certificate of\n"
		"                        a server that has one of each\n"
		"      --timeout DURATION\n"
		"                        with --connect: deadline of the probe (default 10s)\n"
		"\n"
		"Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
		"See certwatch(8) and certwatch.conf(5).\n",
		CONF_DEFAULT_FILE, starttls_names());
}

static int load_conf(const char *path, struct conf **ret)
{
	char err[4096] = "";
	int r;

	r = conf_load(path, true, ret, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "%s", err[0] ? err : "certwatch: cannot load the configuration\n");
	if (r < 0 && err[0] && err[strlen(err) - 1] != '\n')
		fputc('\n', stderr);
	return r;
}

static int cmd_test_config(const char *path)
{
	struct conf *c = NULL;

	if (load_conf(path, &c) < 0) {
		fprintf(stderr, "certwatch: configuration %s is NOT valid\n", path);
		return 1;
	}
	conf_dump(c, stdout);
	fprintf(stderr, "certwatch: configuration %s is valid\n", path);
	conf_free(c);
	return 0;
}

/* HOST:PORT or [ADDRESS]:PORT; host points into buf. */
static int parse_connect(const char *s, char *buf, size_t buflen, const char **ret_host,
			 uint16_t *ret_port)
{
	const char *colon, *host_start = s, *host_end;
	char *end;
	unsigned long port;

	if (s[0] == '[') {
		host_start = s + 1;
		host_end = strchr(host_start, ']');
		if (!host_end || host_end[1] != ':')
			return -EINVAL;
		colon = host_end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		host_end = colon;
	}
	if (host_end == host_start || (size_t)(host_end - host_start) >= buflen)
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port == 0 || port > 65535)
		return -EINVAL;
	memcpy(buf, host_start, (size_t)(host_end - host_start));
	buf[host_end - host_start] = '\0';
	*ret_host = buf;
	*ret_port = (uint16_t)port;
	return 0;
}

/* One endpoint from the command line, with the defaults of an empty configuration. */
static int adhoc_item(const struct options *o, const struct conf *defaults, char *hostbuf,
		      size_t hostlen, struct check_item *it)
{
	struct conf timed = *defaults;
	const char *host;
	uint16_t port;
	int proto = -1;

	if (parse_connect(o->connect, hostbuf, hostlen, &host, &port) < 0) {
		fprintf(stderr, "certwatch: --connect %s: expected HOST:PORT, or [ADDRESS]:PORT for "
			"IPv6, with a port from 1 to 65535\n", o->connect);
		return -EINVAL;
	}
	if (o->starttls && (proto = starttls_lookup(o->starttls)) < 0) {
		fprintf(stderr, "certwatch: --starttls %s: unknown protocol; known: %s\n",
			o->starttls, starttls_names());
		return -EINVAL;
	}
	if (o->timeout && (parse_duration(o->timeout, &timed.timeout_usec) < 0 ||
			   timed.timeout_usec == 0)) {
		fprintf(stderr, "certwatch: --timeout %s is not a duration; write a number with a "
			"unit: \"500ms\", \"2s\", \"1m\"\n", o->timeout);
		return -EINVAL;
	}
	if ((o->key || o->chain) && !o->cert) {
		fprintf(stderr, "certwatch: --key and --chain need --cert\n");
		return -EINVAL;
	}
	if (o->key_type && key_type_from_string(o->key_type) < 0) {
		fprintf(stderr, "certwatch: --key-type %s: write rsa or ecdsa (or any)\n",
			o->key_type);
		return -EINVAL;
	}
	check_item_adhoc(it, &timed, host, port, proto, o->name, o->cert, o->chain, o->key);
	if (o->key_type)
		it->target.key_type = key_type_from_string(o->key_type);
	return 0;
}

static int cmd_discover(void)
{
	char err[512] = "";
	int n = discover_write(stdout, err, sizeof(err));

	if (n < 0) {
		fprintf(stderr, "certwatch discover: %s\n", err[0] ? err : strerror(-n));
		return EXIT_UNKNOWN;
	}
	fprintf(stderr, "certwatch: %d service%s found; review the output, then save it as %s "
		"or in its conf.d directory\n", n, n == 1 ? "" : "s", CONF_DEFAULT_FILE);
	return 0;
}

/*
 * No configuration file: check what the local daemons' own configurations
 * describe, through a private file that discover writes and conf_load()
 * validates like any other.
 */
static int load_discovered(struct conf **ret)
{
	char dir[] = "/tmp/certwatch-discover.XXXXXX", path[sizeof(dir) + 16], err[512] = "";
	FILE *f;
	int fd, n, r = -EINVAL;

	if (!mkdtemp(dir))
		return -errno;
	snprintf(path, sizeof(path), "%s/discovered.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		fprintf(stderr, "certwatch: cannot write %s: %m\n", path);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	n = discover_write(f, err, sizeof(err));
	if (fclose(f) != 0 || n < 0)
		fprintf(stderr, "certwatch: discovery failed: %s\n", err[0] ? err : "write error");
	else if (n == 0)
		fprintf(stderr, "certwatch: no configuration at %s, and no TLS service of Dovecot, "
			"Postfix or nginx found; give --config FILE or --connect HOST:PORT\n",
			CONF_DEFAULT_FILE);
	else {
		fprintf(stderr, "certwatch: no configuration at %s; checking the %d service%s "
			"that 'certwatch discover' finds\n", CONF_DEFAULT_FILE, n, n == 1 ? "" : "s");
		r = load_conf(path, ret);
	}
out:
	unlink(path);
	rmdir(dir);
	return r;
}

static int cmd_check(const struct options *o)
{
	struct conf *c = NULL;
	struct check_item *items = NULL, one;
	size_t n = 0;
	unsigned max_probes = 1;
	char hostbuf[256];
	time_t now = time(NULL);
	int r;

	if (o->json && o->prometheus) {
		fprintf(stderr, "certwatch: --json and --prometheus exclude each other; pick one\n");
		return EXIT_UNKNOWN;
	}
	if (o->connect) {
		if (o->service) {
			fprintf(stderr, "certwatch: --service and --connect exclude each other\n");
			return EXIT_UNKNOWN;
		}
		if (conf_new_default(&c) < 0 || adhoc_item(o, c, hostbuf, sizeof(hostbuf), &one) < 0) {
			conf_free(c);
			return EXIT_UNKNOWN;
		}
		items = &one;
		n = 1;
	} else {
		if (endpoint_options(o)) {
			fprintf(stderr, "certwatch: --starttls, --name, --cert, --chain, --key, "
				"--key-type and --timeout go with --connect; with a configuration "
				"file, set them there\n");
			return EXIT_UNKNOWN;
		}
		if (!o->config_given && access(o->config, F_OK) < 0 && errno == ENOENT)
			r = load_discovered(&c);
		else
			r = load_conf(o->config, &c);
		if (r < 0)
			return EXIT_UNKNOWN;
		r = check_items_from_conf(c, o->service, &items, &n);
		if (r == -ENOENT) {
			fprintf(stderr, "certwatch: no service \"%s\" in %s\n", o->service, o->config);
			conf_free(c);
			return EXIT_UNKNOWN;
		}
		if (r < 0) {
			fprintf(stderr, "certwatch: %s\n", strerror(-r));
			conf_free(c);
			return EXIT_UNKNOWN;
		}
		max_probes = c->max_probes;
	}

	r = check_items_run(items, n, max_probes, now);
	if (r < 0)
		fprintf(stderr, "certwatch: the event loop failed: %s\n", strerror(-r));
	else if (o->json)
		report_json(stdout, items, n, (enum severity)r, now);
	else if (o->prometheus)
		metrics_write(stdout, items, n, NULL, 0);
	else
		report_table(stdout, items, n, now);

	if (items == &one) {
		probe_result_done(&one.probe);
		disk_pair_done(&one.disk);
	} else
		check_items_free(items, n);
	conf_free(c);
	return r < 0 ? EXIT_UNKNOWN : r;
}

/* status (resume NULL) or resume, with the configuration loaded. */
static int run_with_conf(const struct options *o, const char *resume)
{
	struct conf *c = NULL;
	int r;

	if (load_conf(o->config, &c) < 0)
		return resume ? 1 : EXIT_UNKNOWN;
	r = resume ? control_resume(c, resume) : control_status(c, o->service, o->json);
	conf_free(c);
	return r;
}

enum {
	OPT_JSON = 0x100,
	OPT_PROMETHEUS,
	OPT_CONNECT,
	OPT_STARTTLS,
	OPT_NAME,
	OPT_CERT,
	OPT_CHAIN,
	OPT_KEY,
	OPT_TIMEOUT,
	OPT_KEY_TYPE,
};

static const struct option global_options[] = {
	{ "config",      required_argument, NULL, 'c' },
	{ "test-config", no_argument,       NULL, 'n' },
	{ "help",        no_argument,       NULL, 'h' },
	{ "version",     no_argument,       NULL, 'V' },
	{}
};

static const struct option check_options[] = {
	{ "config",   required_argument, NULL, 'c' },
	{ "service",  required_argument, NULL, 's' },
	{ "json",     no_argument,       NULL, OPT_JSON },
	{ "prometheus", no_argument,     NULL, OPT_PROMETHEUS },
	{ "connect",  required_argument, NULL, OPT_CONNECT },
	{ "starttls", required_argument, NULL, OPT_STARTTLS },
	{ "name",     required_argument, NULL, OPT_NAME },
	{ "cert",     required_argument, NULL, OPT_CERT },
	{ "chain",    required_argument, NULL, OPT_CHAIN },
	{ "key",      required_argument, NULL, OPT_KEY },
	{ "timeout",  required_argument, NULL, OPT_TIMEOUT },
	{ "key-type", required_argument, NULL, OPT_KEY_TYPE },
	{ "help",     no_argument,       NULL, 'h' },
	{}
};

/* ret_arg: where the one positional argument goes; NULL when none is allowed. */
static int parse_check_options(int argc, char **argv, struct options *o, const char **ret_arg)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:h", check_options, NULL)) >= 0) {
		switch (c) {
		case 'c': o->config = optarg; o->config_given = true; break;
		case 's': o->service = optarg; break;
		case OPT_JSON: o->json = true; break;
		case OPT_PROMETHEUS: o->prometheus = true; break;
		case OPT_CONNECT: o->connect = optarg; break;
		case OPT_STARTTLS: o->starttls = optarg; break;
		case OPT_NAME: o->name = optarg; break;
		case OPT_CERT: o->cert = optarg; break;
		case OPT_CHAIN: o->chain = optarg; break;
		case OPT_KEY: o->key = optarg; break;
		case OPT_TIMEOUT: o->timeout = optarg; break;
		case OPT_KEY_TYPE: o->key_type = optarg; break;
		case 'h': usage(stdout); exit(0);
		default:
			fprintf(stderr, "Try 'certwatch --help'.\n");
			return -EINVAL;
		}
	}
	if (ret_arg && optind + 1 == argc) {
		*ret_arg = argv[optind];
		return 0;
	}
	if (optind < argc) {
		fprintf(stderr, "certwatch %s: unexpected argument \"%s\"\n", argv[0], argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .config = CONF_DEFAULT_FILE };
	bool test_config = false;
	const char *cmd, *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	int c;

	/* Installed in the plugins directory under this name, it is the plugin. */
	if (argc > 0 && strcmp(base ? base + 1 : argv[0], "check_certwatch") == 0)
		return nagios_main(argc, argv, CONF_DEFAULT_FILE);
	while ((c = getopt_long(argc, argv, "+c:nhV", global_options, NULL)) >= 0) {
		switch (c) {
		case 'c': o.config = optarg; o.config_given = true; break;
		case 'n': test_config = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("certwatch %s\n", PACKAGE_VERSION); return 0;
		default:
			fprintf(stderr, "Try 'certwatch --help'.\n");
			return EXIT_UNKNOWN;
		}
	}
	if (test_config) {
		if (optind < argc) {
			fprintf(stderr, "certwatch: --test-config takes no command\n");
			return EXIT_UNKNOWN;
		}
		return cmd_test_config(o.config);
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_UNKNOWN;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "check") == 0) {
		if (parse_check_options(argc, argv, &o, NULL) < 0)
			return EXIT_UNKNOWN;
		return cmd_check(&o);
	}
	if (strcmp(cmd, "run") == 0 || strcmp(cmd, "status") == 0) {
		if (parse_check_options(argc, argv, &o, NULL) < 0)
			return EXIT_UNKNOWN;
		if (o.connect || endpoint_options(&o) || o.prometheus || (cmd[0] == 'r' && o.json)) {
			fprintf(stderr, "certwatch %s: takes %s\n", cmd, cmd[0] == 'r' ?
				"only --config and --service" : "only --config, --service and --json");
			return EXIT_UNKNOWN;
		}
		if (cmd[0] == 'r')
			return daemon_run(o.config, o.service);
		return run_with_conf(&o, NULL);
	}
	if (strcmp(cmd, "nagios") == 0)
		return nagios_main(argc, argv, o.config);
	if (strcmp(cmd, "resume") == 0) {
		const char *service = NULL;

		if (parse_check_options(argc, argv, &o, &service) < 0)
			return EXIT_UNKNOWN;
		if (!service || o.service || o.json || o.prometheus || o.connect ||
		    endpoint_options(&o)) {
			fprintf(stderr, "certwatch resume: give one service name, and at most "
				"--config: certwatch resume [--config FILE] NAME\n");
			return EXIT_UNKNOWN;
		}
		return run_with_conf(&o, service);
	}
	if (strcmp(cmd, "discover") == 0) {
		if (argc != 1) {
			fprintf(stderr, "certwatch discover: takes no arguments\n");
			return EXIT_UNKNOWN;
		}
		return cmd_discover();
	}
	fprintf(stderr, "certwatch: unknown command \"%s\"; try 'certwatch --help'\n", cmd);
	return EXIT_UNKNOWN;
}
