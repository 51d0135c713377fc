/* The live view's HTTP server (civetweb): routing, server-sent events with per-viewer bounded
 * queues, MJPEG from latest-frame slots with the reading drawn over the dial, operator control.
 * docs/live-view.md. */
#include "bench/live.h"

#include "vision/vision.h"

#include <cairo.h>
#include <civetweb.h>
#include <errno.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <qrencode.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TAG "live"

/* An event as sent: "id: N\ndata: {...}\n\n", shared by every queue that holds it. */
struct ev {
	atomic_int refs;
	uint64_t id;
	bool is_flow, is_session;
	size_t len;
	char text[];
};

/* A JPEG frame, shared by the viewers that send it. */
struct frame {
	atomic_int refs;
	size_t len;
	unsigned char data[];
};

struct viewer {                 /* one /events connection */
	struct viewer *next;
	struct ev **q;
	int cap, head, n;
	bool overflow;
	pthread_cond_t cond;
};

struct camera {
	pthread_mutex_t mu;          /* the slot */
	pthread_cond_t cond;         /* a new frame */
	uint64_t gen;
	struct frame *raw;
	struct mtb_live_overlay ov;
	bool has_ov;
	struct frame *drawn;         /* raw with its overlay, for generation drawn_gen */
	uint64_t drawn_gen;
	pthread_mutex_t draw_mu;     /* one drawing at a time per camera */
};

struct mtb_live {
	struct mg_context *ctx;
	struct mtb_live_opts o;
	char *token, *static_dir, *public_url;
	char host[64];
	int port;
	char start_error[256];
	const struct mtb_clock *clock;

	pthread_mutex_t mu;          /* everything below */
	struct viewer *viewers;
	struct ev **hist;            /* ring of the last history_len events (not flow, not session) */
	int hist_head, hist_n;
	struct ev *session_ev, *flow_ev;
	uint64_t next_id;
	int streams;
	mtb_live_control_fn control;
	void *control_user;
	char *report_path;
	int last_state, last_point;
	int64_t last_flow_us;
	atomic_bool stopping;

	struct camera cams[MTB_LIVE_MAX_CAMERAS];
};

static void ev_unref(struct ev *e)
{
	if (e && atomic_fetch_sub(&e->refs, 1) == 1)
		free(e);
}

static struct ev *ev_ref(struct ev *e)
{
	if (e)
		atomic_fetch_add(&e->refs, 1);
	return e;
}

static void frame_unref(struct frame *f)
{
	if (f && atomic_fetch_sub(&f->refs, 1) == 1)
		free(f);
}

static struct frame *frame_ref(struct frame *f)
{
	if (f)
		atomic_fetch_add(&f->refs, 1);
	return f;
}

static struct frame *frame_new(const void *data, size_t len)
{
	struct frame *f = malloc(sizeof *f + len);
	if (!f)
		return NULL;
	atomic_init(&f->refs, 1);
	f->len = len;
	memcpy(f->data, data, len);
	return f;
}

/* ---- replies ------------------------------------------------------------------------------- */

static int reply(struct mg_connection *c, int status, const char *type, const char *extra, const void *body,
		 size_t len)
{
	mg_printf(c,
		  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
		  "X-Content-Type-Options: nosniff\r\n%sConnection: close\r\n\r\n",
		  status, mg_get_response_code_text(c, status), type, len, extra ? extra : "");
	if (len)
		mg_write(c, body, len);
	return status;
}

static int reply_text(struct mg_connection *c, int status, const char *text)
{
	return reply(c, status, "text/plain; charset=utf-8", NULL, text, strlen(text));
}

/* ---- server-sent events --------------------------------------------------------------------- */

static bool take_stream(struct mtb_live *l)
{
	pthread_mutex_lock(&l->mu);
	bool ok = l->streams < l->o.max_viewers;
	if (ok)
		l->streams++;
	pthread_mutex_unlock(&l->mu);
	return ok;
}

static void give_stream(struct mtb_live *l)
{
	pthread_mutex_lock(&l->mu);
	l->streams--;
	pthread_mutex_unlock(&l->mu);
}

static int too_many(struct mg_connection *c)
{
	return reply(c, 503, "text/plain; charset=utf-8", "Retry-After: 5\r\n", "too many viewers\n", 17);
}

static bool write_all(struct mg_connection *c, const void *buf, size_t len)
{
	return mg_write(c, buf, len) == (int)len;
}

/* Everything a viewer arriving now needs, in order: the session, the history after last_id
 * (all of it when the ring no longer reaches back that far), the latest flow. Called locked. */
