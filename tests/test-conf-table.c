/*
 * test-conf-table.c - the rows of the configuration (conf-table.c), one
 * per setting, walked: every setting is documented in certwatch.conf(5),
 * every default passes its own row's check, every field lies in its
 * struct, the dump shows every setting, and the reload methods are the
 * rows they name.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-int.h"
#include "kinds.h"
#include "key-type.h"
#include "../tests/tap.h"
#include "../tests/conf-cases.h"

static const char *const scope_names[_CONF_SCOPE_MAX] = { "global", "service", "endpoint" };
static const size_t scope_sizes[_CONF_SCOPE_MAX] = {
	sizeof(struct conf), sizeof(struct conf_service), sizeof(struct conf_endpoint),
};

static char *read_text(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *m = open_memstream(&buf, &len);
	int ch;

	while (f && m && (ch = fgetc(f)) != EOF)
		fputc(ch, m);
	if (f)
		fclose(f);
	if (m)
		fclose(m);
	return buf;
}

/* An mdoc list item naming the setting: ".It Ic NAME ..." or ".It ..., Ic NAME ...". */
static bool documented(const char *page, const char *name)
{
	char needle[128];
	size_t n;

	n = (size_t)snprintf(needle, sizeof(needle), "Ic %s", name);
	for (const char *p = page; (p = strstr(p, "\n.It ")) != NULL; p++) {
		const char *eol = strchr(p + 1, '\n'), *hit = strstr(p + 1, needle);

		if (hit && (!eol || hit < eol) && (hit[n] == ' ' || hit[n] == '\n' || hit[n] == '\0'))
			return true;
	}
	return false;
}

static void every_setting_is_documented(void)
{
	const char *src = getenv("TESTS_SRCDIR");
	char path[PATH_MAX];
	char *page;

	if (!src) {
		ok(1, "# SKIP TESTS_SRCDIR is not set");
		return;
	}
	snprintf(path, sizeof(path), "%s/../man/certwatch.conf.5", src);
	page = read_text(path);
	ok(page && strlen(page) > 1000, "certwatch.conf(5) is read");
	for (size_t i = 0; page && i < conf_n_rows; i++)
		ok(documented(page, conf_rows[i].name), "setting %s has an entry (.It Ic %s) in "
		   "certwatch.conf(5)", conf_rows[i].name, conf_rows[i].name);
	free(page);
}

static void every_default_passes_its_check(void)
{
	cfg_t *cfg = conf_schema_new(NULL, NULL), *sec[_CONF_SCOPE_MAX] = { cfg };
	char msg[CONF_MAX_MESSAGE];

	ok(cfg && cfg_parse_buf(cfg, "service s { endpoint e { } }") == CFG_SUCCESS,
	   "the schema made from the rows parses a service with an endpoint");
	if (!cfg)
		return;
	sec[CONF_SERVICE] = cfg_getnsec(cfg, "service", 0);
	sec[CONF_ENDPOINT] = sec[CONF_SERVICE] ? cfg_getnsec(sec[CONF_SERVICE], "endpoint", 0) : NULL;
	for (size_t i = 0; sec[CONF_ENDPOINT] && i < conf_n_rows; i++) {
		const struct conf_row *row = &conf_rows[i];
		/* A default is given at the outermost scope of the row. */
		enum conf_scope s = row->where & CONF_IN(CONF_GLOBAL) ? CONF_GLOBAL :
				    row->where & CONF_IN(CONF_SERVICE) ? CONF_SERVICE : CONF_ENDPOINT;
		cfg_opt_t *opt = cfg_getopt(sec[s], row->name);

		if (!row->def)
			continue;
		msg[0] = '\0';
		ok(opt && cfg_opt_size(opt) == 1 && conf_check_value(row, opt, msg, sizeof(msg)) == 0,
		   "the default of %s passes its own check %s", row->name, msg);
	}
	cfg_free(cfg);
}

static void every_field_is_in_its_struct(void)
{
	for (size_t i = 0; i < conf_n_rows; i++) {
		const struct conf_row *row = &conf_rows[i];
		bool in = row->where != 0 && row->type < _CONF_TYPE_MAX;

		for (int s = 0; s < _CONF_SCOPE_MAX; s++)
			if (row->where & CONF_IN(s))
				in = in && row->at[s] < scope_sizes[s];
		ok(in, "setting %s has a type and a field in each of its sections", row->name);
		ok(conf_row_find(row->name) == row, "conf_row_find finds %s's own row", row->name);
	}
	ok(!conf_row_find("bogus") && !conf_row_find(NULL), "conf_row_find of an unknown name is NULL");
}

