/*
 * pair-format.c - the names of enum pair_format, as the configuration and
 * the reports write them.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pair-format.h"

static const char *const pair_format_names[_PAIR_FORMAT_MAX] = {
	[PAIR_FORMAT_PEM]                 = "pem",
	[PAIR_FORMAT_POSTFIX_CHAIN_FILES] = "postfix-chain-files",
};

const char *pair_format_to_string(enum pair_format f)
{
	return (unsigned)f < _PAIR_FORMAT_MAX ? pair_format_names[f] : "?";
}

int pair_format_from_string(const char *s)
{
	for (int i = 0; s && i < _PAIR_FORMAT_MAX; i++)
		if (strcmp(s, pair_format_names[i]) == 0)
			return i;
	return -EINVAL;
}
