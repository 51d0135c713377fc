/* meterbench command line: shared pieces of the subcommands. Exit codes (CONTRACTS.md):
 * 0 success, 1 the work failed, 2 bad usage or bad input. Errors are one line on stderr:
 * "meterbench: <what>: <why>". */
#ifndef MTB_CLI_H
#define MTB_CLI_H

#include <stdbool.h>
#include <stdint.h>

enum { MTB_EXIT_OK = 0, MTB_EXIT_FAIL = 1, MTB_EXIT_USAGE = 2 };

struct mtb_cli_command {
	const char *name;
	const char *summary;          /* one line for `meterbench help` */
	const char *usage;            /* full text for `meterbench help NAME` */
	int (*run)(int argc, char **argv);   /* argv[0] is the command name */
};

/* The registry (commands.c), terminated by a zero entry. */
extern const struct mtb_cli_command mtb_cli_commands[];
const struct mtb_cli_command *mtb_cli_find(const char *name);

/* Prints "meterbench: <what>: <why>" to stderr; returns code. */
int mtb_cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Options of the form --name VALUE or --name=VALUE, and bare --flag. */
struct mtb_cli_opt {
	const char *name;          /* without the dashes */
	bool takes_value;
	const char *value;         /* set by mtb_cli_parse; "" for a flag that was given */
};

/* Parses argv[1..] against opts; positional arguments go to pos (up to max_pos), their count to
 * *n_pos. Unknown option, missing value, repeated option: prints the error, returns 2. */
int mtb_cli_parse(const char *cmd, int argc, char **argv, struct mtb_cli_opt *opts,
		  const char **pos, int max_pos, int *n_pos);

/* The option's value or NULL. */
const char *mtb_cli_get(const struct mtb_cli_opt *opts, const char *name);

/* Numeric option values; on bad text print "meterbench: CMD: --NAME: ..." and return 2. */
int mtb_cli_double(const char *cmd, const char *name, const char *text, double *out);
int mtb_cli_decimal(const char *cmd, const char *name, const char *text, unsigned scale, int64_t *out);

#endif
