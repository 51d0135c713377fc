// The bus owner thread against a real libmodbus server over loopback TCP and over RTU on socat
// pseudo-terminals, with every injected fault: no reply, late reply, exceptions, dropped
// connection, corrupted CRC, a server that goes away and comes back.
#include "fault_server.h"

#include "hal/bus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

namespace {

mtb_bus_cfg tcp_cfg(int port, int timeout_ms = 300, int retries = 2)
{
	mtb_bus_cfg c{};
	snprintf(c.name, sizeof c.name, "t");
	mtb_errbuf eb{};
	std::string uri = "tcp://127.0.0.1:" + std::to_string(port);
	EXPECT_EQ(MTB_OK, mtb_bus_cfg_parse_uri(&c, uri.c_str(), &eb)) << eb.msg;
	c.response_timeout_ms = timeout_ms;
	c.retries = retries;
	c.backoff_max_ms = 400;
	return c;
}

mtb_bus_cfg rtu_cfg(const std::string &dev, int timeout_ms = 300, int retries = 2)
{
	mtb_bus_cfg c{};
	snprintf(c.name, sizeof c.name, "r");
	mtb_errbuf eb{};
	std::string uri = "rtu://" + dev + "?baud=115200&parity=N";
	EXPECT_EQ(MTB_OK, mtb_bus_cfg_parse_uri(&c, uri.c_str(), &eb)) << eb.msg;
	c.response_timeout_ms = timeout_ms;
	c.retries = retries;
	c.gap_ms = 2;
	c.rs485 = true;   // ptys refuse the ioctl: must be tolerated
	c.backoff_max_ms = 400;
	return c;
}

// Waits (1 ms steps) until cond() holds or ms have passed; returns cond(). Only a failing test
// waits the whole time.
bool eventually(const std::function<bool()> &cond, int ms = 20000)
{
	auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
	while (!cond()) {
		if (std::chrono::steady_clock::now() > end)
			return cond();
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	return true;
}

// A late reply is sent the moment the bus has counted its timeout, so it always arrives after
// the timeout (never early enough to be taken as the answer itself, as a fixed 50 ms margin
// was on a loaded machine) and early in the settle wait of gap + timeout/2 that follows.
// LATE_TIMEOUT_MS gives that wait 500 ms: the serving thread, and on RTU socat, have that long
// to be scheduled and deliver the reply before the bus flushes.
constexpr int LATE_TIMEOUT_MS = 1000;

struct Bus {
	mtb_bus *b = nullptr;
	explicit Bus(const mtb_bus_cfg &c)
	{
		mtb_errbuf eb{};
		EXPECT_EQ(MTB_OK, mtb_bus_create(&b, &c, &mtb_clock_system, nullptr, &eb)) << eb.msg;
	}
	~Bus() { mtb_bus_destroy(b); }
	int read(int unit, mtb_reg_function fn, int addr, int count, mtb_bus_req *r, std::string *err = nullptr,
		 mtb_bus_prio prio = MTB_PRIO_CONTROL, int timeout_ms = 0)
	{
		*r = mtb_bus_req{};
		r->op = MTB_OP_READ;
		r->function = fn;
		r->unit_id = unit;
		r->address = (uint16_t)addr;
		r->count = (uint16_t)count;
		r->timeout_ms = timeout_ms;
		mtb_errbuf eb{};
		int rc = mtb_bus_transact(b, r, prio, &eb);
		if (err)
			*err = eb.msg;
		return rc;
	}
	int write_reg(int unit, int addr, uint16_t v, mtb_bus_prio prio = MTB_PRIO_CONTROL)
	{
		mtb_bus_req r{};
		r.op = MTB_OP_WRITE;
		r.function = MTB_FN_HOLDING;
		r.unit_id = unit;
		r.address = (uint16_t)addr;
		r.count = 1;
		r.regs[0] = v;
		mtb_errbuf eb{};
		return mtb_bus_transact(b, &r, prio, &eb);
	}
	mtb_bus_health health()
	{
		mtb_bus_health h;
		mtb_bus_health_get(b, &h);
		return h;
	}
};

TEST(BusTcp, ReadsAndWritesEveryFunction)
{
	auto srv = FaultServer::tcp();
	srv->set_input(10, 0, 0x2000);
	srv->set_input(10, 1, 0x47F1);
	srv->set_discrete(2, 1, true);
	Bus bus(tcp_cfg(srv->port()));
	mtb_bus_req r;
	ASSERT_EQ(MTB_OK, bus.read(10, MTB_FN_INPUT, 0, 2, &r));
	EXPECT_EQ(0x2000, r.regs[0]);
	EXPECT_EQ(0x47F1, r.regs[1]);
	ASSERT_EQ(MTB_OK, bus.read(2, MTB_FN_DISCRETE, 0, 2, &r));
	EXPECT_EQ(0, r.bits[0]);
	EXPECT_EQ(1, r.bits[1]);
	ASSERT_EQ(MTB_OK, bus.write_reg(3, 0, 4321));
	EXPECT_EQ(4321, srv->holding(3, 0));
	ASSERT_EQ(MTB_OK, bus.read(3, MTB_FN_HOLDING, 0, 1, &r));
	EXPECT_EQ(4321, r.regs[0]);
	mtb_bus_req w{};
	w.op = MTB_OP_WRITE;
	w.function = MTB_FN_COIL;
	w.unit_id = 1;
	w.count = 1;
	w.bits[0] = 1;
	ASSERT_EQ(MTB_OK, mtb_bus_transact(bus.b, &w, MTB_PRIO_CONTROL, nullptr));
	EXPECT_TRUE(srv->coil(1, 0));
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_COIL, 0, 1, &r));
	EXPECT_EQ(1, r.bits[0]);
	// Writing a read-only function is refused before anything is sent.
	w.function = MTB_FN_INPUT;
	EXPECT_EQ(MTB_ERR_ARG, mtb_bus_transact(bus.b, &w, MTB_PRIO_CONTROL, nullptr));
	EXPECT_EQ(0u, bus.health().n_retries);
}

