/* Register codec: see reg.h. Pure functions, no I/O. */
#include "hal/reg.h"

#include <math.h>
#include <string.h>

static const char *const TYPE_NAMES[] = { "bool", "int16", "uint16", "int32", "uint32",
					  "int64", "uint64", "float32", "float64" };
static const char *const ORDER_NAMES[] = { "ABCD", "CDAB", "BADC", "DCBA" };

int mtb_reg_words(enum mtb_reg_type type)
{
	switch (type) {
	case MTB_REG_BOOL: return 0;
	case MTB_REG_INT16: case MTB_REG_UINT16: return 1;
	case MTB_REG_INT32: case MTB_REG_UINT32: case MTB_REG_FLOAT32: return 2;
	case MTB_REG_INT64: case MTB_REG_UINT64: case MTB_REG_FLOAT64: return 4;
	}
	return -1;
}

const char *mtb_reg_type_name(enum mtb_reg_type type)
{
	return (unsigned)type < sizeof TYPE_NAMES / sizeof TYPE_NAMES[0] ? TYPE_NAMES[type] : NULL;
}

const char *mtb_reg_order_name(enum mtb_reg_order order)
{
	return (unsigned)order < 4 ? ORDER_NAMES[order] : NULL;
}

int mtb_reg_type_parse(const char *text)
{
	for (unsigned i = 0; i < sizeof TYPE_NAMES / sizeof TYPE_NAMES[0]; i++)
		if (strcmp(text, TYPE_NAMES[i]) == 0)
			return (int)i;
	return -1;
}

int mtb_reg_order_parse(const char *text)
{
	for (unsigned i = 0; i < 4; i++)
		if (strcmp(text, ORDER_NAMES[i]) == 0)
			return (int)i;
	return -1;
}

static bool word_swapped(enum mtb_reg_order o) { return o == MTB_REG_CDAB || o == MTB_REG_DCBA; }
static bool byte_swapped(enum mtb_reg_order o) { return o == MTB_REG_BADC || o == MTB_REG_DCBA; }

/* Registers -> the value's bytes, most significant first, as one unsigned integer. */
static uint64_t gather(enum mtb_reg_order order, const uint16_t *words, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++) {
		uint16_t w = words[word_swapped(order) ? n - 1 - i : i];
		if (byte_swapped(order))
			w = (uint16_t)((w >> 8) | (w << 8));
		v = (v << 16) | w;
	}
	return v;
}

static void scatter(enum mtb_reg_order order, uint64_t v, uint16_t *words, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		uint16_t w = (uint16_t)(v & 0xffff);
		v >>= 16;
		if (byte_swapped(order))
			w = (uint16_t)((w >> 8) | (w << 8));
		words[word_swapped(order) ? n - 1 - i : i] = w;
	}
}

int mtb_reg_decode(enum mtb_reg_type type, enum mtb_reg_order order, const uint16_t *words,
		   struct mtb_reg_raw *out)
{
	int n = mtb_reg_words(type);
	if (n <= 0 || (unsigned)order > MTB_REG_DCBA || !words || !out)
		return MTB_ERR_ARG;
	uint64_t b = gather(order, words, n);
	out->type = type;
	switch (type) {
	case MTB_REG_INT16: out->v.i = (int16_t)(uint16_t)b; break;
	case MTB_REG_UINT16: out->v.u = (uint16_t)b; break;
	case MTB_REG_INT32: out->v.i = (int32_t)(uint32_t)b; break;
	case MTB_REG_UINT32: out->v.u = (uint32_t)b; break;
	case MTB_REG_INT64: out->v.i = (int64_t)b; break;
	case MTB_REG_UINT64: out->v.u = b; break;
	case MTB_REG_FLOAT32: {
		uint32_t u32 = (uint32_t)b;
		float f;
		memcpy(&f, &u32, sizeof f);   /* IEEE 754 binary32, host byte order */
		out->v.f = f;
		break;
	}
	case MTB_REG_FLOAT64: memcpy(&out->v.f, &b, sizeof b); break;
	default: return MTB_ERR_ARG;
	}
	return MTB_OK;
}

