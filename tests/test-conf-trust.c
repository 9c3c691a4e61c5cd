/*
 * test-conf-trust.c - what the configuration must not trust: files that
 * are not regular files (a FIFO must never block the load), and the
 * environment (${VAR} is refused, never expanded).  Every case runs under
 * an alarm, so a load that blocks fails the test instead of hanging the
 * suite.
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

static const char variable_hint[] =
	"or by nothing where it is unset; certwatch does not expand variables, since its "
	"environment is not your shell's: write the value itself (and a literal \"${\" as \"\\${\")";

static void unset_variable_is_an_error(void)
{
	const char *d = new_case("env-unset");

	unsetenv("SCRATCH");
	put(d, "certwatch.conf", "# scratch space\nservice a {\n cert = \"/a\"\n key = \"/b\"\n"
	    " reload-command = {\"/bin/rm\", \"-rf\",\n   \"${SCRATCH}/cache\"}\n"
	    " endpoint e { port = 1 }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:6: ${SCRATCH} would be replaced by the "
				  "environment variable SCRATCH, %s", d, variable_hint),
	       "an unset ${SCRATCH} in a command is an error naming file, line and variable, "
	       "not rm -rf /cache");
}

static void set_variable_is_an_error_too(void)
{
	const char *d = new_case("env-set");

	setenv("CERTWATCH_TEST_DIR", "/etc/ssl", 1);
	put(d, "certwatch.conf", "service a {\n cert = \"${CERTWATCH_TEST_DIR}/a.pem\"\n"
	    " key = \"/b\"\n endpoint e { port = 1 }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:2: ${CERTWATCH_TEST_DIR} would be replaced by "
				  "the environment variable CERTWATCH_TEST_DIR, %s", d, variable_hint),
	       "a set variable is refused too: the daemon's environment is not the shell's");
}

static void unquoted_and_default_variables_are_errors(void)
{
	const char *d = new_case("env-unquoted");

	put(d, "certwatch.conf", "service a {\n cert = \"/a\"\n key = \"/b\"\n"
	    " endpoint e {\n  port = ${PORT}\n  name = \"${HOST:-localhost}\"\n }\n}\n");
	is_str(load_error(d), fmt("%s/certwatch.conf:5: ${PORT} would be replaced by the "
				  "environment variable PORT, %s\n"
				  "%s/certwatch.conf:6: ${HOST:-localhost} would be replaced by the "
				  "environment variable HOST, %s", d, variable_hint, d, variable_hint),
	       "an unquoted ${PORT} and a ${HOST:-default} are refused, each at its line");
}

static void literal_dollars_are_kept(void)
{
	const char *d = new_case("env-literal");
	struct conf *c = NULL;
	const struct conf_endpoint *e;
	char *dump;
	int r;

	put(d, "certwatch.conf", "# ${COMMENT} is a comment\nservice a {\n"
	    " cert = \"/\\${A}/$HOME.pem\"\n key = '/${B}.key'\n"
	    " endpoint e { port = 1 chain = /x$C }\n}\n");
	r = load(d, &c);
	ok(r == 0 && c, "\\${, single quotes, $ without a brace and comments are no variables%s%s",
	   r < 0 ? ": " : "", r < 0 ? err : "");
	if (!c)
		return;
	e = &c->services[0].endpoints[0];
	ok(!strcmp(e->cert, "/${A}/$HOME.pem") && !strcmp(e->key, "/${B}.key") &&
	   !strcmp(e->chain, "/x$C"),
	   "they are read literally");
	dump = dump_settings(c);
	like(dump, "\tcert = \"/\\${A}/\\$HOME.pem\"\n", "the dump writes a literal dollar as \\$");
	free(dump);
	conf_free(c);
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
	unset_variable_is_an_error();
	set_variable_is_an_error_too();
	unquoted_and_default_variables_are_errors();
	literal_dollars_are_kept();
	cases_end();
	return tap_done();
}
