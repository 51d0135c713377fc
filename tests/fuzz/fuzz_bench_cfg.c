/* Fuzz target: bench YAML (configs/benches/) through libcyaml and the HAL's validation. */
#include "hal/bench_cfg.h"

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
	struct mtb_bench_cfg *cfg = NULL;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_bench_cfg_parse(text, size, "fuzz", &cfg, &eb) == MTB_OK) {
		/* A bench that loads is consistent: devices point at buses and points that exist. */
		for (int i = 0; i < cfg->n_devices; i++) {
			const struct mtb_device_cfg *d = &cfg->devices[i];
			if (d->cls != MTB_DEV_BALANCE && (d->bus < 0 || d->bus >= cfg->n_buses))
				abort();
		}
		for (int i = 0; i < cfg->n_safe; i++)
			if (!cfg->devices[cfg->safe_state[i].device].points[cfg->safe_state[i].point].writable)
				abort();
	} else if (eb.msg[0] == '\0') {
		abort();   /* every refusal must say why */
	}
	mtb_bench_cfg_destroy(cfg);
	free(text);
	return 0;
}
