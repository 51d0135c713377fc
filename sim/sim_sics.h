/* meterbench sim: the simulated balance's side of MT-SICS (level 0 and the T command): one
 * command line in, one reply line out. Pure: the balance's indication at this instant and its
 * zero and tare are handed in, so it is unit-tested and fuzzed (tests/fuzz/fuzz_sim_sics.c).
 *
 * Commands (METTLER TOLEDO MT-SICS reference manual, level 0/1 [C2]):
 *   S   stable weight: "S S <value> g"; "S I" when not stable now (a real balance waits up to
 *       its timeout for stability, then answers "S I"; here the wait is left to the client)
 *   SI  weight now: "S S" stable or "S D" dynamic
 *   Z   zero: "Z A" done, "Z I" not stable, "Z +"/"Z -" outside the zero range
 *   T   tare: "T S <tare> g", "T I" not stable, "T +"/"T -"
 *   @   reset (tare cleared): "I4 A \"<serial>\""; I4 serial number
 *   anything else "ES" (syntax error)
 * Above capacity the weight commands answer "S +", below the zero point by more than 2 % of
 * the capacity "S -". The value is the net weight (gross - zero - tare) in the balance's steps,
 * right-aligned in 10 characters, in grams with the step's decimals. */
#ifndef MTB_SIM_SICS_H
#define MTB_SIM_SICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_sim_balance_now {
	double gross_mg;         /* what the load cell shows, conventional mass */
	bool stable;
	double capacity_mg;
	int64_t step_mg;         /* 1, 10, 100, 1000 ... */
};

struct mtb_sim_balance_state {
	double zero_mg;          /* gross at the last Z */
	double tare_mg;          /* net weight taken off by the last T */
};

/* Serial number the balance reports (I4). */
#define MTB_SIM_BALANCE_SERIAL "SIMBAL-0001"

/* Answers one command line (CR/LF already removed; at most 64 characters are a command) into
 * out (without CR LF), NUL-terminated; returns its length. cap must be at least 48. */
size_t mtb_sim_sics_reply(const char *line, size_t len, const struct mtb_sim_balance_now *now,
			  struct mtb_sim_balance_state *st, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
