/* HTTP side of the simulator (civetweb): the virtual cameras (GET /camera/<pos>/snapshot.jpg and
 * /camera/<pos>/stream.mjpeg, docs/sim-register-map.md), GET /truth.json (tests only), POST and
 * DELETE /faults (run-time fault injection). docs/sim.md. */
#include "sim/sim_priv.h"

#include "sim/can_sim.h"
#include "sim/dial_render.h"
#include "vision/layout.h"
#include "vision/vision.h"

#include <arpa/inet.h>
#include <cairo.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAG "sim-http"

struct camera {
	struct mtb_layout layout;
	int style;
};

struct mtb_sim_http {
	struct mg_context *ctx;
	struct mtb_sim_server *srv;
	int port;
	char host[64];
	char start_error[256];
	atomic_bool stopping;          /* ends MJPEG streams before mg_stop waits for them */
	struct mtb_sim_camera_config cam;
	uint64_t seed;
	int n_cameras;
	struct camera cameras[MTB_SIM_MAX_METERS];
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

/* ---- virtual cameras ----------------------------------------------------------------------------- */

/* A frame rendered and encoded on a thread of its own with MTB_DIAL_RENDER_STACK_BYTES of stack:
 * civetweb's workers have the stack its build chose (Debian's: 100 kB), which FreeType loading
 * a glyph at a new size overflowed (a crash of the simulator in the middle of a run). */
struct render_job {
	const struct mtb_layout *layout;
	int64_t volume_ul;
	struct mtb_dial_render_opts o;
	int jpeg_quality;
	int64_t t_us;
	unsigned char *jpg;
	size_t len;
	int rc;
	struct mtb_errbuf eb;
};

static void *render_job_run(void *arg)
{
	struct render_job *j = arg;
	struct mtb_image *img;
	j->rc = mtb_dial_render(j->layout, j->volume_ul, &j->o, &img, NULL, &j->eb);
	if (j->rc != MTB_OK)
		return NULL;
	img->t_mono_us = j->t_us;
	j->rc = mtb_image_encode_jpeg(img, j->jpeg_quality, &j->jpg, &j->len, &j->eb);
	mtb_image_destroy(img);
	return NULL;
}

/* One frame of camera `pos` (1-based) at the current simulated instant: JPEG bytes (malloc'd)
 * and the instant. MTB_ERR_STATE during a camera-dropout fault. */
static int camera_frame(struct mtb_sim_http *h, int pos, uint64_t frame_no, unsigned char **jpg, size_t *len,
			int64_t *t_us, struct mtb_errbuf *eb)
{
	mtb_sim_server_lock(h->srv);
	struct mtb_sim_plant *p = mtb_sim_server_plant(h->srv);
	bool dropout = mtb_sim_plant_camera_dropout(p, pos);
	int64_t volume_ul = mtb_sim_plant_indicated_ul(p, pos);
	*t_us = mtb_sim_plant_time_us(p);
	mtb_sim_server_unlock(h->srv);
	if (dropout)
		return mtb_errbuf_set(eb, MTB_ERR_STATE, "camera %d: dropout", pos);
	const struct camera *c = &h->cameras[pos - 1];
	/* The face is fixed per camera; glare, noise and tilt change from frame to frame like a real
	 * camera's, from a seed of (configuration seed, position, instant, frame). */
	struct render_job j = {
		.layout = &c->layout, .volume_ul = volume_ul, .jpeg_quality = h->cam.jpeg_quality, .t_us = *t_us,
		.o = { .width_px = h->cam.width, .height_px = h->cam.height, .style = c->style,
		       .seed = h->seed * 1000003u + (uint64_t)pos * 7919u + (uint64_t)*t_us * 31u + frame_no,
		       .nuisance = h->cam.nuisance },
	};
	pthread_attr_t attr;
	pthread_t th;
	int err = pthread_attr_init(&attr);
	if (err == 0) {
		if ((err = pthread_attr_setstacksize(&attr, MTB_DIAL_RENDER_STACK_BYTES)) == 0)
			err = pthread_create(&th, &attr, render_job_run, &j);
		pthread_attr_destroy(&attr);
	}
	if (err != 0)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "camera %d: no thread to render on: %s", pos, strerror(err));
	pthread_join(th, NULL);
	if (j.rc != MTB_OK) {
		*eb = j.eb;
		return j.rc;
	}
	*jpg = j.jpg;
	*len = j.len;
	return MTB_OK;
}

