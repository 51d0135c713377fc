/* The simulator's server: one poll loop serving Modbus TCP connections and an RTU line, with
 * the wire faults applied per request, and civetweb for HTTP. docs/sim.md. */
#define _GNU_SOURCE   /* accept4, pipe2 */
#include "sim/sim_server.h"

#include "core/json.h"
#include "sim/sim_priv.h"
#include "sim/sim_modbus.h"
#include "sim/can_sim.h"
#include "sim/sim_sbi.h"
#include "sim/sim_sics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <math.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#define TAG "sim"
#define MAX_CONN 16
#define RX_CAP 1024
#define TXQ 8
#define ADU_MAX (7 + MTB_SIM_PDU_MAX)
#define RTU_SILENCE_US 5000       /* delimits frames whose length the function does not fix */
#define RTU_STALE_US 200000       /* a partial frame older than this is line noise */
#define FREE_TICK_MS 10           /* free-running clock granularity while idle */

struct txq {
	struct {
		uint8_t buf[ADU_MAX];
		size_t len;
		int64_t due_us;   /* wall clock */
	} e[TXQ];
	int n;
};

struct link {
	int fd;               /* -1: unused */
	uint8_t rx[RX_CAP];
	size_t rx_len;
	int64_t last_rx_us;   /* wall clock, RTU */
	struct txq tx;
};

struct mtb_sim_server {
	pthread_mutex_t mu;           /* guards plant, mb, and the faults */
	struct mtb_sim_plant *plant;
	struct mtb_sim_modbus_state mb;
	struct mtb_sim_config cfg;
	bool lockstep;
	double speed;
	struct mtb_clock wall;
	const struct mtb_log *log;
	int64_t wall0_us, sim0_us;
	int listen_fd, tcp_port;
	struct link conns[MAX_CONN];
	struct link rtu;
	int wake[2];
	struct mtb_sim_http *http;
	/* the balance on a pseudo-terminal (with a can) */
	int bal_master, bal_slave;    /* the slave stays open here so the master never hangs up */
	char bal_path[128];
	char bal_link[512];           /* symlink made to it, removed at the end */
	char bal_rx[128];
	size_t bal_rx_len;
	struct mtb_sim_balance_state bal;
	enum mtb_sim_balance_protocol bal_protocol;
	struct mtb_sim_sbi_rx sbi_rx;
	struct mtb_sim_sbi_state sbi;
};

static int64_t wall_now(const struct mtb_sim_server *s)
{
	return mtb_clock_now_us(&s->wall);
}

/* Free-running: simulated time = speed x wall time since run started. Called with mu held. */
static void sync_time(struct mtb_sim_server *s)
{
	if (s->lockstep)
		return;
	int64_t target = s->sim0_us + (int64_t)((double)(wall_now(s) - s->wall0_us) * s->speed);
	int64_t t = mtb_sim_plant_time_us(s->plant);
	if (target > t)
		mtb_sim_plant_advance(s->plant, target - t);
}

/* ---- sockets ---------------------------------------------------------------------------------- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int tcp_listen(const char *host, int port, int *bound, struct mtb_errbuf *eb)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "listen address '%s' is not an IPv4 address", host);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0 || set_nonblock(fd) < 0) {
		int e = errno;
		close(fd);
		return mtb_errbuf_set(eb, MTB_ERR_IO, "Modbus TCP %s:%d: %s", host, port, strerror(e));
	}
	socklen_t al = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &al);
	*bound = ntohs(a.sin_port);
	return fd;
}

static int rtu_open(const char *path, struct mtb_errbuf *eb)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "RTU line %s: %s", path, strerror(errno));
	struct termios t;
	if (tcgetattr(fd, &t) == 0) {   /* raw 8N1; the baud rate means nothing on a pty */
		cfmakeraw(&t);
		cfsetispeed(&t, B115200);
		cfsetospeed(&t, B115200);
		t.c_cflag |= CLOCAL | CREAD;
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

