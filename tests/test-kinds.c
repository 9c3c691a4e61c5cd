/*
 * test-kinds - the table of known servers (kinds.c) and how the loader
 * turns kind = "..." into a service's effective settings (conf-kind.c):
 * every row is whole, the servers of the table are there, the kind's
 * recipe fills what the service leaves unset and yields to what it sets,
 * endpoints take the kind's protocols and ports, and --test-config's dump
 * shows where each setting came from and reads back as itself.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "conf.h"
#include "kinds.h"
#include "reload.h"
#include "starttls.h"
#include "util.h"
#include "../tests/tap.h"
#include "../tests/conf-cases.h"

static bool absolute(const char *path)
{
	return path && path[0] == '/';
}

/* What the row's method needs, it has; what it does not use, it leaves out. */
static bool method_complete(const struct kind *k)
{
	switch (k->method) {
	case RELOAD_METHOD_UNIT:
	case RELOAD_METHOD_RESTART:
		return k->unit && strstr(k->unit, ".service") && !k->socket;
	case RELOAD_METHOD_SIGNAL:
		return k->signal > 0 && absolute(k->pid_file);
	case RELOAD_METHOD_COMMAND:
		return absolute(k->command[0]) && (!k->socket_option || absolute(k->socket));
	case RELOAD_METHOD_HAPROXY:
		return absolute(k->socket) && k->unit;
	case RELOAD_METHOD_SLAPD:
		return absolute(k->socket);
	case RELOAD_METHOD_SELF:
		return !k->unit && !k->check[0] && !k->socket;
	default:
		return false;
	}
}

static bool ports_known(const struct kind *k)
{
	size_t n = 0;

	for (; n < KIND_MAX_PORTS && k->ports[n].endpoint; n++)
		if (k->ports[n].port == 0 ||
		    (k->ports[n].starttls && starttls_lookup(k->ports[n].starttls) < 0))
			return false;
	return n > 0;
}

static void every_row_is_whole(void)
{
	for (size_t i = 0; i < kinds_n; i++) {
		const struct kind *k = &kinds[i];

		ok(kind_find(k->name) == k, "kind %s is found by its name, once", k->name);
		ok(method_complete(k), "kind %s has what its reload method needs", k->name);
		ok(!k->check[0] || absolute(k->check[0]), "kind %s's configuration test is an "
		   "absolute path", k->name);
		ok(ports_known(k), "kind %s has ports, each with a known protocol", k->name);
		ok(k->server && k->how && strlen(k->how) > 20, "kind %s says how it takes a new "
		   "certificate", k->name);
		ok(k->method == RELOAD_METHOD_SELF || reload_method_table[k->method].start,
		   "kind %s's method has a start function", k->name);
	}
	ok(!kind_find("nonesuch") && !kind_find(NULL), "an unknown kind is not found");
}

static void the_servers_of_the_table(void)
{
	static const char *const wanted[] = {
		"nginx", "dovecot", "postfix", "exim", "apache", "haproxy", "postgresql",
		"mariadb", "mysql", "slapd", "prosody", "vsftpd", "proftpd", "inn", "inspircd",
	};

	for (size_t i = 0; i < ELEMENTSOF(wanted); i++)
		ok(kind_find(wanted[i]) != NULL, "the table has %s", wanted[i]);
	ok(strstr(kind_names(), "nginx, dovecot") == kind_names(), "kind_names lists them: %s",
	   kind_names());
}

static void self_loading_servers_are_verified_only(void)
{
	ok(kind_find("exim")->method == RELOAD_METHOD_SELF &&
	   kind_find("inn")->method == RELOAD_METHOD_SELF,
	   "Exim and INN load a renewal by themselves");
	ok(!reload_method_acts(RELOAD_METHOD_SELF) && !reload_method_acts(RELOAD_METHOD_NONE),
	   "neither \"by itself\" nor none acts on the server: the policy verifies, never reloads");
	ok(reload_method_acts(RELOAD_METHOD_HAPROXY) && reload_method_acts(RELOAD_METHOD_RESTART),
	   "every other method acts");
	ok(reload_method_table[RELOAD_METHOD_SELF].start == NULL,
	   "\"by itself\" has nothing to start");
}

static void ports_by_endpoint_name(void)
{
	const struct kind *dovecot = kind_find("dovecot");
	const struct kind_port *p = kind_port_named(dovecot, "imap");

	ok(p && p->port == 143 && strcmp(p->starttls, "imap") == 0,
	   "dovecot's endpoint imap is STARTTLS on 143");
	ok(!kind_port_named(dovecot, "whatever"), "another name asks for none");
}