static int initial_events(struct mtb_live *l, uint64_t last_id, struct ev ***out)
{
	int cap = l->hist_n + 2, n = 0;
	struct ev **v = malloc(sizeof *v * (size_t)cap);
	if (!v)
		return -1;
	int cap_hist = l->o.history_len;
	uint64_t oldest = l->hist_n ? l->hist[(l->hist_head + cap_hist - l->hist_n) % cap_hist]->id : l->next_id;
	if (last_id + 1 < oldest)
		last_id = 0;   /* a gap: send everything; the page's state is set, not accumulated */
	if (l->session_ev && l->session_ev->id > last_id)
		v[n++] = ev_ref(l->session_ev);
	for (int i = 0; i < l->hist_n; i++) {
		struct ev *e = l->hist[(l->hist_head + cap_hist - l->hist_n + i) % cap_hist];
		if (e->id > last_id)
			v[n++] = ev_ref(e);
	}
	if (l->flow_ev && l->flow_ev->id > last_id)
		v[n++] = ev_ref(l->flow_ev);
	*out = v;
	return n;
}

static int events_stream(struct mg_connection *c, struct mtb_live *l)
{
	if (!take_stream(l))
		return too_many(c);
	const char *lei = mg_get_header(c, "Last-Event-ID");
	uint64_t last_id = lei ? strtoull(lei, NULL, 10) : 0;
	struct viewer *v = calloc(1, sizeof *v);
	struct ev **local = v ? malloc(sizeof *local * (size_t)l->o.event_queue_len) : NULL;
	if (v)
		v->q = malloc(sizeof *v->q * (size_t)l->o.event_queue_len);
	if (!v || !local || !v->q) {
		if (v)
			free(v->q);
		free(v);
		free(local);
		give_stream(l);
		return reply_text(c, 500, "out of memory\n");
	}
	v->cap = l->o.event_queue_len;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&v->cond, &ca);
	pthread_condattr_destroy(&ca);

	struct ev **init = NULL;
	pthread_mutex_lock(&l->mu);
	int n_init = initial_events(l, last_id, &init);
	v->next = l->viewers;
	l->viewers = v;
	pthread_mutex_unlock(&l->mu);

	bool ok = mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
			       "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
			       "retry: 2000\n\n") > 0;
	for (int i = 0; i < n_init; i++) {
		if (ok)
			ok = write_all(c, init[i]->text, init[i]->len);
		ev_unref(init[i]);
	}
	free(init);
	if (n_init < 0)
		ok = false;

	while (ok && !atomic_load(&l->stopping)) {
		pthread_mutex_lock(&l->mu);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 5;
		int wr = 0;
		while (v->n == 0 && !v->overflow && !atomic_load(&l->stopping) && wr != ETIMEDOUT)
			wr = pthread_cond_timedwait(&v->cond, &l->mu, &until);
		bool overflow = v->overflow;
		int n = 0;
		while (v->n > 0) {
			local[n++] = v->q[v->head];
			v->head = (v->head + 1) % v->cap;
			v->n--;
		}
		pthread_mutex_unlock(&l->mu);
		for (int i = 0; i < n; i++) {
			if (ok)
				ok = write_all(c, local[i]->text, local[i]->len);
			ev_unref(local[i]);
		}
		if (overflow) {
			/* Closing is the honest answer: the browser reconnects with Last-Event-ID and gets
			 * the history again instead of a stream with a hole in it. */
			mtb_log_msg(l->o.log, MTB_LOG_WARN, TAG, "viewer fell %d events behind: disconnected", v->cap);
			break;
		}
		if (ok && n == 0 && wr == ETIMEDOUT)
			ok = mg_printf(c, ": keep-alive\n\n") > 0;   /* also finds viewers that left */
	}

	pthread_mutex_lock(&l->mu);
	for (struct viewer **pp = &l->viewers; *pp; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	while (v->n > 0) {
		ev_unref(v->q[v->head]);
		v->head = (v->head + 1) % v->cap;
		v->n--;
	}
	l->streams--;
	pthread_mutex_unlock(&l->mu);
	pthread_cond_destroy(&v->cond);
	free(v->q);
	free(v);
	free(local);
	return 200;
}

