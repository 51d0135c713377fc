/* meterbench hal: the hardware abstraction layer from the command line, for commissioning:
 * `hal probe` prints a JSON snapshot of every device, `hal set` writes one point. */
#include "cli.h"
#include "commands.h"

#include "core/json.h"
#include "hal/bench_cfg.h"
#include "hal/camera.h"
#include "hal/devices.h"
#include "hal/hal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char MTB_CMD_HAL_USAGE[] =
	"usage: meterbench hal probe --bench FILE [--no-cameras]\n"
	"       meterbench hal set --bench FILE DEVICE.POINT VALUE\n"
	"\n"
	"probe  reads every device of the bench once (one poll cycle) and prints one JSON object:\n"
	"       buses (connected, counters), devices with each point's value, unit, age_ms and\n"
	"       status (ok, timeout, offline, exception, error), balances, cameras (one frame each:\n"
	"       size and age). Exit 1 when any device or camera failed, after printing.\n"
	"set    writes VALUE (engineering units: scaled and range-checked by the point's map) to a\n"
	"       writable point, reads it back, prints {\"point\":...,\"value\":...,\"read_back\":...}.\n"
	"       A negative VALUE goes after --: meterbench hal set --bench B -- dev.point -1\n"
	"\n"
	"FILE is a bench file (configs/benches/NAME.yaml, docs/bench-config.md) or its name.\n"
	"No safe state is commanded by these tools (the watchdog is off): commissioning only.\n";

static const char *status_of(int rc)
{
	switch (rc) {
	case MTB_OK: return "ok";
	case MTB_ERR_TIMEOUT: return "timeout";
	case MTB_ERR_IO: return "offline";
	case MTB_ERR_PROTO: return "exception";
	default: return "error";
	}
}

static void print_value(const struct mtb_point_cfg *p, const struct mtb_sample *s)
{
	if (s->t_us == 0) {
		fputs("null", stdout);
		return;
	}
	switch (p->type) {
	case MTB_REG_BOOL:
		fputs(s->raw.v.i ? "true" : "false", stdout);
		return;
	case MTB_REG_INT64: case MTB_REG_UINT64: case MTB_REG_INT32: case MTB_REG_UINT32:
		if (p->scale == 1) {   /* exact: counters and clocks beyond 2^53 */
			if (p->type == MTB_REG_INT64 || p->type == MTB_REG_INT32)
				printf("%lld", (long long)s->raw.v.i);
			else
				printf("%llu", (unsigned long long)s->raw.v.u);
			return;
		}
		break;
	default:
		break;
	}
	mtb_json_double(stdout, s->value);
}

static int load(const char *cmd, const char *bench, struct mtb_bench_cfg **cfg, struct mtb_hal **hal)
{
	struct mtb_errbuf eb = { { 0 } };
	if (!bench)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: missing --bench FILE", cmd);
	if (mtb_bench_cfg_load(bench, cfg, &eb) != MTB_OK)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: %s", cmd, eb.msg);
	struct mtb_hal_opts o = { .no_watchdog = true };
	int rc = mtb_hal_create(hal, *cfg, &o, &eb);
	if (rc != MTB_OK) {
		mtb_bench_cfg_destroy(*cfg);
		return mtb_cli_error(rc == MTB_ERR_ARG ? MTB_EXIT_USAGE : MTB_EXIT_FAIL, "%s: %s", cmd, eb.msg);
	}
	return MTB_EXIT_OK;
}

