/*
 * check-command.c - `certwatch check` (see check-command.h): check.c does
 * the checking, report.c and metrics.c the printing; this file chooses
 * the items and the format, and turns failures into exit status 3.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "check-command.h"
#include "metrics.h"
#include "report.h"

#define EXIT_UNKNOWN 3

/* The items of the endpoint, or of the configuration; failures said on stderr. */
static int items_for(const struct conf *c, const char *config_path, const char *service,
		     const struct adhoc *endpoint, struct conf **ret_own,
		     struct check_item **ret_items, size_t *ret_n)
{
	int r;

	if (endpoint)
		r = adhoc_items(endpoint, ret_own, ret_items, ret_n);
	else
		r = check_items_from_conf(c, service, ret_items, ret_n);
	if (r == -ENOENT)
		fprintf(stderr, "certwatch: no service \"%s\" in %s; --service takes a name from "
			"its service sections\n", service, config_path);
	else if (r < 0)
		fprintf(stderr, "certwatch: %s\n", strerror(-r));
	return r;
}

int check_command(const struct conf *c, const char *config_path, const char *service,
		  const struct adhoc *endpoint, enum check_format format)
{
	struct conf *own = NULL;      /* the defaults of the endpoint's check */
	struct check_item *items = NULL;
	struct dane_options dane;
	char err[1024] = "";
	size_t n = 0;
	time_t now = time(NULL);
	int r;

	r = items_for(c, config_path, service, endpoint, &own, &items, &n);
	if (r < 0)
		return EXIT_UNKNOWN;
	dane = check_dane_options(own ? own : c);
	r = check_items_run(items, n, (own ? own : c)->max_probes, &dane, now, err, sizeof(err));
	if (err[0])
		fprintf(stderr, "certwatch: %s\n", err);
	if (r < 0)
		fprintf(stderr, "certwatch: the event loop failed: %s\n", strerror(-r));
	else if (format == CHECK_JSON)
		report_json(stdout, items, n, (enum severity)r, now);
	else if (format == CHECK_PROMETHEUS)
		metrics_write(stdout, items, n, NULL, 0);
	else
		report_table(stdout, items, n, now);
	check_items_free(items, n);
	conf_free(own);
	return r < 0 ? EXIT_UNKNOWN : r;
}

void check_command_key_modes(const struct conf *c)
{
	struct check_item *items = NULL;
	time_t now = time(NULL);
	size_t n = 0;

	if (check_items_from_conf(c, NULL, &items, &n) < 0)
		return;
	/* Only the files are looked at: nothing is probed. */
	for (size_t i = 0; i < n; i++)
		check_item_judge(&items[i], now);
	report_key_warnings(stderr, items, n);
	check_items_free(items, n);
}
