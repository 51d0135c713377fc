/* Fuzz target: verification plans (configs/plans/). */
#include "bench/plan.h"

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
	struct mtb_plan p;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_plan_parse(text, size, "fuzz", &p, &eb) == MTB_OK) {
		if (p.n_meters < 1 || p.n_points < 1)
			abort();
		for (int i = 0; i < p.n_points; i++)
			if (!(p.points[i].min_lph <= p.points[i].flow_lph && p.points[i].flow_lph <= p.points[i].max_lph))
				abort();
	} else if (eb.msg[0] == '\0') {
		abort();
	}
	free(text);
	return 0;
}