/* "/camera/<pos>/<what>" -> pos (1..n) and what; 0 when the path is not a camera's. */
static int camera_path(const struct mtb_sim_http *h, const char *uri, const char **what)
{
	const char *p = uri + strlen("/camera/");
	char *end;
	long pos = strtol(p, &end, 10);
	if (end == p || *end != '/' || pos < 1 || pos > h->n_cameras)
		return 0;
	*what = end + 1;
	return (int)pos;
}

static int snapshot(struct mg_connection *c, struct mtb_sim_http *h, int pos)
{
	unsigned char *jpg;
	size_t len;
	int64_t t_us;
	struct mtb_errbuf eb = { { 0 } };
	int rc = camera_frame(h, pos, 0, &jpg, &len, &t_us, &eb);
	if (rc == MTB_ERR_STATE)
		return reply_text(c, 503, "camera dropout\n");
	if (rc != MTB_OK) {
		char msg[600];
		snprintf(msg, sizeof msg, "%s\n", eb.msg);
		return reply_text(c, 500, msg);
	}
	mg_printf(c,
		  "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n"
		  "X-Timestamp-Us: %lld\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
		  len, (long long)t_us);
	mg_write(c, jpg, len);
	free(jpg);
	return 200;
}

/* multipart/x-mixed-replace, one part per frame at cameras.fps (wall clock), until the client
 * goes, the camera drops out, or the server stops. */
static int stream(struct mg_connection *c, struct mtb_sim_http *h, int pos)
{
	mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=mtbframe\r\n"
		     "Cache-Control: no-store\r\nConnection: close\r\n\r\n");
	struct timespec period = { 0, 1000000000L / h->cam.fps };
	if (h->cam.fps == 1)
		period = (struct timespec){ 1, 0 };
	for (uint64_t n = 1; !atomic_load(&h->stopping); n++) {
		unsigned char *jpg;
		size_t len;
		int64_t t_us;
		struct mtb_errbuf eb;
		if (camera_frame(h, pos, n, &jpg, &len, &t_us, &eb) != MTB_OK)
			break;
		int w = mg_printf(c, "--mtbframe\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n"
				     "X-Timestamp-Us: %lld\r\n\r\n", len, (long long)t_us);
		int w2 = w > 0 ? mg_write(c, jpg, len) : -1;
		int w3 = w2 > 0 ? mg_printf(c, "\r\n") : -1;
		free(jpg);
		if (w3 <= 0)
			break;
		nanosleep(&period, NULL);
	}
	return 200;
}

static int camera_handler(struct mg_connection *c, void *cb)
{
	struct mtb_sim_http *h = cb;
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *what = NULL;
	int pos = camera_path(h, ri->local_uri, &what);
	if (!pos)
		return reply_text(c, 404, "no such camera\n");
	if (strcmp(ri->request_method, "GET") != 0)
		return reply_text(c, 405, "GET only\n");
	if (strcmp(what, "snapshot.jpg") == 0)
		return snapshot(c, h, pos);
	if (strcmp(what, "stream.mjpeg") == 0)
		return stream(c, h, pos);
	return reply_text(c, 404, "use snapshot.jpg or stream.mjpeg\n");
}

/* GET /can/neck.png: the can's neck camera at the current simulated instant, lossless (the
 * meniscus is read to a tenth of a division: a few pixels). 409 when the water stands off the
 * scale, 503 during a camera-dropout fault of every camera (position 0). */
static int neck_handler(struct mg_connection *c, void *cb)
{
	struct mtb_sim_http *h = cb;
	const struct mg_request_info *ri = mg_get_request_info(c);
	if (strcmp(ri->request_method, "GET") != 0)
		return reply_text(c, 405, "GET only\n");
	struct mtb_image *img = NULL;
	struct mtb_errbuf eb = { { 0 } };
	mtb_sim_server_lock(h->srv);
	struct mtb_sim_plant *p = mtb_sim_server_plant(h->srv);
	struct mtb_sim_can *can = mtb_sim_plant_can(p);
	bool dropout = mtb_sim_plant_camera_dropout(p, 0);
	int64_t t_us = mtb_sim_plant_time_us(p);
	int rc = can && !dropout ? mtb_sim_can_render(can, &img, &eb) : MTB_OK;
	mtb_sim_server_unlock(h->srv);
	if (!can)
		return reply_text(c, 404, "this simulated bench has no can\n");
	if (dropout)
		return reply_text(c, 503, "camera dropout\n");
	char msg[600];
	if (rc != MTB_OK) {
		snprintf(msg, sizeof msg, "%s\n", eb.msg);
		return reply_text(c, rc == MTB_ERR_RANGE ? 409 : 500, msg);
	}
	unsigned char *png = NULL;
	size_t len = 0;
	rc = mtb_image_encode_png(img, &png, &len, &eb);
	mtb_image_destroy(img);
	if (rc != MTB_OK) {
		snprintf(msg, sizeof msg, "%s\n", eb.msg);
		return reply_text(c, 500, msg);
	}
	mg_printf(c,
		  "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %zu\r\n"
		  "X-Timestamp-Us: %lld\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
		  len, (long long)t_us);
	mg_write(c, png, len);
	free(png);
	return 200;
}