int mtb_live_event(struct mtb_live *l, const char *json)
{
	if (!l || !json)
		return MTB_ERR_ARG;
	size_t jl = strlen(json);
	if (jl < 2 || json[0] != '{' || memchr(json, '\n', jl) || memchr(json, '\r', jl))
		return MTB_ERR_ARG;
	struct ev *e = malloc(sizeof *e + jl + 48);
	if (!e)
		return MTB_ERR_NOMEM;
	atomic_init(&e->refs, 1);
	e->is_flow = strncmp(json, "{\"type\":\"flow\"", 14) == 0;
	e->is_session = strncmp(json, "{\"type\":\"session\"", 17) == 0;

	pthread_mutex_lock(&l->mu);
	e->id = ++l->next_id;
	e->len = (size_t)sprintf(e->text, "id: %llu\ndata: %s\n\n", (unsigned long long)e->id, json);
	if (e->is_flow) {
		ev_unref(l->flow_ev);
		l->flow_ev = ev_ref(e);
	} else if (e->is_session) {
		ev_unref(l->session_ev);
		l->session_ev = ev_ref(e);
	} else {
		int cap = l->o.history_len;
		if (l->hist_n == cap)
			ev_unref(l->hist[l->hist_head]);   /* the oldest, overwritten below */
		else
			l->hist_n++;
		l->hist[l->hist_head] = ev_ref(e);
		l->hist_head = (l->hist_head + 1) % cap;
	}
	for (struct viewer *v = l->viewers; v; v = v->next) {
		if (v->overflow)
			continue;
		if (v->n == v->cap) {
			v->overflow = true;   /* never a gap: the viewer is dropped instead */
		} else {
			v->q[(v->head + v->n) % v->cap] = ev_ref(e);
			v->n++;
		}
		pthread_cond_signal(&v->cond);
	}
	pthread_mutex_unlock(&l->mu);
	ev_unref(e);
	return MTB_OK;
}

/* ---- cameras -------------------------------------------------------------------------------- */

/* Draws the overlay on a decoded copy of the frame and encodes it again. */
static int draw_overlay(const struct frame *raw, const struct mtb_live_overlay *ov, struct frame **out)
{
	struct mtb_errbuf eb;
	struct mtb_image *img;
	int rc = mtb_image_decode(raw->data, raw->len, &img, &eb);
	if (rc != MTB_OK)
		return rc;
	int w = img->width, h = img->height;
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		mtb_image_destroy(img);
		return MTB_ERR_NOMEM;
	}
	cairo_surface_flush(s);
	unsigned char *px = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	for (int y = 0; y < h; y++) {
		const uint8_t *src = mtb_image_row(img, y);
		uint32_t *dst = (uint32_t *)(px + (size_t)y * (size_t)stride);
		for (int x = 0; x < w; x++) {
			const uint8_t *p = src + (size_t)x * (size_t)img->channels;
			uint32_t b = p[0], g = img->channels >= 3 ? p[1] : p[0], r = img->channels >= 3 ? p[2] : p[0];
			dst[x] = (r << 16) | (g << 8) | b;
		}
	}
	cairo_surface_mark_dirty(s);
	cairo_t *cr = cairo_create(s);
	double lw = w / 160.0 < 2 ? 2 : w / 160.0;
	double fs = h / 12.0 < 14 ? 14 : (h / 12.0 > 72 ? 72 : h / 12.0);
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, fs);
	cairo_text_extents_t te;
	cairo_text_extents(cr, ov->text, &te);
	if (te.x_advance + fs * 0.5 > w && te.x_advance > 0) {   /* a narrow frame: the text made to fit */
		fs = fs * (w - fs * 0.5) / te.x_advance;
		fs = fs < 9 ? 9 : fs;
		cairo_set_font_size(cr, fs);
		cairo_text_extents(cr, ov->text, &te);
	}
	double pad = fs * 0.25, bw = te.x_advance + 2 * pad, bh = fs * 1.3;
	double bx = 0, by = 0;
	if (ov->w_px > 0 && ov->h_px > 0 && ov->label_top) {   /* the region drawn, the text at the top */
		cairo_set_source_rgb(cr, 1.0, 0.69, 0.0);
		cairo_set_line_width(cr, lw);
		cairo_rectangle(cr, ov->x_px, ov->y_px, ov->w_px, ov->h_px);
		cairo_stroke(cr);
	} else if (ov->w_px > 0 && ov->h_px > 0) {
		cairo_set_source_rgb(cr, 1.0, 0.69, 0.0);
		cairo_set_line_width(cr, lw);
		cairo_rectangle(cr, ov->x_px, ov->y_px, ov->w_px, ov->h_px);
		cairo_stroke(cr);
		bx = ov->x_px;
		by = ov->y_px - lw - bh >= 0 ? ov->y_px - lw - bh : ov->y_px + ov->h_px + lw;
		if (bx + bw > w)
			bx = w - bw > 0 ? w - bw : 0;
		if (by + bh > h)
			by = h - bh > 0 ? h - bh : 0;
	}
	cairo_set_source_rgba(cr, 0, 0, 0, 0.75);
	cairo_rectangle(cr, bx, by, bw, bh);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 1.0, 0.85, 0.2);
	cairo_move_to(cr, bx + pad, by + bh / 2 + fs * 0.35);
	cairo_show_text(cr, ov->text);
	cairo_destroy(cr);
	cairo_surface_flush(s);

	struct mtb_image *outimg = NULL;
	rc = mtb_image_create(&outimg, w, h, 3);
	if (rc == MTB_OK) {
		for (int y = 0; y < h; y++) {
			const uint32_t *src = (const uint32_t *)(px + (size_t)y * (size_t)stride);
			uint8_t *dst = mtb_image_row(outimg, y);
			for (int x = 0; x < w; x++) {
				dst[3 * x] = (uint8_t)(src[x] & 0xff);
				dst[3 * x + 1] = (uint8_t)((src[x] >> 8) & 0xff);
				dst[3 * x + 2] = (uint8_t)((src[x] >> 16) & 0xff);
			}
		}
	}
	cairo_surface_destroy(s);
	mtb_image_destroy(img);
	if (rc != MTB_OK)
		return rc;
	unsigned char *jpg = NULL;
	size_t len = 0;
	rc = mtb_image_encode_jpeg(outimg, 85, &jpg, &len, &eb);
	mtb_image_destroy(outimg);
	if (rc != MTB_OK)
		return rc;
	*out = frame_new(jpg, len);
	free(jpg);
	return *out ? MTB_OK : MTB_ERR_NOMEM;
}

