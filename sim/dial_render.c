/* The dial renderer: cairo draws the face in face units (vision/layout.h) through an affine
 * camera matrix; perspective, blur and noise are applied afterwards on the pixels. */
#include "sim/dial_render.h"

#include <cairo.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* ---- random numbers: splitmix64, one generator per call, seeded by the caller ---- */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uni(struct rng *r, double a, double b)
{
	return a + (b - a) * ((double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0));
}

static double gauss(struct rng *r)
{
	double u1 = uni(r, 1e-12, 1.0), u2 = uni(r, 0.0, 1.0);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * PI * u2);
}

static bool chance(struct rng *r, double p) { return uni(r, 0, 1) < p; }

/* ---- styles ---- */
enum pointer_shape { SHAPE_TAPERED, SHAPE_ARROW, SHAPE_NEEDLE };

struct rgb {
	double r, g, b;
};

struct style_desc {
	const char *name;
	struct rgb face, bezel, band;
	struct rgb drum_black, digit_black;  /* drums of black rollers and their digits */
	struct rgb drum_red, digit_red;      /* drums of red rollers */
	struct rgb ink;                      /* scale marks, numbers, printing */
	struct rgb subdial;                  /* inside the pointer scales */
	struct rgb pointer_red, pointer_black;
	bool all_black_pointers;             /* pointers drawn black whatever the layout says */
	enum pointer_shape shape;
	const char *digit_font;
	cairo_font_weight_t digit_weight;
	const char *print_font;
};

static const struct style_desc STYLES[MTB_DIAL_STYLE_COUNT] = {
	[MTB_DIAL_STYLE_CLASSIC] = { "classic", { 0.96, 0.96, 0.94 }, { 0.15, 0.15, 0.17 }, { 0.08, 0.08, 0.08 },
				     { 0.10, 0.10, 0.10 }, { 0.97, 0.97, 0.97 }, { 0.78, 0.10, 0.10 }, { 0.98, 0.98, 0.98 },
				     { 0.10, 0.10, 0.12 }, { 0.97, 0.97, 0.95 }, { 0.85, 0.08, 0.08 }, { 0.08, 0.08, 0.08 },
				     false, SHAPE_TAPERED, "DejaVu Sans", CAIRO_FONT_WEIGHT_BOLD, "DejaVu Sans" },
	[MTB_DIAL_STYLE_CREAM] = { "cream", { 0.93, 0.89, 0.78 }, { 0.55, 0.45, 0.25 }, { 0.05, 0.05, 0.05 },
				   { 0.97, 0.97, 0.95 }, { 0.05, 0.05, 0.05 }, { 0.97, 0.95, 0.93 }, { 0.75, 0.05, 0.05 },
				   { 0.15, 0.12, 0.08 }, { 0.95, 0.92, 0.84 }, { 0.80, 0.12, 0.10 }, { 0.10, 0.08, 0.06 },
				   false, SHAPE_ARROW, "DejaVu Serif", CAIRO_FONT_WEIGHT_BOLD, "DejaVu Serif" },
	[MTB_DIAL_STYLE_BLUE] = { "blue", { 0.20, 0.33, 0.60 }, { 0.10, 0.10, 0.12 }, { 0.92, 0.92, 0.92 },
				  { 0.95, 0.95, 0.95 }, { 0.05, 0.05, 0.08 }, { 0.95, 0.85, 0.85 }, { 0.70, 0.05, 0.05 },
				  { 0.95, 0.95, 0.97 }, { 0.93, 0.94, 0.96 }, { 0.80, 0.10, 0.10 }, { 0.05, 0.05, 0.05 },
				  true, SHAPE_NEEDLE, "DejaVu Sans Condensed", CAIRO_FONT_WEIGHT_BOLD, "DejaVu Sans" },
	[MTB_DIAL_STYLE_GREY] = { "grey", { 0.72, 0.73, 0.74 }, { 0.30, 0.30, 0.32 }, { 0.20, 0.20, 0.22 },
				  { 0.12, 0.12, 0.12 }, { 0.92, 0.92, 0.88 }, { 0.65, 0.08, 0.08 }, { 0.95, 0.95, 0.95 },
				  { 0.08, 0.08, 0.08 }, { 0.88, 0.88, 0.86 }, { 0.75, 0.10, 0.05 }, { 0.06, 0.06, 0.06 },
				  true, SHAPE_TAPERED, "DejaVu Sans Mono", CAIRO_FONT_WEIGHT_BOLD, "DejaVu Sans Mono" },
};

const char *mtb_dial_style_name(int style)
{
	return style >= 0 && style < MTB_DIAL_STYLE_COUNT ? STYLES[style].name : NULL;
}

