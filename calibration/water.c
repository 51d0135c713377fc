#include "calibration/water.h"

#include <math.h>

/* Tanaka M., Girard G., Davis R., Peuto A., Bignell N., "Recommended table for the density of
 * water between 0 C and 40 C based on recent experimental reports", Metrologia 38 (2001)
 * 301-309, eq. 1. rho = a5 [1 - (t + a1)^2 (t + a2) / (a3 (t + a4))]. */
static const double TANAKA_A1 = -3.983035;   /* C */
static const double TANAKA_A2 = 301.797;     /* C */
static const double TANAKA_A3 = 522528.9;    /* C^2 */
static const double TANAKA_A4 = 69.34881;    /* C */
static const double TANAKA_A5 = 999.974950;  /* kg/m3 */

/* Air saturation (same paper): delta rho = s0 + s1 t. */
static const double AIR_S0 = -4.612e-3;      /* kg/m3 */
static const double AIR_S1 = 0.106e-3;       /* kg/m3/C */

/* Compressibility (same paper, as cited in standards-factsheet section 4). */
static const double COMP_K0 = 50.74e-11;     /* 1/Pa */
static const double COMP_K1 = -0.326e-11;    /* 1/(Pa C) */
static const double COMP_K2 = 0.00416e-11;   /* 1/(Pa C^2) */

double mtb_water_density_kgm3(double t_c)
{
	double a = t_c + TANAKA_A1;
	return TANAKA_A5 * (1.0 - a * a * (t_c + TANAKA_A2) / (TANAKA_A3 * (t_c + TANAKA_A4)));
}

double mtb_water_density_air_saturated_kgm3(double t_c)
{
	return mtb_water_density_kgm3(t_c) + AIR_S0 + AIR_S1 * t_c;
}

double mtb_water_compressibility_per_pa(double t_c)
{
	return COMP_K0 + COMP_K1 * t_c + COMP_K2 * t_c * t_c;
}

double mtb_water_density_tp_kgm3(double t_c, double p_abs_kpa)
{
	double dp_pa = (p_abs_kpa - MTB_P_STD_KPA) * 1000.0;
	return mtb_water_density_kgm3(t_c) * (1.0 + mtb_water_compressibility_per_pa(t_c) * dp_pa);
}

int64_t mtb_water_actual_volume_ul(int64_t ref_indicated_ul, double e_ref,
				   const struct mtb_water_state *ref, const struct mtb_water_state *mut)
{
	double v_ref_corr = (double)ref_indicated_ul / (1.0 + e_ref);
	double ratio = mtb_water_density_tp_kgm3(ref->temp_c, ref->p_abs_kpa) /
		       mtb_water_density_tp_kgm3(mut->temp_c, mut->p_abs_kpa);
	return llround(v_ref_corr * ratio);
}
