// The simulated can's balance: the MT-SICS replies (pure), and the whole serial path -- the
// simulator process's pseudo-terminal read by the HAL's balance driver (termios fallback of
// hal/serial_link.c) while the can is filled through the HAL's valve over Modbus -- with the
// run-time faults balance-silent and balance-unstable, tare and zero; each with the balance
// speaking MT-SICS, SBI and SBI with an ID (hal/drv_balance.c, hal/drv_balance_sbi.c).
#include "hal/balance_parse.h"
#include "hal/camera.h"
#include "hal/devices.h"
#include "hal/hal.h"
#include "sim/can_sim.h"
#include "sim/sim_server.h"
#include "sim/sim_sics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

std::string reply(const char *cmd, const mtb_sim_balance_now &now, mtb_sim_balance_state &st)
{
	char out[80];
	size_t n = mtb_sim_sics_reply(cmd, strlen(cmd), &now, &st, out, sizeof out);
	return std::string(out, n);
}

TEST(SimSics, WeighsZerosTaresAndRefuses)
{
	mtb_sim_balance_now now = { 23456789.4, true, 32e6, 100 };   // 23 456.789 4 g, 0.1 g steps
	mtb_sim_balance_state st = {};
	EXPECT_EQ(reply("SI", now, st), "S S    23456.8 g");
	EXPECT_EQ(reply("S", now, st), "S S    23456.8 g");
	now.stable = false;
	EXPECT_EQ(reply("SI", now, st), "S D    23456.8 g");
	EXPECT_EQ(reply("S", now, st), "S I");
	EXPECT_EQ(reply("Z", now, st), "Z I");
	EXPECT_EQ(reply("T", now, st), "T I");
	now.stable = true;
	now.gross_mg = 3000000;
	EXPECT_EQ(reply("Z", now, st), "Z A");
	EXPECT_EQ(reply("SI", now, st), "S S        0.0 g");
	now.gross_mg = 3500000;
	EXPECT_EQ(reply("T", now, st), "T S      500.0 g");
	now.gross_mg = 3400000;
	EXPECT_EQ(reply("SI", now, st), "S S     -100.0 g");   // net below the tare
	EXPECT_EQ(reply("@", now, st), "I4 A \"" MTB_SIM_BALANCE_SERIAL "\"");
	EXPECT_EQ(reply("SI", now, st), "S S      400.0 g");   // reset clears the tare, not the zero
	now.gross_mg = 32000001;
	EXPECT_EQ(reply("SI", now, st), "S +");
	EXPECT_EQ(reply("S", now, st), "S +");
	EXPECT_EQ(reply("Z", now, st), "Z +");
	now.gross_mg = 3000000 - 0.03 * 32e6;
	EXPECT_EQ(reply("SI", now, st), "S -");
	EXPECT_EQ(reply("SIR", now, st), "ES");
	EXPECT_EQ(reply("", now, st), "ES");
	now = { 1234.0, true, 1e6, 1 };
	st = {};
	EXPECT_EQ(reply("SI", now, st), "S S      1.234 g");
	now.step_mg = 10;
	EXPECT_EQ(reply("SI", now, st), "S S       1.23 g");
}

// Whatever the simulated balance says, the bench's parser reads the same mass and stability.
TEST(SimSics, BenchParserReadsWhatTheBalanceSays)
{
	const int64_t steps[] = { 1, 10, 100, 1000 };
	for (int64_t step : steps)
		for (double g : { 0.0, 0.4, 12.3456, 999.99, 23456.789, -5.5 }) {
			mtb_sim_balance_now now = { g * 1000, (int)(g * 10) % 2 == 0, 1e9, step };
			mtb_sim_balance_state st = {};
			std::string r = reply("SI", now, st);
			mtb_balance_reading br;
			const char *why = nullptr;
			ASSERT_EQ(mtb_balance_parse_sics(r.c_str(), r.size(), &br, &why), MTB_OK) << r << ": " << why;
			EXPECT_EQ(br.mass_mg, std::llround(g * 1000 / (double)step) * step) << r;
			EXPECT_EQ(br.stable, now.stable) << r;
		}
}

struct CanServer {
	mtb_sim_config cfg;
	mtb_sim_server *s = nullptr;
	std::thread th;
	explicit CanServer(const char *balance_protocol = nullptr)
	{
		mtb_errbuf eb = {};
		EXPECT_EQ(mtb_sim_config_load(MTB_SOURCE_DIR "/configs/sim/can-20l.yaml", &cfg, &eb), MTB_OK) << eb.msg;
		mtb_sim_server_options o = {};
		o.tcp_host = "127.0.0.1";
		o.http_host = "127.0.0.1";
		o.lockstep = true;
		o.balance_protocol = balance_protocol;
		EXPECT_EQ(mtb_sim_server_create(&cfg, &o, &s, &eb), MTB_OK) << eb.msg;
		if (s)
			th = std::thread([this] { mtb_sim_server_run(s); });
	}
	~CanServer()
	{
		if (s) {
			mtb_sim_server_stop(s);
			th.join();
			mtb_sim_server_destroy(s);
		}
	}
};

