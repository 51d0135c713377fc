/* meterbench vision: a whole register -- rollers and pointers fused into one volume.
 *
 * Steps, each usable on its own:
 *   1. mtb_register_align: finds the face in a frame (offset, scale, rotation, slight
 *      perspective) as a homography from face units (vision/layout.h) to pixels;
 *      mtb_register_align_next does the same for a camera's next frame, searching near the
 *      previous frame's pose first.
 *   2. mtb_register_crop: cuts one element's crop (mtb_layout_crop_rect) through that homography;
 *      a pointer's crop is then re-centred on its hub by the sub-dial's rim when the layout gives
 *      one (mtb_register_crop_pointers).
 *   3. the element readers (mtb_vision_read_digit / mtb_vision_read_needle, or any other through
 *      struct mtb_register_readers) give each element a position on [0, 10) and a confidence.
 *   4. mtb_register_fuse: the positions become one volume in integer microlitres. Digits are
 *      never rounded on their own: working up from the finest pointer, each element's digit is
 *      the one whose expected position (given everything below it and the layout's drive rule)
 *      is nearest to what was read, so a roller caught between 2 and 3 is settled by the wheel
 *      or pointer below it, and a pointer just past 0 means the digit above has just turned.
 *      A reading that does not fit its expected position within the tolerance is refused.
 *   5. mtb_register_check_flow: the reading against the previous one and the reference flow.
 *   6. mtb_register_combine: several frames into one reading (median after moving each to a
 *      common instant with the reference flow), refused when the frames disagree.
 * A confident wrong reading is the worst outcome: every doubtful case refuses, with a reason. */
#ifndef MTB_VISION_REGISTER_H
#define MTB_VISION_REGISTER_H

#include "core/err.h"
#include "core/image.h"
#include "vision/layout.h"
#include "vision/vision.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A reading of the whole register. */
struct mtb_register_result {
	bool refused;
	char reason[160];                  /* why it was refused */
	int64_t volume_ul;                 /* the indicated volume, within [0, range) */
	int64_t resolution_ul;             /* a tenth of the finest division */
	double confidence;                 /* [0, 1] */
	int64_t t_mono_us;                 /* the frame's instant (0 when unknown) */
	int n_elements;
	struct mtb_reading element[MTB_LAYOUT_MAX_ELEMENTS];   /* what each reader said */
	int digit[MTB_LAYOUT_MAX_ELEMENTS];                    /* the digit each element was given */
	double residual[MTB_LAYOUT_MAX_ELEMENTS];              /* |read - expected| on the circle */
};

struct mtb_register_fuse_opts {
	double max_residual;        /* divisions a pointer may be off the position the pointer below
				       calls for (0.25) */
	double min_confidence;      /* each element's reader confidence at least this (0.5) */
	double max_residual_roller; /* divisions a roller may be off the position the element below
				       calls for (0.2; rollers are read to a tenth) */
	double min_register_confidence;   /* the register's confidence (the weakest element's, less
					     half the worst fit's share of its tolerance) at least
					     this (0.5) */
	double min_roll_confidence; /* a roller its reader refused only for a low confidence
				       (struct mtb_reading.low_confidence) is still used when the
				       element below puts it between two digits (0.2 to 0.8 of the
				       way) and it stands within +-0.5 of its reading with at least
				       this probability (within_half; 0.9); 0: never */
};
#define MTB_REGISTER_FUSE_DEFAULTS { 0.25, 0.5, 0.2, 0.5, 0.9 }
/* The rules before the tolerances per element kind and the register confidence floor (one
 * tolerance of 0.35 for every element), for comparisons. */
#define MTB_REGISTER_FUSE_BEFORE { 0.35, 0.5, 0.35, 0.0, 0.0 }

/* Fuses one reading per element (rollers then pointers, as in the layout) into out. Never
 * fails on content: a refused element, a low confidence or an inconsistent chain gives
 * out->refused with a reason. MTB_ERR_ARG only for a NULL or wrongly sized input. */
int mtb_register_fuse(const struct mtb_layout *l, const struct mtb_reading *elements, int n,
		      const struct mtb_register_fuse_opts *o, struct mtb_register_result *out);