static int probe(int argc, char **argv)
{
	const char *cmd = "hal probe";
	struct mtb_cli_opt opts[] = { { "bench", true, 0 }, { "no-cameras", false, 0 }, { 0 } };
	const char *pos[1];
	int n_pos, rc;
	if ((rc = mtb_cli_parse(cmd, argc, argv, opts, pos, 0, &n_pos)) != 0)
		return rc;
	struct mtb_bench_cfg *cfg;
	struct mtb_hal *hal;
	if ((rc = load(cmd, mtb_cli_get(opts, "bench"), &cfg, &hal)) != 0)
		return rc;
	struct mtb_errbuf eb = { { 0 } };
	mtb_hal_poll(hal, &eb);   /* per-point results below */
	int64_t now = mtb_clock_now_us(&mtb_clock_system);
	bool failed = false;

	printf("{\"bench\":");
	mtb_json_string(stdout, cfg->name);
	printf(",\"file\":");
	mtb_json_string(stdout, cfg->origin);
	printf(",\"buses\":[");
	for (int i = 0; i < cfg->n_buses; i++) {
		struct mtb_bus_health h;
		mtb_bus_health_get(mtb_hal_bus(hal, i), &h);
		printf("%s{\"name\":", i ? "," : "");
		mtb_json_string(stdout, cfg->buses[i].name);
		printf(",\"uri\":");
		mtb_json_string(stdout, cfg->buses[i].uri);
		printf(",\"connected\":%s,\"requests\":%llu,\"ok\":%llu,\"timeouts\":%llu,\"retries\":%llu,\"exceptions\":%llu}",
		       h.connected ? "true" : "false", (unsigned long long)h.n_requests, (unsigned long long)h.n_ok,
		       (unsigned long long)h.n_timeouts, (unsigned long long)h.n_retries, (unsigned long long)h.n_exceptions);
	}
	printf("],\"devices\":[");
	for (int d = 0; d < cfg->n_devices; d++) {
		const struct mtb_device_cfg *dc = &cfg->devices[d];
		printf("%s{\"name\":", d ? "," : "");
		mtb_json_string(stdout, dc->name);
		printf(",\"class\":");
		mtb_json_string(stdout, mtb_device_class_name(dc->cls));
		if (dc->cls == MTB_DEV_BALANCE) {
			int64_t mg = 0, t = 0;
			bool stable = false;
			struct mtb_errbuf be = { { 0 } };
			int brc = mtb_balance_read_mg(mtb_hal_device(hal, dc->name), &mg, &stable, &t, &be);
			printf(",\"uri\":");
			mtb_json_string(stdout, dc->uri);
			if (brc == MTB_OK) {
				printf(",\"mass_g\":");
				mtb_json_fixed(stdout, mg, 3);
				printf(",\"stable\":%s,\"status\":\"ok\"}", stable ? "true" : "false");
			} else {
				failed = true;
				printf(",\"status\":\"%s\",\"error\":", status_of(brc));
				mtb_json_string(stdout, be.msg);
				putchar('}');
			}
			continue;
		}
		printf(",\"bus\":");
		mtb_json_string(stdout, cfg->buses[dc->bus].name);
		printf(",\"unit_id\":%d,\"points\":[", dc->unit_id);
		for (int p = 0; p < dc->n_points; p++) {
			const struct mtb_point_cfg *pc = &dc->points[p];
			struct mtb_sample s;
			int prc = mtb_hal_get(hal, d, p, &s);
			printf("%s{\"name\":", p ? "," : "");
			mtb_json_string(stdout, pc->name);
			printf(",\"value\":");
			print_value(pc, &s);
			printf(",\"unit\":");
			if (pc->unit[0])
				mtb_json_string(stdout, pc->unit);
			else
				fputs("null", stdout);
			printf(",\"age_ms\":");
			if (s.t_us)
				mtb_json_double(stdout, round((double)(now - s.t_us) / 100.0) / 10.0);
			else
				fputs("null", stdout);
			printf(",\"status\":\"%s\"}", status_of(prc));
			failed |= prc != MTB_OK;
		}
		printf("]}");
	}
	printf("],\"cameras\":[");
	bool cams = !mtb_cli_get(opts, "no-cameras");
	for (int c = 0; c < cfg->n_cameras; c++) {
		const struct mtb_camera_cfg *cc = &cfg->cameras[c];
		printf("%s{\"name\":", c ? "," : "");
		mtb_json_string(stdout, cc->name);
		printf(",\"position\":%d,\"uri\":", cc->position);
		mtb_json_string(stdout, cc->uri);
		if (!cams) {
			printf(",\"status\":\"skipped\"}");
			continue;
		}
		struct mtb_camera *cam = NULL;
		struct mtb_image *img = NULL;
		struct mtb_errbuf ce = { { 0 } };
		struct mtb_camera_opts co = { .timeout_ms = 2000 };
		int crc = mtb_camera_open(&cam, cc, &co, &ce);
		if (crc == MTB_OK)
			crc = mtb_camera_grab(cam, &img, &ce);
		if (crc == MTB_OK) {
			printf(",\"width\":%d,\"height\":%d,\"t_mono_us\":%lld,\"status\":\"ok\"}", img->width, img->height,
			       (long long)img->t_mono_us);
		} else {
			failed = true;
			printf(",\"status\":\"%s\",\"error\":", status_of(crc));
			mtb_json_string(stdout, ce.msg);
			putchar('}');
		}
		mtb_image_destroy(img);
		mtb_camera_close(cam);
	}
	printf("]}\n");
	fflush(stdout);
	mtb_hal_destroy(hal);
	mtb_bench_cfg_destroy(cfg);
	return failed ? MTB_EXIT_FAIL : MTB_EXIT_OK;
}

