#include "bench/report.h"

#include "bench/pdf_text.h"

#include "calibration/meter_type.h"
#include "calibration/mpe.h"
#include "core/decimal.h"
#include "core/file_out.h"
#include "core/json.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *mtb_report_meter_verdict(const struct mtb_meter_view *m, const char *rule_set)
{
	if (m->n_points == 0)
		return "incomplete";
	bool any_fail = false, any_invalid = false;
	int64_t errs[MTB_VIEW_MAX_POINTS];
	int32_t mpes[MTB_VIEW_MAX_POINTS];
	for (int i = 0; i < m->n_points; i++) {
		const struct mtb_point_view *p = &m->points[i];
		any_fail = any_fail || strcmp(p->verdict, "fail") == 0;
		any_invalid = any_invalid || strcmp(p->verdict, "pass") != 0;
		errs[i] = p->error_ppm;
		mpes[i] = p->mpe_ppm;
	}
	if (any_fail)
		return "fail";
	if (any_invalid)
		return "invalid";
	const struct mtb_rule_set *rules = mtb_rule_set_find(rule_set);
	if (rules && !mtb_same_sign_rule_ok(rules, errs, mpes, m->n_points))
		return "fail";
	return "pass";
}

/* ---- JSON and CSV ----------------------------------------------------------------------- */

static void json_key_str(FILE *f, const char *key, const char *v, bool comma)
{
	fprintf(f, "%s\"%s\":", comma ? "," : "", key);
	mtb_json_string(f, v);
}

/* Flow rates are shown to 0.001 L/h: far below what a test can hold steady. */
static void json_flow(FILE *f, double flow_lph)
{
	mtb_json_fixed(f, llround(flow_lph * 1000.0), 3);
}

