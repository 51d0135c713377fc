/* The can verification certificate (bench/can_report.h). */
#include "bench/can_report.h"

#include "bench/pdf_text.h"

#include "core/file_out.h"
#include "core/json.h"

#include <cairo-pdf.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#define PAGE_W 595.0   /* A4 in points */
#define PAGE_H 842.0
#define MARGIN 48.0


static const char *s_or(const char *s) { return s && *s ? s : "-"; }

static void verdict_words(enum mtb_vessel_verdict v, const char **zh, const char **en, double rgb[3])
{
	switch (v) {
	case MTB_VESSEL_PASS: *zh = "合格"; *en = "pass"; rgb[0] = 0.1; rgb[1] = 0.5; rgb[2] = 0.2; return;
	case MTB_VESSEL_FAIL: *zh = "不合格"; *en = "fail"; rgb[0] = 0.75; rgb[1] = 0.1; rgb[2] = 0.1; return;
	case MTB_VESSEL_INVALID: break;
	}
	*zh = "無效（不確定度過大）";
	*en = "invalid (uncertainty too large)";
	rgb[0] = 0.6; rgb[1] = 0.45; rgb[2] = 0.0;
}

int mtb_can_report_write_json(const struct mtb_vessel *v, const struct mtb_can_result *r,
			      const struct mtb_can_report_info *info, FILE *f)
{
	fputs("{\"vessel\":", f);
	mtb_json_string(f, v->name);
	fputs(",\"serial\":", f);
	mtb_json_string(f, info && info->serial ? info->serial : "");
	fputs(",\"method\":\"gravimetric ISO 4787, water Tanaka 2001, air CIPM-2007\"", f);
	fprintf(f, ",\"state\":\"%s\"", mtb_can_state_name(r->state));
	fputs(",\"nominal_l\":", f);
	mtb_json_fixed(f, v->nominal_ul, 6);
	fprintf(f, ",\"delivery\":\"%s\",\"rule\":\"%s\",\"mpe_ml\":", v->delivery == MTB_VESSEL_TO_DELIVER ? "to-deliver" : "to-contain",
		mtb_vessel_rule_name(v->rule));
	mtb_json_fixed(f, mtb_vessel_mpe_ul(v), 3);
	fputs(",\"runs\":[", f);
	for (int i = 0; i < r->n_runs; i++) {
		const struct mtb_can_run *u = &r->runs[i];
		fputs(i ? ",{" : "{", f);
		fputs("\"full_g\":", f);
		mtb_json_fixed(f, u->full_mg, 3);
		fputs(",\"empty_g\":", f);
		mtb_json_fixed(f, u->empty_mg, 3);
		fputs(",\"water_c\":", f);
		mtb_json_double(f, u->water_temp_c);
		fputs(",\"air_c\":", f);
		mtb_json_double(f, u->air_temp_c);
		fputs(",\"p_hpa\":", f);
		mtb_json_double(f, u->p_hpa);
		fputs(",\"rh_pct\":", f);
		mtb_json_double(f, u->rh_pct);
		fputs(",\"level_div\":", f);
		mtb_json_double(f, round(u->level_div * 1000) / 1000);
		if (r->evidence_sha256[i][0]) {
			fputs(",\"image_sha256\":", f);
			mtb_json_string(f, r->evidence_sha256[i]);
		}
		if (r->state == MTB_CAN_DONE) {
			fputs(",\"v_ref_l\":", f);
			mtb_json_fixed(f, llround(r->series.run[i].v_ref_ul), 6);
			fputs(",\"error_ml\":", f);
			mtb_json_fixed(f, llround(r->series.run[i].error_ul), 3);
		}
		fputs("}", f);
	}
	fputs("]", f);
	if (r->state == MTB_CAN_DONE) {
		const struct mtb_can_series *s = &r->series;
		fputs(",\"error_ml\":", f);
		mtb_json_fixed(f, s->error_ul, 3);
		fputs(",\"u_exp_ml\":", f);
		mtb_json_fixed(f, s->u_exp_ul_int, 3);
		fputs(",\"k\":2,\"s_ml\":", f);
		mtb_json_double(f, round(s->s_error_ul) / 1000);
		fputs(",\"budget\":[", f);
		for (int i = 0; i < s->budget.n; i++) {
			fputs(i ? ",{\"component\":" : "{\"component\":", f);
			mtb_json_string(f, s->budget.c[i].name);
			fputs(",\"u_ml\":", f);
			mtb_json_double(f, round(s->budget.c[i].u * s->mean_v_ref_ul * 10) / 10000);
			fputs("}", f);
		}
		fprintf(f, "],\"verdict\":\"%s\"", mtb_vessel_verdict_name(s->verdict));
	} else {
		fprintf(f, ",\"failed_in\":\"%s\",\"reason\":", mtb_can_state_name(r->failed_in));
		mtb_json_string(f, r->reason);
	}
	fputs(",\"bench_time_s\":", f);
	mtb_json_double(f, round(r->bench_time_us / 1e5) / 10);
	fputs("}\n", f);
	return ferror(f) ? MTB_ERR_IO : MTB_OK;
}

