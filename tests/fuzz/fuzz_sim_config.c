/* Fuzz target: the simulator configuration parser (configs/sim/). */
#include "sim/sim.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct mtb_sim_config *c = malloc(sizeof *c);
	if (!text || !c) {
		free(text);
		free(c);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_sim_config_parse(text, size, "fuzz", c, &eb) == MTB_OK) {
		if (c->n_meters < 0 || c->n_meters > MTB_SIM_MAX_METERS || (c->n_meters == 0 && !c->has_can))
			abort();   /* meters, a can, or both */
		for (int i = 0; i < c->n_meters; i++)
			for (int j = 1; j < c->meters[i].true_error.n; j++)
				if (!(c->meters[i].true_error.pt[j].flow_lph > c->meters[i].true_error.pt[j - 1].flow_lph))
					abort();
	} else if (eb.msg[0] == '\0') {
		abort();   /* every refusal must say why */
	}
	free(c);
	free(text);
	return 0;
}
