/*
 * main.c - certwatch's command line: the global options, then a command
 * from the verb table and the options its row allows.  Dispatch and
 * --help both come from that table; the commands themselves live in their
 * modules (daemon.c, check-command.c, control.c, discover.c, nagios.c).
 *
 * Exit status follows the monitoring-plugin convention: 0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN (which includes usage and configuration errors);
 * --test-config exits 0 or 1 like nginx -t, and resume 0 or 1.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "adhoc.h"
#include "check-command.h"
#include "cli.h"
#include "cli-conf.h"
#include "conf.h"
#include "control.h"
#include "daemon.h"
#include "discover.h"
#include "fdlimit.h"
#include "nagios.h"
#include "tlsa-cmd.h"
#include "util.h"

#define EXIT_UNKNOWN 3

/* The options after a command; each verb's row says which it takes. */
enum {
	TAKES_CONFIG     = 1 << 0,
	TAKES_SERVICE    = 1 << 1,
	TAKES_JSON       = 1 << 2,
	TAKES_PROMETHEUS = 1 << 3,
	TAKES_ENDPOINT   = 1 << 4,    /* adhoc.h's: one endpoint instead of the configured ones */
	TAKES_WAIT       = 1 << 5,
	TAKES_DAEMON     = 1 << 6,    /* where discover finds a daemon's configuration */
};

#define SYNC_WAIT_DEFAULT_USEC (120 * USEC_PER_SEC)

struct options {
	const char *config;
	bool config_given;
	const char *service;
	bool json, prometheus;
	uint64_t wait_usec;           /* how long sync waits */
	struct discover_options discover;
	struct adhoc endpoint;
	char **args;                  /* the arguments after the options */
	int argc;                     /* the command's own, for a verb that reads them itself */
	char **argv;
};

/* Where a command's configuration comes from. */
enum verb_conf {
	CONF_NONE,                    /* it needs none */
	CONF_PATH,                    /* it reads --config itself (the daemon, again on SIGHUP) */
	CONF_LOADED,                  /* loaded here and handed to it */
	CONF_OR_DISCOVERED,           /* the same, or what discover finds when the default file
				       * is missing; none for an endpoint of the command line */
};

struct verb {
	const char *name;
	const char *synopsis;         /* what --help writes after the name */
	const char *help;
	unsigned takes;               /* TAKES_* */
	unsigned min_args, max_args;  /* the arguments after the options */
	enum verb_conf conf;
	int conf_error;               /* the exit status when it cannot be loaded */
	bool own_options;             /* reads its own argv (the plugin has its own conventions) */
	const char *program;          /* run under this name, certwatch is this command */
	int (*run)(const struct options *o, const struct conf *c);
};

static int cmd_run(const struct options *o, const struct conf *c)
{
	(void)c;
	return daemon_run(o->config, o->service);
}

static int cmd_check(const struct options *o, const struct conf *c)
{
	return check_command(c, o->config, o->service,
			     adhoc_given(&o->endpoint) ? &o->endpoint : NULL,
			     o->json ? CHECK_JSON : o->prometheus ? CHECK_PROMETHEUS : CHECK_TABLE);
}

static int cmd_status(const struct options *o, const struct conf *c)
{
	return control_status(c, o->service, o->json);
}

static int cmd_resume(const struct options *o, const struct conf *c)
{
	return control_resume(c, o->args[0]);
}

static int cmd_sync(const struct options *o, const struct conf *c)
{
	size_t n = 0;

	while (o->args[n])
		n++;
	return control_sync(c, o->args, n, o->wait_usec ? o->wait_usec : SYNC_WAIT_DEFAULT_USEC);
}

static int cmd_discover(const struct options *o, const struct conf *c)
{
	char err[512] = "";
	int n = discover_write_opts(stdout, &o->discover, err, sizeof(err));

	(void)c;
	if (n < 0) {
		fprintf(stderr, "certwatch discover: %s\n", err[0] ? err : strerror(-n));
		return EXIT_UNKNOWN;
	}
	fprintf(stderr, "certwatch: %d service%s found; review the output, then save it in the "
		"conf.d directory beside %s, such as conf.d/local.conf\n", n, n == 1 ? "" : "s",
		CONF_DEFAULT_FILE);
	return 0;
}

