#include "core/config.h"

#include "core/yaml_load.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MTB_SOURCE_CONFIG_DIR
#define MTB_SOURCE_CONFIG_DIR "configs"
#endif

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

int mtb_config_find(const char *kind, const char *path_or_name, char *out, size_t out_len,
		    struct mtb_errbuf *eb)
{
	if (!path_or_name || !*path_or_name)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "empty %s name", kind);
	if (strchr(path_or_name, '/') || ends_with(path_or_name, ".yaml") || ends_with(path_or_name, ".yml")) {
		if ((size_t)snprintf(out, out_len, "%s", path_or_name) >= out_len)
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "path too long: %s", path_or_name);
		return MTB_OK;
	}
	if (!valid_name(path_or_name))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "not a valid %s name: '%s'", kind, path_or_name);

	const char *env = getenv("MTB_CONFIG_DIR");
	const char *roots[] = { env, "configs", MTB_SOURCE_CONFIG_DIR };
	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		if (!roots[i] || !*roots[i])
			continue;
		if ((size_t)snprintf(out, out_len, "%s/%s/%s.yaml", roots[i], kind, path_or_name) >= out_len)
			continue;
		if (access(out, R_OK) == 0)
			return MTB_OK;
	}
	return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "no %s named '%s' (looked in $MTB_CONFIG_DIR, ./configs and %s)",
			      kind, path_or_name, MTB_SOURCE_CONFIG_DIR);
}

int mtb_config_read(const char *kind, const char *path_or_name, char *path, size_t path_len, char **buf,
		    size_t *len, struct mtb_errbuf *eb)
{
	int rc = mtb_config_find(kind, path_or_name, path, path_len, eb);
	if (rc != MTB_OK)
		return rc;
	return mtb_file_read(path, MTB_YAML_MAX_BYTES, buf, len, eb);
}
