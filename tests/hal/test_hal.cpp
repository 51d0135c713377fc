// The HAL with its drivers and safety watchdog against our fault-injecting Modbus server, over
// loopback TCP, using the simulated bench's register map (docs/sim-register-map.md).
#include "fault_server.h"

#include "hal/devices.h"
#include "hal/hal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

namespace {

// The devices of configs/benches/sim.yaml; sensors on bus "a", actuators on bus "b" (which may
// be the same server).
std::string bench_yaml(int port_a, int port_b, int deadline_ms = 3000, int poll_ms = 0)
{
	std::string s = "name: test\nbuses:\n";
	s += "  - { name: a, uri: \"tcp://127.0.0.1:" + std::to_string(port_a) + "\", response_timeout_ms: 100, retries: 1, poll_ms: " +
	     std::to_string(poll_ms) + ", backoff_max_ms: 200 }\n";
	s += "  - { name: b, uri: \"tcp://127.0.0.1:" + std::to_string(port_b) + "\", response_timeout_ms: 100, retries: 1, poll_ms: " +
	     std::to_string(poll_ms) + ", backoff_max_ms: 200 }\n";
	s += R"(devices:
  - name: clock
    class: sim-clock
    bus: a
    unit_id: 100
    points:
      - { name: time_us,     function: holding, address: 0, type: uint64, order: ABCD, unit: us }
      - { name: advance_us,  function: holding, address: 4, type: uint32, order: ABCD, unit: us, access: rw }
  - name: pump
    class: pump
    bus: b
    unit_id: 1
    points:
      - { name: run,           function: coil,    address: 0, type: bool, access: rw }
      - { name: frequency_set, function: holding, address: 0, type: uint16, order: ABCD, scale: 0.01, unit: Hz, access: rw }
      - { name: frequency,     function: input,   address: 0, type: uint16, order: ABCD, scale: 0.01, unit: Hz }
      - { name: fault,         function: discrete, address: 0, type: bool }
  - name: inlet_valve
    class: valve
    bus: b
    unit_id: 2
    points:
      - { name: open_cmd,   function: coil,     address: 0, type: bool, access: rw }
      - { name: is_open,    function: discrete, address: 0, type: bool }
      - { name: is_closed,  function: discrete, address: 1, type: bool }
  - name: control_valve
    class: control-valve
    bus: b
    unit_id: 3
    points:
      - { name: position_set, function: holding, address: 0, type: uint16, order: ABCD, scale: 0.01, unit: "%", access: rw }
      - { name: position,     function: input,   address: 0, type: uint16, order: ABCD, scale: 0.01, unit: "%" }
  - name: reference
    class: reference-meter
    bus: a
    unit_id: 10
    points:
      - { name: flow,       function: input, address: 0, type: float32, order: CDAB, unit: L/h }
      - { name: totaliser,  function: input, address: 2, type: float64, order: ABCD, unit: L }
      - { name: pulses,     function: input, address: 6, type: uint32, order: CDAB, unit: pulse }
    pulses_per_l: 10000
  - name: p_inlet
    class: pressure
    bus: a
    unit_id: 20
    points:
      - { name: pressure, function: input, address: 0, type: float32, order: BADC, unit: kPa }
  - name: t_reference
    class: temperature
    bus: a
    unit_id: 30
    points:
      - { name: temperature, function: input, address: 0, type: int16, order: ABCD, scale: 0.01, unit: C }
  - name: t_outlet
    class: temperature
    bus: a
    unit_id: 31
    points:
      - { name: temperature, function: input, address: 0, type: float32, order: DCBA, unit: C }
safety:
)";
	s += "  bus_deadline_ms: " + std::to_string(deadline_ms) + "\n";
	s += R"(  safe_state:
    - { device: control_valve, point: position_set, value: 0 }
    - { device: pump, point: run, value: 0 }
    - { device: inlet_valve, point: open_cmd, value: 0 }
)";
	return s;
}

