#include "calibration/uncertainty.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

double mtb_u_budget_add(struct mtb_u_budget *b, const char *name, double value, enum mtb_u_dist dist,
			double sensitivity)
{
	if (b->n >= MTB_U_MAX_COMPONENTS)
		return 0;
	double u_std;
	switch (dist) {
	case MTB_U_EXPANDED_K2: u_std = value / 2.0; break;
	case MTB_U_RECT: u_std = value / sqrt(3.0); break;
	case MTB_U_TRIANGULAR: u_std = value / sqrt(6.0); break;
	case MTB_U_STD:
	default: u_std = value; break;
	}
	struct mtb_u_component *c = &b->c[b->n++];
	snprintf(c->name, sizeof c->name, "%s", name);
	c->value = value;
	c->dist = dist;
	c->sensitivity = sensitivity;
	c->u = fabs(sensitivity * u_std);
	return c->u;
}

void mtb_u_budget_combine(struct mtb_u_budget *b, double k)
{
	double sum = 0;
	for (int i = 0; i < b->n; i++)
		sum += b->c[i].u * b->c[i].u;
	b->u_c = sqrt(sum);
	b->k = k;
	b->u_exp = k * b->u_c;
}

void mtb_point_u_budget(const struct mtb_point_u_in *in, struct mtb_u_budget *out)
{
	memset(out, 0, sizeof *out);
	double v = in->volume_l;
	mtb_u_budget_add(out, "reference certificate", in->ref_cert_u_exp, MTB_U_EXPANDED_K2, 1);
	if (in->ref_repeat_u > 0)
		mtb_u_budget_add(out, "reference repeatability", in->ref_repeat_u, MTB_U_STD, 1);
	/* A reading known to within one step of width d lies in +-d/2 of the true value. */
	mtb_u_budget_add(out, "reading resolution (start)", in->reading_start_l / 2.0 / v, MTB_U_RECT, 1);
	mtb_u_budget_add(out, "reading resolution (end)", in->reading_end_l / 2.0 / v, MTB_U_RECT, 1);
	/* A timing error dt between the camera frame and the reference sample moves Q dt of water
	 * to the wrong side of the start or stop (standards-factsheet 1.9); start and stop. */
	double sync = in->flow_lph / 3600.0 * in->sync_dt_s / v;
	mtb_u_budget_add(out, "flying-start timing (start)", sync, MTB_U_RECT, 1);
	mtb_u_budget_add(out, "flying-start timing (stop)", sync, MTB_U_RECT, 1);
	mtb_u_budget_add(out, "temperature difference ref-MUT", in->temp_diff_u_k, MTB_U_RECT, in->beta_per_k);
	/* A standing start measures the meter over its ramps too: R 49-2 leaves their effect to the
	 * test volume being large enough; the bench states what is left of it. */
	if (in->start_stop_rel > 0)
		mtb_u_budget_add(out, "standing start: ramps", in->start_stop_rel, MTB_U_RECT, 1);
	mtb_u_budget_combine(out, 2.0);
}
