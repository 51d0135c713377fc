/* The neck renderer (sim/neck_render.h). The scene is drawn in scene pixels with cairo (the
 * tilt as a rotation of the whole scene about the image centre), then blur and noise are added
 * on the pixels. */
#include "sim/neck_render.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static double uni(struct rng *r, double lo, double hi) { return lo + (hi - lo) * (double)(next(r) >> 11) * (1.0 / 9007199254740992.0); }
static double gauss(struct rng *r)
{
	double u = uni(r, 1e-12, 1), v = uni(r, 0, 1);
	return sqrt(-2 * log(u)) * cos(2 * PI * v);
}

struct scene {
	int w, h;
	double p;                 /* px per division */
	double px_per_mm;
	double d_mid, y_mid;      /* division d_mid sits at scene row y_mid */
	double cx, tube_w;        /* tube centre and outer width, px */
	double wall_px;
	double y_level;           /* apparent row of the meniscus bottom (parallax included) */
	double men_rise_px;       /* meniscus rise at the wall */
	double men_band_px;       /* thickness of the dark meniscus band at the centre */
	double depth_shift_px;    /* r tan(elevation) in px: the apparent rise of a point r behind the
				     front face (line_y) */
	double ellipse_px;        /* half-height of the surface seen obliquely (parallax) */
	double par_sign;          /* +1 camera above the meniscus, -1 below */
	double line_w;            /* graduation line width */
	double short_len, long_len;
	double bg[3], bg2[3];     /* backdrop top and bottom colours, rgb */
	double liq[3], liq_alpha;
	double light_x;           /* 0-1: side the light comes from */
	double blur_sigma, noise_sd;
	double glare, foam;
	uint64_t detail_seed;
	int first_div, last_div;
};

static double y_of_div(const struct scene *sc, double d) { return sc->y_mid - (d - sc->d_mid) * sc->p; }

static void draw_backdrop(cairo_t *cr, const struct scene *sc)
{
	cairo_pattern_t *g = cairo_pattern_create_linear(0, 0, sc->w * 0.3, sc->h);
	cairo_pattern_add_color_stop_rgb(g, 0, sc->bg[0], sc->bg[1], sc->bg[2]);
	cairo_pattern_add_color_stop_rgb(g, 1, sc->bg2[0], sc->bg2[1], sc->bg2[2]);
	cairo_set_source(cr, g);
	cairo_paint(cr);
	cairo_pattern_destroy(g);
}

/* The liquid's surface row at x: concave, lowest at the axis (largest y), rising to the walls. */
static double surface_y(const struct scene *sc, double x)
{
	double u = (x - sc->cx) / (sc->tube_w / 2 - sc->wall_px);
	if (u < -1)
		u = -1;
	if (u > 1)
		u = 1;
	double a = fabs(u);
	return sc->y_level - sc->men_rise_px * a * a * a * a;
}

