/* Whole-register reading: fusion of element readings, plausibility, frame combination, and
 * the face alignment and cropping that feed the element readers. See vision/register.h. */
#include "vision/register.h"

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
	for (int i = 0; i < n; i++) {
		element_name(l, i, name, sizeof name);
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
		if (be > o->max_residual) {
			element_name(l, k, name, sizeof name);
			refuse(out, "%s reads %.2f but what is below it calls for %.2f (off by %.2f divisions)", name,
			       el[k].value, fmod(best + g, 10.0), be);
			return MTB_OK;
		}
		worst = fmax(worst, be);
		vol += (__int128)best * mtb_layout_weight_ul(l, k);
		below = best + g;
	}
	out->volume_ul = mod_range((int64_t)(vol % l->range_ul), l->range_ul);
	out->confidence = conf * (1.0 - 0.5 * worst / o->max_residual);
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

static float plane_at(const struct plane *pl, double x, double y)
{
	if (!(x >= 0 && y >= 0 && x < pl->w - 1 && y < pl->h - 1))
		return 0;
	int x0 = (int)x, y0 = (int)y;
	double fx = x - x0, fy = y - y0;
	const float *a = pl->p + (size_t)y0 * pl->w + x0, *b = a + pl->w;
	return (float)((1 - fy) * ((1 - fx) * a[0] + fx * a[1]) + fy * ((1 - fx) * b[0] + fx * b[1]));
}

/* Grey level of img averaged over f x f blocks (f >= 1). */
static int grey_reduce(const struct mtb_image *img, int f, struct plane *out)
{
	out->w = img->width / f;
	out->h = img->height / f;
	if (out->w < 16 || out->h < 16)
		return MTB_ERR_ARG;
	out->p = calloc((size_t)out->w * out->h, sizeof(float));
	if (!out->p)
		return MTB_ERR_NOMEM;
	int c = img->channels;
	for (int y = 0; y < out->h * f; y++) {
		const uint8_t *row = mtb_image_row(img, y);
		float *o = out->p + (size_t)(y / f) * out->w;
		for (int x = 0; x < out->w * f; x++) {
			const uint8_t *px = row + (size_t)x * c;
			float g = c >= 3 ? 0.114f * px[0] + 0.587f * px[1] + 0.299f * px[2] : px[0];
			o[x / f] += g;
		}
	}
	float k = 1.0f / (float)(f * f);
	for (size_t i = 0; i < (size_t)out->w * out->h; i++)
		out->p[i] *= k;
	return MTB_OK;
}

/* Edge energy: Sobel gradient magnitude, then a 3 x 3 box, so thin lines and steps both answer. */
static int edge_energy(const struct plane *g, struct plane *e)
{
	int w = g->w, h = g->h;
	e->w = w;
	e->h = h;
	e->p = calloc((size_t)w * h, sizeof(float));
	float *tmp = calloc((size_t)w * h, sizeof(float));
	if (!e->p || !tmp) {
		free(tmp);
		free(e->p);
		e->p = NULL;
		return MTB_ERR_NOMEM;
	}
	for (int y = 1; y < h - 1; y++)
		for (int x = 1; x < w - 1; x++) {
			const float *p = g->p + (size_t)y * w + x;
			float gx = (p[-w + 1] + 2 * p[1] + p[w + 1]) - (p[-w - 1] + 2 * p[-1] + p[w - 1]);
			float gy = (p[w - 1] + 2 * p[w] + p[w + 1]) - (p[-w - 1] + 2 * p[-w] + p[-w + 1]);
			tmp[(size_t)y * w + x] = sqrtf(gx * gx + gy * gy);
		}
	for (int y = 1; y < h - 1; y++)
		for (int x = 1; x < w - 1; x++) {
			float s = 0;
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++)
					s += tmp[(size_t)(y + dy) * w + x + dx];
			e->p[(size_t)y * w + x] = s / 9.0f;
		}
	free(tmp);
	return MTB_OK;
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

