/* meterbench core: loading a lab's YAML file into a C struct through a libcyaml schema,
 * with one clear error line ("field 'q3_m3h' (line 3): Invalid FLOAT value: 'abc'") instead
 * of libcyaml's multi-line log. Every configuration loader in the project goes through here. */
#ifndef MTB_CORE_YAML_LOAD_H
#define MTB_CORE_YAML_LOAD_H

#include "core/err.h"

#include <cyaml/cyaml.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest configuration file accepted; anything bigger is refused before parsing. */
#define MTB_YAML_MAX_BYTES (4u * 1024 * 1024)

/* Loads `len` bytes of YAML against `schema` (a CYAML_FLAG_POINTER top-level value) into *out.
 * Refuses empty input, NUL bytes and invalid UTF-8 up front. On failure *out is NULL and eb
 * holds "line L: field 'F': reason" (as much of it as is known). Free with mtb_yaml_free. */
int mtb_yaml_load_data(const char *data, size_t len, const cyaml_schema_value_t *schema,
		       void **out, struct mtb_errbuf *eb);

/* Reads a file then mtb_yaml_load_data; eb's message starts with the path. */
int mtb_yaml_load_file(const char *path, const cyaml_schema_value_t *schema, void **out,
		       struct mtb_errbuf *eb);

void mtb_yaml_free(const cyaml_schema_value_t *schema, void *data);

/* Reads a whole file (at most max_bytes) into a NUL-terminated malloc'd buffer. */
int mtb_file_read(const char *path, size_t max_bytes, char **out, size_t *len, struct mtb_errbuf *eb);

/* Strict scalar parsers for numbers held as YAML strings. libcyaml 1.3's own INT and FLOAT
 * readers accept trailing junk ("1.5" as int 1, "2.5x" as 2.5), so every numeric field in a
 * schema is declared as a string and converted here: the whole text must be a plain decimal
 * number (no hex, no inf/nan), finite, and for integers without a fraction. */
int mtb_yaml_number(const char *text, double *out);
int mtb_yaml_integer(const char *text, long *out);

/* A semantic error in a loaded file: "ORIGIN: line L: field 'F': why", the line found in the raw
 * text when the key is there ("ORIGIN: field 'F': why" otherwise). Returns MTB_ERR_ARG. */
int mtb_yaml_field_err(struct mtb_errbuf *eb, const char *data, const char *origin, const char *field,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Line (1-based) of the first "key:" at the start of a line (after indentation) in data, or 0.
 * Lets a loader name the line of a value that parsed but failed a semantic check. */
int mtb_yaml_key_line(const char *data, const char *key);

#ifdef __cplusplus
}
#endif
#endif
