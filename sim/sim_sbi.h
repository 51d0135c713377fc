/* meterbench sim: the simulated balance's side of Sartorius SBI: bytes in, commands out, one
 * frame (or nothing) per command. Pure like sim_sics.h: the balance's indication now, and its
 * zero and tare, are handed in; unit-tested and fuzzed (tests/fuzz/fuzz_sim_sbi.c).
 *
 * Input (cans-and-audit-notes 1.6 [C]): format 1 is ESC and one upper-case letter, format 2
 * ESC, a lower-case letter, digits and '_'; CR LF after a command is allowed and ignored.
 *   ESC P  print: one frame now, whether stable or not (the "without stability" menu setting)
 *   ESC T  the TARE key: zero when the load is within 2 % of the capacity of the zero point,
 *          else tare
 *   ESC U  tare, ESC V zero
 *   ESC S  restart: the tare is cleared
 * Tare and zero are not answered. A balance that is not stable holds them and carries them out
 * at the first command that finds it stable. Other commands (adjustment, format 2) are
 * ignored. The frame (16 characters with CR LF, or 22 with the ID "N" net / "G#" gross in
 * front): sign, a space, the net value in grams with the step's decimals right-aligned in 8
 * columns (kg when grams do not fit), a space, the unit in 3 columns -- left blank while the
 * weight moves [U]; "H" above the capacity, "L" more than 2 % of the capacity below the zero
 * point. */
#ifndef MTB_SIM_SBI_H
#define MTB_SIM_SBI_H

#include "sim/sim_sics.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Command framing state (zero-initialised). */
struct mtb_sim_sbi_rx {
	char buf[24];
	size_t len;
	bool in_cmd;
};

/* Feeds one byte; true when it completes a command, then copied without its ESC into cmd
 * (NUL-terminated, cap >= 24). Bytes outside a command and over-long commands are dropped. */
bool mtb_sim_sbi_feed(struct mtb_sim_sbi_rx *rx, char c, char *cmd, size_t cap);

struct mtb_sim_sbi_state {
	struct mtb_sim_balance_state b;   /* zero and tare */
	bool tare_pending, zero_pending;
};

/* Answers one command (as mtb_sim_sbi_feed gave it) into out, NUL-terminated, without CR LF;
 * returns its length, 0 for no answer. id: the 22-character form. cap must be at least 32. */
size_t mtb_sim_sbi_reply(const char *cmd, const struct mtb_sim_balance_now *now, struct mtb_sim_sbi_state *st,
			 bool id, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
