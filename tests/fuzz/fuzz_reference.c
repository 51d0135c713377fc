/* Fuzz target: reference-standard certificates (configs/references/). */
#include "calibration/reference.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct mtb_reference r;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_reference_parse(text, size, "fuzz", &r, &eb) == MTB_OK) {
		if (r.n_points < 1 || r.n_points > MTB_REF_MAX_POINTS || r.cert_valid_until_day < r.cert_issued_day)
			abort();
		double e, u;
		mtb_reference_error_at(&r, 123.0, &e, &u);
		if (!(u > 0))
			abort();
	} else if (eb.msg[0] == '\0') {
		abort();
	}
	free(text);
	return 0;
}
