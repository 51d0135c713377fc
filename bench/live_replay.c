/* The replay of a recorded point for the live view (meterbench serve, docs/live-view.md): its
 * reference samples as flow, its dial readings each with the image it was read from, its
 * results, in recorded time order. */
#include "bench/live.h"

#include "bench/procedure.h"
#include "core/decimal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reference totaliser at t_us, interpolated between the recorded samples; the nearest sample
 * outside them. */
static int64_t totaliser_at(const struct mtb_ref_sample *rs, int n, int64_t t_us)
{
	int64_t tot, gap;
	if (n == 0)
		return 0;
	if (mtb_flying_interpolate(rs, n, t_us, INT64_MAX / 4, &tot, &gap) == MTB_OK)
		return tot;
	return t_us < rs[0].t_us ? rs[0].totaliser_ul : rs[n - 1].totaliser_ul;
}

/* One phase's frames of one meter that gave a reading: the median instant and the median
 * reference totaliser at the frames' instants. False when there is none. */
static bool phase_median(const struct mtb_reading_view *rd, int n_rd, int position, const char *phase,
			 const struct mtb_ref_sample *rs, int n_rs, int64_t *t_us, int64_t *ref_ul)
{
	int64_t *tt = malloc(sizeof *tt * (size_t)(n_rd ? n_rd : 1));
	int64_t *ref = malloc(sizeof *ref * (size_t)(n_rd ? n_rd : 1));
	int n = 0;
	for (int k = 0; tt && ref && k < n_rd; k++)
		if (rd[k].position == position && rd[k].volume_ul >= 0 && strcmp(rd[k].phase, phase) == 0) {
			tt[n] = rd[k].t_mono_us;
			ref[n++] = totaliser_at(rs, n_rs, rd[k].t_mono_us);
		}
	if (n > 0) {
		*t_us = mtb_median_i64(tt, n);
		*ref_ul = mtb_median_i64(ref, n);
	}
	free(tt);
	free(ref);
	return n > 0;
}

int mtb_live_point_window(const struct mtb_sample_view *sa, int n_sa, const struct mtb_reading_view *rd, int n_rd,
			  const int *positions, int n_positions, struct mtb_live_window *w)
{
	memset(w, 0, sizeof *w);
	struct mtb_ref_sample *rs = malloc(sizeof *rs * (size_t)(n_sa ? n_sa : 1));
	if (!rs)
		return MTB_ERR_NOMEM;
	for (int i = 0; i < n_sa; i++)
		rs[i] = (struct mtb_ref_sample){ sa[i].t_mono_us, sa[i].totaliser_ul };
	/* The first meter read at both ends: its interval is the one its error was computed over. */
	for (int i = 0; i < n_positions && !w->read; i++) {
		int64_t t0, r0, t1, r1;
		if (phase_median(rd, n_rd, positions[i], "start", rs, n_sa, &t0, &r0) &&
		    phase_median(rd, n_rd, positions[i], "end", rs, n_sa, &t1, &r1) && t1 > t0) {
			*w = (struct mtb_live_window){ .position = positions[i], .read = true, .t_start_us = t0,
						       .t_stop_us = t1, .ref_start_ul = r0, .ref_stop_ul = r1 };
		}
	}
	if (!w->read) {
		/* No meter was read: from the first start frame to the first end frame (the stop). */
		int64_t t0 = INT64_MAX, t1 = INT64_MAX;
		for (int k = 0; k < n_rd; k++) {
			bool start = strcmp(rd[k].phase, "start") == 0;
			if (start && rd[k].t_mono_us < t0)
				t0 = rd[k].t_mono_us;
			if (!start && rd[k].t_mono_us < t1)
				t1 = rd[k].t_mono_us;
		}
		if (t0 == INT64_MAX)
			t0 = n_sa ? sa[0].t_mono_us : 0;
		if (t1 == INT64_MAX || t1 < t0)
			t1 = n_sa ? sa[n_sa - 1].t_mono_us : t0;
		if (t1 < t0)
			t1 = t0;
		*w = (struct mtb_live_window){ .position = 0, .read = false, .t_start_us = t0, .t_stop_us = t1,
					       .ref_start_ul = totaliser_at(rs, n_sa, t0),
					       .ref_stop_ul = totaliser_at(rs, n_sa, t1) };
	}
	free(rs);
	return MTB_OK;
}

