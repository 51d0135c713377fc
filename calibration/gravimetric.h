/* meterbench calibration: the gravimetric method (primary) and the volumetric transfer method
 * (secondary) of verifying a measuring can or cylinder, their repeat statistics and their GUM
 * budget. Formulas and sources: docs/cans.md.
 *
 * ISO 4787 / EURAMET cg-19 Eq. 1 (cans notes 1.3; the printed form [U], the structure [C2]):
 *
 *   V_ref = (I_L - I_E) / (rho_W - rho_A) x (1 - rho_A / rho_B) x [1 - gamma (t - t_ref)]
 *
 * I_L, I_E  balance readings full and empty (to deliver: after the delivery and drain time)
 * rho_W     water density at the water temperature t (Tanaka 2001, calibration/water.h)
 * rho_A     air density (CIPM-2007 below), rho_B the density of the balance's weights (8000)
 * gamma     cubical expansion coefficient of the vessel, t_ref its reference temperature.
 *
 * The error of the vessel, a material measure, is its indication minus the conventional true
 * volume: E = V_scale(level read on the neck) - V_ref. */
#ifndef MTB_CALIBRATION_GRAVIMETRIC_H
#define MTB_CALIBRATION_GRAVIMETRIC_H

#include "calibration/uncertainty.h"
#include "calibration/vessel.h"
#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Conventional density of weights (OIML R 111 / D 28 conventional mass), kg/m3. */
#define MTB_RHO_WEIGHTS_CONV_KGM3 8000.0
/* CO2 mole fraction of laboratory air assumed by CIPM-2007's reference composition. */
#define MTB_AIR_XCO2_DEFAULT 0.0004

/* Density of moist air, kg/m3, by the CIPM-2007 equation (Picard, Davis, Glaeser, Fujii,
 * Metrologia 45 (2008) 149-155; constants cross-checked against two public implementations,
 * [C2]). t in C, p in Pa, rh in % (0-100), x_co2 mole fraction. 1.1992 kg/m3 at 20 C,
 * 101 325 Pa, 50 %, 0.0004. */
double mtb_air_density_cipm2007_kgm3(double t_c, double p_pa, double rh_pct, double x_co2);

/* The simplified formula rho_A = (0.34848 p - 0.009 h exp(0.061 t)) / (273.15 + t), p in hPa,
 * h in %, kg/m3 ([U], cans notes 1.3; agrees with CIPM-2007 within 0.05 % in lab air, which the
 * tests check). Kept as a cross-check; the procedure uses CIPM-2007. */
double mtb_air_density_simple_kgm3(double t_c, double p_hpa, double rh_pct);

/* The inputs of the ISO 4787 formula, every density explicit (tests work them by hand). */
struct mtb_grav_in {
	int64_t full_mg;          /* I_L */
	int64_t empty_mg;         /* I_E */
	double water_temp_c;      /* t */
	double rho_water_kgm3;    /* rho_W at t */
	double rho_air_kgm3;      /* rho_A */
	double rho_weights_kgm3;  /* rho_B */
	double gamma_per_k;       /* vessel's cubical expansion */
	double ref_temp_c;        /* vessel's reference temperature */
};

/* V_ref in microlitres (not rounded). */
double mtb_grav_volume_ul(const struct mtb_grav_in *in);

/* What was measured in one run (one fill) of the gravimetric method. */
struct mtb_can_run {
	int64_t full_mg, empty_mg;
	double water_temp_c;
	double air_temp_c, p_hpa, rh_pct;
	double level_div;         /* the neck scale read at the meniscus, divisions from line 0 */
};

/* Conditions common to a series, and what is known of each input's uncertainty (standard
 * uncertainties unless said otherwise). */
struct mtb_can_u_in {
	double rho_weights_kgm3;      /* 8000 for conventional mass */
	bool air_saturated_water;     /* use Tanaka's air-saturated correction */
	double balance_u_mg;          /* one balance reading (calibration, linearity, resolution) */
	double water_temp_u_c;
	double water_density_u_kgm3;  /* formula and water purity */
	double air_temp_u_c, p_u_hpa, rh_u_pct;
	double air_formula_u_rel;     /* CIPM-2007 itself: 2.2e-5 relative (k = 1) [U] */
	double rho_weights_u_kgm3;
	double gamma_u_rel;           /* relative standard uncertainty of gamma */
	double reading_u_div;         /* one meniscus reading, divisions */
	double drain_u_ul;            /* to deliver: variation of the film left after draining */
};

/* One run worked out. */
struct mtb_can_run_result {
	double rho_water_kgm3, rho_air_kgm3;
	double v_ref_ul;              /* conventional true volume at the reference temperature */
	int64_t indicated_ul;         /* the neck scale's volume at the level read */
	double error_ul;              /* indicated - v_ref */
};

/* Works out one run. MTB_ERR_RANGE (with eb) when an input is outside the formulas' ranges
 * (water 0-40 C, a net mass <= 0, air outside 0-40 C, 600-1100 hPa, 0-100 %). */
int mtb_can_run_compute(const struct mtb_vessel *v, const struct mtb_can_run *run, const struct mtb_can_u_in *u,
			struct mtb_can_run_result *out, struct mtb_errbuf *eb);

#define MTB_CAN_MAX_RUNS 32

/* A series of n runs: mean error, repeatability, GUM budget (k = 2), verdict. */
struct mtb_can_series {
	int n;
	struct mtb_can_run_result run[MTB_CAN_MAX_RUNS];
	double mean_v_ref_ul;
	double mean_error_ul;
	double s_error_ul;            /* experimental standard deviation of the errors (n - 1); 0 for n = 1 */
	struct mtb_u_budget budget;   /* relative to mean_v_ref_ul; component u in fractions */
	double u_exp_ul;              /* U = k u_c x V */
	int64_t error_ul;             /* mean error rounded to the uL: what is judged */
	int64_t u_exp_ul_int;         /* U rounded up to the uL */
	enum mtb_vessel_verdict verdict;
};

/* Works out every run, then the series. The budget, for the error of the mean (docs/cans.md):
 * balance (two readings a run), water temperature, water density, air density (temperature,
 * pressure, humidity, formula), weights' density, vessel expansion, meniscus reading, drainage
 * (to deliver), repeatability s/sqrt(n). Sensitivities are partial derivatives of the ISO 4787
 * formula taken numerically at the mean conditions. */
int mtb_can_series_compute(const struct mtb_vessel *v, const struct mtb_can_run *runs, int n,
			   const struct mtb_can_u_in *u, struct mtb_can_series *out, struct mtb_errbuf *eb);

/* Volumetric transfer (secondary method): the content of a reference measure of known volume
 * at its reference temperature, V_rm20, poured into the vessel under test. Each volume follows
 * its vessel's expansion and the water its own density, which is conserved as mass:
 *   V_test(t_ref,test) = V_rm20 [1 + g_rm (t_rm - t_ref,rm)] rho(t_rm) / rho(t_test)
 *                        / [1 + g_test (t_test - t_ref,test)]
 * (the water changes temperature from t_rm to t_test on the way; the formula holds the mass).
 * Returns the volume the test vessel holds at its reference temperature, uL. [D] */
double mtb_transfer_volume_ul(int64_t v_rm_ref_ul, double gamma_rm_per_k, double ref_temp_rm_c, double t_rm_c,
			      double gamma_test_per_k, double ref_temp_test_c, double t_test_c);

#ifdef __cplusplus
}
#endif
#endif