static void link_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->rx_len = 0;
	l->tx.n = 0;
}

/* Queues a reply; replies leave in order, each not before its due time. */
static void tx_push(struct link *l, const uint8_t *buf, size_t len, int64_t due_us)
{
	if (l->tx.n >= TXQ)
		return;   /* a client that never reads: drop */
	memcpy(l->tx.e[l->tx.n].buf, buf, len);
	l->tx.e[l->tx.n].len = len;
	l->tx.e[l->tx.n].due_us = due_us;
	l->tx.n++;
}

static void tx_flush(struct mtb_sim_server *s, struct link *l, bool is_tcp)
{
	int64_t now = wall_now(s);
	while (l->fd >= 0 && l->tx.n > 0 && l->tx.e[0].due_us <= now) {
		ssize_t w = is_tcp ? send(l->fd, l->tx.e[0].buf, l->tx.e[0].len, MSG_NOSIGNAL)
				   : write(l->fd, l->tx.e[0].buf, l->tx.e[0].len);
		if (w != (ssize_t)l->tx.e[0].len) {
			if (is_tcp) {
				link_close(l);
				return;
			}
		}
		memmove(&l->tx.e[0], &l->tx.e[1], sizeof l->tx.e[0] * (size_t)(l->tx.n - 1));
		l->tx.n--;
	}
}

/* ---- requests ---------------------------------------------------------------------------------- */

enum action { REPLY, DROP, CLOSE };

/* Serves one PDU for unit through the faults; with REPLY, rsp/rsp_len hold the reply PDU,
 * *delay_ms its lateness and *corrupt whether the frame must be spoiled. */
static enum action serve(struct mtb_sim_server *s, bool is_tcp, int unit, const uint8_t *pdu, size_t len,
			 uint8_t *rsp, size_t *rsp_len, int *delay_ms, bool *corrupt)
{
	*delay_ms = 0;
	*corrupt = false;
	const struct mtb_sim_fault *f = mtb_sim_plant_wire_fault_take(s->plant, unit);
	if (f) {
		mtb_log_msg(s->log, MTB_LOG_DEBUG, TAG, "unit %d fc %u: fault %s", unit, len ? pdu[0] : 0,
			    mtb_sim_fault_kind_name(f->kind));
		switch (f->kind) {
		case MTB_SIM_FAULT_NO_REPLY:
			return DROP;
		case MTB_SIM_FAULT_DISCONNECT:
			return is_tcp ? CLOSE : DROP;
		case MTB_SIM_FAULT_EXCEPTION:
			if (len < 1)
				return DROP;
			*rsp_len = mtb_sim_modbus_exception(pdu[0], f->code, rsp);
			return REPLY;
		case MTB_SIM_FAULT_LATE_REPLY:
			*delay_ms = f->delay_ms;
			break;
		case MTB_SIM_FAULT_BAD_CRC:
			*corrupt = true;
			break;
		default:
			break;
		}
	}
	int rc = mtb_sim_modbus_pdu(s->plant, &s->mb, unit, pdu, len, rsp, rsp_len);
	if (rc == MTB_ERR_NOTFOUND) {
		if (!is_tcp || len < 1)
			return DROP;   /* on a serial line an absent slave is silent */
		*rsp_len = mtb_sim_modbus_exception(pdu[0], MTB_MB_EX_GATEWAY_TARGET, rsp);
		return REPLY;
	}
	return rc == MTB_OK ? REPLY : DROP;
}