#define PAIR " cert = \"/c.pem\"\n key = \"/k.pem\"\n"

static struct conf *load_ok(const char *name, const char *text)
{
	const char *d = new_case(name);
	struct conf *c = NULL;

	put(d, "certwatch.conf", "%s", text);
	if (load(d, &c) < 0)
		printf("# %s: %s\n", name, err);
	return c;
}

static void a_kind_fills_the_recipe(void)
{
	struct conf *c = load_ok("nginx", "service web {\n kind = \"nginx\"\n" PAIR
				 " endpoint https {}\n}\n");
	const struct conf_service *s = c ? &c->services[0] : NULL;

	ok(s && s->reload_method == RELOAD_METHOD_UNIT && strcmp(s->reload_unit, "nginx.service") == 0,
	   "kind nginx reloads nginx.service");
	ok(s && s->reload_check && strcmp(s->reload_check[0], "/usr/sbin/nginx") == 0 &&
	   strcmp(s->reload_check[1], "-t") == 0, "and tests its configuration with nginx -t");
	ok(s && s->endpoints[0].port == 443 && s->endpoints[0].starttls < 0,
	   "an endpoint that names no port is https on 443");
	is_str(s ? s->recipe : "", "from kind nginx: reload-unit, reload-check",
	       "the recipe says where its settings came from");
	conf_free(c);
}

static void explicit_settings_win(void)
{
	struct conf *c = load_ok("override", "service mx {\n kind = \"postfix\"\n"
				 " reload-command = {\"/bin/true\"}\n" PAIR " endpoint smtp {}\n}\n"
				 "service irc {\n kind = \"inspircd\"\n reload-signal = \"USR1\"\n"
				 " pid-file = \"/tmp/irc.pid\"\n"
				 PAIR " endpoint ircs {}\n}\n");
	const struct conf_service *mx = c ? &c->services[0] : NULL, *irc = c ? &c->services[1] : NULL;

	ok(mx && mx->reload_method == RELOAD_METHOD_COMMAND && !mx->reload_unit,
	   "a reload-command of the service's own replaces the kind's reload-unit");
	ok(mx && mx->reload_check && strcmp(mx->reload_check[0], "/usr/sbin/postfix") == 0,
	   "and the kind's configuration test still runs");
	ok(mx && mx->endpoints[0].port == 25 && mx->endpoints[0].starttls == starttls_lookup("smtp"),
	   "postfix's endpoint smtp is STARTTLS on 25");
	is_str(mx ? mx->recipe : "", "from kind postfix: reload-check; set here: reload-command",
	       "the recipe says which setting is the service's own");
	ok(irc && irc->reload_method == RELOAD_METHOD_SIGNAL && irc->reload_signal == SIGUSR1 &&
	   strcmp(irc->pid_file, "/tmp/irc.pid") == 0,
	   "inspircd started with a pid file of its own is signalled through it");
	ok(irc && irc->endpoints[0].port == 6697, "inspircd's ircs is on 6697");
	conf_free(c);
}

static void a_socket_reaches_the_command(void)
{
	struct conf *c = load_ok("mariadb", "service db {\n kind = \"mariadb\"\n"
				 " control-socket = \"/srv/db/mysqld.sock\"\n" PAIR " endpoint db {}\n}\n");
	const struct conf_service *s = c ? &c->services[0] : NULL;
	char *const *argv = s ? s->reload_command : NULL;

	ok(argv && strcmp(argv[0], "/usr/bin/mariadb") == 0 && strcmp(argv[2], "--execute=FLUSH SSL") == 0 &&
	   strcmp(argv[3], "--socket=/srv/db/mysqld.sock") == 0 && !argv[4],
	   "mariadb runs FLUSH SSL through its client, on the service's control-socket");
	ok(s && s->endpoints[0].port == 3306 && s->endpoints[0].starttls == starttls_lookup("mysql"),
	   "its endpoint speaks the MySQL protocol on 3306");
	conf_free(c);
}

