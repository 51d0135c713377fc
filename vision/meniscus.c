/* The meniscus reader (vision/meniscus.h). Rows grow downwards; division numbers grow upwards. */
#include "vision/meniscus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

struct grey {
	int w, h;
	float *v;
};

static float px(const struct grey *g, double x, double y)
{
	/* bilinear, edges repeated */
	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x > g->w - 1)
		x = g->w - 1;
	if (y > g->h - 1)
		y = g->h - 1;
	int x0 = (int)x, y0 = (int)y;
	int x1 = x0 + 1 < g->w ? x0 + 1 : x0, y1 = y0 + 1 < g->h ? y0 + 1 : y0;
	double fx = x - x0, fy = y - y0;
	return (float)((1 - fy) * ((1 - fx) * g->v[y0 * g->w + x0] + fx * g->v[y0 * g->w + x1]) +
		       fy * ((1 - fx) * g->v[y1 * g->w + x0] + fx * g->v[y1 * g->w + x1]));
}

static int refuse_text(struct mtb_meniscus_reading *out, double conf, const char *why)
{
	out->refused = true;
	out->confidence = conf;
	snprintf(out->reason, sizeof out->reason, "%s", why);
	return MTB_OK;
}

/* fmt holds exactly one double conversion. */
static int refuse(struct mtb_meniscus_reading *out, double conf, const char *fmt, double a)
	__attribute__((format(printf, 3, 0)));
static int refuse(struct mtb_meniscus_reading *out, double conf, const char *fmt, double a)
{
	out->refused = true;
	out->confidence = conf;
	snprintf(out->reason, sizeof out->reason, fmt, a);
	return MTB_OK;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* Least squares y = a + b x. */
static void fit_line(const double *x, const double *y, int n, double *a, double *b)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (int i = 0; i < n; i++) {
		sx += x[i];
		sy += y[i];
		sxx += x[i] * x[i];
		sxy += x[i] * y[i];
	}
	double d = n * sxx - sx * sx;
	*b = fabs(d) > 1e-12 ? (n * sxy - sx * sy) / d : 0;
	*a = (sy - *b * sx) / n;
}

/* The two walls of the tube in a band of rows: the two deepest minima of the column means,
 * at least min_gap apart. Sub-pixel by a parabola. Returns 0 when not found. */
static int find_walls(const struct grey *g, int y0, int y1, double *xl, double *xr)
{
	int w = g->w;
	double *m = calloc((size_t)w, sizeof *m);
	if (!m)
		return 0;
	for (int y = y0; y < y1; y++)
		for (int x = 0; x < w; x++)
			m[x] += g->v[y * w + x];
	for (int x = 0; x < w; x++)
		m[x] /= (y1 - y0);
	/* depth of a minimum against the brighter of its surroundings 6 px away */
	int best[2] = { -1, -1 };
	double bd[2] = { 0, 0 };
	for (int x = 6; x < w - 6; x++) {
		if (!(m[x] <= m[x - 1] && m[x] <= m[x + 1]))
			continue;
		double depth = fmin(m[x - 6], m[x + 6]) - m[x];
		if (depth > bd[0]) {
			if (best[0] >= 0 && abs(best[0] - x) > 30)
				bd[1] = bd[0], best[1] = best[0];
			bd[0] = depth, best[0] = x;
		} else if (depth > bd[1] && abs(best[0] - x) > 30) {
			bd[1] = depth, best[1] = x;
		}
	}
	int ok = best[0] >= 0 && best[1] >= 0 && bd[1] > 8;
	double xs[2];
	for (int i = 0; i < 2 && ok; i++) {
		int x = best[i];
		double den = m[x - 1] - 2 * m[x] + m[x + 1];
		xs[i] = x + (fabs(den) > 1e-9 ? 0.5 * (m[x - 1] - m[x + 1]) / den : 0);
	}
	free(m);
	if (!ok)
		return 0;
	*xl = fmin(xs[0], xs[1]);
	*xr = fmax(xs[0], xs[1]);
	return 1;
}

