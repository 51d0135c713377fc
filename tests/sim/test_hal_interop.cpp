// The bench's own client against the simulator: the HAL built from configs/benches/sim.yaml
// (only the ports changed to the test's free ones) drives the plant and reads every device and
// a camera. Both sides were written from docs/sim-register-map.md; this checks they agree.
#include "hal/camera.h"
#include "hal/devices.h"
#include "hal/hal.h"
#include "sim/sim_server.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <thread>

namespace {

struct Server {
	mtb_sim_config cfg;
	mtb_sim_server *s = nullptr;
	std::thread th;
	Server()
	{
		mtb_errbuf eb = {};
		EXPECT_EQ(mtb_sim_config_load("demo", &cfg, &eb), MTB_OK) << eb.msg;
		cfg.plant.temp_noise_c = 0;
		cfg.plant.pressure_noise_kpa = 0;
		mtb_sim_server_options o = {};
		o.tcp_host = "127.0.0.1";
		o.http_host = "127.0.0.1";
		o.lockstep = true;
		EXPECT_EQ(mtb_sim_server_create(&cfg, &o, &s, &eb), MTB_OK) << eb.msg;
		if (s)
			th = std::thread([this] { mtb_sim_server_run(s); });
	}
	~Server()
	{
		if (s) {
			mtb_sim_server_stop(s);
			th.join();
			mtb_sim_server_destroy(s);
		}
	}
};

TEST(SimHalInterop, BenchFileDevicesAgreeWithTheSimulator)
{
	Server srv;
	ASSERT_NE(srv.s, nullptr);
	mtb_bench_cfg *bc = nullptr;
	mtb_errbuf eb = {};
	ASSERT_EQ(mtb_bench_cfg_load("sim", &bc, &eb), MTB_OK) << eb.msg;
	char uri[64];
	std::snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", mtb_sim_server_tcp_port(srv.s));
	ASSERT_EQ(mtb_bus_cfg_parse_uri(&bc->buses[0], uri, &eb), MTB_OK) << eb.msg;
	mtb_hal_opts ho = {};
	ho.no_watchdog = true;
	mtb_hal *hal = nullptr;
	ASSERT_EQ(mtb_hal_create(&hal, bc, &ho, &eb), MTB_OK) << eb.msg;

	mtb_device *clock = mtb_hal_device(hal, "clock"), *pump = mtb_hal_device(hal, "pump"),
		   *inlet = mtb_hal_device(hal, "inlet_valve"), *cv = mtb_hal_device(hal, "control_valve"),
		   *ref = mtb_hal_device(hal, "reference");
	ASSERT_TRUE(clock && pump && inlet && cv && ref);
	uint64_t t = 1;
	ASSERT_EQ(mtb_sim_clock_read_us(clock, &t, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(t, 0u);
	ASSERT_EQ(mtb_pump_set_frequency_hz(pump, 50, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_pump_set_run(pump, true, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_valve_set_open(inlet, true, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_control_valve_set_pct(cv, 70, &eb), MTB_OK) << eb.msg;
	mtb_valve_state vs;
	ASSERT_EQ(mtb_sim_clock_advance_us(clock, 1000000, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_valve_read(inlet, &vs, &eb), MTB_OK) << eb.msg;
	EXPECT_TRUE(vs.cmd_open);
	EXPECT_FALSE(vs.is_open);     // still travelling
	EXPECT_FALSE(vs.is_closed);
	for (int i = 0; i < 59; i++)
		ASSERT_EQ(mtb_sim_clock_advance_us(clock, 1000000, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_sim_clock_read_us(clock, &t, &eb), MTB_OK);
	EXPECT_EQ(t, 60000000u);
	ASSERT_EQ(mtb_valve_read(inlet, &vs, &eb), MTB_OK);
	EXPECT_TRUE(vs.is_open);
	mtb_pump_state ps;
	ASSERT_EQ(mtb_pump_read(pump, &ps, &eb), MTB_OK) << eb.msg;
	EXPECT_TRUE(ps.running);
	EXPECT_DOUBLE_EQ(ps.frequency_hz, 50.0);
	EXPECT_FALSE(ps.fault);
	double pct = 0;
	int64_t tm;
	ASSERT_EQ(mtb_control_valve_read_pct(cv, &pct, &tm, &eb), MTB_OK) << eb.msg;
	EXPECT_DOUBLE_EQ(pct, 70.0);

	mtb_sim_truth tr;
	mtb_sim_server_truth(srv.s, &tr);
	mtb_reference_sample rs;
	ASSERT_EQ(mtb_reference_read(ref, &rs, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(rs.totaliser_ul, tr.ref_indicated_ul);    // float64 litres back to exact uL
	ASSERT_TRUE(rs.has_pulses);
	EXPECT_EQ(rs.pulses, (uint64_t)(tr.ref_indicated_ul / 100));
	EXPECT_EQ(rs.pulses_per_l, 10000.0);
	EXPECT_NEAR(rs.flow_lph, tr.flow_lph * (1 + tr.ref_error_pct / 100), 0.01 * tr.flow_lph);

	const char *unit = nullptr;
	double v;
	mtb_device *t_ref = mtb_hal_device(hal, "t_reference"), *t_out = mtb_hal_device(hal, "t_outlet"),
		   *p_in = mtb_hal_device(hal, "p_inlet"), *p_out = mtb_hal_device(hal, "p_outlet");
	ASSERT_TRUE(t_ref && t_out && p_in && p_out);
	ASSERT_EQ(mtb_transmitter_read(t_ref, &v, &unit, &tm, &eb), MTB_OK) << eb.msg;
	EXPECT_NEAR(v, srv.cfg.plant.water_temp_c, 1e-9);
	ASSERT_EQ(mtb_transmitter_read(t_out, &v, &unit, &tm, &eb), MTB_OK) << eb.msg;
	EXPECT_NEAR(v, srv.cfg.plant.water_temp_c - srv.cfg.plant.temp_drop_c, 1e-5);
	double pin, pout;
	ASSERT_EQ(mtb_transmitter_read(p_in, &pin, &unit, &tm, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_transmitter_read(p_out, &pout, &unit, &tm, &eb), MTB_OK) << eb.msg;
	double k = srv.cfg.plant.line_loss_kpa / std::pow(srv.cfg.plant.line_loss_flow_lph, 2);
	EXPECT_NEAR(pin - pout, k * tr.flow_lph * tr.flow_lph, 0.01 * k * tr.flow_lph * tr.flow_lph);

	// the bench's camera driver on the simulator's camera 1
	ASSERT_GE(bc->n_cameras, 1);
	mtb_camera_cfg cc = bc->cameras[0];
	std::snprintf(cc.uri, sizeof cc.uri, "http://127.0.0.1:%d/camera/1/snapshot.jpg", mtb_sim_server_http_port(srv.s));
	mtb_camera *cam = nullptr;
	ASSERT_EQ(mtb_camera_open(&cam, &cc, nullptr, &eb), MTB_OK) << eb.msg;
	mtb_image *img = nullptr;
	ASSERT_EQ(mtb_camera_grab(cam, &img, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(img->width, srv.cfg.camera.width);
	EXPECT_EQ(img->height, srv.cfg.camera.height);
	mtb_image_destroy(img);
	mtb_camera_close(cam);

	mtb_hal_destroy(hal);
	mtb_bench_cfg_destroy(bc);
}

} // namespace
