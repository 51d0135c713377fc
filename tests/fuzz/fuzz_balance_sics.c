/* Fuzz target: the balance's sics reply parser (hal/balance_parse.h). */
#include "hal/balance_parse.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtb_balance_reading r;
	const char *why = NULL;
	int rc = mtb_balance_parse_sics((const char *)data, size, &r, &why);
	if (rc != MTB_OK && !why)
		abort();   /* every refusal says why */
	return 0;
}
