#include "bench/sequencer.h"

#include "bench/pid.h"
#include "bench/procedure.h"
#include "bench/results.h"
#include "calibration/uncertainty.h"
#include "calibration/water.h"
#include "core/decimal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char TAG[] = "sequencer";

const char *mtb_run_state_name(enum mtb_run_state s)
{
	static const char *const names[] = { "idle", "purge", "set-flow", "stabilise", "start", "run", "stop",
					     "read", "judge", "commit", "done", "aborted" };
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void mtb_run_params_default(struct mtb_run_params *p)
{
	memset(p, 0, sizeof *p);
	p->purge_s = 60;
	p->purge_valve_pct = 100;
	p->pump_hz = 50;
	p->sample_period_s = 0.2;
	p->stab_window_s = 10;
	p->stab_tol_lower_ppm = 25000;
	p->stab_tol_upper_ppm = 50000;
	p->stab_timeout_s = 180;
	p->frames = 3;
	p->max_frames = 10;
	p->max_plausible_error = 0.5;
	p->sync_u_s = 0.005;
	p->temp_u_k = 0.3;
	p->ref_repeat_u = 0.0002;
	p->manual_read_s = 15;
	p->settle_s = 5;
	p->ramp_u_of_mpe = 0.1;
	p->pid.kp = 10;
	p->pid.ti_s = 2;
	p->pid.td_s = 0;
}

/* ---- run context ------------------------------------------------------------------------ */

#define MAX_SAMPLES 200000   /* 11 h of 0.2 s samples: more than any point */
#define MAX_FRAMES 16

struct meter_frames {
	int n;
	struct mtb_dial_obs obs[MAX_FRAMES];
	int64_t ref_ul[MAX_FRAMES];        /* reference totaliser at each frame's instant */
};

struct run {
	const struct mtb_bench_io *io;
	const struct mtb_run_opts *o;
	const struct mtb_run_params *p;
	struct mtb_run_summary *sum;
	struct mtb_errbuf *eb;
	int64_t t0_us;                     /* first valve command */
	int64_t t_last_us;                 /* last reading */
	bool started;
	struct mtb_pid pid;
	double valve_pct;
	/* reference samples of the current point */
	int n_samples;
	struct mtb_ref_obs *samples;
	/* readings of the current point: [meter][start|end] */
	struct meter_frames (*frames)[2];
	/* each meter's budget and corrections of the point being judged, as JSON */
	struct point_json { char budget[1024], corrections[512]; } *json;
	uint64_t rng;
	struct mtb_run_progress prog;
};

static void progress(struct run *r, enum mtb_run_state s)
{
	r->prog.state = s;
	r->prog.bench_time_s = r->started ? (r->io->ops->now_us(r->io->ctx) - r->t0_us) / 1e6 : 0;
	if (r->o->progress)
		r->o->progress(r->o->progress_user, &r->prog);
}

static int fail(struct run *r, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct run *r, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->sum->reason, sizeof r->sum->reason, fmt, ap);
	va_end(ap);
	const char *dev = r->io->ops->last_error ? r->io->ops->last_error(r->io->ctx) : NULL;
	if (dev && *dev && rc != MTB_ERR_STATE) {
		size_t n = strlen(r->sum->reason);
		snprintf(r->sum->reason + n, sizeof r->sum->reason - n, " (%s)", dev);
	}
	mtb_log_msg(r->o->log, MTB_LOG_ERROR, TAG, "%s", r->sum->reason);
	mtb_errbuf_set(r->eb, rc, "%s", r->sum->reason);
	return rc;
}

static bool aborted(struct run *r)
{
	return r->o->abort_flag && __atomic_load_n(r->o->abort_flag, __ATOMIC_SEQ_CST);
}

static int64_t now(struct run *r)
{
	return r->io->ops->now_us(r->io->ctx);
}

static void mark_start(struct run *r)
{
	if (!r->started) {
		r->started = true;
		r->t0_us = now(r);
	}
}

static int sample(struct run *r, struct mtb_ref_obs *out)
{
	int rc = r->io->ops->read_reference(r->io->ctx, out);
	if (rc != MTB_OK)
		return fail(r, rc, "reference meter cannot be read");
	if (r->n_samples < MAX_SAMPLES) {
		/* Totalisers only grow; a sample out of time order is dropped, not used. */
		if (r->n_samples == 0 || out->t_us > r->samples[r->n_samples - 1].t_us)
			r->samples[r->n_samples++] = *out;
	}
	return MTB_OK;
}

static int wait_s(struct run *r, double s)
{
	int rc = r->io->ops->wait_us(r->io->ctx, (int64_t)llround(s * 1e6));
	return rc == MTB_OK ? MTB_OK : fail(r, rc, "bench clock failed");
}

/* One control period: sample the reference, step the PID on the valve (unless hold: the valve
 * stays where it is), let time pass. */
static int control_step(struct run *r, double setpoint, bool hold, struct mtb_ref_obs *obs)
{
	int rc = sample(r, obs);
	if (rc != MTB_OK)
		return rc;
	if (hold) {
		r->prog.flow_lph = obs->flow_lph;
		return wait_s(r, r->p->sample_period_s);
	}
	double out = mtb_pid_step(&r->pid, setpoint, obs->flow_lph, obs->t_us);
	if (fabs(out - r->valve_pct) > 1e-6) {
		if ((rc = r->io->ops->set_valve_pct(r->io->ctx, out)) != MTB_OK)
			return fail(r, rc, "control valve cannot be set");
		r->valve_pct = out;
	}
	r->prog.flow_lph = obs->flow_lph;
	return wait_s(r, r->p->sample_period_s);
}

