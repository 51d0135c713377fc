#include "core/decimal.h"

#include "core/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mtb_decimal_parse(const char *text, unsigned scale, int64_t *out)
{
	if (!text || !out || scale > 12)
		return MTB_ERR_ARG;
	const char *p = text;
	bool neg = false;
	if (*p == '+' || *p == '-')
		neg = (*p++ == '-');

	__int128 v = 0;
	unsigned frac = 0, digits = 0;
	bool seen_point = false, round_up = false, past_scale = false;
	const __int128 limit = (__int128)INT64_MAX;

	for (; *p; p++) {
		if (*p == '.') {
			if (seen_point)
				return MTB_ERR_ARG;
			seen_point = true;
			continue;
		}
		if (*p < '0' || *p > '9')
			return MTB_ERR_ARG;
		digits++;
		if (seen_point && frac >= scale) {
			/* The first dropped digit decides the rounding (half away from zero). */
			if (!past_scale)
				round_up = (*p >= '5');
			past_scale = true;
			continue;
		}
		v = v * 10 + (*p - '0');
		if (seen_point)
			frac++;
		if (v > limit)
			return MTB_ERR_RANGE;
	}
	if (digits == 0)
		return MTB_ERR_ARG;
	for (; frac < scale; frac++) {
		v *= 10;
		if (v > limit)
			return MTB_ERR_RANGE;
	}
	if (round_up)
		v += 1;
	if (v > limit)
		return MTB_ERR_RANGE;
	*out = (int64_t)(neg ? -v : v);
	return MTB_OK;
}

int mtb_decimal_format(char *buf, size_t len, int64_t value, unsigned scale, unsigned min_decimals)
{
	char digits[48];
	unsigned __int128 mag = value < 0 ? (unsigned __int128)(-(__int128)value) : (unsigned __int128)value;
	int n = 0;
	do {
		digits[n++] = (char)('0' + (int)(mag % 10));
		mag /= 10;
	} while (mag || n <= (int)scale);

	char text[64];
	int t = 0;
	if (value < 0)
		text[t++] = '-';
	for (int i = n - 1; i >= (int)scale; i--)
		text[t++] = digits[i];
	if (scale > 0) {
		int last = t;
		text[t++] = '.';
		for (int i = (int)scale - 1; i >= 0; i--)
			text[t++] = digits[i];
		/* Trim trailing zeros, keeping at least min_decimals. */
		int keep = last + 1 + (int)min_decimals;
		while (t > keep && text[t - 1] == '0')
			t--;
		if (t == last + 1)
			t = last;   /* no decimals left: drop the point */
	}
	text[t] = '\0';
	return snprintf(buf, len, "%s", text);
}

int64_t mtb_div_round(__int128 a, int64_t b)
{
	__int128 q = a / b, r = a % b;
	if (2 * (r < 0 ? -r : r) >= b)
		q += (a < 0) ? -1 : 1;
	return (int64_t)q;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int64_t mtb_median_i64(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_i64);
	return n % 2 ? v[n / 2] : mtb_div_round((__int128)v[n / 2 - 1] + v[n / 2], 2);
}
