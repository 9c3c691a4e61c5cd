/*
 * cli-conf.c - the configuration of a command-line command (see
 * cli-conf.h).  The discovered configuration goes through a file, not
 * straight into memory, so that it is validated exactly as a file written
 * from `certwatch discover` would be.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-conf.h"
#include "discover.h"

int cli_conf_load(const char *path, struct conf **ret)
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

int cli_conf_discovered(struct conf **ret)
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
		r = cli_conf_load(path, ret);
	}
out:
	unlink(path);
	rmdir(dir);
	return r;
}
