/* meterbench bench: the outputs of a session, drawn from its records so that an auditor can
 * regenerate them: results.json and results.csv (CONTRACTS.md), and the PDF certificate
 * (cairo + pango + Noto CJK), one page per meter, in Traditional Chinese and English. */
#ifndef MTB_BENCH_REPORT_H
#define MTB_BENCH_REPORT_H

#include "bench/records.h"
#include "core/err.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A meter's overall verdict from its points: "fail" if any point failed (or, under a rule set
 * with the same-sign rule, all errors share a sign and none is within half its MPE), "invalid"
 * if any point is invalid or out of range and none failed, "pass" otherwise; "incomplete" for
 * a meter without points. */
const char *mtb_report_meter_verdict(const struct mtb_meter_view *m, const char *rule_set);

/* results.json as in CONTRACTS.md. */
int mtb_report_write_json(const struct mtb_session_view *s, FILE *f);

/* results.csv: one row per meter and point, a header row first. */
int mtb_report_write_csv(const struct mtb_session_view *s, FILE *f);

/* The PDF certificate of every meter of the session. `copy_for` (NULL for none) is printed on
 * each page: a dispute appraisal makes one copy for the customer and one for the utility. */
int mtb_report_write_pdf(const struct mtb_session_view *s, const char *path, const char *copy_for,
			 struct mtb_errbuf *eb);

/* Writes results.json, results.csv and report.pdf (and, for a dispute, report-customer.pdf
 * and report-utility.pdf) into dir, which must exist. */
int mtb_report_write_all(const struct mtb_session_view *s, const char *dir, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
