/* Whole-register reading: fusion of element readings, plausibility, frame combination, and
 * the face alignment and cropping that feed the element readers. See vision/register.h. */
#include "vision/register.h"

#include "cv_wrap_priv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static double circ_dist(double a, double b)
{
	double d = fmod(fabs(a - b), 10.0);
	return d > 5.0 ? 10.0 - d : d;
}

static void element_name(const struct mtb_layout *l, int i, char *buf, size_t len)
{
	if (i < l->n_rollers)
		snprintf(buf, len, "roller %d", i + 1);
	else
		snprintf(buf, len, "pointer %d", i - l->n_rollers + 1);
}

static void refuse(struct mtb_register_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct mtb_register_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
	r->refused = true;
	r->confidence = 0;
}

static int64_t mod_range(int64_t v, int64_t range)
{
	int64_t m = v % range;
	return m < 0 ? m + range : m;
}

/* The signed difference a - b on the register's circle, in [-range/2, range/2). */
static int64_t wrap_diff(int64_t a, int64_t b, int64_t range)
{
	int64_t d = mod_range(a - b, range);
	return d >= range / 2 ? d - range : d;
}

/* A roller counts as between two digits (struct mtb_register_fuse_opts.min_roll_confidence) from
 * this share of the way from one to the next, up to 1 less it. */
#define ROLL_FROM 0.2

/* Roller i was refused by its reader only for a low confidence, above another element, and is
 * sure of its half-digit: it may still be used if the chain finds it between two digits. */
static bool may_be_in_roll(const struct mtb_layout *l, const struct mtb_reading *el, int n, int i,
			   const struct mtb_register_fuse_opts *o)
{
	const struct mtb_reading *r = &el[i];
	return r->refused && r->low_confidence && i < l->n_rollers && i < n - 1 && r->value >= 0 && r->value < 10 &&
	       o->min_roll_confidence > 0 && r->within_half >= o->min_roll_confidence;
}

int mtb_register_fuse(const struct mtb_layout *l, const struct mtb_reading *el, int n,
		      const struct mtb_register_fuse_opts *o, struct mtb_register_result *out)
{
	if (!l || !el || !out || n != mtb_layout_elements(l) || n < 1)
		return MTB_ERR_ARG;
	static const struct mtb_register_fuse_opts DEF = MTB_REGISTER_FUSE_DEFAULTS;
	if (!o)
		o = &DEF;
	int64_t t = out->t_mono_us;
	memset(out, 0, sizeof *out);
	out->t_mono_us = t;
	out->n_elements = n;
	memcpy(out->element, el, sizeof el[0] * (size_t)n);
	int64_t wf = l->finest_ul;
	out->resolution_ul = wf >= 10 ? wf / 10 : 1;

	char name[32];
	double conf = 1.0;
	/* A roller between two digits shows two halves: its reader may not be sure of the position
	 * to +-0.2 and still be sure of the half-digit it stands in, and that is all the chain asks
	 * of it, as the element below decides which digit it shows. Such a roller waits for the
	 * chain (in_roll), which refuses it unless the element below does put it between two digits. */
	bool in_roll[MTB_LAYOUT_MAX_ELEMENTS] = { false };
	for (int i = 0; i < n; i++) {
		element_name(l, i, name, sizeof name);
		if (may_be_in_roll(l, el, n, i, o)) {
			in_roll[i] = true;
			conf = fmin(conf, el[i].within_half);
			continue;
		}
		if (el[i].refused) {
			refuse(out, "%s unreadable: %s", name, el[i].reason[0] ? el[i].reason : "refused by its reader");
			return MTB_OK;
		}
		if (!(el[i].value >= 0 && el[i].value < 10)) {
			refuse(out, "%s: reader gave %g, outside [0, 10)", name, el[i].value);
			return MTB_OK;
		}
		if (!(el[i].confidence >= o->min_confidence)) {
			refuse(out, "%s: confidence %.2f below %.2f", name, el[i].confidence, o->min_confidence);
			return MTB_OK;
		}

		conf = fmin(conf, el[i].confidence);
	}

	/* The finest element is read directly, to a tenth of a division. */
	double below = el[n - 1].value;
	int64_t tenths = llround(below * 10.0);
	__int128 vol = ((__int128)tenths * wf + 5) / 10;
	out->digit[n - 1] = (int)floor(below);
	double worst = 0;
	for (int k = n - 2; k >= 0; k--) {
		bool continuous = k >= l->n_rollers - 1 || l->drive == MTB_LAYOUT_CONTINUOUS;
		double g = continuous ? below / 10.0 : fmax(0.0, below - 9.0);
		int best = 0;
		double be = 99;
		for (int d = 0; d < 10; d++) {
			double e = circ_dist(el[k].value, d + g);
			if (e < be) {
				be = e;
				best = d;
			}
		}
		out->digit[k] = best;
		out->residual[k] = be;
		if (in_roll[k] && !(g >= ROLL_FROM && g <= 1.0 - ROLL_FROM)) {
			element_name(l, k, name, sizeof name);
			refuse(out, "%s unreadable: %s, and what is below it puts it %.2f of the way to the next digit",
			       name, el[k].reason, g);
			return MTB_OK;
		}
		/* A roller is read to a tenth and the element below puts it to a tenth or better; a
		 * pointer over a pointer is read to about a tenth, and one read half a turn off (its
		 * tail taken for its tip) shifts the pointer above by half a division. */
		double tol = k < l->n_rollers ? o->max_residual_roller : o->max_residual;
		if (be > tol + 1e-9) {
			element_name(l, k, name, sizeof name);
			refuse(out, "%s reads %.2f but what is below it calls for %.2f (off by %.2f divisions)", name,
			       el[k].value, fmod(best + g, 10.0), be);
			return MTB_OK;
		}
		worst = fmax(worst, tol > 0 ? be / tol : 1.0);
		vol += (__int128)best * mtb_layout_weight_ul(l, k);
		below = best + g;
	}
	out->volume_ul = mod_range((int64_t)(vol % l->range_ul), l->range_ul);
	out->confidence = conf * (1.0 - 0.5 * worst);
	/* Weak and strained together: the weakest element barely sure and the worst fit near its
	 * tolerance (seen with two pointers read by their tails whose errors happened to fit). */
	if (out->confidence < o->min_register_confidence) {
		double c = out->confidence;
		refuse(out, "register confidence %.2f below %.2f (weakest element %.2f, worst fit %.0f %% of its tolerance)",
		       c, o->min_register_confidence, conf, 100.0 * worst);
		out->volume_ul = 0;
		return MTB_OK;
	}
	return MTB_OK;
}