TEST(BusTcp, NoReplyIsRetried)
{
	auto srv = FaultServer::tcp();
	srv->set_holding(1, 5, 77);
	Bus bus(tcp_cfg(srv->port(), 200, 2));
	mtb_bus_req r;
	srv->inject(FaultServer::NO_REPLY, 1);
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 5, 1, &r));
	EXPECT_EQ(77, r.regs[0]);
	EXPECT_EQ(1u, bus.health().n_timeouts);
	EXPECT_EQ(1u, bus.health().n_retries);
	EXPECT_EQ(2u, srv->seen().size());

	// More silence than retries: a timeout, reported with the unit and address.
	srv->inject(FaultServer::NO_REPLY, 3);
	std::string err;
	EXPECT_EQ(MTB_ERR_TIMEOUT, bus.read(1, MTB_FN_HOLDING, 5, 1, &r, &err));
	EXPECT_NE(std::string::npos, err.find("unit 1: holding 5: no reply")) << err;
	EXPECT_NE(std::string::npos, err.find("3 attempt(s)")) << err;
	// ... and the next request is answered normally.
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 5, 1, &r));
	EXPECT_EQ(77, r.regs[0]);
}

TEST(BusTcp, LateReplyIsNotTakenForTheNextAnswer)
{
	auto srv = FaultServer::tcp();
	srv->set_holding(1, 0, 1111);
	srv->set_holding(1, 10, 2222);
	Bus bus(tcp_cfg(srv->port(), 400, 0));
	HoldRelease release{ srv.get() };
	mtb_bus_req r;
	// Answered only once the bus has timed out: the reply arrives during the settle wait.
	srv->hold_next([&] { return bus.health().n_timeouts >= 1; });
	EXPECT_EQ(MTB_ERR_TIMEOUT, bus.read(1, MTB_FN_HOLDING, 0, 1, &r, nullptr, MTB_PRIO_CONTROL, LATE_TIMEOUT_MS));
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 10, 1, &r));
	EXPECT_EQ(2222, r.regs[0]);

	// With retries, a late reply costs one retry and the value is right.
	auto srv2 = FaultServer::tcp();
	srv2->set_holding(1, 0, 1111);
	Bus bus2(tcp_cfg(srv2->port(), 400, 2));
	HoldRelease release2{ srv2.get() };
	srv2->hold_next([&] { return bus2.health().n_timeouts >= 1; });
	ASSERT_EQ(MTB_OK, bus2.read(1, MTB_FN_HOLDING, 0, 1, &r, nullptr, MTB_PRIO_CONTROL, LATE_TIMEOUT_MS));
	EXPECT_EQ(1111, r.regs[0]);
	EXPECT_EQ(1u, bus2.health().n_timeouts);
	EXPECT_GE(bus2.health().n_retries, 1u);
}

