#include "bench/pdf_text.h"

#include <stdio.h>

static const char *const FONT = "Noto Sans CJK TC";

double mtb_pdf_text(cairo_t *cr, double x, double y, double width, double size_pt, bool bold, const char *markup,
		    PangoAlignment align)
{
	PangoLayout *l = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string(FONT);
	pango_font_description_set_absolute_size(fd, size_pt * PANGO_SCALE);
	if (bold)
		pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
	pango_layout_set_font_description(l, fd);
	pango_layout_set_width(l, (int)(width * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(l, align);
	pango_layout_set_markup(l, markup, -1);
	cairo_move_to(cr, x, y);
	pango_cairo_show_layout(cr, l);
	int w, h;
	pango_layout_get_pixel_size(l, &w, &h);
	pango_font_description_free(fd);
	g_object_unref(l);
	return h;
}

const char *mtb_pdf_escape(const char *s, char *buf, size_t n)
{
	char *e = g_markup_escape_text(s ? s : "", -1);
	snprintf(buf, n, "%s", e);
	g_free(e);
	return buf;
}
