// The simulator's Modbus face through a real client (libmodbus) over TCP and over RTU on a socat
// pseudo-terminal pair: register map and word orders, lockstep clock, exceptions, faults on
// the wire, determinism.
#include "sim/sim_modbus.h"
#include "sim/sim_server.h"
#include "sim_test_util.h"

#include <gtest/gtest.h>
#include <modbus/modbus.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <signal.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

struct Server {
	mtb_sim_server *s = nullptr;
	std::thread th;
	Server(const mtb_sim_config *c, bool lockstep, const char *rtu = nullptr, double speed = 1)
	{
		mtb_sim_server_options o = {};
		o.tcp_host = "127.0.0.1";
		o.rtu_path = rtu;
		o.lockstep = lockstep;
		o.speed = speed;
		mtb_errbuf eb = {};
		int rc = mtb_sim_server_create(c, &o, &s, &eb);
		EXPECT_EQ(rc, MTB_OK) << eb.msg;
		if (rc == MTB_OK)
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
	mtb_sim_truth truth()
	{
		mtb_sim_truth t;
		mtb_sim_server_truth(s, &t);
		return t;
	}
};

struct Client {
	modbus_t *ctx;
	explicit Client(int port, int timeout_ms = 500)
	{
		ctx = modbus_new_tcp("127.0.0.1", port);
		modbus_set_response_timeout(ctx, 0, (uint32_t)timeout_ms * 1000);
		EXPECT_EQ(modbus_connect(ctx), 0) << modbus_strerror(errno);
	}
	~Client()
	{
		modbus_close(ctx);
		modbus_free(ctx);
	}
	void unit(int u) { modbus_set_slave(ctx, u); }
};

// Decoders written from docs/bench-config.md, independent of libmodbus' float helpers.
uint32_t bytes32(const uint16_t *r, const char *order)
{
	uint8_t w[4] = { (uint8_t)(r[0] >> 8), (uint8_t)r[0], (uint8_t)(r[1] >> 8), (uint8_t)r[1] };
	uint8_t b[4];   // A B C D
	if (!strcmp(order, "ABCD")) { b[0] = w[0]; b[1] = w[1]; b[2] = w[2]; b[3] = w[3]; }
	else if (!strcmp(order, "CDAB")) { b[0] = w[2]; b[1] = w[3]; b[2] = w[0]; b[3] = w[1]; }
	else if (!strcmp(order, "BADC")) { b[0] = w[1]; b[1] = w[0]; b[2] = w[3]; b[3] = w[2]; }
	else { b[0] = w[3]; b[1] = w[2]; b[2] = w[1]; b[3] = w[0]; }
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
float f32(const uint16_t *r, const char *order)
{
	uint32_t u = bytes32(r, order);
	float f;
	std::memcpy(&f, &u, 4);
	return f;
}
uint64_t u64_abcd(const uint16_t *r)
{
	return (uint64_t)r[0] << 48 | (uint64_t)r[1] << 32 | (uint64_t)r[2] << 16 | r[3];
}
double f64_abcd(const uint16_t *r)
{
	uint64_t u = u64_abcd(r);
	double d;
	std::memcpy(&d, &u, 8);
	return d;
}

int64_t read_time(Client &c)
{
	uint16_t r[4];
	c.unit(100);
	EXPECT_EQ(modbus_read_registers(c.ctx, 0, 4, r), 4) << modbus_strerror(errno);
	return (int64_t)u64_abcd(r);
}

void advance(Client &c, uint32_t us)
{
	uint16_t r[2] = { (uint16_t)(us >> 16), (uint16_t)us };
	c.unit(100);
	ASSERT_EQ(modbus_write_registers(c.ctx, 4, 2, r), 2) << modbus_strerror(errno);
}

// Starts a run the way the bench would: pump at hz, inlet open, control valve at pct.
void start_flow(Client &c, double hz, double pct)
{
	c.unit(1);
	ASSERT_EQ(modbus_write_register(c.ctx, 0, (uint16_t)lround(hz * 100)), 1);
	ASSERT_EQ(modbus_write_bit(c.ctx, 0, 1), 1);
	c.unit(2);
	ASSERT_EQ(modbus_write_bit(c.ctx, 0, 1), 1);
	c.unit(3);
	ASSERT_EQ(modbus_write_register(c.ctx, 0, (uint16_t)lround(pct * 100)), 1);
}

TEST(SimModbus, LockstepClockAdvancesOnlyByWrites)
{
	auto cfg = test_config(3);
	Server srv(cfg.get(), true);
	Client c(mtb_sim_server_tcp_port(srv.s));
	EXPECT_EQ(read_time(c), 0);
	std::this_thread::sleep_for(std::chrono::milliseconds(50));
	EXPECT_EQ(read_time(c), 0);   // wall time does not move it
	advance(c, 1000000);
	EXPECT_EQ(read_time(c), 1000000);
	advance(c, 4294967295u);      // the largest step, 71.6 min
	EXPECT_EQ(read_time(c), 1000000 + 4294967295LL);
	uint16_t r[2];
	ASSERT_EQ(modbus_read_registers(c.ctx, 4, 2, r), 2);
	EXPECT_EQ(r[0], 0xffff);
	EXPECT_EQ(r[1], 0xffff);
	// time is read-only; advance_us needs both of its registers
	EXPECT_EQ(modbus_write_register(c.ctx, 0, 1), -1);
	EXPECT_EQ(errno, EMBXILADD);
	EXPECT_EQ(modbus_write_register(c.ctx, 5, 1), -1);
	EXPECT_EQ(errno, EMBXILADD);
}

TEST(SimModbus, FreeRunningClockRefusesAdvance)
{
	auto cfg = test_config(1);
	Server srv(cfg.get(), false);
	Client c(mtb_sim_server_tcp_port(srv.s));
	int64_t t0 = read_time(c);
	std::this_thread::sleep_for(std::chrono::milliseconds(100));
	int64_t t1 = read_time(c);
	EXPECT_GE(t1 - t0, 80000);   // speed 1: about the wall time elapsed
	EXPECT_LT(t1 - t0, 5000000);
	uint16_t r[2] = { 0, 1000 };
	EXPECT_EQ(modbus_write_registers(c.ctx, 4, 2, r), -1);
	EXPECT_EQ(errno, EMBXILFUN);
}

TEST(SimModbus, FreeRunningClockAtSpeed)
{
	auto cfg = test_config(1);
	Server srv(cfg.get(), false, nullptr, 100);
	Client c(mtb_sim_server_tcp_port(srv.s));
	auto w0 = std::chrono::steady_clock::now();
	int64_t t0 = read_time(c);
	std::this_thread::sleep_for(std::chrono::milliseconds(200));
	int64_t t1 = read_time(c);
	double wall_us = (double)std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - w0).count();
	// 100 simulated seconds per wall second, up to the reads' own latency
	EXPECT_GE(t1 - t0, 100 * 190000);
	EXPECT_LE((double)(t1 - t0), 100 * wall_us + 100 * 20000);
}

TEST(SimModbus, RegisterMapAndWordOrdersMatchTheTruth)
{
	auto cfg = test_config(3);
	cfg->plant.temp_noise_c = 0;
	cfg->plant.pressure_noise_kpa = 0;
	cfg->plant.ref_flow_noise_pct = 0;
	cfg->plant.air_volume_ml = 0;
	Server srv(cfg.get(), true);
	Client c(mtb_sim_server_tcp_port(srv.s));
	start_flow(c, 45, 30);
	for (int i = 0; i < 60; i++)
		advance(c, 1000000);
	mtb_sim_truth t = srv.truth();
	ASSERT_GT(t.flow_lph, 100);
	uint16_t r[8];
	uint8_t bits[2];
	// pump
	c.unit(1);
	ASSERT_EQ(modbus_read_registers(c.ctx, 0, 1, r), 1);
	EXPECT_EQ(r[0], 4500);
	ASSERT_EQ(modbus_read_input_registers(c.ctx, 0, 1, r), 1);
	EXPECT_EQ(r[0], 4500);
	ASSERT_EQ(modbus_read_bits(c.ctx, 0, 1, bits), 1);
	EXPECT_EQ(bits[0], 1);
	ASSERT_EQ(modbus_read_input_bits(c.ctx, 0, 1, bits), 1);
	EXPECT_EQ(bits[0], 0);
	// inlet valve end switches
	c.unit(2);
	ASSERT_EQ(modbus_read_input_bits(c.ctx, 0, 2, bits), 2);
	EXPECT_EQ(bits[0], 1);
	EXPECT_EQ(bits[1], 0);
	// control valve
	c.unit(3);
	ASSERT_EQ(modbus_read_input_registers(c.ctx, 0, 1, r), 1);
	EXPECT_EQ(r[0], 3000);
	// reference: flow float32 CDAB, totaliser float64 ABCD, pulses uint32 CDAB
	c.unit(10);
	ASSERT_EQ(modbus_read_input_registers(c.ctx, 0, 8, r), 8);
	double q_ref = t.flow_lph * (1 + t.ref_error_pct / 100);
	EXPECT_NEAR(f32(r, "CDAB"), q_ref, 1e-6 * q_ref + 0.01);
	EXPECT_EQ(f64_abcd(r + 2), (double)t.ref_indicated_ul / 1e6);
	EXPECT_EQ(bytes32(r + 6, "CDAB"), (uint32_t)(t.ref_indicated_ul / 100));
	// pressures float32 BADC, temperatures int16 x0.01 and float32 DCBA
	mtb_sim_readings want;
	(void)want;
	c.unit(20);
	ASSERT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), 2);
	float p_in = f32(r, "BADC");
	c.unit(21);
	ASSERT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), 2);
	float p_out = f32(r, "BADC");
	EXPECT_GT(p_in, p_out);
	EXPECT_GT(p_out, cfg->plant.atmospheric_kpa);
	c.unit(30);
	ASSERT_EQ(modbus_read_input_registers(c.ctx, 0, 1, r), 1);
	EXPECT_EQ((int16_t)r[0], 2000);
	c.unit(31);
	ASSERT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), 2);
	EXPECT_NEAR(f32(r, "DCBA"), cfg->plant.water_temp_c - cfg->plant.temp_drop_c, 1e-5);
}

