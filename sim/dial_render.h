/* meterbench sim: the dial renderer -- a water meter's face for a given indicated volume.
 *
 * Draws, with cairo, the register described by a layout (vision/layout.h): roller digits (black
 * and red drums, the rolling digit showing parts of both digits), pointer sub-dials (0-9
 * clockwise, scale marks and numbers, red or black or thin pointers), then the nuisances of a lab
 * camera: glass reflections, uneven and changing light, small rotation, scale, offset and
 * perspective, blur and sensor noise. Used by the virtual cameras of the simulator, by the
 * training-crop generator (`meterbench sim render`) and by the reader's tests.
 *
 * Determinism: every random choice comes from opts->seed through a local generator; the same
 * layout, volume, element position and options give the same pixels on the same machine (fonts
 * come from fontconfig, so another machine's font set may differ slightly).
 *
 * Thread safety: no shared state; calls may run in parallel on different outputs. */
#ifndef MTB_SIM_DIAL_RENDER_H
#define MTB_SIM_DIAL_RENDER_H

#include "core/err.h"
#include "core/image.h"
#include "vision/layout.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Face styles: colours, fonts, roller drums and pointer shapes. */
enum mtb_dial_style {
	MTB_DIAL_STYLE_CLASSIC = 0, /* white face, black and red drums with white digits, red tapered pointers */
	MTB_DIAL_STYLE_CREAM,       /* cream face, serif digits on white drums in a black band, red arrow pointers */
	MTB_DIAL_STYLE_BLUE,        /* blue face, condensed digits, black thin needles with a tail */
	MTB_DIAL_STYLE_GREY,        /* grey metal face, monospace digits, black tapered pointers */
	MTB_DIAL_STYLE_COUNT,
	MTB_DIAL_STYLE_RANDOM = -1, /* drawn from the seed */
};

/* Style names as on the command line ("classic", "cream", "blue", "grey"); NULL when out of range. */
const char *mtb_dial_style_name(int style);
/* MTB_DIAL_STYLE_* for a name, "random" -> MTB_DIAL_STYLE_RANDOM; MTB_ERR_ARG when unknown. */
int mtb_dial_style_parse(const char *name, int *style);

struct mtb_dial_render_opts {
	int width_px, height_px;  /* output size; 0 = the default (dial 480 x 480, roller crop 40 x 60
				     scaled to the window's shape, pointer crop 64 x 64) */
	int style;                /* enum mtb_dial_style or MTB_DIAL_STYLE_RANDOM */
	uint64_t seed;
	double nuisance;          /* 0: clean, frontal, even light; 1: the full range of glare, blur,
				     noise, tilt and light changes (values in between scale each one) */
};

/* What was drawn, for tests and labels. */
struct mtb_dial_truth {
	int style;
	int n_elements;
	double position[MTB_LAYOUT_MAX_ELEMENTS];  /* each element's drawn position on [0, 10) */
	/* Face units -> image pixels: (u, v) maps to ((h0 u + h1 v + h2) / w, (h3 u + h4 v + h5) / w),
	   w = h6 u + h7 v + h8. */
	double face_to_px[9];
};

/* Stack a render may need: cairo and FreeType loading glyphs at a size not seen before go deep
 * (tests/sim/test_dial_render.cpp measures it). A caller on a thread with a small stack -- the
 * simulator's HTTP workers: Debian's civetweb gives them 100 kB -- renders on a thread of this
 * size instead. */
#define MTB_DIAL_RENDER_STACK_BYTES (2u << 20)

/* Renders the whole face showing volume_ul (reduced modulo the layout's range) into a new BGR
 * image (*out, free with mtb_image_destroy). Positions follow mtb_layout_position (the odometer
 * rule of the layout). truth may be NULL. */
int mtb_dial_render(const struct mtb_layout *layout, int64_t volume_ul, const struct mtb_dial_render_opts *opts,
		    struct mtb_image **out, struct mtb_dial_truth *truth, struct mtb_errbuf *eb);

/* Renders the training crop of element `element` (0 = first roller ... last pointer) standing at
 * `position` in [0, 10): the crop rectangle of mtb_layout_crop_rect, with the small offset,
 * rotation and scale errors a real alignment leaves, the other elements at random positions.
 * For a roller, 2.9 shows the 2 rolled nine tenths of the way to 3; for a pointer, the pointer
 * at 2.9 divisions clockwise from 0. */
int mtb_dial_render_element(const struct mtb_layout *layout, int element, double position,
			    const struct mtb_dial_render_opts *opts, struct mtb_image **out, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
