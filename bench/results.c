#include "bench/results.h"

#include "core/decimal.h"

#include <stdbool.h>

const char *mtb_verdict_name(enum mtb_verdict v)
{
	switch (v) {
	case MTB_VERDICT_PASS: return "pass";
	case MTB_VERDICT_FAIL: return "fail";
	case MTB_VERDICT_INVALID: return "invalid";
	case MTB_VERDICT_OUT_OF_RANGE: return "out-of-range";
	}
	return "?";
}

int mtb_point_judge(const struct mtb_point_in *in, struct mtb_point_out *out)
{
	if (!in || !out || !in->rules || (in->accuracy_class != 1 && in->accuracy_class != 2) ||
	    in->actual_ul <= 0 || in->indicated_ul < 0 ||
	    in->actual_ul > MTB_VOLUME_MAX_UL || in->indicated_ul > MTB_VOLUME_MAX_UL)
		return MTB_ERR_ARG;

	/* E = (Vi - Va) / Va (OIML R 49; the actual volume in the denominator). */
	__int128 diff = (__int128)in->indicated_ul - in->actual_ul;
	out->error_ppm = mtb_div_round(diff * 1000000, in->actual_ul);
	out->zone = mtb_zone_of(&in->flow_range, in->flow_lph);
	out->mpe_ppm = 0;
	if (out->zone == MTB_ZONE_OUT_OF_RANGE) {
		out->verdict = MTB_VERDICT_OUT_OF_RANGE;
		return MTB_OK;
	}
	int rc = mtb_mpe_ppm(in->rules, in->accuracy_class, out->zone, in->water_temp_mdegc, in->mode,
			     in->in_service, &out->mpe_ppm);
	if (rc != MTB_OK)
		return rc;

	/* A measurement whose U exceeds a third of the MPE cannot support a conformity decision
	 * (R 49-2 verification ratio, standards-factsheet 1.8): invalid, whatever the error. */
	if (in->u_exp_ppm >= 0 && (int64_t)in->u_exp_ppm * 3 > out->mpe_ppm) {
		out->verdict = MTB_VERDICT_INVALID;
		return MTB_OK;
	}
	__int128 abs_diff = diff < 0 ? -diff : diff;
	bool pass = abs_diff * 1000000 <= (__int128)out->mpe_ppm * in->actual_ul;
	out->verdict = pass ? MTB_VERDICT_PASS : MTB_VERDICT_FAIL;
	return MTB_OK;
}