TEST(SimModbus, ExceptionsForBadRequests)
{
	auto cfg = test_config(1);
	Server srv(cfg.get(), true);
	Client c(mtb_sim_server_tcp_port(srv.s));
	uint16_t r[8];
	c.unit(10);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 6, 3, r), -1);   // past the map
	EXPECT_EQ(errno, EMBXILADD);
	EXPECT_EQ(modbus_read_registers(c.ctx, 0, 1, r), -1);         // no holding registers
	EXPECT_EQ(errno, EMBXILADD);
	c.unit(1);
	EXPECT_EQ(modbus_write_register(c.ctx, 0, 6001), -1);         // 60.01 Hz > pump_max_hz
	EXPECT_EQ(errno, EMBXILVAL);
	c.unit(3);
	EXPECT_EQ(modbus_write_register(c.ctx, 0, 10001), -1);        // 100.01 %
	EXPECT_EQ(errno, EMBXILVAL);
	c.unit(99);                                                   // no such device
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 1, r), -1);
	EXPECT_EQ(errno, EMBXGTAR);
	c.unit(10);
	uint16_t rr[2];
	EXPECT_EQ(modbus_write_and_read_registers(c.ctx, 0, 1, r, 0, 1, rr), -1);   // FC 23
	EXPECT_EQ(errno, EMBXILFUN);
}