/* civetweb's worker threads have small stacks (Debian builds them with a fixed size); JPEG
 * decoding and encoding run on a thread of the default size instead. */
struct draw_job {
	const struct frame *raw;
	const struct mtb_live_overlay *ov;
	struct frame *out;
	int rc;
};

static void *draw_thread(void *arg)
{
	struct draw_job *j = arg;
	j->rc = draw_overlay(j->raw, j->ov, &j->out);
	return NULL;
}

static int draw_overlay_big_stack(const struct frame *raw, const struct mtb_live_overlay *ov, struct frame **out)
{
	struct draw_job j = { raw, ov, NULL, MTB_ERR_NOMEM };
	pthread_t t;
	if (pthread_create(&t, NULL, draw_thread, &j) != 0)
		return MTB_ERR_NOMEM;
	pthread_join(t, NULL);
	*out = j.out;
	return j.rc;
}

/* The frame of generation >= gen to send, overlay drawn; a new reference or NULL. */
static struct frame *camera_current(struct mtb_live *l, struct camera *cam, uint64_t *gen)
{
	pthread_mutex_lock(&cam->draw_mu);
	pthread_mutex_lock(&cam->mu);
	*gen = cam->gen;
	if (!cam->raw) {
		pthread_mutex_unlock(&cam->mu);
		pthread_mutex_unlock(&cam->draw_mu);
		return NULL;
	}
	if (cam->drawn && cam->drawn_gen == cam->gen) {
		struct frame *f = frame_ref(cam->drawn);
		pthread_mutex_unlock(&cam->mu);
		pthread_mutex_unlock(&cam->draw_mu);
		return f;
	}
	struct frame *raw = frame_ref(cam->raw);
	struct mtb_live_overlay ov = cam->ov;
	bool has_ov = cam->has_ov;
	uint64_t g = cam->gen;
	pthread_mutex_unlock(&cam->mu);

	struct frame *drawn = NULL;
	if (has_ov && draw_overlay_big_stack(raw, &ov, &drawn) != MTB_OK) {
		mtb_log_msg(l->o.log, MTB_LOG_WARN, TAG, "camera frame cannot be decoded: sent as it came");
		drawn = NULL;
	}
	if (!drawn)
		drawn = frame_ref(raw);
	frame_unref(raw);

	pthread_mutex_lock(&cam->mu);
	frame_unref(cam->drawn);
	cam->drawn = frame_ref(drawn);
	cam->drawn_gen = g;
	pthread_mutex_unlock(&cam->mu);
	pthread_mutex_unlock(&cam->draw_mu);
	*gen = g;
	return drawn;
}

/* The boundary and the headers of a part, sent before the part's frame is known. */
#define PART_HEAD "--mtbframe\r\nContent-Type: image/jpeg\r\n\r\n"

