/* meterbench sim --config FILE: the simulated bench as a process (CONTRACTS.md, docs/sim.md). */
#include "cli.h"
#include "commands.h"

#include "core/json.h"
#include "core/log.h"
#include "sim/sim.h"
#include "sim/sim_server.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char MTB_CMD_SIM_USAGE[] =
	"usage: meterbench sim --config FILE [--listen HOST:PORT] [--http HOST:PORT]\n"
	"                      [--rtu PTY-PATH] [--balance-link PATH] [--balance-protocol P]\n"
	"                      [--speed X | --lockstep] [--seed N] [--verbose]\n"
	"\n"
	"Runs the simulated bench: pump, valves, a line of meters with known true errors, a\n"
	"reference meter, pressure and temperature transmitters, served over Modbus TCP (and RTU\n"
	"on a pseudo-terminal), with one virtual camera per meter over HTTP. Register map:\n"
	"docs/sim-register-map.md; model and configuration: docs/sim.md.\n"
	"\n"
	"  --config FILE      configs/sim/NAME.yaml or a path\n"
	"  --listen HOST:PORT Modbus TCP (default 127.0.0.1:15020, where configs/benches/sim.yaml\n"
	"                     expects it); port 0 picks a free port\n"
	"  --http HOST:PORT   cameras and test endpoints (default 127.0.0.1:15080; with --listen,\n"
	"                     the Modbus port + 60, or a free port when that is 0)\n"
	"  --rtu PATH         also serve Modbus RTU on this tty (one end of a socat pty pair)\n"
	"  --balance-link PATH  with a can in the configuration: a symlink here to the balance's\n"
	"                     pseudo-terminal, removed at exit; without --listen it is\n"
	"                     /tmp/meterbench-sim-balance (where configs/benches/sim-can.yaml looks)\n"
	"  --balance-protocol P  what the can's balance speaks: sics (MT-SICS), sbi (Sartorius SBI,\n"
	"                     16-character frames) or sbi-id (22 characters, an ID in front);\n"
	"                     default: the configuration's can.balance_protocol, else sics\n"
	"  --speed X          free-running clock, X simulated seconds per wall second (default 1,\n"
	"                     at most 1000)\n"
	"  --lockstep         the clock moves only when a client writes advance_us (unit 100)\n"
	"  --seed N           overrides the configuration's seed\n"
	"\n"
	"Dials: meterbench sim render --kind digit|needle|dial --out DIR [options] (training and\n"
	"test images from the dial renderer).\n"
	"\n"
	"When ready it prints one JSON line with the addresses it serves, then runs until SIGINT\n"
	"or SIGTERM.\n";

static const char *const CMD = "sim";

/* "HOST:PORT" -> host (copied into buf) and port 0-65535. */
static int parse_hostport(const char *opt, const char *text, char *host, size_t host_len, int *port)
{
	const char *colon = strrchr(text, ':');
	if (!colon || colon == text || (size_t)(colon - text) >= host_len)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --%s: expected HOST:PORT, got '%s'", CMD, opt, text);
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || p < 0 || p > 65535)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --%s: port must be 0-65535, got '%s'", CMD, opt, colon + 1);
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	*port = (int)p;
	return 0;
}

struct sigctx {
	struct mtb_sim_server *srv;
	sigset_t set;
};

static void *signal_thread(void *arg)
{
	struct sigctx *sc = arg;
	int sig;
	sigwait(&sc->set, &sig);
	mtb_sim_server_stop(sc->srv);
	return NULL;
}