TEST(SimModbus, WireFaultsAreVisibleToTheClient)
{
	auto cfg = test_config(1);
	Server srv(cfg.get(), true);
	int port = mtb_sim_server_tcp_port(srv.s);
	Client c(port, 300);
	uint16_t r[2];
	mtb_sim_fault f = {};
	f.count = 1;
	f.unit = 20;

	f.kind = MTB_SIM_FAULT_EXCEPTION;
	f.code = 6;   // server busy
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	c.unit(20);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), -1);
	EXPECT_EQ(errno, EMBXSBUSY);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), 2);    // count 1: once
	c.unit(21);
	f.count = -1;
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), 2);    // other units unaffected
	mtb_sim_server_faults_clear(srv.s);

	f.kind = MTB_SIM_FAULT_NO_REPLY;
	f.count = 1;
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	c.unit(20);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), -1);
	EXPECT_EQ(errno, ETIMEDOUT);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), 2);

	f.kind = MTB_SIM_FAULT_LATE_REPLY;
	f.delay_ms = 100;   // within the 300 ms timeout
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), 2);
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
	EXPECT_GE(ms, 95);
	f.delay_ms = 600;   // beyond it: timeout, and the stale reply must be flushed
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), -1);
	EXPECT_EQ(errno, ETIMEDOUT);
	std::this_thread::sleep_for(std::chrono::milliseconds(400));
	modbus_flush(c.ctx);

	f.kind = MTB_SIM_FAULT_BAD_CRC;   // TCP: a reply to another transaction
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), -1);
	EXPECT_EQ(errno, EMBBADDATA);
	modbus_flush(c.ctx);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), 2);

	f.kind = MTB_SIM_FAULT_DISCONNECT;
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), -1);
	modbus_close(c.ctx);
	ASSERT_EQ(modbus_connect(c.ctx), 0);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), 2);

	// a fault window in simulated time
	f.kind = MTB_SIM_FAULT_EXCEPTION;
	f.code = 4;
	f.count = -1;
	f.at_us = 5000000;
	f.duration_us = 1000000;
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), 2);
	advance(c, 5000000);
	c.unit(20);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), -1);
	EXPECT_EQ(errno, EMBXSFAIL);
	advance(c, 1000000);
	c.unit(20);
	EXPECT_EQ(modbus_read_input_registers(c.ctx, 0, 2, r), 2);
}

