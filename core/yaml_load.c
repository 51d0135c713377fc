#include "core/yaml_load.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libcyaml reports one failure as several ERROR-level log calls: the reason first
 * ("Load: Invalid FLOAT value: 'abc'"), then a backtrace from the innermost field
 * outwards ("  in mapping field 'q3_m3h' (line: 3, column: 9)"). We keep the reason and the
 * innermost field. */
struct capture {
	char reason[256];
	char field[128];
	int line;
	bool have_reason, have_field;
};

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	struct capture *c = ctx;
	if (level < CYAML_LOG_ERROR)
		return;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, args);
	trim(msg);
	const char *m = msg;
	while (*m == ' ')
		m++;
	if (strncmp(m, "Load: ", 6) == 0)
		m += 6;
	if (strncmp(m, "Backtrace:", 10) == 0 || *m == '\0')
		return;

	const char *in = strstr(m, "in mapping field '");
	if (!in)
		in = strstr(m, "in sequence entry");
	if (in == m) {
		if (!c->have_field) {
			const char *q = strchr(m, '\'');
			if (q) {
				const char *e = strchr(q + 1, '\'');
				size_t n = e ? (size_t)(e - q - 1) : strlen(q + 1);
				if (n >= sizeof c->field)
					n = sizeof c->field - 1;
				memcpy(c->field, q + 1, n);
				c->field[n] = '\0';
				c->have_field = true;
			}
			const char *l = strstr(m, "(line: ");
			if (l)
				c->line = atoi(l + 7);
			if (!c->field[0] && c->line)
				c->have_field = true; /* a sequence entry: keep its line */
		}
		return;
	}
	if (!c->have_reason) {
		snprintf(c->reason, sizeof c->reason, "%s", m);
		c->have_reason = true;
	}
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char b = s[i];
		size_t k;
		if (b == 0)
			return false;
		if (b < 0x80)
			k = 0;
		else if ((b & 0xE0) == 0xC0 && b >= 0xC2)
			k = 1;
		else if ((b & 0xF0) == 0xE0)
			k = 2;
		else if ((b & 0xF8) == 0xF0 && b <= 0xF4)
			k = 3;
		else
			return false;
		for (size_t j = 1; j <= k; j++)
			if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

int mtb_yaml_load_data(const char *data, size_t len, const cyaml_schema_value_t *schema,
		       void **out, struct mtb_errbuf *eb)
{
	*out = NULL;
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	if (i == len)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "file is empty");
	if (len > MTB_YAML_MAX_BYTES)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "file is larger than %u bytes", MTB_YAML_MAX_BYTES);
	if (!valid_utf8((const unsigned char *)data, len))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "not a text file (NUL byte or invalid UTF-8)");

	struct capture cap = { 0 };
	const cyaml_config_t cfg = {
		.log_fn = capture_log,
		.log_ctx = &cap,
		.mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR,
		.flags = CYAML_CFG_DEFAULT | CYAML_CFG_NO_ALIAS,
	};
	cyaml_data_t *obj = NULL;
	cyaml_err_t err = cyaml_load_data((const uint8_t *)data, len, &cfg, schema, &obj, NULL);
	if (err != CYAML_OK) {
		if (obj)
			cyaml_free(&cfg, schema, obj, 0);
		const char *why = cap.have_reason ? cap.reason : cyaml_strerror(err);
		/* Two reasons read better rewritten, with the line found in the text itself. */
		static const char MISSING[] = "Missing required mapping field: ";
		static const char UNKNOWN[] = "Unexpected key: ";
		if (strncmp(why, MISSING, sizeof MISSING - 1) == 0)
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "missing field '%s'", why + sizeof MISSING - 1);
		if (strncmp(why, UNKNOWN, sizeof UNKNOWN - 1) == 0) {
			const char *key = why + sizeof UNKNOWN - 1;
			int line = mtb_yaml_key_line(data, key);
			if (line > 0)
				return mtb_errbuf_set(eb, MTB_ERR_ARG, "line %d: unknown field '%s'", line, key);
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "unknown field '%s'", key);
		}
		if (cap.field[0] && cap.line)
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "line %d: field '%s': %s", cap.line, cap.field, why);
		if (cap.field[0])
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "field '%s': %s", cap.field, why);
		if (cap.line)
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "line %d: %s", cap.line, why);
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s", why);
	}
	if (!obj)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "no document");
	*out = obj;
	return MTB_OK;
}

