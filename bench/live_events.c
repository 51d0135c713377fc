/* The live view's events from the run's data (docs/live-view.md): JSON objects on one line,
 * and publishing a committed point from the records. */
#include "bench/live.h"
#include "bench/live_json.h"

#include "bench/report.h"
#include "calibration/meter_type.h"
#include "core/json.h"
#include "vision/vision.h"
#include "vision/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ppm as a percentage, exact: 12345 ppm -> 1.2345 */
static void key_pct(FILE *f, const char *k, int64_t ppm)
{
	mtb_lj_fix(f, k, ppm, 4);
}

/* microlitres as litres, exact */
static void key_l(FILE *f, const char *k, int64_t ul)
{
	mtb_lj_fix(f, k, ul, 6);
}

char *mtb_live_json_session(const struct mtb_session_view *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "session");
	if (!f)
		return NULL;
	mtb_lj_str(f, "id", s->id);
	mtb_lj_str(f, "mode", s->mode);
	mtb_lj_str(f, "standard", s->standard);
	mtb_lj_str(f, "rule_set", s->rule_set);
	mtb_lj_str(f, "jurisdiction", s->jurisdiction);
	mtb_lj_str(f, "plan", s->plan_name);
	mtb_lj_str(f, "bench", s->bench_name);
	mtb_lj_str(f, "reading", s->reading);
	mtb_lj_str(f, "operator", s->operator_name);
	fprintf(f, ",\"started_unix_s\":%lld", (long long)s->started_unix_s);
	fprintf(f, ",\"reference\":{\"name\":");
	mtb_json_string(f, s->reference_name);
	mtb_lj_str(f, "serial", s->reference_serial);
	mtb_lj_str(f, "cert_number", s->cert_number);
	mtb_lj_str(f, "cert_valid_until", s->cert_valid_until);
	fputc('}', f);
	bool dispute = strcmp(s->mode, "dispute") == 0;
	if (dispute) {
		fprintf(f, ",\"dispute\":{\"customer\":");
		mtb_json_string(f, s->customer);
		mtb_lj_str(f, "utility", s->utility);
		mtb_lj_str(f, "case_number", s->case_number);
		fputc('}', f);
	} else {
		fprintf(f, ",\"dispute\":null");
	}
	fprintf(f, ",\"report_url\":\"/report/customer.pdf\",\"meters\":[");
	for (int i = 0; i < s->n_meters; i++) {
		const struct mtb_meter_view *m = &s->meters[i];
		fprintf(f, "%s{\"position\":%d", i ? "," : "", m->position);
		mtb_lj_str(f, "serial", m->serial);
		mtb_lj_str(f, "type", m->type_name);
		/* A dispute plan lists the disputed meter(s) only. */
		fprintf(f, ",\"disputed\":%s}", dispute ? "true" : "false");
	}
	fputc(']', f);
	return mtb_lj_end(f, &buf);
}

char *mtb_live_json_state(const struct mtb_run_progress *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "state");
	if (!f)
		return NULL;
	mtb_lj_str(f, "state", mtb_run_state_name(p->state));
	fprintf(f, ",\"point_index\":%d,\"n_points\":%d", p->point_index, p->n_points);
	mtb_lj_str(f, "point", p->point_name);
	mtb_lj_dbl(f, "target_lph", p->target_lph);
	mtb_lj_dbl(f, "target_volume_l", p->target_volume_l);
	mtb_lj_dbl(f, "bench_time_s", p->bench_time_s);
	fprintf(f, ",\"meters_read\":%d,\"meters_total\":%d", p->meters_read, p->meters_total);
	return mtb_lj_end(f, &buf);
}

char *mtb_live_json_flow(const struct mtb_run_progress *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "flow");
	if (!f)
		return NULL;
	mtb_lj_dbl(f, "flow_lph", p->flow_lph);
	mtb_lj_dbl(f, "target_lph", p->target_lph);
	mtb_lj_dbl(f, "ref_volume_l", p->volume_l);
	mtb_lj_dbl(f, "target_volume_l", p->target_volume_l);
	mtb_lj_dbl(f, "bench_time_s", p->bench_time_s);
	fprintf(f, ",\"point_index\":%d", p->point_index);
	return mtb_lj_end(f, &buf);
}