int mtb_register_check_flow(const struct mtb_layout *l, const struct mtb_register_prior *p,
			    struct mtb_register_result *r)
{
	if (!l || !p || !r)
		return MTB_ERR_ARG;
	if (r->refused)
		return MTB_OK;
	/* 1 L/h = 10^6 uL per 3.6 x 10^9 us. */
	double expect = p->flow_lph * (double)(r->t_mono_us - p->t_mono_us) / 3600.0;
	int64_t moved = wrap_diff(r->volume_ul, p->volume_ul, l->range_ul);
	double allowed = (double)p->tol_ul + p->tol_rel * fabs(expect);
	if (fabs((double)moved - expect) > allowed) {
		refuse(r, "implausible: moved %+.6f L since the previous reading, the reference flow says %+.6f L (allowed +-%.6f L)",
		       moved / 1e6, expect / 1e6, allowed / 1e6);
		return MTB_ERR_REFUSED;
	}
	return MTB_OK;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int mtb_register_combine(const struct mtb_layout *l, const struct mtb_register_result *fr, int n,
			 const struct mtb_register_combine_opts *o, struct mtb_register_result *out)
{
	if (!l || !fr || !o || !out || n < 1 || n > 1024)
		return MTB_ERR_ARG;
	int64_t norm[1024], sorted[1024];
	int idx[1024], m = 0;
	int64_t base = 0;
	for (int i = 0; i < n; i++) {
		if (fr[i].refused)
			continue;
		if (m == 0)
			base = fr[i].volume_ul;
		double shift = o->flow_lph * (double)(fr[i].t_mono_us - o->t_ref_us) / 3600.0;
		norm[m] = base + wrap_diff(fr[i].volume_ul, base, l->range_ul) - llround(shift);
		sorted[m] = norm[m];
		idx[m++] = i;
	}
	int min_agree = o->min_agree > 0 ? o->min_agree : n / 2 + 1;
	memset(out, 0, sizeof *out);
	out->t_mono_us = o->t_ref_us;
	out->n_elements = fr[0].n_elements;
	out->resolution_ul = fr[0].resolution_ul;
	if (m < min_agree) {
		refuse(out, "only %d of %d frames readable, %d needed", m, n, min_agree);
		if (m == 0 && fr[0].reason[0])
			snprintf(out->reason + strlen(out->reason), sizeof out->reason - strlen(out->reason), " (%s)",
				 fr[0].reason);
		return MTB_OK;
	}
	qsort(sorted, (size_t)m, sizeof sorted[0], cmp_i64);
	int64_t med = sorted[(m - 1) / 2];
	int agree = 0, out_of_tol = 0, nearest = -1;
	int64_t nearest_d = INT64_MAX;
	double conf = 0;
	for (int j = 0; j < m; j++) {
		int64_t d = llabs(norm[j] - med);
		if (d <= o->tol_ul) {
			agree++;
			conf += fr[idx[j]].confidence;
		} else {
			out_of_tol++;
		}
		if (d < nearest_d) {
			nearest_d = d;
			nearest = j;
		}
	}
	if (agree < min_agree || out_of_tol > o->max_disagree) {
		refuse(out, "frames disagree: %d of %d within %.6f L of the median, %d outside", agree, n, o->tol_ul / 1e6,
		       out_of_tol);
		return MTB_OK;
	}
	const struct mtb_register_result *rep = &fr[idx[nearest]];
	memcpy(out->element, rep->element, sizeof out->element);
	memcpy(out->digit, rep->digit, sizeof out->digit);
	memcpy(out->residual, rep->residual, sizeof out->residual);
	int64_t res = out->resolution_ul > 0 ? out->resolution_ul : 1;
	int64_t v = mod_range(med, l->range_ul);
	out->volume_ul = mod_range((v + res / 2) / res * res, l->range_ul);
	out->confidence = conf / agree * (double)agree / n;
	return MTB_OK;
}

/* ---- alignment ---- */

struct plane {
	int w, h;
	float *p;
};

/* Inlined into the aligner's sampling loops, where nearly all of its time goes: a call per
 * sample cost about a fifth of the search. */
static inline __attribute__((always_inline)) float plane_at(const struct plane *pl, double x, double y)
{
	if (!(x >= 0 && y >= 0 && x < pl->w - 1 && y < pl->h - 1))
		return 0;
	int x0 = (int)x, y0 = (int)y;
	double fx = x - x0, fy = y - y0;
	const float *a = pl->p + (size_t)y0 * pl->w + x0, *b = a + pl->w;
	return (float)((1 - fy) * ((1 - fx) * a[0] + fx * a[1]) + fy * ((1 - fx) * b[0] + fx * b[1]));
}

/* Image pixels to plane pixels, k image pixels per plane pixel: x / k. When k is a power of two
 * (it is for the usual frame sizes), x times 1/k is the same double, the same exact value rounded
 * once, and a product costs a fraction of a division: the sampling loops make two per sample. */
struct plane_scale {
	int k;
	double inv;
	bool pow2;
};

static struct plane_scale plane_scale_make(int k)
{
	return (struct plane_scale){ k, 1.0 / k, k > 0 && (k & (k - 1)) == 0 };
}

static inline double to_plane(const struct plane_scale *ps, double x)
{
	return ps->pow2 ? x * ps->inv : x / ps->k;
}

#define MAX_PTS 640

struct model {
	int n, n_circle;            /* the first n_circle points are the face's rim */
	double u[MAX_PTS], v[MAX_PTS];
};

static void model_add(struct model *m, double u, double v)
{
	if (m->n < MAX_PTS) {
		m->u[m->n] = u;
		m->v[m->n] = v;
		m->n++;
	}
}

/* The edges every face of the layout has: its rim, the counter's frame and the pointer scales'
 * outer circles (face units, relative to the face centre). The roller windows themselves are
 * left out: black drums in a black frame show no edge. */
static void model_build(const struct mtb_layout *l, struct model *m)
{
	memset(m, 0, sizeof *m);
	double c = l->size / 2;
	for (int k = 0; k < 48; k++) {
		double a = 2 * PI * k / 48;
		model_add(m, l->radius * cos(a), l->radius * sin(a));
	}
	m->n_circle = m->n;
	double fx, fy, fw, fh;
	mtb_layout_frame_rect(l, &fx, &fy, &fw, &fh);
	for (int k = 0; k < 24; k++) {
		double x = fx + fw * (k + 0.5) / 24;
		model_add(m, x - c, fy - c);
		model_add(m, x - c, fy + fh - c);
	}
	for (int k = 0; k < 4; k++) {
		double y = fy + fh * (k + 0.5) / 4;
		model_add(m, fx - c, y - c);
		model_add(m, fx + fw - c, y - c);
	}
	for (int i = 0; i < l->n_pointers; i++) {
		const struct mtb_layout_pointer *p = &l->pointers[i];
		for (int k = 0; k < 24; k++) {
			double a = 2 * PI * k / 24;
			model_add(m, p->cx - c + 1.04 * p->r * cos(a), p->cy - c + 1.04 * p->r * sin(a));
		}
	}
}

/* Pose parameters: centre (px), scale (px per face unit), angle, perspective. */
struct params {
	double cx, cy, s, th, px, py;
	double g0, g1;              /* stretch along the face's x and shear, before the rotation */
};

static void params_to_h(const struct params *q, double c_face, double *h)
{
	/* q = R S (u - c), w = 1 + px q.x + py q.y, image = centre + q / w. */
	double cs = cos(q->th) * q->s, sn = sin(q->th) * q->s;
	/* R S [[1 + g0, g1], [0, 1]] */
	double a = cs * (1 + q->g0), b = cs * q->g1 - sn, d = sn * (1 + q->g0), e = sn * q->g1 + cs;
	double tx = -(a * c_face + b * c_face), ty = -(d * c_face + e * c_face);
	/* numerator rows: q + centre * w ; denominator w. */
	double w0 = q->px * a + q->py * d, w1 = q->px * b + q->py * e, w2 = 1 + q->px * tx + q->py * ty;
	h[0] = a + q->cx * w0;
	h[1] = b + q->cx * w1;
	h[2] = tx + q->cx * w2;
	h[3] = d + q->cy * w0;
	h[4] = e + q->cy * w1;
	h[5] = ty + q->cy * w2;
	h[6] = w0;
	h[7] = w1;
	h[8] = w2;
}

static double score(const struct plane *e, const struct model *m, int from, int to, const struct params *q, int k)
{
	/* k: image pixels per plane pixel. Points are relative to the face centre. */
	struct plane_scale ps = plane_scale_make(k);
	double cs = cos(q->th) * q->s, sn = sin(q->th) * q->s, sum = 0;
	for (int i = from; i < to; i++) {
		double u = (1 + q->g0) * m->u[i] + q->g1 * m->v[i], v = m->v[i];
		double x = cs * u - sn * v, y = sn * u + cs * v;
		double w = 1 + q->px * x + q->py * y;
		sum += plane_at(e, to_plane(&ps, q->cx + x / w), to_plane(&ps, q->cy + y / w));
	}
	return sum / (to - from);
}

/* Every third model point, turned by th and scaled by s (no stretch, no perspective): for the
 * coarse search. x and y get SPARSE_PTS(m) points each. */
#define SPARSE_PTS(m) (((m)->n + 2) / 3)

static void sparse_points(const struct model *m, double th, double s, double *x, double *y)
{
	double cs = cos(th) * s, sn = sin(th) * s;
	for (int i = 0, j = 0; i < m->n; i += 3, j++) {
		x[j] = cs * m->u[i] - sn * m->v[i];
		y[j] = sn * m->u[i] + cs * m->v[i];
	}
}

/* The mean edge energy under n points (from sparse_points) about the centre (cx, cy). */
static double score_sparse(const struct plane *e, const double *x, const double *y, int n, double cx, double cy,
			   int k)
{
	struct plane_scale ps = plane_scale_make(k);
	double sum = 0;
	for (int j = 0; j < n; j++)
		sum += plane_at(e, to_plane(&ps, cx + x[j]), to_plane(&ps, cy + y[j]));
	return sum / n;
}

static double plane_mean(const struct plane *e)
{
	double s = 0;
	for (size_t i = 0; i < (size_t)e->w * e->h; i++)
		s += e->p[i];
	return s / ((double)e->w * e->h);
}

/* Pattern search of the eight pose parameters on one plane (k image pixels per plane pixel),
 * each step halved when neither direction helps, until every step is below its stop; returns
 * the final score. */
static double refine_level(const struct plane *e, const struct model *m, int k, int shorter, struct params *qp)
{
	struct params q = *qp;
	double step[8] = { 1.0 * k, 1.0 * k, q.s * 0.01, 0.01, 0.05 / shorter, 0.05 / shorter, 0.01, 0.01 };
	const double stop[8] = { 0.15 * k, 0.15 * k, q.s * 0.0008, 0.0008, 0.002 / shorter, 0.002 / shorter, 0.0008, 0.0008 };
	double cur = score(e, m, 0, m->n, &q, k);
	for (int it = 0; it < 40; it++) {
		bool active = false;
		for (int p = 0; p < 8; p++) {
			if (step[p] < stop[p])
				continue;
			active = true;
			bool moved = false;
			for (int sgn = -1; sgn <= 1 && !moved; sgn += 2) {
				struct params t = q;
				double *v[8] = { &t.cx, &t.cy, &t.s, &t.th, &t.px, &t.py, &t.g0, &t.g1 };
				*v[p] += sgn * step[p];
				double sc = score(e, m, 0, m->n, &t, k);
				if (sc > cur) {
					cur = sc;
					q = t;
					moved = true;
				}
			}
			if (!moved)
				step[p] *= 0.5;
		}
		if (!active)
			break;
	}
	*qp = q;
	return cur;
}

/* First on the coarse plane (wide basin), then on the fine one (sharp edges); returns the final
 * score on the fine plane. */
static double refine(const struct plane *ec, const struct plane *ef, const struct model *m, int fc, int ff,
		     int shorter, struct params *qp)
{
	refine_level(ec, m, fc, shorter, qp);
	return refine_level(ef, m, ff, shorter, qp);
}

/* The k-th smallest of a[0..n) (a is reordered): Hoare's selection, linear on average. */
static double select_kth(double *a, int n, int k)
{
	int lo = 0, hi = n - 1;
	while (lo < hi) {
		double pivot = a[(lo + hi) / 2];
		int i = lo, j = hi;
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				double t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

/* A rim steps the same way nearly all round: the contrast that a quarter of the angles fall
 * short of, for the better of the two polarities. A circle through the face's inner detail
 * steps strongly at a few angles only. */
#define RIM_ANGLES 32
#define RIM_REACH (RIM_ANGLES - RIM_ANGLES / 4)   /* angles that must reach the rim score */

static double rim_score(double *d, int n)
{
	double lo = select_kth(d, n, n / 4);
	double hi = -select_kth(d, n, n - 1 - n / 4);
	return fmax(lo, hi);
}

#define N_CAND 6
#define ANGLE_STEPS 11                       /* -15 to 15 degrees by 3 */
#define SPARSE_MAX ((MAX_PTS + 2) / 3)

/* A pose found near the previous frame's is kept when the edges under it still look as they did:
 * their mean at least TRACK_KEEP of the previous frame's, the edge energy at each model point
 * correlated with the previous frame's at TRACK_MIN_CORR or more (the same layout at the same
 * place), and the face moved by no more than a camera on a bench shakes: its centre by
 * TRACK_MAX_MOVE of the frame's shorter side, its scale by TRACK_MAX_SCALE, its angle by
 * TRACK_MAX_TURN. Otherwise the full search runs: a local search started far from the face can
 * settle on a wrong pose whose edge score looks as good as the right one's. */
#define TRACK_KEEP 0.85
#define TRACK_MIN_CORR 0.8
#define TRACK_MAX_MOVE 0.015
#define TRACK_MAX_SCALE 0.02
#define TRACK_MAX_TURN (2.0 * PI / 180)
#define MIN_SCORE 2.0

/* The edge energy at each model point under pose q. */
static void profile(const struct plane *e, const struct model *m, const struct params *q, int k, float *out)
{
	struct plane_scale ps = plane_scale_make(k);
	double cs = cos(q->th) * q->s, sn = sin(q->th) * q->s;
	for (int i = 0; i < m->n; i++) {
		double u = (1 + q->g0) * m->u[i] + q->g1 * m->v[i], v = m->v[i];
		double x = cs * u - sn * v, y = sn * u + cs * v;
		double w = 1 + q->px * x + q->py * y;
		out[i] = plane_at(e, to_plane(&ps, q->cx + x / w), to_plane(&ps, q->cy + y / w));
	}
}

/* Pearson correlation of a[0..n) and b[0..n); 0 when either is constant. */
static double correlation(const float *a, const float *b, int n)
{
	double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
	for (int i = 0; i < n; i++) {
		sa += a[i];
		sb += b[i];
		saa += (double)a[i] * a[i];
		sbb += (double)b[i] * b[i];
		sab += (double)a[i] * b[i];
	}
	double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
	return va > 0 && vb > 0 ? (sab - sa * sb / n) / sqrt(va * vb) : 0;
}

/* The pointer crops' wide fields and a grey plane, for finding the hubs (hub_find); the roller
 * crops' wide fields and their gradient sums, for finding the windows (win_find). */
struct hub_scratch {
	struct mtb_image *wide[MTB_LAYOUT_MAX_POINTERS];
	float *grey;
	size_t grey_cap;
	struct mtb_image *win[MTB_LAYOUT_MAX_ROLLERS];
	float *maps;
	size_t maps_cap;
};

static void hub_scratch_free(struct hub_scratch *hs)
{
	for (int k = 0; k < MTB_LAYOUT_MAX_POINTERS; k++)
		mtb_image_destroy(hs->wide[k]);
	for (int k = 0; k < MTB_LAYOUT_MAX_ROLLERS; k++)
		mtb_image_destroy(hs->win[k]);
	free(hs->grey);
	free(hs->maps);
}

struct mtb_register_aligner {
	struct mtb_layout layout;
	struct model m;
	struct mtb_cvw_planes *cv;
	float *buf;                 /* the four planes below, one allocation */
	size_t cap;                 /* floats in buf */
	struct plane gc, ec, gf, ef;
	int fc, ff, shorter;
	/* The pose found on the previous frame, for mtb_register_align_next. */
	bool have_last;
	struct params last_q;
	double last_score;
	float last_profile[MAX_PTS];
	/* The element crops of mtb_register_read_next, kept between frames. */
	struct mtb_image *crop[MTB_LAYOUT_MAX_ELEMENTS];
	struct hub_scratch hub;
};

void mtb_register_aligner_forget(struct mtb_register_aligner *a)
{
	if (a)
		a->have_last = false;
}

int mtb_register_aligner_create(const struct mtb_layout *l, struct mtb_register_aligner **out, struct mtb_errbuf *eb)
{
	if (!out)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "aligner: no output");
	*out = NULL;
	if (!l || mtb_layout_elements(l) < 1)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "aligner: no layout");
	struct mtb_register_aligner *a = calloc(1, sizeof *a);
	if (!a)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "aligner: out of memory");
	a->layout = *l;
	model_build(l, &a->m);
	int rc = mtb_cvw_planes_create(&a->cv, eb);
	if (rc != MTB_OK) {
		free(a);
		return rc;
	}
	*out = a;
	return MTB_OK;
}

