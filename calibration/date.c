#include "calibration/date.h"

#include "core/err.h"

#include <stdbool.h>
#include <stdio.h>

/* Days from civil date and back: the well-known era-based algorithm for the proleptic
 * Gregorian calendar (400-year eras of 146 097 days), written out here. */
static int32_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;                                   /* [0, 399] */
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  /* [0, 365] */
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int32_t z, int *y, int *m, int *d)
{
	z += 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int mtb_date_parse(const char *t, int32_t *days)
{
	if (!t)
		return MTB_ERR_ARG;
	for (int i = 0; i < 10; i++) {
		bool dash = (i == 4 || i == 7);
		if (dash ? t[i] != '-' : (t[i] < '0' || t[i] > '9'))
			return MTB_ERR_ARG;
	}
	if (t[10] != '\0')
		return MTB_ERR_ARG;
	int y = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 + (t[3] - '0');
	int m = (t[5] - '0') * 10 + (t[6] - '0');
	int d = (t[8] - '0') * 10 + (t[9] - '0');
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return MTB_ERR_ARG;
	if (d > mdays[m - 1] + (m == 2 && leap(y)))
		return MTB_ERR_ARG;
	*days = days_from_civil(y, m, d);
	return MTB_OK;
}

void mtb_date_format(int32_t days, char buf[11])
{
	int y, m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, 11, "%04d-%02d-%02d", y % 10000, m, d);
}

int32_t mtb_date_from_unix(int64_t unix_s)
{
	int64_t d = unix_s / 86400;
	if (unix_s < 0 && unix_s % 86400)
		d--;
	return (int32_t)d;
}
