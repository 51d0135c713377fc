// The HAL against a Modbus implementation we did not write: Debian's python3-pymodbus serving
// the simulated bench's map (tests/hal/pymodbus_server.py encodes the values with Python's
// struct module). Checks every data type and word order of the map end to end, writes,
// exceptions, and a server that dies and comes back.
#include "hal/devices.h"
#include "hal/hal.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

extern char **environ;

namespace {

class PyServer {
public:
	explicit PyServer(int port = 0)
	{
		int p[2];
		if (pipe2(p, O_CLOEXEC) != 0)
			return;
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[1], 1);
		std::string script = MTB_SOURCE_DIR "/tests/hal/pymodbus_server.py", ps = std::to_string(port);
		const char *argv[] = { "/usr/bin/python3", script.c_str(), ps.c_str(), nullptr };
		if (posix_spawn(&pid_, argv[0], &fa, nullptr, (char **)argv, environ) != 0)
			pid_ = -1;
		posix_spawn_file_actions_destroy(&fa);
		close(p[1]);
		std::string line;
		char c;
		pollfd pf{ p[0], POLLIN, 0 };
		while (pid_ > 0 && poll(&pf, 1, 10000) > 0 && read(p[0], &c, 1) == 1 && c != '\n')
			line += c;
		close(p[0]);
		if (line.rfind("port ", 0) == 0)
			port_ = std::stoi(line.substr(5));
	}
	~PyServer() { stop(); }
	void stop()
	{
		if (pid_ > 0) {
			kill(pid_, SIGTERM);
			waitpid(pid_, nullptr, 0);
			pid_ = -1;
		}
	}
	int port() const { return port_; }

private:
	pid_t pid_ = -1;
	int port_ = 0;
};

// configs/benches/sim.yaml with the server's port.
std::string sim_bench(int port)
{
	std::ifstream f(MTB_SOURCE_DIR "/configs/benches/sim.yaml");
	std::stringstream ss;
	ss << f.rdbuf();
	std::string s = ss.str();
	size_t at = s.find("tcp://127.0.0.1:15020");
	EXPECT_NE(std::string::npos, at);
	s.replace(at, strlen("tcp://127.0.0.1:15020"), "tcp://127.0.0.1:" + std::to_string(port));
	return s;
}

struct HalOnPy {
	mtb_bench_cfg *cfg = nullptr;
	mtb_hal *hal = nullptr;
	explicit HalOnPy(int port)
	{
		std::string y = sim_bench(port);
		mtb_errbuf eb{};
		EXPECT_EQ(MTB_OK, mtb_bench_cfg_parse(y.data(), y.size(), "sim.yaml", &cfg, &eb)) << eb.msg;
		mtb_hal_opts o{};
		o.no_watchdog = true;
		EXPECT_EQ(MTB_OK, mtb_hal_create(&hal, cfg, &o, &eb)) << eb.msg;
	}
	~HalOnPy()
	{
		mtb_hal_destroy(hal);
		mtb_bench_cfg_destroy(cfg);
	}
	mtb_device *dev(const char *n) { return mtb_hal_device(hal, n); }
};