// Values as a simulator would serve them, encoded by hand in each device's order.
void fill_sensors(FaultServer &s)
{
	// flow 123456.0 L/h float32 CDAB: 0x47F12000 -> 0x2000 0x47F1
	s.set_input(10, 0, 0x2000);
	s.set_input(10, 1, 0x47F1);
	// totaliser 123456.789 L float64 ABCD: 0x40FE240C9FBE76C9
	s.set_input(10, 2, 0x40FE);
	s.set_input(10, 3, 0x240C);
	s.set_input(10, 4, 0x9FBE);
	s.set_input(10, 5, 0x76C9);
	// pulses 3735928559 uint32 CDAB: 0xDEADBEEF -> 0xBEEF 0xDEAD
	s.set_input(10, 6, 0xBEEF);
	s.set_input(10, 7, 0xDEAD);
	// pressure -0.15625 kPa float32 BADC: 0xBE200000 -> 0x20BE 0x0000
	s.set_input(20, 0, 0x20BE);
	s.set_input(20, 1, 0x0000);
	// 21.37 C int16 x0.01 -> 2137
	s.set_input(30, 0, 2137);
	// 123456.0 C (absurd but exact) float32 DCBA: 0x47F12000 -> 0x0020 0xF147
	s.set_input(31, 0, 0x0020);
	s.set_input(31, 1, 0xF147);
	// lockstep clock 0x0102030405060708 us uint64 ABCD
	s.set_holding(100, 0, 0x0102);
	s.set_holding(100, 1, 0x0304);
	s.set_holding(100, 2, 0x0506);
	s.set_holding(100, 3, 0x0708);
}

struct Cfg {
	mtb_bench_cfg *c = nullptr;
	explicit Cfg(const std::string &y)
	{
		mtb_errbuf eb{};
		EXPECT_EQ(MTB_OK, mtb_bench_cfg_parse(y.data(), y.size(), "test.yaml", &c, &eb)) << eb.msg;
	}
	~Cfg() { mtb_bench_cfg_destroy(c); }
};

struct Reports {
	std::mutex mu;
	std::vector<mtb_hal_safe_report> all;
	static void cb(void *user, const mtb_hal_safe_report *r)
	{
		auto *self = static_cast<Reports *>(user);
		std::lock_guard<std::mutex> l(self->mu);
		self->all.push_back(*r);
	}
	// Waits for a report, after the first `after` ones, of a safe state reached.
	bool wait_done(int timeout_ms, size_t after = 0)
	{
		for (int i = 0; i < timeout_ms / 10; i++) {
			{
				std::lock_guard<std::mutex> l(mu);
				if (all.size() > after && all.back().t_done_us)
					return true;
			}
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		}
		return false;
	}
	mtb_hal_safe_report last()
	{
		std::lock_guard<std::mutex> l(mu);
		return all.back();
	}
	size_t count()
	{
		std::lock_guard<std::mutex> l(mu);
		return all.size();
	}
};

struct Hal {
	mtb_hal *h = nullptr;
	Hal(const mtb_bench_cfg *c, const mtb_clock *clk = nullptr, Reports *rep = nullptr, bool no_watchdog = false)
	{
		mtb_hal_opts o{};
		o.clock = clk;
		o.no_watchdog = no_watchdog;
		if (rep) {
			o.on_safe_state = Reports::cb;
			o.user = rep;
		}
		mtb_errbuf eb{};
		EXPECT_EQ(MTB_OK, mtb_hal_create(&h, c, &o, &eb)) << eb.msg;
	}
	~Hal() { mtb_hal_destroy(h); }
	mtb_device *dev(const char *n) { return mtb_hal_device(h, n); }
};

