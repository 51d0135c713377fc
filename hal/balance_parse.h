/* meterbench hal: reply parsers of balances on a serial line. Pure functions (no I/O), each with
 * a fuzz target. Masses are integers in milligrams, converted digit by digit (core/decimal.h).
 *
 * SICS (the MT-SICS style command set, level 0): the bench sends "SI\r\n" (weigh immediately)
 * and the balance answers "S S     12.345 kg" (stable) or "S D     12.340 kg" (dynamic);
 * "S I" (busy), "S +" (overload), "S -" (underload), "ES"/"ET"/"EL" (command errors); "T"
 * (tare) answers "T S <tare> g", "T I", "T +"/"T -"; "Z" (zero) "Z A", "Z I", "Z +"/"Z -".
 *
 * Generic line: what many balances print continuously or on a key press: an optional stability
 * header ("ST," stable, "US," unstable, "OL," overload; an optional second header such as
 * "GS," or "NT," after it), then a signed decimal and a unit, e.g. "ST,GS,+0012.345 kg",
 * "   -1.20 g", "+ 0.500 kg". Without a header the reading counts as stable. */
#ifndef MTB_HAL_BALANCE_PARSE_H
#define MTB_HAL_BALANCE_PARSE_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_balance_reading {
	int64_t mass_mg;
	bool stable;
};

/* Units understood: mg, g, kg. MTB_ERR_PROTO for a malformed line, MTB_ERR_RANGE for overload
 * or underload, MTB_ERR_REFUSED for a balance that declined (busy, command error). A trailing
 * CR/LF is allowed; why is a short static reason (may be NULL). */
int mtb_balance_parse_sics(const char *line, size_t len, struct mtb_balance_reading *out, const char **why);
int mtb_balance_parse_line(const char *line, size_t len, struct mtb_balance_reading *out, const char **why);

/* SICS replies to T (tare) and Z (zero): MTB_OK ("T S <tare> <unit>" with *tare_mg, "Z A"),
 * MTB_ERR_REFUSED (not stable: "T I", "Z I"; command errors ES, ET, EL), MTB_ERR_RANGE
 * ("T +", "T -", "Z +", "Z -": outside the tare or zero range), MTB_ERR_PROTO otherwise. */
int mtb_balance_parse_sics_tare(const char *line, size_t len, int64_t *tare_mg, const char **why);
int mtb_balance_parse_sics_zero(const char *line, size_t len, const char **why);

#ifdef __cplusplus
}
#endif
#endif