void mtb_register_aligner_destroy(struct mtb_register_aligner *a)
{
	if (!a)
		return;
	mtb_cvw_planes_destroy(a->cv);
	for (int i = 0; i < MTB_LAYOUT_MAX_ELEMENTS; i++)
		mtb_image_destroy(a->crop[i]);
	hub_scratch_free(&a->hub);
	free(a->buf);
	free(a);
}

/* The coarse (~120 px) and fine (~240 px) planes of img: grey level and edge energy. */
static int aligner_prepare(struct mtb_register_aligner *a, const struct mtb_image *img, struct mtb_errbuf *eb)
{
	int shorter = img->width < img->height ? img->width : img->height;
	a->shorter = shorter;
	a->fc = shorter / 120 > 1 ? shorter / 120 : 1;
	a->ff = shorter / 240 > 1 ? shorter / 240 : 1;
	int wc = img->width / a->fc, hc = img->height / a->fc, wf = img->width / a->ff, hf = img->height / a->ff;
	if (wc < 16 || hc < 16)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "align: image too small");
	size_t nc = (size_t)wc * hc, nf = (size_t)wf * hf, need = 2 * nc + 2 * nf;
	if (need > a->cap) {
		float *p = realloc(a->buf, need * sizeof *p);
		if (!p)
			return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "align: out of memory");
		a->buf = p;
		a->cap = need;
	}
	a->gc = (struct plane){ wc, hc, a->buf };
	a->ec = (struct plane){ wc, hc, a->buf + nc };
	a->gf = (struct plane){ wf, hf, a->buf + 2 * nc };
	a->ef = (struct plane){ wf, hf, a->buf + 2 * nc + nf };
	int rc = mtb_cvw_planes_set(a->cv, img, eb);
	if (rc == MTB_OK)
		rc = mtb_cvw_planes_level(a->cv, a->fc, a->gc.p, a->ec.p, eb);
	if (rc == MTB_OK)
		rc = mtb_cvw_planes_level(a->cv, a->ff, a->gf.p, a->ef.p, eb);
	return rc;
}