/* Every setting that a service, with each reload method in turn, can set. */
static const char everything[] =
	"interval = \"2h\"\nsettle = \"1s\"\ntimeout = \"5s\"\npoll-interval = \"1m\"\n"
	"warn-days = 20\ncrit-days = 5\nmax-probes = 4\nstate-dir = \"/var/lib/x\"\n"
	"metrics-file = \"/run/x.prom\"\n"
	"dane-resolver = \"127.0.0.1@5353\"\ndane-trust-anchor = \"/etc/x.key\"\n"
	"service a {\n address = \"192.0.2.1\"\n name = \"a.example\"\n cert = \"/a.pem\"\n"
	" chain = \"/chain.pem\"\n key = \"/a.key\"\n key-type = \"rsa\"\n"
	" reload-command = {\"/usr/bin/true\", \"x\"}\n reload-check = {\"/usr/bin/true\"}\n"
	" reload-timeout = \"10s\"\n verify-timeout = \"20s\"\n max-failures = 2\n"
	" max-reloads-per-hour = 3\n reload-window = \"01:00-02:00\"\n allow-downgrade = true\n"
	" dane = \"yes\"\n dane-override = true\n"
	" pin-sha256 = {\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"}\n"
	" endpoint e { address = \"192.0.2.2\" port = 1 starttls = \"imap\" name = \"e.example\"\n"
	"   cert = \"/e.pem\" chain = \"/e-chain.pem\" key = \"/e.key\" key-type = \"ecdsa\"\n"
	"   dane-name = \"mx.example\" }\n}\n"
	"service b {\n reload-signal = \"HUP\"\n pid-file = \"/run/b.pid\"\n"
	" pid-file-owner = \"nobody\"\n pid-program = \"/usr/sbin/b\"\n"
	" cert = \"/b.pem\"\n key = \"/b.key\"\n endpoint e { port = 2 }\n}\n"
	"service c {\n reload-unit = \"c.service\"\n cert = \"/c.pem\"\n key = \"/c.key\"\n"
	" endpoint e { port = 3 }\n}\n"
	"service d {\n cert = \"/d.pem\"\n key = \"/d.key\"\n endpoint e { port = 4 }\n}\n"
	"service e {\n kind = \"haproxy\"\n control-socket = \"/run/e.sock\"\n cert = \"/e.pem\"\n"
	" key = \"/e.key\"\n endpoint e { port = 5 }\n}\n"
	"service f {\n restart-unit = \"f.service\"\n cert = \"/f.pem\"\n key = \"/f.key\"\n"
	" endpoint e { port = 6 }\n}\n";

static void the_dump_shows_every_setting(void)
{
	static const char *const indents[_CONF_SCOPE_MAX] = { "\n", "\n\t", "\n\t\t" };
	const char *d = new_case("everything");
	struct conf *c = NULL;
	char *dump = NULL, needle[128], dir[PATH_MAX];
	int r;

	/* include-dir, which must exist when named, is the case's own. */
	snprintf(dir, sizeof(dir), "%s/conf.d", d);
	mkdir(dir, 0700);
	put(d, "certwatch.conf", "include-dir = \"%s\"\n%s", dir, everything);
	r = load(d, &c);
	ok(r == 0 && c && c->n_services == 6, "a file that sets every setting loads%s%s",
	   r < 0 ? ": " : "", r < 0 ? err : "");
	if (!c)
		return;
	/* A newline before the first line too: each setting begins a line. */
	{
		char *settings = dump_settings(c);

		if (asprintf(&dump, "\n%s", settings) < 0)
			abort();
		free(settings);
	}
	for (size_t i = 0; i < conf_n_rows; i++) {
		for (int s = 0; s < _CONF_SCOPE_MAX; s++) {
			if (!(conf_rows[i].where & CONF_IN(s)))
				continue;
			snprintf(needle, sizeof(needle), "%s%s = ", indents[s], conf_rows[i].name);
			like(dump, needle, "the dump shows %s in the %s section", conf_rows[i].name,
			     scope_names[s]);
		}
	}
	ok(c->services[0].reload_method == RELOAD_METHOD_COMMAND &&
	   c->services[1].reload_method == RELOAD_METHOD_SIGNAL &&
	   c->services[2].reload_method == RELOAD_METHOD_UNIT &&
	   c->services[3].reload_method == RELOAD_METHOD_NONE &&
	   c->services[4].reload_method == RELOAD_METHOD_HAPROXY &&
	   c->services[5].reload_method == RELOAD_METHOD_RESTART,
	   "the loader sets each service's reload method from the setting present, or the kind");
	free(dump);
	conf_free(c);
}

static void reload_methods_name_their_rows(void)
{
	ok(reload_method_setting(RELOAD_METHOD_NONE) == NULL &&
	   reload_method_setting(_RELOAD_METHOD_MAX) == NULL,
	   "no setting selects RELOAD_METHOD_NONE, nor a value out of range");
	for (int m = RELOAD_METHOD_NONE + 1; m < _RELOAD_METHOD_MAX; m++) {
		const char *name = reload_method_setting((enum reload_method)m);
		const char *kind = NULL;

		for (size_t k = 0; k < kinds_n && !kind; k++)
			if (kinds[k].method == (enum reload_method)m)
				kind = kinds[k].name;
		if (!name) {
			ok(kind != NULL, "reload method %d, which no setting selects, is a kind's (%s)",
			   m, kind ? kind : "none");
			continue;
		}
		ok(conf_row_find(name) && conf_reload_method_of(name) == (enum reload_method)m,
		   "reload method %d is selected by the setting %s, a row", m, name);
	}
	ok(conf_reload_method_of("reload-check") == RELOAD_METHOD_NONE,
	   "reload-check selects no method");
}

static void key_type_names(void)
{
	ok(key_type_from_string("rsa") == KEY_TYPE_RSA && key_type_from_string("ecdsa") ==
	   KEY_TYPE_ECDSA && key_type_from_string("any") == KEY_TYPE_ANY,
	   "key types are read by name");
	ok(key_type_from_string("RSA") == -EINVAL && key_type_from_string(NULL) == -EINVAL,
	   "an unknown key type is -EINVAL");
	is_str(key_type_to_string(_KEY_TYPE_MAX), "?", "a key type out of range prints as ?");
}

int main(void)
{
	if (!cases_begin("test-conf-table"))
		return 99;
	every_setting_is_documented();
	every_default_passes_its_check();
	every_field_is_in_its_struct();
	the_dump_shows_every_setting();
	reload_methods_name_their_rows();
	key_type_names();
	cases_end();
	return tap_done();
}