TEST(BusTcp, ExceptionsAreReportedNotRetried)
{
	auto srv = FaultServer::tcp();
	Bus bus(tcp_cfg(srv->port()));
	mtb_bus_req r;
	std::string err;
	srv->inject(FaultServer::EXCEPTION, 1, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
	EXPECT_EQ(MTB_ERR_PROTO, bus.read(4, MTB_FN_INPUT, 9, 1, &r, &err));
	EXPECT_EQ("t: unit 4: input 9: Modbus exception 2 (illegal data address)", err);
	EXPECT_EQ(1u, srv->seen().size());
	EXPECT_EQ(1u, bus.health().n_exceptions);
	EXPECT_EQ(0, bus.health().down_since_us);   // the device answered: the bus is alive

	// "Server busy" is worth a retry.
	srv->clear_seen();
	srv->inject(FaultServer::EXCEPTION, 1, MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY);
	EXPECT_EQ(MTB_OK, bus.read(4, MTB_FN_INPUT, 9, 1, &r, &err)) << err;
	EXPECT_EQ(2u, srv->seen().size());
}

TEST(BusTcp, DroppedConnectionReconnects)
{
	auto srv = FaultServer::tcp();
	srv->set_holding(1, 0, 42);
	Bus bus(tcp_cfg(srv->port()));
	mtb_bus_req r;
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 0, 1, &r));
	uint64_t connects = bus.health().n_connects;
	srv->inject(FaultServer::DISCONNECT, 1);
	std::string err;
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err)) << err;
	EXPECT_EQ(42, r.regs[0]);
	EXPECT_EQ(connects + 1, bus.health().n_connects);
	EXPECT_GE(bus.health().n_link_errors, 1u);
}

TEST(BusTcp, ServerGoneAndBackRecoversWithBackoff)
{
	auto srv = FaultServer::tcp();
	srv->set_holding(1, 0, 7);
	Bus bus(tcp_cfg(srv->port(), 200, 1));
	mtb_bus_req r;
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 0, 1, &r));
	srv->pause();
	std::string err;
	int rc = bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err);
	EXPECT_TRUE(rc == MTB_ERR_IO || rc == MTB_ERR_TIMEOUT) << err;
	EXPECT_NE(0, bus.health().down_since_us);
	// While down and inside the back-off, requests fail fast instead of holding the queue.
	for (int i = 0; i < 5; i++)
		bus.read(1, MTB_FN_HOLDING, 0, 1, &r);
	mtb_bus_health h = bus.health();
	EXPECT_FALSE(h.connected);
	EXPECT_GT(h.backoff_ms, 100);
	srv->resume();
	// The owner thread reconnects by itself; the next request after that is served.
	for (int i = 0; i < 100 && !bus.health().connected; i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	ASSERT_TRUE(bus.health().connected);
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err)) << err;
	EXPECT_EQ(7, r.regs[0]);
	EXPECT_EQ(0, bus.health().down_since_us);
}

TEST(BusTcp, SafetyRequestsJumpTheQueue)
{
	// Every step waits for the state it needs (the server holding the first request, each
	// further request in the bus's queue) instead of sleeping and hoping the threads have run:
	// the order of arrival is exactly poll 101, 102, 103, control 200, safety 201.
	std::atomic<bool> go{ false };
	auto srv = FaultServer::tcp();
	Bus bus(tcp_cfg(srv->port(), 20000, 0));   // the held request must not time out
	HoldRelease release{ srv.get() };
	mtb_bus_req r;
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 0, 1, &r));
	srv->clear_seen();
	srv->hold_next([&] { return go.load(); });   // the owner thread is busy with the first request meanwhile
	std::vector<std::thread> ts;
	bool ordered = true;
	ts.emplace_back([&] { mtb_bus_req q; bus.read(1, MTB_FN_HOLDING, 100, 1, &q, nullptr, MTB_PRIO_POLL); });
	ordered = ordered && eventually([&] { return srv->seen().size() == 1; });
	auto queue = [&](int n, std::function<void()> fn) {
		ts.emplace_back(std::move(fn));
		ordered = ordered && eventually([&] { return bus.health().queued == n; });
	};
	for (int i = 0; i < 3; i++)
		queue(1 + i, [&, i] { mtb_bus_req q; bus.read(1, MTB_FN_HOLDING, 101 + i, 1, &q, nullptr, MTB_PRIO_POLL); });
	queue(4, [&] { bus.write_reg(1, 200, 0, MTB_PRIO_CONTROL); });
	queue(5, [&] { bus.write_reg(1, 201, 0, MTB_PRIO_SAFETY); });
	go = true;
	for (auto &t : ts)
		t.join();
	ASSERT_TRUE(ordered) << "requests did not reach the server and the queue in time";
	auto seen = srv->seen();
	ASSERT_EQ(6u, seen.size());
	EXPECT_EQ(100, seen[0].address);   // in flight when the others arrived
	EXPECT_EQ(201, seen[1].address);   // safety first
	EXPECT_EQ(200, seen[2].address);   // then control
	EXPECT_EQ(101, seen[3].address);   // then polls, in arrival order
	EXPECT_EQ(102, seen[4].address);
	EXPECT_EQ(103, seen[5].address);
}