/* The lowest of the candidate list's n scores once it holds N_CAND, else -inf (any score may
 * join). */
static double list_worst(const double *sc, int n)
{
	if (n < N_CAND)
		return -HUGE_VAL;
	double w = sc[0];
	for (int j = 1; j < n; j++)
		w = fmin(w, sc[j]);
	return w;
}

/* The full search over the prepared planes; returns the best pose's score on the fine plane
 * (-1 when no candidate was found). */
static double search_full(const struct mtb_register_aligner *a, int width, int height, struct params *best)
{
	const struct model *m = &a->m;
	const struct plane *gc = &a->gc, *ec = &a->ec, *ef = &a->ef;
	int fc = a->fc, ff = a->ff, shorter = a->shorter;
	struct plane_scale pc = plane_scale_make(fc);

	/* 1. The rim alone (no angle): centre and scale on the coarse plane from the step in grey
	 *    level across the rim, the same sign all round (text and marks inside average out). The
	 *    best few distinct candidates go on, as the bezel's outer edge also looks like a rim. */
	struct params cand[N_CAND];
	double cand_sc[N_CAND];
	int nc = 0;
	double R = a->layout.radius;
	double cosk[RIM_ANGLES], sink[RIM_ANGLES];
	for (int k = 0; k < RIM_ANGLES; k++) {
		/* angles taken in a scattered order (13 is prime to 32), so that a circle that cannot
		 * make the list is given up after a few of them (below) */
		int j = (k * 13) % RIM_ANGLES;
		cosk[k] = cos(2 * PI * j / RIM_ANGLES);
		sink[k] = sin(2 * PI * j / RIM_ANGLES);
	}
	/* the list's worst score once it is full (-inf before): only a change to the list moves it */
	double worst = -HUGE_VAL;
	for (double fill = 0.5; fill <= 1.02; fill *= 1.05) {
		double s = fill * shorter / (2 * R);
		double rad = s * R;
		double step = 3.0 * fc;
		double x0 = fmax(rad * 0.8, width * 0.3), x1 = fmin(width - rad * 0.8, width * 0.7);
		double y0 = fmax(rad * 0.8, height * 0.3), y1 = fmin(height - rad * 0.8, height * 0.7);
		/* the sample points' offsets from the centre, the same at every centre of this scale */
		double oxi[RIM_ANGLES], oyi[RIM_ANGLES], oxo[RIM_ANGLES], oyo[RIM_ANGLES];
		for (int k = 0; k < RIM_ANGLES; k++) {
			oxi[k] = 0.92 * rad * cosk[k];
			oyi[k] = 0.92 * rad * sink[k];
			oxo[k] = 1.08 * rad * cosk[k];
			oyo[k] = 1.08 * rad * sink[k];
		}
		for (double cy = y0; cy <= y1; cy += step)
			for (double cx = x0; cx <= x1; cx += step) {
				/* A circle changes the list only with a score above the list's worst, which
				 * needs RIM_REACH of the angles above that worst (one polarity) or below
				 * minus it (the other): stop sampling as soon as neither can be reached. */
				double d[RIM_ANGLES];
				int above = 0, below = 0;
				bool hopeless = false;
				for (int k = 0; k < RIM_ANGLES; k++) {
					double xi = to_plane(&pc, cx + oxi[k]), yi = to_plane(&pc, cy + oyi[k]);
					double xo = to_plane(&pc, cx + oxo[k]), yo = to_plane(&pc, cy + oyo[k]);
					d[k] = plane_at(gc, xi, yi) - plane_at(gc, xo, yo);
					above += d[k] > worst;
					below += d[k] < -worst;
					int left = RIM_ANGLES - 1 - k;
					if (above + left < RIM_REACH && below + left < RIM_REACH) {
						hopeless = true;
						break;
					}
				}
				if (hopeless)
					continue;
				double sc = rim_score(d, RIM_ANGLES);
				struct params q = { cx, cy, s, 0, 0, 0, 0, 0 };
				/* keep it if better than the worst and not next to a better one */
				int near = -1;
				for (int j = 0; j < nc; j++)
					if (fabs(cand[j].cx - cx) < rad * 0.08 && fabs(cand[j].cy - cy) < rad * 0.08 &&
					    fabs(cand[j].s / s - 1) < 0.06) {
						near = j;
						break;
					}
				if (near >= 0) {
					if (sc > cand_sc[near]) {
						cand[near] = q;
						cand_sc[near] = sc;
						worst = list_worst(cand_sc, nc);
					}
					continue;
				}
				if (nc < N_CAND) {
					cand[nc] = q;
					cand_sc[nc++] = sc;
					worst = list_worst(cand_sc, nc);
				} else {
					int wi = 0;
					for (int j = 1; j < nc; j++)
						if (cand_sc[j] < cand_sc[wi])
							wi = j;
					if (sc > cand_sc[wi]) {
						cand[wi] = q;
						cand_sc[wi] = sc;
						worst = list_worst(cand_sc, nc);
					}
				}
			}
	}

	/* 2. For each candidate: the angle with the whole model on the coarse plane, then a pattern
	 *    search of all eight parameters, first on the coarse plane (wide basin), then on the fine
	 *    one (sharp edges). The candidate whose pose explains the most edge energy wins. */
	double px[ANGLE_STEPS][SPARSE_MAX], py[ANGLE_STEPS][SPARSE_MAX];
	for (int j = 0; j < nc; j++) {
		/* Angle, with the rim's centre and scale nudged around: the rim alone is coarse. */
		struct params qb = cand[j];
		double bs = -1;
		int np = SPARSE_PTS(m);
		for (int ds = -1; ds <= 1; ds++) {
			/* the model turned and scaled once per angle, for the nine centres */
			double s = cand[j].s * (1 + 0.025 * ds);
			int na = 0;
			for (double th = -15; th <= 15.01; th += 3.0, na++)
				sparse_points(m, th * PI / 180, s, px[na], py[na]);
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++) {
					int ia = 0;
					for (double th = -15; th <= 15.01; th += 3.0, ia++) {
						struct params t = { cand[j].cx + dx * 3.0 * fc, cand[j].cy + dy * 3.0 * fc,
								    s, th * PI / 180, 0, 0, 0, 0 };
						double sc = score_sparse(ec, px[ia], py[ia], np, t.cx, t.cy, fc);
						if (sc > bs) {
							bs = sc;
							qb = t;
						}
					}
				}
		}
		cand[j] = qb;
		cand_sc[j] = bs;
	}
	/* Only the two best go through the (costlier) refinement. */
	double best_sc = -1;
	for (int r = 0; r < 2 && r < nc; r++) {
		int bj = r;
		for (int j = r + 1; j < nc; j++)
			if (cand_sc[j] > cand_sc[bj])
				bj = j;
		struct params q = cand[bj];
		double qs = cand_sc[bj];
		cand[bj] = cand[r];
		cand_sc[bj] = cand_sc[r];
		cand[r] = q;
		cand_sc[r] = qs;
		double cur = refine(ec, ef, m, fc, ff, shorter, &q);
		if (cur > best_sc) {
			best_sc = cur;
			*best = q;
		}
	}
	return best_sc;
}