TEST(Pymodbus, EveryDeviceOfTheSimMap)
{
	PyServer py;
	ASSERT_GT(py.port(), 0) << "pymodbus server did not start";
	HalOnPy h(py.port());
	mtb_errbuf eb{};
	mtb_reference_sample ref{};
	ASSERT_EQ(MTB_OK, mtb_reference_read(h.dev("reference"), &ref, &eb)) << eb.msg;
	EXPECT_EQ(512.5, ref.flow_lph);                 // float32 CDAB
	EXPECT_EQ(98765432100LL, ref.totaliser_ul);     // float64 ABCD, 98765.4321 L
	EXPECT_EQ(987654321u, ref.pulses);              // uint32 CDAB
	double v;
	const char *unit;
	int64_t t;
	ASSERT_EQ(MTB_OK, mtb_transmitter_read(h.dev("p_inlet"), &v, &unit, &t, &eb)) << eb.msg;
	EXPECT_EQ((double)101.325f, v);                 // float32 BADC
	ASSERT_EQ(MTB_OK, mtb_transmitter_read(h.dev("p_outlet"), &v, &unit, &t, &eb)) << eb.msg;
	EXPECT_EQ(250.5, v);
	ASSERT_EQ(MTB_OK, mtb_transmitter_read(h.dev("t_reference"), &v, &unit, &t, &eb)) << eb.msg;
	EXPECT_DOUBLE_EQ(19.87, v);                     // int16 x0.01
	ASSERT_EQ(MTB_OK, mtb_transmitter_read(h.dev("t_outlet"), &v, &unit, &t, &eb)) << eb.msg;
	EXPECT_EQ(20.25, v);                            // float32 DCBA
	uint64_t sim_us;
	ASSERT_EQ(MTB_OK, mtb_sim_clock_read_us(h.dev("clock"), &sim_us, &eb)) << eb.msg;
	EXPECT_EQ(1234567890123u, sim_us);              // uint64 ABCD
	mtb_pump_state ps{};
	ASSERT_EQ(MTB_OK, mtb_pump_read(h.dev("pump"), &ps, &eb)) << eb.msg;
	EXPECT_TRUE(ps.running);
	EXPECT_DOUBLE_EQ(39.95, ps.frequency_hz);
	mtb_valve_state vs{};
	ASSERT_EQ(MTB_OK, mtb_valve_read(h.dev("inlet_valve"), &vs, &eb)) << eb.msg;
	EXPECT_TRUE(vs.is_closed);
	double pct;
	ASSERT_EQ(MTB_OK, mtb_control_valve_read_pct(h.dev("control_valve"), &pct, &t, &eb)) << eb.msg;
	EXPECT_DOUBLE_EQ(24.9, pct);

	// Writes, read back through pymodbus.
	ASSERT_EQ(MTB_OK, mtb_pump_set_frequency_hz(h.dev("pump"), 47.11, &eb)) << eb.msg;
	mtb_sample s;
	ASSERT_EQ(MTB_OK, mtb_hal_read(h.hal, "pump.frequency_set", &s, &eb)) << eb.msg;
	EXPECT_EQ(4711u, s.raw.v.u);
	ASSERT_EQ(MTB_OK, mtb_valve_set_open(h.dev("inlet_valve"), true, &eb)) << eb.msg;
	ASSERT_EQ(MTB_OK, mtb_valve_read(h.dev("inlet_valve"), &vs, &eb)) << eb.msg;
	EXPECT_TRUE(vs.cmd_open);
	ASSERT_EQ(MTB_OK, mtb_sim_clock_advance_us(h.dev("clock"), 70000, &eb)) << eb.msg;
	ASSERT_EQ(MTB_OK, mtb_hal_read(h.hal, "clock.advance_us", &s, &eb)) << eb.msg;
	EXPECT_EQ(70000u, s.raw.v.u);                   // uint32 ABCD written as two registers

	// pymodbus answers a read past its data block with "illegal data address".
	ASSERT_EQ(MTB_OK, mtb_hal_poll(h.hal, &eb)) << eb.msg;
	mtb_bus_req r{};
	r.op = MTB_OP_READ;
	r.function = MTB_FN_HOLDING;
	r.unit_id = 1;
	r.address = 100;
	r.count = 2;
	EXPECT_EQ(MTB_ERR_PROTO, mtb_bus_transact(mtb_hal_bus(h.hal, 0), &r, MTB_PRIO_CONTROL, &eb));
	EXPECT_NE(std::string::npos, std::string(eb.msg).find("exception 2 (illegal data address)")) << eb.msg;
}

TEST(Pymodbus, ServerRestartIsSurvived)
{
	auto py = std::make_unique<PyServer>();
	ASSERT_GT(py->port(), 0);
	int port = py->port();
	HalOnPy h(port);
	mtb_errbuf eb{};
	mtb_reference_sample ref{};
	ASSERT_EQ(MTB_OK, mtb_reference_read(h.dev("reference"), &ref, &eb)) << eb.msg;
	py.reset();   // the server dies
	EXPECT_NE(MTB_OK, mtb_reference_read(h.dev("reference"), &ref, &eb));
	py = std::make_unique<PyServer>(port);   // and comes back on the same port
	ASSERT_EQ(port, py->port());
	int rc = MTB_ERR_IO;
	for (int i = 0; i < 100 && rc != MTB_OK; i++) {
		std::this_thread::sleep_for(std::chrono::milliseconds(30));
		rc = mtb_reference_read(h.dev("reference"), &ref, &eb);
	}
	ASSERT_EQ(MTB_OK, rc) << eb.msg;
	EXPECT_EQ(512.5, ref.flow_lph);
}

}  // namespace