int mtb_cmd_sim_serve(int argc, char **argv)
{
	struct mtb_cli_opt opts[] = {
		{ "config", true, 0 }, { "listen", true, 0 }, { "http", true, 0 }, { "rtu", true, 0 },
		{ "balance-link", true, 0 }, { "balance-protocol", true, 0 }, { "speed", true, 0 }, { "lockstep", false, 0 }, { "seed", true, 0 }, { "verbose", false, 0 },
		{ 0 },
	};
	const char *pos[1];
	int n_pos, rc;
	if ((rc = mtb_cli_parse(CMD, argc, argv, opts, pos, 0, &n_pos)) != 0)
		return rc;
	const char *config = mtb_cli_get(opts, "config");
	if (!config)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: missing --config", CMD);
	enum mtb_sim_balance_protocol bp;
	const char *bp_text = mtb_cli_get(opts, "balance-protocol");
	if (bp_text && mtb_sim_balance_protocol_parse(bp_text, &bp) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --balance-protocol: unknown protocol '%s' (sics, sbi, sbi-id)", CMD, bp_text);
	if (mtb_cli_get(opts, "speed") && mtb_cli_get(opts, "lockstep"))
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: --speed and --lockstep exclude each other", CMD);

	/* Defaults: where configs/benches/sim.yaml expects the simulator. */
	char tcp_host[128] = "127.0.0.1", http_host[128] = "127.0.0.1";
	int tcp_port = 15020, http_port = 15080;
	const char *listen = mtb_cli_get(opts, "listen");
	if (listen) {
		if ((rc = parse_hostport("listen", listen, tcp_host, sizeof tcp_host, &tcp_port)) != 0)
			return rc;
		snprintf(http_host, sizeof http_host, "%s", tcp_host);
		http_port = tcp_port == 0 ? 0 : tcp_port + 60;
		if (http_port > 65535)
			http_port = 0;
	}
	const char *http = mtb_cli_get(opts, "http");
	if (http && (rc = parse_hostport("http", http, http_host, sizeof http_host, &http_port)) != 0)
		return rc;
	double speed = 1.0;
	const char *speed_text = mtb_cli_get(opts, "speed");
	if (speed_text) {
		if ((rc = mtb_cli_double(CMD, "speed", speed_text, &speed)) != 0)
			return rc;
		if (!(speed > 0 && speed <= MTB_SIM_MAX_SPEED))
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --speed: must be above 0 and at most %d, got %s",
					     CMD, MTB_SIM_MAX_SPEED, speed_text);
	}

	struct mtb_sim_config *cfg = malloc(sizeof *cfg);
	if (!cfg)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: out of memory", CMD);
	struct mtb_errbuf eb = { { 0 } };
	rc = mtb_sim_config_load(config, cfg, &eb);
	if (rc != MTB_OK) {
		free(cfg);
		return mtb_cli_error(rc == MTB_ERR_IO || rc == MTB_ERR_NOMEM ? MTB_EXIT_FAIL : MTB_EXIT_USAGE,
				     "%s: %s", CMD, eb.msg);
	}
	const char *seed_text = mtb_cli_get(opts, "seed");
	if (seed_text) {
		int64_t seed;
		if ((rc = mtb_cli_decimal(CMD, "seed", seed_text, 0, &seed)) != 0) {
			free(cfg);
			return rc;
		}
		if (seed < 0) {
			free(cfg);
			return mtb_cli_error(MTB_EXIT_USAGE, "%s: --seed: must be >= 0, got %s", CMD, seed_text);
		}
		cfg->seed = (uint64_t)seed;
	}

	struct mtb_log log = { mtb_log_sink_stderr, NULL,
			       mtb_cli_get(opts, "verbose") ? MTB_LOG_DEBUG : MTB_LOG_WARN };
	struct mtb_sim_server_options so = {
		.tcp_host = tcp_host, .tcp_port = tcp_port,
		.rtu_path = mtb_cli_get(opts, "rtu"),
		/* like the ports: without --listen, where configs/benches/sim-can.yaml expects it */
		.balance_link = mtb_cli_get(opts, "balance-link") ? mtb_cli_get(opts, "balance-link")
				: listen ? NULL : "/tmp/meterbench-sim-balance",
		.balance_protocol = bp_text,
		.http_host = http_host, .http_port = http_port,
		.lockstep = mtb_cli_get(opts, "lockstep") != NULL,
		.speed = speed,
		.log = &log,
	};

	/* Signals go to one thread that stops the server; every other thread blocks them. */
	struct sigctx sc;
	sigemptyset(&sc.set);
	sigaddset(&sc.set, SIGINT);
	sigaddset(&sc.set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sc.set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct mtb_sim_server *srv;
	rc = mtb_sim_server_create(cfg, &so, &srv, &eb);
	if (rc != MTB_OK) {
		free(cfg);
		return mtb_cli_error(rc == MTB_ERR_ARG ? MTB_EXIT_USAGE : MTB_EXIT_FAIL, "%s: %s", CMD, eb.msg);
	}
	sc.srv = srv;
	pthread_t th;
	pthread_create(&th, NULL, signal_thread, &sc);

	fputs("{\"config\":", stdout);
	mtb_json_string(stdout, cfg->name);
	printf(",\"meters\":%d,\"modbus_tcp\":\"%s:%d\",\"http\":\"%s:%d\",\"rtu\":",
	       cfg->n_meters, tcp_host, mtb_sim_server_tcp_port(srv), http_host,
	       mtb_sim_server_http_port(srv));
	if (so.rtu_path)
		mtb_json_string(stdout, so.rtu_path);
	else
		printf("null");
	/* the balance's serial line, announced like the ports: a pseudo-terminal made at start */
	fputs(",\"balance\":", stdout);
	if (mtb_sim_server_balance_path(srv))
		mtb_json_string(stdout, mtb_sim_server_balance_path(srv));
	else
		printf("null");
	if (mtb_sim_server_balance_path(srv))
		printf(",\"balance_protocol\":\"%s\"", mtb_sim_balance_protocol_name(mtb_sim_server_balance_protocol(srv)));
	if (so.balance_link && mtb_sim_server_balance_path(srv)) {
		fputs(",\"balance_link\":", stdout);
		mtb_json_string(stdout, so.balance_link);
	}
	if (so.lockstep)
		printf(",\"clock\":\"lockstep\"}\n");
	else
		printf(",\"clock\":\"free\",\"speed\":%g}\n", speed);
	fflush(stdout);

	rc = mtb_sim_server_run(srv);
	pthread_kill(th, SIGTERM);
	pthread_join(th, NULL);
	mtb_sim_server_destroy(srv);
	free(cfg);
	if (rc != MTB_OK)
		return mtb_cli_error(MTB_EXIT_FAIL, "%s: server loop: %s", CMD, mtb_strerror(rc));
	return MTB_EXIT_OK;
}