int mtb_register_align_next(struct mtb_register_aligner *a, const struct mtb_image *img, struct mtb_register_pose *pose,
			    struct mtb_errbuf *eb)
{
	if (!a || !img || !img->data || !pose || img->width < 32 || img->height < 32 ||
	    (img->channels != 1 && img->channels != 3 && img->channels != 4))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "align: not an image of at least 32 x 32 pixels");
	memset(pose, 0, sizeof *pose);
	bool had_last = a->have_last;
	a->have_last = false;
	int rc = aligner_prepare(a, img, eb);
	if (rc != MTB_OK)
		return rc;
	double c_face = a->layout.size / 2;
	double bg = plane_mean(&a->ef);
	float prof[MAX_PTS];

	/* Near the previous frame's pose: the pattern search on the fine plane from there. */
	if (had_last && bg > 0) {
		struct params q = a->last_q;
		double sc = refine(&a->ec, &a->ef, &a->m, a->fc, a->ff, a->shorter, &q) / bg;
		double moved = hypot(q.cx - a->last_q.cx, q.cy - a->last_q.cy);
		if (sc >= MIN_SCORE && sc >= TRACK_KEEP * a->last_score && moved <= TRACK_MAX_MOVE * a->shorter &&
		    fabs(q.s / a->last_q.s - 1) <= TRACK_MAX_SCALE && fabs(q.th - a->last_q.th) <= TRACK_MAX_TURN) {
			profile(&a->ef, &a->m, &q, a->ff, prof);
			double r = correlation(prof, a->last_profile, a->m.n);
			if (r >= TRACK_MIN_CORR) {
				params_to_h(&q, c_face, pose->h);
				pose->score = sc;
				pose->near = true;
				a->have_last = true;
				a->last_q = q;
				a->last_score = sc;
				memcpy(a->last_profile, prof, sizeof(float) * (size_t)a->m.n);
				return MTB_OK;
			}
		}
	}

	struct params best = { 0 };
	double best_sc = search_full(a, img->width, img->height, &best);
	params_to_h(&best, c_face, pose->h);
	pose->score = bg > 0 && best_sc > 0 ? best_sc / bg : 0;
	/* Edges under the model at least twice as strong as the frame's average edge. */
	if (pose->score < MIN_SCORE) {
		double s = pose->score;
		pose->score = 0;
		return mtb_errbuf_set(eb, MTB_ERR_REFUSED, "cannot find the dial face (edge score %.2f, %.1f needed)", s,
				      MIN_SCORE);
	}
	a->have_last = true;
	a->last_q = best;
	a->last_score = pose->score;
	profile(&a->ef, &a->m, &best, a->ff, a->last_profile);
	return MTB_OK;
}

int mtb_register_align(const struct mtb_layout *l, const struct mtb_image *img, struct mtb_register_pose *pose,
		       struct mtb_errbuf *eb)
{
	if (!l || !img || !img->data || !pose || img->width < 32 || img->height < 32 ||
	    (img->channels != 1 && img->channels != 3 && img->channels != 4))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "align: not an image of at least 32 x 32 pixels");
	struct mtb_register_aligner *a;
	int rc = mtb_register_aligner_create(l, &a, eb);
	if (rc != MTB_OK)
		return rc;
	rc = mtb_register_align_next(a, img, pose, eb);
	mtb_register_aligner_destroy(a);
	return rc;
}

/* The renderer's crop size for element i: roller 60 high, pointer 64 x 64. */
static void crop_size(const struct mtb_layout *l, int i, int *w, int *h)
{
	double rx, ry, rw, rh;
	mtb_layout_crop_rect(l, i, &rx, &ry, &rw, &rh);
	if (i < l->n_rollers) {
		*h = 60;
		*w = (int)lround(60.0 * rw / rh);
	} else {
		*w = *h = 64;
	}
}

/* Cuts element i's crop through pose into dst (3 channels, its own size), with its field moved
 * by (dx, dy) crop pixels and widened about its centre by field_x along x and field_y along y
 * (1: the crop itself; the scale in pixels per face unit follows dst's size). */
static int crop_warp(const struct mtb_layout *l, const struct mtb_image *img, const struct mtb_register_pose *pose,
		     int i, double dx, double dy, double field_x, double field_y, struct mtb_image *dst,
		     struct mtb_errbuf *eb)
{
	double rx, ry, rw, rh;
	mtb_layout_crop_rect(l, i, &rx, &ry, &rw, &rh);
	double cx = rx + rw / 2 + dx * rw / dst->width, cy = ry + rh / 2 + dy * rh / dst->height;
	rw *= field_x;
	rh *= field_y;
	rx = cx - rw / 2;
	ry = cy - rh / 2;
	int w = dst->width, h = dst->height;
	/* Crop pixel (x, y), centre at (x + 0.5, y + 0.5) of the crop, is face point
	 * (rx + (x + 0.5) rw / w, ry + (y + 0.5) rh / h); the pose takes it to image coordinates whose
	 * pixel centres lie at +0.5, so half a pixel comes off for the integer-centred warp. */
	const double *H = pose->h;
	double A[9] = { rw / w, 0, rx + 0.5 * rw / w, 0, rh / h, ry + 0.5 * rh / h, 0, 0, 1 };
	double M[9];
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 3; c++) {
			double v = 0;
			for (int k = 0; k < 3; k++)
				v += H[3 * r + k] * A[3 * k + c];
			M[3 * r + c] = v;
		}
	for (int c = 0; c < 3; c++) {
		M[c] -= 0.5 * M[6 + c];
		M[3 + c] -= 0.5 * M[6 + c];
	}
	return mtb_cvw_warp_bgr(img, M, w, h, dst->data, dst->stride, eb);
}

static int crop_into(const struct mtb_layout *l, const struct mtb_image *img, const struct mtb_register_pose *pose,
		     int i, struct mtb_image *dst, struct mtb_errbuf *eb)
{
	return crop_warp(l, img, pose, i, 0.0, 0.0, 1.0, 1.0, dst, eb);
}

/* Pointer crops re-centred on their sub-dial's rim.
 *
 * The pointer reader was trained on crops centred on the hub. Through a pose a few pixels off
 * (the aligner's crops lie up to about a tenth of a crop side from where the face puts them) a
 * pointer is read less precisely and, past about a tenth, now and then half a turn off: the
 * tail taken for the tip. The rim that the layout gives for the sub-dial (a circle drawn round
 * the scale, `rim` x its radius) says where the hub is: the centre, within HUB_SEARCH crop
 * sides of the crop's own, about which the grey-level gradient across that circle is strongest.
 * It is searched on a field HUB_FIELD times the crop's, at the crop's scale, so that the whole
 * circle stays in view, on a 2-pixel grid and then to the pixel; a centre is taken only when
 * its circle stands out (HUB_MIN_CONTRAST x the mean over the grid), else the crop stays as
 * cut. Measured on rendered dials in docs/vision-register.md. */
#define HUB_ANGLES 64
#define HUB_SEARCH 0.16
#define HUB_FIELD 1.5
#define HUB_MIN_CONTRAST 1.5
#define HUB_AGREE 0.07

/* The circle of radius rad about the field's centre, sampled at HUB_ANGLES points: each point's
 * pixel (rounded) and the radial direction there. Every candidate centre is a whole number of
 * pixels from the field's centre, so it samples the same pixels moved by that many. */
struct hub_circle {
	int x[HUB_ANGLES], y[HUB_ANGLES];
	double c[HUB_ANGLES], s[HUB_ANGLES];
};

static void hub_circle_make(struct hub_circle *hc, int w, int h, double rad)
{
	double c0x = (w - 1) / 2.0, c0y = (h - 1) / 2.0;
	for (int k = 0; k < HUB_ANGLES; k++) {
		hc->c[k] = cos(k * (2 * PI / HUB_ANGLES));
		hc->s[k] = sin(k * (2 * PI / HUB_ANGLES));
		hc->x[k] = (int)lround(c0x + rad * hc->c[k]);
		hc->y[k] = (int)lround(c0y + rad * hc->s[k]);
	}
}

/* Mean absolute radial gradient of grey plane g (w x h) on the circle moved by (ox, oy); 0 when
 * less than 5/8 of it lies inside. */
static double hub_circle_score(const float *g, int w, int h, const struct hub_circle *hc, int ox, int oy)
{
	double s = 0;
	int n = 0;
	for (int k = 0; k < HUB_ANGLES; k++) {
		int x = hc->x[k] + ox, y = hc->y[k] + oy;
		if (x < 1 || y < 1 || x > w - 2 || y > h - 2)
			continue;
		const float *p = g + (size_t)y * w + x;
		double gx = p[1] - p[-1], gy = p[w] - p[-w];
		s += fabs(gx * hc->c[k] + gy * hc->s[k]);
		n++;
	}
	return n >= HUB_ANGLES * 5 / 8 ? s / n : 0.0;
}

/* The rim's centre in the wide field, in pixels from the field's centre; false when no circle
 * of radius rad stands out. */