TEST(Hal, DriversReadEveryDeviceOfTheSimMap)
{
	auto srv = FaultServer::tcp();
	fill_sensors(*srv);
	srv->set_input(1, 0, 4998);          // pump at 49.98 Hz
	srv->set_discrete(2, 1, true);       // inlet valve closed
	srv->set_input(3, 0, 1234);          // control valve at 12.34 %
	Cfg cfg(bench_yaml(srv->port(), srv->port()));
	mtb_clock_manual man{ 5000000 };
	mtb_clock clk = mtb_clock_manual_make(&man);
	Hal hal(cfg.c, &clk);
	mtb_errbuf eb{};

	mtb_reference_sample ref{};
	ASSERT_EQ(MTB_OK, mtb_reference_read(hal.dev("reference"), &ref, &eb)) << eb.msg;
	EXPECT_EQ(123456.0, ref.flow_lph);
	EXPECT_EQ(123456789000LL, ref.totaliser_ul);   // 123456.789 L in integer uL
	EXPECT_TRUE(ref.has_pulses);
	EXPECT_EQ(3735928559ULL, ref.pulses);
	EXPECT_EQ(10000.0, ref.pulses_per_l);
	EXPECT_EQ(5000000, ref.t_mono_us);             // the injected clock
	// Flow, totaliser and pulses come from one exchange.
	int reads_of_unit10 = 0;
	for (auto &s : srv->seen())
		reads_of_unit10 += s.unit == 10;
	EXPECT_EQ(1, reads_of_unit10);

	double v;
	const char *unit;
	int64_t t;
	ASSERT_EQ(MTB_OK, mtb_transmitter_read(hal.dev("p_inlet"), &v, &unit, &t, &eb)) << eb.msg;
	EXPECT_EQ(-0.15625, v);
	EXPECT_STREQ("kPa", unit);
	ASSERT_EQ(MTB_OK, mtb_transmitter_read(hal.dev("t_reference"), &v, &unit, &t, &eb)) << eb.msg;
	EXPECT_DOUBLE_EQ(21.37, v);
	ASSERT_EQ(MTB_OK, mtb_transmitter_read(hal.dev("t_outlet"), &v, &unit, &t, &eb)) << eb.msg;
	EXPECT_EQ(123456.0, v);
	uint64_t sim_us;
	ASSERT_EQ(MTB_OK, mtb_sim_clock_read_us(hal.dev("clock"), &sim_us, &eb)) << eb.msg;
	EXPECT_EQ(0x0102030405060708ULL, sim_us);
	ASSERT_EQ(MTB_OK, mtb_sim_clock_advance_us(hal.dev("clock"), 0x00012345, &eb)) << eb.msg;
	EXPECT_EQ(0x0001, srv->holding(100, 4));
	EXPECT_EQ(0x2345, srv->holding(100, 5));

	mtb_pump_state ps{};
	ASSERT_EQ(MTB_OK, mtb_pump_set_frequency_hz(hal.dev("pump"), 50.0, &eb)) << eb.msg;
	EXPECT_EQ(5000, srv->holding(1, 0));
	ASSERT_EQ(MTB_OK, mtb_pump_set_run(hal.dev("pump"), true, &eb)) << eb.msg;
	EXPECT_TRUE(srv->coil(1, 0));
	ASSERT_EQ(MTB_OK, mtb_pump_read(hal.dev("pump"), &ps, &eb)) << eb.msg;
	EXPECT_TRUE(ps.running);
	EXPECT_DOUBLE_EQ(49.98, ps.frequency_hz);
	EXPECT_FALSE(ps.fault);
	EXPECT_EQ(MTB_ERR_RANGE, mtb_pump_set_frequency_hz(hal.dev("pump"), -1, &eb));

	mtb_valve_state vs{};
	ASSERT_EQ(MTB_OK, mtb_valve_read(hal.dev("inlet_valve"), &vs, &eb)) << eb.msg;
	EXPECT_TRUE(vs.has_switches);
	EXPECT_TRUE(vs.is_closed);
	EXPECT_FALSE(vs.is_open);
	ASSERT_EQ(MTB_OK, mtb_valve_set_open(hal.dev("inlet_valve"), true, &eb)) << eb.msg;
	EXPECT_TRUE(srv->coil(2, 0));

	double pct;
	ASSERT_EQ(MTB_OK, mtb_control_valve_read_pct(hal.dev("control_valve"), &pct, &t, &eb)) << eb.msg;
	EXPECT_DOUBLE_EQ(12.34, pct);
	ASSERT_EQ(MTB_OK, mtb_control_valve_set_pct(hal.dev("control_valve"), 37.5, &eb)) << eb.msg;
	EXPECT_EQ(3750, srv->holding(3, 0));
	EXPECT_EQ(MTB_ERR_RANGE, mtb_control_valve_set_pct(hal.dev("control_valve"), 100.5, &eb));

	// A call for another class is refused, not guessed.
	EXPECT_EQ(MTB_ERR_NOTSUP, mtb_pump_set_run(hal.dev("reference"), true, &eb));
	EXPECT_STREQ("reference: a reference-meter cannot run or stop as a pump", eb.msg);
	EXPECT_EQ(nullptr, hal.dev("nothing"));
}

