/*
 * tlsa-tool.c - "certwatch tlsa" for tests/tlsa-cmd.sh while the command
 * line has no tlsa verb yet: runs tlsa_main() with its own arguments.
 */
#include "config.h"

#include "tlsa-cmd.h"

int main(int argc, char **argv)
{
	argv[0] = (char *)"tlsa";
	return tlsa_main(argc, argv);
}