int mtb_dial_style_parse(const char *name, int *style)
{
	if (strcmp(name, "random") == 0) {
		*style = MTB_DIAL_STYLE_RANDOM;
		return MTB_OK;
	}
	for (int i = 0; i < MTB_DIAL_STYLE_COUNT; i++)
		if (strcmp(name, STYLES[i].name) == 0) {
			*style = i;
			return MTB_OK;
		}
	return MTB_ERR_ARG;
}

/* Per-render variation of a style: colours jittered, light and glare drawn. */
struct scene {
	int style;
	struct style_desc st;
	double nuisance;
	double shade_alpha, shade_angle;      /* uneven light: a dark linear gradient */
	int n_glare;
	double glare_x[3], glare_y[3], glare_rx[3], glare_ry[3], glare_rot[3], glare_alpha[3];
	double shadow_dx, shadow_dy;          /* pointer shadows */
	double drum_pitch;                    /* digit spacing on the drum, in window heights */
	double digit_scale;                   /* digit height, in window heights */
	double tint[3], gain, gamma;          /* light colour and exposure, applied to pixels */
	double blur_px, noise_sd;
	char serial[32];
};

static struct rgb jitter(struct rng *r, struct rgb c, double amount)
{
	struct rgb o = { c.r + amount * gauss(r), c.g + amount * gauss(r), c.b + amount * gauss(r) };
	o.r = fmin(1, fmax(0, o.r));
	o.g = fmin(1, fmax(0, o.g));
	o.b = fmin(1, fmax(0, o.b));
	return o;
}

static void scene_make(struct scene *sc, struct rng *r, int style, double n, const struct mtb_layout *l)
{
	if (style < 0 || style >= MTB_DIAL_STYLE_COUNT)
		style = (int)(rng_next(r) % MTB_DIAL_STYLE_COUNT);
	sc->style = style;
	sc->st = STYLES[style];
	sc->nuisance = n;
	double cj = 0.025 + 0.04 * n;
	sc->st.face = jitter(r, sc->st.face, cj);
	sc->st.drum_black = jitter(r, sc->st.drum_black, cj);
	sc->st.drum_red = jitter(r, sc->st.drum_red, cj);
	sc->st.pointer_red = jitter(r, sc->st.pointer_red, cj);
	sc->st.subdial = jitter(r, sc->st.subdial, cj * 0.5);
	/* A share of renders swaps the pointer shape, so no shape belongs to one face only. */
	if (chance(r, 0.25))
		sc->st.shape = (enum pointer_shape)(rng_next(r) % 3);
	if (chance(r, 0.15))
		sc->st.all_black_pointers = !sc->st.all_black_pointers;
	sc->shade_alpha = uni(r, 0, 0.45) * n;
	sc->shade_angle = uni(r, 0, 2 * PI);
	sc->n_glare = n > 0 ? (int)(rng_next(r) % 3) : 0;
	for (int i = 0; i < sc->n_glare; i++) {
		sc->glare_x[i] = uni(r, 0.15, 0.85) * l->size;
		sc->glare_y[i] = uni(r, 0.15, 0.85) * l->size;
		sc->glare_rx[i] = uni(r, 0.05, 0.35) * l->size;
		sc->glare_ry[i] = sc->glare_rx[i] * uni(r, 0.1, 0.6);
		sc->glare_rot[i] = uni(r, 0, PI);
		sc->glare_alpha[i] = uni(r, 0.1, 0.6) * n;
	}
	sc->shadow_dx = uni(r, -0.6, 0.6);
	sc->shadow_dy = uni(r, 0.2, 0.8);
	sc->drum_pitch = uni(r, 1.05, 1.3);
	sc->digit_scale = uni(r, 0.62, 0.8);
	for (int c = 0; c < 3; c++)
		sc->tint[c] = 1.0 + 0.08 * n * gauss(r);
	sc->gain = exp(0.35 * n * gauss(r));
	sc->gamma = exp(0.15 * n * gauss(r));
	sc->blur_px = uni(r, 0.0, 1.8) * n;
	sc->noise_sd = uni(r, 0.0, 9.0) * n;
	snprintf(sc->serial, sizeof sc->serial, "No %02u-%06u", (unsigned)(rng_next(r) % 30),
		 (unsigned)(rng_next(r) % 1000000));
}