static void tcp_frame(struct mtb_sim_server *s, struct link *c, const uint8_t *adu, size_t len)
{
	uint8_t rsp[ADU_MAX];
	size_t rl = 0;
	int delay_ms;
	bool corrupt;
	sync_time(s);
	enum action a = serve(s, true, adu[6], adu + 7, len - 7, rsp + 7, &rl, &delay_ms, &corrupt);
	if (a == CLOSE) {
		link_close(c);
		return;
	}
	if (a == DROP)
		return;
	memcpy(rsp, adu, 4);              /* transaction and protocol ids */
	if (corrupt) {                    /* no CRC on TCP: the reply answers no request */
		rsp[0] ^= 0xFF;
		rsp[1] ^= 0xFF;
	}
	rsp[4] = (uint8_t)((rl + 1) >> 8);
	rsp[5] = (uint8_t)(rl + 1);
	rsp[6] = adu[6];
	tx_push(c, rsp, rl + 7, wall_now(s) + (int64_t)delay_ms * 1000);
}

static void tcp_readable(struct mtb_sim_server *s, struct link *c)
{
	ssize_t n = read(c->fd, c->rx + c->rx_len, RX_CAP - c->rx_len);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		link_close(c);
		return;
	}
	c->rx_len += (size_t)n;
	while (c->fd >= 0) {
		size_t fl;
		int rc = mtb_sim_tcp_frame_len(c->rx, c->rx_len, &fl);
		if (rc == MTB_ERR_STATE)
			break;
		if (rc != MTB_OK) {   /* not Modbus: a real device drops such a peer */
			mtb_log_msg(s->log, MTB_LOG_WARN, TAG, "TCP peer sent a non-Modbus header; closing");
			link_close(c);
			return;
		}
		tcp_frame(s, c, c->rx, fl);
		if (c->fd < 0)
			return;
		memmove(c->rx, c->rx + fl, c->rx_len - fl);
		c->rx_len -= fl;
	}
}

static void rtu_frame(struct mtb_sim_server *s, const uint8_t *f, size_t len)
{
	if (len < 4)
		return;
	uint16_t crc = mtb_sim_crc16(f, len - 2);
	if (f[len - 2] != (crc & 0xff) || f[len - 1] != (crc >> 8)) {
		mtb_log_msg(s->log, MTB_LOG_DEBUG, TAG, "RTU frame with a bad CRC dropped");
		return;
	}
	uint8_t rsp[ADU_MAX + 2];
	size_t rl = 0;
	int delay_ms;
	bool corrupt;
	sync_time(s);
	if (serve(s, false, f[0], f + 1, len - 3, rsp + 1, &rl, &delay_ms, &corrupt) != REPLY)
		return;
	rsp[0] = f[0];
	crc = mtb_sim_crc16(rsp, rl + 1);
	if (corrupt)
		crc ^= 0xFFFF;
	rsp[rl + 1] = (uint8_t)(crc & 0xff);
	rsp[rl + 2] = (uint8_t)(crc >> 8);
	tx_push(&s->rtu, rsp, rl + 3, wall_now(s) + (int64_t)delay_ms * 1000);
}

/* Frames whose length the function code fixes are served as soon as complete; others, and
 * garbage, are delimited by line silence. */
static void rtu_process(struct mtb_sim_server *s, bool silent)
{
	struct link *l = &s->rtu;
	while (l->rx_len > 0) {
		size_t fl;
		int rc = mtb_sim_rtu_request_len(l->rx, l->rx_len, &fl);
		if (rc == MTB_OK && fl <= RX_CAP && l->rx_len >= fl) {
			rtu_frame(s, l->rx, fl);
			memmove(l->rx, l->rx + fl, l->rx_len - fl);
			l->rx_len -= fl;
			continue;
		}
		if (rc == MTB_OK && fl > RX_CAP) {
			l->rx_len = 0;
			break;
		}
		if (silent) {   /* whatever is there is one frame (or noise) */
			rtu_frame(s, l->rx, l->rx_len);
			l->rx_len = 0;
		}
		break;
	}
}

static void rtu_readable(struct mtb_sim_server *s)
{
	struct link *l = &s->rtu;
	if (l->rx_len == RX_CAP)
		l->rx_len = 0;
	ssize_t n = read(l->fd, l->rx + l->rx_len, RX_CAP - l->rx_len);
	if (n > 0) {
		l->rx_len += (size_t)n;
		l->last_rx_us = wall_now(s);
		rtu_process(s, false);
	}
}

