/* Fuzz target: the simulated balance's MT-SICS command handling (sim/sim_sics.h). The first 8
 * bytes pick the indication (gross, stability, step), the rest is the command line. */
#include "sim/sim_sics.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtb_sim_balance_now now = { 3000000, true, 32e6, 100 };
	if (size >= 8) {
		int32_t g;
		memcpy(&g, data, 4);
		now.gross_mg = (double)g * 16;
		now.stable = data[4] & 1;
		static const int64_t steps[] = { 1, 10, 100, 1000 };
		now.step_mg = steps[data[5] & 3];
		data += 8;
		size -= 8;
	}
	struct mtb_sim_balance_state st = { 0, 0 };
	char out[64];
	size_t n = mtb_sim_sics_reply((const char *)data, size, &now, &st, out, sizeof out);
	if (n == 0 || n >= sizeof out || strlen(out) != n)
		abort();   /* every line gets exactly one reply line */
	return 0;
}
