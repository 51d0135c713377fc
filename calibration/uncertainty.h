/* meterbench calibration: uncertainty budgets after the GUM (JCGM 100:2008).
 *
 * Every component is a relative standard uncertainty of the error E = Vi/Va - 1, entered the
 * way it is known (an expanded U from a certificate, a half-width of a rectangular interval, a
 * standard deviation) and converted once. Sensitivity coefficients of relative inputs to E are
 * +-1 (standards-factsheet 5), so the combined standard uncertainty is the root sum of squares. */
#ifndef MTB_CALIBRATION_UNCERTAINTY_H
#define MTB_CALIBRATION_UNCERTAINTY_H

#ifdef __cplusplus
extern "C" {
#endif

enum mtb_u_dist {
	MTB_U_STD = 0,        /* value is a standard uncertainty (type A, or normal) */
	MTB_U_EXPANDED_K2,    /* value is an expanded uncertainty with k = 2: u = U/2 */
	MTB_U_RECT,           /* value is a half-width a of a rectangular distribution: u = a/sqrt(3) */
	MTB_U_TRIANGULAR,     /* value is a half-width a of a triangular distribution: u = a/sqrt(6) */
};

#define MTB_U_MAX_COMPONENTS 16

struct mtb_u_component {
	char name[48];         /* "reference certificate", "reading resolution (start)" ... */
	double value;          /* as entered, relative (fraction) */
	enum mtb_u_dist dist;
	double sensitivity;    /* c_i, 1 for relative inputs */
	double u;              /* |c_i| x standard uncertainty, relative: the contribution */
};

struct mtb_u_budget {
	int n;
	struct mtb_u_component c[MTB_U_MAX_COMPONENTS];
	double u_c;            /* combined standard uncertainty, relative */
	double k;              /* coverage factor */
	double u_exp;          /* expanded uncertainty U = k u_c, relative */
};

/* Adds a component; silently ignored beyond MTB_U_MAX_COMPONENTS (a budget that long is a bug
 * caught by the tests of its builder). Returns the contribution u. */
double mtb_u_budget_add(struct mtb_u_budget *b, const char *name, double value, enum mtb_u_dist dist,
			double sensitivity);

/* Combines: u_c = sqrt(sum u_i^2), U = k u_c. */
void mtb_u_budget_combine(struct mtb_u_budget *b, double k);

/* The budget of one standard-meter test point (issue: reference certificate, reference
 * repeatability, reading resolution at start and end, flying-start timing, temperature). */
struct mtb_point_u_in {
	double volume_l;              /* actual volume of the test */
	double ref_cert_u_exp;        /* U (k = 2) of the reference's error at this flow, fraction */
	double ref_repeat_u;          /* standard deviation of the reference in this run, fraction (0: unknown) */
	double reading_start_l;       /* resolution (width of one reading step) at the start reading, L */
	double reading_end_l;         /* ... at the end reading, L */
	double sync_dt_s;             /* half-width of the timing uncertainty between frame and reference */
	double flow_lph;
	double temp_diff_u_k;         /* half-width of the uncertainty of t_MUT - t_ref, K */
	double beta_per_k;            /* volumetric expansion of water at the test temperature, 1/K */
	double start_stop_rel;        /* standing start: half-width of what the ramps may add to the
				       * error (rectangular), relative; 0 for a flying start */
};

/* Builds and combines (k = 2) the point's budget. Each reading contributes a rectangular
 * distribution of half-width resolution/2 (standards-factsheet 5, row 6). */
void mtb_point_u_budget(const struct mtb_point_u_in *in, struct mtb_u_budget *out);

#ifdef __cplusplus
}
#endif
#endif