static void accept_all(struct mtb_sim_server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct link *slot = NULL;
		for (int i = 0; i < MAX_CONN && !slot; i++)
			if (s->conns[i].fd < 0)
				slot = &s->conns[i];
		if (!slot) {
			mtb_log_msg(s->log, MTB_LOG_WARN, TAG, "more than %d Modbus TCP clients; refused", MAX_CONN);
			close(fd);
			continue;
		}
		slot->fd = fd;
		slot->rx_len = 0;
		slot->tx.n = 0;
	}
}

/* ---- the balance on a pseudo-terminal --------------------------------------------------------- */

static int balance_open(struct mtb_sim_server *s, const char *link, struct mtb_errbuf *eb)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "balance: posix_openpt: %s", strerror(errno));
	s->bal_master = m;
	if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, s->bal_path, sizeof s->bal_path) != 0)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "balance: pseudo-terminal: %s", strerror(errno));
	s->bal_slave = open(s->bal_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->bal_slave < 0)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "balance: %s: %s", s->bal_path, strerror(errno));
	struct termios t;
	if (tcgetattr(s->bal_slave, &t) == 0) {   /* raw 9600 8N1 (no echo) until the client sets its own */
		cfmakeraw(&t);
		cfsetispeed(&t, B9600);
		cfsetospeed(&t, B9600);
		t.c_cflag |= CLOCAL | CREAD;
		tcsetattr(s->bal_slave, TCSANOW, &t);
	}
	set_nonblock(m);
	if (link) {
		struct stat st;
		if (lstat(link, &st) == 0 && S_ISLNK(st.st_mode))
			unlink(link);   /* left by an earlier simulator */
		if (symlink(s->bal_path, link) != 0)
			return mtb_errbuf_set(eb, MTB_ERR_IO, "balance: symlink %s: %s", link, strerror(errno));
		snprintf(s->bal_link, sizeof s->bal_link, "%s", link);
	}
	return MTB_OK;
}

/* The balance's indication now, with the balance-unstable fault applied (mu held). */
static void balance_now(struct mtb_sim_server *s, struct mtb_sim_balance_now *now)
{
	struct mtb_sim_can *can = mtb_sim_plant_can(s->plant);
	mtb_sim_can_balance_raw(can, &now->gross_mg, &now->stable, &now->capacity_mg);
	now->step_mg = mtb_sim_can_balance_step_mg(can);
	if (mtb_sim_plant_fault_on(s->plant, MTB_SIM_FAULT_BALANCE_UNSTABLE)) {
		/* a draught on the pan: the indication wanders by some tens of steps */
		double t_s = (double)mtb_sim_plant_time_us(s->plant) / 1e6;
		now->gross_mg += 30.0 * (double)now->step_mg * sin(2 * M_PI * t_s / 1.3);
		now->stable = false;
	}
}

static bool balance_silent(struct mtb_sim_server *s)
{
	if (!mtb_sim_plant_fault_on(s->plant, MTB_SIM_FAULT_BALANCE_SILENT))
		return false;
	mtb_log_msg(s->log, MTB_LOG_DEBUG, TAG, "balance: fault balance-silent, no reply");
	return true;
}

static void balance_send(struct mtb_sim_server *s, char *rsp, size_t rl)
{
	rsp[rl++] = '\r';
	rsp[rl++] = '\n';
	ssize_t w = write(s->bal_master, rsp, rl);
	(void)w;
}

/* Answers the complete commands received: MT-SICS lines, or SBI ESC commands (mu held, time
 * synchronised). */
