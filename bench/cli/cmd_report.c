/* meterbench report: results.json, results.csv and the PDF certificates of a recorded session. */
#include "cli.h"
#include "commands.h"

#include "bench/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char MTB_CMD_REPORT_USAGE[] =
	"usage: meterbench report --db FILE [--session ID] --out DIR\n"
	"\n"
	"Writes DIR/results.json, DIR/results.csv and DIR/report.pdf (one page per meter, zh-TW and\n"
	"English) for a session of a records file, by default its newest. A dispute appraisal also\n"
	"gets report-customer.pdf and report-utility.pdf. Everything is drawn from the records, so an\n"
	"auditor regenerates the same numbers.\n";

int mtb_cmd_report(int argc, char **argv)
{
	struct mtb_cli_opt opts[] = { { "db", true, 0 }, { "session", true, 0 }, { "out", true, 0 }, { 0 } };
	const char *pos[1];
	int n_pos, rc;
	if ((rc = mtb_cli_parse("report", argc, argv, opts, pos, 0, &n_pos)) != 0)
		return rc;
	const char *db = mtb_cli_get(opts, "db"), *out = mtb_cli_get(opts, "out");
	if (!db)
		return mtb_cli_error(MTB_EXIT_USAGE, "report: missing --db");
	if (!out)
		return mtb_cli_error(MTB_EXIT_USAGE, "report: missing --out");
	if (access(db, R_OK) != 0)
		return mtb_cli_error(MTB_EXIT_USAGE, "report: --db: cannot read '%s'", db);
	if (mkdir(out, 0777) != 0 && errno != EEXIST)
		return mtb_cli_error(MTB_EXIT_FAIL, "report: --out: cannot create '%s': %s", out, strerror(errno));

	struct mtb_records *r;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_records_open(db, &r, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "report: %s", eb.msg);
	char id[MTB_SESSION_ID_LEN + 1];
	const char *sid = mtb_cli_get(opts, "session");
	if (!sid) {
		if (mtb_records_last_session(r, id, &eb) != MTB_OK) {
			mtb_records_close(r);
			return mtb_cli_error(MTB_EXIT_USAGE, "report: %s: %s", db, eb.msg);
		}
		sid = id;
	}
	/* A measuring-can session has runs, not meter points: its results.json and certificate.pdf
	 * are written by meterbench run; a water-meter report of it would say nothing true. */
	int can_runs = 0, can_bal = 0, can_men = 0;
	if (mtb_records_can_counts(r, sid, &can_runs, &can_bal, &can_men, &eb) == MTB_OK && can_runs + can_bal + can_men > 0) {
		mtb_records_close(r);
		return mtb_cli_error(MTB_EXIT_USAGE,
				     "report: --session: %s is a measuring-can session (%d runs recorded): its results.json and "
				     "certificate.pdf come from meterbench run; regenerating them from the records is not implemented",
				     sid, can_runs);
	}
	struct mtb_session_view *s;
	rc = mtb_records_session_load(r, sid, &s, &eb);
	mtb_records_close(r);
	if (rc != MTB_OK)
		return mtb_cli_error(rc == MTB_ERR_NOTFOUND ? MTB_EXIT_USAGE : MTB_EXIT_FAIL, "report: --session: %s", eb.msg);
	rc = mtb_report_write_all(s, out, &eb);
	free(s);
	if (rc != MTB_OK)
		return mtb_cli_error(MTB_EXIT_FAIL, "report: %s", eb.msg);
	printf("%s/report.pdf\n", out);
	return MTB_EXIT_OK;
}