static int cmd_nagios(const struct options *o, const struct conf *c)
{
	(void)c;
	return nagios_main(o->argc, o->argv, o->config);
}

static int cmd_tlsa(const struct options *o, const struct conf *c)
{
	(void)c;
	return tlsa_main(o->argc, o->argv);
}

static const struct verb verbs[] = {
	{ .name = "run", .synopsis = "[-s NAME]",
	  .help = "the daemon: watch the certificate files, reload services when a renewal "
		  "is not served, verify",
	  .takes = TAKES_CONFIG | TAKES_SERVICE, .conf = CONF_PATH, .run = cmd_run },
	{ .name = "check", .synopsis = "[-s NAME] [--json | --prometheus]",
	  .help = "probe every configured endpoint, or the one given (below), and compare "
		  "what is served with what is on disk; changes nothing; with no "
		  "configuration file, checks what discover finds",
	  .takes = TAKES_CONFIG | TAKES_SERVICE | TAKES_JSON | TAKES_PROMETHEUS | TAKES_ENDPOINT,
	  .conf = CONF_OR_DISCOVERED, .conf_error = EXIT_UNKNOWN, .run = cmd_check },
	{ .name = "status", .synopsis = "[-s NAME] [--json]",
	  .help = "what the running daemon (or the certwatch@NAME instance) knows, from its "
		  "state file",
	  .takes = TAKES_CONFIG | TAKES_SERVICE | TAKES_JSON,
	  .conf = CONF_LOADED, .conf_error = EXIT_UNKNOWN, .run = cmd_status },
	{ .name = "resume", .synopsis = "SERVICE",
	  .help = "lift the pause of a service after repeated failures",
	  .takes = TAKES_CONFIG, .min_args = 1, .max_args = 1,
	  .conf = CONF_LOADED, .conf_error = 1, .run = cmd_resume },
	{ .name = "sync", .synopsis = "[SERVICE...]",
	  .help = "ask the running daemon to look now and wait until each service is verified, "
		  "paused or failed (an ACME client's deploy hook); exit 0/1/2/3",
	  .takes = TAKES_CONFIG | TAKES_WAIT, .max_args = UINT_MAX,
	  .conf = CONF_LOADED, .conf_error = EXIT_UNKNOWN, .run = cmd_sync },
	{ .name = "discover", .synopsis = "[--DAEMON-conf FILE...]", .takes = TAKES_DAEMON,
	  .help = "print a configuration for the local Dovecot, Postfix, nginx, Exim, Apache "
		  "and HAProxy, from their own configuration dumps and files",
	  .conf = CONF_NONE, .run = cmd_discover },
	{ .name = "nagios", .synopsis = "[OPTIONS]",
	  .help = "a monitoring plugin (also installed as check_certwatch); 'certwatch nagios "
		  "--help' lists its options",
	  .own_options = true, .program = "check_certwatch", .run = cmd_nagios },
	{ .name = "tlsa", .synopsis = "[--port PORT] [--name NAME] FILE...",
	  .help = "print the DANE TLSA records (3 1 1, 2 1 1) and the pin that match each "
		  "certificate file, for publishing before a key rollover",
	  .own_options = true, .run = cmd_tlsa },
};

