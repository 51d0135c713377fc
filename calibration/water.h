/* meterbench calibration: properties of water and the reference-volume correction of the
 * standard-meter method. Formulas and their sources: docs/metrology.md. */
#ifndef MTB_CALIBRATION_WATER_H
#define MTB_CALIBRATION_WATER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Standard atmosphere, the pressure at which Tanaka's formula holds. */
#define MTB_P_STD_KPA 101.325

/* Density of air-free water at 101.325 kPa, kg/m3, Tanaka et al., Metrologia 38 (2001) 301-309,
 * valid 0-40 C. 998.2067 kg/m3 at 20 C. */
double mtb_water_density_kgm3(double t_c);

/* Density of air-saturated water: Tanaka + (s0 + s1 t), s0 = -4.612e-3 kg/m3,
 * s1 = 0.106e-3 kg/m3/C (about -0.0025 kg/m3 at 20 C). */
double mtb_water_density_air_saturated_kgm3(double t_c);

/* Isothermal compressibility factor k(t) = k0 + k1 t + k2 t^2 in 1/Pa
 * (k0 = 50.74e-11, k1 = -0.326e-11, k2 = 0.00416e-11). */
double mtb_water_compressibility_per_pa(double t_c);

/* Density at temperature t and absolute pressure p: rho(t) * (1 + k(t) (p - 101.325 kPa)). */
double mtb_water_density_tp_kgm3(double t_c, double p_abs_kpa);

/* Conditions of the water in one meter (reference or meter under test). */
struct mtb_water_state {
	double temp_c;
	double p_abs_kpa;
};

/* Standard-meter method, by conservation of mass between reference and meter under test:
 *   V_ref,corr = V_ref,indicated / (1 + E_ref)                (reference certificate)
 *   V_a        = V_ref,corr * rho(t_ref, p_ref) / rho(t_mut, p_mut)
 * ref_indicated_ul: what the reference meter counted; e_ref: its error at this flow as a
 * fraction (+0.001 = reads 0.1 % high). Returns V_a in microlitres, rounded to the nearest. */
int64_t mtb_water_actual_volume_ul(int64_t ref_indicated_ul, double e_ref,
				   const struct mtb_water_state *ref, const struct mtb_water_state *mut);

#ifdef __cplusplus
}
#endif
#endif