static void verify_only_kinds(void)
{
	struct conf *c = load_ok("exim", "service mx {\n kind = \"exim\"\n" PAIR
				 " endpoint submission {}\n endpoint x { port = 2525 }\n"
				 " endpoint smtp { port = 2526 }\n endpoint y {}\n"
				 " endpoint z { port = 2527 starttls = \"lmtp\" }\n}\n");
	const struct conf_service *s = c ? &c->services[0] : NULL;
	const struct conf_endpoint *e = s ? s->endpoints : NULL;
	const char *d;

	ok(s && s->reload_method == RELOAD_METHOD_SELF && !s->reload_check && !s->reload_unit,
	   "kind exim has no reload and no configuration test");
	ok(e && e[0].port == 587 && e[0].starttls == starttls_lookup("smtp"),
	   "an endpoint named submission is SMTP STARTTLS on 587");
	ok(e && e[1].port == 2525 && e[1].starttls < 0,
	   "an endpoint of another name with a port of its own is implicit TLS there");
	ok(e && e[2].port == 2526 && e[2].starttls == starttls_lookup("smtp"),
	   "an endpoint named smtp with a port of its own is SMTP STARTTLS there");
	ok(e && e[3].port == 25 && e[3].starttls == starttls_lookup("smtp"),
	   "an endpoint of another name without a port takes the kind's first protocol");
	ok(e && e[4].port == 2527 && e[4].starttls == starttls_lookup("lmtp"),
	   "an endpoint's own protocol is kept");
	conf_free(c);

	d = new_case("exim-check");
	put(d, "certwatch.conf", "\nservice mx {\n kind = \"exim\"\n reload-check = {\"/bin/true\"}\n"
	    PAIR " endpoint smtp {}\n}\n");
	like(load_error(d), "certwatch.conf:2: service mx has reload-check but no reload method",
	     "a reload-check for a server that is never reloaded is refused");
}

static void wrong_kinds_are_refused(void)
{
	const char *d = new_case("unknown");

	put(d, "certwatch.conf", "service a {\n kind = \"ngnix\"\n" PAIR " endpoint e {}\n}\n");
	like(load_error(d), "certwatch.conf:2: kind = \"ngnix\" is not a server certwatch knows; "
	     "write one of: nginx, dovecot, ", "an unknown kind is refused with the list");

	d = new_case("socket");
	put(d, "certwatch.conf", "\nservice a {\n kind = \"nginx\"\n control-socket = \"/run/a\"\n"
	    PAIR " endpoint e {}\n}\n");
	like(load_error(d), "certwatch.conf:2: service a has control-socket, which its reload "
	     "method does not use", "a control-socket nothing uses is refused");
}

/* The dump writes the kind's settings as comments: loaded again, it is the same configuration. */
static void the_dump_reads_back(void)
{
	static const char text[] = "service ha {\n kind = \"haproxy\"\n"
		" control-socket = \"/run/ha.sock\"\n" PAIR " endpoint https {}\n}\n"
		"service ldap {\n kind = \"slapd\"\n" PAIR " endpoint ldap {}\n}\n";
	struct conf *c = load_ok("dump", text), *again = NULL;
	char *first = NULL, *second = NULL, *full = NULL;
	size_t len = 0;
	FILE *f;
	const char *d;

	if (!c) {
		ok(0, "the haproxy and slapd services load");
		return;
	}
	f = open_memstream(&full, &len);
	conf_dump(c, f);
	fclose(f);
	like(full, "\t# kind haproxy: HAProxy takes every certificate", "the dump says what the kind does");
	like(full, "\t# reload settings from kind haproxy: HAProxy's runtime API, reload-unit, "
	     "reload-check; set here: control-socket", "and where each setting came from");
	like(full, "\n\t# reload-unit = \"haproxy.service\"\n", "the kind's fallback unit is a comment");
	like(full, "\n\tcontrol-socket = \"/run/ha.sock\"\n", "the service's own socket is a setting");
	like(full, "\n\t# control-socket = \"/run/slapd/ldapi\"\n", "slapd's default socket is a comment");
	first = dump_settings(c);
	d = new_case("dump-again");
	put(d, "certwatch.conf", "%s", first);
	ok(load(d, &again) == 0 && again->services[0].reload_method == RELOAD_METHOD_HAPROXY &&
	   again->services[1].reload_method == RELOAD_METHOD_SLAPD, "the dump loads back with the "
	   "kinds' methods");
	second = again ? dump_settings(again) : NULL;
	is_str(second ? second : "", first, "and dumps the same");
	free(full);
	free(first);
	free(second);
	conf_free(again);
	conf_free(c);
}

int main(void)
{
	if (!cases_begin("test-kinds"))
		return 1;
	every_row_is_whole();
	the_servers_of_the_table();
	self_loading_servers_are_verified_only();
	ports_by_endpoint_name();
	a_kind_fills_the_recipe();
	explicit_settings_win();
	a_socket_reaches_the_command();
	verify_only_kinds();
	wrong_kinds_are_refused();
	the_dump_reads_back();
	cases_end();
	return tap_done();
}
