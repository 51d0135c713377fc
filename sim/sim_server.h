/* meterbench sim: the simulator process's server. It owns the plant and serves it over Modbus
 * TCP and RTU (one poll loop, one thread) and HTTP (cameras, /truth.json for tests, /faults for
 * run-time fault injection; civetweb worker threads). The plant is shared under one mutex.
 * docs/sim.md. */
#ifndef MTB_SIM_SERVER_H
#define MTB_SIM_SERVER_H

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "sim/sim.h"

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fastest free-running clock accepted (simulated seconds per wall second). */
#define MTB_SIM_MAX_SPEED 1000

struct mtb_sim_server_options {
	const char *tcp_host;   /* Modbus TCP; NULL: no TCP */
	int tcp_port;           /* 0: any free port (see mtb_sim_server_tcp_port) */
	const char *rtu_path;   /* Modbus RTU on this tty (a socat pty); NULL: none */
	const char *http_host;  /* cameras and test endpoints; NULL: no HTTP */
	int http_port;          /* 0: any free port */
	bool lockstep;          /* the clock advances only by writes of advance_us */
	double speed;           /* free-running: simulated seconds per wall second, 0 < speed <= MTB_SIM_MAX_SPEED */
	const char *balance_link;       /* with a can: also a symlink here to the balance's pty; NULL: none */
	const char *balance_protocol;   /* with a can: "sics", "sbi", "sbi-id"; NULL: the configuration's */
	const struct mtb_clock *wall;   /* free-running time base; NULL: the system clock */
	const struct mtb_log *log;      /* may be NULL */
};

struct mtb_sim_server;

/* Builds the plant from cfg, binds the sockets and opens the RTU line. Nothing is served
 * until mtb_sim_server_run. */
int mtb_sim_server_create(const struct mtb_sim_config *cfg, const struct mtb_sim_server_options *o,
			  struct mtb_sim_server **out, struct mtb_errbuf *eb);
void mtb_sim_server_destroy(struct mtb_sim_server *s);

/* Ports actually bound (useful after asking for port 0); 0 when not serving that. */
int mtb_sim_server_tcp_port(const struct mtb_sim_server *s);
int mtb_sim_server_http_port(const struct mtb_sim_server *s);
/* The balance's serial line (a pseudo-terminal's slave, e.g. /dev/pts/7) when the configuration
 * has a can, else NULL. It speaks MT-SICS (sim/sim_sics.h) or SBI (sim/sim_sbi.h): see
 * mtb_sim_server_balance_protocol. */
const char *mtb_sim_server_balance_path(const struct mtb_sim_server *s);
enum mtb_sim_balance_protocol mtb_sim_server_balance_protocol(const struct mtb_sim_server *s);

/* Serves until mtb_sim_server_stop; MTB_OK, or an error if the loop itself failed. */
int mtb_sim_server_run(struct mtb_sim_server *s);
/* Thread-safe and async-signal-safe: makes run return soon. */
void mtb_sim_server_stop(struct mtb_sim_server *s);

/* Test hooks, thread-safe (the bench never calls these). */
void mtb_sim_server_truth(struct mtb_sim_server *s, struct mtb_sim_truth *out);
int mtb_sim_server_fault_add(struct mtb_sim_server *s, const struct mtb_sim_fault *f);
void mtb_sim_server_faults_clear(struct mtb_sim_server *s);

/* Writes the truth as one JSON object (the body of GET /truth.json). */
void mtb_sim_truth_write_json(FILE *f, const struct mtb_sim_truth *t);

#ifdef __cplusplus
}
#endif
#endif