int mtb_report_write_json(const struct mtb_session_view *s, FILE *f)
{
	fputc('{', f);
	json_key_str(f, "session_id", s->id, false);
	json_key_str(f, "standard", s->standard, true);
	json_key_str(f, "rule_set", s->rule_set, true);
	json_key_str(f, "mode", s->mode, true);
	json_key_str(f, "reading", s->reading, true);
	fputs(",\"bench_time_s\":", f);
	if (s->bench_time_s >= 0)
		mtb_json_fixed(f, llround(s->bench_time_s * 10.0), 1);
	else
		fputs("null", f);
	json_key_str(f, "status", s->status, true);
	json_key_str(f, "operator", s->operator_name, true);
	fputs(",\"reference\":{", f);
	json_key_str(f, "name", s->reference_name, false);
	json_key_str(f, "serial", s->reference_serial, true);
	json_key_str(f, "certificate", s->cert_number, true);
	json_key_str(f, "valid_until", s->cert_valid_until, true);
	fputc('}', f);
	if (strcmp(s->mode, "dispute") == 0) {
		fputs(",\"dispute\":{", f);
		json_key_str(f, "case_number", s->case_number, false);
		json_key_str(f, "customer", s->customer, true);
		json_key_str(f, "utility", s->utility, true);
		json_key_str(f, "jurisdiction", s->jurisdiction, true);
		fputc('}', f);
	}
	fputs(",\"meters\":[", f);
	for (int i = 0; i < s->n_meters; i++) {
		const struct mtb_meter_view *m = &s->meters[i];
		fprintf(f, "%s{\"position\":%d", i ? "," : "", m->position);
		json_key_str(f, "serial", m->serial, true);
		json_key_str(f, "type", m->type_name, true);
		json_key_str(f, "verdict", mtb_report_meter_verdict(m, s->rule_set), true);
		fputs(",\"points\":[", f);
		for (int k = 0; k < m->n_points; k++) {
			const struct mtb_point_view *p = &m->points[k];
			fputs(k ? ",{" : "{", f);
			json_key_str(f, "name", p->name, false);
			fputs(",\"flow_lph\":", f);
			json_flow(f, p->flow_lph);
			fputs(",\"actual_l\":", f);
			mtb_json_fixed(f, p->actual_ul, 6);
			fputs(",\"indicated_l\":", f);
			mtb_json_fixed(f, p->indicated_ul, 6);
			fputs(",\"error_pct\":", f);
			mtb_json_fixed(f, p->error_ppm, 4);
			fputs(",\"mpe_pct\":", f);
			mtb_json_fixed(f, p->mpe_ppm, 4);
			fputs(",\"u_exp_pct\":", f);
			mtb_json_fixed(f, p->u_exp_ppm, 4);
			json_key_str(f, "zone", p->zone, true);
			json_key_str(f, "verdict", p->verdict, true);
			json_key_str(f, "start", p->start_method, true);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("]}\n", f);
	return ferror(f) ? MTB_ERR_IO : MTB_OK;
}

/* RFC 4180 quoting when a field needs it. */
static void csv_field(FILE *f, const char *v)
{
	if (!strpbrk(v, ",\"\n\r")) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '"')
			fputc('"', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

int mtb_report_write_csv(const struct mtb_session_view *s, FILE *f)
{
	fputs("session_id,position,serial,type,point,flow_lph,actual_l,indicated_l,error_pct,mpe_pct,u_exp_pct,"
	      "zone,verdict,start,meter_verdict\n", f);
	char a[40], b[40], e[40], mpe[40], u[40];
	for (int i = 0; i < s->n_meters; i++) {
		const struct mtb_meter_view *m = &s->meters[i];
		for (int k = 0; k < m->n_points; k++) {
			const struct mtb_point_view *p = &m->points[k];
			csv_field(f, s->id);
			fprintf(f, ",%d,", m->position);
			csv_field(f, m->serial);
			fputc(',', f);
			csv_field(f, m->type_name);
			fputc(',', f);
			csv_field(f, p->name);
			mtb_decimal_format(a, sizeof a, p->actual_ul, 6, 1);
			mtb_decimal_format(b, sizeof b, p->indicated_ul, 6, 1);
			mtb_decimal_format(e, sizeof e, p->error_ppm, 4, 1);
			mtb_decimal_format(mpe, sizeof mpe, p->mpe_ppm, 4, 1);
			mtb_decimal_format(u, sizeof u, p->u_exp_ppm, 4, 1);
			fprintf(f, ",%.3f,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", p->flow_lph, a, b, e, mpe, u, p->zone, p->verdict,
				p->start_method, mtb_report_meter_verdict(m, s->rule_set));
		}
	}
	return ferror(f) ? MTB_ERR_IO : MTB_OK;
}

/* ---- PDF -------------------------------------------------------------------------------- */

#define PAGE_W 595.0   /* A4 in points */
#define PAGE_H 842.0
#define MARGIN 48.0

static void verdict_words(const char *v, const char **zh, const char **en, double rgb[3])
{
	if (strcmp(v, "pass") == 0) {
		*zh = "合格";
		*en = "PASS";
		rgb[0] = 0.05, rgb[1] = 0.45, rgb[2] = 0.15;
	} else if (strcmp(v, "fail") == 0) {
		*zh = "不合格";
		*en = "FAIL";
		rgb[0] = 0.75, rgb[1] = 0.05, rgb[2] = 0.05;
	} else {
		*zh = "無效";
		*en = strcmp(v, "incomplete") == 0 ? "INCOMPLETE" : "INVALID";
		rgb[0] = 0.6, rgb[1] = 0.4, rgb[2] = 0.0;
	}
}

/* The error curve: error (%) against flow on a logarithmic axis, inside the MPE envelope. */
static void draw_curve(cairo_t *cr, double x0, double y0, double w, double h, const struct mtb_meter_view *m,
		       const struct mtb_meter_type *type, bool have_type, const struct mtb_session_view *s)
{
	double fmin = 1e9, fmax = 0;
	for (int i = 0; i < m->n_points; i++) {
		fmin = fmin < m->points[i].flow_lph ? fmin : m->points[i].flow_lph;
		fmax = fmax > m->points[i].flow_lph ? fmax : m->points[i].flow_lph;
	}
	double lower_mpe = 5, upper_mpe = 2;   /* %, replaced from the rule set below */
	if (have_type) {
		fmin = fmin < type->flow.q1_lph ? fmin : type->flow.q1_lph;
		fmax = fmax > type->flow.q4_lph ? fmax : type->flow.q4_lph;
		const struct mtb_rule_set *rules = mtb_rule_set_find(s->rule_set);
		enum mtb_mode mode = strcmp(s->mode, "verification") == 0 ? MTB_MODE_VERIFICATION : MTB_MODE_IN_SERVICE;
		struct mtb_in_service is;
		mtb_in_service_default(&is);
		int32_t lo, up;
		if (rules && mtb_mpe_ppm(rules, type->accuracy_class, MTB_ZONE_LOWER, 20000, mode, &is, &lo) == MTB_OK &&
		    mtb_mpe_ppm(rules, type->accuracy_class, MTB_ZONE_UPPER, 20000, mode, &is, &up) == MTB_OK) {
			lower_mpe = lo / 1e4;
			upper_mpe = up / 1e4;
		}
	}
	/* The recorded MPEs are what the points were judged by (they carry the jurisdiction). */
	for (int i = 0; i < m->n_points; i++) {
		if (strcmp(m->points[i].zone, "lower") == 0)
			lower_mpe = m->points[i].mpe_ppm / 1e4;
		else if (strcmp(m->points[i].zone, "upper") == 0)
			upper_mpe = m->points[i].mpe_ppm / 1e4;
	}
	if (fmax <= 0)
		fmin = 1, fmax = 10;
	double lx0 = log10(fmin / 1.5), lx1 = log10(fmax * 1.5);
	double ymax = lower_mpe * 1.4;
	for (int i = 0; i < m->n_points; i++) {
		double e = fabs(m->points[i].error_ppm / 1e4) + m->points[i].u_exp_ppm / 1e4;
		ymax = ymax > e * 1.1 ? ymax : e * 1.1;
	}
	double px = 44, pw = w - px - 8, ph = h - 34;
#define X(f) (x0 + px + (log10(f) - lx0) / (lx1 - lx0) * pw)
#define Y(e) (y0 + 8 + (ymax - (e)) / (2 * ymax) * ph)
	cairo_save(cr);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x0 + px, y0 + 8, pw, ph);
	cairo_fill(cr);
	/* grid: decades of flow, zero error */
	cairo_set_line_width(cr, 0.4);
	cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
	for (int d = (int)floor(lx0); d <= (int)ceil(lx1); d++) {
		for (int k = 1; k <= 9; k++) {
			double f = k * pow(10, d);
			if (log10(f) < lx0 || log10(f) > lx1)
				continue;
			cairo_move_to(cr, X(f), y0 + 8);
			cairo_line_to(cr, X(f), y0 + 8 + ph);
		}
	}
	cairo_stroke(cr);
	cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
	cairo_move_to(cr, x0 + px, Y(0));
	cairo_line_to(cr, x0 + px + pw, Y(0));
	cairo_stroke(cr);
	/* MPE envelope: lower zone Q1..Q2, upper zone Q2..Q4 */
	if (have_type) {
		double q1 = type->flow.q1_lph, q2 = type->flow.q2_lph, q4 = type->flow.q4_lph;
		cairo_set_source_rgb(cr, 0.8, 0.1, 0.1);
		cairo_set_line_width(cr, 1.2);
		double dash[] = { 5, 3 };
		cairo_set_dash(cr, dash, 2, 0);
		for (int sgn = -1; sgn <= 1; sgn += 2) {
			cairo_move_to(cr, X(q1), Y(sgn * lower_mpe));
			cairo_line_to(cr, X(q2), Y(sgn * lower_mpe));
			cairo_line_to(cr, X(q2), Y(sgn * upper_mpe));
			cairo_line_to(cr, X(q4), Y(sgn * upper_mpe));
		}
		cairo_move_to(cr, X(q1), Y(lower_mpe));
		cairo_line_to(cr, X(q1), Y(-lower_mpe));
		cairo_move_to(cr, X(q4), Y(upper_mpe));
		cairo_line_to(cr, X(q4), Y(-upper_mpe));
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
	}
	/* points with U bars */
	for (int i = 0; i < m->n_points; i++) {
		const struct mtb_point_view *p = &m->points[i];
		double e = p->error_ppm / 1e4, u = p->u_exp_ppm / 1e4;
		double x = X(p->flow_lph);
		cairo_set_source_rgb(cr, 0.1, 0.2, 0.6);
		cairo_set_line_width(cr, 1);
		cairo_move_to(cr, x, Y(e - u));
		cairo_line_to(cr, x, Y(e + u));
		cairo_move_to(cr, x - 3, Y(e - u));
		cairo_line_to(cr, x + 3, Y(e - u));
		cairo_move_to(cr, x - 3, Y(e + u));
		cairo_line_to(cr, x + 3, Y(e + u));
		cairo_stroke(cr);
		cairo_arc(cr, x, Y(e), 3, 0, 2 * M_PI);
		cairo_fill(cr);
	}
	/* frame and labels */
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_line_width(cr, 0.8);
	cairo_rectangle(cr, x0 + px, y0 + 8, pw, ph);
	cairo_stroke(cr);
	char lab[64];
	for (int d = (int)ceil(lx0); d <= (int)floor(lx1); d++) {
		snprintf(lab, sizeof lab, "%g", pow(10, d));
		mtb_pdf_text(cr, X(pow(10, d)) - 20, y0 + 10 + ph, 40, 7, false, lab, PANGO_ALIGN_CENTER);
	}
	mtb_pdf_text(cr, x0 + px, y0 + 20 + ph, pw, 7.5, false, "流量 Flow rate (L/h, log scale)", PANGO_ALIGN_CENTER);
	double step = ymax > 6 ? 2 : 1;
	for (double e = -floor(ymax / step) * step; e <= ymax; e += step) {
		snprintf(lab, sizeof lab, e == 0 ? "0" : "%+g", e);
		mtb_pdf_text(cr, x0, Y(e) - 5, px - 4, 7, false, lab, PANGO_ALIGN_RIGHT);
	}
	mtb_pdf_text(cr, x0 + px + 4, y0 + 10, pw, 7.5, false, "誤差 Error (%) — 虛線: 最大允許誤差 dashed: MPE", PANGO_ALIGN_LEFT);
	cairo_restore(cr);
#undef X
#undef Y
}

static void draw_meter_page(cairo_t *cr, const struct mtb_session_view *s, const struct mtb_meter_view *m,
			    const char *copy_for)
{
	char b1[256], b2[256], b3[256], markup[2048];
	struct mtb_meter_type type;
	struct mtb_errbuf eb = { { 0 } };
	bool have_type = mtb_meter_type_load(m->type_name, &type, &eb) == MTB_OK;
	double y = MARGIN, w = PAGE_W - 2 * MARGIN;

	const char *title_zh = "水量計檢定報告", *title_en = "Water meter verification report";
	if (strcmp(s->mode, "dispute") == 0)
		title_zh = "水量計糾紛鑑定報告", title_en = "Water meter dispute appraisal report";
	else if (strcmp(s->mode, "in-service") == 0)
		title_zh = "水量計檢查報告", title_en = "Water meter in-service inspection report";
	snprintf(markup, sizeof markup, "%s\n<span size='small'>%s</span>", title_zh, title_en);
	y += mtb_pdf_text(cr, MARGIN, y, w, 18, true, markup, PANGO_ALIGN_LEFT) + 6;
	if (copy_for) {
		snprintf(markup, sizeof markup, "副本 Copy for: <b>%s</b>", mtb_pdf_escape(copy_for, b1, sizeof b1));
		y += mtb_pdf_text(cr, MARGIN, y, w, 9.5, false, markup, PANGO_ALIGN_LEFT) + 4;
	}

	char started[32];
	time_t t = (time_t)s->started_unix_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(started, sizeof started, "%Y-%m-%d %H:%M UTC", &tm);
	snprintf(markup, sizeof markup,
		 "<b>場次 Session</b> %s    <b>日期 Date</b> %s    <b>人員 Operator</b> %s\n"
		 "<b>規範 Standard</b> %s    <b>模式 Mode</b> %s    <b>讀取 Reading</b> %s",
		 mtb_pdf_escape(s->id, b1, sizeof b1), started, mtb_pdf_escape(s->operator_name, b2, sizeof b2), mtb_pdf_escape(s->standard, b3, sizeof b3),
		 s->mode, s->reading);
	y += mtb_pdf_text(cr, MARGIN, y, w, 8.5, false, markup, PANGO_ALIGN_LEFT) + 8;

	if (strcmp(s->mode, "dispute") == 0) {
		char b4[256];
		snprintf(markup, sizeof markup,
			 "<b>案號 Case</b> %s    <b>申請人 Customer</b> %s    <b>供水單位 Utility</b> %s\n"
			 "<b>檢查公差 In-service limits</b>: %s",
			 mtb_pdf_escape(s->case_number, b1, sizeof b1), mtb_pdf_escape(s->customer, b2, sizeof b2), mtb_pdf_escape(s->utility, b3, sizeof b3),
			 mtb_pdf_escape(s->jurisdiction, b4, sizeof b4));
		y += mtb_pdf_text(cr, MARGIN, y, w, 8.5, false, markup, PANGO_ALIGN_LEFT) + 8;
	}

	if (have_type)
		snprintf(b3, sizeof b3, "DN%d, Q3 %g m³/h, R%g, Q1 %g L/h, Q2 %g L/h, Q4 %g L/h, %s %d, %s", type.dn,
			 type.q3_m3h, type.ratio, type.flow.q1_lph, type.flow.q2_lph, type.flow.q4_lph, "class", type.accuracy_class,
			 type.temperature_class);
	else
		snprintf(b3, sizeof b3, "(type %s not found in the configuration)", m->type_name);
	snprintf(markup, sizeof markup,
		 "<b>受測水量計 Meter under test</b>\n序號 Serial: <b>%s</b>    位置 Position: %d    型式 Type: %s\n%s",
		 mtb_pdf_escape(m->serial, b1, sizeof b1), m->position, mtb_pdf_escape(m->type_name, b2, sizeof b2), b3);
	y += mtb_pdf_text(cr, MARGIN, y, w, 9.5, false, markup, PANGO_ALIGN_LEFT) + 8;

	char b4[128];
	snprintf(markup, sizeof markup,
		 "<b>標準器 Reference meter</b>\n%s (serial %s), 校正證書 certificate %s, 有效至 valid until %s",
		 mtb_pdf_escape(s->reference_name, b1, sizeof b1), mtb_pdf_escape(s->reference_serial, b2, sizeof b2),
		 mtb_pdf_escape(s->cert_number, b3, sizeof b3), mtb_pdf_escape(s->cert_valid_until, b4, sizeof b4));
	y += mtb_pdf_text(cr, MARGIN, y, w, 9.5, false, markup, PANGO_ALIGN_LEFT) + 10;

	/* table of points */
	static const char *const head[] = { "測試點\nPoint", "流量 Q\n(L/h)", "標準體積 Va\n(L)", "指示體積 Vi\n(L)",
					   "誤差 E\n(%)", "MPE\n(%)", "U (k=2)\n(%)", "判定\nVerdict" };
	static const double colw[] = { 50, 60, 72, 72, 56, 50, 56, 83 };
	double x = MARGIN;
	cairo_set_source_rgb(cr, 0.92, 0.92, 0.95);
	cairo_rectangle(cr, MARGIN, y, w, 24);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (int c = 0; c < 8; c++) {
		mtb_pdf_text(cr, x + 2, y + 1, colw[c] - 4, 8, true, head[c], PANGO_ALIGN_CENTER);
		x += colw[c];
	}
	y += 26;
	for (int i = 0; i < m->n_points; i++) {
		const struct mtb_point_view *p = &m->points[i];
		char cells[8][64];
		snprintf(cells[0], 64, "%s", p->name);
		snprintf(cells[1], 64, "%.2f", p->flow_lph);
		mtb_decimal_format(cells[2], 64, p->actual_ul, 6, 3);
		mtb_decimal_format(cells[3], 64, p->indicated_ul, 6, 3);
		mtb_decimal_format(cells[4], 64, p->error_ppm, 4, 2);
		char mpe[32];
		mtb_decimal_format(mpe, sizeof mpe, p->mpe_ppm, 4, 1);
		snprintf(cells[5], 64, "±%s", mpe);
		mtb_decimal_format(cells[6], 64, p->u_exp_ppm, 4, 2);
		const char *zh, *en;
		double rgb[3];
		verdict_words(p->verdict, &zh, &en, rgb);
		if (strcmp(p->verdict, "out-of-range") == 0)
			en = "OUT OF RANGE";
		snprintf(cells[7], 64, "%s %s", zh, en);
		x = MARGIN;
		for (int c = 0; c < 8; c++) {
			if (c == 7)
				cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
			mtb_pdf_text(cr, x + 2, y, colw[c] - 4, 9, c == 7, cells[c], PANGO_ALIGN_CENTER);
			cairo_set_source_rgb(cr, 0, 0, 0);
			x += colw[c];
		}
		y += 15;
		cairo_set_line_width(cr, 0.3);
		cairo_move_to(cr, MARGIN, y - 1);
		cairo_line_to(cr, MARGIN + w, y - 1);
		cairo_stroke(cr);
	}
	y += 10;
	draw_curve(cr, MARGIN, y, w, 250, m, &type, have_type, s);
	y += 262;

	const char *zh, *en;
	double rgb[3];
	verdict_words(mtb_report_meter_verdict(m, s->rule_set), &zh, &en, rgb);
	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	snprintf(markup, sizeof markup, "判定 Verdict: %s %s", zh, en);
	y += mtb_pdf_text(cr, MARGIN, y, w, 20, true, markup, PANGO_ALIGN_LEFT) + 8;
	cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
	snprintf(markup, sizeof markup,
		 "E = (Vi − Va)/Va. Va from the reference meter corrected by its certificate and for temperature "
		 "and pressure between reference and meter. A point passes when |E| ≤ MPE (decided in integers, "
		 "µL and ppm); U is the expanded uncertainty (k = 2); a point with U &gt; MPE/3 is invalid. "
		 "The records of this session (samples, readings, images) are sealed in a hash-chained audit log: "
		 "verify with <tt>meterbench audit verify</tt>.");
	mtb_pdf_text(cr, MARGIN, y, w, 7.5, false, markup, PANGO_ALIGN_LEFT);
	cairo_set_source_rgb(cr, 0, 0, 0);
}

int mtb_report_write_pdf(const struct mtb_session_view *s, const char *path, const char *copy_for,
			 struct mtb_errbuf *eb)
{
	char tmp[1100];
	if (mtb_file_out_tmp(path, tmp, sizeof tmp) != MTB_OK)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "report: %s: path too long", path);
	cairo_surface_t *surf = cairo_pdf_surface_create(tmp, PAGE_W, PAGE_H);
	if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
		int rc = mtb_errbuf_set(eb, MTB_ERR_IO, "report: %s: %s", path,
					cairo_status_to_string(cairo_surface_status(surf)));
		cairo_surface_destroy(surf);
		return rc;
	}
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, "meterbench report");
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_SUBJECT, s->id);
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, "meterbench " MTB_VERSION);
	cairo_t *cr = cairo_create(surf);
	for (int i = 0; i < s->n_meters; i++) {
		draw_meter_page(cr, s, &s->meters[i], copy_for);
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_finish(surf);
	cairo_status_t st = cairo_surface_status(surf);
	cairo_surface_destroy(surf);
	if (st != CAIRO_STATUS_SUCCESS) {
		mtb_file_out_commit(tmp, path, false, NULL);
		return mtb_errbuf_set(eb, MTB_ERR_IO, "report: %s: %s", path, cairo_status_to_string(st));
	}
	return mtb_file_out_commit(tmp, path, true, eb);
}

