/* meterbench bench: text on the certificates (report.c, can_report.c) with Pango on cairo, in
 * the one font that covers Traditional Chinese and English (fonts-noto-cjk). */
#ifndef MTB_BENCH_PDF_TEXT_H
#define MTB_BENCH_PDF_TEXT_H

#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stddef.h>

/* Draws Pango markup at (x, y), wrapped within width points, size_pt high; returns its height. */
double mtb_pdf_text(cairo_t *cr, double x, double y, double width, double size_pt, bool bold, const char *markup,
		    PangoAlignment align);

/* s (NULL as "") escaped for Pango markup into buf; returns buf. */
const char *mtb_pdf_escape(const char *s, char *buf, size_t n);

#endif