static int camera_stream(struct mg_connection *c, struct mtb_live *l, int pos)
{
	if (!take_stream(l))
		return too_many(c);
	struct camera *cam = &l->cams[pos - 1];
	bool ok = mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=mtbframe\r\n"
			       "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
			       PART_HEAD) > 0;
	uint64_t sent = 0;
	while (ok && !atomic_load(&l->stopping)) {
		pthread_mutex_lock(&cam->mu);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 1;
		int wr = 0;
		while (cam->gen == sent && !atomic_load(&l->stopping) && wr != ETIMEDOUT)
			wr = pthread_cond_timedwait(&cam->cond, &cam->mu, &until);
		bool fresh = cam->gen != sent;
		pthread_mutex_unlock(&cam->mu);
		if (!fresh)
			continue;
		/* Whatever arrived while the last frame was being written is skipped: the newest only. */
		struct frame *f = camera_current(l, cam, &sent);
		if (!f)
			continue;
		/* A part is delimited by the boundary after it, and the next part's headers follow at
		 * once: Chromium shows a part only when it has parsed the headers of the part after it
		 * (MultipartImageResourceParser), so a stream that waited for the next frame to send
		 * them would show every frame one frame late. Hence no Content-Length: the next
		 * frame's length is not known yet. */
		ok = write_all(c, f->data, f->len) && mg_printf(c, "\r\n" PART_HEAD) > 0;
		frame_unref(f);
	}
	give_stream(l);
	return 200;
}

int mtb_live_frame(struct mtb_live *l, int position, const void *jpeg, size_t len, const struct mtb_live_overlay *ov)
{
	if (!l || !jpeg || len == 0 || position < 1 || position > l->o.n_cameras)
		return MTB_ERR_ARG;
	struct frame *f = frame_new(jpeg, len);
	if (!f)
		return MTB_ERR_NOMEM;
	struct camera *cam = &l->cams[position - 1];
	pthread_mutex_lock(&cam->mu);
	struct frame *old = cam->raw;
	cam->raw = f;
	cam->has_ov = ov != NULL;
	if (ov) {
		cam->ov = *ov;
		cam->ov.text[sizeof cam->ov.text - 1] = 0;
	}
	cam->gen++;
	pthread_cond_broadcast(&cam->cond);
	pthread_mutex_unlock(&cam->mu);
	frame_unref(old);
	return MTB_OK;
}

/* ---- files, report, QR code, control ------------------------------------------------------- */

/* Fonts the page uses, from Debian packages (fonts-noto-cjk, fonts-dejavu-core). */
static const struct {
	const char *name, *path, *mime;
} FONTS[] = {
	{ "cjk-regular.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "font/collection" },
	{ "cjk-bold.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "font/collection" },
	{ "sans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "font/ttf" },
	{ "sans-bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "font/ttf" },
};

static const struct {
	const char *ext, *mime;
} MIMES[] = {
	{ ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
	{ ".json", "application/json" },
};

/* A plain file name: letters, digits, '.', '-', '_', not starting with '.'. */
static bool plain_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '-' || *s == '_'))
			return false;
	return true;
}

static int send_file(struct mg_connection *c, const char *path, const char *mime, const char *cache)
{
	if (access(path, R_OK) != 0)
		return reply_text(c, 404, "not found\n");
	char extra[128];
	snprintf(extra, sizeof extra, "Cache-Control: %s\r\nX-Content-Type-Options: nosniff\r\n", cache);
	mg_send_mime_file2(c, path, mime, extra);
	return 200;
}

static int static_file(struct mg_connection *c, struct mtb_live *l, const char *name)
{
	if (!plain_name(name))
		return reply_text(c, 404, "not found\n");
	const char *dot = strrchr(name, '.');
	const char *mime = NULL;
	for (size_t i = 0; dot && i < sizeof MIMES / sizeof MIMES[0]; i++)
		if (strcmp(dot, MIMES[i].ext) == 0)
			mime = MIMES[i].mime;
	if (!mime)
		return reply_text(c, 404, "not found\n");
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", l->static_dir, name);
	return send_file(c, path, mime, "no-cache");
}

/* Host header, if it is a plain host[:port]; else NULL. */
static const char *plain_host(struct mg_connection *c)
{
	const char *h = mg_get_header(c, "Host");
	if (!h || !*h || strlen(h) > 200)
		return NULL;
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '-' || *p == ':' || *p == '[' || *p == ']'))
			return NULL;
	return h;
}

static int qr_svg(struct mg_connection *c, struct mtb_live *l)
{
	char url[512];
	const char *host = plain_host(c);
	if (l->public_url)
		snprintf(url, sizeof url, "%s/report/customer.pdf", l->public_url);
	else if (host)
		snprintf(url, sizeof url, "http://%s/report/customer.pdf", host);
	else
		snprintf(url, sizeof url, "http://%s:%d/report/customer.pdf", l->host, l->port);
	QRcode *q = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q)
		return reply_text(c, 500, "QR code cannot be made\n");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		QRcode_free(q);
		return reply_text(c, 500, "out of memory\n");
	}
	int n = q->width, quiet = 4;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">"
		   "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		n + 2 * quiet, n + 2 * quiet, n + 2 * quiet, n + 2 * quiet);
	for (int y = 0; y < n; y++)
		for (int x = 0; x < n; x++)
			if (q->data[y * n + x] & 1)
				fprintf(f, "M%d %dh1v1h-1z", x + quiet, y + quiet);
	fprintf(f, "\"/></svg>\n");
	fclose(f);
	QRcode_free(q);
	char extra[600];
	snprintf(extra, sizeof extra, "X-Report-Url: %s\r\n", url);
	int rc = reply(c, 200, "image/svg+xml", extra, buf, len);
	free(buf);
	return rc;
}