/* The previous accepted reading and the reference flow since, for the plausibility check. */
struct mtb_register_prior {
	int64_t volume_ul;
	int64_t t_mono_us;
	double flow_lph;            /* reference flow between the two instants */
	double tol_rel;             /* allowed deviation as a share of the expected change (e.g. 0.05) */
	int64_t tol_ul;             /* plus this much (reading resolution, flow unsteadiness) */
};

/* Refuses (sets r->refused and the reason; returns MTB_ERR_REFUSED) a reading that moved
 * otherwise than the reference flow says since the prior, counting the register's turn-over at
 * the layout's range. MTB_OK when plausible or already refused is left alone. */
int mtb_register_check_flow(const struct mtb_layout *l, const struct mtb_register_prior *prior,
			    struct mtb_register_result *r);

struct mtb_register_combine_opts {
	double flow_lph;            /* reference flow during the frames (0 at standstill) */
	int64_t t_ref_us;           /* the instant the combined reading stands for */
	int64_t tol_ul;             /* frames agree when within this of the median (after the flow) */
	int min_agree;              /* at least this many frames must agree (0: a majority of n) */
	int max_disagree;           /* accepted frames allowed outside the tolerance (0) */
};

/* Combines n frame readings (each with its t_mono_us) into out, standing for t_ref_us. Refused
 * when fewer than min_agree frames agree or more than max_disagree accepted frames disagree. */
int mtb_register_combine(const struct mtb_layout *l, const struct mtb_register_result *frames, int n,
			 const struct mtb_register_combine_opts *o, struct mtb_register_result *out);

/* ---- pixels ---- */

/* Face units -> pixels, as struct mtb_dial_truth's face_to_px (row-major 3 x 3). */
struct mtb_register_pose {
	double h[9];
	double score;               /* mean edge energy on the layout's expected edges, over the
				       frame's mean edge energy; 0 when no face was found */
	bool near;                  /* found near the previous frame's pose by
				       mtb_register_align_next (false: by the full search) */
};

/* Finds the face of layout l in img (any channels). The face is expected to fill 50-100 % of
 * the shorter side, within 15 degrees of upright. MTB_ERR_REFUSED with a reason in eb when no
 * pose fits the layout's edges well enough (score below 2). A full search every call; for a
 * camera's sequence of frames use an aligner and mtb_register_align_near. */
int mtb_register_align(const struct mtb_layout *l, const struct mtb_image *img, struct mtb_register_pose *pose,
		       struct mtb_errbuf *eb);

/* An aligner for one camera's frames: the model of the face's edges, the working planes (frames
 * of one size allocate nothing after the first) and what it found on the camera's last frame.
 * One per camera and thread; never shared between threads. */
struct mtb_register_aligner;
int mtb_register_aligner_create(const struct mtb_layout *l, struct mtb_register_aligner **out, struct mtb_errbuf *eb);
void mtb_register_aligner_destroy(struct mtb_register_aligner *a);

/* Finds the face in the camera's next frame, as mtb_register_align, looking first near the pose
 * found on the frame before: a local search of all eight pose parameters from there on the
 * ~240 px plane. That pose is kept (pose->near true) only when the edges under it still look as
 * they did on the frame before: mean edge energy at least 2 x the frame's and at least 0.85 of the
 * previous frame's, edge energy at the model's points correlated with the previous frame's at
 * 0.8 or more (the same face in the same light), and the face centre moved by less than 4 % of
 * the frame's shorter side. Otherwise, and on the first frame, after a frame where no face was
 * found, and after mtb_register_aligner_forget, the full search of mtb_register_align runs. */
int mtb_register_align_next(struct mtb_register_aligner *a, const struct mtb_image *img, struct mtb_register_pose *pose,
			    struct mtb_errbuf *eb);

/* The next frame is searched in full (a meter was changed, the camera was moved). */
void mtb_register_aligner_forget(struct mtb_register_aligner *a);

/* Cuts element i's crop (mtb_layout_crop_rect) from img through pose into a new BGR image of
 * w x h pixels (0, 0: the renderer's defaults, roller 60 high, pointer 64 x 64). */
