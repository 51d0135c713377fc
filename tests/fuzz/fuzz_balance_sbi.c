/* Fuzz target: the Sartorius SBI frame parser (hal/balance_sbi.h). */
#include "hal/balance_sbi.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtb_balance_reading r;
	const char *why = NULL;
	int rc = mtb_balance_parse_sbi((const char *)data, size, &r, &why);
	if (rc != MTB_OK && !why)
		abort();   /* every refusal says why */
	if (rc == MTB_OK && (!r.stable || r.mass_mg > 100000000000LL || r.mass_mg < -100000000000LL))
		abort();   /* 8 columns of value cannot exceed 99 999 999 kg */
	return 0;
}
