/* meterbench vision: the meniscus reader -- the level of a liquid against the graduation of a
 * measuring can's neck or a cylinder's tube, in scale divisions to a tenth or better.
 *
 * Classical and all in C: the tube is found by its walls (which also give its tilt in the
 * image), the graduation lines by the period of the darkness profile beside the inner wall
 * and a least-squares lattice through them (so the line hidden behind the meniscus is still
 * placed), the long lines by their length (the phase of the pattern), the lowest point of the
 * meniscus by the lower edge of its dark band on the tube's axis, sub-pixel. The absolute line
 * numbers come from the scale's ends when they are in view, else from the long-line phase and
 * the expected level. The reader refuses -- value unset, reason given -- when the tube is tilted
 * beyond the limit, the camera is not level with the meniscus (the far rim of the surface shows),
 * glare covers the meniscus, bubbles or foam crowd the surface, or the pattern is not clear.
 * The OpenCV wrapper is not needed: everything works on the core image buffer. */
#ifndef MTB_VISION_MENISCUS_H
#define MTB_VISION_MENISCUS_H

#include "core/err.h"
#include "core/image.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the reader needs of the vessel (bench fills it from calibration's vessel type, so that
 * vision does not depend on calibration). */
struct mtb_meniscus_scale {
	int divisions;           /* lines 0 ... divisions */
	int long_every;          /* every long_every-th line (from 0) is long */
	double expected_div;     /* where the level should be (the nominal line): resolves the line
				    numbers when neither end of the scale is in view */
	bool read_top;           /* opaque liquid: read the top edge (not implemented: refused) */
	double neck_radius_div;  /* the tube's inner radius in divisions (parallax estimate) */
	double max_tilt_deg;     /* 0: 1.0 degree */
	double max_parallax_div; /* 0: 0.05 division */
};

struct mtb_meniscus_reading {
	bool refused;
	double level_div;        /* meniscus bottom, divisions from line 0 (valid unless refused) */
	double confidence;       /* [0, 1] */
	char reason[128];        /* why refused */
	/* diagnostics */
	double period_px;        /* spacing of the lines */
	double tilt_deg;         /* the tube's axis against the image's vertical */
	double parallax_div;     /* estimated parallax error (0 when no rim seen) */
	int n_lines;             /* lines found */
	double fit_rms_px;       /* residual of the lattice through the lines */
	double meniscus_y_px;    /* the meniscus bottom's row on the axis */
	double elevation_deg;    /* the camera above (+) or below (-) the meniscus, from the lines' curvature */
	int elevation_lines;     /* lines that gave the curvature */
	double parallax_corr_div; /* the correction applied to level_div for the elevation */
};

/* Reads one image of a neck. MTB_OK with out->refused set when the reading is unsafe; a
 * negative code only for bad arguments (an image too small to hold a scale: MTB_ERR_ARG). */
int mtb_meniscus_read(const struct mtb_image *img, const struct mtb_meniscus_scale *scale,
		      struct mtb_meniscus_reading *out, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