static bool hub_find(const struct mtb_image *wide, float *g, double rad, int reach, int *dx, int *dy)
{
	int w = wide->width, h = wide->height;
	for (int y = 0; y < h; y++) {
		const uint8_t *row = mtb_image_row(wide, y);
		for (int x = 0; x < w; x++)
			g[y * w + x] = 0.114f * row[3 * x] + 0.587f * row[3 * x + 1] + 0.299f * row[3 * x + 2];
	}
	struct hub_circle hc;
	hub_circle_make(&hc, w, h, rad);
	double best = -1, sum = 0;
	int bx = 0, by = 0, n = 0;
	for (int oy = -reach; oy <= reach; oy += 2)
		for (int ox = -reach; ox <= reach; ox += 2) {
			double sc = hub_circle_score(g, w, h, &hc, ox, oy);
			sum += sc;
			n++;
			if (sc > best) {
				best = sc;
				bx = ox;
				by = oy;
			}
		}
	double mean = sum / n;
	int gx = bx, gy = by;
	for (int oy = gy - 1; oy <= gy + 1; oy++)
		for (int ox = gx - 1; ox <= gx + 1; ox++) {
			double sc = hub_circle_score(g, w, h, &hc, ox, oy);
			if (sc > best) {
				best = sc;
				bx = ox;
				by = oy;
			}
		}
	if (!(best > HUB_MIN_CONTRAST * mean))
		return false;
	*dx = bx;
	*dy = by;
	return true;
}

/* The largest group of the moves (fx[j], fy[j]), j < n, that lie within `agree` pixels of one
 * of them on each axis (on a tie the one about the smaller move): its mean goes to (*cx, *cy);
 * returns its size (0 when n is 0, leaving *cx, *cy as they were). */
static int moves_consensus(const int *fx, const int *fy, int n, int agree, int *cx, int *cy)
{
	int best_n = 0, best_size = 0;
	for (int a = 0; a < n; a++) {
		int m = 0, sx = 0, sy = 0;
		for (int b = 0; b < n; b++)
			if (abs(fx[b] - fx[a]) <= agree && abs(fy[b] - fy[a]) <= agree) {
				m++;
				sx += fx[b];
				sy += fy[b];
			}
		int size = abs(fx[a]) + abs(fy[a]);
		if (m > best_n || (m == best_n && size < best_size)) {
			best_n = m;
			best_size = size;
			*cx = (int)lround((double)sx / m);
			*cy = (int)lround((double)sy / m);
		}
	}
	return best_n;
}

/* Cuts every pointer's crop into crops[k] (pointer k, its own size): about its hub when its
 * sub-dial has a rim, else as crop_into; moves[k] gets how far from the pose's crop it was moved,
 * in crop pixels. A pose error moves the sub-dials nearly alike (a shift, a little turn or
 * scale), so with three or more hubs found the moves must agree. The largest group of moves
 * within HUB_AGREE crop sides of one of them (two at least; on a tie the one of the smaller move)
 * sets the consensus, their mean: a move outside it (a circle found that is not the rim: glare,
 * blur, a neighbour's rim) and a pointer whose rim was not found move by the consensus instead;
 * with no two moves agreeing no crop moves. With fewer hubs found each crop moves by its own. Each wide field is cut at its crop's pixel scale with a whole number of
 * pixels on each side, so the crop is a window of it: no second warp. */
static int hub_cut_all(struct hub_scratch *hs, const struct mtb_layout *l, const struct mtb_image *img,
		       const struct mtb_register_pose *pose, struct mtb_image *const *crops, int (*moves)[2],
		       struct mtb_errbuf *eb)
{
	int np = l->n_pointers, nr = l->n_rollers;
	bool rim[MTB_LAYOUT_MAX_POINTERS], found[MTB_LAYOUT_MAX_POINTERS];
	int mx[MTB_LAYOUT_MAX_POINTERS], my[MTB_LAYOUT_MAX_POINTERS], fx[MTB_LAYOUT_MAX_POINTERS] = { 0 },
		fy[MTB_LAYOUT_MAX_POINTERS] = { 0 };
	int n_found = 0;
	for (int k = 0; k < np; k++) {
		const struct mtb_layout_pointer *p = &l->pointers[k];
		struct mtb_image *crop = crops[k];
		moves[k][0] = moves[k][1] = 0;
		found[k] = false;
		rim[k] = p->rim > 0;
		if (!rim[k]) {
			int rc = crop_into(l, img, pose, nr + k, crop, eb);
			if (rc != MTB_OK)
				return rc;
			continue;
		}
		mx[k] = (int)lround((HUB_FIELD - 1) / 2 * crop->width);
		my[k] = (int)lround((HUB_FIELD - 1) / 2 * crop->height);
		int ww = crop->width + 2 * mx[k], wh = crop->height + 2 * my[k];
		if (hs->wide[k] && (hs->wide[k]->width != ww || hs->wide[k]->height != wh)) {
			mtb_image_destroy(hs->wide[k]);
			hs->wide[k] = NULL;
		}
		if (!hs->wide[k] && mtb_image_create(&hs->wide[k], ww, wh, 3) != MTB_OK)
			return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "crop: out of memory");
		if ((size_t)ww * (size_t)wh > hs->grey_cap) {
			free(hs->grey);
			hs->grey_cap = (size_t)ww * (size_t)wh;
			if (!(hs->grey = malloc(sizeof(float) * hs->grey_cap))) {
				hs->grey_cap = 0;
				return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "crop: out of memory");
			}
		}
		/* the same pixel scale as the crop: ww / w wide along x, wh / h along y */
		int rc = crop_warp(l, img, pose, nr + k, 0.0, 0.0, (double)ww / crop->width, (double)wh / crop->height,
				   hs->wide[k], eb);
		if (rc != MTB_OK)
			return rc;
		double rx, ry, rw, rh;
		mtb_layout_crop_rect(l, nr + k, &rx, &ry, &rw, &rh);
		int reach = (int)lround(HUB_SEARCH * crop->width);
		reach = reach < mx[k] ? reach : mx[k];
		reach = reach < my[k] ? reach : my[k];
		found[k] = hub_find(hs->wide[k], hs->grey, p->rim * p->r * crop->width / rw, reach, &moves[k][0],
				    &moves[k][1]);
		if (found[k]) {
			fx[n_found] = moves[k][0];
			fy[n_found++] = moves[k][1];
		} else {
			moves[k][0] = moves[k][1] = 0;
		}
	}
	int agree = (int)lround(HUB_AGREE * crops[0]->width);
	int con_x = 0, con_y = 0;
	int best_n = moves_consensus(fx, fy, n_found, agree, &con_x, &con_y);
	if (best_n < 2)
		con_x = con_y = 0;
	for (int k = 0; k < np; k++) {
		if (!rim[k])
			continue;
		struct mtb_image *crop = crops[k];
		if (n_found >= 3 && (!found[k] || best_n < 2 || abs(moves[k][0] - con_x) > agree ||
				     abs(moves[k][1] - con_y) > agree)) {
			moves[k][0] = con_x;
			moves[k][1] = con_y;
		}
		int dx = moves[k][0], dy = moves[k][1];
		dx = dx < -mx[k] ? -mx[k] : dx > mx[k] ? mx[k] : dx;
		dy = dy < -my[k] ? -my[k] : dy > my[k] ? my[k] : dy;
		moves[k][0] = dx;
		moves[k][1] = dy;
		for (int y = 0; y < crop->height; y++)
			memcpy(mtb_image_row(crop, y), mtb_image_row(hs->wide[k], y + my[k] + dy) + (size_t)3 * (mx[k] + dx),
			       (size_t)3 * crop->width);
	}
	return MTB_OK;
}