static void set_rgb(cairo_t *cr, struct rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

static void text_centered(cairo_t *cr, const char *s, double x, double y)
{
	cairo_text_extents_t e;
	cairo_text_extents(cr, s, &e);
	cairo_move_to(cr, x - e.x_bearing - e.width / 2, y - e.y_bearing - e.height / 2);
	cairo_show_text(cr, s);
}

/* One roller window: the drum strip moved up by the fraction of the rolling digit, so the
 * next digit enters from below. */
static void draw_roller(cairo_t *cr, const struct scene *sc, const struct mtb_layout_roller *ro, double pos)
{
	const struct style_desc *st = &sc->st;
	bool red = ro->colour == MTB_LAYOUT_RED;
	struct rgb drum = red ? st->drum_red : st->drum_black;
	struct rgb ink = red ? st->digit_red : st->digit_black;
	double cx = ro->x + ro->w / 2, cy = ro->y + ro->h / 2;

	cairo_save(cr);
	cairo_rectangle(cr, ro->x, ro->y, ro->w, ro->h);
	cairo_clip(cr);
	set_rgb(cr, drum);
	cairo_paint(cr);
	cairo_select_font_face(cr, st->digit_font, CAIRO_FONT_SLANT_NORMAL, st->digit_weight);
	cairo_set_font_size(cr, ro->h * sc->digit_scale * 1.35);
	/* Vertical centre from the extents of "0", so every digit shares one baseline. */
	cairo_text_extents_t e0;
	cairo_text_extents(cr, "0", &e0);
	double pitch = ro->h * sc->drum_pitch;
	int d = (int)floor(pos);
	double f = pos - d;
	set_rgb(cr, ink);
	for (int k = -1; k <= 2; k++) {
		char s[2] = { (char)('0' + (((d + k) % 10) + 10) % 10), 0 };
		cairo_text_extents_t e;
		cairo_text_extents(cr, s, &e);
		double yc = cy + (k - f) * pitch;
		cairo_move_to(cr, cx - e.x_bearing - e.width / 2, yc - e0.y_bearing - e0.height / 2);
		cairo_show_text(cr, s);
	}
	/* The drum's curvature: darker towards the top and bottom of the window. */
	cairo_pattern_t *g = cairo_pattern_create_linear(0, ro->y, 0, ro->y + ro->h);
	cairo_pattern_add_color_stop_rgba(g, 0.0, 0, 0, 0, 0.65);
	cairo_pattern_add_color_stop_rgba(g, 0.28, 0, 0, 0, 0.0);
	cairo_pattern_add_color_stop_rgba(g, 0.72, 0, 0, 0, 0.0);
	cairo_pattern_add_color_stop_rgba(g, 1.0, 0, 0, 0, 0.65);
	cairo_set_source(cr, g);
	cairo_paint(cr);
	cairo_pattern_destroy(g);
	cairo_restore(cr);
	/* Window frame. */
	cairo_set_line_width(cr, ro->w * 0.06);
	cairo_set_source_rgba(cr, 0.02, 0.02, 0.02, 0.9);
	cairo_rectangle(cr, ro->x, ro->y, ro->w, ro->h);
	cairo_stroke(cr);
}

static void draw_pointer_shape(cairo_t *cr, enum pointer_shape shape, double r)
{
	/* Drawn pointing up (-y) from the origin. */
	switch (shape) {
	case SHAPE_TAPERED:
		cairo_move_to(cr, 0, -0.92 * r);
		cairo_line_to(cr, 0.13 * r, 0);
		cairo_line_to(cr, 0.07 * r, 0.28 * r);
		cairo_line_to(cr, -0.07 * r, 0.28 * r);
		cairo_line_to(cr, -0.13 * r, 0);
		cairo_close_path(cr);
		cairo_fill(cr);
		cairo_arc(cr, 0, 0, 0.17 * r, 0, 2 * PI);
		cairo_fill(cr);
		break;
	case SHAPE_ARROW:
		cairo_rectangle(cr, -0.045 * r, -0.62 * r, 0.09 * r, 0.85 * r);
		cairo_fill(cr);
		cairo_move_to(cr, 0, -0.95 * r);
		cairo_line_to(cr, 0.16 * r, -0.58 * r);
		cairo_line_to(cr, -0.16 * r, -0.58 * r);
		cairo_close_path(cr);
		cairo_fill(cr);
		cairo_arc(cr, 0, 0, 0.14 * r, 0, 2 * PI);
		cairo_fill(cr);
		break;
	case SHAPE_NEEDLE:
		cairo_set_line_width(cr, 0.055 * r);
		cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
		cairo_move_to(cr, 0, 0.32 * r);
		cairo_line_to(cr, 0, -0.95 * r);
		cairo_stroke(cr);
		cairo_arc(cr, 0, 0.3 * r, 0.09 * r, 0, 2 * PI);
		cairo_fill(cr);
		cairo_arc(cr, 0, 0, 0.11 * r, 0, 2 * PI);
		cairo_fill(cr);
		break;
	}
}

static void multiplier_label(char *buf, size_t len, int64_t weight_ul)
{
	/* The factor printed under a sub-dial: the weight of one division in m3 ("x0.0001"). */
	int64_t m3 = 1000000000;   /* uL per m3 */
	if (weight_ul >= m3)
		snprintf(buf, len, "x%lld", (long long)(weight_ul / m3));
	else {
		int zeros = 0;
		int64_t w = weight_ul;
		while (w * 10 <= m3 && zeros < 12) {
			w *= 10;
			zeros++;
		}
		snprintf(buf, len, "x0.%.*s1", zeros - 1, "000000000000");
	}
}

static void draw_subdial(cairo_t *cr, const struct scene *sc, const struct mtb_layout_pointer *p, double pos)
{
	const struct style_desc *st = &sc->st;
	double r = p->r;
	cairo_save(cr);
	cairo_translate(cr, p->cx, p->cy);
	set_rgb(cr, st->subdial);
	cairo_arc(cr, 0, 0, 1.08 * r, 0, 2 * PI);
	cairo_fill(cr);
	/* Marks and numbers in dark ink on a light scale, light ink on a dark one. */
	double lum = 0.3 * st->subdial.r + 0.59 * st->subdial.g + 0.11 * st->subdial.b;
	struct rgb ink = lum > 0.5 ? (struct rgb){ 0.08, 0.08, 0.09 } : (struct rgb){ 0.95, 0.95, 0.95 };
	set_rgb(cr, ink);
	cairo_set_line_width(cr, 0.035 * r);
	cairo_arc(cr, 0, 0, 1.08 * r, 0, 2 * PI);
	cairo_stroke(cr);
	/* 50 marks: one per fifth of a division, longer on the divisions. */
	for (int k = 0; k < 50; k++) {
		double a = k / 50.0 * 2 * PI, s = sin(a), c = -cos(a);
		bool major = k % 5 == 0;
		double r0 = major ? 0.74 * r : 0.87 * r;
		cairo_set_line_width(cr, major ? 0.06 * r : 0.03 * r);
		cairo_move_to(cr, r0 * s, r0 * c);
		cairo_line_to(cr, 1.0 * r * s, 1.0 * r * c);
		cairo_stroke(cr);
	}
	cairo_select_font_face(cr, st->print_font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, 0.3 * r);
	for (int k = 0; k < 10; k++) {
		double a = k / 10.0 * 2 * PI;
		char s[2] = { (char)('0' + k), 0 };
		text_centered(cr, s, 0.53 * r * sin(a), -0.53 * r * cos(a));
	}
	char label[24];
	multiplier_label(label, sizeof label, p->weight_ul);
	cairo_set_font_size(cr, 0.22 * r);
	text_centered(cr, label, 0, 1.3 * r);

	bool black = st->all_black_pointers || p->colour == MTB_LAYOUT_BLACK;
	struct rgb pc = black ? st->pointer_black : st->pointer_red;
	double a = pos / 10.0 * 2 * PI;
	/* Shadow on the face below the pointer. */
	cairo_save(cr);
	cairo_translate(cr, sc->shadow_dx * 0.06 * r, sc->shadow_dy * 0.06 * r);
	cairo_rotate(cr, a);
	cairo_set_source_rgba(cr, 0, 0, 0, 0.25);
	draw_pointer_shape(cr, sc->st.shape, r);
	cairo_restore(cr);
	cairo_save(cr);
	cairo_rotate(cr, a);
	set_rgb(cr, pc);
	draw_pointer_shape(cr, sc->st.shape, r);
	cairo_restore(cr);
	cairo_set_source_rgb(cr, 0.75, 0.75, 0.72);
	cairo_arc(cr, 0, 0, 0.05 * r, 0, 2 * PI);
	cairo_fill(cr);
	cairo_restore(cr);
}

static void draw_face(cairo_t *cr, const struct scene *sc, const struct mtb_layout *l, const double *pos)
{
	const struct style_desc *st = &sc->st;
	double c = l->size / 2, R = l->radius;
	/* Bezel and face. */
	cairo_pattern_t *bz = cairo_pattern_create_radial(c, c, R * 0.98, c, c, R * 1.12);
	cairo_pattern_add_color_stop_rgb(bz, 0, st->bezel.r * 1.3, st->bezel.g * 1.3, st->bezel.b * 1.3);
	cairo_pattern_add_color_stop_rgb(bz, 1, st->bezel.r * 0.6, st->bezel.g * 0.6, st->bezel.b * 0.6);
	cairo_set_source(cr, bz);
	cairo_arc(cr, c, c, R * 1.12, 0, 2 * PI);
	cairo_fill(cr);
	cairo_pattern_destroy(bz);
	set_rgb(cr, st->face);
	cairo_arc(cr, c, c, R, 0, 2 * PI);
	cairo_fill(cr);

	/* Printing: unit next to the rollers, maker and data plate text, serial. */
	int nr = l->n_rollers;
	double by0 = l->rollers[0].y, bh = l->rollers[0].h;
	double bx1 = l->rollers[nr - 1].x + l->rollers[nr - 1].w;
	set_rgb(cr, st->ink);
	cairo_select_font_face(cr, st->print_font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, bh * 0.45);
	text_centered(cr, "m\xc2\xb3", bx1 - bh * 0.4, by0 + bh * 1.55);
	cairo_set_font_size(cr, l->size * 0.045);
	text_centered(cr, "AQUAMETRIC", c, by0 - l->size * 0.07);
	cairo_select_font_face(cr, st->print_font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, l->size * 0.03);
	text_centered(cr, "Q3 2.5  R160  DN15  T30", c, by0 - l->size * 0.025);
	text_centered(cr, sc->serial, c, by0 + bh + l->size * 0.07);
	text_centered(cr, "M22 0102  class 2", c, c + R * 0.82);

	/* The roller band behind the windows. */
	set_rgb(cr, st->band);
	double fx, fy, fw, fh;
	mtb_layout_frame_rect(l, &fx, &fy, &fw, &fh);
	cairo_rectangle(cr, fx, fy, fw, fh);
	cairo_fill(cr);
	for (int i = 0; i < nr; i++)
		draw_roller(cr, sc, &l->rollers[i], pos[i]);
	for (int i = 0; i < l->n_pointers; i++)
		draw_subdial(cr, sc, &l->pointers[i], pos[nr + i]);

	/* Uneven light across the face. */
	if (sc->shade_alpha > 0) {
		double dx = cos(sc->shade_angle) * R, dy = sin(sc->shade_angle) * R;
		cairo_pattern_t *g = cairo_pattern_create_linear(c - dx, c - dy, c + dx, c + dy);
		cairo_pattern_add_color_stop_rgba(g, 0, 0, 0, 0, sc->shade_alpha);
		cairo_pattern_add_color_stop_rgba(g, 1, 0, 0, 0, 0);
		cairo_set_source(cr, g);
		cairo_arc(cr, c, c, R * 1.12, 0, 2 * PI);
		cairo_fill(cr);
		cairo_pattern_destroy(g);
	}
	/* Reflections on the glass: soft white ellipses. */
	for (int i = 0; i < sc->n_glare; i++) {
		cairo_save(cr);
		cairo_translate(cr, sc->glare_x[i], sc->glare_y[i]);
		cairo_rotate(cr, sc->glare_rot[i]);
		cairo_scale(cr, sc->glare_rx[i], sc->glare_ry[i]);
		cairo_pattern_t *g = cairo_pattern_create_radial(0, 0, 0, 0, 0, 1);
		cairo_pattern_add_color_stop_rgba(g, 0, 1, 1, 1, sc->glare_alpha[i]);
		cairo_pattern_add_color_stop_rgba(g, 0.5, 1, 1, 1, sc->glare_alpha[i] * 0.6);
		cairo_pattern_add_color_stop_rgba(g, 1, 1, 1, 1, 0);
		cairo_set_source(cr, g);
		cairo_arc(cr, 0, 0, 1, 0, 2 * PI);
		cairo_fill(cr);
		cairo_pattern_destroy(g);
		cairo_restore(cr);
	}
}

/* ---- pixel post-processing ---- */

static int surface_to_image(cairo_surface_t *s, struct mtb_image **out, struct mtb_errbuf *eb)
{
	cairo_surface_flush(s);
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	int rc = mtb_image_create(out, w, h, 3);
	if (rc != MTB_OK)
		return mtb_errbuf_set(eb, rc, "cannot allocate a %dx%d image", w, h);
	const unsigned char *src = cairo_image_surface_get_data(s);
	int sstride = cairo_image_surface_get_stride(s);
	for (int y = 0; y < h; y++) {
		const uint32_t *row = (const uint32_t *)(const void *)(src + (size_t)y * (size_t)sstride);
		uint8_t *d = mtb_image_row(*out, y);
		for (int x = 0; x < w; x++) {
			uint32_t p = row[x];   /* opaque ARGB32, native endian */
			d[3 * x + 0] = (uint8_t)(p & 0xff);
			d[3 * x + 1] = (uint8_t)((p >> 8) & 0xff);
			d[3 * x + 2] = (uint8_t)((p >> 16) & 0xff);
		}
	}
	return MTB_OK;
}

static uint8_t clamp8(double v) { return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5); }

