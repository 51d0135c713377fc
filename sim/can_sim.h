/* meterbench sim: a measuring can (or cylinder) on a balance, being filled and emptied, with a
 * known capacity error -- the ground truth of the can procedure (bench/can_procedure.h).
 *
 * Physics: water runs in through the fill valve and out through the drain (twice as fast); when
 * the main flow stops a film is left that drains towards its final value (time constant 3 s).
 * The balance, calibrated in conventional mass, shows tare + m (1 - rho_a/rho_w)/(1 - rho_a/8000)
 * in its resolution steps, unstable while water moves. The vessel holds, at its reference
 * temperature, V_scale(d) - E up to line d (E the injected error, indicated - true); to deliver
 * it delivers that, the final film staying; it grows with gamma at the water temperature. A
 * camera sees the neck rendered (sim/neck_render.h) at the level the water stands at. */
#ifndef MTB_SIM_CAN_SIM_H
#define MTB_SIM_CAN_SIM_H

#include "calibration/vessel.h"
#include "core/err.h"
#include "core/image.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_sim_can_cfg {
	struct mtb_vessel vessel;
	double injected_error_ul;     /* indicated - true capacity at the reference temperature */
	double water_c, air_c, p_hpa, rh_pct;
	double tare_mg;               /* the dry vessel on the balance */
	double fill_ulps;             /* fill valve flow */
	double film_ul, film_final_ul;
	int64_t balance_step_mg;      /* resolution of the balance */
	double settle_s;              /* the balance settles this long after the water stops (0: at once) */
	double capacity_mg;           /* the balance's capacity (gross); 0: tare + 1.5 x nominal mass */
	double nuisance;              /* of the rendered neck images */
	double camera_elevation_deg;  /* the neck camera mounted above (+) or below (-) the meniscus */
	uint64_t seed;
};

/* Defaults for a vessel: water 21.5 C, air 22 C, 1010 hPa, 50 %, tare 3 kg (20 L) scaled with
 * the volume, fill in 200 s, film 0.04 % / 0.025 % of nominal, balance 0.1 g per 20 L. */
void mtb_sim_can_defaults(struct mtb_sim_can_cfg *c, const struct mtb_vessel *v);

struct mtb_sim_can;
int mtb_sim_can_create(struct mtb_sim_can **out, const struct mtb_sim_can_cfg *cfg, struct mtb_errbuf *eb);
void mtb_sim_can_destroy(struct mtb_sim_can *s);

int64_t mtb_sim_can_now_us(const struct mtb_sim_can *s);
void mtb_sim_can_advance(struct mtb_sim_can *s, int64_t dt_us);
void mtb_sim_can_set_fill(struct mtb_sim_can *s, bool open);
void mtb_sim_can_set_drain(struct mtb_sim_can *s, bool open);
bool mtb_sim_can_valves_closed(const struct mtb_sim_can *s);
bool mtb_sim_can_fill_open(const struct mtb_sim_can *s);
bool mtb_sim_can_drain_open(const struct mtb_sim_can *s);
/* The configuration it runs with (water and air conditions, injected error, vessel). */
const struct mtb_sim_can_cfg *mtb_sim_can_config(const struct mtb_sim_can *s);
/* The water in the vessel now, uL at the water's temperature (for tests). */
double mtb_sim_can_water_ul(const struct mtb_sim_can *s);

/* The balance's indication now, in its resolution steps. */
void mtb_sim_can_balance(const struct mtb_sim_can *s, int64_t *mass_mg, bool *stable);
/* The same before rounding to the steps: gross indication in conventional mass (tare
 * included), with the decaying swing of a balance that is still settling, whether it is stable,
 * and the capacity. */
void mtb_sim_can_balance_raw(const struct mtb_sim_can *s, double *gross_mg, bool *stable, double *capacity_mg);
int64_t mtb_sim_can_balance_step_mg(const struct mtb_sim_can *s);
/* The level the water stands at, divisions from line 0 (may be off the scale). */
double mtb_sim_can_level_div(const struct mtb_sim_can *s);
/* The camera's view of the neck now; MTB_ERR_RANGE when the level is off the scale. */
int mtb_sim_can_render(struct mtb_sim_can *s, struct mtb_image **out, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
