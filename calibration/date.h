/* meterbench calibration: calendar dates of certificates ("2027-05-01"), as day numbers. */
#ifndef MTB_CALIBRATION_DATE_H
#define MTB_CALIBRATION_DATE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parses exactly YYYY-MM-DD (proleptic Gregorian, years 1900-9999) into days since 1970-01-01.
 * MTB_ERR_ARG for anything else, including 2026-02-30. */
int mtb_date_parse(const char *text, int32_t *days);

/* Writes YYYY-MM-DD for a day number; buf needs 11 bytes. */
void mtb_date_format(int32_t days, char buf[11]);

/* Today in UTC as a day number, from a wall-clock time in seconds since the epoch. */
int32_t mtb_date_from_unix(int64_t unix_s);

#ifdef __cplusplus
}
#endif
#endif