TEST(Hal, PointsByNameAndPollCycle)
{
	auto srv = FaultServer::tcp();
	fill_sensors(*srv);
	Cfg cfg(bench_yaml(srv->port(), srv->port()));
	Hal hal(cfg.c, nullptr, nullptr, true);
	mtb_errbuf eb{};
	mtb_sample s;
	ASSERT_EQ(MTB_OK, mtb_hal_read(hal.h, "t_reference.temperature", &s, &eb)) << eb.msg;
	EXPECT_DOUBLE_EQ(21.37, s.value);
	EXPECT_EQ(2137, s.raw.v.i);
	EXPECT_EQ(MTB_ERR_NOTFOUND, mtb_hal_read(hal.h, "t_ref.temperature", &s, &eb));
	EXPECT_NE(std::string::npos, std::string(eb.msg).find("no device 't_ref' in test.yaml (devices: clock, pump,")) << eb.msg;
	EXPECT_EQ(MTB_ERR_NOTFOUND, mtb_hal_read(hal.h, "pump.speed", &s, &eb));
	EXPECT_STREQ("device 'pump' has no point 'speed' (points: run, frequency_set, frequency, fault)", eb.msg);
	EXPECT_EQ(MTB_ERR_ARG, mtb_hal_read(hal.h, "pump", &s, &eb));
	EXPECT_EQ(MTB_ERR_ARG, mtb_hal_write(hal.h, "reference.flow", 1, &eb));
	EXPECT_STREQ("reference.flow is read-only (access: r)", eb.msg);
	EXPECT_EQ(MTB_ERR_RANGE, mtb_hal_write(hal.h, "pump.frequency_set", 700, &eb));
	ASSERT_EQ(MTB_OK, mtb_hal_write(hal.h, "pump.frequency_set", 12.5, &eb)) << eb.msg;
	EXPECT_EQ(1250, srv->holding(1, 0));

	srv->clear_seen();
	ASSERT_EQ(MTB_OK, mtb_hal_poll(hal.h, &eb)) << eb.msg;
	// One request per block: clock 1, pump 4, valve 2, control valve 2, reference 1, 3 transmitters.
	EXPECT_EQ(13u, srv->seen().size());
	const mtb_bench_cfg *c = mtb_hal_config(hal.h);
	int d = mtb_bench_cfg_device(c, "reference");
	ASSERT_EQ(MTB_OK, mtb_hal_get(hal.h, d, mtb_bench_cfg_point(&c->devices[d], "totaliser"), &s));
	EXPECT_EQ(123456.789, s.value);
	EXPECT_GT(s.t_us, 0);

	// A failed poll names the device and keeps the last good value in the cache.
	srv->inject(FaultServer::EXCEPTION, 100, MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE);
	EXPECT_EQ(MTB_ERR_PROTO, mtb_hal_poll(hal.h, &eb));
	EXPECT_NE(std::string::npos, std::string(eb.msg).find("clock: a: unit 100")) << eb.msg;
	srv->inject(FaultServer::NONE, 0);
	EXPECT_EQ(MTB_ERR_PROTO, mtb_hal_get(hal.h, d, 1, &s));
	EXPECT_EQ(123456.789, s.value);
}