/* Exposure, light colour and gamma, one lookup table per channel (BGR). */
static void apply_light(struct mtb_image *img, const struct scene *sc)
{
	uint8_t lut[3][256];
	for (int c = 0; c < 3; c++)
		for (int v = 0; v < 256; v++)
			lut[c][v] = clamp8(255.0 * pow(fmin(1.0, v / 255.0 * sc->gain * sc->tint[2 - c]), sc->gamma));
	for (int y = 0; y < img->height; y++) {
		uint8_t *p = mtb_image_row(img, y);
		for (int x = 0; x < img->width; x++)
			for (int c = 0; c < 3; c++)
				p[3 * x + c] = lut[c][p[3 * x + c]];
	}
}

/* Separable Gaussian blur, sigma in pixels. */
static int apply_blur(struct mtb_image *img, double sigma)
{
	if (sigma < 0.3)
		return MTB_OK;
	int rad = (int)ceil(2.5 * sigma);
	double k[64];
	if (rad > 31)
		rad = 31;
	double sum = 0;
	for (int i = -rad; i <= rad; i++)
		sum += k[i + rad] = exp(-0.5 * i * i / (sigma * sigma));
	for (int i = 0; i <= 2 * rad; i++)
		k[i] /= sum;
	int w = img->width, h = img->height;
	float *tmp = malloc(sizeof(float) * (size_t)w * (size_t)h * 3);
	if (!tmp)
		return MTB_ERR_NOMEM;
	for (int y = 0; y < h; y++) {
		const uint8_t *p = mtb_image_row(img, y);
		for (int x = 0; x < w; x++)
			for (int c = 0; c < 3; c++) {
				double acc = 0;
				for (int i = -rad; i <= rad; i++) {
					int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
					acc += k[i + rad] * p[3 * xx + c];
				}
				tmp[((size_t)y * w + x) * 3 + c] = (float)acc;
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
				p[3 * x + c] = clamp8(acc);
			}
	}
	free(tmp);
	return MTB_OK;
}