/* The depth behind the front face of the tube's surface at u (column from the axis over the
 * radius), in radii: 1 - sqrt(1 - u^2). */
static double depth_r(double u) { return 1 - sqrt(fmax(0, 1 - u * u)); }

/* The row of a graduation line near row y0 at u (fraction of the half-width left of the axis),
 * sub-pixel: the centroid of its darkness against the brightness half a period above and below,
 * sampled along the tube's perpendicular. Returns 0 when no clear line is there. */
static int line_row(const struct grey *g, double axc, double k, double yc, double half_w, double p, double y0, double u,
		    double *row)
{
	double dx = -u * half_w;
	double hw = fmax(3, 0.45 * p);
	int ns = (int)(2 * hw / 0.5) + 1;
	double v[256];
	if (ns > 256)
		ns = 256;
	if (ns < 7)
		return 0;
	for (int i = 0; i < ns; i++) {
		double y = y0 - hw + 0.5 * i;
		double acc = 0;
		for (int j = -2; j <= 2; j++) {
			double x = dx + j;
			acc += px(g, axc + k * (y - yc) + x, y - k * x);
		}
		v[i] = acc / 5;
	}
	double bg = (v[0] + v[1] + v[2] + v[ns - 1] + v[ns - 2] + v[ns - 3]) / 6, vmin = 1e9;
	for (int i = 0; i < ns; i++)
		vmin = fmin(vmin, v[i]);
	double depth = bg - vmin;
	if (depth < 20)
		return 0;
	double sw = 0, sy = 0;
	for (int i = 0; i < ns; i++) {
		double d = bg - v[i] - 0.3 * depth;
		if (d > 0)
			sw += d, sy += d * (y0 - hw + 0.5 * i);
	}
	if (!(sw > 0))
		return 0;
	*row = sy / sw;
	return fabs(*row - y0) < 0.35 * p;
}