TEST(BusTcp, PollsAndCachesBlocksWithTimestamps)
{
	auto srv = FaultServer::tcp();
	srv->set_input(10, 0, 5);
	mtb_bus_cfg c = tcp_cfg(srv->port());
	c.poll_ms = 20;
	mtb_clock_manual man{ 123456789 };
	mtb_clock clk = mtb_clock_manual_make(&man);
	mtb_bus *b = nullptr;
	ASSERT_EQ(MTB_OK, mtb_bus_create(&b, &c, &clk, nullptr, nullptr));
	int blk = mtb_bus_block_add(b, 10, MTB_FN_INPUT, 0, 8, 0);
	ASSERT_GE(blk, 0);
	uint16_t regs[MTB_BUS_MAX_REGS];
	int64_t t = 0;
	int rc = MTB_ERR_STATE;
	for (int i = 0; i < 100 && rc != MTB_OK; i++) {
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
		mtb_bus_block_get(b, blk, regs, nullptr, &t, &rc);
	}
	ASSERT_EQ(MTB_OK, rc);
	EXPECT_EQ(5, regs[0]);
	EXPECT_EQ(123456789, t);   // the injected clock's time, not the system's
	srv->set_input(10, 0, 6);
	man.t_us = 200000000;
	for (int i = 0; i < 100 && regs[0] != 6; i++) {
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
		mtb_bus_block_get(b, blk, regs, nullptr, &t, &rc);
	}
	EXPECT_EQ(6, regs[0]);
	EXPECT_EQ(200000000, t);
	mtb_bus_destroy(b);
	mtb_bus_destroy(nullptr);
}

TEST(BusTcp, NoLeakedThreadOrDescriptor)
{
	auto srv = FaultServer::tcp();
	int fds0 = count_fds(), threads0 = count_threads();
	for (int round = 0; round < 3; round++) {
		mtb_bus_cfg c = tcp_cfg(srv->port(), 150, 1);
		c.poll_ms = 10;
		Bus bus(c);
		mtb_bus_block_add(bus.b, 1, MTB_FN_HOLDING, 0, 4, 0);
		mtb_bus_req r;
		EXPECT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 0, 1, &r));
		srv->inject(FaultServer::DISCONNECT, 1);
		bus.read(1, MTB_FN_HOLDING, 0, 1, &r);
		srv->pause();
		bus.read(1, MTB_FN_HOLDING, 0, 1, &r);
		srv->resume();
		bus.read(1, MTB_FN_HOLDING, 0, 1, &r);
	}
	// The server's own connections close asynchronously; give it a moment.
	for (int i = 0; i < 50 && count_fds() != fds0; i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	EXPECT_EQ(fds0, count_fds());
	EXPECT_EQ(threads0, count_threads());
}

// ---- RTU over socat pseudo-terminals ----

class BusRtu : public ::testing::Test {
protected:
	void SetUp() override
	{
		dir_ = make_temp_dir();
		pty_ = std::make_unique<PtyPair>(dir_);
		srv_ = FaultServer::rtu(pty_->b());
	}
	void TearDown() override
	{
		srv_.reset();
		pty_.reset();
		std::string cmd = "rm -rf '" + dir_ + "'";
		(void)!system(cmd.c_str());
	}
	std::string dir_;
	std::unique_ptr<PtyPair> pty_;
	std::unique_ptr<FaultServer> srv_;
};

