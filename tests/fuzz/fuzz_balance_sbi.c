/* Fuzz target: the Sartorius SBI frame parser (hal/balance_sbi.h): the frame taken apart, the
 * mass read in each unit, and the whole reading. */
#include "hal/balance_sbi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtb_balance_reading r;
	const char *why = NULL;
	int rc = mtb_balance_parse_sbi((const char *)data, size, &r, &why);
	if (rc != MTB_OK && !why)
		abort();   /* every refusal says why */
	if (rc == MTB_OK && (!r.stable || r.mass_mg > 100000000000000LL || r.mass_mg < -100000000000000LL))
		abort();   /* 8 columns of value cannot exceed 99 999 999 kg (10^14 mg) */
	struct mtb_sbi_frame f;
	why = NULL;
	int frc = mtb_balance_sbi_frame((const char *)data, size, &f, &why);
	if (frc != MTB_OK && !why)
		abort();
	if (frc == MTB_OK) {
		if (strlen(f.value) == 0 || strlen(f.value) > 9 || f.decimals < 0 || f.decimals > 7)
			abort();
		/* a frame with its unit is exactly the stable reading */
		if ((f.unit[0] != '\0') != (rc == MTB_OK))
			abort();
		static const char *const units[] = { "mg", "g", "kg" };
		for (int i = 0; i < 3; i++) {
			int64_t mg;
			if (mtb_balance_sbi_mass_mg(&f, units[i], &mg) == MTB_OK && strcmp(units[i], f.unit) == 0 && mg != r.mass_mg)
				abort();
		}
	} else if (frc != rc) {
		abort();   /* the two agree on every refusal */
	}
	return 0;
}