static void balance_readable(struct mtb_sim_server *s)
{
	char buf[256];
	ssize_t n = read(s->bal_master, buf, sizeof buf);
	if (n <= 0)
		return;
	for (ssize_t i = 0; i < n; i++) {
		char c = buf[i];
		struct mtb_sim_balance_now now;
		char rsp[80];
		if (s->bal_protocol != MTB_SIM_BALANCE_SICS) {
			char cmd[32];
			if (!mtb_sim_sbi_feed(&s->sbi_rx, c, cmd, sizeof cmd) || balance_silent(s))
				continue;
			balance_now(s, &now);
			size_t rl = mtb_sim_sbi_reply(cmd, &now, &s->sbi, s->bal_protocol == MTB_SIM_BALANCE_SBI_ID, rsp,
						      sizeof rsp - 2);
			if (rl)
				balance_send(s, rsp, rl);
			continue;
		}
		if (c != '\n') {
			if (s->bal_rx_len + 1 >= sizeof s->bal_rx)
				s->bal_rx_len = 0;   /* a runaway line is garbage */
			s->bal_rx[s->bal_rx_len++] = c;
			continue;
		}
		size_t len = s->bal_rx_len;
		s->bal_rx_len = 0;
		if (len && s->bal_rx[len - 1] == '\r')
			len--;
		if (len == 0 || balance_silent(s))
			continue;
		balance_now(s, &now);
		balance_send(s, rsp, mtb_sim_sics_reply(s->bal_rx, len, &now, &s->bal, rsp, sizeof rsp - 2));
	}
}

/* ---- lifecycle --------------------------------------------------------------------------------- */

int mtb_sim_server_create(const struct mtb_sim_config *cfg, const struct mtb_sim_server_options *o,
			  struct mtb_sim_server **out, struct mtb_errbuf *eb)
{
	*out = NULL;
	/* The physics runs about 10 000 times faster than real time on a small machine
	 * (docs/sim.md); a free clock faster than MTB_SIM_MAX_SPEED could not keep up. */
	if (!o->lockstep && !(o->speed > 0 && o->speed <= MTB_SIM_MAX_SPEED))
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "speed must be above 0 and at most %d, got %g",
				      MTB_SIM_MAX_SPEED, o->speed);
	struct mtb_sim_server *s = calloc(1, sizeof *s);
	if (!s)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "out of memory");
	s->listen_fd = -1;
	s->rtu.fd = -1;
	s->bal_master = s->bal_slave = -1;
	s->wake[0] = s->wake[1] = -1;
	for (int i = 0; i < MAX_CONN; i++)
		s->conns[i].fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	s->cfg = *cfg;
	s->lockstep = o->lockstep;
	s->mb.lockstep = o->lockstep;
	s->speed = o->lockstep ? 0 : o->speed;
	s->wall = o->wall ? *o->wall : mtb_clock_system;
	s->log = o->log;
	int rc = mtb_sim_plant_create(cfg, &s->plant, eb);
	if (rc != MTB_OK)
		goto fail;
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = mtb_errbuf_set(eb, MTB_ERR_IO, "pipe: %s", strerror(errno));
		goto fail;
	}
	if (o->tcp_host) {
		rc = tcp_listen(o->tcp_host, o->tcp_port, &s->tcp_port, eb);
		if (rc < 0)
			goto fail;
		s->listen_fd = rc;
	}
	if (o->rtu_path) {
		rc = rtu_open(o->rtu_path, eb);
		if (rc < 0)
			goto fail;
		s->rtu.fd = rc;
	}
	s->bal_protocol = cfg->can.balance_protocol;
	if (cfg->has_can && o->balance_protocol && mtb_sim_balance_protocol_parse(o->balance_protocol, &s->bal_protocol) != MTB_OK) {
		rc = mtb_errbuf_set(eb, MTB_ERR_ARG, "unknown balance protocol '%s' (sics, sbi, sbi-id)", o->balance_protocol);
		goto fail;
	}
	if (cfg->has_can && (rc = balance_open(s, o->balance_link, eb)) != MTB_OK)
		goto fail;
	if (o->http_host) {
		rc = mtb_sim_http_start(s, o->http_host, o->http_port, &s->http, eb);
		if (rc != MTB_OK)
			goto fail;
	}
	*out = s;
	return MTB_OK;