int64_t mtb_live_window_volume_ul(const struct mtb_live_window *w, const struct mtb_sample_view *sa, int n_sa,
				  int64_t t_us)
{
	if (t_us <= w->t_start_us)
		return 0;
	int64_t total = w->ref_stop_ul - w->ref_start_ul;
	if (t_us >= w->t_stop_us)
		return total;
	struct mtb_ref_sample *rs = malloc(sizeof *rs * (size_t)(n_sa ? n_sa : 1));
	if (!rs)
		return 0;
	for (int i = 0; i < n_sa; i++)
		rs[i] = (struct mtb_ref_sample){ sa[i].t_mono_us, sa[i].totaliser_ul };
	int64_t v = totaliser_at(rs, n_sa, t_us) - w->ref_start_ul;
	free(rs);
	return v < 0 ? 0 : v > total ? total : v;
}

/* ---- the steps of a point ------------------------------------------------------------------- */

struct steps {
	struct mtb_live_step *v;
	int n, cap;
	bool oom;
};

static struct mtb_live_step *push(struct steps *s, enum mtb_live_step_kind kind, int64_t t_us)
{
	if (s->oom)
		return NULL;
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 64;
		struct mtb_live_step *nv = realloc(s->v, sizeof *nv * (size_t)cap);
		if (!nv) {
			s->oom = true;
			return NULL;
		}
		s->v = nv;
		s->cap = cap;
	}
	struct mtb_live_step *x = &s->v[s->n++];
	memset(x, 0, sizeof *x);
	x->kind = kind;
	x->t_us = t_us;
	return x;
}

static void push_event(struct steps *s, int64_t t_us, char *json)
{
	struct mtb_live_step *x = json ? push(s, MTB_LIVE_STEP_EVENT, t_us) : NULL;
	if (x)
		x->json = json;
	else {
		free(json);
		s->oom = true;
	}
}

static void push_state(struct steps *s, int64_t t_us, enum mtb_run_state st, const struct mtb_run_progress *base)
{
	struct mtb_run_progress p = *base;
	p.state = st;
	push_event(s, t_us, mtb_live_json_state(&p));
}

static int cmp_reading_time(const void *a, const void *b)
{
	const struct mtb_reading_view *x = a, *y = b;
	if (x->t_mono_us != y->t_mono_us)
		return x->t_mono_us < y->t_mono_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void mtb_live_steps_free(struct mtb_live_step *v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i].json);
	free(v);
}