/* Sensor noise. A normal deviate per value would cost a logarithm and a cosine; the sum of
 * four 16-bit uniforms from one 64-bit draw (Irwin-Hall, variance 1/3) is close enough. */
static double fast_gauss(struct rng *r)
{
	uint64_t z = rng_next(r);
	double s = (double)(z & 0xffff) + (double)((z >> 16) & 0xffff) + (double)((z >> 32) & 0xffff) + (double)(z >> 48);
	return (s / 65535.0 - 2.0) * 1.7320508075688772;
}

static void apply_noise(struct mtb_image *img, double sd, struct rng *r)
{
	if (sd <= 0)
		return;
	for (int y = 0; y < img->height; y++) {
		uint8_t *p = mtb_image_row(img, y);
		for (int x = 0; x < img->width; x++) {
			double g = sd * 0.5 * fast_gauss(r);   /* shared (luminance) part */
			for (int c = 0; c < 3; c++)
				p[3 * x + c] = clamp8(p[3 * x + c] + g + sd * 0.5 * fast_gauss(r));
		}
	}
}

/* out(x) = in(Hinv x), bilinear, edge pixels repeated. */
static int apply_warp(struct mtb_image *img, const double *hinv)
{
	int w = img->width, h = img->height;
	struct mtb_image *src;
	int rc = mtb_image_create(&src, w, h, 3);
	if (rc != MTB_OK)
		return rc;
	for (int y = 0; y < h; y++)
		memcpy(mtb_image_row(src, y), mtb_image_row(img, y), (size_t)w * 3);
	for (int y = 0; y < h; y++) {
		uint8_t *d = mtb_image_row(img, y);
		for (int x = 0; x < w; x++) {
			double q = hinv[6] * x + hinv[7] * y + hinv[8];
			double u = (hinv[0] * x + hinv[1] * y + hinv[2]) / q;
			double v = (hinv[3] * x + hinv[4] * y + hinv[5]) / q;
			u = fmin(fmax(u, 0), w - 1.001);
			v = fmin(fmax(v, 0), h - 1.001);
			int x0 = (int)u, y0 = (int)v;
			double fx = u - x0, fy = v - y0;
			const uint8_t *a = mtb_image_row(src, y0) + 3 * x0, *b = mtb_image_row(src, y0 + 1) + 3 * x0;
			for (int c = 0; c < 3; c++)
				d[3 * x + c] = clamp8((1 - fy) * ((1 - fx) * a[c] + fx * a[3 + c]) +
						      fy * ((1 - fx) * b[c] + fx * b[3 + c]));
		}
	}
	mtb_image_destroy(src);
	return MTB_OK;
}