/* The options after a command, for getopt_long and for --help; -h is every command's. */
static const struct common_option {
	const char *name;
	char short_opt;
	const char *arg;              /* NULL: takes no value */
	unsigned takes;
	const char *help;
	size_t daemon_field;          /* TAKES_DAEMON: offsetof() in struct discover_options */
} common_options[] = {
	{ "config",     'c', "FILE", TAKES_CONFIG,
	  "the configuration file, as before the command", 0 },
	{ "service",    's', "NAME", TAKES_SERVICE,    "only this service", 0 },
	{ "json",       0,   NULL,   TAKES_JSON,       "print JSON instead of a table", 0 },
	{ "prometheus", 0,   NULL,   TAKES_PROMETHEUS,
	  "print Prometheus text-format metrics instead of the table", 0 },
	{ "wait",       'w', "DURATION", TAKES_WAIT,
	  "how long to wait for the daemon (default 120s)", 0 },
	/* A daemon's configuration elsewhere than its package puts it (a second instance). */
	{ "dovecot-conf", 0, "FILE", TAKES_DAEMON, "Dovecot's configuration: doveconf -c FILE",
	  offsetof(struct discover_options, dovecot_conf) },
	{ "postfix-dir",  0, "DIR",  TAKES_DAEMON, "Postfix's configuration directory: postconf -c DIR",
	  offsetof(struct discover_options, postfix_dir) },
	{ "nginx-conf",   0, "FILE", TAKES_DAEMON, "nginx's configuration: nginx -c FILE -T",
	  offsetof(struct discover_options, nginx_conf) },
	{ "nginx-prefix", 0, "DIR",  TAKES_DAEMON, "nginx's prefix: nginx -p DIR -T",
	  offsetof(struct discover_options, nginx_prefix) },
	{ "exim-conf",    0, "FILE", TAKES_DAEMON, "Exim's configuration: exim -C FILE -bP",
	  offsetof(struct discover_options, exim_conf) },
	{ "apache-conf",  0, "FILE", TAKES_DAEMON, "Apache's configuration: apache2ctl -f FILE",
	  offsetof(struct discover_options, apache_conf) },
	{ "haproxy-conf", 0, "FILE", TAKES_DAEMON,
	  "HAProxy's configuration, instead of /etc/haproxy/haproxy.cfg",
	  offsetof(struct discover_options, haproxy_conf) },
};

#define COMMON_VAL 0x100      /* getopt_long's value of a common option without a letter */

static int common_val(size_t i)
{
	return common_options[i].short_opt ? common_options[i].short_opt : COMMON_VAL + (int)i;
}

/* "run, check, status": the commands that take an option. */
static void taken_by(unsigned takes, char *out, size_t outlen)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(verbs) && len < outlen; i++)
		if (verbs[i].takes & takes)
			len += (size_t)snprintf(out + len, outlen - len, "%s%s", len ? ", " : "",
						verbs[i].name);
}

static void usage(FILE *f)
{
	char label[64], text[256], verbs_of[128];

	fprintf(f, "Usage: certwatch [--config FILE] COMMAND [OPTIONS]\n"
		"       certwatch --test-config [--config FILE]\n"
		"       certwatch check {--connect HOST:PORT | -H HOST [-p PORT]}\n"
		"                 " ADHOC_SYNOPSIS("                 ") " [--json | --prometheus]\n"
		"\n"
		"Keeps TLS services serving the certificate that is on disk.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
		snprintf(label, sizeof(label), "%s%s%s", verbs[i].name,
			 verbs[i].synopsis[0] ? " " : "", verbs[i].synopsis);
		cli_help_row(f, label, verbs[i].help);
	}
	fprintf(f, "\nOptions:\n");
	/* One line, however long: scripts read the default from it. */
	fprintf(f, "  -c, --config FILE     main configuration file (default %s)\n",
		CONF_DEFAULT_FILE);
	cli_help_option(f, 'n', "test-config", NULL,
			"check the configuration, print it, exit 0 or 1");
	cli_help_option(f, 'h', "help", NULL, "show this help");
	cli_help_option(f, 'V', "version", NULL, "show the version");
	fprintf(f, "\nOptions after the command, of the commands named:\n");
	for (size_t i = 0; i < ELEMENTSOF(common_options); i++) {
		const struct common_option *c = &common_options[i];

		taken_by(c->takes, verbs_of, sizeof(verbs_of));
		snprintf(text, sizeof(text), "%s (%s)", c->help, verbs_of);
		cli_help_option(f, c->short_opt, c->name, c->arg, text);
	}
	taken_by(TAKES_ENDPOINT, verbs_of, sizeof(verbs_of));
	fprintf(f, "\nOne endpoint instead of the configured ones (%s; the same in nagios):\n",
		verbs_of);
	adhoc_help(f, "the deadline of the probe, in seconds or with a unit (\"500ms\", \"1m\"); "
		   "default 10s");
	fprintf(f, "\nExit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
		"See certwatch(8) and certwatch.conf(5).\n");
}