static double text(cairo_t *cr, double x, double y, double width, double size_pt, bool bold, const char *markup)
{
	return mtb_pdf_text(cr, x, y, width, size_pt, bold, markup, PANGO_ALIGN_LEFT);
}

/* A user string escaped for Pango markup ("-" when empty). */
static const char *esc(const char *s, char *buf, size_t n)
{
	return mtb_pdf_escape(s_or(s), buf, n);
}

int mtb_can_report_write_pdf(const struct mtb_vessel *v, const struct mtb_can_result *r,
			     const struct mtb_can_report_info *info, const char *path, struct mtb_errbuf *eb)
{
	struct mtb_can_report_info none = { 0 };
	if (!info)
		info = &none;
	char tmp[1100];
	if (mtb_file_out_tmp(path, tmp, sizeof tmp) != MTB_OK)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: path too long", path);
	cairo_surface_t *surf = cairo_pdf_surface_create(tmp, PAGE_W, PAGE_H);
	if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(surf);
		mtb_file_out_commit(tmp, path, false, NULL);
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: cannot create the PDF", path);
	}
	cairo_t *cr = cairo_create(surf);
	double x = MARGIN, w = PAGE_W - 2 * MARGIN, y = MARGIN;
	char m[1024], a[256], b[256], c[256];
	cairo_set_source_rgb(cr, 0, 0, 0);
	y += text(cr, x, y, w, 16, true, "量桶檢定報告 Measuring-can verification certificate") + 10;

	double nominal_l = (double)v->nominal_ul / 1e6;
	snprintf(m, sizeof m,
		 "器具 Vessel: <b>%s</b>　序號 Serial: %s\n"
		 "標稱容量 Nominal: %g L　材質 Material: %s（γ = %.3g /K）　參考溫度 Reference: %g °C\n"
		 "%s　刻度 Neck scale: %d × %g mL\n"
		 "允許誤差 MPE: ±%g mL（%s）\n"
		 "實驗室 Laboratory: %s　操作者 Operator: %s　日期 Date: %s",
		 esc(v->name, a, sizeof a), esc(info->serial, b, sizeof b), nominal_l, esc(v->material, c, sizeof c),
		 v->gamma_per_k, v->ref_temp_c,
		 v->delivery == MTB_VESSEL_TO_DELIVER ? "出量式 To deliver" : "入量式 To contain", v->scale.divisions,
		 (double)v->scale.division_ul / 1000, (double)mtb_vessel_mpe_ul(v) / 1000,
		 v->rule == MTB_TOL_ONE_DIVISION ? "一最小分度 one scale division"
		 : v->rule == MTB_TOL_CLASS	  ? "級別 class"
						  : "器具允許誤差 the vessel's MPE",
		 s_or(info->lab), s_or(info->operator_name), s_or(info->date));
	y += text(cr, x, y, w, 9, false, m) + 8;
	y += text(cr, x, y, w, 9, false,
		  "方法 Method: 重量法 gravimetric, ISO 4787: V₂₀ = (I_L − I_E)/(ρ_W − ρ_A) · (1 − ρ_A/ρ_B) · [1 − γ(t − t_ref)]；"
		  "水密度 water density Tanaka 2001；空氣密度 air density CIPM-2007；ρ_B = 8000 kg/m³。"
		  "器差 Error = 刻度指示 indicated − 實際 true。") + 10;

	y += text(cr, x, y, w, 10, true, "量測 Runs") + 4;
	y += text(cr, x, y, w, 8, true,
		  "#　I_L (g)　　I_E (g)　　水溫 t (°C)　空氣 air (°C / hPa / %RH)　液面 level (div)　V₂₀ (L)　器差 error (mL)") + 2;
	for (int i = 0; i < r->n_runs; i++) {
		const struct mtb_can_run *u = &r->runs[i];
		if (r->state == MTB_CAN_DONE)
			snprintf(m, sizeof m, "%d　%.3f　%.3f　%.2f　%.1f / %.1f / %.0f　%.3f　%.6f　%+.3f", i + 1, u->full_mg / 1e3,
				 u->empty_mg / 1e3, u->water_temp_c, u->air_temp_c, u->p_hpa, u->rh_pct, u->level_div,
				 r->series.run[i].v_ref_ul / 1e6, r->series.run[i].error_ul / 1e3);
		else
			snprintf(m, sizeof m, "%d　%.3f　%.3f　%.2f　%.1f / %.1f / %.0f　%.3f", i + 1, u->full_mg / 1e3,
				 u->empty_mg / 1e3, u->water_temp_c, u->air_temp_c, u->p_hpa, u->rh_pct, u->level_div);
		y += text(cr, x, y, w, 8, false, m) + 1;
	}
	y += 10;
	if (r->state == MTB_CAN_DONE) {
		const struct mtb_can_series *s = &r->series;
		snprintf(m, sizeof m,
			 "器差 Error (mean of %d): <b>%+.3f mL</b>　擴充不確定度 U (k = 2): %.3f mL　"
			 "重複性 s: %.3f mL　允許誤差 MPE: ±%.3f mL",
			 s->n, s->error_ul / 1e3, s->u_exp_ul_int / 1e3, s->s_error_ul / 1e3, (double)mtb_vessel_mpe_ul(v) / 1e3);
		y += text(cr, x, y, w, 10, false, m) + 8;
		y += text(cr, x, y, w, 10, true, "不確定度預算 Uncertainty budget (standard uncertainties)") + 4;
		for (int i = 0; i < s->budget.n; i++) {
			snprintf(m, sizeof m, "%s: %.4f mL", s->budget.c[i].name, s->budget.c[i].u * s->mean_v_ref_ul / 1e3);
			y += text(cr, x + 10, y, w - 10, 8, false, esc(m, a, sizeof a)) + 1;
		}
		y += 12;
		const char *zh, *en;
		double rgb[3];
		verdict_words(s->verdict, &zh, &en, rgb);
		cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
		snprintf(m, sizeof m, "判定 Verdict: %s %s", zh, en);
		y += text(cr, x, y, w, 16, true, m) + 10;
		cairo_set_source_rgb(cr, 0, 0, 0);
	} else {
		snprintf(m, sizeof m, "檢定中止 Verification aborted (%s): %s — 無體積結果 no volume is stated.",
			 mtb_can_state_name(r->failed_in), esc(r->reason, a, sizeof a));
		y += text(cr, x, y, w, 11, true, m) + 10;
	}
	/* the original observations: each run's meniscus frame by its SHA-256 */
	for (int i = 0; i < r->n_runs; i++)
		if (r->evidence_sha256[i][0]) {
			snprintf(m, sizeof m, "影像 Image run %d: SHA-256 %s", i + 1, r->evidence_sha256[i]);
			y += text(cr, x, y, w, 7, false, m) + 1;
		}
	snprintf(m, sizeof m, "證據影像 Evidence images: %s　　桌台時間 Bench time: %.0f s　　meterbench %s",
		 esc(info->evidence, a, sizeof a), r->bench_time_us / 1e6, MTB_VERSION);
	text(cr, x, PAGE_H - MARGIN - 12, w, 7, false, m);
	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(surf);
	int st = cairo_surface_status(surf);
	cairo_surface_destroy(surf);
	if (st != CAIRO_STATUS_SUCCESS) {
		mtb_file_out_commit(tmp, path, false, NULL);
		return mtb_errbuf_set(eb, MTB_ERR_IO, "%s: cannot write the PDF", path);
	}
	return mtb_file_out_commit(tmp, path, true, eb);
}
