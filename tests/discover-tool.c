/*
 * discover-tool.c - discover_write_opts() pointed at private daemon
 * instances, for tests/discover.sh: prints the configuration discovered
 * and exits 0, or prints the error and exits 1.
 *
 *   discover-tool [--dovecot-conf FILE] [--postfix-dir DIR]
 *                 [--nginx-conf FILE] [--nginx-prefix DIR] [--exim-conf FILE]
 *                 [--apache-conf FILE] [--haproxy-conf FILE] [--search-path PATH]
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "discover.h"

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dovecot-conf", required_argument, NULL, 'd' },
		{ "postfix-dir", required_argument, NULL, 'p' },
		{ "nginx-conf", required_argument, NULL, 'n' },
		{ "nginx-prefix", required_argument, NULL, 'P' },
		{ "exim-conf", required_argument, NULL, 'e' },
		{ "apache-conf", required_argument, NULL, 'a' },
		{ "haproxy-conf", required_argument, NULL, 'h' },
		{ "search-path", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct discover_options o = { 0 };
	char err[512];
	int c, r;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dovecot_conf = optarg; break;
		case 'p': o.postfix_dir = optarg; break;
		case 'n': o.nginx_conf = optarg; break;
		case 'P': o.nginx_prefix = optarg; break;
		case 'e': o.exim_conf = optarg; break;
		case 'a': o.apache_conf = optarg; break;
		case 'h': o.haproxy_conf = optarg; break;
		case 's': o.search_path = optarg; break;
		default: return 2;
		}
	}
	r = discover_write_opts(stdout, &o, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "discover-tool: %s\n", err);
		return 1;
	}
	fprintf(stderr, "discover-tool: %d services\n", r);
	return 0;
}