__attribute__((format(printf, 2, 3)))
static int usage_error(const struct verb *v, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "certwatch %s: ", v->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* One of common_options; -EINVAL when v does not take it, -ENOENT when c is none of them. */
static int take_common(const struct verb *v, int c, const char *arg, struct options *o)
{
	for (size_t i = 0; i < ELEMENTSOF(common_options); i++) {
		const struct common_option *opt = &common_options[i];
		char verbs_of[128];

		if (c != common_val(i))
			continue;
		if (!(v->takes & opt->takes)) {
			taken_by(opt->takes, verbs_of, sizeof(verbs_of));
			return usage_error(v, "--%s is not an option of %s, only of %s",
					   opt->name, v->name, verbs_of);
		}
		switch (opt->takes) {
		case TAKES_CONFIG: o->config = arg; o->config_given = true; break;
		case TAKES_SERVICE: o->service = arg; break;
		case TAKES_JSON: o->json = true; break;
		case TAKES_PROMETHEUS: o->prometheus = true; break;
		case TAKES_DAEMON:
			*(const char **)((char *)&o->discover + opt->daemon_field) = arg;
			break;
		case TAKES_WAIT:
			if (parse_duration(arg, &o->wait_usec) < 0 || o->wait_usec == 0)
				return usage_error(v, "--wait %s is not a duration; write a number "
						   "with a unit, such as \"90s\" or \"5m\"", arg);
			break;
		}
		return 0;
	}
	return -ENOENT;
}

/*
 * The options and arguments after the command, as v's row allows.  Returns
 * 0, 1 when done (--help), or -EINVAL after saying why.
 */
static int parse_command(const struct verb *v, int argc, char **argv, struct options *o)
{
	struct option longopts[ELEMENTSOF(common_options) + 2] = {};
	struct adhoc_getopt g;
	char why[128];
	int c, r;

	for (size_t i = 0; i < ELEMENTSOF(common_options); i++)
		longopts[i] = (struct option) { common_options[i].name, common_options[i].arg ?
			required_argument : no_argument, NULL, common_val(i) };
	longopts[ELEMENTSOF(common_options)] = (struct option) { "help", no_argument, NULL, 'h' };
	adhoc_getopt_init(&g, ":c:s:w:h", longopts);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) >= 0) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (adhoc_option_name(c) && !(v->takes & TAKES_ENDPOINT)) {
			taken_by(TAKES_ENDPOINT, why, sizeof(why));
			return usage_error(v, "--%s describes an endpoint, which only %s and "
					   "nagios take", adhoc_option_name(c), why);
		}
		if (adhoc_option_name(c)) {
			if (adhoc_option(&o->endpoint, c, optarg) < 0)
				return usage_error(v, "%s", o->endpoint.error);
			continue;
		}
		r = take_common(v, c, optarg, o);
		if (r == -ENOENT) {
			cli_getopt_refusal(c, optopt, argv[optind - 1], why, sizeof(why));
			usage_error(v, "%s", why);
			fprintf(stderr, "Try 'certwatch --help'.\n");
			return -EINVAL;
		}
		if (r < 0)
			return r;
	}
	o->args = argv + optind;
	if ((unsigned)(argc - optind) > v->max_args)
		return usage_error(v, "unexpected argument \"%s\"; write: certwatch %s%s%s",
				   argv[optind + v->max_args], v->name, v->synopsis[0] ? " " : "",
				   v->synopsis);
	if ((unsigned)(argc - optind) < v->min_args)
		return usage_error(v, "an argument is missing; write: certwatch %s %s", v->name,
				   v->synopsis);
	if (o->json && o->prometheus)
		return usage_error(v, "--json and --prometheus exclude each other; pick one");
	if ((v->takes & TAKES_ENDPOINT) &&
	    adhoc_finish(&o->endpoint, 0, o->service ? "--service" : NULL) < 0)
		return usage_error(v, "%s", o->endpoint.error);
	return 0;
}