static bool token_equal(const char *given, size_t given_len, const char *want)
{
	size_t wl = strlen(want);
	unsigned diff = (unsigned)(given_len ^ wl);
	for (size_t i = 0; i < wl; i++)
		diff |= (unsigned char)want[i] ^ (unsigned char)(i < given_len ? given[i] : 0);
	return diff == 0;
}

static int control(struct mg_connection *c, struct mtb_live *l, const char *action)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	if (strcmp(ri->request_method, "POST") != 0)
		return reply(c, 405, "text/plain; charset=utf-8", "Allow: POST\r\n", "use POST\n", 9);
	size_t al = strlen(action);
	bool ok_name = al > 0 && al < 32;
	for (size_t i = 0; i < al; i++)
		ok_name = ok_name && ((action[i] >= 'a' && action[i] <= 'z') || action[i] == '-');
	if (!ok_name)
		return reply_text(c, 404, "no such action\n");
	if (!l->token)
		return reply_text(c, 403, "control is disabled: no operator token was set\n");
	const char *auth = mg_get_header(c, "Authorization");
	if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !token_equal(auth + 7, strlen(auth + 7), l->token))
		return reply(c, 401, "text/plain; charset=utf-8", "WWW-Authenticate: Bearer\r\n",
			     "operator token required\n", 24);
	pthread_mutex_lock(&l->mu);
	mtb_live_control_fn fn = l->control;
	void *user = l->control_user;
	pthread_mutex_unlock(&l->mu);
	if (!fn)
		return reply_text(c, 503, "no control is attached\n");
	int rc = fn(user, action);
	mtb_log_msg(l->o.log, MTB_LOG_INFO, TAG, "operator action %s: %s", action, mtb_strerror(rc));
	if (rc == MTB_ERR_NOTSUP)
		return reply_text(c, 404, "no such action\n");
	if (rc != MTB_OK)
		return reply_text(c, 409, "refused\n");
	return reply_text(c, 200, "done\n");
}

static int report_pdf(struct mg_connection *c, struct mtb_live *l)
{
	char path[1024] = "";
	pthread_mutex_lock(&l->mu);
	if (l->report_path)
		snprintf(path, sizeof path, "%s", l->report_path);
	pthread_mutex_unlock(&l->mu);
	if (!path[0])
		return reply_text(c, 404, "the report is written when the run has ended\n");
	return send_file(c, path, "application/pdf", "no-store");
}

/* Every request comes here; anything not listed is 404. */
static int dispatch(struct mg_connection *c, void *cbdata)
{
	struct mtb_live *l = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *uri = ri->local_uri ? ri->local_uri : "";
	if (strncmp(uri, "/control/", 9) == 0)
		return control(c, l, uri + 9);
	if (strcmp(ri->request_method, "GET") != 0)
		return reply(c, 405, "text/plain; charset=utf-8", "Allow: GET\r\n", "read-only: use GET\n", 19);
	if (strcmp(uri, "/") == 0)
		return static_file(c, l, "index.html");
	if (strncmp(uri, "/static/", 8) == 0)
		return static_file(c, l, uri + 8);
	if (strcmp(uri, "/events") == 0)
		return events_stream(c, l);
	if (strncmp(uri, "/camera/", 8) == 0) {
		char *end;
		long pos = strtol(uri + 8, &end, 10);
		if (end != uri + 8 && strcmp(end, ".mjpeg") == 0 && pos >= 1 && pos <= l->o.n_cameras)
			return camera_stream(c, l, (int)pos);
		return reply_text(c, 404, "no such camera\n");
	}
	if (strncmp(uri, "/fonts/", 7) == 0) {
		for (size_t i = 0; i < sizeof FONTS / sizeof FONTS[0]; i++)
			if (strcmp(uri + 7, FONTS[i].name) == 0)
				return send_file(c, FONTS[i].path, FONTS[i].mime, "max-age=86400");
		return reply_text(c, 404, "no such font\n");
	}
	if (strcmp(uri, "/report/customer.pdf") == 0)
		return report_pdf(c, l);
	if (strcmp(uri, "/qr.svg") == 0)
		return qr_svg(c, l);
	return reply_text(c, 404, "not found\n");
}

