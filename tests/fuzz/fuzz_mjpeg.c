/* Fuzz target: the MJPEG multipart part parser (hal/http_parse.h). The first input byte picks
 * the boundary among a few, the rest is the stream; parts are taken one after another. */
#include "hal/http_parse.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const boundaries[] = { "frame", "--myboundary", "x", "BoundaryString" };
	if (size == 0)
		return 0;
	const char *b = boundaries[data[0] % 4];
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	for (int parts = 0; parts < 64; parts++) {
		struct mtb_mjpeg_part part;
		const char *why = NULL;
		int rc = mtb_mjpeg_part_parse(p, n, b, &part, &why);
		if (rc != MTB_OK) {
			if (rc < 0 && !why)
				abort();
			break;
		}
		if (part.body_off + part.body_len > n || part.consumed > n || part.consumed == 0)
			abort();
		p += part.consumed;
		n -= part.consumed;
	}
	return 0;
}
