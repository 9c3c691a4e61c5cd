/*
 * pair-format.c - the names of enum pair_format, as the configuration and
 * the reports write them.
 */
#include "config.h"

#include "pair-format.h"
#include "util.h"

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
	return name_index(pair_format_names, _PAIR_FORMAT_MAX, s);
}