static int log_message(const struct mg_connection *c, const char *msg)
{
	struct mtb_live *l = mg_get_user_data(mg_get_context(c));
	if (l && !l->ctx && !l->start_error[0])
		snprintf(l->start_error, sizeof l->start_error, "%s", msg);
	return 1;   /* never civetweb's own output */
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

int mtb_live_create(struct mtb_live **out, const char *listen, const struct mtb_live_opts *opts, struct mtb_errbuf *eb)
{
	*out = NULL;
	if (!listen || !*listen)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "live: empty listen address");
	/* HOST:PORT or PORT; the host must be an IPv4 address (Debian's civetweb has no IPv6). */
	char host[64] = "127.0.0.1";
	const char *colon = strrchr(listen, ':');
	const char *ports = colon ? colon + 1 : listen;
	if (colon) {
		size_t hl = (size_t)(colon - listen);
		if (hl == 0 || hl >= sizeof host)
			return mtb_errbuf_set(eb, MTB_ERR_ARG, "live: '%s': expected HOST:PORT", listen);
		memcpy(host, listen, hl);
		host[hl] = 0;
		if (strcmp(host, "localhost") == 0)
			snprintf(host, sizeof host, "127.0.0.1");
	}
	unsigned a, b, cc, d;
	char tail;
	if (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &cc, &d, &tail) != 4 || a > 255 || b > 255 || cc > 255 || d > 255)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "live: '%s': host must be an IPv4 address", listen);
	char *pend;
	long port = strtol(ports, &pend, 10);
	if (pend == ports || *pend || port < 0 || port > 65535)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "live: '%s': port must be 0..65535", listen);

	struct mtb_live *l = calloc(1, sizeof *l);
	if (!l)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	if (opts)
		l->o = *opts;
	if (l->o.max_viewers <= 0)
		l->o.max_viewers = 16;
	if (l->o.event_queue_len <= 0)
		l->o.event_queue_len = 1024;
	if (l->o.history_len <= 0)
		l->o.history_len = 4096;
	if (l->o.flow_period_ms <= 0)
		l->o.flow_period_ms = 200;
	if (l->o.request_timeout_ms <= 0)
		l->o.request_timeout_ms = 10000;
	if (l->o.n_cameras < 0 || l->o.n_cameras > MTB_LIVE_MAX_CAMERAS) {
		int n = l->o.n_cameras;
		free(l);
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "live: %d cameras: at most %d", n, MTB_LIVE_MAX_CAMERAS);
	}
	l->clock = l->o.clock ? l->o.clock : &mtb_clock_system;
	l->token = dup_or_null(l->o.operator_token);
	l->public_url = dup_or_null(l->o.public_url);
	l->static_dir = strdup(l->o.static_dir && *l->o.static_dir ? l->o.static_dir : MTB_SOURCE_LIVE_DIR);
	l->hist = calloc((size_t)l->o.history_len, sizeof *l->hist);
	l->o.operator_token = l->o.static_dir = l->o.public_url = NULL;   /* owned copies above */
	l->last_state = -1;
	l->last_point = -1;
	l->last_flow_us = INT64_MIN / 2;
	snprintf(l->host, sizeof l->host, "%s", host);
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (int i = 0; i < MTB_LIVE_MAX_CAMERAS; i++) {
		pthread_mutex_init(&l->cams[i].mu, NULL);
		pthread_mutex_init(&l->cams[i].draw_mu, NULL);
		pthread_cond_init(&l->cams[i].cond, &ca);
	}
	pthread_condattr_destroy(&ca);
	if (!l->static_dir || !l->hist || (opts && opts->operator_token && *opts->operator_token && !l->token)) {
		mtb_live_destroy(l);
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	}

	char lp[96], threads[16], timeout[16];
	snprintf(lp, sizeof lp, "%s:%ld", host, port);
	/* civetweb holds one worker thread per connection: every stream plus room for page loads. */
	snprintf(threads, sizeof threads, "%d", l->o.max_viewers + 8);
	snprintf(timeout, sizeof timeout, "%d", l->o.request_timeout_ms);
	const char *mo[] = { "listening_ports", lp, "num_threads", threads, "enable_keep_alive", "no",
			     "request_timeout_ms", timeout, "max_request_size", "8192", "enable_directory_listing", "no",
			     NULL };
	struct mg_callbacks cbs;
	memset(&cbs, 0, sizeof cbs);
	cbs.log_message = log_message;
	mg_init_library(0);
	struct mg_context *ctx = mg_start(&cbs, l, mo);
	if (!ctx) {
		int rc = mtb_errbuf_set(eb, MTB_ERR_IO, "live: cannot listen on %s: %s", lp,
					l->start_error[0] ? l->start_error : "address in use or not available");
		mg_exit_library();
		mtb_live_destroy(l);
		return rc;
	}
	l->ctx = ctx;
	struct mg_server_port sp[2];
	memset(sp, 0, sizeof sp);
	if (mg_get_server_ports(l->ctx, 2, sp) >= 1)
		l->port = sp[0].port;
	mg_set_request_handler(l->ctx, "**", dispatch, l);
	mtb_log_msg(l->o.log, MTB_LOG_INFO, TAG, "live view on http://%s:%d/", l->host, l->port);
	*out = l;
	return MTB_OK;
}