fail:
	mtb_sim_server_destroy(s);
	return rc;
}

void mtb_sim_server_destroy(struct mtb_sim_server *s)
{
	if (!s)
		return;
	mtb_sim_http_stop(s->http);
	for (int i = 0; i < MAX_CONN; i++)
		link_close(&s->conns[i]);
	link_close(&s->rtu);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->bal_link[0])
		unlink(s->bal_link);
	if (s->bal_master >= 0)
		close(s->bal_master);
	if (s->bal_slave >= 0)
		close(s->bal_slave);
	for (int i = 0; i < 2; i++)
		if (s->wake[i] >= 0)
			close(s->wake[i]);
	mtb_sim_plant_destroy(s->plant);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int mtb_sim_server_tcp_port(const struct mtb_sim_server *s)
{
	return s->listen_fd >= 0 ? s->tcp_port : 0;
}

const char *mtb_sim_server_balance_path(const struct mtb_sim_server *s)
{
	return s->bal_master >= 0 ? s->bal_path : NULL;
}

enum mtb_sim_balance_protocol mtb_sim_server_balance_protocol(const struct mtb_sim_server *s)
{
	return s->bal_protocol;
}

int mtb_sim_server_http_port(const struct mtb_sim_server *s)
{
	return mtb_sim_http_port(s->http);
}

void mtb_sim_server_stop(struct mtb_sim_server *s)
{
	ssize_t w = write(s->wake[1], "x", 1);
	(void)w;
}

