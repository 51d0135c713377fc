/* The live view's events of a measuring-can run (docs/live-view.md, "A can run"): JSON objects
 * on one line. Volumes and masses are exact (integer microlitres written as litres or
 * millilitres, milligrams as grams). */
#include "bench/live.h"
#include "bench/live_json.h"

#include "core/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

char *mtb_live_json_can_session(const struct mtb_live_can_info *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "can-session");
	if (!f)
		return NULL;
	const struct mtb_vessel *v = c->vessel;
	mtb_lj_str(f, "id", c->session_id);
	mtb_lj_str(f, "vessel", v->name);
	mtb_lj_str(f, "kind", v->kind == MTB_VESSEL_CYLINDER ? "cylinder" : "can");
	mtb_lj_str(f, "serial", c->serial);
	mtb_lj_str(f, "operator", c->operator_name);
	mtb_lj_str(f, "standard", c->standard);
	mtb_lj_str(f, "rule", mtb_vessel_rule_name(v->rule));
	mtb_lj_str(f, "delivery", v->delivery == MTB_VESSEL_TO_DELIVER ? "to-deliver" : "to-contain");
	mtb_lj_fix(f, "nominal_l", v->nominal_ul, 6);
	mtb_lj_fix(f, "division_ml", v->scale.division_ul, 3);
	mtb_lj_fix(f, "zero_l", v->scale.zero_ul, 6);
	fprintf(f, ",\"divisions\":%d,\"nominal_div\":%d", v->scale.divisions, v->scale.nominal_div);
	mtb_lj_fix(f, "mpe_ml", mtb_vessel_mpe_ul(v), 3);
	fprintf(f, ",\"runs\":%d,\"runs_done\":%d,\"resumed\":%s", c->runs, c->runs_done, c->resumed ? "true" : "false");
	mtb_lj_dbl(f, "reference_temp_c", v->ref_temp_c);
	return mtb_lj_end(f, &buf);
}

char *mtb_live_json_can_state(const char *state, int run_index, int n_runs, double bench_time_s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "can-state");
	if (!f)
		return NULL;
	mtb_lj_str(f, "state", state);
	fprintf(f, ",\"run_index\":%d,\"n_runs\":%d", run_index, n_runs);
	mtb_lj_dbl(f, "bench_time_s", round(bench_time_s * 10) / 10);
	return mtb_lj_end(f, &buf);
}

char *mtb_live_json_balance(const struct mtb_live_balance *b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "balance");
	if (!f)
		return NULL;
	mtb_lj_str(f, "status", b->status);
	if (b->have_mass) {
		mtb_lj_fix(f, "mass_g", b->mass_mg, 3);
		fprintf(f, ",\"stable\":%s", b->stable ? "true" : "false");
	} else {
		fputs(",\"mass_g\":null,\"stable\":false", f);
	}
	if (b->have_water) {
		mtb_lj_fix(f, "water_l", b->water_ul, 6);
		mtb_lj_dbl(f, "fill_pct", round(b->fill_pct * 10) / 10);
	} else {
		fputs(",\"water_l\":null,\"fill_pct\":null", f);
	}
	fprintf(f, ",\"fill_open\":%s,\"drain_open\":%s", b->fill_open ? "true" : "false", b->drain_open ? "true" : "false");
	mtb_lj_dbl(f, "bench_time_s", round(b->bench_time_s * 10) / 10);
	return mtb_lj_end(f, &buf);
}