static void *wake_listener(void *arg)
{
	struct mtb_live *l = arg;
	struct timespec pause = { 0, 20000000 };
	nanosleep(&pause, NULL);   /* after mg_stop has raised its stop flag */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)l->port) };
	if (inet_pton(AF_INET, strcmp(l->host, "0.0.0.0") == 0 ? "127.0.0.1" : l->host, &a.sin_addr) == 1)
		connect(fd, (struct sockaddr *)&a, sizeof a);
	close(fd);
	return NULL;
}

void mtb_live_destroy(struct mtb_live *l)
{
	if (!l)
		return;
	atomic_store(&l->stopping, true);
	if (l->ctx) {
		pthread_mutex_lock(&l->mu);
		for (struct viewer *v = l->viewers; v; v = v->next)
			pthread_cond_signal(&v->cond);
		pthread_mutex_unlock(&l->mu);
		for (int i = 0; i < MTB_LIVE_MAX_CAMERAS; i++) {
			pthread_mutex_lock(&l->cams[i].mu);
			pthread_cond_broadcast(&l->cams[i].cond);
			pthread_mutex_unlock(&l->cams[i].mu);
		}
		/* civetweb's listener polls in 2 s quanta; a connection wakes it so that mg_stop
		 * returns at once. */
		pthread_t waker;
		bool woke = pthread_create(&waker, NULL, wake_listener, l) == 0;
		mg_stop(l->ctx);
		if (woke)
			pthread_join(waker, NULL);
		mg_exit_library();
	}
	for (int i = 0; i < MTB_LIVE_MAX_CAMERAS; i++) {
		frame_unref(l->cams[i].raw);
		frame_unref(l->cams[i].drawn);
		pthread_mutex_destroy(&l->cams[i].mu);
		pthread_mutex_destroy(&l->cams[i].draw_mu);
		pthread_cond_destroy(&l->cams[i].cond);
	}
	if (l->hist) {
		int cap = l->o.history_len;
		for (int i = 0; i < l->hist_n; i++)
			ev_unref(l->hist[(l->hist_head + cap - l->hist_n + i) % cap]);
	}
	ev_unref(l->session_ev);
	ev_unref(l->flow_ev);
	pthread_mutex_destroy(&l->mu);
	free(l->hist);
	free(l->token);
	free(l->static_dir);
	free(l->public_url);
	free(l->report_path);
	free(l);
}

int mtb_live_port(const struct mtb_live *l)
{
	return l ? l->port : 0;
}

void mtb_live_set_control(struct mtb_live *l, mtb_live_control_fn fn, void *user)
{
	pthread_mutex_lock(&l->mu);
	l->control = fn;
	l->control_user = user;
	pthread_mutex_unlock(&l->mu);
}

int mtb_live_control_abort_flag(void *user, const char *action)
{
	if (strcmp(action, "abort") != 0)
		return MTB_ERR_NOTSUP;
	__atomic_store_n((int *)user, 1, __ATOMIC_SEQ_CST);
	return MTB_OK;
}

int mtb_live_set_report(struct mtb_live *l, const char *pdf_path)
{
	char *p = NULL;
	if (pdf_path && !(p = strdup(pdf_path)))
		return MTB_ERR_NOMEM;
	pthread_mutex_lock(&l->mu);
	free(l->report_path);
	l->report_path = p;
	pthread_mutex_unlock(&l->mu);
	return MTB_OK;
}

void mtb_live_progress(struct mtb_live *l, const struct mtb_run_progress *p)
{
	if (!l || !p)
		return;
	int64_t now = mtb_clock_now_us(l->clock);
	bool state = false, flow = false;
	pthread_mutex_lock(&l->mu);
	if ((int)p->state != l->last_state || p->point_index != l->last_point) {
		state = true;
		l->last_state = (int)p->state;
		l->last_point = p->point_index;
	}
	if (state || now - l->last_flow_us >= (int64_t)l->o.flow_period_ms * 1000) {
		flow = true;
		l->last_flow_us = now;
	}
	pthread_mutex_unlock(&l->mu);
	char *j;
	if (state && (j = mtb_live_json_state(p))) {
		mtb_live_event(l, j);
		free(j);
	}
	if (flow && (j = mtb_live_json_flow(p))) {
		mtb_live_event(l, j);
		free(j);
	}
}