static int purge(struct run *r)
{
	progress(r, MTB_RUN_PURGE);
	int rc;
	mark_start(r);
	if ((rc = r->io->ops->set_pump_hz(r->io->ctx, r->p->pump_hz)) != MTB_OK)
		return fail(r, rc, "pump cannot be started");
	if ((rc = r->io->ops->set_inlet(r->io->ctx, true)) != MTB_OK)
		return fail(r, rc, "inlet valve cannot be opened");
	if ((rc = r->io->ops->set_valve_pct(r->io->ctx, r->p->purge_valve_pct)) != MTB_OK)
		return fail(r, rc, "control valve cannot be opened");
	r->valve_pct = r->p->purge_valve_pct;
	for (double t = 0; t < r->p->purge_s; t += 1.0) {
		if (aborted(r))
			return fail(r, MTB_ERR_STATE, "aborted by the operator during purge");
		struct mtb_ref_obs obs;
		if ((rc = sample(r, &obs)) != MTB_OK || (rc = wait_s(r, 1.0)) != MTB_OK)
			return rc;
		r->prog.flow_lph = obs.flow_lph;
		progress(r, MTB_RUN_PURGE);
	}
	return MTB_OK;
}

static int set_flow(struct run *r, const struct mtb_plan_point *pt)
{
	progress(r, MTB_RUN_SET_FLOW);
	struct mtb_pid_params pp = { r->p->pid.kp, r->p->pid.ti_s, r->p->pid.td_s, 0, 100 };
	mtb_pid_init(&r->pid, &pp, r->valve_pct);
	struct mtb_stability st;
	bool lower = mtb_zone_of(&r->o->plan->type.flow, pt->flow_lph) == MTB_ZONE_LOWER;
	mtb_stability_init(&st, (int64_t)(r->p->stab_window_s * 1e6), lower ? r->p->stab_tol_lower_ppm : r->p->stab_tol_upper_ppm);
	int64_t t_begin = now(r);
	progress(r, MTB_RUN_STABILISE);
	for (;;) {
		if (aborted(r))
			return fail(r, MTB_ERR_STATE, "aborted by the operator while setting the flow");
		struct mtb_ref_obs obs;
		int rc = control_step(r, pt->flow_lph, false, &obs);
		if (rc != MTB_OK)
			return rc;
		mtb_stability_add(&st, obs.t_us, obs.flow_lph);
		if (mtb_stability_ok(&st, pt->flow_lph, obs.t_us))
			return MTB_OK;
		if (obs.t_us - t_begin > (int64_t)(r->p->stab_timeout_s * 1e6))
			return fail(r, MTB_ERR_TIMEOUT, "point %s: flow did not settle within +-%.1f %% of %.2f L/h in %.0f s (last %.2f L/h)",
				    pt->name, (lower ? r->p->stab_tol_lower_ppm : r->p->stab_tol_upper_ppm) / 1e4, pt->flow_lph,
				    r->p->stab_timeout_s, obs.flow_lph);
	}
}

struct phase_frames {
	int n;                               /* readable frames placed on the reference */
	int64_t off[MAX_FRAMES];             /* reading - reference at the frame's instant */
	int64_t raw[MAX_FRAMES];             /* the same with the camera's value (before a technician's rounding) */
	int64_t ref[MAX_FRAMES], t[MAX_FRAMES];
	double resid[MAX_FRAMES];            /* offset less the meter's own drift, sorted */
	double resolution_l;                 /* worst resolution of these readings */
	double tol_ul;                       /* how far two camera values may disagree */
};
static void phase_frames_collect(struct run *r, int m, int ph, bool manual, struct phase_frames *pf);
static double phase_frames_slope(const struct phase_frames *pf, double max_abs);
static int phase_frames_agreeing(struct phase_frames *pf, double slope);
static bool phase_frames_accepted(const struct phase_frames *pf, int agreeing, int need);

/* Takes frames of every meter that has fewer readable ones than want_i[meter], one round per
 * sample period, until none lacks or *f reaches `attempts` (a refused frame is retaken, as an
 * operator would look again). Each frame is bracketed by reference samples. */
static int take_frames(struct run *r, int phase, const int *want_i, int *f, int attempts)
{
	const struct mtb_plan *plan = r->o->plan;
	struct mtb_ref_obs obs;
	int rc = MTB_OK;
	for (; *f < attempts; ++*f) {
		int need[MTB_PLAN_MAX_METERS], n_need = 0, idx[MTB_PLAN_MAX_METERS];
		for (int i = 0; i < plan->n_meters; i++) {
			int good = 0;
			for (int k = 0; k < r->frames[i][phase].n; k++)
				good += r->frames[i][phase].obs[k].ok;
			if (good < want_i[i]) {
				need[n_need] = plan->meters[i].position;
				idx[n_need++] = i;
			}
		}
		if (n_need == 0)
			break;
		struct mtb_dial_obs d[MTB_PLAN_MAX_METERS];
		memset(d, 0, sizeof d);
		if ((rc = r->io->ops->read_dials(r->io->ctx, need, n_need, d)) != MTB_OK)
			return fail(r, rc, "cameras cannot be read");
		for (int k = 0; k < n_need; k++) {
			struct meter_frames *mf = &r->frames[idx[k]][phase];
			if (mf->n < MAX_FRAMES)
				mf->obs[mf->n++] = d[k];
			else
				free(d[k].jpeg);
		}
		if ((rc = wait_s(r, r->p->sample_period_s)) != MTB_OK || (rc = sample(r, &obs)) != MTB_OK)
			return rc;
	}
	return MTB_OK;
}

/* Places every readable frame of the phase on the reference totaliser (interpolated to the
 * frame's instant); a frame outside the samples becomes unreadable. */
static int place_frames(struct run *r, int phase)
{
	const struct mtb_plan *plan = r->o->plan;
	struct mtb_ref_sample *rs = malloc(sizeof *rs * (size_t)(r->n_samples ? r->n_samples : 1));
	if (!rs)
		return fail(r, MTB_ERR_NOMEM, "out of memory");
	for (int k = 0; k < r->n_samples; k++)
		rs[k] = (struct mtb_ref_sample){ r->samples[k].t_us, r->samples[k].totaliser_ul };
	int64_t max_gap = (int64_t)(r->p->sample_period_s * 3e6) + 1000000;
	for (int i = 0; i < plan->n_meters; i++) {
		struct meter_frames *mf = &r->frames[i][phase];
		for (int f = 0; f < mf->n; f++) {
			int64_t gap;
			if (mf->obs[f].ok &&
			    mtb_flying_interpolate(rs, r->n_samples, mf->obs[f].t_us, max_gap, &mf->ref_ul[f], &gap) != MTB_OK) {
				mf->obs[f].ok = false;
				snprintf(mf->obs[f].reason, sizeof mf->obs[f].reason, "frame time outside the reference samples");
			}
		}
	}
	free(rs);
	return MTB_OK;
}

