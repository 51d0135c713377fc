#include "vision/layout.h"

#include "core/config.h"
#include "core/decimal.h"
#include "core/yaml_load.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The YAML as libcyaml fills it; numbers are strings converted strictly (mtb_yaml_number). */
struct element_yaml {
	char *x, *y, *w, *h, *frame; /* rollers */
	char *cx, *cy, *r, *rim;   /* pointers */
	char *weight_l;
	char *colour;
};

struct layout_yaml {
	char *name;
	char *description;
	char *size;
	char *radius;
	char *drive;
	struct element_yaml *rollers;
	unsigned rollers_count;
	struct element_yaml *pointers;
	unsigned pointers_count;
};

#define ESTR(key, member, flags) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | (flags), struct element_yaml, member, 1, 64)

static const cyaml_schema_field_t ROLLER_FIELDS[] = {
	ESTR("x", x, 0), ESTR("y", y, 0), ESTR("w", w, 0), ESTR("h", h, 0), ESTR("frame", frame, CYAML_FLAG_OPTIONAL),
	ESTR("weight_l", weight_l, 0), ESTR("colour", colour, CYAML_FLAG_OPTIONAL),
	CYAML_FIELD_END
};
static const cyaml_schema_field_t POINTER_FIELDS[] = {
	ESTR("cx", cx, 0), ESTR("cy", cy, 0), ESTR("r", r, 0), ESTR("rim", rim, CYAML_FLAG_OPTIONAL),
	ESTR("weight_l", weight_l, 0), ESTR("colour", colour, CYAML_FLAG_OPTIONAL),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t ROLLER_ENTRY = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct element_yaml, ROLLER_FIELDS),
};
static const cyaml_schema_value_t POINTER_ENTRY = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct element_yaml, POINTER_FIELDS),
};

#define LSTR(key, member, flags) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | (flags), struct layout_yaml, member, 1, 255)

static const cyaml_schema_field_t LAYOUT_FIELDS[] = {
	LSTR("name", name, 0),
	CYAML_FIELD_STRING_PTR("description", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct layout_yaml,
			       description, 0, CYAML_UNLIMITED),
	LSTR("size", size, 0),
	LSTR("radius", radius, 0),
	LSTR("drive", drive, CYAML_FLAG_OPTIONAL),
	CYAML_FIELD_SEQUENCE("rollers", CYAML_FLAG_POINTER, struct layout_yaml, rollers, &ROLLER_ENTRY, 1,
			     MTB_LAYOUT_MAX_ROLLERS),
	CYAML_FIELD_SEQUENCE("pointers", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct layout_yaml, pointers,
			     &POINTER_ENTRY, 0, MTB_LAYOUT_MAX_POINTERS),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t LAYOUT_SCHEMA = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct layout_yaml, LAYOUT_FIELDS),
};

