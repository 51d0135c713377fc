/* meterbench core: where configuration files are found. */
#ifndef MTB_CORE_CONFIG_H
#define MTB_CORE_CONFIG_H

#include "core/err.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Resolves a configuration of `kind` ("types", "jurisdictions", "benches", ...) given as a
 * path or a bare name. A path (it has a '/' or ends in .yaml/.yml) is used as it is. A name is
 * looked up as KIND/NAME.yaml under $MTB_CONFIG_DIR, then ./configs, then the source tree's
 * configs folder. MTB_ERR_NOTFOUND (with the places tried) when nothing matches. */
int mtb_config_find(const char *kind, const char *path_or_name, char *out, size_t out_len,
		    struct mtb_errbuf *eb);

/* mtb_config_find, then reads the file (at most MTB_YAML_MAX_BYTES) into a NUL-terminated
 * malloc'd buffer; path receives the file that was read (for error messages). */
int mtb_config_read(const char *kind, const char *path_or_name, char *path, size_t path_len, char **buf,
		    size_t *len, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