int mtb_live_replay_point(struct mtb_records *r, const struct mtb_session_view *s, int point_index, int n_points,
			  double bench_s0, struct mtb_live_step **out, int *n_out, struct mtb_errbuf *eb)
{
	*out = NULL;
	*n_out = 0;
	struct mtb_sample_view *sa = NULL;
	struct mtb_reading_view *rd = NULL;
	int n_sa = 0, n_rd = 0, rc;
	if ((rc = mtb_records_samples_list(r, s->id, point_index, &sa, &n_sa, eb)) != MTB_OK)
		return rc;
	if ((rc = mtb_records_readings_list(r, s->id, point_index, &rd, &n_rd, eb)) != MTB_OK) {
		free(sa);
		return rc;
	}
	/* Readings are stored meter by meter; the replay shows them as they were taken. */
	if (n_rd > 1)
		qsort(rd, (size_t)n_rd, sizeof *rd, cmp_reading_time);

	const struct mtb_point_view *pv = NULL;
	int positions[MTB_VIEW_MAX_METERS] = { 0 }, n_pos = 0;
	for (int i = 0; i < s->n_meters; i++) {
		positions[n_pos++] = s->meters[i].position;
		for (int k = 0; k < s->meters[i].n_points; k++)
			if (s->meters[i].points[k].point_index == point_index && !pv)
				pv = &s->meters[i].points[k];
	}
	struct mtb_live_window w;
	if ((rc = mtb_live_point_window(sa, n_sa, rd, n_rd, positions, n_pos, &w)) != MTB_OK) {
		free(sa);
		free(rd);
		return mtb_errbuf_set(eb, rc, "replay: out of memory");
	}
	struct mtb_run_progress base = { .point_index = point_index, .n_points = n_points,
					 .point_name = pv ? pv->name : "", .target_lph = pv ? pv->flow_lph : 0,
					 .target_volume_l = (w.ref_stop_ul - w.ref_start_ul) / 1e6 };
	int64_t t0 = n_sa ? sa[0].t_mono_us : (n_rd ? rd[0].t_mono_us : 0);
	if (n_rd && rd[0].t_mono_us < t0)
		t0 = rd[0].t_mono_us;
	struct steps st = { 0 };
	double flow_lph = n_sa ? sa[0].flow_lph : 0;
	base.bench_time_s = bench_s0;
	push_state(&st, t0, MTB_RUN_STABILISE, &base);   /* samples before the start frames: settling */

	enum mtb_run_state shown = MTB_RUN_STABILISE;
	bool stopped = false;
	for (int i = 0, k = 0; !st.oom && (i < n_sa || k < n_rd);) {
		bool sample = k >= n_rd || (i < n_sa && sa[i].t_mono_us <= rd[k].t_mono_us);
		int64_t t = sample ? sa[i].t_mono_us : rd[k].t_mono_us;
		base.bench_time_s = bench_s0 + (double)(t - t0) / 1e6;
		/* The stop: the volume stops at its value at the stop instant, as the point records it. */
		if (!stopped && t >= w.t_stop_us) {
			struct mtb_run_progress p = base;
			p.state = MTB_RUN_STOP;
			p.flow_lph = flow_lph;
			p.volume_l = (w.ref_stop_ul - w.ref_start_ul) / 1e6;
			p.bench_time_s = bench_s0 + (double)(w.t_stop_us - t0) / 1e6;
			push_event(&st, w.t_stop_us, mtb_live_json_flow(&p));
			stopped = true;
		}
		if (sample) {
			flow_lph = sa[i].flow_lph;
			struct mtb_run_progress p = base;
			p.state = MTB_RUN_RUN;
			p.flow_lph = flow_lph;
			p.volume_l = mtb_live_window_volume_ul(&w, sa, n_sa, t) / 1e6;
			push_event(&st, t, mtb_live_json_flow(&p));
			i++;
			continue;
		}
		enum mtb_run_state want = strcmp(rd[k].phase, "start") == 0 ? MTB_RUN_START : MTB_RUN_READ;
		if (want != shown) {
			push_state(&st, t, want, &base);
			shown = want;
		}
		struct mtb_reading_record x = { .position = rd[k].position, .phase = rd[k].phase,
						.t_mono_us = rd[k].t_mono_us, .volume_ul = rd[k].volume_ul,
						.confidence = rd[k].confidence, .image_sha256 = rd[k].image_sha256 };
		push_event(&st, t, mtb_live_json_reading(point_index, base.point_name, &x));
		/* The image the reading was made from, right after it: the pair is shown together. */
		struct mtb_live_step *f = rd[k].image_sha256[0] ? push(&st, MTB_LIVE_STEP_FRAME, t) : NULL;
		if (f) {
			f->position = rd[k].position;
			f->volume_ul = rd[k].volume_ul;
			snprintf(f->image_sha256, sizeof f->image_sha256, "%s", rd[k].image_sha256);
		}
		k++;
		bool more_start = k < n_rd && strcmp(rd[k].phase, "start") == 0;
		if (want == MTB_RUN_START && !more_start) {
			push_state(&st, t, MTB_RUN_RUN, &base);
			shown = MTB_RUN_RUN;
		}
	}
	int64_t t_end = st.n ? st.v[st.n - 1].t_us : t0;
	base.bench_time_s = bench_s0 + (double)(t_end - t0) / 1e6;
	if (!stopped) {
		struct mtb_run_progress p = base;
		p.flow_lph = flow_lph;
		p.volume_l = (w.ref_stop_ul - w.ref_start_ul) / 1e6;
		push_event(&st, t_end, mtb_live_json_flow(&p));
	}
	push_state(&st, t_end, MTB_RUN_JUDGE, &base);
	for (int i = 0; i < s->n_meters; i++)
		for (int k = 0; k < s->meters[i].n_points; k++)
			if (s->meters[i].points[k].point_index == point_index)
				push_event(&st, t_end, mtb_live_json_point(s->meters[i].position, &s->meters[i].points[k]));
	push_state(&st, t_end, MTB_RUN_COMMIT, &base);
	free(sa);
	free(rd);
	if (st.oom) {
		mtb_live_steps_free(st.v, st.n);
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "replay: out of memory");
	}
	*out = st.v;
	*n_out = st.n;
	return MTB_OK;
}