static int write_text_file(const char *dir, const char *name, int (*fn)(const struct mtb_session_view *, FILE *),
			   const struct mtb_session_view *s, struct mtb_errbuf *eb)
{
	char path[1024], tmp[1100];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (mtb_file_out_tmp(path, tmp, sizeof tmp) != MTB_OK)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "report: %s: path too long", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "report: cannot write %s: %s", path, strerror(errno));
	int rc = fn(s, f);
	bool ok = rc == MTB_OK;
	ok = fclose(f) == 0 && ok;
	return mtb_file_out_commit(tmp, path, ok, eb);
}

int mtb_report_write_all(const struct mtb_session_view *s, const char *dir, struct mtb_errbuf *eb)
{
	int rc;
	if ((rc = write_text_file(dir, "results.json", mtb_report_write_json, s, eb)) ||
	    (rc = write_text_file(dir, "results.csv", mtb_report_write_csv, s, eb)))
		return rc;
	char path[1024];
	snprintf(path, sizeof path, "%s/report.pdf", dir);
	if ((rc = mtb_report_write_pdf(s, path, NULL, eb)))
		return rc;
	if (strcmp(s->mode, "dispute") == 0) {
		char who[192];
		snprintf(path, sizeof path, "%s/report-customer.pdf", dir);
		snprintf(who, sizeof who, "申請人 customer — %s", s->customer);
		if ((rc = mtb_report_write_pdf(s, path, who, eb)))
			return rc;
		snprintf(path, sizeof path, "%s/report-utility.pdf", dir);
		snprintf(who, sizeof who, "供水單位 utility — %s", s->utility);
		if ((rc = mtb_report_write_pdf(s, path, who, eb)))
			return rc;
	}
	return MTB_OK;
}
