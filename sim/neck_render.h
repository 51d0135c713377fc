/* meterbench sim: the neck renderer -- a measuring can's neck or a cylinder's tube, with its
 * graduation lines and the water standing at a known level, as a camera beside it sees it.
 *
 * Draws, with cairo: a lit backdrop, the glass tube (walls, a vertical highlight), the scale
 * printed on its front face (short and long lines, numbers on the numbered lines), the liquid
 * (clear, tinted or opaque) below a concave meniscus whose lowest point stands at the level,
 * the dark band refraction makes of the meniscus, the water's refraction of the backdrop, and
 * the nuisances that make a reading unsafe or hard: a camera above or below the meniscus
 * (parallax: the surface is seen as an ellipse and the meniscus shifts against the lines), a
 * tilted view, glare, bubbles and foam, uneven light, blur and noise.
 *
 * Determinism: every random choice comes from opts->seed; the same vessel, level and options
 * give the same pixels on the same machine. No shared state. */
#ifndef MTB_SIM_NECK_RENDER_H
#define MTB_SIM_NECK_RENDER_H

#include "calibration/vessel.h"
#include "core/err.h"
#include "core/image.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mtb_neck_liquid { MTB_LIQUID_WATER = 0, MTB_LIQUID_TINTED, MTB_LIQUID_OPAQUE, MTB_LIQUID_COUNT };

struct mtb_neck_render_opts {
	int width_px, height_px;  /* 0: 240 x 480 */
	uint64_t seed;
	double nuisance;          /* 0: clean, level, even light; 1: the full range of light, blur, noise,
				     small tilt and small parallax that a good set-up still leaves */
	int liquid;               /* enum mtb_neck_liquid, or -1 drawn from the seed */
	double camera_level_deg;  /* how well the camera is levelled to the meniscus: the residual
				     elevation is drawn within +-this x nuisance; 0 = 0.2 degree */
	/* Faults a reader must refuse (0 = none): */
	double tilt_deg;          /* rotation of the view about the optical axis */
	double parallax_deg;      /* camera elevation above (+) or below (-) the meniscus */
	double glare;             /* 0-1: a saturated reflection over the meniscus */
	double foam;              /* 0-1: bubbles and foam at the surface */
};

struct mtb_neck_truth {
	double level_div;         /* the lowest point of the meniscus, in divisions from line 0 */
	double px_per_div;        /* scale spacing in the image (before tilt) */
	double first_div;         /* divisions shown: the lowest and highest visible lines */
	double last_div;
	int liquid;
	double tilt_deg, parallax_deg;
	double parallax_err_div;  /* where a reader that ignores parallax would read, minus the truth */
};

/* Renders the neck of vessel `v` with the meniscus bottom at level_div divisions (on [-0.5,
 * divisions + 0.5]) into a new BGR image (*out, free with mtb_image_destroy). The view shows
 * the whole scale when it fits at a readable spacing (at least 12 px a division), else a
 * window of about 24 divisions around the level. truth may be NULL. */
int mtb_neck_render(const struct mtb_vessel *v, double level_div, const struct mtb_neck_render_opts *opts,
		    struct mtb_image **out, struct mtb_neck_truth *truth, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
