/* Fuzz target: meter-type YAML (configs/types/) through libcyaml and our validation. */
#include "calibration/meter_type.h"

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
	struct mtb_meter_type t;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_meter_type_parse(text, size, "fuzz", &t, &eb) == MTB_OK) {
		/* A type that loads is self-consistent: the zones are in order. */
		if (!(t.flow.q1_lph < t.flow.q2_lph && t.flow.q2_lph < t.flow.q3_lph && t.flow.q3_lph <= t.flow.q4_lph))
			abort();
	} else if (eb.msg[0] == '\0') {
		abort();   /* every refusal must say why */
	}
	free(text);
	return 0;
}