static double score(const struct plane *e, const struct model *m, int from, int to, const struct params *q, double k)
{
	/* k: image pixels per plane pixel. Points are relative to the face centre. */
	double cs = cos(q->th) * q->s, sn = sin(q->th) * q->s, sum = 0;
	for (int i = from; i < to; i++) {
		double u = (1 + q->g0) * m->u[i] + q->g1 * m->v[i], v = m->v[i];
		double x = cs * u - sn * v, y = sn * u + cs * v;
		double w = 1 + q->px * x + q->py * y;
		sum += plane_at(e, (q->cx + x / w) / k, (q->cy + y / w) / k);
	}
	return sum / (to - from);
}

/* Every third model point: for the coarse searches. */
static double score_sparse(const struct plane *e, const struct model *m, const struct params *q, double k)
{
	double cs = cos(q->th) * q->s, sn = sin(q->th) * q->s, sum = 0;
	int n = 0;
	for (int i = 0; i < m->n; i += 3, n++) {
		double x = cs * m->u[i] - sn * m->v[i], y = sn * m->u[i] + cs * m->v[i];
		sum += plane_at(e, (q->cx + x) / k, (q->cy + y) / k);
	}
	return sum / n;
}

static double plane_mean(const struct plane *e)
{
	double s = 0;
	for (size_t i = 0; i < (size_t)e->w * e->h; i++)
		s += e->p[i];
	return s / ((double)e->w * e->h);
}

/* Pattern search of the six pose parameters, first on the coarse plane (wide basin), then on
 * the fine one (sharp edges); returns the final score on the fine plane. */
static double refine(const struct plane *ec, const struct plane *ef, const struct model *m, int fc, int ff,
		     int shorter, struct params *qp)
{
	struct params q = *qp;
	double cur = 0;
	for (int level = 0; level < 2; level++) {
		const struct plane *e = level == 0 ? ec : ef;
		int k = level == 0 ? fc : ff;
		/* Per-parameter steps, halved when neither direction helps. */
		double step[8] = { 1.0 * k, 1.0 * k, q.s * 0.01, 0.01, 0.05 / shorter, 0.05 / shorter, 0.01, 0.01 };
		const double stop[8] = { 0.15 * k, 0.15 * k, q.s * 0.0008, 0.0008, 0.002 / shorter, 0.002 / shorter, 0.0008, 0.0008 };
		cur = score(e, m, 0, m->n, &q, k);
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
	}
	*qp = q;
	return cur;
}

/* A rim steps the same way nearly all round: the contrast that a quarter of the angles fall
 * short of, for the better of the two polarities. A circle through the face's inner detail
 * steps strongly at a few angles only. */
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

static double rim_score(double *d, int n)
{
	double lo = select_kth(d, n, n / 4);
	double hi = -select_kth(d, n, n - 1 - n / 4);
	return fmax(lo, hi);
}

#define N_CAND 6