static void mat3_mul(const double *a, const double *b, double *o)
{
	double t[9];
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			t[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
	memcpy(o, t, sizeof t);
}

/* ---- entry points ---- */

static int check_common(const struct mtb_layout *l, const struct mtb_dial_render_opts *o, struct mtb_errbuf *eb)
{
	if (!l || !o)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "dial render: no layout or options");
	if (o->style < MTB_DIAL_STYLE_RANDOM || o->style >= MTB_DIAL_STYLE_COUNT)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "dial render: unknown style %d", o->style);
	if (!(o->nuisance >= 0 && o->nuisance <= 1))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "dial render: nuisance must be within 0-1");
	if (o->width_px < 0 || o->height_px < 0 || o->width_px > 4096 || o->height_px > 4096)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "dial render: size must be within 1-4096 pixels");
	if (l->n_rollers < 1)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "dial render: layout '%s' has no rollers", l->name);
	return MTB_OK;
}

static int render_surface(const struct mtb_layout *l, const struct scene *sc, const double *pos, int w, int h,
			  const cairo_matrix_t *m, struct rgb background, struct mtb_image **out, struct mtb_errbuf *eb)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "dial render: cannot create a %dx%d surface", w, h);
	}
	cairo_t *cr = cairo_create(s);
	set_rgb(cr, background);
	cairo_paint(cr);
	cairo_set_matrix(cr, m);
	draw_face(cr, sc, l, pos);
	int rc = cairo_status(cr) == CAIRO_STATUS_SUCCESS ? MTB_OK : MTB_ERR_NOMEM;
	cairo_destroy(cr);
	if (rc == MTB_OK)
		rc = surface_to_image(s, out, eb);
	else
		mtb_errbuf_set(eb, rc, "dial render: cairo failed");
	cairo_surface_destroy(s);
	return rc;
}