/* Roller crops re-centred on their windows, vertically.
 *
 * The digit reader was trained on crops that show the window where the layout puts it; through
 * a pose a few pixels off it refuses more and reads less precisely (rendered roller crops moved
 * by 7 % of their size: 7 % refused against 4.4 % as cut, by 13 %: 16 %). When the layout says
 * that a dark line is drawn round each window (`frame`, its width in units of the window's
 * width), the window's top and bottom sides say where the crop belongs vertically. The response
 * at a pixel of a side is how much darker it is than the darker of the pixels d to either side
 * of it across the side (d: the line's width, 2 pixels at least; 0 when not darker than both),
 * plus how much brighter (or, for the other polarity, darker) the inside is than the outside
 * there. A side scores the WIN_QUANTILE quantile of the response along its middle WIN_SPAN: a
 * window's side is a line all along, a digit's stroke or the drum's shading only on part of it.
 * At each vertical move within WIN_SEARCH crop widths the window scores the weaker of its top and
 * bottom sides, for the better polarity (the band is one colour all round the window, so the
 * inside is brighter than the outside on both sides or darker on both: the band's own edge,
 * a few pixels above the window, with the drum's shading below, is not a window). The rollers of
 * one counter move alike under a pose error, so their scores are added, and the best move
 * within WIN_CHOOSE crop widths is taken when it stands out (WIN_MIN_CONTRAST x the mean over
 * all the searched moves), else no crop moves; each roller then takes the best move of its own
 * within WIN_AGREE crop widths of it when its own stands out too (a small turn of the pose moves
 * the ends of the row a pixel or two apart). The same search across the left and right sides
 * was tried and is not used: on blurred faces with dark drums in a dark band the digits' strokes
 * outscore the sides (docs/vision-register.md). The field is cut at the crop's pixel scale, so
 * the crop is a window of it: no second warp. */
#define WIN_SEARCH 0.2
#define WIN_CHOOSE 0.15
#define WIN_SPAN 0.6
#define WIN_QUANTILE 0.25
#define WIN_MIN_CONTRAST 1.5
#define WIN_AGREE 0.05

/* Where a roller's window lies in its wide field (margin m pixels round the crop): the rows of
 * its top and bottom lines, the columns sampled along them and the response's reach d across a
 * line (pixels). */
struct win_edges {
	int row[2];
	int x0, x1;
	int d;
};

static void win_edges_make(const struct mtb_layout *l, int k, int cw, int ch, int m, struct win_edges *we)
{
	const struct mtb_layout_roller *ro = &l->rollers[k];
	double rx, ry, rw, rh;
	mtb_layout_crop_rect(l, k, &rx, &ry, &rw, &rh);
	double sx = cw / rw, sy = ch / rh;
	/* window sides in field coordinates (pixel edges at whole numbers, centres at + 0.5) */
	double xl = m + (ro->x - rx) * sx, xr = m + (ro->x + ro->w - rx) * sx;
	we->row[0] = (int)floor(m + (ro->y - ry) * sy);
	we->row[1] = (int)floor(m + (ro->y + ro->h - ry) * sy);
	double ex = (1 - WIN_SPAN) / 2 * (xr - xl);
	we->x0 = (int)lround(xl + ex);
	we->x1 = (int)lround(xr - ex);
	we->d = (int)lround(ro->frame * ro->w * sy);
	we->d = we->d < 2 ? 2 : we->d;
}

/* The response across a line at p[0], its neighbours `step` floats (d pixels) away each way,
 * the window's inside at +step: how much darker it is than the darker neighbour (0 when not
 * darker than both), plus how much brighter the inside is than the outside (pol 1) or darker
 * (pol -1), 0 when not. */
static float win_response(const float *p, ptrdiff_t step, float pol)
{
	float out = p[-step], in = p[step], v = fminf(out, in) - p[0], s = pol * (in - out);
	return (v > 0 ? v : 0) + (s > 0 ? s : 0);
}

/* The WIN_QUANTILE quantile of the response along one side: n pixels from p on. */
static double win_side(const float *p, int n, ptrdiff_t step, float pol)
{
	double v[256];
	n = n < 256 ? n : 256;
	for (int i = 0; i < n; i++)
		v[i] = win_response(p + i, step, pol);
	return select_kth(v, n, (int)(WIN_QUANTILE * n));
}

/* The window's score map: map[o + reach] for the window moved down by o pixels in the wide field
 * (see above). g: w h floats. */
static void win_map(const struct mtb_image *wide, float *g, const struct win_edges *we, int reach, float *map)
{
	int w = wide->width, h = wide->height;
	for (int y = 0; y < h; y++) {
		const uint8_t *row = mtb_image_row(wide, y);
		for (int x = 0; x < w; x++)
			g[y * w + x] = 0.114f * row[3 * x] + 0.587f * row[3 * x + 1] + 0.299f * row[3 * x + 2];
	}
	int n = we->x1 - we->x0;
	ptrdiff_t step = (ptrdiff_t)we->d * w;
	for (int o = -reach; o <= reach; o++) {
		const float *t = g + (size_t)(we->row[0] + o) * w + we->x0, *b = g + (size_t)(we->row[1] + o) * w + we->x0;
		double best = 0;
		for (int pol = -1; pol <= 1; pol += 2)
			best = fmax(best, fmin(win_side(t, n, step, (float)pol), win_side(b, n, -step, (float)pol)));
		map[o + reach] = (float)best;
	}
}

/* The best move of map (2 reach + 1 entries) within `within` pixels of c; true when it stands
 * out (WIN_MIN_CONTRAST x the mean over the whole map). */
static bool win_best(const float *map, int reach, int c, int within, int *best_o)
{
	double sum = 0, best = -1;
	for (int o = -reach; o <= reach; o++) {
		double sc = map[o + reach];
		sum += sc;
		if (abs(o - c) <= within && sc > best) {
			best = sc;
			*best_o = o;
		}
	}
	return best > WIN_MIN_CONTRAST * sum / (2 * reach + 1);
}

static int scratch_floats(float **p, size_t *cap, size_t need, struct mtb_errbuf *eb)
{
	if (need <= *cap)
		return MTB_OK;
	free(*p);
	*cap = need;
	if (!(*p = malloc(sizeof(float) * need))) {
		*cap = 0;
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "crop: out of memory");
	}
	return MTB_OK;
}

/* Cuts every roller's crop into crops[k] (roller k, its own size): moved onto its window when the
 * layout gives the window's frame, else as crop_into; moves[k] gets how far from the pose's crop
 * it was moved, in crop pixels (along x always 0). */
static int win_cut_all(struct hub_scratch *hs, const struct mtb_layout *l, const struct mtb_image *img,
		       const struct mtb_register_pose *pose, struct mtb_image *const *crops, int (*moves)[2],
		       struct mtb_errbuf *eb)
{
	int nr = l->n_rollers, n_framed = 0, reach = 0, rc;
	int mg[MTB_LAYOUT_MAX_ROLLERS];
	for (int k = 0; k < nr; k++) {
		moves[k][0] = moves[k][1] = 0;
		if (l->rollers[k].frame > 0 && n_framed++ == 0)
			reach = (int)lround(WIN_SEARCH * crops[k]->width);
	}
	if (n_framed == 0) {
		for (int k = 0; k < nr; k++)
			if ((rc = crop_into(l, img, pose, k, crops[k], eb)) != MTB_OK)
				return rc;
		return MTB_OK;
	}
	int side = 2 * reach + 1;
	/* maps: roller k's at k side, their sum at nr side */
	if ((rc = scratch_floats(&hs->maps, &hs->maps_cap, (size_t)(nr + 1) * side, eb)) != MTB_OK)
		return rc;
	float *tot = hs->maps + (size_t)nr * side;
	for (int i = 0; i < side; i++)
		tot[i] = 0;
	for (int k = 0; k < nr; k++) {
		struct mtb_image *crop = crops[k];
		if (!(l->rollers[k].frame > 0)) {
			if ((rc = crop_into(l, img, pose, k, crop, eb)) != MTB_OK)
				return rc;
			continue;
		}
		struct win_edges we;
		win_edges_make(l, k, crop->width, crop->height, 0, &we);
		mg[k] = reach + we.d + 2;
		win_edges_make(l, k, crop->width, crop->height, mg[k], &we);
		int ww = crop->width + 2 * mg[k], wh = crop->height + 2 * mg[k];
		if (hs->win[k] && (hs->win[k]->width != ww || hs->win[k]->height != wh)) {
			mtb_image_destroy(hs->win[k]);
			hs->win[k] = NULL;
		}
		if (!hs->win[k] && mtb_image_create(&hs->win[k], ww, wh, 3) != MTB_OK)
			return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "crop: out of memory");
		if ((rc = scratch_floats(&hs->grey, &hs->grey_cap, (size_t)ww * wh, eb)) != MTB_OK)
			return rc;
		rc = crop_warp(l, img, pose, k, 0.0, 0.0, (double)ww / crop->width, (double)wh / crop->height,
			       hs->win[k], eb);
		if (rc != MTB_OK)
			return rc;
		float *mk = hs->maps + (size_t)k * side;
		win_map(hs->win[k], hs->grey, &we, reach, mk);
		for (int i = 0; i < side; i++)
			tot[i] += mk[i];
	}
	/* the common move, then each roller's own near it */
	int common = 0;
	bool found = win_best(tot, reach, 0, (int)lround(WIN_CHOOSE * crops[0]->width), &common);
	if (!found)
		common = 0;
	int agree = (int)lround(WIN_AGREE * crops[0]->width);
	for (int k = 0; k < nr; k++) {
		if (!(l->rollers[k].frame > 0))
			continue;
		struct mtb_image *crop = crops[k];
		int m = mg[k], dy = common, own;
		if (found && win_best(hs->maps + (size_t)k * side, reach, common, agree, &own))
			dy = own;
		moves[k][1] = dy;
		for (int y = 0; y < crop->height; y++)
			memcpy(mtb_image_row(crop, y), mtb_image_row(hs->win[k], y + m + dy) + (size_t)3 * m,
			       (size_t)3 * crop->width);
	}
	return MTB_OK;
}

