/*
 * test-conf-trust.c - what the configuration must not trust: files that
 * are not regular files (a FIFO must never block the load).  Every case
 * runs under an alarm, so a load that blocks fails the test instead of
 * hanging the suite.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "../tests/tap.h"
#include "../tests/conf-cases.h"

static const char svc_ok[] =
	"service web {\n cert = \"/etc/ssl/web.pem\"\n key = \"/etc/ssl/web.key\"\n"
	" endpoint https { port = 443 }\n}\n";

static void fifo_in_include_dir_is_refused(void)
{
	const char *d = new_case("fifo-include");
	char path[PATH_MAX];

	put(d, "certwatch.conf", "%s", svc_ok);
	put_dir(d, "conf.d");
	snprintf(path, sizeof(path), "%s/conf.d/x.conf", d);
	if (mkfifo(path, 0600) < 0)
		abort();
	is_str(load_error(d), fmt("%s: is a FIFO, not a regular file; a configuration file must be "
				  "one: replace it with a regular file, or remove it", path),
	       "a FIFO named x.conf in the include directory is refused at once, not read");
}

static void fifo_as_main_file_is_refused(void)
{
	const char *d = new_case("fifo-main");
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/certwatch.conf", d);
	if (mkfifo(path, 0600) < 0)
		abort();
	is_str(load_error(d), fmt("%s: is a FIFO, not a regular file; a configuration file must be "
				  "one: replace it with a regular file, or remove it", path),
	       "a FIFO as the main file is refused at once, not read");
}

static void directory_in_include_dir_is_refused(void)
{
	const char *d = new_case("dir-include");

	put(d, "certwatch.conf", "%s", svc_ok);
	put_dir(d, "conf.d");
	put_dir(d, "conf.d/y.conf");
	is_str(load_error(d), fmt("%s/conf.d/y.conf: is a directory, not a regular file; a "
				  "configuration file must be one: replace it with a regular file, or "
				  "remove it", d),
	       "a directory named y.conf in the include directory is refused");
}

int main(void)
{
	if (!cases_begin("test-conf-trust"))
		return 99;
	/* A load that blocks ends the test here, as a failure. */
	alarm(60);
	fifo_in_include_dir_is_refused();
	fifo_as_main_file_is_refused();
	directory_in_include_dir_is_refused();
	cases_end();
	return tap_done();
}