static int postprocess(struct mtb_image *img, const struct scene *sc, struct rng *r)
{
	apply_light(img, sc);
	int rc = apply_blur(img, sc->blur_px);
	if (rc == MTB_OK)
		apply_noise(img, sc->noise_sd, r);
	return rc;
}

int mtb_dial_render(const struct mtb_layout *l, int64_t volume_ul, const struct mtb_dial_render_opts *o,
		    struct mtb_image **out, struct mtb_dial_truth *truth, struct mtb_errbuf *eb)
{
	*out = NULL;
	int rc = check_common(l, o, eb);
	if (rc != MTB_OK)
		return rc;
	int w = o->width_px ? o->width_px : 480, h = o->height_px ? o->height_px : 480;
	struct rng r = { o->seed ^ 0x5d1a1e0full };
	struct scene sc;
	scene_make(&sc, &r, o->style, o->nuisance, l);
	double pos[MTB_LAYOUT_MAX_ELEMENTS];
	int n = mtb_layout_elements(l);
	for (int i = 0; i < n; i++)
		pos[i] = mtb_layout_position(l, i, volume_ul);

	/* Camera: the face's bezel fills about 90 % of the shorter side, with small errors. */
	double nu = o->nuisance;
	double scale = fmin(w, h) * 0.92 / (2.24 * l->radius) * (1.0 + 0.07 * nu * fmax(-2, fmin(2, gauss(&r))));
	double rot = fmax(-0.21, fmin(0.21, 0.09 * nu * gauss(&r)));
	double tx = w / 2.0 + 0.03 * nu * w * fmax(-2, fmin(2, gauss(&r)));
	double ty = h / 2.0 + 0.03 * nu * h * fmax(-2, fmin(2, gauss(&r)));
	cairo_matrix_t m;
	cairo_matrix_init_translate(&m, tx, ty);
	cairo_matrix_rotate(&m, rot);
	cairo_matrix_scale(&m, scale, scale);
	cairo_matrix_translate(&m, -l->size / 2, -l->size / 2);
	struct rgb bg = { uni(&r, 0.05, 0.5), uni(&r, 0.05, 0.5), uni(&r, 0.05, 0.5) };
	rc = render_surface(l, &sc, pos, w, h, &m, bg, out, eb);
	if (rc != MTB_OK)
		return rc;