char *mtb_live_json_reading(int point_index, const char *point_name, const struct mtb_reading_record *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "reading");
	if (!f)
		return NULL;
	fprintf(f, ",\"point_index\":%d", point_index);
	mtb_lj_str(f, "point", point_name);
	fprintf(f, ",\"position\":%d", r->position);
	mtb_lj_str(f, "phase", r->phase);
	fprintf(f, ",\"t_mono_us\":%lld", (long long)r->t_mono_us);
	if (r->volume_ul >= 0) {
		key_l(f, "volume_l", r->volume_ul);
		mtb_lj_dbl(f, "confidence", r->confidence);
	} else {
		fprintf(f, ",\"volume_l\":null,\"confidence\":0.0");   /* the frame gave no reading */
	}
	if (r->image_sha256 && r->image_sha256[0])
		mtb_lj_str(f, "image_sha256", r->image_sha256);
	return mtb_lj_end(f, &buf);
}

char *mtb_live_json_point(int position, const struct mtb_point_view *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "point");
	if (!f)
		return NULL;
	fprintf(f, ",\"position\":%d,\"point_index\":%d", position, p->point_index);
	mtb_lj_str(f, "name", p->name);
	mtb_lj_dbl(f, "flow_lph", p->flow_lph);
	key_l(f, "actual_l", p->actual_ul);
	key_l(f, "indicated_l", p->indicated_ul);
	key_pct(f, "error_pct", p->error_ppm);
	key_pct(f, "mpe_pct", p->mpe_ppm);
	key_pct(f, "u_exp_pct", p->u_exp_ppm);
	mtb_lj_str(f, "zone", p->zone);
	mtb_lj_str(f, "verdict", p->verdict);
	mtb_lj_str(f, "start", p->start_method);
	return mtb_lj_end(f, &buf);
}

char *mtb_live_json_verdict(const struct mtb_session_view *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = mtb_lj_begin(&buf, &len, "verdict");
	if (!f)
		return NULL;
	mtb_lj_str(f, "session_id", s->id);
	mtb_lj_str(f, "status", s->status);
	if (s->bench_time_s >= 0)
		mtb_lj_dbl(f, "bench_time_s", s->bench_time_s);
	mtb_lj_str(f, "cert_number", s->cert_number);
	mtb_lj_str(f, "reference", s->reference_name);
	fprintf(f, ",\"meters\":[");
	for (int i = 0; i < s->n_meters; i++) {
		const struct mtb_meter_view *m = &s->meters[i];
		fprintf(f, "%s{\"position\":%d", i ? "," : "", m->position);
		mtb_lj_str(f, "serial", m->serial);
		mtb_lj_str(f, "verdict", mtb_report_meter_verdict(m, s->rule_set));
		fputc('}', f);
	}
	fputc(']', f);
	return mtb_lj_end(f, &buf);
}

/* The register's region in a frame of w x h pixels under the cameras' nominal framing (the face
 * centred, its bezel, 2.24 face radii across, filling 92 % of the shorter side: docs/live-view.md). */
static void register_region(const struct mtb_layout *l, int w, int h, struct mtb_live_overlay *ov)
{
	double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
	for (int i = 0; i < l->n_rollers; i++) {
		const struct mtb_layout_roller *r = &l->rollers[i];
		x0 = r->x < x0 ? r->x : x0;
		y0 = r->y < y0 ? r->y : y0;
		x1 = r->x + r->w > x1 ? r->x + r->w : x1;
		y1 = r->y + r->h > y1 ? r->y + r->h : y1;
	}
	for (int i = 0; i < l->n_pointers; i++) {
		const struct mtb_layout_pointer *p = &l->pointers[i];
		x0 = p->cx - p->r < x0 ? p->cx - p->r : x0;
		y0 = p->cy - p->r < y0 ? p->cy - p->r : y0;
		x1 = p->cx + p->r > x1 ? p->cx + p->r : x1;
		y1 = p->cy + p->r > y1 ? p->cy + p->r : y1;
	}
	if (x1 <= x0 || l->radius <= 0)
		return;
	double scale = (w < h ? w : h) * 0.92 / (2.24 * l->radius);
	ov->x_px = (int)(w / 2.0 + (x0 - l->size / 2) * scale);
	ov->y_px = (int)(h / 2.0 + (y0 - l->size / 2) * scale);
	ov->w_px = (int)((x1 - x0) * scale);
	ov->h_px = (int)((y1 - y0) * scale);
}