TEST_F(BusRtu, ReadsAndWritesWithRs485Refused)
{
	srv_->set_input(20, 0, 0xF147);
	srv_->set_input(20, 1, 0x0020);
	Bus bus(rtu_cfg(pty_->a()));
	mtb_bus_req r;
	std::string err;
	ASSERT_EQ(MTB_OK, bus.read(20, MTB_FN_INPUT, 0, 2, &r, &err)) << err;
	EXPECT_EQ(0xF147, r.regs[0]);
	EXPECT_EQ(0x0020, r.regs[1]);
	// Another unit on the same line right after: the gap keeps frames apart.
	ASSERT_EQ(MTB_OK, bus.write_reg(3, 0, 5000));
	EXPECT_EQ(5000, srv_->holding(3, 0));
	ASSERT_EQ(MTB_OK, bus.read(3, MTB_FN_HOLDING, 0, 1, &r, &err)) << err;
	EXPECT_EQ(5000, r.regs[0]);
}

TEST_F(BusRtu, BadCrcIsRetried)
{
	srv_->set_holding(1, 0, 99);
	Bus bus(rtu_cfg(pty_->a()));
	mtb_bus_req r;
	std::string err;
	srv_->inject(FaultServer::BAD_CRC, 1);
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err)) << err;
	EXPECT_EQ(99, r.regs[0]);
	EXPECT_EQ(1u, bus.health().n_retries);
	srv_->inject(FaultServer::BAD_CRC, 3);
	EXPECT_EQ(MTB_ERR_TIMEOUT, bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err));
	EXPECT_NE(std::string::npos, err.find("bad CRC")) << err;
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err)) << err;
}

TEST_F(BusRtu, NoReplyLateReplyAndException)
{
	srv_->set_holding(1, 0, 1111);
	srv_->set_holding(1, 10, 2222);
	Bus bus(rtu_cfg(pty_->a(), 400, 0));
	HoldRelease release{ srv_.get() };
	mtb_bus_req r;
	std::string err;
	srv_->inject(FaultServer::NO_REPLY, 1);
	EXPECT_EQ(MTB_ERR_TIMEOUT, bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err));
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err)) << err;
	// A late reply to holding 0, sent once the bus has timed out, arrives while it waits after
	// the timeout: it is flushed, and holding 10 gets its own value. (RTU has no transaction id
	// to tell them apart: without the wait 1111 is taken for holding 10.)
	srv_->hold_next([&] { return bus.health().n_timeouts >= 2; });
	EXPECT_EQ(MTB_ERR_TIMEOUT, bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err, MTB_PRIO_CONTROL, LATE_TIMEOUT_MS));
	ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 10, 1, &r, &err)) << err;
	EXPECT_EQ(2222, r.regs[0]);
	srv_->inject(FaultServer::EXCEPTION, 1, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
	EXPECT_EQ(MTB_ERR_PROTO, bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err));
	EXPECT_NE(std::string::npos, err.find("exception 1 (illegal function)")) << err;
}

TEST_F(BusRtu, LineLostAndBackReconnects)
{
	srv_->set_holding(1, 0, 5);
	int fds0 = count_fds(), threads0 = count_threads();
	{
		Bus bus(rtu_cfg(pty_->a(), 150, 1));
		mtb_bus_req r;
		std::string err;
		ASSERT_EQ(MTB_OK, bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err)) << err;
		// The adapter goes away (socat ends: the pty disappears) and comes back.
		srv_.reset();
		pty_->kill_socat();
		int rc = bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err);
		EXPECT_NE(MTB_OK, rc);
		EXPECT_NE(0, bus.health().down_since_us);
		pty_->start_socat();
		srv_ = FaultServer::rtu(pty_->b());
		srv_->set_holding(1, 0, 6);
		rc = MTB_ERR_IO;
		for (int i = 0; i < 100 && rc != MTB_OK; i++) {
			std::this_thread::sleep_for(std::chrono::milliseconds(20));
			rc = bus.read(1, MTB_FN_HOLDING, 0, 1, &r, &err);
		}
		ASSERT_EQ(MTB_OK, rc) << err;
		EXPECT_EQ(6, r.regs[0]);
		EXPECT_GE(bus.health().n_connects, 2u);
	}
	EXPECT_EQ(fds0, count_fds());
	EXPECT_EQ(threads0, count_threads());
}

}  // namespace