char *mtb_live_json_meniscus(int run_index, const struct mtb_meniscus_obs *m, const struct mtb_vessel *v,
			     double bench_time_s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "meniscus");
	if (!f)
		return NULL;
	fprintf(f, ",\"run_index\":%d,\"ok\":%s", run_index, m->ok ? "true" : "false");
	if (m->ok) {
		mtb_lj_dbl(f, "level_div", round(m->level_div * 1000) / 1000);
		/* the scale's volume at that level, to the microlitre */
		mtb_lj_fix(f, "volume_l", llround((double)v->scale.zero_ul + m->level_div * (double)v->scale.division_ul), 6);
		mtb_lj_dbl(f, "confidence", round(m->confidence * 1000) / 1000);
	} else {
		fputs(",\"level_div\":null,\"volume_l\":null", f);
		mtb_lj_dbl(f, "confidence", round(m->confidence * 1000) / 1000);
		mtb_lj_str(f, "reason", m->reason);
	}
	mtb_lj_dbl(f, "bench_time_s", round(bench_time_s * 10) / 10);
	return mtb_lj_end(f, &buf);
}

/* A run's result as a verification of that run alone (n = 1: no repeatability term), so that
 * each repetition shows its own error against the MPE with its own U. */
char *mtb_live_json_can_run(const struct mtb_vessel *v, const struct mtb_can_u_in *u, int run_index,
			    const struct mtb_can_run *run)
{
	struct mtb_can_series *one = calloc(1, sizeof *one);
	if (!one)
		return NULL;
	struct mtb_errbuf eb = { { 0 } };
	int rc = mtb_can_series_compute(v, run, 1, u, one, &eb);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "can-run");
	if (!f) {
		free(one);
		return NULL;
	}
	fprintf(f, ",\"run_index\":%d", run_index);
	mtb_lj_fix(f, "full_g", run->full_mg, 3);
	mtb_lj_fix(f, "empty_g", run->empty_mg, 3);
	mtb_lj_dbl(f, "level_div", round(run->level_div * 1000) / 1000);
	mtb_lj_dbl(f, "water_c", run->water_temp_c);
	if (rc == MTB_OK) {
		mtb_lj_fix(f, "v_ref_l", llround(one->run[0].v_ref_ul), 6);
		mtb_lj_fix(f, "indicated_l", one->run[0].indicated_ul, 6);
		mtb_lj_fix(f, "error_ml", one->error_ul, 3);
		mtb_lj_fix(f, "u_exp_ml", one->u_exp_ul_int, 3);
		mtb_lj_fix(f, "mpe_ml", mtb_vessel_mpe_ul(v), 3);
		mtb_lj_str(f, "verdict", mtb_vessel_verdict_name(one->verdict));
	} else {
		mtb_lj_str(f, "verdict", "invalid");
		mtb_lj_str(f, "reason", eb.msg);
	}
	free(one);
	return mtb_lj_end(f, &buf);
}

char *mtb_live_json_can_result(const struct mtb_vessel *v, const struct mtb_can_result *r, const char *session_id)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "can-result");
	if (!f)
		return NULL;
	mtb_lj_str(f, "session_id", session_id);
	mtb_lj_str(f, "state", r->state == MTB_CAN_DONE ? "done" : "aborted");
	fprintf(f, ",\"runs\":%d", r->n_runs);
	if (r->state == MTB_CAN_DONE) {
		mtb_lj_fix(f, "mean_v_ref_l", llround(r->series.mean_v_ref_ul), 6);
		mtb_lj_fix(f, "error_ml", r->series.error_ul, 3);
		mtb_lj_fix(f, "u_exp_ml", r->series.u_exp_ul_int, 3);
		mtb_lj_dbl(f, "s_ml", round(r->series.s_error_ul) / 1000);
		mtb_lj_fix(f, "mpe_ml", mtb_vessel_mpe_ul(v), 3);
		mtb_lj_str(f, "verdict", mtb_vessel_verdict_name(r->series.verdict));
	} else {
		mtb_lj_str(f, "failed_in", mtb_can_state_name(r->failed_in));
		mtb_lj_str(f, "reason", r->reason);
		mtb_lj_str(f, "verdict", "incomplete");
	}
	mtb_lj_dbl(f, "bench_time_s", round(r->bench_time_us / 1e5) / 10);
	return mtb_lj_end(f, &buf);
}