static int log_message(const struct mg_connection *c, const char *msg)
{
	struct mtb_sim_http *h = mg_get_user_data(mg_get_context(c));
	if (h && !h->start_error[0])
		snprintf(h->start_error, sizeof h->start_error, "%s", msg);
	return 1;   /* never civetweb's own stderr output */
}

/* The renderers draw text with cairo's toy font API. Its first use loads fontconfig's
 * configuration, a recursive XML parse deeper than a civetweb worker thread's stack allows (seen
 * as a SIGSEGV in FcInitLoadConfigAndFonts on the first neck frame): do it here, on the calling
 * thread's stack, before any worker renders. */
static void fonts_warm_up(void)
{
	cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 8, 8);
	cairo_t *cr = cairo_create(sf);
	cairo_text_extents_t te;
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	cairo_text_extents(cr, "0", &te);
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	cairo_text_extents(cr, "0", &te);
	cairo_destroy(cr);
	cairo_surface_destroy(sf);
}

int mtb_sim_http_start(struct mtb_sim_server *s, const char *host, int port, struct mtb_sim_http **out,
		       struct mtb_errbuf *eb)
{
	fonts_warm_up();
	*out = NULL;
	struct mtb_sim_http *h = calloc(1, sizeof *h);
	if (!h)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	h->srv = s;
	const struct mtb_sim_config *cfg = mtb_sim_server_config(s);
	h->cam = cfg->camera;
	h->seed = cfg->seed;
	h->n_cameras = cfg->n_meters;
	for (int i = 0; i < cfg->n_meters; i++) {
		const struct mtb_sim_meter_config *m = &cfg->meters[i];
		int rc = mtb_layout_load(m->type.register_layout, &h->cameras[i].layout, eb);
		if (rc != MTB_OK) {
			free(h);
			return mtb_errbuf_prefix(eb, rc, "camera %d (meter %s, type %s)", i + 1, m->serial,
						 m->type_name);
		}
		/* the configured face, else the styles in turn along the line */
		if (!m->face[0] || mtb_dial_style_parse(m->face, &h->cameras[i].style) != MTB_OK)
			h->cameras[i].style = i % MTB_DIAL_STYLE_COUNT;
	}
	snprintf(h->host, sizeof h->host, "%s", host);
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
	mg_set_request_handler(h->ctx, "/camera/", camera_handler, h);
	mg_set_request_handler(h->ctx, "/can/neck.png$", neck_handler, h);
	*out = h;
	return MTB_OK;
}

static void *wake_listener(void *arg)
{
	struct mtb_sim_http *h = arg;
	struct timespec pause = { 0, 20000000 };
	nanosleep(&pause, NULL);   /* after mg_stop has raised its stop flag */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h->port) };
	if (inet_pton(AF_INET, h->host, &a.sin_addr) == 1)
		connect(fd, (struct sockaddr *)&a, sizeof a);
	close(fd);
	return NULL;
}

void mtb_sim_http_stop(struct mtb_sim_http *h)
{
	if (!h)
		return;
	atomic_store(&h->stopping, true);
	/* civetweb's listener polls in 2 s quanta (SOCKET_TIMEOUT_QUANTUM); a connection wakes it
	 * so that mg_stop returns at once. */
	pthread_t waker;
	bool woke = pthread_create(&waker, NULL, wake_listener, h) == 0;
	mg_stop(h->ctx);
	if (woke)
		pthread_join(waker, NULL);
	mg_exit_library();
	free(h);
}

int mtb_sim_http_port(const struct mtb_sim_http *h)
{
	return h ? h->port : 0;
}
