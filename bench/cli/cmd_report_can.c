/* meterbench report on a measuring-can session: results.json and certificate.pdf regenerated
 * from the records alone -- the plan as it was run (its uncertainty inputs), the vessel type,
 * the completed runs (balance full and empty, meniscus level, water and air conditions), the
 * neck frame of each run and the bench time -- through the same arithmetic and writers as
 * meterbench run. The regenerated results.json must equal, byte for byte, the one the run
 * recorded with its series (can_results); when it does not (a vessel file changed since, an
 * altered record) nothing is written and the difference is the error. docs/cans.md. */
#include "cli.h"
#include "commands.h"

#include "bench/can_plan.h"
#include "bench/can_report.h"
#include "bench/records.h"
#include "core/file_out.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const CMD = "report";

/* The first line of difference between two texts, for the error message. */
static void first_difference(const char *a, const char *b, char *out, size_t n)
{
	size_t i = 0;
	while (a[i] && a[i] == b[i])
		i++;
	size_t from = i > 40 ? i - 40 : 0;
	snprintf(out, n, "at byte %zu: recorded '...%.80s', regenerated '...%.80s'", i, b + from, a + from);
}

int mtb_cmd_report_can(struct mtb_records *rec, const char *sid, const char *out)
{
	struct mtb_errbuf eb = { { 0 } };
	struct mtb_can_view *cv;
	int rc = mtb_records_can_load(rec, sid, &cv, &eb);
	if (rc != MTB_OK)
		return mtb_cli_error(rc == MTB_ERR_NOTFOUND ? MTB_EXIT_USAGE : MTB_EXIT_FAIL, "%s: --session: %s", CMD, eb.msg);
	if (strcmp(cv->status, "complete") != 0 || !cv->result_json) {
		int n = cv->n_runs;
		char status[16];
		snprintf(status, sizeof status, "%s", cv->status);
		mtb_records_can_view_free(cv);
		return mtb_cli_error(MTB_EXIT_USAGE,
				     "%s: --session: can session %s is %s with %d runs recorded and no series: its "
				     "certificate is the one meterbench run wrote (the abort reason is not in the records)",
				     CMD, sid, status, n);
	}
	char origin[96];
	snprintf(origin, sizeof origin, "records: session %s: plan", sid);
	struct mtb_can_plan_file pf;
	if (mtb_can_plan_parse(cv->plan_text, strlen(cv->plan_text), origin, &pf, &eb) != MTB_OK) {
		mtb_records_can_view_free(cv);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
	}
	struct mtb_vessel v;
	if (mtb_vessel_load(cv->vessel, &v, &eb) != MTB_OK) {
		mtb_records_can_view_free(cv);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: session %s: vessel '%s': %s", CMD, sid, cv->vessel, eb.msg);
	}
	struct mtb_can_result *res = calloc(1, sizeof *res);
	if (!res) {
		mtb_records_can_view_free(cv);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: out of memory", CMD);
	}
	res->state = MTB_CAN_DONE;
	res->n_runs = cv->n_runs < MTB_CAN_MAX_RUNS ? cv->n_runs : MTB_CAN_MAX_RUNS;
	for (int i = 0; i < res->n_runs; i++) {
		const struct mtb_can_run_record *u = &cv->runs[i];
		res->runs[i] = (struct mtb_can_run){ u->full_mg, u->empty_mg, u->water_temp_c, u->air_temp_c,
						     u->p_hpa, u->rh_pct, u->level_div };
		snprintf(res->evidence_sha256[i], sizeof res->evidence_sha256[i], "%s", cv->evidence_sha256[i]);
	}
	/* the run recorded bench_time_us / 1e6 as a double: llround gives the microseconds back */
	res->bench_time_us = cv->bench_time_s > 0 ? llround(cv->bench_time_s * 1e6) : 0;
	if (mtb_can_series_compute(&v, res->runs, res->n_runs, &pf.plan.u, &res->series, &eb) != MTB_OK) {
		free(res);
		mtb_records_can_view_free(cv);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: session %s: %s", CMD, sid, eb.msg);
	}

	/* what meterbench run printed on the certificate: the day the session started (UTC) */
	char date[16], evidence[160];
	time_t t0 = (time_t)cv->started_unix_s;
	struct tm tmv;
	gmtime_r(&t0, &tmv);
	strftime(date, sizeof date, "%Y-%m-%d", &tmv);
	snprintf(evidence, sizeof evidence, "records.sqlite, session %s", sid);
	struct mtb_can_report_info info = { cv->serial, "", cv->operator_name, date, evidence };

	char *json = NULL;
	size_t json_len = 0;
	FILE *mf = open_memstream(&json, &json_len);
	if (!mf || mtb_can_report_write_json(&v, res, &info, mf) != MTB_OK || fclose(mf) != 0) {
		free(json);
		free(res);
		mtb_records_can_view_free(cv);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: out of memory", CMD);
	}
	if (strcmp(json, cv->result_json) != 0) {
		char diff[300];
		first_difference(json, cv->result_json, diff, sizeof diff);
		free(json);
		free(res);
		mtb_records_can_view_free(cv);
		return mtb_cli_error(MTB_EXIT_FAIL,
				     "%s: session %s: the results regenerated from the records differ from those recorded "
				     "(vessel file or records changed since the run?) %s",
				     CMD, sid, diff);
	}
	char path[1200], tmp[1300];
	snprintf(path, sizeof path, "%s/results.json", out);
	int wrc = mtb_file_out_tmp(path, tmp, sizeof tmp);
	FILE *f = wrc == MTB_OK ? fopen(tmp, "w") : NULL;
	bool ok = f && fwrite(json, 1, json_len, f) == json_len;
	if (f)
		ok = fclose(f) == 0 && ok;
	free(json);
	if (f)
		wrc = mtb_file_out_commit(tmp, path, ok, &eb);
	if (!f || wrc != MTB_OK) {
		free(res);
		mtb_records_can_view_free(cv);
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s: cannot write", CMD, path);
	}
	snprintf(path, sizeof path, "%s/certificate.pdf", out);
	wrc = mtb_can_report_write_pdf(&v, res, &info, path, &eb);
	free(res);
	mtb_records_can_view_free(cv);
	if (wrc != MTB_OK)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
	printf("%s\n", path);
	return MTB_EXIT_OK;
}