void mtb_yaml_free(const cyaml_schema_value_t *schema, void *data)
{
	if (!data)
		return;
	const cyaml_config_t cfg = { .mem_fn = cyaml_mem, .log_level = CYAML_LOG_ERROR };
	cyaml_free(&cfg, schema, data, 0);
}

int mtb_file_read(const char *path, size_t max_bytes, char **out, size_t *len, struct mtb_errbuf *eb)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return mtb_errbuf_set(eb, errno == ENOENT ? MTB_ERR_NOTFOUND : MTB_ERR_IO,
				      "%s: %s", path, strerror(errno));
	char *buf = malloc(max_bytes + 1);
	if (!buf) {
		fclose(f);
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "%s: out of memory", path);
	}
	size_t n = fread(buf, 1, max_bytes + 1, f);
	bool failed = ferror(f);
	fclose(f);
	if (failed) {
		free(buf);
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: read error", path);
	}
	if (n > max_bytes) {
		free(buf);
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: larger than %zu bytes", path, max_bytes);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return MTB_OK;
}

int mtb_yaml_load_file(const char *path, const cyaml_schema_value_t *schema, void **out,
		       struct mtb_errbuf *eb)
{
	char *buf;
	size_t len;
	*out = NULL;
	int rc = mtb_file_read(path, MTB_YAML_MAX_BYTES, &buf, &len, eb);
	if (rc != MTB_OK)
		return rc;
	rc = mtb_yaml_load_data(buf, len, schema, out, eb);
	free(buf);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "%s", path);
	return MTB_OK;
}

int mtb_yaml_key_line(const char *data, const char *key)
{
	size_t klen = strlen(key);
	int line = 1;
	const char *p = data;
	while (*p) {
		const char *s = p;
		while (*s == ' ' || *s == '\t' || *s == '-')
			s++;
		if (strncmp(s, key, klen) == 0 && s[klen] == ':')
			return line;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
		line++;
	}
	return 0;
}

int mtb_yaml_number(const char *text, double *out)
{
	if (!text || !*text)
		return MTB_ERR_ARG;
	/* Only [+-]digits[.digits][(e|E)[+-]digits]: refuses hex, inf, nan, spaces. */
	const char *p = text;
	if (*p == '+' || *p == '-')
		p++;
	bool digits = false;
	while (*p >= '0' && *p <= '9')
		p++, digits = true;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits = true;
	if (!digits)
		return MTB_ERR_ARG;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return MTB_ERR_ARG;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p)
		return MTB_ERR_ARG;
	errno = 0;
	double v = strtod(text, NULL);
	if (errno == ERANGE || !isfinite(v))
		return MTB_ERR_RANGE;
	*out = v;
	return MTB_OK;
}

int mtb_yaml_integer(const char *text, long *out)
{
	if (!text || !*text)
		return MTB_ERR_ARG;
	const char *p = text;
	if (*p == '+' || *p == '-')
		p++;
	if (!*p)
		return MTB_ERR_ARG;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return MTB_ERR_ARG;
	errno = 0;
	long v = strtol(text, NULL, 10);
	if (errno == ERANGE)
		return MTB_ERR_RANGE;
	*out = v;
	return MTB_OK;
}

int mtb_yaml_field_err(struct mtb_errbuf *eb, const char *data, const char *origin, const char *field,
		       const char *fmt, ...)
{
	char why[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	int line = mtb_yaml_key_line(data, field);
	if (line > 0)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: line %d: field '%s': %s", origin, line, field, why);
	return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: field '%s': %s", origin, field, why);
}
