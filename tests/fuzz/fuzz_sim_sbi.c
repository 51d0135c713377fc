/* Fuzz target: the simulated balance's SBI side (sim/sim_sbi.h): the command framing and the
 * replies. The first 8 bytes pick the indication (gross, stability, step, ID form), the rest is
 * the byte stream the balance receives. */
#include "hal/balance_sbi.h"
#include "sim/sim_sbi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtb_sim_balance_now now = { 3000000, true, 32e6, 100 };
	bool id = false;
	if (size >= 8) {
		int32_t g;
		memcpy(&g, data, 4);
		now.gross_mg = (double)g * 16;
		now.stable = data[4] & 1;
		id = data[4] & 2;
		static const int64_t steps[] = { 1, 10, 100, 1000 };
		now.step_mg = steps[data[5] & 3];
		data += 8;
		size -= 8;
	}
	struct mtb_sim_sbi_rx rx;
	memset(&rx, 0, sizeof rx);
	struct mtb_sim_sbi_state st;
	memset(&st, 0, sizeof st);
	for (size_t i = 0; i < size; i++) {
		char cmd[32];
		if (!mtb_sim_sbi_feed(&rx, (char)data[i], cmd, sizeof cmd))
			continue;
		if (cmd[0] == '\0' || strlen(cmd) >= sizeof rx.buf)
			abort();   /* a command is never empty nor longer than the framing holds */
		char out[64];
		size_t n = mtb_sim_sbi_reply(cmd, &now, &st, id, out, sizeof out);
		if (n >= sizeof out || strlen(out) != n)
			abort();
		if (strcmp(cmd, "P") != 0) {
			if (n != 0)
				abort();   /* only a print is answered */
			continue;
		}
		/* every print is a frame the bench's parser takes apart (a value, or H / L) */
		struct mtb_sbi_frame f;
		const char *why = NULL;
		int rc = mtb_balance_sbi_frame(out, n, &f, &why);
		if (n != (id ? 20u : 14u) || (rc != MTB_OK && rc != MTB_ERR_RANGE))
			abort();
	}
	return 0;
}