int mtb_register_align(const struct mtb_layout *l, const struct mtb_image *img, struct mtb_register_pose *pose,
		       struct mtb_errbuf *eb)
{
	if (!l || !img || !img->data || !pose || img->width < 32 || img->height < 32 ||
	    (img->channels != 1 && img->channels != 3 && img->channels != 4))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "align: not an image of at least 32 x 32 pixels");
	int shorter = img->width < img->height ? img->width : img->height;
	int fc = shorter / 120 > 1 ? shorter / 120 : 1;   /* coarse plane: ~120 px */
	int ff = shorter / 240 > 1 ? shorter / 240 : 1;   /* fine plane: ~240 px */
	struct plane gc = { 0 }, gf = { 0 }, ec = { 0 }, ef = { 0 };
	struct model m;
	model_build(l, &m);
	int rc = grey_reduce(img, fc, &gc);
	if (rc == MTB_OK)
		rc = edge_energy(&gc, &ec);
	if (rc == MTB_OK)
		rc = grey_reduce(img, ff, &gf);
	if (rc == MTB_OK)
		rc = edge_energy(&gf, &ef);
	if (rc != MTB_OK) {
		free(gc.p), free(gf.p), free(ec.p), free(ef.p);
		return mtb_errbuf_set(eb, rc, rc == MTB_ERR_NOMEM ? "align: out of memory" : "align: image too small");
	}

	/* 1. The rim alone (no angle): centre and scale on the coarse plane from the step in grey
	 *    level across the rim, the same sign all round (text and marks inside average out). The
	 *    best few distinct candidates go on, as the bezel's outer edge also looks like a rim. */
	struct params cand[N_CAND];
	double cand_sc[N_CAND];
	int nc = 0;
	double R = l->radius;
	double cosk[32], sink[32];
	for (int k = 0; k < 32; k++) {
		cosk[k] = cos(2 * PI * k / 32);
		sink[k] = sin(2 * PI * k / 32);
	}
	for (double fill = 0.5; fill <= 1.02; fill *= 1.05) {
		double s = fill * shorter / (2 * R);
		double rad = s * R;
		double step = 3.0 * fc;
		double x0 = fmax(rad * 0.8, img->width * 0.3), x1 = fmin(img->width - rad * 0.8, img->width * 0.7);
		double y0 = fmax(rad * 0.8, img->height * 0.3), y1 = fmin(img->height - rad * 0.8, img->height * 0.7);
		for (double cy = y0; cy <= y1; cy += step)
			for (double cx = x0; cx <= x1; cx += step) {
				double d[32];
				for (int k = 0; k < 32; k++) {
					double xi = (cx + 0.92 * rad * cosk[k]) / fc, yi = (cy + 0.92 * rad * sink[k]) / fc;
					double xo = (cx + 1.08 * rad * cosk[k]) / fc, yo = (cy + 1.08 * rad * sink[k]) / fc;
					d[k] = plane_at(&gc, xi, yi) - plane_at(&gc, xo, yo);
				}
				double sc = rim_score(d, 32);
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
					}
					continue;
				}
				if (nc < N_CAND) {
					cand[nc] = q;
					cand_sc[nc++] = sc;
				} else {
					int wi = 0;
					for (int j = 1; j < nc; j++)
						if (cand_sc[j] < cand_sc[wi])
							wi = j;
					if (sc > cand_sc[wi]) {
						cand[wi] = q;
						cand_sc[wi] = sc;
					}
				}
			}
	}

	/* 2. For each candidate: the angle with the whole model on the coarse plane, then a pattern
	 *    search of all six parameters, first on the coarse plane (wide basin), then on the fine
	 *    one (sharp edges). The candidate whose pose explains the most edge energy wins. */
	struct params best = { 0 };
	double best_sc = -1;
	for (int j = 0; j < nc; j++) {
		/* Angle, with the rim's centre and scale nudged around: the rim alone is coarse. */
		struct params qb = cand[j];
		double bs = -1;
		for (int ds = -1; ds <= 1; ds++)
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++)
					for (double th = -15; th <= 15.01; th += 3.0) {
						struct params t = { cand[j].cx + dx * 3.0 * fc, cand[j].cy + dy * 3.0 * fc,
								    cand[j].s * (1 + 0.025 * ds), th * PI / 180, 0, 0, 0, 0 };
						double sc = score_sparse(&ec, &m, &t, fc);
						if (sc > bs) {
							bs = sc;
							qb = t;
						}
					}
		cand[j] = qb;
		cand_sc[j] = bs;
	}
	/* Only the two best go through the (costlier) refinement. */
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
		double cur = refine(&ec, &ef, &m, fc, ff, shorter, &q);
		if (cur > best_sc) {
			best_sc = cur;
			best = q;
		}
	}
	double bg = plane_mean(&ef);
	free(gc.p), free(gf.p), free(ec.p), free(ef.p);
	params_to_h(&best, l->size / 2, pose->h);
	pose->score = bg > 0 ? best_sc / bg : 0;
	/* Edges under the model at least twice as strong as the frame's average edge. */
	if (nc == 0 || pose->score < 2.0)
		return mtb_errbuf_set(eb, MTB_ERR_REFUSED, "cannot find the dial face (edge score %.2f, 2.0 needed)",
				      pose->score);
	return MTB_OK;
}