int mtb_sim_server_run(struct mtb_sim_server *s)
{
	pthread_mutex_lock(&s->mu);
	s->wall0_us = wall_now(s);
	s->sim0_us = mtb_sim_plant_time_us(s->plant);
	pthread_mutex_unlock(&s->mu);
	for (;;) {
		struct pollfd pf[MAX_CONN + 4];
		struct link *who[MAX_CONN + 4];
		int n = 0;
		pf[n] = (struct pollfd){ .fd = s->wake[0], .events = POLLIN };
		who[n++] = NULL;
		int listen_idx = -1;
		if (s->listen_fd >= 0) {
			listen_idx = n;
			pf[n] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
			who[n++] = NULL;
		}
		int bal_idx = -1;
		if (s->bal_master >= 0) {
			bal_idx = n;
			pf[n] = (struct pollfd){ .fd = s->bal_master, .events = POLLIN };
			who[n++] = NULL;
		}
		int64_t now = wall_now(s);
		int64_t wait_us = s->lockstep ? 1000000 : FREE_TICK_MS * 1000;
		struct link *links[MAX_CONN + 1];
		int nl = 0;
		for (int i = 0; i < MAX_CONN; i++)
			if (s->conns[i].fd >= 0)
				links[nl++] = &s->conns[i];
		if (s->rtu.fd >= 0)
			links[nl++] = &s->rtu;
		for (int i = 0; i < nl; i++) {
			pf[n] = (struct pollfd){ .fd = links[i]->fd, .events = POLLIN };
			who[n++] = links[i];
			if (links[i]->tx.n > 0 && links[i]->tx.e[0].due_us - now < wait_us)
				wait_us = links[i]->tx.e[0].due_us - now;
		}
		if (s->rtu.fd >= 0 && s->rtu.rx_len > 0 && wait_us > RTU_SILENCE_US)
			wait_us = RTU_SILENCE_US;
		if (wait_us < 0)
			wait_us = 0;
		int rc = poll(pf, (nfds_t)n, (int)((wait_us + 999) / 1000));
		if (rc < 0 && errno != EINTR)
			return MTB_ERR_IO;
		if (pf[0].revents & POLLIN)
			return MTB_OK;
		pthread_mutex_lock(&s->mu);
		sync_time(s);
		if (listen_idx >= 0 && (pf[listen_idx].revents & POLLIN))
			accept_all(s);
		if (bal_idx >= 0 && (pf[bal_idx].revents & POLLIN))
			balance_readable(s);
		for (int i = 1; i < n; i++) {
			struct link *l = who[i];
			if (!l || l->fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (l == &s->rtu) {
				if (pf[i].revents & POLLIN)
					rtu_readable(s);
				else
					usleep(1000);   /* pty without a peer: socat not there yet */
			} else {
				tcp_readable(s, l);
			}
		}
		if (s->rtu.fd >= 0 && s->rtu.rx_len > 0) {
			int64_t quiet = wall_now(s) - s->rtu.last_rx_us;
			if (quiet >= RTU_SILENCE_US)
				rtu_process(s, true);
			if (quiet >= RTU_STALE_US)
				s->rtu.rx_len = 0;
		}
		for (int i = 0; i < MAX_CONN; i++)
			tx_flush(s, &s->conns[i], true);
		tx_flush(s, &s->rtu, false);
		pthread_mutex_unlock(&s->mu);
	}
}

/* ---- test hooks -------------------------------------------------------------------------------- */

void mtb_sim_server_truth(struct mtb_sim_server *s, struct mtb_sim_truth *out)
{
	pthread_mutex_lock(&s->mu);
	sync_time(s);
	mtb_sim_plant_truth(s->plant, out);
	pthread_mutex_unlock(&s->mu);
}

int mtb_sim_server_fault_add(struct mtb_sim_server *s, const struct mtb_sim_fault *f)
{
	pthread_mutex_lock(&s->mu);
	int rc = mtb_sim_plant_fault_add(s->plant, f);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void mtb_sim_server_faults_clear(struct mtb_sim_server *s)
{
	pthread_mutex_lock(&s->mu);
	mtb_sim_plant_faults_clear(s->plant);
	pthread_mutex_unlock(&s->mu);
}

void mtb_sim_truth_write_json(FILE *f, const struct mtb_sim_truth *t)
{
	fprintf(f, "{\"t_us\":%lld,\"flow_lph\":", (long long)t->t_us);
	mtb_json_double(f, t->flow_lph);
	fputs(",\"air_ml\":", f);
	mtb_json_double(f, t->air_ml);
	fprintf(f, ",\"reference\":{\"true_ul\":%lld,\"indicated_ul\":%lld,\"error_pct\":",
		(long long)t->ref_true_ul, (long long)t->ref_indicated_ul);
	mtb_json_double(f, t->ref_error_pct);
	fputs("},\"meters\":[", f);
	for (int i = 0; i < t->n_meters; i++) {
		const struct mtb_sim_truth_meter *m = &t->meters[i];
		fprintf(f, "%s{\"position\":%d,\"serial\":", i ? "," : "", i + 1);
		mtb_json_string(f, m->serial);
		fprintf(f, ",\"true_ul\":%lld,\"indicated_ul\":%lld,\"start_ul\":%lld,\"flow_lph\":",
			(long long)m->true_ul, (long long)m->indicated_ul, (long long)m->start_ul);
		mtb_json_double(f, m->flow_lph);
		fputs(",\"true_error_pct\":", f);
		mtb_json_double(f, m->true_error_pct);
		fputs("}", f);
	}
	fputs("]}", f);
}

/* ---- for the HTTP side (sim_http.c) ------------------------------------------------------------ */

void mtb_sim_server_lock(struct mtb_sim_server *s)
{
	pthread_mutex_lock(&s->mu);
	sync_time(s);
}

void mtb_sim_server_unlock(struct mtb_sim_server *s)
{
	pthread_mutex_unlock(&s->mu);
}

struct mtb_sim_plant *mtb_sim_server_plant(struct mtb_sim_server *s)
{
	return s->plant;
}

const struct mtb_sim_config *mtb_sim_server_config(const struct mtb_sim_server *s)
{
	return &s->cfg;
}