int mtb_live_frame_reading(struct mtb_live *live, int position, const char *type_name, const void *jpeg, size_t len,
			   int64_t volume_ul)
{
	struct mtb_live_overlay ov = { .w_px = 0 };
	if (volume_ul >= 0) {
		/* exact litres, trailing zeros trimmed down to millilitres */
		int n = snprintf(ov.text, sizeof ov.text, "%lld.%06lld", (long long)(volume_ul / 1000000),
				 (long long)(volume_ul % 1000000));
		while (n > 0 && ov.text[n - 1] == '0' && ov.text[n - 4] != '.')
			ov.text[--n] = 0;
		snprintf(ov.text + n, sizeof ov.text - (size_t)n, " L");
	} else
		snprintf(ov.text, sizeof ov.text, "no reading");
	struct mtb_meter_type t;
	struct mtb_layout lay;
	struct mtb_errbuf eb;
	int w, h;
	if (type_name && mtb_meter_type_load(type_name, &t, &eb) == MTB_OK &&
	    mtb_layout_load(t.register_layout, &lay, &eb) == MTB_OK && mtb_image_probe(jpeg, len, &w, &h, &eb) == MTB_OK)
		register_region(&lay, w, h, &ov);
	return mtb_live_frame(live, position, jpeg, len, &ov);
}

static void emit(struct mtb_live *live, char *json)
{
	if (json)
		mtb_live_event(live, json);
	free(json);
}

int mtb_live_publish_point(struct mtb_live *live, struct mtb_records *r, const char *sid, int point_index,
			   struct mtb_errbuf *eb)
{
	struct mtb_session_view *s;
	int rc = mtb_records_session_load(r, sid, &s, eb);
	if (rc != MTB_OK)
		return rc;
	struct mtb_reading_view *rd;
	int n_rd;
	rc = mtb_records_readings_list(r, sid, point_index, &rd, &n_rd, eb);
	if (rc != MTB_OK) {
		free(s);
		return rc;
	}
	const char *name = "";
	for (int i = 0; i < s->n_meters; i++)
		for (int k = 0; k < s->meters[i].n_points; k++)
			if (s->meters[i].points[k].point_index == point_index)
				name = s->meters[i].points[k].name;

	for (int i = 0; i < n_rd; i++) {
		struct mtb_reading_record x = { .position = rd[i].position, .phase = rd[i].phase,
						.t_mono_us = rd[i].t_mono_us, .volume_ul = rd[i].volume_ul,
						.confidence = rd[i].confidence, .image_sha256 = rd[i].image_sha256 };
		emit(live, mtb_live_json_reading(point_index, name, &x));
	}

	/* Each meter's camera shows the last frame kept for the point, its value over the register. */
	for (int i = 0; i < s->n_meters; i++) {
		const struct mtb_meter_view *m = &s->meters[i];
		const struct mtb_reading_view *last = NULL;
		for (int k = 0; k < n_rd; k++)
			if (rd[k].position == m->position && rd[k].image_sha256[0])
				last = &rd[k];
		if (!last)
			continue;
		unsigned char *jpg;
		size_t len;
		char mime[64];
		struct mtb_errbuf ieb;
		if (mtb_records_evidence_get(r, last->image_sha256, &jpg, &len, mime, &ieb) != MTB_OK)
			continue;
		mtb_live_frame_reading(live, m->position, m->type_name, jpg, len, last->volume_ul);
		free(jpg);
	}

	for (int i = 0; i < s->n_meters; i++)
		for (int k = 0; k < s->meters[i].n_points; k++)
			if (s->meters[i].points[k].point_index == point_index)
				emit(live, mtb_live_json_point(s->meters[i].position, &s->meters[i].points[k]));
	free(rd);
	free(s);
	return MTB_OK;
}
