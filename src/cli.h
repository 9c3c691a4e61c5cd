/*
 * cli.h - what certwatch's command-line front ends (the commands of
 * main.c and the plugin of nagios.c) share beyond the endpoint options of
 * adhoc.h: the layout of --help, and the words for an option that
 * getopt_long refused.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

/*
 * One entry of --help: the label indented by two, the text from column 24
 * (on the next line when the label is longer), wrapped at spaces to end
 * by column 78; a '\n' in the text starts another line.
 */
void cli_help_row(FILE *f, const char *label, const char *text);

/* An option's entry: "-s, --service NAME", or "    --json" without a short form. */
void cli_help_option(FILE *f, char short_opt, const char *name, const char *arg,
		     const char *text);

/*
 * What getopt_long's '?' or ':' (the optstring starting with ':', opterr 0)
 * means, in words: "unknown option --frob", "option -p needs a value".
 * optopt and word are getopt's optopt and argv[optind - 1].
 */
void cli_getopt_refusal(int c, int optopt, const char *word, char *out, size_t outlen);