// The same configuration and the same requests give identical totals, through the wire.
TEST(SimModbus, LockstepIsDeterministic)
{
	auto cfg = test_config(10, 42);
	double totals[2];
	mtb_sim_truth truths[2];
	for (int k = 0; k < 2; k++) {
		Server srv(cfg.get(), true);
		Client c(mtb_sim_server_tcp_port(srv.s));
		start_flow(c, 50, 100);
		for (int i = 0; i < 40; i++)
			advance(c, 500000);   // purge
		c.unit(3);
		ASSERT_EQ(modbus_write_register(c.ctx, 0, 250), 1);   // 2.5 %: near Q1
		for (int i = 0; i < 300; i++)
			advance(c, 1000000 + (uint32_t)i);
		uint16_t r[8];
		c.unit(10);
		ASSERT_EQ(modbus_read_input_registers(c.ctx, 0, 8, r), 8);
		totals[k] = f64_abcd(r + 2);
		truths[k] = srv.truth();
	}
	EXPECT_EQ(totals[0], totals[1]);
	EXPECT_GT(totals[0], 0);
	EXPECT_EQ(truths[0].t_us, truths[1].t_us);
	for (int i = 0; i < 10; i++) {
		EXPECT_EQ(truths[0].meters[i].indicated_ul, truths[1].meters[i].indicated_ul) << i;
		EXPECT_EQ(truths[0].meters[i].true_ul, truths[1].meters[i].true_ul) << i;
	}
}

// ---- RTU over a socat pseudo-terminal pair -----------------------------------------------------