static void draw_tube(cairo_t *cr, const struct scene *sc)
{
	double x0 = sc->cx - sc->tube_w / 2, x1 = sc->cx + sc->tube_w / 2;
	double xi0 = x0 + sc->wall_px, xi1 = x1 - sc->wall_px;
	double top = -sc->h, bot = 2.0 * sc->h;   /* beyond the image: the tilt must not show ends */
	/* air inside: the backdrop seen through two glass walls, slightly darker and cooler */
	cairo_set_source_rgba(cr, 0.85, 0.9, 0.95, 0.25);
	cairo_rectangle(cr, xi0, top, xi1 - xi0, bot - top);
	cairo_fill(cr);
	/* liquid below the surface */
	cairo_move_to(cr, xi0, bot);
	int n = 64;
	for (int i = 0; i <= n; i++) {
		double x = xi0 + (xi1 - xi0) * i / n;
		cairo_line_to(cr, x, surface_y(sc, x));
	}
	cairo_line_to(cr, xi1, bot);
	cairo_close_path(cr);
	cairo_set_source_rgba(cr, sc->liq[0], sc->liq[1], sc->liq[2], sc->liq_alpha);
	cairo_fill(cr);
	/* refraction: the water column acts as a cylindrical lens; its edges look dark and its
	 * centre bright (a vertical band of light focused by the column) */
	cairo_pattern_t *lens = cairo_pattern_create_linear(xi0, 0, xi1, 0);
	cairo_pattern_add_color_stop_rgba(lens, 0, 0, 0, 0, 0.35 * sc->liq_alpha);
	cairo_pattern_add_color_stop_rgba(lens, 0.2, 0, 0, 0, 0.0);
	cairo_pattern_add_color_stop_rgba(lens, 0.5, 1, 1, 1, 0.12 * sc->liq_alpha);
	cairo_pattern_add_color_stop_rgba(lens, 0.8, 0, 0, 0, 0.0);
	cairo_pattern_add_color_stop_rgba(lens, 1, 0, 0, 0, 0.35 * sc->liq_alpha);
	cairo_move_to(cr, xi0, bot);
	for (int i = 0; i <= n; i++) {
		double x = xi0 + (xi1 - xi0) * i / n;
		cairo_line_to(cr, x, surface_y(sc, x));
	}
	cairo_line_to(cr, xi1, bot);
	cairo_close_path(cr);
	cairo_set_source(cr, lens);
	cairo_fill(cr);
	cairo_pattern_destroy(lens);
	/* parallax: the surface seen from above or below is an ellipse; its far rim shows as a
	 * second, fainter line */
	if (sc->ellipse_px > 0.3) {
		/* from above the far rim shows above the meniscus, from below it shows below */
		double ey = sc->y_level - sc->par_sign * sc->ellipse_px;
		cairo_save(cr);
		cairo_translate(cr, sc->cx, ey);
		cairo_scale(cr, (xi1 - xi0) / 2, sc->ellipse_px);
		if (sc->par_sign > 0)
			cairo_arc(cr, 0, 0, 1, PI, 2 * PI);
		else
			cairo_arc(cr, 0, 0, 1, 0, PI);
		cairo_restore(cr);
		cairo_set_line_width(cr, fmax(1.0, sc->men_band_px * 0.6));
		cairo_set_source_rgba(cr, 0.15, 0.17, 0.2, 0.75);
		cairo_stroke(cr);
	}
	/* the meniscus: a dark band whose lower edge is the surface, thickest at the centre */
	cairo_move_to(cr, xi0, surface_y(sc, xi0));
	for (int i = 0; i <= n; i++) {
		double x = xi0 + (xi1 - xi0) * i / n;
		cairo_line_to(cr, x, surface_y(sc, x));
	}
	for (int i = n; i >= 0; i--) {
		double x = xi0 + (xi1 - xi0) * i / n;
		double u = (x - sc->cx) / ((xi1 - xi0) / 2);
		double t = sc->men_band_px * (1.0 + 1.5 * u * u);
		cairo_line_to(cr, x, surface_y(sc, x) - t);
	}
	cairo_close_path(cr);
	cairo_set_source_rgba(cr, 0.08, 0.09, 0.11, 0.9);
	cairo_fill(cr);
	/* walls */
	cairo_set_source_rgba(cr, 0.35, 0.38, 0.42, 0.85);
	cairo_rectangle(cr, x0, top, sc->wall_px, bot - top);
	cairo_rectangle(cr, xi1, top, sc->wall_px, bot - top);
	cairo_fill(cr);
	/* a vertical highlight on the glass, on the light's side */
	double hx = x0 + sc->tube_w * (0.72 + 0.15 * sc->light_x);
	cairo_pattern_t *hl = cairo_pattern_create_linear(hx - 5, 0, hx + 5, 0);
	cairo_pattern_add_color_stop_rgba(hl, 0, 1, 1, 1, 0);
	cairo_pattern_add_color_stop_rgba(hl, 0.5, 1, 1, 1, 0.45);
	cairo_pattern_add_color_stop_rgba(hl, 1, 1, 1, 1, 0);
	cairo_set_source(cr, hl);
	cairo_rectangle(cr, hx - 5, top, 10, bot - top);
	cairo_fill(cr);
	cairo_pattern_destroy(hl);
}

/* A point of the tube's outer surface at column x lies r (1 - sqrt(1 - u^2)) behind the front
 * face (u = x from the axis over the outer radius); a camera at elevation theta above the
 * meniscus sees it higher than a point of the front face at the same height by that depth x
 * tan(theta) [D]. So a graduation line printed round the tube is seen curved off level -- the
 * same shift that moves the meniscus, r behind the face at the axis, against the lines. */
static double line_y(const struct scene *sc, double x, double y)
{
	double u = (x - sc->cx) / (sc->tube_w / 2);
	if (u < -1)
		u = -1;
	if (u > 1)
		u = 1;
	return y - sc->depth_shift_px * (1 - sqrt(1 - u * u));
}

/* The graduation printed on the front face: lines from the left wall inwards, numbers left of
 * the tube on the numbered lines. */
