/* HTTP side of the simulator (civetweb): GET /truth.json (tests only), POST and DELETE /faults
 * (run-time fault injection), and the virtual cameras. docs/sim.md. */
#include "sim/sim_priv.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG "sim-http"

struct mtb_sim_http {
	struct mg_context *ctx;
	struct mtb_sim_server *srv;
	int port;
	char start_error[256];
};

static int reply(struct mg_connection *c, int status, const char *type, const char *body, size_t len)
{
	mg_printf(c,
		  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
		  "Connection: close\r\n\r\n",
		  status, mg_get_response_code_text(c, status), type, len);
	mg_write(c, body, len);
	return status;
}

static int reply_text(struct mg_connection *c, int status, const char *text)
{
	return reply(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

static int truth_handler(struct mg_connection *c, void *cb)
{
	struct mtb_sim_http *h = cb;
	struct mtb_sim_truth *t = malloc(sizeof *t);
	if (!t)
		return reply_text(c, 500, "out of memory\n");
	mtb_sim_server_truth(h->srv, t);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		free(t);
		return reply_text(c, 500, "out of memory\n");
	}
	mtb_sim_truth_write_json(f, t);
	fputc('\n', f);
	fclose(f);
	free(t);
	int rc = reply(c, 200, "application/json", buf, len);
	free(buf);
	return rc;
}

/* POST /faults?kind=late-reply&unit=10&delay_ms=800&count=3 adds a fault starting now (or at
 * at_s); DELETE /faults removes every fault. */
static int faults_handler(struct mg_connection *c, void *cb)
{
	struct mtb_sim_http *h = cb;
	const struct mg_request_info *ri = mg_get_request_info(c);
	if (strcmp(ri->request_method, "DELETE") == 0) {
		mtb_sim_server_faults_clear(h->srv);
		return reply_text(c, 200, "cleared\n");
	}
	if (strcmp(ri->request_method, "POST") != 0)
		return reply_text(c, 405, "use POST (add) or DELETE (clear)\n");
	const char *q = ri->query_string ? ri->query_string : "";
	size_t ql = strlen(q);
	char v[8][64];
	static const char *const names[8] = { "kind", "unit", "position", "code", "delay_ms", "at_s",
					      "duration_s", "count" };
	const char *p[8];
	for (int i = 0; i < 8; i++)
		p[i] = mg_get_var(q, ql, names[i], v[i], sizeof v[i]) >= 0 ? v[i] : NULL;
	struct mtb_sim_fault_text t = { p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7] };
	struct mtb_sim_fault f;
	struct mtb_errbuf eb = { { 0 } };
	if (mtb_sim_fault_from_text(&t, &f, &eb) != MTB_OK) {
		char msg[600];
		snprintf(msg, sizeof msg, "%s\n", eb.msg);
		return reply_text(c, 400, msg);
	}
	mtb_sim_server_lock(h->srv);
	if (!t.at_s)
		f.at_us = mtb_sim_plant_time_us(mtb_sim_server_plant(h->srv));
	int rc = mtb_sim_plant_fault_add(mtb_sim_server_plant(h->srv), &f);
	mtb_sim_server_unlock(h->srv);
	if (rc != MTB_OK)
		return reply_text(c, 409, "too many faults\n");
	return reply_text(c, 200, "added\n");
}

static int log_message(const struct mg_connection *c, const char *msg)
{
	struct mtb_sim_http *h = mg_get_user_data(mg_get_context(c));
	if (h && !h->start_error[0])
		snprintf(h->start_error, sizeof h->start_error, "%s", msg);
	return 1;   /* never civetweb's own stderr output */
}

int mtb_sim_http_start(struct mtb_sim_server *s, const char *host, int port, struct mtb_sim_http **out,
		       struct mtb_errbuf *eb)
{
	*out = NULL;
	struct mtb_sim_http *h = calloc(1, sizeof *h);
	if (!h)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	h->srv = s;
	char ports[128];
	snprintf(ports, sizeof ports, "%s:%d", host, port);
	const char *opts[] = { "listening_ports", ports, "num_threads", "24", "enable_keep_alive", "no", NULL };
	struct mg_callbacks cbs;
	memset(&cbs, 0, sizeof cbs);
	cbs.log_message = log_message;
	mg_init_library(0);
	h->ctx = mg_start(&cbs, h, opts);
	if (!h->ctx) {
		int rc = mtb_errbuf_set(eb, MTB_ERR_IO, "HTTP %s: %s", ports,
					h->start_error[0] ? h->start_error : "cannot listen");
		free(h);
		mg_exit_library();
		return rc;
	}
	struct mg_server_port sp[2];
	memset(sp, 0, sizeof sp);
	if (mg_get_server_ports(h->ctx, 2, sp) >= 1)
		h->port = sp[0].port;
	mg_set_request_handler(h->ctx, "/truth.json$", truth_handler, h);
	mg_set_request_handler(h->ctx, "/faults$", faults_handler, h);
	*out = h;
	return MTB_OK;
}

void mtb_sim_http_stop(struct mtb_sim_http *h)
{
	if (!h)
		return;
	mg_stop(h->ctx);
	mg_exit_library();
	free(h);
}

int mtb_sim_http_port(const struct mtb_sim_http *h)
{
	return h ? h->port : 0;
}