// configs/benches/sim-can.yaml with the test's ports and pseudo-terminal.
mtb_bench_cfg *bench_for(mtb_sim_server *s)
{
	mtb_bench_cfg *bc = nullptr;
	mtb_errbuf eb = {};
	EXPECT_EQ(mtb_bench_cfg_load("sim-can", &bc, &eb), MTB_OK) << eb.msg;
	if (!bc)
		return nullptr;
	char uri[300];
	std::snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", mtb_sim_server_tcp_port(s));
	EXPECT_EQ(mtb_bus_cfg_parse_uri(&bc->buses[0], uri, &eb), MTB_OK) << eb.msg;
	int b = mtb_bench_cfg_device(bc, "balance");
	EXPECT_GE(b, 0);
	std::snprintf(bc->devices[b].uri, sizeof bc->devices[b].uri, "serial://%s?baud=9600", mtb_sim_server_balance_path(s));
	std::snprintf(bc->devices[b].protocol, sizeof bc->devices[b].protocol, "%s",
		      mtb_sim_server_balance_protocol(s) == MTB_SIM_BALANCE_SICS ? "sics" : "sbi");
	std::snprintf(bc->cameras[0].uri, sizeof bc->cameras[0].uri, "http://127.0.0.1:%d/can/neck.png",
		      mtb_sim_server_http_port(s));
	return bc;
}

// The balance's protocol: what the simulator speaks, the bench file's protocol follows.
class SimCanBalance : public ::testing::TestWithParam<const char *> {};
INSTANTIATE_TEST_SUITE_P(Protocols, SimCanBalance, ::testing::Values("sics", "sbi", "sbi-id"),
			 [](const ::testing::TestParamInfo<const char *> &i) {
				 return std::string(i.param) == "sbi-id" ? std::string("sbi_id") : std::string(i.param);
			 });