/* The configuration of v's row; 0 with *ret NULL when it needs none. */
static int conf_for(const struct verb *v, const struct options *o, struct conf **ret)
{
	*ret = NULL;
	if (v->conf == CONF_NONE || v->conf == CONF_PATH)
		return 0;
	if (v->conf == CONF_OR_DISCOVERED && adhoc_given(&o->endpoint))
		return 0;
	if (v->conf == CONF_OR_DISCOVERED && !o->config_given && access(o->config, F_OK) < 0 &&
	    errno == ENOENT)
		return cli_conf_discovered(ret);
	return cli_conf_load(o->config, ret);
}

/* Runs v with the command line after its name (argv[0] is the name). */
static int dispatch(const struct verb *v, int argc, char **argv, struct options *o)
{
	struct conf *c = NULL;
	int r;

	if (v->own_options) {
		o->argc = argc;
		o->argv = argv;
		return v->run(o, NULL);
	}
	r = parse_command(v, argc, argv, o);
	if (r != 0)
		return r > 0 ? 0 : EXIT_UNKNOWN;
	if (conf_for(v, o, &c) < 0)
		return v->conf_error;
	r = v->run(o, c);
	conf_free(c);
	return r;
}

static const struct verb *find_verb(const char *name, bool by_program)
{
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (by_program ? verbs[i].program && strcmp(verbs[i].program, name) == 0 :
		    strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static int test_config(const char *path)
{
	struct conf *c = NULL;

	if (cli_conf_load(path, &c) < 0) {
		fprintf(stderr, "certwatch: configuration %s is NOT valid\n", path);
		return 1;
	}
	conf_dump(c, stdout);
	check_command_key_modes(c);
	fprintf(stderr, "certwatch: configuration %s is valid\n", path);
	conf_free(c);
	return 0;
}

static const struct option global_options[] = {
	{ "config",      required_argument, NULL, 'c' },
	{ "test-config", no_argument,       NULL, 'n' },
	{ "help",        no_argument,       NULL, 'h' },
	{ "version",     no_argument,       NULL, 'V' },
	{}
};

int main(int argc, char **argv)
{
	struct options o = { .config = CONF_DEFAULT_FILE };
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	const struct verb *v;
	bool testing = false;
	int c;

	/* Every command that probes may need more than the soft limit's 1024 descriptors. */
	fdlimit_raise();
	adhoc_init(&o.endpoint);
	/* Under a command's program name (check_certwatch), certwatch is that command. */
	v = argc > 0 ? find_verb(base ? base + 1 : argv[0], true) : NULL;
	if (v)
		return dispatch(v, argc, argv, &o);
	while ((c = getopt_long(argc, argv, "+c:nhV", global_options, NULL)) >= 0) {
		switch (c) {
		case 'c': o.config = optarg; o.config_given = true; break;
		case 'n': testing = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("certwatch %s\n", PACKAGE_VERSION); return 0;
		default:
			fprintf(stderr, "Try 'certwatch --help'.\n");
			return EXIT_UNKNOWN;
		}
	}
	if (testing && optind < argc) {
		fprintf(stderr, "certwatch: --test-config takes no command\n");
		return EXIT_UNKNOWN;
	}
	if (testing)
		return test_config(o.config);
	if (optind >= argc) {
		usage(stderr);
		return EXIT_UNKNOWN;
	}
	v = find_verb(argv[optind], false);
	if (!v) {
		fprintf(stderr, "certwatch: unknown command \"%s\"; try 'certwatch --help'\n",
			argv[optind]);
		return EXIT_UNKNOWN;
	}
	return dispatch(v, argc - optind, argv + optind, &o);
}
