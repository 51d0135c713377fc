/* The registry of subcommands. One line per command; the command lives in cmd_<name>.c. */
#include "cli.h"

#include "commands.h"

const struct mtb_cli_command mtb_cli_commands[] = {
	{ "verdict", "judge one test point against OIML R 49 (the results engine)", MTB_CMD_VERDICT_USAGE, mtb_cmd_verdict },
	{ "audit", "verify that recorded results were not altered (hash-chained log)", MTB_CMD_AUDIT_USAGE, mtb_cmd_audit },
	{ "report", "write results.json, results.csv and the PDF certificates of a recorded session", MTB_CMD_REPORT_USAGE, mtb_cmd_report },
	{ "sim", "run the simulated bench (Modbus TCP/RTU, cameras over HTTP); 'sim render' draws dials", MTB_CMD_SIM_USAGE, mtb_cmd_sim },
	{ "hal", "probe the bench's devices (JSON snapshot) or set one point, for commissioning", MTB_CMD_HAL_USAGE, mtb_cmd_hal },
	{ "read", "read roller digits, pointers, neck scales from image files (the vision readers)", MTB_CMD_READ_USAGE, mtb_cmd_read },
	{ "run", "run a verification session on a bench (plan in, records and certificates out)", MTB_CMD_RUN_USAGE, mtb_cmd_run },
	{ "serve", "serve the live view of a recorded session, replayed from its records", MTB_CMD_SERVE_USAGE, mtb_cmd_serve },
	{ 0 },
};
