#include "bench/procedure.h"

#include "core/decimal.h"

#include <math.h>

int mtb_flying_interpolate(const struct mtb_ref_sample *s, int n, int64_t t_us, int64_t max_gap_us,
			   int64_t *totaliser_ul, int64_t *gap_us)
{
	if (n < 1 || t_us < s[0].t_us || t_us > s[n - 1].t_us)
		return MTB_ERR_RANGE;
	for (int i = 0; i < n; i++) {
		if (s[i].t_us == t_us) {
			*totaliser_ul = s[i].totaliser_ul;
			*gap_us = 0;
			return MTB_OK;
		}
		if (i > 0 && s[i].t_us > t_us) {
			int64_t dt = s[i].t_us - s[i - 1].t_us;
			if (dt > max_gap_us)
				return MTB_ERR_RANGE;
			__int128 dv = (__int128)(s[i].totaliser_ul - s[i - 1].totaliser_ul) * (t_us - s[i - 1].t_us);
			*totaliser_ul = s[i - 1].totaliser_ul + mtb_div_round(dv, dt);
			*gap_us = dt;
			return MTB_OK;
		}
	}
	return MTB_ERR_RANGE;
}

double mtb_test_volume_l(double resolution_l, int32_t mpe_ppm, double min_l, double max_l, int *limited)
{
	double mpe = mpe_ppm / 1e6;
	double need = mpe > 0 ? 20.0 * resolution_l / (sqrt(6.0) * mpe) : max_l;
	double v = need < min_l ? min_l : need;
	*limited = v > max_l;
	return v > max_l ? max_l : v;
}