static void draw_scale(cairo_t *cr, const struct scene *sc, const struct mtb_vessel *v)
{
	const struct mtb_neck_scale *s = &v->scale;
	double x0 = sc->cx - sc->tube_w / 2 + sc->wall_px + 2;
	cairo_set_line_width(cr, sc->line_w);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, fmin(14, fmax(8, sc->p * 0.9)));
	for (int d = sc->first_div; d <= sc->last_div; d++) {
		double y = y_of_div(sc, d);
		bool lng = d % s->long_every == 0;
		double len = lng ? sc->long_len : sc->short_len;
		cairo_set_source_rgb(cr, 0.05, 0.05, 0.08);
		/* the line is printed round the tube: seen off level it curves (line_y) */
		int nseg = 24;
		for (int i = 0; i <= nseg; i++) {
			double x = x0 + len * i / nseg;
			if (i == 0)
				cairo_move_to(cr, x, line_y(sc, x, y));
			else
				cairo_line_to(cr, x, line_y(sc, x, y));
		}
		cairo_stroke(cr);
		if (s->number_every > 0 && d % s->number_every == 0) {
			/* the number in mL above zero_l ... as printed: the line's volume in mL */
			char txt[32];
			double ml = ((double)s->zero_ul + (double)d * (double)s->division_ul) / 1000.0;
			if (v->kind == MTB_VESSEL_CAN)   /* cans: mL from the nominal line */
				ml = ((double)(d - s->nominal_div) * (double)s->division_ul) / 1000.0;
			snprintf(txt, sizeof txt, v->kind == MTB_VESSEL_CAN && ml > 0 ? "+%g" : "%g", ml);
			cairo_text_extents_t te;
			cairo_text_extents(cr, txt, &te);
			cairo_move_to(cr, sc->cx - sc->tube_w / 2 - 4 - te.width - te.x_bearing, y - te.y_bearing - te.height / 2);
			cairo_show_text(cr, txt);
		}
	}
}

static void draw_faults(cairo_t *cr, const struct scene *sc)
{
	struct rng r = { sc->detail_seed };
	double xi0 = sc->cx - sc->tube_w / 2 + sc->wall_px, xi1 = sc->cx + sc->tube_w / 2 - sc->wall_px;
	if (sc->foam > 0) {
		/* foam: crowded bubbles just above the surface; bubbles in the liquid below */
		int n = (int)(10 + 80 * sc->foam);
		for (int i = 0; i < n; i++) {
			bool above = i < n * 2 / 3;
			double x = uni(&r, xi0 + 2, xi1 - 2);
			double y = above ? surface_y(sc, x) - uni(&r, 0, 2.0 * sc->p * sc->foam + 2)
					 : sc->y_level + uni(&r, 1, 3.0 * sc->p);
			double rad = uni(&r, 1.0, 1.5 + 3.0 * sc->foam);
			cairo_arc(cr, x, y, rad, 0, 2 * PI);
			cairo_set_source_rgba(cr, 0.97, 0.97, 0.98, 0.9);
			cairo_fill_preserve(cr);
			cairo_set_source_rgba(cr, 0.2, 0.2, 0.25, 0.8);
			cairo_set_line_width(cr, 0.8);
			cairo_stroke(cr);
		}
	}
	if (sc->glare > 0) {
		/* a saturated reflection over the meniscus */
		cairo_save(cr);
		double gx = sc->cx + uni(&r, -0.15, 0.15) * sc->tube_w, gy = sc->y_level + uni(&r, -0.6, 0.6) * sc->p;
		cairo_translate(cr, gx, gy);
		cairo_scale(cr, sc->tube_w * (0.2 + 0.3 * sc->glare), sc->p * (0.6 + 1.4 * sc->glare));
		cairo_pattern_t *g = cairo_pattern_create_radial(0, 0, 0, 0, 0, 1);
		cairo_pattern_add_color_stop_rgba(g, 0, 1, 1, 1, 1);
		cairo_pattern_add_color_stop_rgba(g, 0.6, 1, 1, 1, 0.95);
		cairo_pattern_add_color_stop_rgba(g, 1, 1, 1, 1, 0);
		cairo_set_source(cr, g);
		cairo_arc(cr, 0, 0, 1, 0, 2 * PI);
		cairo_fill(cr);
		cairo_pattern_destroy(g);
		cairo_restore(cr);
	}
}

static uint8_t clamp8(double v) { return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5); }