static int set(int argc, char **argv)
{
	const char *cmd = "hal set";
	struct mtb_cli_opt opts[] = { { "bench", true, 0 }, { 0 } };
	const char *pos[2];
	int n_pos, rc;
	if ((rc = mtb_cli_parse(cmd, argc, argv, opts, pos, 2, &n_pos)) != 0)
		return rc;
	if (n_pos != 2)
		return mtb_cli_error(MTB_EXIT_USAGE, "%s: expected DEVICE.POINT VALUE", cmd);
	double value;
	if ((rc = mtb_cli_double(cmd, "VALUE", pos[1], &value)) != 0)
		return rc;
	struct mtb_bench_cfg *cfg;
	struct mtb_hal *hal;
	if ((rc = load(cmd, mtb_cli_get(opts, "bench"), &cfg, &hal)) != 0)
		return rc;
	struct mtb_errbuf eb = { { 0 } };
	int d, p;
	rc = mtb_hal_point_find(hal, pos[0], &d, &p, &eb);
	if (rc == MTB_OK)
		rc = mtb_hal_write_point(hal, d, p, value, &eb);
	int exit_code = MTB_EXIT_OK;
	if (rc != MTB_OK) {
		bool input = rc == MTB_ERR_ARG || rc == MTB_ERR_NOTFOUND || rc == MTB_ERR_RANGE;
		exit_code = mtb_cli_error(input ? MTB_EXIT_USAGE : MTB_EXIT_FAIL, "%s: %s", cmd, eb.msg);
	} else {
		struct mtb_sample s;
		int rrc = mtb_hal_read_point(hal, d, p, &s, &eb);
		printf("{\"point\":");
		mtb_json_string(stdout, pos[0]);
		printf(",\"value\":");
		mtb_json_double(stdout, value);
		printf(",\"read_back\":");
		if (rrc == MTB_OK)
			print_value(&cfg->devices[d].points[p], &s);
		else
			fputs("null", stdout);
		printf("}\n");
		if (rrc != MTB_OK)
			exit_code = mtb_cli_error(MTB_EXIT_FAIL, "%s: written, but reading back failed: %s", cmd, eb.msg);
	}
	mtb_hal_destroy(hal);
	mtb_bench_cfg_destroy(cfg);
	return exit_code;
}

int mtb_cmd_hal(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "probe") == 0)
		return probe(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "set") == 0)
		return set(argc - 1, argv + 1);
	return mtb_cli_error(MTB_EXIT_USAGE, "hal: expected 'probe' or 'set' (see: meterbench help hal)");
}