int mtb_reg_encode(enum mtb_reg_order order, const struct mtb_reg_raw *raw, uint16_t *words)
{
	if (!raw || !words || (unsigned)order > MTB_REG_DCBA)
		return MTB_ERR_ARG;
	int n = mtb_reg_words(raw->type);
	if (n <= 0)
		return MTB_ERR_ARG;
	uint64_t b;
	switch (raw->type) {
	case MTB_REG_INT16: case MTB_REG_INT32: case MTB_REG_INT64: b = (uint64_t)raw->v.i; break;
	case MTB_REG_UINT16: case MTB_REG_UINT32: case MTB_REG_UINT64: b = raw->v.u; break;
	case MTB_REG_FLOAT32: {
		float f = (float)raw->v.f;
		uint32_t u32;
		memcpy(&u32, &f, sizeof u32);
		b = u32;
		break;
	}
	case MTB_REG_FLOAT64: memcpy(&b, &raw->v.f, sizeof b); break;
	default: return MTB_ERR_ARG;
	}
	if (n < 4)
		b &= (UINT64_C(1) << (16 * n)) - 1;
	scatter(order, b, words, n);
	return MTB_OK;
}

double mtb_reg_to_double(const struct mtb_reg_raw *raw, double scale)
{
	switch (raw->type) {
	case MTB_REG_BOOL: case MTB_REG_INT16: case MTB_REG_INT32: case MTB_REG_INT64:
		return (double)raw->v.i * scale;
	case MTB_REG_UINT16: case MTB_REG_UINT32: case MTB_REG_UINT64:
		return (double)raw->v.u * scale;
	case MTB_REG_FLOAT32: case MTB_REG_FLOAT64:
		return raw->v.f * scale;
	}
	return NAN;
}

int mtb_reg_from_double(enum mtb_reg_type type, double value, double scale, struct mtb_reg_raw *out)
{
	if (!out || !(scale != 0) || !isfinite(scale))
		return MTB_ERR_ARG;
	if (!isfinite(value))
		return MTB_ERR_RANGE;
	double x = value / scale;
	out->type = type;
	switch (type) {
	case MTB_REG_BOOL:
		if (x != 0 && x != 1)
			return MTB_ERR_ARG;
		out->v.i = x != 0;
		return MTB_OK;
	case MTB_REG_FLOAT32:
		if (fabs(x) > 3.4028234663852886e38)
			return MTB_ERR_RANGE;
		out->v.f = x;
		return MTB_OK;
	case MTB_REG_FLOAT64:
		out->v.f = x;
		return MTB_OK;
	default:
		break;
	}
	double r = round(x);
	double lo, hi;   /* inclusive bounds, exactly representable or just inside */
	switch (type) {
	case MTB_REG_INT16: lo = -32768.0; hi = 32767.0; break;
	case MTB_REG_UINT16: lo = 0; hi = 65535.0; break;
	case MTB_REG_INT32: lo = -2147483648.0; hi = 2147483647.0; break;
	case MTB_REG_UINT32: lo = 0; hi = 4294967295.0; break;
	/* 2^63 and 2^64 are exact doubles; values at or above them do not fit. */
	case MTB_REG_INT64: lo = -9223372036854775808.0; hi = nextafter(9223372036854775808.0, 0); break;
	case MTB_REG_UINT64: lo = 0; hi = nextafter(18446744073709551616.0, 0); break;
	default: return MTB_ERR_ARG;
	}
	if (r < lo || r > hi)
		return MTB_ERR_RANGE;
	if (type == MTB_REG_UINT16 || type == MTB_REG_UINT32 || type == MTB_REG_UINT64)
		out->v.u = (uint64_t)r;
	else
		out->v.i = (int64_t)r;
	return MTB_OK;
}
