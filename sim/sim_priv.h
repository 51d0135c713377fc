/* meterbench sim: what the server and its HTTP side share inside the library. */
#ifndef MTB_SIM_PRIV_H
#define MTB_SIM_PRIV_H

#include "sim/sim_server.h"

/* The server's plant under its mutex: lock (which also brings a free-running clock up to
 * date), use mtb_sim_server_plant, unlock. */
void mtb_sim_server_lock(struct mtb_sim_server *s);
void mtb_sim_server_unlock(struct mtb_sim_server *s);
struct mtb_sim_plant *mtb_sim_server_plant(struct mtb_sim_server *s);
const struct mtb_sim_config *mtb_sim_server_config(const struct mtb_sim_server *s);

/* HTTP side (sim_http.c): cameras, /truth.json, /faults. */
struct mtb_sim_http;
int mtb_sim_http_start(struct mtb_sim_server *s, const char *host, int port, struct mtb_sim_http **out,
		       struct mtb_errbuf *eb);
void mtb_sim_http_stop(struct mtb_sim_http *h);   /* NULL: no-op */
int mtb_sim_http_port(const struct mtb_sim_http *h);   /* 0 for NULL */

/* Builds a fault from text fields as in a configuration's faults: entry (NULL = absent).
 * Errors name the field. */
struct mtb_sim_fault_text {
	const char *kind, *unit, *position, *code, *delay_ms, *at_s, *duration_s, *count;
};
int mtb_sim_fault_from_text(const struct mtb_sim_fault_text *t, struct mtb_sim_fault *out,
			    struct mtb_errbuf *eb);

#endif
