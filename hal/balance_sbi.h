/* meterbench hal: the Sartorius SBI output line parser. A pure function (no I/O) with a fuzz
 * target; masses in integer milligrams converted digit by digit (core/decimal.h).
 *
 * SBI data output (cans-and-audit-notes 1.6, [C] from the Sartorius manuals): a 16-character
 * frame -- position 1 the sign ('+', '-' or space), 2 a space or a bracket, 3-10 the value with
 * its decimal point (leading zeros sent as spaces), 11 a space or a bracket, 12-14 the unit or
 * spaces, 15-16 CR LF, e.g. "+  123.56 g  \r\n"; the 22-character form puts a 6-character ID
 * ("N     ", "G#    ", "T     ") in front. Brackets mark digits not verified in legal-for-trade
 * mode: the value still stands. Special displays: "H"/"HH" overload, "L"/"LL" underload, "C"
 * adjustment running, "Err ##" an error. A blank unit while the weight moves is [U]: such a
 * frame is refused as unstable (a reading is never taken without its unit). */
#ifndef MTB_HAL_BALANCE_SBI_H
#define MTB_HAL_BALANCE_SBI_H

#include "hal/balance_parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One value frame taken apart, before any unit is applied. */
struct mtb_sbi_frame {
	char id[8];         /* the 22-character form's ID without its trailing spaces ("N", "G#"); "" */
	char value[12];     /* the signed value as sent, without spaces: "-123.56", "20000.0" */
	int decimals;       /* digits after the point */
	char unit[4];       /* "mg", "g" or "kg"; "" when the balance sent none (moving) */
};

/* Takes a frame apart: MTB_OK for a value frame (with or without its unit); MTB_ERR_RANGE,
 * MTB_ERR_REFUSED and MTB_ERR_PROTO as for mtb_balance_parse_sbi except that a frame without a
 * unit is MTB_OK with unit "". An unknown unit is MTB_ERR_PROTO. */
int mtb_balance_sbi_frame(const char *line, size_t len, struct mtb_sbi_frame *out, const char **why);

/* The frame's value read in `unit` (mg, g, kg), in integer milligrams digit by digit:
 * MTB_OK, or MTB_ERR_PROTO for an unknown unit or a value beyond int64. */
int mtb_balance_sbi_mass_mg(const struct mtb_sbi_frame *f, const char *unit, int64_t *mass_mg);

/* MTB_OK with *out (stable: the unit was sent); MTB_ERR_RANGE for overload/underload;
 * MTB_ERR_REFUSED for adjustment, an error display or a moving (unit-less) frame;
 * MTB_ERR_PROTO for anything that is not an SBI frame. The trailing CR LF may be absent.
 * why (may be NULL) receives a short static reason. */
int mtb_balance_parse_sbi(const char *line, size_t len, struct mtb_balance_reading *out, const char **why);

#ifdef __cplusplus
}
#endif
#endif
