/* meterbench vision: register layouts (configs/layouts/NAME.yaml) -- where a meter model's roller
 * windows and pointer sub-dials sit on its face, and what each one counts.
 *
 * Face coordinates: the face is a square of `size` units, origin at the top-left corner, x to the
 * right, y down; a round face is centred in it with `radius` units. Every element's geometry is
 * given in these units, so the same layout serves any image size: the renderer draws into it and
 * the reader crops from it after aligning the frame.
 *
 * Elements form one decade chain, most significant first: the rollers (left to right), then the
 * pointers (coarsest first). Each element's weight is the volume of one of its ten divisions, and
 * each is exactly ten times the weight of the next element (checked on load), so one full turn of
 * an element is one division of the element before it. Weights are integer microlitres. */
#ifndef MTB_VISION_LAYOUT_H
#define MTB_VISION_LAYOUT_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTB_LAYOUT_MAX_ROLLERS 10
#define MTB_LAYOUT_MAX_POINTERS 6
#define MTB_LAYOUT_MAX_ELEMENTS (MTB_LAYOUT_MAX_ROLLERS + MTB_LAYOUT_MAX_POINTERS)

enum mtb_layout_colour { MTB_LAYOUT_BLACK = 0, MTB_LAYOUT_RED = 1 };

/* How a roller other than the lowest one is driven (`drive:` in the YAML).
 * TRANSFER: it stands still on its digit and turns by one digit while the element below passes
 *   from 9 to 10 (the usual odometer transfer pinion): position = digit + max(0, below - 9).
 * CONTINUOUS: geared straight to the element below: position = digit + below / 10.
 * The lowest roller and all pointers are always continuous. */
enum mtb_layout_drive { MTB_LAYOUT_TRANSFER = 0, MTB_LAYOUT_CONTINUOUS = 1 };

struct mtb_layout_roller {
	double x, y, w, h;             /* the window, face units */
	double frame;                  /* a dark line drawn round the window, its width in units of w; 0: none */
	int64_t weight_ul;             /* volume of one digit step */
	enum mtb_layout_colour colour;
};

struct mtb_layout_pointer {
	double cx, cy, r;              /* the sub-dial: centre and radius of its scale, face units */
	double rim;                    /* a circle drawn round the scale, radius in units of r; 0: none */
	int64_t weight_ul;             /* volume of one of its ten divisions */
	enum mtb_layout_colour colour;
};

struct mtb_layout {
	char name[64];
	double size;                   /* the face square, units */
	double radius;                 /* the round face's radius, units */
	enum mtb_layout_drive drive;
	int n_rollers, n_pointers;
	struct mtb_layout_roller rollers[MTB_LAYOUT_MAX_ROLLERS];
	struct mtb_layout_pointer pointers[MTB_LAYOUT_MAX_POINTERS];
	int64_t range_ul;              /* 10 x the first element's weight: the register turns over here */
	int64_t finest_ul;             /* weight of the last element (one division) */
};

/* Parses and validates a layout from YAML text; `origin` (a file name) starts every error,
 * which names the line and field ("rollers[2].weight_l: ..."). */
int mtb_layout_parse(const char *data, size_t len, const char *origin, struct mtb_layout *out,
		     struct mtb_errbuf *eb);

/* Loads a layout from a path or by name (configs/layouts/NAME.yaml, see core/config.h). */
int mtb_layout_load(const char *path_or_name, struct mtb_layout *out, struct mtb_errbuf *eb);

/* Number of elements in the chain (rollers then pointers) and the weight of element i. */
static inline int mtb_layout_elements(const struct mtb_layout *l) { return l->n_rollers + l->n_pointers; }
int64_t mtb_layout_weight_ul(const struct mtb_layout *l, int i);

/* The true position (on the circle [0, 10)) of element i when the register shows volume_ul,
 * following the drive rules above. The renderer draws this; the reader's fusion inverts it. */
double mtb_layout_position(const struct mtb_layout *l, int i, int64_t volume_ul);

/* The counter's frame: the band around the roller windows, their bounding box grown by this
 * share of the window height on every side. The renderer draws it; the aligner looks for it. */
#define MTB_LAYOUT_FRAME_MARGIN 0.14
void mtb_layout_frame_rect(const struct mtb_layout *l, double *x, double *y, double *w, double *h);

/* The crop rectangle (face units) the reader cuts around element i and the renderer's training
 * crops show: a roller window with a margin of 12 % of its width and 8 % of its height each side;
 * a pointer's square of side 2.3 r centred on the sub-dial. */
void mtb_layout_crop_rect(const struct mtb_layout *l, int i, double *x, double *y, double *w, double *h);

#ifdef __cplusplus
}
#endif
#endif