int mtb_register_crop(const struct mtb_layout *l, const struct mtb_image *img, const struct mtb_register_pose *pose,
		      int i, int w, int h, struct mtb_image **out, struct mtb_errbuf *eb);

/* Every pointer's crop (crops[k] for pointer k: new images of the renderer's size, 64 x 64) as
 * mtb_register_read_next cuts them: through pose, and for a pointer whose sub-dial has a rim
 * (struct mtb_layout_pointer.rim) re-centred on its hub: the centre, within 0.16 crop sides of
 * the crop's own, about which the grey-level gradient across the rim's circle is strongest, when
 * that circle stands out (1.5 x the mean over the searched centres). With three or more hubs
 * found the moves must agree: the largest group within 0.07 crop sides of one of them sets the
 * consensus, and a move outside it or a pointer whose rim was not found takes the consensus (no
 * move when no two agree). moves_px[k] (may be NULL) gets how far each crop was moved, in crop
 * pixels. On an error no crop is left. */
int mtb_register_crop_pointers(const struct mtb_layout *l, const struct mtb_image *img,
			       const struct mtb_register_pose *pose, struct mtb_image **crops, int (*moves_px)[2],
			       struct mtb_errbuf *eb);

/* Every roller's crop (crops[k] for roller k: new images of the renderer's size, 60 high) as
 * mtb_register_read_next cuts them: through pose, and for a roller whose window has a frame line
 * (struct mtb_layout_roller.frame) moved vertically onto its window: the move, within 0.15 crop
 * widths, at which the line response along the windows' top and bottom sides, added over the
 * rollers, is strongest, when it stands out (1.5 x the mean over the searched moves); each
 * roller then takes its own best within 0.05 crop widths of it when that stands out too. Along x
 * no crop moves. moves_px[k] (may be NULL) gets how far each crop was moved, in crop pixels. On
 * an error no crop is left. */
int mtb_register_crop_rollers(const struct mtb_layout *l, const struct mtb_image *img,
			      const struct mtb_register_pose *pose, struct mtb_image **crops, int (*moves_px)[2],
			      struct mtb_errbuf *eb);

/* The element readers, so the register can run on any of them (the CNN, a classical reader, a
 * test double). Each returns MTB_OK with out->refused set when it declines. A register is read
 * by the batch readers when given (all roller crops in one call, all pointer crops in another:
 * mtb_vision_read_digits / mtb_vision_read_needles), else crop by crop. */
struct mtb_register_readers {
	int (*read_digit)(void *user, const struct mtb_image *crop, struct mtb_reading *out);
	int (*read_needle)(void *user, const struct mtb_image *crop, struct mtb_reading *out);
	void *user;
	int (*read_digits)(void *user, const struct mtb_image *const *crops, int n, struct mtb_reading *out);
	int (*read_needles)(void *user, const struct mtb_image *const *crops, int n, struct mtb_reading *out);
	/* Optional, with read_needles: reads the pointers the fusion only checks (every pointer but
	 * the finest element: each has to show which digit it stands at, within the tolerance of
	 * mtb_register_fuse, not a tenth), e.g. mtb_vision_check_needles. The finest pointer is then
	 * read alone by read_needles. */
	int (*check_needles)(void *user, const struct mtb_image *const *crops, int n, struct mtb_reading *out);
};

/* Align, crop, read every element, fuse. out->refused (with the reason) when any step declines;
 * an error code only for bad arguments or memory. */
int mtb_register_read(const struct mtb_layout *l, const struct mtb_image *img, const struct mtb_register_readers *rd,
		      const struct mtb_register_fuse_opts *o, struct mtb_register_result *out, struct mtb_errbuf *eb);

/* mtb_register_read for one camera's sequence of frames: aligned by mtb_register_align_next with
 * a (whose layout is used). pose_out (may be NULL) gets the pose (score 0 when none was found). */
int mtb_register_read_next(struct mtb_register_aligner *a, const struct mtb_image *img,
			   const struct mtb_register_readers *rd, const struct mtb_register_fuse_opts *o,
			   struct mtb_register_result *out, struct mtb_register_pose *pose_out, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
