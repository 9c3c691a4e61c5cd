/*
 * cli.c - the layout of --help and the words for a refused option (see
 * cli.h), in one place so that every front end reads alike.
 */
#include "config.h"

#include <string.h>

#include "cli.h"

#define HELP_INDENT 2
#define HELP_COLUMN 24
#define HELP_WIDTH  54    /* of the text: up to column 78 */

/* How much of p goes on one line: up to a '\n', or the last space within the width. */
static size_t line_length(const char *p)
{
	size_t n = strcspn(p, "\n"), cut = 0;

	if (n <= HELP_WIDTH)
		return n;
	for (size_t i = 0; i <= HELP_WIDTH; i++)
		if (p[i] == ' ')
			cut = i;
	return cut ? cut : n;   /* a word longer than a line stays whole */
}

void cli_help_row(FILE *f, const char *label, const char *text)
{
	int width = fprintf(f, "%*s%s", HELP_INDENT, "", label);

	if (width > HELP_COLUMN - 2) {
		fputc('\n', f);
		width = 0;
	}
	do {
		size_t len = line_length(text);

		fprintf(f, "%*s%.*s\n", HELP_COLUMN - width, "", (int)len, text);
		width = 0;
		text += len;
		if (*text == ' ' || *text == '\n')
			text++;
	} while (*text);
}

void cli_help_option(FILE *f, char short_opt, const char *name, const char *arg,
		     const char *text)
{
	char label[64];

	snprintf(label, sizeof(label), "%c%c%c --%s%s%s", short_opt ? '-' : ' ',
		 short_opt ? short_opt : ' ', short_opt ? ',' : ' ', name, arg ? " " : "",
		 arg ? arg : "");
	cli_help_row(f, label, text);
}

void cli_getopt_refusal(int c, int optopt, const char *word, char *out, size_t outlen)
{
	char opt[3] = { '-', (char)optopt, '\0' };
	int len = (int)strcspn(word, "=");

	/* For a long option, optopt is its value, not a letter: name it as written. */
	if (strncmp(word, "--", 2) != 0) {
		word = opt;
		len = 2;
	}
	if (c == ':')
		snprintf(out, outlen, "option %.*s needs a value", len, word);
	else
		snprintf(out, outlen, "unknown option %.*s", len, word);
}
