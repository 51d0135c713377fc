/* meterbench audit verify: proof that recorded results were not altered. */
#include "cli.h"
#include "commands.h"

#include "bench/records.h"
#include "core/json.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char MTB_CMD_AUDIT_USAGE[] =
	"usage: meterbench audit verify --db FILE\n"
	"\n"
	"Re-walks the hash-chained audit log of a records file, re-derives every recorded point\n"
	"(results, reference samples, dial readings) and session header from the tables and\n"
	"compares them with what the log sealed, and re-hashes every evidence image. Prints one\n"
	"JSON object: {\"ok\":true,\"entries\":N,\"points\":N,\"evidence\":N} or, when anything was\n"
	"altered, {\"ok\":false,\"first_bad_entry\":SEQ,\"problem\":\"...\"} and exit status 1.\n";

static const char *const CMD = "audit";

int mtb_cmd_audit(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "verify") != 0)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: expected 'verify' (see: meterbench help audit)", CMD);
	struct mtb_cli_opt opts[] = { { "db", true, 0 }, { 0 } };
	const char *pos[1];
	int n_pos, rc;
	if ((rc = mtb_cli_parse("audit verify", argc - 1, argv + 1, opts, pos, 0, &n_pos)) != 0)
		return rc;
	const char *db = mtb_cli_get(opts, "db");
	if (!db)
		return mtb_cli_error(MTB_EXIT_USAGE, "audit verify: missing --db");
	/* Opening creates a file; an auditor's typo must not create an empty, "verified" one. */
	if (access(db, R_OK) != 0)
		return mtb_cli_error(MTB_EXIT_USAGE, "audit verify: --db: cannot read '%s'", db);
	struct mtb_records *r;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_records_open(db, &r, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "audit verify: %s", eb.msg);
	struct mtb_audit_report rep;
	rc = mtb_records_audit_verify(r, &rep, &eb);
	mtb_records_close(r);
	if (rc == MTB_OK) {
		printf("{\"ok\":true,\"entries\":%lld,\"points\":%lld,\"evidence\":%lld", (long long)rep.entries,
		       (long long)rep.points, (long long)rep.evidence);
		if (rep.can_records)   /* measuring cans: runs and results */
			printf(",\"can_records\":%lld", (long long)rep.can_records);
		printf("}\n");
		return MTB_EXIT_OK;
	}
	if (rc != MTB_ERR_PROTO)
		return mtb_cli_error(MTB_EXIT_FAIL, "audit verify: %s", eb.msg);
	printf("{\"ok\":false,\"first_bad_entry\":%lld,\"problem\":", (long long)rep.first_bad_seq);
	mtb_json_string(stdout, rep.problem);
	printf("}\n");
	return MTB_EXIT_FAIL;
}
