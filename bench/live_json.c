/* The live view's JSON event writer (bench/live_json.h). */
#include "bench/live_json.h"

#include "core/json.h"

#include <stdlib.h>

FILE *mtb_lj_begin(char **buf, size_t *len, const char *type)
{
	FILE *f = open_memstream(buf, len);
	if (f)
		fprintf(f, "{\"type\":\"%s\"", type);
	return f;
}

char *mtb_lj_end(FILE *f, char **buf)
{
	if (!f)
		return NULL;
	fputc('}', f);
	if (fclose(f) != 0) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

void mtb_lj_str(FILE *f, const char *key, const char *v)
{
	fprintf(f, ",\"%s\":", key);
	mtb_json_string(f, v ? v : "");
}

void mtb_lj_dbl(FILE *f, const char *key, double v)
{
	fprintf(f, ",\"%s\":", key);
	mtb_json_double(f, v);
}

void mtb_lj_fix(FILE *f, const char *key, int64_t v, unsigned scale)
{
	fprintf(f, ",\"%s\":", key);
	mtb_json_fixed(f, v, scale);
}