TEST_P(SimCanBalance, HalFillsThroughTheValveAndWeighsOverThePty)
{
	CanServer srv(GetParam());
	ASSERT_NE(srv.s, nullptr);
	ASSERT_NE(mtb_sim_server_balance_path(srv.s), nullptr);
	EXPECT_EQ(std::strncmp(mtb_sim_server_balance_path(srv.s), "/dev/pts/", 9), 0);
	mtb_bench_cfg *bc = bench_for(srv.s);
	ASSERT_NE(bc, nullptr);
	mtb_hal_opts ho = {};
	ho.no_watchdog = true;
	mtb_hal *hal = nullptr;
	mtb_errbuf eb = {};
	ASSERT_EQ(mtb_hal_create(&hal, bc, &ho, &eb), MTB_OK) << eb.msg;
	mtb_device *clock = mtb_hal_device(hal, "clock"), *fill = mtb_hal_device(hal, "can_fill"),
		   *drain = mtb_hal_device(hal, "can_drain"), *bal = mtb_hal_device(hal, "balance"),
		   *tw = mtb_hal_device(hal, "t_can_water"), *ta = mtb_hal_device(hal, "t_air"),
		   *pa = mtb_hal_device(hal, "p_air"), *rh = mtb_hal_device(hal, "rh_air");
	ASSERT_TRUE(clock && fill && drain && bal && tw && ta && pa && rh);

	int64_t m0 = 0, m = 0;
	bool stable = false;
	ASSERT_EQ(mtb_balance_read_mg(bal, &m0, &stable, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_TRUE(stable);
	EXPECT_EQ(m0, 3000000);   // the dry can (tare 0.15 x nominal)

	double v;
	const char *unit;
	ASSERT_EQ(mtb_transmitter_read(tw, &v, &unit, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_NEAR(v, 23.5, 0.005);
	ASSERT_EQ(mtb_transmitter_read(ta, &v, &unit, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_NEAR(v, 22.0, 0.005);
	ASSERT_EQ(mtb_transmitter_read(pa, &v, &unit, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_NEAR(v, 1008.0, 0.05);
	ASSERT_EQ(mtb_transmitter_read(rh, &v, &unit, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_NEAR(v, 55.0, 0.005);

	// 10 s through the fill valve: 1 L (20 L in 200 s), moving water -> dynamic
	ASSERT_EQ(mtb_valve_set_open(fill, true, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_sim_clock_advance_us(clock, 10000000, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_balance_read_mg(bal, &m, &stable, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_FALSE(stable);
	ASSERT_EQ(mtb_valve_set_open(fill, false, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_sim_clock_advance_us(clock, 1000000, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_balance_read_mg(bal, &m, &stable, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_FALSE(stable) << "still settling 1 s after the water stopped";
	ASSERT_EQ(mtb_sim_clock_advance_us(clock, 3000000, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_balance_read_mg(bal, &m, &stable, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_TRUE(stable);
	// 1 L at 23.5 C in conventional mass: rho_w (1 - rho_a/rho_w)/(1 - rho_a/8000) ~ 996.3 g
	EXPECT_NEAR((double)(m - m0), 996300, 1500);
	mtb_hal_destroy(hal);
	mtb_bench_cfg_destroy(bc);
}

TEST_P(SimCanBalance, SilentAndUnstableFaults)
{
	CanServer srv(GetParam());
	ASSERT_NE(srv.s, nullptr);
	mtb_bench_cfg *bc = bench_for(srv.s);
	ASSERT_NE(bc, nullptr);
	mtb_hal_opts ho = {};
	ho.no_watchdog = true;
	mtb_hal *hal = nullptr;
	mtb_errbuf eb = {};
	ASSERT_EQ(mtb_hal_create(&hal, bc, &ho, &eb), MTB_OK) << eb.msg;
	mtb_device *bal = mtb_hal_device(hal, "balance");
	ASSERT_NE(bal, nullptr);
	int64_t m = 0;
	bool stable = false;
	ASSERT_EQ(mtb_balance_read_mg(bal, &m, &stable, nullptr, &eb), MTB_OK) << eb.msg;

	mtb_sim_fault f = {};
	f.kind = MTB_SIM_FAULT_BALANCE_SILENT;
	f.unit = -1;
	f.count = -1;
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	EXPECT_EQ(mtb_balance_read_mg(bal, &m, &stable, nullptr, &eb), MTB_ERR_TIMEOUT);
	mtb_sim_server_faults_clear(srv.s);
	ASSERT_EQ(mtb_balance_read_mg(bal, &m, &stable, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_TRUE(stable);

	f.kind = MTB_SIM_FAULT_BALANCE_UNSTABLE;
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(mtb_balance_read_mg(bal, &m, &stable, nullptr, &eb), MTB_OK) << eb.msg;
		EXPECT_FALSE(stable);
	}
	mtb_hal_destroy(hal);
	mtb_bench_cfg_destroy(bc);
}

TEST_P(SimCanBalance, TareAndZero)
{
	CanServer srv(GetParam());
	ASSERT_NE(srv.s, nullptr);
	mtb_bench_cfg *bc = bench_for(srv.s);
	ASSERT_NE(bc, nullptr);
	mtb_hal_opts ho = {};
	ho.no_watchdog = true;
	mtb_hal *hal = nullptr;
	mtb_errbuf eb = {};
	ASSERT_EQ(mtb_hal_create(&hal, bc, &ho, &eb), MTB_OK) << eb.msg;
	mtb_device *bal = mtb_hal_device(hal, "balance"), *clock = mtb_hal_device(hal, "clock"),
		   *fill = mtb_hal_device(hal, "can_fill");
	ASSERT_TRUE(bal && clock && fill);
	int64_t m = 0;
	bool stable = false;
	ASSERT_EQ(mtb_balance_read_mg(bal, &m, &stable, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(m, 3000000);   // the dry can
	ASSERT_EQ(mtb_balance_tare(bal, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_balance_read_mg(bal, &m, &stable, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(m, 0);
	EXPECT_TRUE(stable);
	// 5 s of filling (0.5 L), settled: the net mass of the water alone
	ASSERT_EQ(mtb_valve_set_open(fill, true, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_sim_clock_advance_us(clock, 5000000, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_valve_set_open(fill, false, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_sim_clock_advance_us(clock, 5000000, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_balance_read_mg(bal, &m, &stable, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_TRUE(stable);
	EXPECT_NEAR((double)m, 498150, 1000);   // 0.5 L at 23.5 C in conventional mass
	// zero: the display reads 0 with the water on, and the tare is gone
	ASSERT_EQ(mtb_balance_zero(bal, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_balance_read_mg(bal, &m, &stable, nullptr, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(m, 0);
	// while the water moves the balance does not tare: refused, never a false zero
	ASSERT_EQ(mtb_valve_set_open(fill, true, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_sim_clock_advance_us(clock, 2000000, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(mtb_balance_tare(bal, &eb), MTB_ERR_REFUSED) << eb.msg;
	ASSERT_EQ(mtb_valve_set_open(fill, false, &eb), MTB_OK) << eb.msg;
	mtb_hal_destroy(hal);
	mtb_bench_cfg_destroy(bc);
}

}  // namespace
