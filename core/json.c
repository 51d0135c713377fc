#include "core/json.h"

#include "core/decimal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t utf8_len(const unsigned char *s)
{
	unsigned char b = s[0];
	size_t k;
	if (b < 0x80)
		return 1;
	if ((b & 0xE0) == 0xC0 && b >= 0xC2)
		k = 2;
	else if ((b & 0xF0) == 0xE0)
		k = 3;
	else if ((b & 0xF8) == 0xF0 && b <= 0xF4)
		k = 4;
	else
		return 0;
	for (size_t j = 1; j < k; j++)
		if ((s[j] & 0xC0) != 0x80)
			return 0;
	return k;
}

void mtb_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			p++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			default: fprintf(f, "\\u%04x", c); break;
			}
			p++;
		} else {
			size_t n = utf8_len(p);
			if (n == 0) {
				fputs("\xEF\xBF\xBD", f);
				p++;
			} else {
				fwrite(p, 1, n, f);
				p += n;
			}
		}
	}
	fputc('"', f);
}

void mtb_json_double(FILE *f, double v)
{
	if (!isfinite(v)) {
		fputs("null", f);
		return;
	}
	/* 15 significant digits: as many as a double always carries, so binary noise such as
	 * 25.000000000000004 prints as 25.0; %g drops trailing zeros and avoids exponents
	 * between 1e-5 and 1e15. */
	char buf[64];
	snprintf(buf, sizeof buf, "%.15g", v);
	fputs(buf, f);
	if (!strpbrk(buf, ".eEn"))
		fputs(".0", f);
}

void mtb_json_fixed(FILE *f, int64_t value, unsigned scale)
{
	char buf[64];
	mtb_decimal_format(buf, sizeof buf, value, scale, 1);
	fputs(buf, f);
}