/* Dial readings of every meter for one phase (0 start, 1 end), flying or at rest: `frames`
 * frames that agree with each other and are most of the readable ones (a dial read once has
 * nothing to catch a digit taken for another, and the error that makes passes for the meter's
 * own). When one stands apart (a misread, or a frame whose instant was off), more are taken
 * for that meter, within max_frames, rather than the meter given up or the odd frame averaged
 * in; combine() then uses the agreeing ones. */
static int read_all(struct run *r, int phase)
{
	const struct mtb_plan *plan = r->o->plan;
	int want = r->p->frames;
	int attempts = want > r->p->max_frames ? want : r->p->max_frames;
	if (attempts > MAX_FRAMES)
		attempts = MAX_FRAMES;
	int want_i[MTB_PLAN_MAX_METERS];
	for (int i = 0; i < plan->n_meters; i++) {
		r->frames[i][phase].n = 0;
		want_i[i] = want;
	}
	struct mtb_ref_obs obs;
	int rc = sample(r, &obs);
	int f = 0;
	for (bool more = true; rc == MTB_OK && more;) {
		if ((rc = take_frames(r, phase, want_i, &f, attempts)) != MTB_OK ||
		    (rc = place_frames(r, phase)) != MTB_OK)
			break;
		more = false;
		for (int i = 0; want > 1 && f < attempts && i < plan->n_meters; i++) {
			struct phase_frames pf;
			phase_frames_collect(r, i, phase, false, &pf);
			int readable = pf.n;
			double slope = phase_frames_slope(&pf, r->p->max_plausible_error);
			if (readable >= want_i[i] && !phase_frames_accepted(&pf, phase_frames_agreeing(&pf, slope), want)) {
				want_i[i] = readable + 1;
				more = true;
			}
		}
	}
	r->t_last_us = now(r);
	return rc;
}

/* The modelled technician: reads the dial to the nearest scale interval (error within +-1/2
 * interval, the allowance of R 49 for a continuous dial). */
static int64_t manual_reading(int64_t camera_ul, int64_t interval_ul)
{
	return mtb_div_round(camera_ul, interval_ul) * interval_ul;
}

struct meter_result {
	bool readable;
	char why[96];
	int64_t vi_ul;             /* indicated volume */
	int64_t va_raw_ul;         /* reference volume over the same interval, uncorrected */
	double resolution_l;       /* worst resolution of the readings used */
	double spread_l;           /* widest spread of the frames' offsets at start or end */
	int64_t t_start_us, t_end_us;
};

/* A meter's readable frames of one phase: offsets, their reference values and instants, and
 * the tolerance two of them may disagree by once the meter's own error is taken out (below):
 * the camera's steps, plus the water that passes in the timing uncertainty of two frames (a
 * frame's instant is known to +-sync_u_s). Agreement is judged on the camera's values also for
 * --reading manual, whose readings are made from the same frames: rounding to the scale
 * interval would hide a misread smaller than twenty intervals. */