static int field_err(struct mtb_errbuf *eb, const char *data, const char *origin, const char *key,
		     const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int field_err(struct mtb_errbuf *eb, const char *data, const char *origin, const char *key,
		     const char *field, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	int line = key ? mtb_yaml_key_line(data, key) : 0;
	if (line > 0)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: line %d: field '%s': %s", origin, line, field, why);
	return mtb_errbuf_set(eb, MTB_ERR_ARG, "%s: field '%s': %s", origin, field, why);
}

/* A coordinate inside the face square (0 <= v <= size, or > 0 for sizes). */
static int coord(const char *text, double lo, double hi, double *out)
{
	if (mtb_yaml_number(text, out) != MTB_OK)
		return MTB_ERR_ARG;
	return (*out >= lo && *out <= hi) ? MTB_OK : MTB_ERR_RANGE;
}

static int parse_colour(const char *text, enum mtb_layout_colour *out)
{
	if (!text || strcmp(text, "black") == 0)
		*out = MTB_LAYOUT_BLACK;
	else if (strcmp(text, "red") == 0)
		*out = MTB_LAYOUT_RED;
	else
		return MTB_ERR_ARG;
	return MTB_OK;
}

static int validate(const struct layout_yaml *y, const char *data, const char *origin, struct mtb_layout *l,
		    struct mtb_errbuf *eb)
{
	memset(l, 0, sizeof *l);
	if (strlen(y->name) >= sizeof l->name)
		return field_err(eb, data, origin, "name", "name", "longer than %zu characters", sizeof l->name - 1);
	snprintf(l->name, sizeof l->name, "%s", y->name);
	if (coord(y->size, 1, 100000, &l->size) != MTB_OK)
		return field_err(eb, data, origin, "size", "size", "must be a number within 1-100000, got '%s'", y->size);
	if (coord(y->radius, 0.05 * l->size, 0.5 * l->size, &l->radius) != MTB_OK)
		return field_err(eb, data, origin, "radius", "radius", "must be a number within 5-50 %% of size, got '%s'",
				 y->radius);
	l->drive = MTB_LAYOUT_TRANSFER;
	if (y->drive) {
		if (strcmp(y->drive, "continuous") == 0)
			l->drive = MTB_LAYOUT_CONTINUOUS;
		else if (strcmp(y->drive, "transfer") != 0)
			return field_err(eb, data, origin, "drive", "drive", "must be 'transfer' or 'continuous', got '%s'",
					 y->drive);
	}

	const double s = l->size;
	char field[64];
	l->n_rollers = (int)y->rollers_count;
	for (unsigned i = 0; i < y->rollers_count; i++) {
		const struct element_yaml *e = &y->rollers[i];
		struct mtb_layout_roller *r = &l->rollers[i];
#define RCOORD(member, lo, hi) \
	do { \
		snprintf(field, sizeof field, "rollers[%u].%s", i, #member); \
		if (coord(e->member, lo, hi, &r->member) != MTB_OK) \
			return field_err(eb, data, origin, "rollers", field, "must be a number within %g-%g, got '%s'", \
					 (double)(lo), (double)(hi), e->member); \
	} while (0)
		RCOORD(x, 0, s);
		RCOORD(y, 0, s);
		RCOORD(w, 0.001 * s, s);
		RCOORD(h, 0.001 * s, s);
		if (e->frame)
			RCOORD(frame, 0.01, 0.3);
#undef RCOORD
		if (r->x + r->w > s || r->y + r->h > s) {
			snprintf(field, sizeof field, "rollers[%u]", i);
			return field_err(eb, data, origin, "rollers", field, "window reaches outside the face square");
		}
		snprintf(field, sizeof field, "rollers[%u].weight_l", i);
		if (mtb_decimal_parse(e->weight_l, 6, &r->weight_ul) != MTB_OK || r->weight_ul <= 0)
			return field_err(eb, data, origin, "rollers", field, "must be a positive volume in litres (at least 0.000001), got '%s'",
					 e->weight_l);
		snprintf(field, sizeof field, "rollers[%u].colour", i);
		if (parse_colour(e->colour, &r->colour) != MTB_OK)
			return field_err(eb, data, origin, "rollers", field, "must be 'black' or 'red', got '%s'", e->colour);
	}
	l->n_pointers = (int)y->pointers_count;
	for (unsigned i = 0; i < y->pointers_count; i++) {
		const struct element_yaml *e = &y->pointers[i];
		struct mtb_layout_pointer *p = &l->pointers[i];
#define PCOORD(member, lo, hi) \
	do { \
		snprintf(field, sizeof field, "pointers[%u].%s", i, #member); \
		if (coord(e->member, lo, hi, &p->member) != MTB_OK) \
			return field_err(eb, data, origin, "pointers", field, "must be a number within %g-%g, got '%s'", \
					 (double)(lo), (double)(hi), e->member); \
	} while (0)
		PCOORD(cx, 0, s);
		PCOORD(cy, 0, s);
		PCOORD(r, 0.002 * s, 0.5 * s);
		if (e->rim)
			PCOORD(rim, 0.6, 1.3);
#undef PCOORD
		if (p->cx - p->r < 0 || p->cy - p->r < 0 || p->cx + p->r > s || p->cy + p->r > s) {
			snprintf(field, sizeof field, "pointers[%u]", i);
			return field_err(eb, data, origin, "pointers", field, "sub-dial reaches outside the face square");
		}
		snprintf(field, sizeof field, "pointers[%u].weight_l", i);
		if (mtb_decimal_parse(e->weight_l, 6, &p->weight_ul) != MTB_OK || p->weight_ul <= 0)
			return field_err(eb, data, origin, "pointers", field, "must be a positive volume in litres (at least 0.000001), got '%s'",
					 e->weight_l);
		snprintf(field, sizeof field, "pointers[%u].colour", i);
		if (parse_colour(e->colour, &p->colour) != MTB_OK)
			return field_err(eb, data, origin, "pointers", field, "must be 'black' or 'red', got '%s'", e->colour);
	}

	/* One decade chain: each element counts ten of the next. */
	int n = mtb_layout_elements(l);
	for (int i = 0; i + 1 < n; i++) {
		int64_t a = mtb_layout_weight_ul(l, i), b = mtb_layout_weight_ul(l, i + 1);
		if (a != 10 * b) {
			int j = i + 1;
			if (j < l->n_rollers)
				snprintf(field, sizeof field, "rollers[%d].weight_l", j);
			else
				snprintf(field, sizeof field, "pointers[%d].weight_l", j - l->n_rollers);
			return field_err(eb, data, origin, j < l->n_rollers ? "rollers" : "pointers", field,
					 "must be a tenth of the element before it (%lld uL), got %lld uL", (long long)a,
					 (long long)b);
		}
	}
	int64_t top = mtb_layout_weight_ul(l, 0);
	if (top > INT64_MAX / 100)
		return field_err(eb, data, origin, "rollers", "rollers[0].weight_l", "too large");
	l->range_ul = 10 * top;
	l->finest_ul = mtb_layout_weight_ul(l, n - 1);
	return MTB_OK;
}

int mtb_layout_parse(const char *data, size_t len, const char *origin, struct mtb_layout *out,
		     struct mtb_errbuf *eb)
{
	struct layout_yaml *y;
	int rc = mtb_yaml_load_data(data, len, &LAYOUT_SCHEMA, (void **)&y, eb);
	if (rc != MTB_OK)
		return mtb_errbuf_prefix(eb, rc, "%s", origin);
	rc = validate(y, data, origin, out, eb);
	mtb_yaml_free(&LAYOUT_SCHEMA, y);
	return rc;
}

int mtb_layout_load(const char *path_or_name, struct mtb_layout *out, struct mtb_errbuf *eb)
{
	char path[1024], *buf;
	size_t len;
	int rc = mtb_config_read("layouts", path_or_name, path, sizeof path, &buf, &len, eb);
	if (rc != MTB_OK)
		return rc;
	rc = mtb_layout_parse(buf, len, path, out, eb);
	free(buf);
	return rc;
}

int64_t mtb_layout_weight_ul(const struct mtb_layout *l, int i)
{
	if (i < l->n_rollers)
		return l->rollers[i].weight_ul;
	return l->pointers[i - l->n_rollers].weight_ul;
}

static int64_t mod_pos(int64_t a, int64_t m)
{
	int64_t r = a % m;
	return r < 0 ? r + m : r;
}

double mtb_layout_position(const struct mtb_layout *l, int i, int64_t volume_ul)
{
	int64_t w = mtb_layout_weight_ul(l, i);
	int64_t v = mod_pos(volume_ul, 10 * w);
	bool continuous = i >= l->n_rollers - 1 || l->drive == MTB_LAYOUT_CONTINUOUS;
	if (continuous)
		return (double)v / (double)w;
	double digit = (double)(v / w);
	double below = mtb_layout_position(l, i + 1, volume_ul);
	return digit + (below > 9.0 ? below - 9.0 : 0.0);
}

void mtb_layout_crop_rect(const struct mtb_layout *l, int i, double *x, double *y, double *w, double *h)
{
	if (i < l->n_rollers) {
		const struct mtb_layout_roller *r = &l->rollers[i];
		*x = r->x - 0.12 * r->w;
		*y = r->y - 0.08 * r->h;
		*w = r->w * 1.24;
		*h = r->h * 1.16;
	} else {
		const struct mtb_layout_pointer *p = &l->pointers[i - l->n_rollers];
		*x = p->cx - 1.15 * p->r;
		*y = p->cy - 1.15 * p->r;
		*w = *h = 2.3 * p->r;
	}
}

void mtb_layout_frame_rect(const struct mtb_layout *l, double *x, double *y, double *w, double *h)
{
	double x0 = l->rollers[0].x, y0 = l->rollers[0].y, x1 = x0 + l->rollers[0].w, y1 = y0 + l->rollers[0].h;
	for (int i = 1; i < l->n_rollers; i++) {
		const struct mtb_layout_roller *r = &l->rollers[i];
		x0 = fmin(x0, r->x);
		y0 = fmin(y0, r->y);
		x1 = fmax(x1, r->x + r->w);
		y1 = fmax(y1, r->y + r->h);
	}
	double m = MTB_LAYOUT_FRAME_MARGIN * l->rollers[0].h;
	*x = x0 - m;
	*y = y0 - m;
	*w = x1 - x0 + 2 * m;
	*h = y1 - y0 + 2 * m;
}
