/* Fuzz target: the HTTP response head parser of the camera driver (hal/http_parse.h). */
#include "hal/http_parse.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtb_http_head h;
	const char *why = NULL;
	int rc = mtb_http_head_parse((const char *)data, size, &h, &why);
	if (rc == MTB_OK && (h.head_len == 0 || h.head_len > size))
		abort();
	if (rc < 0 && !why)
		abort();
	return 0;
}
