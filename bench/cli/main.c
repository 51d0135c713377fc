/* meterbench: the command line of the automated water-meter and measuring-can test bench. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void print_overview(FILE *f)
{
	fputs("usage: meterbench <command> [options]\n"
	      "       meterbench help [command]\n"
	      "       meterbench --version\n\ncommands:\n", f);
	for (const struct mtb_cli_command *c = mtb_cli_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fputs("\nExit status: 0 success, 1 the work failed, 2 bad usage or bad input.\n", f);
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stdout);
		return MTB_EXIT_OK;
	}
	if (argc > 2)
		return mtb_cli_error(MTB_EXIT_USAGE, "help: takes one command name, got %d", argc - 1);
	const struct mtb_cli_command *c = mtb_cli_find(argv[1]);
	if (!c)
		return mtb_cli_error(MTB_EXIT_USAGE, "help: unknown command '%s'", argv[1]);
	fputs(c->usage, stdout);
	return MTB_EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stderr);
		return MTB_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("meterbench %s\n", MTB_VERSION);
		return MTB_EXIT_OK;
	}
	if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		return cmd_help(argc - 1, argv + 1);
	const struct mtb_cli_command *c = mtb_cli_find(name);
	if (!c)
		return mtb_cli_error(MTB_EXIT_USAGE, "unknown command '%s' (see: meterbench help)", name);
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0) {
			fputs(c->usage, stdout);
			return MTB_EXIT_OK;
		}
	return c->run(argc - 1, argv + 1);
}
