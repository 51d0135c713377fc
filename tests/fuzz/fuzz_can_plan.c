/* Fuzz target: can plans (bench/can_plan.h) and the detection of `kind: can`. */
#include "bench/can_plan.h"

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
	(void)mtb_can_plan_detect(text, size);
	struct mtb_can_plan_file p;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_can_plan_parse(text, size, "fuzz", &p, &eb) == MTB_OK) {
		if (p.plan.runs < 1 || p.plan.runs > MTB_CAN_MAX_RUNS || !(p.plan.fill_flow_lps > 0) || !(p.plan.poll_s > 0) ||
		    !(p.plan.stable_timeout_s > 0) || p.plan.meniscus_tries < 1 || !p.vessel_name[0] || !p.serial[0])
			abort();   /* what the procedure refuses must never come out of the parser */
	} else if (eb.msg[0] == '\0') {
		abort();   /* every refusal says why */
	}
	free(text);
	return 0;
}
