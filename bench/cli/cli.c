#include "cli.h"

#include "core/decimal.h"
#include "core/err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mtb_cli_error(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* One line: the contract's error format is line-oriented. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "meterbench: %s\n", msg);
	return code;
}

const struct mtb_cli_command *mtb_cli_find(const char *name)
{
	for (const struct mtb_cli_command *c = mtb_cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int mtb_cli_parse(const char *cmd, int argc, char **argv, struct mtb_cli_opt *opts,
		  const char **pos, int max_pos, int *n_pos)
{
	*n_pos = 0;
	bool only_pos = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (*n_pos >= max_pos)
				return mtb_cli_error(MTB_EXIT_USAGE, "%s: unexpected argument '%s'", cmd, a);
			pos[(*n_pos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (a[1] != '-')
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: unknown option '%s'", cmd, a);
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		struct mtb_cli_opt *o = NULL;
		for (struct mtb_cli_opt *p = opts; p->name; p++)
			if (strlen(p->name) == nlen && strncmp(p->name, name, nlen) == 0)
				o = p;
		if (!o)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: unknown option '--%.*s' (see: meterbench help %s)",
					     cmd, (int)nlen, name, cmd);
		if (o->value)
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: option '--%s' given twice", cmd, o->name);
		if (!o->takes_value) {
			if (eq)
				return mtb_cli_error(MTB_EXIT_USAGE, "%s: option '--%s' takes no value", cmd, o->name);
			o->value = "";
			continue;
		}
		if (eq) {
			o->value = eq + 1;
		} else {
			if (i + 1 >= argc)
				return mtb_cli_error(MTB_EXIT_USAGE, "%s: option '--%s' needs a value", cmd, o->name);
			o->value = argv[++i];
		}
	}
	return MTB_EXIT_OK;
}

const char *mtb_cli_get(const struct mtb_cli_opt *opts, const char *name)
{
	for (const struct mtb_cli_opt *p = opts; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p->value;
	return NULL;
}

int mtb_cli_double(const char *cmd, const char *name, const char *text, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --%s: not a number: '%s'", cmd, name, text);
	*out = v;
	return MTB_EXIT_OK;
}

int mtb_cli_decimal(const char *cmd, const char *name, const char *text, unsigned scale, int64_t *out)
{
	int rc = mtb_decimal_parse(text, scale, out);
	if (rc == MTB_ERR_RANGE)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --%s: number too large: '%s'", cmd, name, text);
	if (rc != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --%s: not a decimal number: '%s'", cmd, name, text);
	return MTB_EXIT_OK;
}