static void blur_and_noise(struct mtb_image *img, double sigma, double sd, struct rng *r)
{
	int w = img->width, h = img->height;
	if (sigma >= 0.3) {
		int rad = (int)ceil(2.5 * sigma);
		double k[40];
		if (rad > 19)
			rad = 19;
		double sum = 0;
		for (int i = -rad; i <= rad; i++)
			sum += k[i + rad] = exp(-0.5 * i * i / (sigma * sigma));
		float *tmp = malloc(sizeof(float) * (size_t)w * (size_t)h * 3);
		if (tmp) {
			for (int y = 0; y < h; y++) {
				const uint8_t *p = mtb_image_row(img, y);
				for (int x = 0; x < w; x++)
					for (int c = 0; c < 3; c++) {
						double acc = 0;
						for (int i = -rad; i <= rad; i++) {
							int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
							acc += k[i + rad] * p[3 * xx + c];
						}
						tmp[((size_t)y * w + x) * 3 + c] = (float)(acc / sum);
					}
			}
			for (int y = 0; y < h; y++) {
				uint8_t *p = mtb_image_row(img, y);
				for (int x = 0; x < w; x++)
					for (int c = 0; c < 3; c++) {
						double acc = 0;
						for (int i = -rad; i <= rad; i++) {
							int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
							acc += k[i + rad] * tmp[((size_t)yy * w + x) * 3 + c];
						}
						p[3 * x + c] = clamp8(acc / sum);
					}
			}
			free(tmp);
		}
	}
	if (sd > 0)
		for (int y = 0; y < h; y++) {
			uint8_t *p = mtb_image_row(img, y);
			for (int x = 0; x < w; x++) {
				double g = sd * 0.7 * gauss(r);
				for (int c = 0; c < 3; c++)
					p[3 * x + c] = clamp8(p[3 * x + c] + g + sd * 0.3 * gauss(r));
			}
		}
}

