/* Entry points and usage texts of the subcommands, one pair per cmd_<name>.c. */
#ifndef MTB_CLI_COMMANDS_H
#define MTB_CLI_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

int mtb_cmd_verdict(int argc, char **argv);
extern const char MTB_CMD_VERDICT_USAGE[];

int mtb_cmd_audit(int argc, char **argv);
extern const char MTB_CMD_AUDIT_USAGE[];
int mtb_cmd_report(int argc, char **argv);
extern const char MTB_CMD_REPORT_USAGE[];
struct mtb_records;
/* report on a measuring-can session (cmd_report_can.c): records open, output folder made. */
int mtb_cmd_report_can(struct mtb_records *rec, const char *session_id, const char *out);

int mtb_cmd_serve(int argc, char **argv);
extern const char MTB_CMD_SERVE_USAGE[];

int mtb_cmd_sim(int argc, char **argv);
int mtb_cmd_sim_render(int argc, char **argv);
int mtb_cmd_sim_serve(int argc, char **argv);
extern const char MTB_CMD_SIM_USAGE[];
extern const char MTB_CMD_SIM_RENDER_USAGE[];
int mtb_cmd_sim_render_neck(int argc, char **argv);   /* sim render --kind neck */
int mtb_cmd_sim_can(int argc, char **argv);           /* sim can: a simulated can verified */

/* read meniscus --vessel TYPE FILE...: argv[0] is "meniscus"; for the `read` dispatcher. */
int mtb_cmd_read_meniscus(int argc, char **argv);
extern const char MTB_CMD_READ_MENISCUS_USAGE[];
/* read dial --meter TYPE FILE...: argv[0] is "dial"; for the `read` dispatcher. */
int mtb_cmd_read_dial(int argc, char **argv);
extern const char MTB_CMD_READ_DIAL_USAGE[];
int mtb_cmd_read(int argc, char **argv);
extern const char MTB_CMD_READ_USAGE[];

int mtb_cmd_hal(int argc, char **argv);
extern const char MTB_CMD_HAL_USAGE[];
int mtb_cmd_run(int argc, char **argv);
/* meterbench run with a can plan (cmd_run_can.c): plan already read; exit code. */
struct mtb_run_can_args {
	const char *plan_path, *plan_text;
	size_t plan_len;
	const char *bench, *out, *operator_name;   /* operator_name: --operator or NULL */
	const char *resume;                        /* --resume SESSION or NULL */
	const char *live;                          /* --live HOST:PORT or NULL */
	int max_viewers;
	double pace;                               /* --pace X, 0: none */
	bool quiet;
};
int mtb_cmd_run_can(const struct mtb_run_can_args *a);
extern const char MTB_CMD_RUN_USAGE[];

#endif