int mtb_register_crop(const struct mtb_layout *l, const struct mtb_image *img, const struct mtb_register_pose *pose,
		      int i, int w, int h, struct mtb_image **out, struct mtb_errbuf *eb)
{
	*out = NULL;
	if (!l || !img || !pose || i < 0 || i >= mtb_layout_elements(l) || w < 0 || h < 0 || w > 1024 || h > 1024)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "crop: bad arguments");
	if (!w || !h)
		crop_size(l, i, &w, &h);
	int rc = mtb_image_create(out, w, h, 3);
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, rc, "crop: out of memory");
	rc = crop_into(l, img, pose, i, *out, eb);
	if (rc != MTB_OK) {
		mtb_image_destroy(*out);
		*out = NULL;
	}
	return rc;
}

typedef int (*cut_all_fn)(struct hub_scratch *hs, const struct mtb_layout *l, const struct mtb_image *img,
			  const struct mtb_register_pose *pose, struct mtb_image *const *crops, int (*moves)[2],
			  struct mtb_errbuf *eb);

/* New crops for elements first .. first + n - 1 (their renderer sizes), cut by cut_all with a
 * scratch of its own; moves_px (may be NULL) gets the moves. On an error no crop is left. */
static int crop_group(const struct mtb_layout *l, const struct mtb_image *img, const struct mtb_register_pose *pose,
		      int first, int n, cut_all_fn cut_all, struct mtb_image **crops, int (*moves_px)[2],
		      struct mtb_errbuf *eb)
{
	if (!l || !img || !pose || !crops)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "crop: bad arguments");
	int rc = MTB_OK;
	int moves[MTB_LAYOUT_MAX_ELEMENTS][2];
	for (int k = 0; k < n; k++)
		crops[k] = NULL;
	for (int k = 0; k < n && rc == MTB_OK; k++) {
		int w, h;
		crop_size(l, first + k, &w, &h);
		if (mtb_image_create(&crops[k], w, h, 3) != MTB_OK)
			rc = mtb_errbuf_set(eb, MTB_ERR_NOMEM, "crop: out of memory");
	}
	struct hub_scratch hs;
	memset(&hs, 0, sizeof hs);
	if (rc == MTB_OK)
		rc = cut_all(&hs, l, img, pose, crops, moves, eb);
	hub_scratch_free(&hs);
	for (int k = 0; k < n; k++) {
		if (rc != MTB_OK) {
			mtb_image_destroy(crops[k]);
			crops[k] = NULL;
		} else if (moves_px) {
			moves_px[k][0] = moves[k][0];
			moves_px[k][1] = moves[k][1];
		}
	}
	return rc;
}

int mtb_register_crop_pointers(const struct mtb_layout *l, const struct mtb_image *img,
			       const struct mtb_register_pose *pose, struct mtb_image **crops, int (*moves_px)[2],
			       struct mtb_errbuf *eb)
{
	return crop_group(l, img, pose, l ? l->n_rollers : 0, l ? l->n_pointers : 0, hub_cut_all, crops, moves_px,
			  eb);
}

int mtb_register_crop_rollers(const struct mtb_layout *l, const struct mtb_image *img,
			      const struct mtb_register_pose *pose, struct mtb_image **crops, int (*moves_px)[2],
			      struct mtb_errbuf *eb)
{
	return crop_group(l, img, pose, 0, l ? l->n_rollers : 0, win_cut_all, crops, moves_px, eb);
}

int mtb_register_read_next(struct mtb_register_aligner *a, const struct mtb_image *img,
			   const struct mtb_register_readers *rd, const struct mtb_register_fuse_opts *o,
			   struct mtb_register_result *out, struct mtb_register_pose *pose_out, struct mtb_errbuf *eb)
{
	if (!a || !img || !rd || !rd->read_digit || !rd->read_needle || !out)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "register read: bad arguments");
	const struct mtb_layout *l = &a->layout;
	memset(out, 0, sizeof *out);
	out->t_mono_us = img->t_mono_us;
	int n = mtb_layout_elements(l);
	out->n_elements = n;
	struct mtb_register_pose pose;
	struct mtb_errbuf aeb = { { 0 } };
	int rc = mtb_register_align_next(a, img, &pose, &aeb);
	if (pose_out)
		*pose_out = pose;
	if (rc == MTB_ERR_REFUSED) {
		refuse(out, "%s", aeb.msg);
		return MTB_OK;
	}
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, rc, "%s", aeb.msg);
	/* Every crop first (into the aligner's images, allocated on the first frame), then the
	 * rollers' and the pointers' readers, each over all its crops when it reads batches. */
	for (int i = 0; i < n; i++) {
		if (!a->crop[i]) {
			int w, h;
			crop_size(l, i, &w, &h);
			if ((rc = mtb_image_create(&a->crop[i], w, h, 3)) != MTB_OK)
				return mtb_errbuf_set(eb, rc, "crop: out of memory");
		}
	}
	int moves[MTB_LAYOUT_MAX_ELEMENTS][2];
	if ((rc = win_cut_all(&a->hub, l, img, &pose, a->crop, moves, eb)) != MTB_OK)
		return rc;
	if ((rc = hub_cut_all(&a->hub, l, img, &pose, a->crop + l->n_rollers, moves + l->n_rollers, eb)) != MTB_OK)
		return rc;
	struct mtb_reading el[MTB_LAYOUT_MAX_ELEMENTS];
	memset(el, 0, sizeof el);
	const struct mtb_image *const *crops = (const struct mtb_image *const *)a->crop;
	int nr = l->n_rollers;
	for (int i = 0; i < n; i++) {
		bool roller = i < nr;
		if (roller && rd->read_digits)
			rc = i == 0 ? rd->read_digits(rd->user, crops, nr, el) : MTB_OK;
		else if (!roller && rd->read_needles && rd->check_needles && n - nr > 1) {
			/* the pointers above the finest element in one call, then the finest alone */
			if (i == nr)
				rc = rd->check_needles(rd->user, crops + nr, n - nr - 1, el + nr);
			else if (i == n - 1)
				rc = rd->read_needles(rd->user, crops + i, 1, el + i);
			else
				rc = MTB_OK;
		}
		else if (!roller && rd->read_needles)
			rc = i == nr ? rd->read_needles(rd->user, crops + nr, n - nr, el + nr) : MTB_OK;
		else
			rc = roller ? rd->read_digit(rd->user, a->crop[i], &el[i]) : rd->read_needle(rd->user, a->crop[i], &el[i]);
		if (rc != MTB_OK) {
			char name[32];
			int k = i;   /* a batch names the first element it refused, or its first */
			for (int j = i; j < (roller ? nr : n) && (roller ? rd->read_digits : rd->read_needles); j++)
				if (el[j].refused) {
					k = j;
					break;
				}
			element_name(l, k, name, sizeof name);
			return mtb_errbuf_set(eb, rc, "register read: %s: reader failed: %s", name,
					      el[k].reason[0] ? el[k].reason : mtb_strerror(rc));
		}
	}
	return mtb_register_fuse(l, el, n, o, out);
}

int mtb_register_read(const struct mtb_layout *l, const struct mtb_image *img, const struct mtb_register_readers *rd,
		      const struct mtb_register_fuse_opts *o, struct mtb_register_result *out, struct mtb_errbuf *eb)
{
	if (!l || !img || !rd || !rd->read_digit || !rd->read_needle || !out)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "register read: bad arguments");
	struct mtb_register_aligner *a;
	int rc = mtb_register_aligner_create(l, &a, eb);
	if (rc != MTB_OK)
		return rc;
	rc = mtb_register_read_next(a, img, rd, o, out, NULL, eb);
	mtb_register_aligner_destroy(a);
	return rc;
}
