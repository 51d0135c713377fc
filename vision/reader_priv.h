/* meterbench vision, private: how a reader turns the network's probabilities into a reading or
 * a refusal. Pure C, no OpenCV; unit-tested with made-up distributions. */
#ifndef MTB_VISION_READER_PRIV_H
#define MTB_VISION_READER_PRIV_H

#include "vision/vision.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The networks' outputs: classes 0..99 are the position on the circle of 10 in tenths,
 * class 100 is "no digit / no pointer here". */
#define MTB_READER_TENTHS 100
#define MTB_READER_CLASSES 101

/* Input sizes (width x height, 3 channels BGR); scripts/vision_data.py trains with the same. */
#define MTB_DIGIT_W 20
#define MTB_DIGIT_H 32
#define MTB_NEEDLE_W 40
#define MTB_NEEDLE_H 40
/* The larger of the two, for buffers. */
#define MTB_READER_MAX_PIXELS (MTB_DIGIT_W * MTB_DIGIT_H > MTB_NEEDLE_W * MTB_NEEDLE_H ? \
			       MTB_DIGIT_W * MTB_DIGIT_H : MTB_NEEDLE_W * MTB_NEEDLE_H)

/* Smallest crop worth reading: below this a digit or pointer cannot be resolved. */
#define MTB_READER_MIN_SIDE 8

/* The refusal rules (reader.c explains each). */
struct mtb_reader_rules {
	double min_confidence;   /* probability within +-0.2 of the reading */
	double max_other_mode;   /* mass of a second peak more than one digit away */
	double max_reject;       /* probability of "nothing readable here" */
	const char *what;        /* "digit" or "pointer", for the reasons */
};

extern const struct mtb_reader_rules mtb_reader_digit_rules;
extern const struct mtb_reader_rules mtb_reader_needle_rules;

/* Decides on p[MTB_READER_CLASSES] (non-negative, summing to about 1). Always fills out. */
void mtb_reader_decide(const float *p, const struct mtb_reader_rules *rules, struct mtb_reading *out);

/* The views in which the pointer reader looks at a crop, in the order it reads them: view k is
 * the crop mirrored left to right if mirror[k], then turned quarter_turns[k] quarters clockwise.
 * Writes at most max of them; returns their number. */
int mtb_reader_needle_views(int *quarter_turns, int *mirror, int max);

/* Circular distance between two positions on the circle of 10, in [0, 5]. */
double mtb_reader_circ_dist(double a, double b);

#ifdef __cplusplus
}
#endif
#endif