	/* Perspective about the image centre: a camera a few degrees off the face's axis. */
	double H[9] = { m.xx, m.xy, m.x0, m.yx, m.yy, m.y0, 0, 0, 1 };
	double px = 0.00015 * nu * fmax(-2, fmin(2, gauss(&r))) * 480.0 / w;
	double py = 0.00015 * nu * fmax(-2, fmin(2, gauss(&r))) * 480.0 / h;
	if (px != 0 || py != 0) {
		double cx = w / 2.0, cy = h / 2.0;
		double T[9] = { 1, 0, cx, 0, 1, cy, 0, 0, 1 }, Ti[9] = { 1, 0, -cx, 0, 1, -cy, 0, 0, 1 };
		double P[9] = { 1, 0, 0, 0, 1, 0, px, py, 1 }, Pi[9] = { 1, 0, 0, 0, 1, 0, -px, -py, 1 };
		double fwd[9], inv[9];
		mat3_mul(T, P, fwd);
		mat3_mul(fwd, Ti, fwd);
		mat3_mul(T, Pi, inv);
		mat3_mul(inv, Ti, inv);
		rc = apply_warp(*out, inv);
		mat3_mul(fwd, H, H);
	}
	if (rc == MTB_OK)
		rc = postprocess(*out, &sc, &r);
	if (rc != MTB_OK) {
		mtb_image_destroy(*out);
		*out = NULL;
		return mtb_errbuf_set(eb, rc, "dial render: out of memory");
	}
	if (truth) {
		memset(truth, 0, sizeof *truth);
		truth->style = sc.style;
		truth->n_elements = n;
		memcpy(truth->position, pos, sizeof(double) * (size_t)n);
		memcpy(truth->face_to_px, H, sizeof H);
	}
	return MTB_OK;
}

int mtb_dial_render_element(const struct mtb_layout *l, int element, double position,
			    const struct mtb_dial_render_opts *o, struct mtb_image **out, struct mtb_errbuf *eb)
{
	*out = NULL;
	int rc = check_common(l, o, eb);
	if (rc != MTB_OK)
		return rc;
	int n = mtb_layout_elements(l);
	if (element < 0 || element >= n)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "dial render: element %d outside 0-%d", element, n - 1);
	if (!(position >= 0 && position < 10))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "dial render: position %g outside [0, 10)", position);
	struct rng r = { o->seed ^ 0xc0ffee5eedull };
	struct scene sc;
	scene_make(&sc, &r, o->style, o->nuisance, l);
	double pos[MTB_LAYOUT_MAX_ELEMENTS];
	for (int i = 0; i < n; i++)
		pos[i] = uni(&r, 0, 10);
	pos[element] = position;

	double cx, cy, cw, ch;
	mtb_layout_crop_rect(l, element, &cx, &cy, &cw, &ch);
	bool roller = element < l->n_rollers;
	int w = o->width_px, h = o->height_px;
	if (!w || !h) {
		if (roller) {
			h = 60;
			w = (int)lround(60.0 * cw / ch);
		} else {
			w = h = 64;
		}
	}
	/* A glare over this element in a share of the renders, so crops see it often enough. */
	if (o->nuisance > 0 && chance(&r, 0.35)) {
		sc.n_glare = 1;
		sc.glare_x[0] = cx + uni(&r, 0, cw);
		sc.glare_y[0] = cy + uni(&r, 0, ch);
		sc.glare_rx[0] = uni(&r, 0.3, 1.0) * cw;
		sc.glare_ry[0] = sc.glare_rx[0] * uni(&r, 0.15, 0.6);
	}
	/* The crop as an aligner leaves it: a few percent off in place, scale and angle. */
	double nu = o->nuisance;
	double sx = w / cw * (1.0 + 0.04 * nu * fmax(-2, fmin(2, gauss(&r))));
	double sy = h / ch * (1.0 + 0.04 * nu * fmax(-2, fmin(2, gauss(&r))));
	double rot = 0.035 * nu * fmax(-2, fmin(2, gauss(&r)));
	double ox = 0.04 * nu * w * fmax(-2, fmin(2, gauss(&r)));
	double oy = 0.04 * nu * h * fmax(-2, fmin(2, gauss(&r)));
	cairo_matrix_t m;
	cairo_matrix_init_translate(&m, w / 2.0 + ox, h / 2.0 + oy);
	cairo_matrix_rotate(&m, rot);
	cairo_matrix_scale(&m, sx, sy);
	cairo_matrix_translate(&m, -(cx + cw / 2), -(cy + ch / 2));
	struct rgb bg = { 0.2, 0.2, 0.2 };
	rc = render_surface(l, &sc, pos, w, h, &m, bg, out, eb);
	if (rc == MTB_OK) {
		sc.blur_px *= 0.6;   /* the crops are small: the same optics blur fewer pixels */
		rc = postprocess(*out, &sc, &r);
		if (rc != MTB_OK) {
			mtb_image_destroy(*out);
			*out = NULL;
			return mtb_errbuf_set(eb, rc, "dial render: out of memory");
		}
	}
	return rc;
}