int mtb_meniscus_read(const struct mtb_image *img, const struct mtb_meniscus_scale *scale,
		      struct mtb_meniscus_reading *out, struct mtb_errbuf *eb)
{
	memset(out, 0, sizeof *out);
	if (!img || !scale || img->width < 48 || img->height < 96 || (img->channels != 1 && img->channels != 3 && img->channels != 4))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "meniscus: the image must be at least 48x96 with 1, 3 or 4 channels");
	if (scale->divisions < 1 || scale->long_every < 1)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "meniscus: the scale needs divisions >= 1 and long_every >= 1");
	if (scale->read_top)
		return refuse_text(out, 0, "reading the top edge (opaque liquids) is not implemented");
	double max_tilt = scale->max_tilt_deg > 0 ? scale->max_tilt_deg : 1.0;
	double max_par = scale->max_parallax_div > 0 ? scale->max_parallax_div : 0.05;

	struct grey g = { img->width, img->height, malloc(sizeof(float) * (size_t)img->width * (size_t)img->height) };
	if (!g.v)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "meniscus: out of memory");
	for (int y = 0; y < g.h; y++) {
		const uint8_t *p = mtb_image_row(img, y);
		for (int x = 0; x < g.w; x++) {
			const uint8_t *q = p + (size_t)x * img->channels;
			g.v[y * g.w + x] = img->channels == 1 ? q[0] : (float)((q[0] + q[1] + q[2]) / 3.0);
		}
	}
	int rc = MTB_OK;
	double *prof = NULL, *dk = NULL;

	/* 1. the tube: walls in bands of rows, a line through each wall gives the axis and tilt */
	enum { NB = 8 };
	double by[NB], bl[NB], br[NB];
	int nb = 0;
	for (int i = 0; i < NB; i++) {
		int y0 = g.h * i / NB, y1 = g.h * (i + 1) / NB;
		double xl, xr;
		if (find_walls(&g, y0, y1, &xl, &xr) && xr - xl > 30) {
			by[nb] = (y0 + y1) / 2.0;
			bl[nb] = xl;
			br[nb] = xr;
			nb++;
		}
	}
	if (nb < NB / 2) {
		refuse_text(out, 0, "no tube found (its walls are not visible)");
		goto done;
	}
	/* robust: refit without the band that disagrees most (the meniscus's dark corners or a
	 * number can pull one band's minimum), while one is more than 1.5 px off */
	double al, kl, ar, kr;
	for (;;) {
		fit_line(by, bl, nb, &al, &kl);
		fit_line(by, br, nb, &ar, &kr);
		int worst = -1;
		double wr = 1.5;
		for (int i = 0; i < nb; i++) {
			double r = fmax(fabs(bl[i] - al - kl * by[i]), fabs(br[i] - ar - kr * by[i]));
			if (r > wr)
				wr = r, worst = i;
		}
		if (worst < 0 || nb <= NB / 2)
			break;
		for (int i = worst; i + 1 < nb; i++)
			by[i] = by[i + 1], bl[i] = bl[i + 1], br[i] = br[i + 1];
		nb--;
	}
	double k = (kl + kr) / 2;   /* dx/dy of the axis */
	out->tilt_deg = atan(k) * 180 / PI;
	double yc = g.h / 2.0;
	double axc = ((al + kl * yc) + (ar + kr * yc)) / 2;   /* axis x at row yc */
	double tube_w = (ar + kr * yc) - (al + kl * yc);      /* between the wall centres */
	double resid = 0;
	for (int i = 0; i < nb; i++)
		resid = fmax(resid, fmax(fabs(bl[i] - al - kl * by[i]), fabs(br[i] - ar - kr * by[i])));
	if (resid > 3 || tube_w < 30) {
		refuse(out, 0.1, "the tube's walls are not straight in the image (%.1f px off a line)", resid);
		goto done;
	}
	if (fabs(out->tilt_deg) > max_tilt) {
		refuse(out, 0.2, "the tube is tilted %.2f degrees in the view (limit: camera or tube not vertical)", out->tilt_deg);
		goto done;
	}

	/* Profiles along the axis: strip at offset dx (as a fraction of the tube width, from the
	 * axis) sampled perpendicular-corrected: a line through axis row y passes (x_a(y) + dx,
	 * y - k dx). */
	int h = g.h;
	prof = calloc((size_t)h * 4, sizeof *prof);
	if (!prof) {
		rc = mtb_errbuf_set(eb, MTB_ERR_NOMEM, "meniscus: out of memory");
		goto done;
	}
	double *pa = prof, *pl = prof + h, *pm = prof + 2 * h, *tmp = prof + 3 * h;
	struct {
		double f0, f1;
		double *dst;
	} strips[3] = { { -0.43, -0.34, pa }, { -0.21, -0.16, pl }, { -0.04, 0.12, pm } };
	for (int s = 0; s < 3; s++) {
		double x0 = strips[s].f0 * tube_w, x1 = strips[s].f1 * tube_w;
		int nx = (int)fmax(2, x1 - x0);
		for (int y = 0; y < h; y++) {
			double xa = axc + k * (y - yc), acc = 0;
			for (int i = 0; i <= nx; i++) {
				double dx = x0 + (x1 - x0) * i / nx;
				acc += px(&g, xa + dx, y - k * dx);
			}
			strips[s].dst[y] = acc / (nx + 1);
		}
	}

	/* 2. the meniscus: the darkest dip of the axis profile (smoothed), its lower edge where the
	 * brightness climbs half way back to the liquid below */
	for (int y = 0; y < h; y++)
		tmp[y] = (pm[y > 0 ? y - 1 : 0] + 2 * pm[y] + pm[y < h - 1 ? y + 1 : y]) / 4;
	/* glare: a run of saturated rows on the axis hides whatever is under it */
	{
		int run = 0, worst = 0, at = 0;
		for (int y = 0; y < h; y++) {
			run = pm[y] >= 245 ? run + 1 : 0;
			if (run > worst)
				worst = run, at = y;
		}
		if (worst >= 6) {
			refuse(out, 0.1, "glare on the tube's axis (%.0f rows saturated)", worst);
			out->meniscus_y_px = at;
			goto done;
		}
	}
	int yb = -1;
	double best = 1e9;
	for (int y = 3; y < h - 3; y++)
		if (tmp[y] < best)
			best = tmp[y], yb = y;

	/* 3. the lines: period of the darkness beside the inner wall (detrended), then peaks */
	int W = 31;
	dk = calloc((size_t)h * 4, sizeof *dk);
	double *dl = dk ? dk + h : NULL, *dkn = dk ? dk + 2 * h : NULL, *tmp2 = dk ? dk + 3 * h : NULL;
	if (!dk) {
		rc = mtb_errbuf_set(eb, MTB_ERR_NOMEM, "meniscus: out of memory");
		goto done;
	}
	for (int y = 0; y < h; y++) {
		double sa = 0, sl = 0;
		int n = 0;
		for (int j = y - W / 2; j <= y + W / 2; j++)
			if (j >= 0 && j < h)
				sa += pa[j], sl += pl[j], n++;
		dk[y] = sa / n - pa[y];   /* darker than around: positive */
		dl[y] = sl / n - pl[y];
	}
	/* the meniscus band and the air/liquid step are no lines: blank the band's zone, then
	 * even out the contrast of lines seen over air and over liquid (running RMS) */
	for (int y = 0; y < h; y++)
		if (abs(y - yb) < 10)
			dk[y] = dl[y] = 0;
	for (int y = 0; y < h; y++) {
		double s2 = 0;
		int n = 0;
		for (int j = y - 30; j <= y + 30; j++)
			if (j >= 0 && j < h)
				s2 += dk[j] * dk[j], n++;
		tmp2[y] = sqrt(s2 / n) + 1e-3;
	}
	for (int y = 0; y < h; y++)
		dkn[y] = dk[y] / tmp2[y];
	double bestac = 0;
	double ac[128] = { 0 };
	int lag_max = h / 4 < 120 ? h / 4 : 120;
	for (int lag = 6; lag <= lag_max; lag++) {
		double s = 0;
		for (int y = 0; y + lag < h; y++)
			s += dkn[y] * dkn[y + lag];
		ac[lag] = s / (h - lag);
		if (ac[lag] > bestac)
			bestac = ac[lag];
	}
	int lag = -1;
	for (int l = 7; l < lag_max; l++)
		if (ac[l] >= 0.7 * bestac && ac[l] >= ac[l - 1] && ac[l] >= ac[l + 1]) {
			lag = l;
			break;
		}
	if (lag < 0 || bestac <= 0) {
		refuse_text(out, 0, "no graduation found (no periodic lines beside the wall)");
		goto done;
	}
	double den = ac[lag - 1] - 2 * ac[lag] + ac[lag + 1];
	double period = lag + (fabs(den) > 1e-12 ? 0.5 * (ac[lag - 1] - ac[lag + 1]) / den : 0);
	out->period_px = period;

	/* peaks of dk: local maxima above a third of the strong ones, one per period */
	double amp = 0;
	for (int y = 0; y < h; y++)
		amp = fmax(amp, dk[y]);
	double ly[512];
	int nl = 0;
	for (int y = 2; y < h - 2 && nl < 512; y++) {
		if (!(dk[y] > amp * 0.3 && dk[y] >= dk[y - 1] && dk[y] > dk[y + 1]))
			continue;
		/* the meniscus band crosses the strip too, higher there than on the axis by the
		 * meniscus's rise at the wall: keep that zone out of the lattice */
		if (yb >= 0 && y > yb - 1.5 * period && y < yb + 0.5 * period)
			continue;
		double d2 = dk[y - 1] - 2 * dk[y] + dk[y + 1];
		double yy = y + (fabs(d2) > 1e-12 ? 0.5 * (dk[y - 1] - dk[y + 1]) / d2 : 0);
		if (nl > 0 && yy - ly[nl - 1] < 0.6 * period) {
			if (dk[y] > dk[(int)ly[nl - 1]])
				ly[nl - 1] = yy;
			continue;
		}
		ly[nl++] = yy;
	}
	/* lattice y = a - idx p: index upwards, from the lowest line found */
	double idx[512], a = 0, b = -period;
	for (int it = 0; it < 3 && nl >= 3; it++) {
		double ref = ly[nl - 1];
		int m = 0;
		double xs[512], ys[512];
		for (int i = 0; i < nl; i++) {
			double kk = it == 0 ? (ref - ly[i]) / period : (a - ly[i]) / -b;
			idx[i] = round(kk);
			if (it > 0 && fabs(a + b * idx[i] - ly[i]) > 0.25 * period)
				continue;
			xs[m] = idx[i];
			ys[m] = ly[i];
			m++;
		}
		if (m < 3)
			break;
		fit_line(xs, ys, m, &a, &b);   /* y = a + b idx, b = -p */
	}
	double p = -b;
	int n_in = 0;
	double ss = 0;
	int kmin = 1 << 30, kmax = -(1 << 30);
	for (int i = 0; i < nl; i++) {
		double r = ly[i] - (a + b * idx[i]);
		if (fabs(r) <= 0.25 * p) {
			ss += r * r;
			n_in++;
			if (idx[i] < kmin)
				kmin = (int)idx[i];
			if (idx[i] > kmax)
				kmax = (int)idx[i];
		}
	}
	out->n_lines = n_in;
	if (n_in < 4 || !(p > 4)) {
		refuse(out, 0.1, "too few graduation lines found (%g)", n_in);
		goto done;
	}
	out->fit_rms_px = sqrt(ss / n_in);
	out->period_px = p;

	/* 4. long lines: the strip that only long lines reach, sampled at every lattice line */
	int votes[100] = { 0 }, n_votes = 0;
	double lamp = 0;
	for (int y = 0; y < h; y++)
		lamp = fmax(lamp, dl[y]);
	int le = scale->long_every < 100 ? scale->long_every : 99;
	for (int kk = kmin; kk <= kmax; kk++) {
		double y = a + b * kk;
		if (y < 2 || y > h - 3 || (yb >= 0 && y > yb - 1.5 * p && y < yb + 0.5 * p))
			continue;
		double v = fmax(dl[(int)floor(y)], dl[(int)ceil(y)]);
		if (v > 0.5 * lamp) {
			votes[((kk % le) + le) % le]++;
			n_votes++;
		}
	}
	int phase = 0;
	for (int i = 1; i < le; i++)
		if (votes[i] > votes[phase])
			phase = i;
	double phase_agree = n_votes ? (double)votes[phase] / n_votes : (le == 1 ? 1 : 0);
	if (le > 1 && (n_votes < 1 || phase_agree < 0.75)) {
		refuse(out, 0.2, "the long lines do not form a pattern (agreement %.2f)", phase_agree);
		goto done;
	}

	/* 5. the meniscus bottom, sub-pixel: from the band's darkest row down to where the
	 * brightness is half way back to the liquid's */
	if (yb < 0) {
		refuse_text(out, 0, "no meniscus found");
		goto done;
	}
	int yl0 = yb + (int)ceil(0.35 * p), yl1 = yb + (int)ceil(0.8 * p);
	if (yl1 >= h) {
		refuse_text(out, 0.1, "the meniscus is at the image's lower edge");
		goto done;
	}
	double liq = 0;
	for (int y = yl0; y <= yl1; y++)
		liq += tmp[y];
	liq /= (yl1 - yl0 + 1);
	double above = 0;
	int ya0 = yb - (int)ceil(0.8 * p), ya1 = yb - (int)ceil(0.35 * p);
	if (ya0 < 0) {
		refuse_text(out, 0.1, "the meniscus is at the image's upper edge");
		goto done;
	}
	for (int y = ya0; y <= ya1; y++)
		above += tmp[y];
	above /= (ya1 - ya0 + 1);
	double contrast = fmin(liq, above) - best;
	if (contrast < 15) {
		refuse(out, 0.2, "the meniscus is too faint (contrast %.0f grey levels)", contrast);
		goto done;
	}
	/* the edge is where the brightness climbs fastest (the inflection of the blurred step),
	 * which does not depend on how dark the band is; sub-pixel by a parabola through the
	 * differences, a difference pm[y+1] - pm[y] standing at y + 0.5 */
	double ym = -1, gmax = 0;
	int yg = -1;
	for (int y = yb; y < yl1; y++)
		if (pm[y + 1] - pm[y] > gmax)
			gmax = pm[y + 1] - pm[y], yg = y;
	if (yg >= 1 && gmax > 0.2 * contrast) {
		double g0 = pm[yg] - pm[yg - 1], g1 = gmax, g2 = pm[yg + 2] - pm[yg + 1];
		double d2 = g0 - 2 * g1 + g2;
		ym = yg + 0.5 + (fabs(d2) > 1e-9 ? fmax(-0.5, fmin(0.5, 0.5 * (g0 - g2) / d2)) : 0);
	}
	if (ym < 0) {
		refuse_text(out, 0.2, "the meniscus's lower edge is not clear");
		goto done;
	}
	out->meniscus_y_px = ym;

	/* 5b. the camera's elevation from the lines' curvature. A line printed round the tube lies
	 * r (1 - sqrt(1 - u^2)) behind the front face at u; a camera theta above the meniscus sees
	 * it raised by that depth x tan(theta), and the meniscus's lowest point, r behind the face on
	 * the axis, raised by r tan(theta) [D]. Each line's row at two or three places along it
	 * gives the slope of row against depth; their mean gives r tan(theta) in px, and the
	 * reading is corrected for the meniscus's depth less that of the strip the lattice was
	 * fitted in. Refused: the slope too uncertain for the correction, or the camera below the
	 * meniscus by more than the far side of the surface may lower its edge unseen. */
	if (scale->neck_radius_div > 0) {
		double half_w = tube_w / 2, sl[512];
		int ns = 0;
		for (int kk = kmin; kk <= kmax && ns < 512; kk++) {
			double y0 = a + b * kk;
			if (y0 < p || y0 > h - 1 - p || fabs(y0 - ym) < 1.5 * p)
				continue;
			bool lng = le == 1 || ((kk % le) + le) % le == phase;
			double us[3] = { 0.84, 0.64, 0.42 }, ry[3], du[3];
			int nu = 0;
			for (int q = 0; q < (lng ? 3 : 2); q++)
				if (line_row(&g, axc, k, yc, half_w, p, y0, us[q], &ry[nu]))
					du[nu++] = depth_r(us[q]);
			if (nu < 2)
				continue;
			double sx = 0, sy2 = 0, sxx = 0, sxy = 0;
			for (int q = 0; q < nu; q++)
				sx += du[q], sy2 += ry[q], sxx += du[q] * du[q], sxy += du[q] * ry[q];
			double dd = nu * sxx - sx * sx;
			if (dd > 1e-9)
				sl[ns++] = (nu * sxy - sx * sy2) / dd;
		}
		out->elevation_lines = ns;
		double mean = 0, sd = 0;
		if (ns >= 3) {
			/* drop slopes beyond 3 robust deviations of the median (a line crossed by a number or
			 * a speck) */
			double srt[512], dev[512];
			memcpy(srt, sl, sizeof(double) * (size_t)ns);
			qsort(srt, (size_t)ns, sizeof *srt, cmp_double);
			double med = srt[ns / 2];
			for (int i = 0; i < ns; i++)
				dev[i] = fabs(sl[i] - med);
			qsort(dev, (size_t)ns, sizeof *dev, cmp_double);
			double mad = fmax(0.05, 1.4826 * dev[ns / 2]);
			int m = 0;
			for (int i = 0; i < ns; i++)
				if (fabs(sl[i] - med) <= 3 * mad)
					mean += sl[i], m++;
			mean /= m;
			for (int i = 0; i < ns; i++)
				if (fabs(sl[i] - med) <= 3 * mad)
					sd += (sl[i] - mean) * (sl[i] - mean);
			sd = m > 1 ? sqrt(sd / (m - 1) / m) : 1e9;   /* standard error of the mean */
			ns = m;
		}
		/* the mean depth of the strip the lattice was fitted in (u 0.68 ... 0.86) */
		double d_strip = 0;
		for (int i = 0; i <= 20; i++)
			d_strip += depth_r(0.68 + 0.18 * i / 20) / 21;
		double rr_px = scale->neck_radius_div * p;   /* r in px */
		if (ns < 3) {
			/* no slope: only a tube too narrow for parallax to matter may be read */
			if (scale->neck_radius_div * tan(0.25 * PI / 180) > 0.01) {
				refuse(out, 0.2, "the camera's elevation cannot be measured (%.0f graduation lines usable)", ns);
				goto done;
			}
		} else {
			out->elevation_deg = atan(-mean / rr_px) * 180 / PI;
			out->parallax_corr_div = mean * (1 - d_strip) / p;
			double se_div = sd * (1 - d_strip) / p;
			if (se_div > 0.02) {
				refuse(out, 0.2, "the camera's elevation is uncertain (parallax correction +-%.3f division)", se_div);
				goto done;
			}
			/* from below, the far side of the surface lies up to r sin(theta) under the lowest
			 * point and merges with its edge: refused when that exceeds 0.01 division */
			if (out->elevation_deg < 0 && scale->neck_radius_div * sin(-out->elevation_deg * PI / 180) > 0.01) {
				refuse(out, 0.2, "the camera is %.2f degrees below the meniscus (the far side of the surface lowers its edge)",
				       -out->elevation_deg);
				goto done;
			}
		}
	}

	/* 6. faults around the meniscus: glare (saturated pixels), bubbles and foam (bright specks
	 * against their row), the far rim of the surface (parallax) */
	{
		int sat = 0, speck = 0, tot = 0;
		for (int y = (int)(ym - 1.5 * p); y <= (int)(ym + 1.5 * p); y++) {
			if (y < 0 || y >= h)
				continue;
			double xa = axc + k * (y - yc);
			double row[256];
			int nr = 0;
			for (double dx = -0.1 * tube_w; dx <= 0.12 * tube_w && nr < 256; dx += 1.0)
				row[nr++] = px(&g, xa + dx, y);
			double mean = 0;
			for (int i = 0; i < nr; i++)
				mean += row[i];
			mean /= nr;
			for (int i = 0; i < nr; i++) {
				tot++;
				if (row[i] >= 250)
					sat++;
				if (row[i] > mean + 35)
					speck++;
			}
		}
		double fsat = tot ? (double)sat / tot : 0, fspeck = tot ? (double)speck / tot : 0;
		if (fsat > 0.03) {
			refuse(out, 0.1, "glare over the meniscus (%.0f %% of it saturated)", 100 * fsat);
			goto done;
		}
		if (fspeck > 0.03) {
			refuse(out, 0.1, "bubbles or foam at the surface (%.0f %% bright specks)", 100 * fspeck);
			goto done;
		}
	}
	{
		/* the far rim of the surface: a second dark dip near the band (above it when the camera
		 * looks down, below when it looks up), separated from it by a brighter gap */
		double rim = 0;
		int wr = (int)ceil(0.8 * p);
		for (int y = yb - wr; y <= yb + wr; y++) {
			if (y < 1 || y >= h - 1 || abs(y - yb) < 2)
				continue;
			if (!(tmp[y] < tmp[y - 1] && tmp[y] <= tmp[y + 1]))
				continue;
			double ref = y < yb ? above : liq;
			if (ref - tmp[y] < 0.3 * contrast)
				continue;
			double gap = 0;   /* brightest between the dip and the band */
			for (int j = (y < yb ? y : yb); j <= (y < yb ? yb : y); j++)
				gap = fmax(gap, tmp[j]);
			if (gap - fmax(tmp[y], best) < 0.15 * contrast)
				continue;
			rim = fmax(rim, fabs((double)(y - yb)));
		}
		if (rim > 0) {
			/* rim and front of the surface are 2 r sin(theta) apart; the reading is off by
			 * r tan(theta); without the radius the view is refused outright */
			double rr = scale->neck_radius_div * p;
			double st = rr > 0 ? fmin(0.9, rim / (2 * rr)) : 0.9;
			out->parallax_div = scale->neck_radius_div > 0 ? scale->neck_radius_div * tan(asin(st)) : 1;
			if (out->parallax_div > max_par) {
				refuse(out, 0.2, "the camera is not level with the meniscus (parallax about %.2f division)",
				       out->parallax_div);
				goto done;
			}
		}
	}

	/* 7. line numbers: from an end of the scale in view, else from the phase and the expected level */
	{
		double kk_m = (a - ym) / p;   /* lattice index of the meniscus */
		/* an end is in view when the lattice continues inside the image without a line */
		double ylo = a + b * (kmin - 1), yhi = a + b * (kmax + 1);
		/* an end: the next lattice position is inside the image, clear of the meniscus, and
		 * shows no line there */
		bool low_end = ylo < h - 3 && ylo > 2 && (ylo < ym - 1.5 * p || ylo > ym + 0.5 * p) && dk[(int)lround(ylo)] < 0.3 * amp;
		bool high_end = yhi > 2 && yhi < h - 3 && (yhi < ym - 1.5 * p || yhi > ym + 0.5 * p) && dk[(int)lround(yhi)] < 0.3 * amp;
		double D;
		/* D: division = lattice index + D, with D = -phase (mod long_every) */
		if (low_end && ((kmin - phase) % le + le) % le == 0) {
			D = -kmin;
		} else if (high_end && ((scale->divisions - kmax) % le + le) % le == ((le - phase) % le)) {
			D = scale->divisions - kmax;
		} else {
			double want = scale->expected_div - kk_m;
			double base = -phase;
			D = base + le * round((want - base) / le);
			if (le > 1 && fabs(kk_m + D - scale->expected_div) > le / 2.0 - 0.5) {
				refuse(out, 0.3, "line numbers ambiguous: the level is %.1f divisions from the expected one",
				       kk_m + D - scale->expected_div);
				goto done;
			}
		}
		out->level_div = kk_m + D + out->parallax_corr_div;
	}
	if (out->level_div < -0.5 || out->level_div > scale->divisions + 0.5) {
		refuse(out, 0.2, "the level %.2f is off the scale", out->level_div);
		goto done;
	}
	/* confidence: lattice fit, number of lines, phase agreement, meniscus contrast */
	out->confidence = exp(-(out->fit_rms_px / p) / 0.05) * fmin(1.0, n_in / 8.0) * phase_agree * fmin(1.0, contrast / 40.0);
	if (out->confidence < 0.5) {
		out->refused = true;
		snprintf(out->reason, sizeof out->reason,
			 "low confidence %.2f (line fit %.2f px, %d lines, long lines agree %.2f, meniscus contrast %.0f)",
			 out->confidence, out->fit_rms_px, n_in, phase_agree, contrast);
	}
done:
	free(dk);
	free(prof);
	free(g.v);
	return rc;
}
