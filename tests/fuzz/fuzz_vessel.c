/* Fuzz target: vessel-type YAML (configs/vessels/) through libcyaml and our validation. */
#include "calibration/vessel.h"

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
	struct mtb_vessel v;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_vessel_parse(text, size, "fuzz", &v, &eb) == MTB_OK) {
		/* A vessel that loads is self-consistent: a readable scale, a positive MPE, a can whose
		 * nominal line is its nominal volume. */
		if (v.scale.division_ul < 1 || v.scale.divisions < 1 || v.scale.nominal_div > v.scale.divisions ||
		    mtb_vessel_mpe_ul(&v) < 1 || !(v.gamma_per_k > 0) || !(v.u_ratio_max > 0))
			abort();
		if (v.kind == MTB_VESSEL_CAN && mtb_vessel_nominal_line_ul(&v) != v.nominal_ul)
			abort();
		(void)mtb_vessel_judge(&v, INT64_MAX / 2, INT64_MAX / 2);
	} else if (eb.msg[0] == '\0') {
		abort();   /* every refusal must say why */
	}
	free(text);
	return 0;
}
