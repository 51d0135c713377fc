/* Fuzz target: register layout YAML (configs/layouts/) through libcyaml and our validation. */
#include "vision/layout.h"

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
	struct mtb_layout l;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_layout_parse(text, size, "fuzz", &l, &eb) == MTB_OK) {
		/* A layout that loads is one decade chain with at least one roller. */
		int n = mtb_layout_elements(&l);
		if (l.n_rollers < 1 || l.finest_ul < 1 || l.range_ul != 10 * mtb_layout_weight_ul(&l, 0))
			abort();
		for (int i = 0; i + 1 < n; i++)
			if (mtb_layout_weight_ul(&l, i) != 10 * mtb_layout_weight_ul(&l, i + 1))
				abort();
		double p = mtb_layout_position(&l, n - 1, l.range_ul - 1);
		if (!(p >= 0 && p < 10))
			abort();
	} else if (eb.msg[0] == '\0') {
		abort();   /* every refusal must say why */
	}
	free(text);
	return 0;
}