int mtb_neck_render(const struct mtb_vessel *v, double level_div, const struct mtb_neck_render_opts *opts,
		    struct mtb_image **out, struct mtb_neck_truth *truth, struct mtb_errbuf *eb)
{
	*out = NULL;
	const struct mtb_neck_scale *s = &v->scale;
	if (!(level_div >= -0.5 && level_div <= s->divisions + 0.5))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "level %g is off the scale (0-%d divisions)", level_div, s->divisions);
	struct scene sc = { 0 };
	sc.w = opts->width_px > 0 ? opts->width_px : 240;
	sc.h = opts->height_px > 0 ? opts->height_px : 480;
	if (sc.w < 64 || sc.h < 128 || sc.w > 4096 || sc.h > 4096)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "image size %dx%d outside 64x128-4096x4096", sc.w, sc.h);
	struct rng r = { opts->seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull };
	double n = fmin(1, fmax(0, opts->nuisance));

	/* spacing: the whole scale when it fits at >= 12 px a division, else a window */
	double fit = sc.h * 0.82 / (s->divisions + 1);
	if (fit >= 12) {
		sc.p = fmin(fit, uni(&r, 16, 26));
		sc.d_mid = s->divisions / 2.0;
	} else {
		sc.p = uni(&r, 14, 22);
		sc.d_mid = level_div + uni(&r, -3, 3);
	}
	sc.y_mid = sc.h / 2.0 + uni(&r, -0.05, 0.05) * sc.h;
	sc.px_per_mm = sc.p / s->division_mm;
	double half = (sc.h / 2.0 + sc.h * 0.1) / sc.p;
	sc.first_div = (int)fmax(0, ceil(sc.d_mid - half - 1));
	sc.last_div = (int)fmin(s->divisions, floor(sc.d_mid + half + 1));
	sc.tube_w = fmin(sc.w * 0.55, fmax(60, s->neck_diameter_mm * sc.px_per_mm));
	sc.cx = sc.w * 0.56 + uni(&r, -0.04, 0.04) * sc.w;
	sc.wall_px = uni(&r, 2.5, 4.5);
	sc.line_w = uni(&r, 1.2, 2.0);
	sc.short_len = sc.tube_w * uni(&r, 0.16, 0.22);
	sc.long_len = sc.tube_w * uni(&r, 0.32, 0.40);

	/* liquid */
	int liquid = opts->liquid >= 0 && opts->liquid < MTB_LIQUID_COUNT ? opts->liquid : (int)(next(&r) % 2);
	double tints[][3] = { { 0.75, 0.85, 0.95 }, { 0.55, 0.75, 0.95 }, { 0.95, 0.6, 0.5 }, { 0.6, 0.9, 0.6 } };
	if (liquid == MTB_LIQUID_WATER) {
		memcpy(sc.liq, tints[0], sizeof sc.liq);
		sc.liq_alpha = uni(&r, 0.25, 0.4);
	} else if (liquid == MTB_LIQUID_TINTED) {
		memcpy(sc.liq, tints[1 + next(&r) % 3], sizeof sc.liq);
		sc.liq_alpha = uni(&r, 0.45, 0.65);
	} else {
		sc.liq[0] = sc.liq[1] = sc.liq[2] = uni(&r, 0.1, 0.25);
		sc.liq_alpha = 0.97;
	}
	/* meniscus: water rises 1.5-2.5 mm at the wall of a wide tube; the dark band ~0.6-1 mm */
	sc.men_rise_px = uni(&r, 1.5, 2.5) * sc.px_per_mm;
	sc.men_band_px = fmax(1.5, uni(&r, 0.6, 1.0) * sc.px_per_mm);
	if (sc.men_band_px > sc.p * 0.35)
		sc.men_band_px = fmax(1.5, sc.p * 0.35);

	/* camera: small residual tilt and parallax scale with nuisance; faults add to them */
	double tilt = opts->tilt_deg + uni(&r, -0.3, 0.3) * n;
	/* a camera levelled to the meniscus within 0.2 degree (a search for the thinnest band) */
	double lvl = opts->camera_level_deg > 0 ? opts->camera_level_deg : 0.2;
	double par = opts->parallax_deg + uni(&r, -lvl, lvl) * n;
	double r_mm = s->neck_diameter_mm / 2;
	/* a camera above (par > 0) sees the meniscus at the axis, r behind the front face, lower
	 * than the line it is level with: against the lines it reads high by r tan(par) */
	double par_err_mm = r_mm * tan(par * PI / 180);
	sc.y_level = y_of_div(&sc, level_div) - par_err_mm * sc.px_per_mm;
	sc.depth_shift_px = par_err_mm * sc.px_per_mm;
	sc.ellipse_px = fabs(r_mm * sin(par * PI / 180)) * sc.px_per_mm;
	sc.par_sign = par >= 0 ? 1 : -1;

	/* light */
	double base = uni(&r, 0.72, 0.92) - 0.25 * n * uni(&r, 0, 1);
	for (int c = 0; c < 3; c++) {
		sc.bg[c] = base * uni(&r, 0.93, 1.0);
		sc.bg2[c] = sc.bg[c] * (1 - uni(&r, 0, 0.35) * n);
	}
	sc.light_x = uni(&r, 0, 1);
	sc.blur_sigma = uni(&r, 0.3, 0.5) + uni(&r, 0, 0.9) * n;
	sc.noise_sd = uni(&r, 0.5, 1.5) + uni(&r, 0, 5) * n;
	sc.glare = fmin(1, fmax(0, opts->glare));
	sc.foam = fmin(1, fmax(0, opts->foam));
	sc.detail_seed = next(&r);

	cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, sc.w, sc.h);
	if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(surf);
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "cannot create a %dx%d surface", sc.w, sc.h);
	}
	cairo_t *cr = cairo_create(surf);
	draw_backdrop(cr, &sc);
	cairo_translate(cr, sc.w / 2.0, sc.h / 2.0);
	cairo_rotate(cr, tilt * PI / 180);
	cairo_translate(cr, -sc.w / 2.0, -sc.h / 2.0);
	draw_tube(cr, &sc);
	draw_scale(cr, &sc, v);
	draw_faults(cr, &sc);
	cairo_destroy(cr);
	cairo_surface_flush(surf);

	int rc = mtb_image_create(out, sc.w, sc.h, 3);
	if (rc != MTB_OK) {
		cairo_surface_destroy(surf);
		return mtb_errbuf_set(eb, rc, "cannot allocate a %dx%d image", sc.w, sc.h);
	}
	const unsigned char *src = cairo_image_surface_get_data(surf);
	int stride = cairo_image_surface_get_stride(surf);
	for (int y = 0; y < sc.h; y++) {
		const uint32_t *row = (const uint32_t *)(const void *)(src + (size_t)y * (size_t)stride);
		uint8_t *d = mtb_image_row(*out, y);
		for (int x = 0; x < sc.w; x++) {
			d[3 * x + 0] = (uint8_t)(row[x] & 0xff);
			d[3 * x + 1] = (uint8_t)((row[x] >> 8) & 0xff);
			d[3 * x + 2] = (uint8_t)((row[x] >> 16) & 0xff);
		}
	}
	cairo_surface_destroy(surf);
	blur_and_noise(*out, sc.blur_sigma, sc.noise_sd, &r);

	if (truth) {
		memset(truth, 0, sizeof *truth);
		truth->level_div = level_div;
		truth->px_per_div = sc.p;
		truth->first_div = sc.first_div;
		truth->last_div = sc.last_div;
		truth->liquid = liquid;
		truth->tilt_deg = tilt;
		truth->parallax_deg = par;
		truth->parallax_err_div = par_err_mm / s->division_mm;
	}
	return MTB_OK;
}