struct PtyPair {
	std::string dir, a, b;
	pid_t pid = -1;
	PtyPair()
	{
		char tmpl[] = "/tmp/mtb-sim-rtu-XXXXXX";
		dir = mkdtemp(tmpl);
		a = dir + "/ttyA";
		b = dir + "/ttyB";
		pid = fork();
		if (pid == 0) {
			std::string l1 = "pty,raw,echo=0,link=" + a, l2 = "pty,raw,echo=0,link=" + b;
			execlp("socat", "socat", l1.c_str(), l2.c_str(), (char *)nullptr);
			_exit(127);
		}
		struct stat st;   // socat can take seconds to start on a loaded machine
		for (int i = 0; i < 1000 && (stat(a.c_str(), &st) != 0 || stat(b.c_str(), &st) != 0); i++)
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	~PtyPair()
	{
		if (pid > 0) {
			kill(pid, SIGTERM);
			waitpid(pid, nullptr, 0);
		}
		unlink(a.c_str());
		unlink(b.c_str());
		rmdir(dir.c_str());
	}
};

TEST(SimModbusRtu, ServesEveryUnitAndInjectsBadCrc)
{
	PtyPair pty;
	struct stat st;
	ASSERT_EQ(stat(pty.b.c_str(), &st), 0) << "socat did not create the pty pair";
	auto cfg = test_config(2);
	Server srv(cfg.get(), true, pty.b.c_str());
	ASSERT_NE(srv.s, nullptr);
	modbus_t *ctx = modbus_new_rtu(pty.a.c_str(), 115200, 'N', 8, 1);
	ASSERT_NE(ctx, nullptr);
	ASSERT_EQ(modbus_connect(ctx), 0) << modbus_strerror(errno);
	// Replies that must come are given 5 s (a loaded machine can hold the simulator's thread or
	// socat for longer than a real device's timeout); only the silence check uses a short one.
	auto answered = [&] { modbus_set_response_timeout(ctx, 5, 0); };
	answered();
	uint16_t r[8];
	modbus_set_slave(ctx, 100);
	uint16_t adv[2] = { 0x000f, 0x4240 };   // 1 000 000 us
	ASSERT_EQ(modbus_write_registers(ctx, 4, 2, adv), 2) << modbus_strerror(errno);
	ASSERT_EQ(modbus_read_registers(ctx, 0, 4, r), 4) << modbus_strerror(errno);
	EXPECT_EQ(u64_abcd(r), 1000000u);
	// every unit answers on the one line, one after the other
	for (int unit : { 1, 2, 3, 10, 20, 21, 30, 31 }) {
		modbus_set_slave(ctx, unit);
		uint8_t bits[2];
		int rc = (unit == 2) ? modbus_read_input_bits(ctx, 0, 2, bits)
		       : (unit == 10) ? modbus_read_input_registers(ctx, 0, 8, r)
		       : (unit == 30 || unit == 1 || unit == 3) ? modbus_read_input_registers(ctx, 0, 1, r)
		       : modbus_read_input_registers(ctx, 0, 2, r);
		EXPECT_GT(rc, 0) << "unit " << unit << ": " << modbus_strerror(errno);
	}
	// an absent unit is silent on a serial line: no reply within 300 ms, nor later (nothing is
	// flushed: a stray reply from unit 77 would be read by the next request as another unit's)
	modbus_set_response_timeout(ctx, 0, 300000);
	modbus_set_slave(ctx, 77);
	EXPECT_EQ(modbus_read_input_registers(ctx, 0, 1, r), -1);
	EXPECT_EQ(errno, ETIMEDOUT);
	answered();
	// bad CRC, once
	mtb_sim_fault f = {};
	f.kind = MTB_SIM_FAULT_BAD_CRC;
	f.unit = 30;
	f.count = 1;
	ASSERT_EQ(mtb_sim_server_fault_add(srv.s, &f), MTB_OK);
	modbus_set_slave(ctx, 30);
	EXPECT_EQ(modbus_read_input_registers(ctx, 0, 1, r), -1);
	EXPECT_EQ(errno, EMBBADCRC);
	modbus_flush(ctx);
	EXPECT_EQ(modbus_read_input_registers(ctx, 0, 1, r), 1) << modbus_strerror(errno);
	modbus_close(ctx);
	modbus_free(ctx);
}

// ---- pure pieces ---------------------------------------------------------------------------------

TEST(SimFraming, Crc16AndFrameLengths)
{
	// Modbus over Serial Line V1.02, 6.2.2: read 2 holding registers at 0x0000 of slave 1
	const uint8_t req[] = { 0x01, 0x03, 0x00, 0x00, 0x00, 0x02 };
	uint16_t crc = mtb_sim_crc16(req, sizeof req);
	EXPECT_EQ(crc & 0xff, 0xC4);
	EXPECT_EQ(crc >> 8, 0x0B);
	size_t n = 0;
	EXPECT_EQ(mtb_sim_rtu_request_len(req, 1, &n), MTB_ERR_STATE);
	EXPECT_EQ(mtb_sim_rtu_request_len(req, 2, &n), MTB_OK);
	EXPECT_EQ(n, 8u);
	const uint8_t w16[] = { 0x01, 0x10, 0x00, 0x04, 0x00, 0x02, 0x04 };
	EXPECT_EQ(mtb_sim_rtu_request_len(w16, 6, &n), MTB_ERR_STATE);
	EXPECT_EQ(mtb_sim_rtu_request_len(w16, 7, &n), MTB_OK);
	EXPECT_EQ(n, 13u);
	const uint8_t odd[] = { 0x01, 0x2B };
	EXPECT_EQ(mtb_sim_rtu_request_len(odd, 2, &n), MTB_ERR_NOTSUP);
	const uint8_t tcp[] = { 0, 1, 0, 0, 0, 6, 10, 4, 0, 0, 0, 8 };
	EXPECT_EQ(mtb_sim_tcp_frame_len(tcp, 11, &n), MTB_ERR_STATE);
	EXPECT_EQ(mtb_sim_tcp_frame_len(tcp, 12, &n), MTB_OK);
	EXPECT_EQ(n, 12u);
	const uint8_t not_modbus[] = { 'G', 'E', 'T', ' ', '/', ' ', 'H' };
	EXPECT_EQ(mtb_sim_tcp_frame_len(not_modbus, 7, &n), MTB_ERR_PROTO);
}

} // namespace
