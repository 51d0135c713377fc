/* meterbench bench: the certificate of a measuring can's or cylinder's verification (PDF, zh-TW
 * and English) and its results.json, from the procedure's result (bench/can_procedure.h). */
#ifndef MTB_BENCH_CAN_REPORT_H
#define MTB_BENCH_CAN_REPORT_H

#include "bench/can_procedure.h"
#include "core/err.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Who and where, as printed on the certificate (strings may be empty). */
struct mtb_can_report_info {
	const char *serial;        /* the vessel's serial number */
	const char *lab;           /* the laboratory */
	const char *operator_name;
	const char *date;          /* YYYY-MM-DD */
	const char *evidence;      /* where the neck images are kept, e.g. a folder */
};

/* results.json of one verification: vessel, runs, error, U, budget, verdict. */
int mtb_can_report_write_json(const struct mtb_vessel *v, const struct mtb_can_result *r,
			      const struct mtb_can_report_info *info, FILE *f);

/* One A4 page: vessel, method and formulas, the runs, the result against the MPE with U, the
 * uncertainty budget, the verdict (合格 / 不合格 / 無效), in Traditional Chinese and English. */
int mtb_can_report_write_pdf(const struct mtb_vessel *v, const struct mtb_can_result *r,
			     const struct mtb_can_report_info *info, const char *path, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
