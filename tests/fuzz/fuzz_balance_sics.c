/* Fuzz target: the balance's SICS reply parsers (hal/balance_parse.h): weight, tare, zero. */
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
	int64_t tare_mg;
	why = NULL;
	if (mtb_balance_parse_sics_tare((const char *)data, size, &tare_mg, &why) != MTB_OK && !why)
		abort();
	why = NULL;
	if (mtb_balance_parse_sics_zero((const char *)data, size, &why) != MTB_OK && !why)
		abort();
	return 0;
}
