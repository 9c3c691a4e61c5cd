/*
 * test-conf-trust.c - what the configuration must not trust: files that
 * are not regular files (a FIFO must never block the load), the
 * environment (${VAR} is refused, never expanded), and programs that
 * anyone but root could change (reload-command and reload-check run as
 * root).  Every case runs under
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

/* Makes a FIFO at DIR/REL; the message that refuses it. */
static const char *fifo_refusal(const char *d, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", d, rel);
	if (mkfifo(path, 0600) < 0)
		abort();
	return fmt("%s: is a FIFO, not a regular file; a configuration file must be one: replace "
		   "it with a regular file, or remove it", path);
}

static void fifos_are_refused(void)
{
	const char *d = new_case("fifo-include");
	char want[PATH_MAX + 256];

	put(d, "certwatch.conf", "%s", svc_ok);
	put_dir(d, "conf.d");
	snprintf(want, sizeof(want), "%s", fifo_refusal(d, "conf.d/x.conf"));
	is_str(load_error(d), want,
	       "a FIFO named x.conf in the include directory is refused at once, not read");

	d = new_case("fifo-main");
	snprintf(want, sizeof(want), "%s", fifo_refusal(d, "certwatch.conf"));
	is_str(load_error(d), want, "a FIFO as the main file is refused at once, not read");
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

/* ---- programs ------------------------------------------------------------ */

/* A shell script at DIR/REL with mode; its path. */
static const char *put_program(const char *dir, const char *rel, mode_t mode)
{
	static char path[PATH_MAX];

	put(dir, rel, "#!/bin/sh\nexit 0\n");
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (chmod(path, mode) < 0)
		abort();
	return path;
}

/* Loads a service that runs program as setting (at line 2); its error or "". */
static const char *load_program(const char *d, const char *setting, const char *program)
{
	struct conf *c = NULL;

	put(d, "certwatch.conf", "service a {\n %s = {\"%s\", \"reload\"}\n%s cert = \"/a\"\n"
	    " key = \"/b\"\n endpoint e { port = 1 }\n}\n", setting, program,
	    strcmp(setting, "reload-check") == 0 ? " reload-unit = \"a.service\"\n" : "");
	if (load(d, &c) == 0) {
		conf_free(c);
		return "";
	}
	return err;
}

static void a_sane_program_passes(void)
{
	const char *d = new_case("prog-sane"), *p;

	is_str(load_program(d, "reload-command", "/usr/bin/true"), "",
	       "reload-command /usr/bin/true, root's, is accepted");
	is_str(load_program(d, "reload-check", "/bin/true"), "",
	       "reload-check /bin/true, through the root-owned link /bin, is accepted");
	p = put_program(d, "reload.sh", 0755);
	is_str(load_program(d, "reload-command", p), "",
	       "a root-owned 0755 script in a root-owned 0700 directory under /tmp is accepted");
}

static void a_world_writable_program_is_refused(void)
{
	const char *d = new_case("prog-writable"), *p = put_program(d, "reload.sh", 0757);

	is_str(load_program(d, "reload-command", p), fmt("%s/certwatch.conf:2: reload-command program "
		"%s is writable by others (mode 0757); certwatch runs it as root: run \"chmod o-w "
		"%s\"", d, p, p), "a world-writable reload-command script is refused with the fix");
	chmod(p, 0775);
	is_str(load_program(d, "reload-check", p), fmt("%s/certwatch.conf:2: reload-check program %s "
		"is writable by its group (mode 0775); certwatch runs it as root: run \"chmod g-w "
		"%s\"", d, p, p), "a group-writable reload-check script is refused with the fix");
}

static void a_program_owned_by_another_user_is_refused(void)
{
	const char *d = new_case("prog-nobody"), *p = put_program(d, "reload.sh", 0755);

	if (geteuid() != 0 || chown(p, 65534, 65534) < 0) {
		ok(1, "# SKIP not root: cannot give a file to nobody");
		return;
	}
	is_str(load_program(d, "reload-command", p), fmt("%s/certwatch.conf:2: reload-command program "
		"%s is owned by uid 65534, not root; certwatch runs it as root: run \"chown root %s\"",
		d, p, p), "a script owned by nobody is refused with the fix");
}

static void a_missing_program_is_refused(void)
{
	const char *d = new_case("prog-missing");

	is_str(load_program(d, "reload-check", "/usr/sbin/ngnix"), fmt("%s/certwatch.conf:2: "
		"reload-check program /usr/sbin/ngnix does not exist; write the full path of an "
		"installed program", d), "a misspelled reload-check program is refused");
	is_str(load_program(d, "reload-command", "/nonexistent/bin/reload"), fmt("%s/certwatch.conf:2: "
		"reload-command program /nonexistent/bin/reload does not exist (/nonexistent is "
		"missing); write the full path of an installed program", d),
	       "a program in a missing directory is refused, naming what is missing");
	is_str(load_program(d, "reload-command", "/etc/hostname/reload"), fmt("%s/certwatch.conf:2: "
		"reload-command program /etc/hostname/reload does not exist (/etc/hostname is not a "
		"directory); write the full path of an installed program", d),
	       "a program under a file is refused");
	is_str(load_program(d, "reload-command", "/usr/bin"), fmt("%s/certwatch.conf:2: "
		"reload-command program /usr/bin is a directory, not a program; write the full path "
		"of a program", d), "a directory is no program");
}

static void a_relative_program_is_refused(void)
{
	const char *d = new_case("prog-relative");

	is_str(load_program(d, "reload-check", "./check.sh"), fmt("%s/certwatch.conf:2: reload-check "
		"starts with \"./check.sh\", not an absolute path; write the program's full path, "
		"such as {\"/usr/sbin/nginx\", \"-s\", \"reload\"} (commands run without a shell or "
		"PATH)", d), "a relative reload-check program is refused");
}

static void a_program_in_an_unsafe_directory_is_refused(void)
{
	const char *d = new_case("prog-dir"), *p;
	char dir[PATH_MAX];

	put_dir(d, "bin");
	snprintf(dir, sizeof(dir), "%s/bin", d);
	p = put_program(d, "bin/reload.sh", 0755);
	chmod(dir, 0775);
	is_str(load_program(d, "reload-command", p), fmt("%s/certwatch.conf:2: reload-command program "
		"%s is in the directory %s, writable by its group (mode 0775), who could replace it; "
		"certwatch runs it as root: run \"chmod g-w %s\"", d, p, dir, dir),
	       "a program in a group-writable directory is refused with the fix");
	chmod(dir, 0777);
	like(load_program(d, "reload-command", p), "writable by group and others (mode 0777)",
	     "a program in a world-writable directory without the sticky bit is refused");
	chmod(dir, 01777);
	is_str(load_program(d, "reload-command", p), "",
	       "a root-owned program in a root-owned sticky directory (as /tmp) is accepted");
	if (geteuid() == 0 && chown(dir, 65534, 65534) == 0) {
		chmod(dir, 0755);
		like(load_program(d, "reload-command", p), fmt("is in the directory %s, owned by uid "
		     "65534, who could replace it; certwatch runs it as root: run \"chown root %s\"",
		     dir, dir), "a program in a directory owned by nobody is refused");
	} else {
		ok(1, "# SKIP not root: cannot give a directory to nobody");
	}
}

static void a_link_to_an_unsafe_program_is_refused(void)
{
	const char *d = new_case("prog-link"), *p = put_program(d, "target.sh", 0777);
	char target[PATH_MAX], link[PATH_MAX];

	snprintf(target, sizeof(target), "%s", p);
	snprintf(link, sizeof(link), "%s/reload", d);
	if (symlink("target.sh", link) < 0)
		abort();
	is_str(load_program(d, "reload-command", link), fmt("%s/certwatch.conf:2: reload-command "
		"program %s (resolved: %s) is writable by group and others (mode 0777); certwatch "
		"runs it as root: run \"chmod go-w %s\"", d, link, target, target),
	       "a link to a world-writable script is refused, naming the script");
	chmod(target, 0644);
	like(load_program(d, "reload-command", link), fmt("(resolved: %s) is not executable (mode "
	     "0644): run \"chmod +x %s\"", target, target), "a link to a file that cannot run is refused");
	unlink(target);
	is_str(load_program(d, "reload-command", link), fmt("%s/certwatch.conf:2: reload-command "
		"program %s does not exist (%s is missing); write the full path of an installed "
		"program", d, link, target), "a dangling link is refused, naming what is missing");
	put_program(d, "target.sh", 0755);
	if (geteuid() == 0 && lchown(link, 65534, 65534) == 0)
		like(load_program(d, "reload-command", link), fmt("goes through the symbolic link %s, "
		     "owned by uid 65534, who could point it elsewhere", link),
		     "a link owned by nobody is refused");
	else
		ok(1, "# SKIP not root: cannot give a link to nobody");
}

static void programs_are_checked_only_with_check_owner(void)
{
	const char *d = new_case("prog-nocheck"), *p = put_program(d, "reload.sh", 0777);
	char path[PATH_MAX];
	struct conf *c = NULL;

	load_program(d, "reload-command", p);
	snprintf(path, sizeof(path), "%s/certwatch.conf", d);
	ok(conf_load(path, false, &c, err, sizeof(err)) == 0,
	   "without check_owner, as for the files, the program is not checked");
	conf_free(c);
}

int main(void)
{
	if (!cases_begin("test-conf-trust"))
		return 99;
	/* A load that blocks ends the test here, as a failure. */
	alarm(60);
	fifos_are_refused();
	directory_in_include_dir_is_refused();
	unset_variable_is_an_error();
	set_variable_is_an_error_too();
	unquoted_and_default_variables_are_errors();
	literal_dollars_are_kept();
	a_sane_program_passes();
	a_world_writable_program_is_refused();
	a_program_owned_by_another_user_is_refused();
	a_missing_program_is_refused();
	a_relative_program_is_refused();
	a_program_in_an_unsafe_directory_is_refused();
	a_link_to_an_unsafe_program_is_refused();
	programs_are_checked_only_with_check_owner();
	cases_end();
	return tap_done();
}
