/* Speed of the simulated bench, measured side by side in one run (scripts/bench.d/sim):
 *   physics   mtb_sim_plant_advance alone, 10 meters
 *   lockstep  the same over Modbus TCP on loopback (libmodbus client, server thread), per step
 *             size, with the requests a bench makes per step (advance, reference, temperatures)
 *   camera    one 640 x 480 snapshot over HTTP (render + JPEG)
 * Prints one line per figure. Not a test: nothing here passes or fails. */
#include "core/clock.h"
#include "sim/sim.h"
#include "sim/sim_server.h"

#include <arpa/inet.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static double now_s(void)
{
	return (double)mtb_clock_now_us(&mtb_clock_system) / 1e6;
}

static void *serve(void *arg)
{
	mtb_sim_server_run(arg);
	return NULL;
}

static void start_flow(modbus_t *c)
{
	modbus_set_slave(c, 1);
	modbus_write_register(c, 0, 5000);
	modbus_write_bit(c, 0, 1);
	modbus_set_slave(c, 2);
	modbus_write_bit(c, 0, 1);
	modbus_set_slave(c, 3);
	modbus_write_register(c, 0, 3000);
}

static size_t http_get(int port, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return 0;
	}
	char req[256];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	send(fd, req, (size_t)n, 0);
	char buf[65536];
	size_t total = 0;
	ssize_t r;
	while ((r = recv(fd, buf, sizeof buf, 0)) > 0)
		total += (size_t)r;
	close(fd);
	return total;
}

int main(void)
{
	struct mtb_sim_config *cfg = malloc(sizeof *cfg);
	struct mtb_errbuf eb;
	if (mtb_sim_config_load("demo", cfg, &eb) != MTB_OK) {
		fprintf(stderr, "bench_sim: %s\n", eb.msg);
		return 1;
	}

	/* physics alone: one hour of a running line, in 1 s advances */
	struct mtb_sim_plant *p;
	mtb_sim_plant_create(cfg, &p, &eb);
	mtb_sim_plant_set_pump_run(p, true);
	mtb_sim_plant_set_pump_hz(p, 50);
	mtb_sim_plant_set_inlet_open(p, true);
	mtb_sim_plant_set_cv_pct(p, 30);
	double t0 = now_s();
	for (int i = 0; i < 3600; i++)
		mtb_sim_plant_advance(p, 1000000);
	double dt = now_s() - t0;
	printf("physics   10 meters, 3600 s simulated in %.3f s wall: %.0f simulated s per wall s "
	       "(%.2f us per 10 ms step)\n", dt, 3600 / dt, dt / 360000 * 1e6);
	mtb_sim_plant_destroy(p);

	/* lockstep over Modbus TCP */
	struct mtb_sim_server_options o = { .tcp_host = "127.0.0.1", .http_host = "127.0.0.1", .lockstep = true };
	struct mtb_sim_server *s;
	if (mtb_sim_server_create(cfg, &o, &s, &eb) != MTB_OK) {
		fprintf(stderr, "bench_sim: %s\n", eb.msg);
		return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, serve, s);
	modbus_t *c = modbus_new_tcp("127.0.0.1", mtb_sim_server_tcp_port(s));
	modbus_connect(c);
	start_flow(c);
	static const uint32_t steps_us[] = { 10000, 100000, 1000000, 10000000 };
	for (size_t k = 0; k < sizeof steps_us / sizeof steps_us[0]; k++) {
		uint32_t step = steps_us[k];
		int n = step >= 1000000 ? 400 : 2000;
		t0 = now_s();
		for (int i = 0; i < n; i++) {
			uint16_t adv[2] = { (uint16_t)(step >> 16), (uint16_t)step }, r[8];
			modbus_set_slave(c, 100);
			modbus_write_registers(c, 4, 2, adv);
			modbus_set_slave(c, 10);
			modbus_read_input_registers(c, 0, 8, r);
			modbus_set_slave(c, 30);
			modbus_read_input_registers(c, 0, 1, r);
			modbus_set_slave(c, 31);
			modbus_read_input_registers(c, 0, 2, r);
		}
		dt = now_s() - t0;
		printf("lockstep  step %7.2f s, advance + 3 reads per step: %6.0f steps/s, %8.0f simulated s per wall s\n",
		       step / 1e6, n / dt, n * (step / 1e6) / dt);
	}
	modbus_close(c);
	modbus_free(c);

	/* cameras */
	int hp = mtb_sim_server_http_port(s);
	http_get(hp, "/camera/1/snapshot.jpg");   /* fonts and caches warm */
	int frames = 20;
	size_t bytes = 0;
	t0 = now_s();
	for (int i = 0; i < frames; i++) {
		char path[64];
		snprintf(path, sizeof path, "/camera/%d/snapshot.jpg", 1 + i % 10);
		bytes += http_get(hp, path);
	}
	dt = now_s() - t0;
	printf("camera    %dx%d snapshot over HTTP: %.1f ms each (%.0f kB), %d frames\n", cfg->camera.width,
	       cfg->camera.height, dt / frames * 1000, (double)bytes / frames / 1024, frames);
	mtb_sim_server_stop(s);
	pthread_join(th, NULL);
	mtb_sim_server_destroy(s);
	free(cfg);
	return 0;
}
