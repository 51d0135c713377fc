// A small Modbus server for the HAL's tests, built on libmodbus (like its unit-test-server) and
// able to misbehave on request: no reply, a late reply, an exception, a dropped connection
// (TCP), a corrupted CRC (RTU), or going away entirely. It answers every unit id, each with its
// own register map, and logs the requests it saw. It runs as a thread of the test process.
#pragma once

#include <modbus/modbus.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class FaultServer {
public:
	enum Fault { NONE, NO_REPLY, LATE, EXCEPTION, DISCONNECT, BAD_CRC, HOLD };
	struct Seen {
		int unit, function, address;
	};

	// Modbus TCP on 127.0.0.1:port (0: a free port, see port()).
	static std::unique_ptr<FaultServer> tcp(int port = 0);
	// Modbus RTU on an existing serial device or pseudo-terminal.
	static std::unique_ptr<FaultServer> rtu(const std::string &device);
	~FaultServer();

	int port() const { return port_; }
	// The next `count` requests get `fault`; param: delay in ms (LATE) or exception code.
	void inject(Fault fault, int count, int param = 0);
	// Gone: TCP closes its listener and connections (refused from then on); RTU stops answering.
	void pause();
	void resume();

	void set_holding(int unit, int addr, uint16_t v);
	void set_input(int unit, int addr, uint16_t v);
	void set_coil(int unit, int addr, bool v);
	void set_discrete(int unit, int addr, bool v);
	uint16_t holding(int unit, int addr);
	bool coil(int unit, int addr);
	std::vector<Seen> seen();
	void clear_seen();
	// Blocks the serving thread for ms before it handles the next request (to queue work up).
	void stall_next(int ms) { inject(LATE, 1, ms); }
	// Holds the next request unanswered until `until` returns true (asked every millisecond by
	// the serving thread), then answers it: a late reply timed by an event of the test (e.g. the
	// client has counted its timeout) instead of by a delay that a loaded machine can stretch.
	void hold_next(std::function<bool()> until);
	// Ends any hold at once and never asks its predicate again; call it before whatever the
	// predicate looks at goes away (HoldRelease does so on scope exit).
	void release_holds();

private:
	FaultServer() = default;
	void run();
	void run_tcp();
	void run_rtu();
	bool take_fault(Fault *f, int *param);
	modbus_mapping_t *map(int unit);   // mu_ held
	void wake();
	int open_listener();
	void handle(modbus_t *ctx, const uint8_t *q, int len, int header, int *client_fd, int out_fd);

	bool is_tcp_ = true;
	int port_ = 0;
	std::string device_;
	std::thread thread_;
	std::mutex mu_;
	std::condition_variable cv_;
	std::map<int, modbus_mapping_t *> maps_;
	std::vector<Seen> seen_;
	Fault fault_ = NONE;
	int fault_count_ = 0, fault_param_ = 0;
	bool stop_ = false, paused_ = false, paused_ack_ = false;
	int wake_[2] = { -1, -1 };
	std::mutex hold_mu_;                 // serialises the predicate with release_holds()
	std::function<bool()> hold_until_;   // hold_mu_
	bool holds_released_ = false;        // hold_mu_
};

// Releases the server's holds when it goes out of scope: declared after the objects a hold's
// predicate looks at, so a test that fails half-way never leaves the server asking a destroyed one.
struct HoldRelease {
	FaultServer *s;
	~HoldRelease() { s->release_holds(); }
};

// socat linking two pseudo-terminals DIR/ttyA <-> DIR/ttyB (bench notes, verified recipe).
class PtyPair {
public:
	explicit PtyPair(const std::string &dir);
	~PtyPair();
	void kill_socat();
	void start_socat();
	std::string a() const { return dir_ + "/ttyA"; }
	std::string b() const { return dir_ + "/ttyB"; }

private:
	std::string dir_;
	int pid_ = -1;
};

// Counts of open descriptors and threads of this process, to prove nothing leaks.
int count_fds();
int count_threads();
// A fresh temporary directory under $TMPDIR (removed by the caller if wanted).
std::string make_temp_dir();