static void phase_frames_collect(struct run *r, int m, int ph, bool manual, struct phase_frames *pf)
{
	memset(pf, 0, sizeof *pf);
	int64_t interval = r->o->plan->type.scale_interval_ul;
	const struct meter_frames *mf = &r->frames[m][ph];
	double cam_resol = 0.0;
	for (int f = 0; f < mf->n; f++) {
		const struct mtb_dial_obs *o = &mf->obs[f];
		if (!o->ok)
			continue;
		int64_t reading = manual ? manual_reading(o->volume_ul, interval) : o->volume_ul;
		double resol = manual ? interval / 1e6 : o->resolution_l;
		pf->resolution_l = pf->resolution_l > resol ? pf->resolution_l : resol;
		cam_resol = cam_resol > o->resolution_l ? cam_resol : o->resolution_l;
		pf->off[pf->n] = reading - mf->ref_ul[f];
		pf->raw[pf->n] = o->volume_ul - mf->ref_ul[f];
		pf->ref[pf->n] = mf->ref_ul[f];
		pf->t[pf->n] = o->t_us;
		pf->n++;
	}
	double flow_ulpms = r->prog.flow_lph / 3.6e3 * 1e3;   /* uL per ms */
	pf->tol_ul = 20.0 * cam_resol * 1e6 + 2.0 * flow_ulpms * r->p->sync_u_s * 1e3 + 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The meter's own error makes a frame's offset grow with the water through it: offset =
 * E x (reference volume) + constant. Frames a few tenths of a second apart at Q3 differ by
 * E x Q x dt, several millilitres for a meter a few per cent off, so frames are compared on
 * the offset less that drift. Within one phase the drift is estimated as the median of the
 * pairwise slopes (Theil-Sen, robust to one odd frame among four or more), bounded by
 * +-max_abs; it only decides whether to take more frames. */
static double phase_frames_slope(const struct phase_frames *pf, double max_abs)
{
	double sl[MAX_FRAMES * (MAX_FRAMES - 1) / 2];
	int k = 0;
	for (int i = 0; i < pf->n; i++)
		for (int j = i + 1; j < pf->n; j++)
			if (pf->ref[j] != pf->ref[i])
				sl[k++] = (double)(pf->raw[j] - pf->raw[i]) / (double)(pf->ref[j] - pf->ref[i]);
	if (k == 0)
		return 0.0;
	qsort(sl, (size_t)k, sizeof sl[0], cmp_double);
	double m = k % 2 ? sl[k / 2] : 0.5 * (sl[k / 2 - 1] + sl[k / 2]);
	return m > max_abs ? max_abs : m < -max_abs ? -max_abs : m;
}

/* Keeps the largest set of frames whose residuals (offset less slope x reference volume) lie
 * within the tolerance of each other (the narrowest of equal sets, then the first), dropping
 * the others; returns how many there were before. */
static int phase_frames_agreeing(struct phase_frames *pf, double slope)
{
	int n = pf->n;
	int order[MAX_FRAMES];
	double key[MAX_FRAMES][2];
	for (int i = 0; i < n; i++) {
		key[i][0] = (double)pf->raw[i] - slope * (double)(pf->ref[i] - pf->ref[0]);
		key[i][1] = i;
	}
	qsort(key, (size_t)n, sizeof key[0], cmp_double);   /* by residual (first member) */
	for (int i = 0; i < n; i++)
		order[i] = (int)key[i][1];
	int best = 0, best_len = 0;
	for (int i = 0, j = 0; i < n; i++) {
		if (j < i)
			j = i;
		while (j + 1 < n && key[j + 1][0] - key[i][0] <= pf->tol_ul)
			j++;
		int len = j - i + 1;
		if (len > best_len || (len == best_len && key[j][0] - key[i][0] < key[best + best_len - 1][0] - key[best][0])) {
			best = i;
			best_len = len;
		}
	}
	struct phase_frames kept = *pf;
	for (int k = 0; k < best_len; k++) {
		int i = order[best + k];
		kept.off[k] = pf->off[i];
		kept.raw[k] = pf->raw[i];
		kept.ref[k] = pf->ref[i];
		kept.t[k] = pf->t[i];
		kept.resid[k] = key[best + k][0];
	}
	kept.n = best_len;
	*pf = kept;
	return n;
}

/* Enough agreeing frames, and most of the readable ones. */
static bool phase_frames_accepted(const struct phase_frames *pf, int readable, int need)
{
	return pf->n >= need && 2 * pf->n > readable;
}

/* Combines a meter's start and end frames: each frame gives offset = reading - reference at its
 * instant; the medians of the agreeing frames' offsets at start and end, with their median
 * reference instants, give Vi and Va over one common interval (the offsets move linearly with
 * the reference volume, so the median offset and the median reference belong together). The
 * meter's drift used to compare frames is here the error over the whole point from the medians
 * of all readable frames, which one odd frame per phase cannot move far. When the frames do not
 * agree (fewer than two within tolerance, or not most of them), the meter is unreadable for
 * this point rather than averaged into a guess. */
static void combine(struct run *r, int m, bool manual, struct meter_result *res)
{
	memset(res, 0, sizeof *res);
	int64_t off[2][MAX_FRAMES], ref[2][MAX_FRAMES], tt[2][MAX_FRAMES];
	int n[2] = { 0, 0 };
	/* Two readable frames at least, flying or at rest, camera or the modelled technician: one
	 * frame cannot show a misread. */
	int need = r->p->frames > 1 ? 2 : 1;
	struct phase_frames pf[2];
	for (int ph = 0; ph < 2; ph++) {
		phase_frames_collect(r, m, ph, manual, &pf[ph]);
		res->resolution_l = res->resolution_l > pf[ph].resolution_l ? res->resolution_l : pf[ph].resolution_l;
		if (pf[ph].n < need) {
			const char *why = r->frames[m][ph].n ? r->frames[m][ph].obs[0].reason : "no frame";
			snprintf(res->why, sizeof res->why, "%s reading: %s", ph ? "end" : "start", why[0] ? why : "refused");
			return;
		}
		memcpy(off[ph], pf[ph].raw, sizeof off[ph]);
		memcpy(ref[ph], pf[ph].ref, sizeof ref[ph]);
	}
	int64_t d_ref = mtb_median_i64(ref[1], pf[1].n) - mtb_median_i64(ref[0], pf[0].n);
	double slope = d_ref > 0 ? (double)(mtb_median_i64(off[1], pf[1].n) - mtb_median_i64(off[0], pf[0].n)) / (double)d_ref : 0.0;
	double lim = r->p->max_plausible_error;
	slope = slope > lim ? lim : slope < -lim ? -lim : slope;
	for (int ph = 0; ph < 2; ph++) {
		int readable = phase_frames_agreeing(&pf[ph], slope);
		if (!phase_frames_accepted(&pf[ph], readable, need)) {
			snprintf(res->why, sizeof res->why, "%s frames disagree (%d of %d within %.4f L)", ph ? "end" : "start",
				 pf[ph].n, readable, pf[ph].tol_ul / 1e6);
			return;
		}
		/* The spread the agreeing frames showed is evidence of the reading's uncertainty: the
		 * budget takes it when it is wider than the reader's nominal steps. */
		double spread_l = (pf[ph].resid[pf[ph].n - 1] - pf[ph].resid[0]) / 1e6;
		if (spread_l > res->spread_l)
			res->spread_l = spread_l;
		n[ph] = pf[ph].n;
		memcpy(off[ph], pf[ph].off, sizeof pf[ph].off[0] * (size_t)n[ph]);
		memcpy(ref[ph], pf[ph].ref, sizeof pf[ph].ref[0] * (size_t)n[ph]);
		memcpy(tt[ph], pf[ph].t, sizeof pf[ph].t[0] * (size_t)n[ph]);
	}
	int64_t off_s = mtb_median_i64(off[0], n[0]), off_e = mtb_median_i64(off[1], n[1]);
	int64_t ref_s = mtb_median_i64(ref[0], n[0]), ref_e = mtb_median_i64(ref[1], n[1]);
	res->t_start_us = mtb_median_i64(tt[0], n[0]);
	res->t_end_us = mtb_median_i64(tt[1], n[1]);
	res->va_raw_ul = ref_e - ref_s;
	res->vi_ul = res->va_raw_ul + off_e - off_s;
	res->readable = res->va_raw_ul > 0;
	if (!res->readable) {
		snprintf(res->why, sizeof res->why, "no reference volume between the readings");
		return;
	}
	/* A register that moved far otherwise than the water through it was misread (a digit taken
	 * for another in every frame): refused for the operator to look at, never reported. */
	double e = (double)(res->vi_ul - res->va_raw_ul) / (double)res->va_raw_ul;
	if (fabs(e) > r->p->max_plausible_error) {
		res->readable = false;
		snprintf(res->why, sizeof res->why, "reading implausible against the reference (E = %+.1f %%): check the dial",
			 e * 100);
	}
}

/* Mean of the samples between two instants (flow, temperatures, pressures). */
static void mean_conditions(struct run *r, int64_t t0, int64_t t1, struct mtb_ref_obs *out)
{
	memset(out, 0, sizeof *out);
	int n = 0;
	for (int k = 0; k < r->n_samples; k++) {
		const struct mtb_ref_obs *s = &r->samples[k];
		if (s->t_us < t0 || s->t_us > t1)
			continue;
		out->flow_lph += s->flow_lph;
		out->temp_ref_c += s->temp_ref_c;
		out->temp_out_c += s->temp_out_c;
		out->p_in_kpa += s->p_in_kpa;
		out->p_out_kpa += s->p_out_kpa;
		n++;
	}
	if (n == 0 && r->n_samples > 0) {
		*out = r->samples[r->n_samples - 1];
		return;
	}
	if (n > 0) {
		out->flow_lph /= n;
		out->temp_ref_c /= n;
		out->temp_out_c /= n;
		out->p_in_kpa /= n;
		out->p_out_kpa /= n;
	}
}

/* What a standing start's ramps may add to a meter's error. Over the ramps the water passes at
 * every flow below the test flow Q, and the measured error is the volume-weighted mean of the
 * meter's error over all of it (R 49-2 asks for a test volume large enough to make this
 * negligible and gives no figure). The reference samples say how much water passed at which
 * flow; what the meter's error did there is not known, only bounded: for a meter within its
 * MPEs it differs from its error at Q by at most MPE(q) + MPE(Q), and below Q1 a meter may not
 * register at all (1 + MPE(Q)). Each slice of water between two samples (from sample k0 on,
 * within [t0, t1]) outside the flow-stability band of Q counts with the bound at the lower of
 * its two flows. Returns the sum of slice x bound, in uL; *total_ul gets all the water of the
 * stretch. A meter far outside its MPEs can differ by more; its verdict is a fail either way. */
static double ramp_bound_ul(const struct run *r, int k0, int64_t t0_us, int64_t t1_us, double flow_lph,
			    int32_t water_temp_mdegc, int64_t *total_ul)
{
	const struct mtb_plan *plan = r->o->plan;
	enum mtb_mode mode = mtb_plan_mpe_mode(plan);
	enum mtb_zone zone = mtb_zone_of(&plan->type.flow, flow_lph);
	double band = (zone == MTB_ZONE_LOWER ? r->p->stab_tol_lower_ppm : r->p->stab_tol_upper_ppm) / 1e6;
	int32_t mpe_q_ppm = 0;
	if (mtb_mpe_ppm(plan->rules, plan->type.accuracy_class, zone, water_temp_mdegc, mode, r->o->in_service,
			&mpe_q_ppm) != MTB_OK)
		mpe_q_ppm = 0;
	double bounded_ul = 0;
	*total_ul = 0;
	for (int k = k0 + 1; k < r->n_samples; k++) {
		const struct mtb_ref_obs *a = &r->samples[k - 1], *b = &r->samples[k];
		if (b->t_us <= t0_us || a->t_us >= t1_us)
			continue;
		int64_t dv = b->totaliser_ul - a->totaliser_ul;
		*total_ul += dv;
		if (fabs(a->flow_lph - flow_lph) <= band * flow_lph && fabs(b->flow_lph - flow_lph) <= band * flow_lph)
			continue;
		double q = fmin(a->flow_lph, b->flow_lph);
		enum mtb_zone zq = mtb_zone_of(&plan->type.flow, q);
		if (zq == MTB_ZONE_OUT_OF_RANGE && q > plan->type.flow.q4_lph)
			zq = MTB_ZONE_UPPER;
		int32_t mpe_ppm = 1000000;
		if (zq == MTB_ZONE_OUT_OF_RANGE ||
		    mtb_mpe_ppm(plan->rules, plan->type.accuracy_class, zq, water_temp_mdegc, mode, r->o->in_service,
				&mpe_ppm) != MTB_OK)
			mpe_ppm = 1000000;
		bounded_ul += (double)dv * (mpe_ppm + mpe_q_ppm) / 1e6;
	}
	return bounded_ul;
}

/* ramp_bound_ul from sample k0 to the last one, at the last sample's water temperature. */
static double ramp_since(const struct run *r, int k0, double flow_lph)
{
	if (r->n_samples < k0 + 2)
		return 0;
	const struct mtb_ref_obs *last = &r->samples[r->n_samples - 1];
	int64_t total_ul;
	return ramp_bound_ul(r, k0, r->samples[k0].t_us, last->t_us + 1, flow_lph,
			     (int32_t)llround(last->temp_ref_c * 1000), &total_ul);
}

/* The ramps' term of a standing-start point: the half-width (rectangular) of what they may add
 * to the error, relative to the test's water. */
static double standing_start_rel(const struct run *r, int64_t t0_us, int64_t t1_us, double flow_lph,
				 int32_t water_temp_mdegc)
{
	int64_t total_ul;
	double b_ul = ramp_bound_ul(r, 0, t0_us, t1_us, flow_lph, water_temp_mdegc, &total_ul);
	return total_ul > 0 ? b_ul / (double)total_ul : 0.0;
}

static void budget_json(const struct mtb_u_budget *b, char *buf, size_t len)
{
	size_t at = (size_t)snprintf(buf, len, "{\"k\":%.1f,\"u_c_pct\":%.5f,\"u_exp_pct\":%.5f,\"components\":[", b->k,
				     b->u_c * 100, b->u_exp * 100);
	for (int i = 0; i < b->n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s{\"name\":\"%s\",\"u_pct\":%.5f}", i ? "," : "", b->c[i].name,
				       b->c[i].u * 100);
	if (at < len)
		snprintf(buf + at, len - at, "]}");
}

static int judge_and_commit(struct run *r, int idx, const struct mtb_plan_point *pt, double run_flow_lph)
{
	const struct mtb_plan *plan = r->o->plan;
	bool manual = r->o->reading == MTB_READING_MANUAL;
	progress(r, MTB_RUN_JUDGE);
	struct mtb_point_record rec[MTB_PLAN_MAX_METERS];
	struct mtb_reading_record rd[MTB_PLAN_MAX_METERS * 2 * MAX_FRAMES];
	int n_rd = 0, n_read = 0;
	memset(rec, 0, sizeof rec);

	for (int m = 0; m < plan->n_meters; m++) {
		struct meter_result mr;
		combine(r, m, manual, &mr);
		struct mtb_point_record *p = &rec[m];
		p->point_index = idx;
		p->point_name = pt->name;
		p->position = plan->meters[m].position;
		p->start_method = manual || plan->start == MTB_START_STANDING ? "standing" : "flying";
		char *budget = r->json[m].budget, *corrs = r->json[m].corrections;
		p->budget_json = budget;
		p->corrections_json = corrs;
		budget[0] = corrs[0] = '\0';

		struct mtb_ref_obs c;
		mean_conditions(r, mr.t_start_us, mr.t_end_us, &c);
		/* The flow of the test: over the readings' interval for a flying start; for a standing
		 * start that interval holds the rests (no flow) and the technician's walk, so the mean
		 * of the run itself. */
		bool standing = manual || plan->start == MTB_START_STANDING;
		double flow_ref_lph = !standing && c.flow_lph > 0 ? c.flow_lph : run_flow_lph;
		/* The meter's place in the line sets its water conditions: linear between the
		 * reference (inlet) and the outlet sensors. */
		double frac = plan->n_meters > 1 ? (double)m / (plan->n_meters - 1) : 0.5;
		struct mtb_water_state ref = { c.temp_ref_c, c.p_in_kpa };
		struct mtb_water_state mut = { c.temp_ref_c + frac * (c.temp_out_c - c.temp_ref_c),
					       c.p_in_kpa + frac * (c.p_out_kpa - c.p_in_kpa) };
		double e_ref, u_ref;
		mtb_reference_error_at(r->o->reference, flow_ref_lph, &e_ref, &u_ref);
		/* The flow through this meter, as its volume is: the reference's indicated flow
		 * corrected by its certificate (q = q_ind / (1 + E_ref)) and taken to the meter's
		 * water state (q_mut = q_ref rho_ref / rho_mut), the same corrections as the volume
		 * (docs/metrology.md). The zone, and so the MPE, follow this flow. */
		double flow = flow_ref_lph / (1.0 + e_ref) * mtb_water_density_tp_kgm3(ref.temp_c, ref.p_abs_kpa) /
			      mtb_water_density_tp_kgm3(mut.temp_c, mut.p_abs_kpa);
		p->flow_lph = flow;
		if (!mr.readable) {
			/* No honest number for this meter at this point: recorded as invalid with why. */
			p->zone = mtb_zone_name(mtb_zone_of(&plan->type.flow, flow));
			p->verdict = "invalid";
			snprintf(corrs, sizeof r->json[m].corrections, "{\"unreadable\":\"%s\"}", mr.why);
			mtb_log_msg(r->o->log, MTB_LOG_WARN, TAG, "point %s meter %d: %s", pt->name, p->position, mr.why);
		} else {
			n_read++;
			p->actual_ul = mtb_water_actual_volume_ul(mr.va_raw_ul, e_ref, &ref, &mut);
			p->indicated_ul = mr.vi_ul < 0 ? 0 : mr.vi_ul;

			struct mtb_point_u_in ui = {
				.volume_l = p->actual_ul / 1e6,
				.ref_cert_u_exp = u_ref,
				.ref_repeat_u = r->p->ref_repeat_u,
				/* The camera reader is good to +-1 resolution step (a width of two steps);
				 * the technician reads to the nearest interval (+-1/2 interval). */
				.reading_start_l = manual ? mr.resolution_l : fmax(2 * mr.resolution_l, mr.spread_l),
				.reading_end_l = manual ? mr.resolution_l : fmax(2 * mr.resolution_l, mr.spread_l),
				.sync_dt_s = manual || plan->start == MTB_START_STANDING ? 0 : r->p->sync_u_s,
				.flow_lph = flow,
				.temp_diff_u_k = r->p->temp_u_k,
				.beta_per_k = 2.07e-4,
				.start_stop_rel = standing ? standing_start_rel(r, mr.t_start_us, mr.t_end_us, flow,
										 (int32_t)llround(mut.temp_c * 1000))
							   : 0,
			};
			struct mtb_u_budget b;
			mtb_point_u_budget(&ui, &b);
			budget_json(&b, budget, sizeof r->json[m].budget);
			snprintf(corrs, sizeof r->json[m].corrections,
				 "{\"reference_raw_l\":%.6f,\"reference_error_pct\":%.5f,\"t_ref_c\":%.3f,\"t_mut_c\":%.3f,"
				 "\"p_ref_kpa\":%.2f,\"p_mut_kpa\":%.2f,\"reading_resolution_l\":%.6f}",
				 mr.va_raw_ul / 1e6, e_ref * 100, ref.temp_c, mut.temp_c, ref.p_abs_kpa, mut.p_abs_kpa,
				 mr.resolution_l);

			struct mtb_point_in in = {
				.rules = plan->rules,
				.accuracy_class = plan->type.accuracy_class,
				.flow_range = plan->type.flow,
				.mode = mtb_plan_mpe_mode(plan),
				.in_service = r->o->in_service,
				.flow_lph = flow,
				.actual_ul = p->actual_ul,
				.indicated_ul = p->indicated_ul,
				.water_temp_mdegc = (int32_t)llround(mut.temp_c * 1000),
				/* U rounded up to the ppm: never understate it. */
				.u_exp_ppm = (int32_t)ceil(b.u_exp * 1e6),
			};
			struct mtb_point_out out;
			if (mtb_point_judge(&in, &out) != MTB_OK)
				return fail(r, MTB_ERR_ARG, "point %s meter %d: results engine refused the inputs", pt->name,
					    p->position);
			p->error_ppm = out.error_ppm;
			p->mpe_ppm = out.mpe_ppm;
			p->u_exp_ppm = in.u_exp_ppm;
			p->zone = mtb_zone_name(out.zone);
			p->verdict = mtb_verdict_name(out.verdict);
		}
		/* Every frame behind the point, with its image as evidence. */
		for (int ph = 0; ph < 2; ph++) {
			struct meter_frames *mf = &r->frames[m][ph];
			for (int f = 0; f < mf->n; f++) {
				struct mtb_dial_obs *o = &mf->obs[f];
				struct mtb_reading_record *x = &rd[n_rd];
				x->position = p->position;
				x->phase = ph ? "end" : "start";
				x->t_mono_us = o->t_us;
				x->volume_ul = o->ok ? o->volume_ul : -1;
				x->confidence = o->ok ? o->confidence : 0;
				x->image_sha256 = NULL;
				x->image = o->jpeg_len ? o->jpeg : NULL;
				x->image_len = o->jpeg_len;
				x->image_mime = "image/jpeg";
				n_rd++;
			}
		}
	}
	r->prog.meters_read = n_read;
	r->prog.meters_total = plan->n_meters;

	struct mtb_sample_record *sr = malloc(sizeof *sr * (size_t)(r->n_samples ? r->n_samples : 1));
	if (!sr)
		return fail(r, MTB_ERR_NOMEM, "out of memory");
	for (int k = 0; k < r->n_samples; k++) {
		const struct mtb_ref_obs *s = &r->samples[k];
		sr[k] = (struct mtb_sample_record){ s->t_us, s->totaliser_ul, s->flow_lph, (int32_t)llround(s->temp_ref_c * 1000),
						    (int32_t)llround(s->p_in_kpa * 1000) };
	}
	int rc = mtb_records_point_commit(r->o->records, r->o->session_id, idx, rec, plan->n_meters, sr, r->n_samples, rd,
					  n_rd, r->eb);
	free(sr);
	if (rc != MTB_OK)
		return fail(r, rc, "point %s cannot be recorded: %s", pt->name, r->eb->msg);
	/* Announced once it is in the records: what the terminal calls recorded survives a crash. */
	progress(r, MTB_RUN_COMMIT);
	return MTB_OK;
}

static void free_frames(struct run *r)
{
	for (int m = 0; m < r->o->plan->n_meters; m++)
		for (int ph = 0; ph < 2; ph++) {
			struct meter_frames *mf = &r->frames[m][ph];
			for (int f = 0; f < mf->n; f++) {
				free(mf->obs[f].jpeg);
				mf->obs[f].jpeg = NULL;
			}
			mf->n = 0;
		}
}

/* The width of one reading's uncertainty interval for the test volume, the same as the budget
 * uses: the technician's scale interval, or two steps of the worst camera resolution among the
 * readable meters. */
static double reading_width_l(struct run *r, bool manual)
{
	double interval = r->o->plan->type.scale_interval_ul / 1e6;
	if (manual)
		return interval;
	double worst = 0;
	for (int m = 0; m < r->o->plan->n_meters; m++)
		for (int f = 0; f < r->frames[m][0].n; f++)
			if (r->frames[m][0].obs[f].ok && r->frames[m][0].obs[f].resolution_l > worst)
				worst = r->frames[m][0].obs[f].resolution_l;
	return worst > 0 ? 2 * worst : interval;
}

static int stop_flow(struct run *r)
{
	int rc = r->io->ops->set_inlet(r->io->ctx, false);
	if (rc != MTB_OK)
		return fail(r, rc, "inlet valve cannot be closed");
	/* Let the line come to rest; the reference keeps counting until it does. */
	for (double t = 0; t < r->p->settle_s; t += r->p->sample_period_s) {
		struct mtb_ref_obs obs;
		if ((rc = sample(r, &obs)) != MTB_OK || (rc = wait_s(r, r->p->sample_period_s)) != MTB_OK)
			return rc;
	}
	return MTB_OK;
}

static int manual_reading_time(struct run *r)
{
	/* A technician walks the line and reads every dial: 15 s per meter per reading. */
	return wait_s(r, r->p->manual_read_s * r->o->plan->n_meters);
}

/* Standing start: every dial read at rest (phase 0 start, 1 end), the technician's walk when
 * the reading is manual, then the inlet opened again. */
static int read_at_rest(struct run *r, int phase)
{
	int rc = read_all(r, phase);
	if (rc == MTB_OK && r->o->reading == MTB_READING_MANUAL)
		rc = manual_reading_time(r);
	if (rc != MTB_OK)
		return rc;
	if ((rc = r->io->ops->set_inlet(r->io->ctx, true)) != MTB_OK)
		return fail(r, rc, "inlet valve cannot be opened");
	return MTB_OK;
}

static int run_point(struct run *r, int idx)
{
	const struct mtb_plan *plan = r->o->plan;
	const struct mtb_plan_point *pt = &plan->points[idx];
	bool manual = r->o->reading == MTB_READING_MANUAL;
	bool standing = manual || plan->start == MTB_START_STANDING;
	double stop_b_ul = 0;   /* standing start: the stop ramp's bound (ramp_bound_ul) */
	int rc;
	r->n_samples = 0;
	r->prog.point_index = idx;
	r->prog.point_name = pt->name;
	r->prog.target_lph = pt->flow_lph;
	r->prog.volume_l = r->prog.target_volume_l = 0;

	if (standing) {
		/* Standing start: establish the flow once (so the valve is where it must be), stop,
		 * read at rest, then run from rest. */
		if ((rc = set_flow(r, pt)) != MTB_OK)
			return rc;
		/* This stop is the test's stop to come: its ramp counts in the test volume (below). */
		int k_stop = r->n_samples ? r->n_samples - 1 : 0;
		if ((rc = stop_flow(r)) != MTB_OK)
			return rc;
		stop_b_ul = ramp_since(r, k_stop, pt->flow_lph);
		progress(r, MTB_RUN_START);
		if ((rc = read_at_rest(r, 0)) != MTB_OK)
			return rc;
	} else {
		if ((rc = set_flow(r, pt)) != MTB_OK)
			return rc;
		progress(r, MTB_RUN_START);
		if ((rc = read_all(r, 0)) != MTB_OK)
			return rc;
	}

	/* The test volume from the resolution the start readings achieved, for this point's MPE. */
	enum mtb_zone zone = mtb_zone_of(&plan->type.flow, pt->flow_lph);
	int32_t mpe_ppm = 20000;
	mtb_mpe_ppm(plan->rules, plan->type.accuracy_class, zone, 20000, mtb_plan_mpe_mode(plan), r->o->in_service, &mpe_ppm);
	int limited;
	double target_l = mtb_test_volume_l(reading_width_l(r, manual), mpe_ppm, pt->min_volume_l, pt->max_volume_l, &limited);
	if (limited)
		mtb_log_msg(r->o->log, MTB_LOG_WARN, TAG, "point %s: test volume limited to %.3f L by the plan", pt->name, target_l);
	r->prog.target_volume_l = target_l;

	progress(r, MTB_RUN_RUN);
	int k_run = r->n_samples ? r->n_samples - 1 : 0;
	int64_t tot0 = r->n_samples ? r->samples[r->n_samples - 1].totaliser_ul : 0;
	double flow_sum = 0;
	int flow_n = 0;
	for (;;) {
		if (aborted(r))
			return fail(r, MTB_ERR_STATE, "aborted by the operator during point %s", pt->name);
		struct mtb_ref_obs obs;
		/* Standing start: the control valve stays where SET_FLOW left it (where the flow was
		 * stable). A PID stepped from rest -- no flow while the inlet travels, and the rest
		 * itself as one long period of error -- opens the valve wide, and the meters ran
		 * their first seconds at many times the test flow (about 120 L/h for a 16.4 L/h Q1). */
		if ((rc = control_step(r, pt->flow_lph, standing, &obs)) != MTB_OK)
			return rc;
		/* The run's flow: from the first sample within the stability band (after the inlet's
		 * travel when starting from rest). */
		bool lower = mtb_zone_of(&plan->type.flow, pt->flow_lph) == MTB_ZONE_LOWER;
		double band = (lower ? r->p->stab_tol_lower_ppm : r->p->stab_tol_upper_ppm) / 1e6;
		if (flow_n > 0 || fabs(obs.flow_lph - pt->flow_lph) <= band * pt->flow_lph) {
			/* Standing start, the start ramp just over: enough water that the ramps' term
			 * of U, 2 (B / V) / sqrt(3) with B that of the start and the stop ramps, stays
			 * within ramp_u_of_mpe of the MPE: V >= 2 B / (sqrt(3) share MPE). */
			if (flow_n == 0 && standing && mpe_ppm > 0 && r->p->ramp_u_of_mpe > 0) {
				double b_l = (ramp_since(r, k_run, pt->flow_lph) + stop_b_ul) / 1e6;
				double need_l = 2.0 * b_l / (sqrt(3.0) * r->p->ramp_u_of_mpe * mpe_ppm / 1e6);
				if (need_l > target_l) {
					target_l = pt->max_volume_l > 0 && need_l > pt->max_volume_l ? pt->max_volume_l : need_l;
					if (need_l > target_l)
						mtb_log_msg(r->o->log, MTB_LOG_WARN, TAG,
							    "point %s: test volume limited to %.3f L by the plan (the ramps ask %.3f L)",
							    pt->name, target_l, need_l);
					r->prog.target_volume_l = target_l;
				}
			}
			flow_sum += obs.flow_lph;
			flow_n++;
		}
		r->prog.volume_l = (obs.totaliser_ul - tot0) / 1e6;
		progress(r, MTB_RUN_RUN);
		if (r->prog.volume_l >= target_l)
			break;
	}

	progress(r, MTB_RUN_STOP);
	if (standing) {
		if ((rc = stop_flow(r)) != MTB_OK)
			return rc;
		progress(r, MTB_RUN_READ);
		if ((rc = read_at_rest(r, 1)) != MTB_OK)
			return rc;
	} else {
		progress(r, MTB_RUN_READ);
		if ((rc = read_all(r, 1)) != MTB_OK)
			return rc;
	}
	rc = judge_and_commit(r, idx, pt, flow_n ? flow_sum / flow_n : pt->flow_lph);
	free_frames(r);
	return rc;
}

int mtb_run_execute(const struct mtb_bench_io *io, const struct mtb_run_opts *o, struct mtb_run_summary *out,
		    struct mtb_errbuf *eb)
{
	memset(out, 0, sizeof *out);
	struct run r = { .io = io, .o = o, .p = &o->params, .sum = out, .eb = eb };
	r.samples = malloc(sizeof *r.samples * MAX_SAMPLES);
	r.frames = calloc(MTB_PLAN_MAX_METERS, sizeof *r.frames);
	r.json = calloc(MTB_PLAN_MAX_METERS, sizeof *r.json);
	r.prog.n_points = o->plan->n_points;
	r.prog.meters_total = o->plan->n_meters;
	int rc = MTB_OK;
	if (!r.samples || !r.frames || !r.json)
		rc = fail(&r, MTB_ERR_NOMEM, "out of memory");
	if (rc == MTB_OK)
		rc = purge(&r);
	for (int i = o->first_point; rc == MTB_OK && i < o->plan->n_points; i++) {
		rc = run_point(&r, i);
		if (rc == MTB_OK)
			out->points_done = i + 1;
	}
	if (r.frames)
		free_frames(&r);
	out->bench_time_s = r.started ? ((r.t_last_us > r.t0_us ? r.t_last_us : now(&r)) - r.t0_us) / 1e6 : 0;
	if (rc == MTB_OK) {
		out->final_state = MTB_RUN_DONE;
		io->ops->set_valve_pct(io->ctx, 0);
		io->ops->set_pump_hz(io->ctx, 0);
		io->ops->set_inlet(io->ctx, false);
	} else {
		out->final_state = MTB_RUN_ABORTED;
		if (io->ops->safe_state(io->ctx) != MTB_OK)
			mtb_log_msg(o->log, MTB_LOG_ERROR, TAG, "safe state could not be commanded");
	}
	r.prog.bench_time_s = out->bench_time_s;
	r.prog.state = out->final_state;
	if (o->progress)
		o->progress(o->progress_user, &r.prog);
	free(r.samples);
	free(r.frames);
	free(r.json);
	return rc;
}