TEST(HalSafety, DeadBusCommandsTheSafeStateOnTheOthersWithinOneSecond)
{
	auto sensors = FaultServer::tcp();
	auto actuators = FaultServer::tcp();
	fill_sensors(*sensors);
	const int deadline_ms = 400;
	Cfg cfg(bench_yaml(sensors->port(), actuators->port(), deadline_ms, 50));
	Reports rep;
	Hal hal(cfg.c, nullptr, &rep);
	mtb_errbuf eb{};
	ASSERT_EQ(MTB_OK, mtb_control_valve_set_pct(hal.dev("control_valve"), 80, &eb)) << eb.msg;
	ASSERT_EQ(MTB_OK, mtb_pump_set_run(hal.dev("pump"), true, &eb)) << eb.msg;
	ASSERT_EQ(MTB_OK, mtb_valve_set_open(hal.dev("inlet_valve"), true, &eb)) << eb.msg;
	std::this_thread::sleep_for(std::chrono::milliseconds(200));
	EXPECT_EQ(0u, rep.count());   // healthy buses: nothing happens
	actuators->clear_seen();

	sensors->pause();   // the sensor bus goes silent
	ASSERT_TRUE(rep.wait_done(5000));
	mtb_hal_safe_report r = rep.last();
	mtb_bus_health h;
	mtb_bus_health_get(mtb_hal_bus(hal.h, 0), &h);
	ASSERT_NE(0, h.down_since_us);
	EXPECT_NE(std::string::npos, std::string(r.reason).find("bus 'a' unreachable for")) << r.reason;
	EXPECT_GE(r.t_trip_us - h.down_since_us, deadline_ms * 1000LL);
	EXPECT_LE(r.t_done_us - h.down_since_us, deadline_ms * 1000LL + 1000000) << "safe state later than 1 s after the deadline";
	EXPECT_EQ(3, r.n_writes);
	EXPECT_EQ(3, r.n_ok);
	EXPECT_EQ(0, actuators->holding(3, 0));
	EXPECT_FALSE(actuators->coil(1, 0));
	EXPECT_FALSE(actuators->coil(2, 0));
	// In the order of the bench file.
	auto seen = actuators->seen();
	std::vector<int> writes;
	for (auto &s : seen)
		if (s.function == 5 || s.function == 6)
			writes.push_back(s.unit);
	EXPECT_EQ((std::vector<int>{ 3, 1, 2 }), writes);

	// Ordinary commands are refused until an operator resets.
	EXPECT_EQ(MTB_ERR_STATE, mtb_pump_set_run(hal.dev("pump"), true, &eb));
	EXPECT_NE(std::string::npos, std::string(eb.msg).find("safe state is active (bus 'a' unreachable")) << eb.msg;
	EXPECT_TRUE(mtb_hal_safe_state(hal.h, nullptr));
	sensors->resume();
	mtb_hal_safe_reset(hal.h);
	ASSERT_EQ(MTB_OK, mtb_pump_set_run(hal.dev("pump"), true, &eb)) << eb.msg;
	EXPECT_TRUE(actuators->coil(1, 0));
}

