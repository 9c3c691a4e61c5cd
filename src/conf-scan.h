/*
 * conf-scan.h - the comment scanner that conf.c runs over each
 * configuration file before libconfuse parses it (why: conf-scan.c).
 * Not an API: the public interface is conf.h.
 */
#pragma once

#include <stddef.h>

/* Where a service or endpoint section begins. */
struct conf_scan_header {
	unsigned line;
	size_t service;          /* for an endpoint: its service's index */
};

struct conf_scan {
	struct conf_scan_header *services, *endpoints;
	size_t n_services, n_endpoints;
	unsigned warn_days_line, crit_days_line;
	unsigned include_dir_line, metrics_file_line;
	unsigned unclosed_line;  /* a section still open at the end of the file */
	unsigned open_string_line;       /* a string still open at the end of the file */
	unsigned multiline_string_line;  /* the first string that runs over a line end */
	char open_string_quote, multiline_string_quote;   /* their quotes: '"' or '\'' */
	unsigned open_line;      /* the top-level section being scanned */
};

/*
 * Blanks every comment in buf[0..len) with spaces, keeping its newlines,
 * and notes where each service and endpoint begins and on which lines
 * warn-days and crit-days are set.  Returns 0 and *ret (free it with
 * conf_scan_free()), or -ENOMEM; buf may be partly blanked on failure.
 */
int conf_scan_config(char *buf, size_t len, struct conf_scan *ret);

void conf_scan_free(struct conf_scan *sc);

struct conf_errors;

/*
 * Reports the string the scan found still open at the end of file: the
 * quote is what is missing, most likely at the end of the first string
 * that runs over a line end before it, else before the end of the file.
 */
void conf_scan_report_open_string(const struct conf_scan *sc, struct conf_errors *e,
				  const char *file);