int mtb_register_crop(const struct mtb_layout *l, const struct mtb_image *img, const struct mtb_register_pose *pose,
		      int i, int w, int h, struct mtb_image **out, struct mtb_errbuf *eb)
{
	*out = NULL;
	if (!l || !img || !pose || i < 0 || i >= mtb_layout_elements(l) || w < 0 || h < 0 || w > 1024 || h > 1024)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "crop: bad arguments");
	double rx, ry, rw, rh;
	mtb_layout_crop_rect(l, i, &rx, &ry, &rw, &rh);
	if (!w || !h) {
		if (i < l->n_rollers) {
			h = 60;
			w = (int)lround(60.0 * rw / rh);
		} else {
			w = h = 64;
		}
	}
	int rc = mtb_image_create(out, w, h, 3);
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, rc, "crop: out of memory");
	const double *H = pose->h;
	int c = img->channels;
	for (int y = 0; y < h; y++) {
		uint8_t *d = mtb_image_row(*out, y);
		double v = ry + (y + 0.5) * rh / h;
		for (int x = 0; x < w; x++) {
			double u = rx + (x + 0.5) * rw / w;
			double q = H[6] * u + H[7] * v + H[8];
			double px = (H[0] * u + H[1] * v + H[2]) / q - 0.5, py = (H[3] * u + H[4] * v + H[5]) / q - 0.5;
			px = fmin(fmax(px, 0), img->width - 1.001);
			py = fmin(fmax(py, 0), img->height - 1.001);
			int x0 = (int)px, y0 = (int)py;
			double fx = px - x0, fy = py - y0;
			const uint8_t *a = mtb_image_row(img, y0) + (size_t)x0 * c, *b = mtb_image_row(img, y0 + 1) + (size_t)x0 * c;
			for (int k = 0; k < 3; k++) {
				int ck = c >= 3 ? k : 0;
				double val = (1 - fy) * ((1 - fx) * a[ck] + fx * a[c + ck]) + fy * ((1 - fx) * b[ck] + fx * b[c + ck]);
				d[3 * x + k] = (uint8_t)(val + 0.5);
			}
		}
	}
	return MTB_OK;
}

int mtb_register_read(const struct mtb_layout *l, const struct mtb_image *img, const struct mtb_register_readers *rd,
		      const struct mtb_register_fuse_opts *o, struct mtb_register_result *out, struct mtb_errbuf *eb)
{
	if (!l || !img || !rd || !rd->read_digit || !rd->read_needle || !out)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "register read: bad arguments");
	memset(out, 0, sizeof *out);
	out->t_mono_us = img->t_mono_us;
	int n = mtb_layout_elements(l);
	out->n_elements = n;
	struct mtb_register_pose pose;
	struct mtb_errbuf aeb = { { 0 } };
	int rc = mtb_register_align(l, img, &pose, &aeb);
	if (rc == MTB_ERR_REFUSED) {
		refuse(out, "%s", aeb.msg);
		return MTB_OK;
	}
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, rc, "%s", aeb.msg);
	struct mtb_reading el[MTB_LAYOUT_MAX_ELEMENTS];
	for (int i = 0; i < n; i++) {
		struct mtb_image *crop;
		if ((rc = mtb_register_crop(l, img, &pose, i, 0, 0, &crop, eb)) != MTB_OK)
			return rc;
		memset(&el[i], 0, sizeof el[i]);
		rc = i < l->n_rollers ? rd->read_digit(rd->user, crop, &el[i]) : rd->read_needle(rd->user, crop, &el[i]);
		mtb_image_destroy(crop);
		if (rc != MTB_OK) {
			char name[32];
			element_name(l, i, name, sizeof name);
			return mtb_errbuf_set(eb, rc, "register read: %s: reader failed: %s", name,
					      el[i].reason[0] ? el[i].reason : mtb_strerror(rc));
		}
	}
	int64_t t = out->t_mono_us;
	out->t_mono_us = t;
	return mtb_register_fuse(l, el, n, o, out);
}