TEST(HalSafety, WritesOnTheDeadBusAreRetriedUntilItAnswers)
{
	auto srv = FaultServer::tcp();
	Cfg cfg(bench_yaml(srv->port(), srv->port(), 300, 50));
	Reports rep;
	Hal hal(cfg.c, nullptr, &rep);
	mtb_errbuf eb{};
	ASSERT_EQ(MTB_OK, mtb_pump_set_run(hal.dev("pump"), true, &eb)) << eb.msg;
	ASSERT_EQ(MTB_OK, mtb_control_valve_set_pct(hal.dev("control_valve"), 55, &eb)) << eb.msg;
	srv->pause();
	for (int i = 0; i < 300 && rep.count() == 0; i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	ASSERT_GE(rep.count(), 1u);
	mtb_hal_safe_report r = rep.last();
	EXPECT_EQ(0, r.n_ok);
	EXPECT_EQ(0, r.t_done_us);
	EXPECT_NE(std::string::npos, std::string(r.writes[0].detail).find("control_valve.position_set")) << r.writes[0].detail;
	srv->resume();
	ASSERT_TRUE(rep.wait_done(5000));
	EXPECT_EQ(3, rep.last().n_ok);
	EXPECT_EQ(0, srv->holding(3, 0));
	EXPECT_FALSE(srv->coil(1, 0));
}

TEST(HalSafety, AbortAndHeartbeat)
{
	auto srv = FaultServer::tcp();
	Cfg cfg(bench_yaml(srv->port(), srv->port()));
	Reports rep;
	Hal hal(cfg.c, nullptr, &rep);
	mtb_errbuf eb{};
	ASSERT_EQ(MTB_OK, mtb_pump_set_run(hal.dev("pump"), true, &eb)) << eb.msg;
	ASSERT_EQ(MTB_OK, mtb_control_valve_set_pct(hal.dev("control_valve"), 20, &eb)) << eb.msg;
	mtb_hal_safe_report r;
	ASSERT_EQ(MTB_OK, mtb_hal_abort(hal.h, "operator stop", &r));
	EXPECT_STREQ("abort: operator stop", r.reason);
	EXPECT_EQ(3, r.n_ok);
	EXPECT_FALSE(srv->coil(1, 0));
	EXPECT_EQ(0, srv->holding(3, 0));
	EXPECT_EQ(MTB_ERR_STATE, mtb_control_valve_set_pct(hal.dev("control_valve"), 20, &eb));
	// The simulator's clock is not an actuator: it may still be advanced.
	EXPECT_EQ(MTB_OK, mtb_sim_clock_advance_us(hal.dev("clock"), 1000, &eb)) << eb.msg;
	mtb_hal_safe_reset(hal.h);
	ASSERT_EQ(MTB_OK, mtb_pump_set_run(hal.dev("pump"), true, &eb)) << eb.msg;

	// A sequencer that stops kicking its heartbeat gets the bench put safe.
	size_t before = rep.count();
	mtb_hal_heartbeat_arm(hal.h, 150);
	for (int i = 0; i < 5; i++) {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		mtb_hal_heartbeat(hal.h);
	}
	EXPECT_FALSE(mtb_hal_safe_state(hal.h, nullptr));
	ASSERT_TRUE(rep.wait_done(2000, before));
	EXPECT_TRUE(mtb_hal_safe_state(hal.h, &r));
	EXPECT_NE(std::string::npos, std::string(r.reason).find("heartbeat missed")) << r.reason;
	EXPECT_FALSE(srv->coil(1, 0));
}

TEST(HalSafety, NoLeakedThreadOrDescriptor)
{
	auto srv = FaultServer::tcp();
	int fds0 = count_fds(), threads0 = count_threads();
	{
		Cfg cfg(bench_yaml(srv->port(), srv->port(), 200, 20));
		Reports rep;
		Hal hal(cfg.c, nullptr, &rep);
		srv->pause();
		rep.wait_done(200);
		srv->resume();
		ASSERT_TRUE(rep.wait_done(3000));
	}
	for (int i = 0; i < 50 && count_fds() != fds0; i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	EXPECT_EQ(fds0, count_fds());
	EXPECT_EQ(threads0, count_threads());
}

}  // namespace

namespace {

TEST(Hal, PerDeviceResponseTimeout)
{
	// A slow device (900 ms) on a fast bus (100 ms, no retries): its own timeout applies to its
	// reads and writes, the others keep the bus's.
	auto srv = FaultServer::tcp();
	srv->set_input(30, 0, 2137);
	std::string y = "name: t\nbuses:\n  - { name: a, uri: \"tcp://127.0.0.1:" + std::to_string(srv->port()) +
			"\", response_timeout_ms: 100, retries: 0 }\n"
			"devices:\n"
			"  - { name: slow, class: temperature, bus: a, unit_id: 30, response_timeout_ms: 900,\n"
			"      points: [ { name: temperature, function: input, address: 0, type: int16, scale: 0.01, unit: C } ] }\n"
			"  - { name: fast, class: temperature, bus: a, unit_id: 31,\n"
			"      points: [ { name: temperature, function: input, address: 0, type: int16, scale: 0.01, unit: C } ] }\n";
	Cfg cfg(y);
	ASSERT_EQ(900, cfg.c->devices[0].response_timeout_ms);
	Hal hal(cfg.c, nullptr, nullptr, true);
	mtb_errbuf eb{};
	double v;
	srv->inject(FaultServer::LATE, 1, 400);
	ASSERT_EQ(MTB_OK, mtb_transmitter_read(hal.dev("slow"), &v, nullptr, nullptr, &eb)) << eb.msg;
	EXPECT_DOUBLE_EQ(21.37, v);
	srv->inject(FaultServer::LATE, 1, 400);
	EXPECT_EQ(MTB_ERR_TIMEOUT, mtb_transmitter_read(hal.dev("fast"), &v, nullptr, nullptr, &eb));
}

}  // namespace
