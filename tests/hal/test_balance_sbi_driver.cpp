// The Sartorius SBI driver (hal/drv_balance_sbi.c) on a socat pseudo-terminal with a scripted
// balance on the other end: stable and moving frames, the 22-character form, overload,
// underload, error display, adjustment, silence, junk, and tare and zero confirmed by printing.
#include "fault_server.h"

#include "hal/devices.h"
#include "hal/hal.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// A frame as the balance sends it: sign, a space, the value right-aligned in 8 columns, a space,
// the unit in 3 columns, CR LF; id: the 22-character form's 6 characters in front.
std::string frame(char sign, const std::string &value, const std::string &unit, const std::string &id = "")
{
	std::string f = id + std::string(1, sign) + " " + std::string(8 - value.size(), ' ') + value + " " + unit +
			std::string(3 - unit.size(), ' ');
	EXPECT_EQ(f.size(), id.size() + 14);
	return f + "\r\n";
}

// The balance side: answers ESC P with the frame `frame` holds ("" = silence); ESC U and ESC V
// are recorded and, when `taring` is set, make the next frames read zero.
class SbiBalance {
public:
	explicit SbiBalance(const std::string &dev)
	{
		fd_ = open(dev.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
		termios t{};
		tcgetattr(fd_, &t);
		cfmakeraw(&t);
		tcsetattr(fd_, TCSANOW, &t);
		th_ = std::thread([this] { run(); });
	}
	~SbiBalance()
	{
		stop_ = true;
		th_.join();
		close(fd_);
	}
	void set_frame(const std::string &f)
	{
		std::lock_guard<std::mutex> l(mu_);
		frame_ = f;
	}
	void set_after_command(const std::string &f)
	{
		std::lock_guard<std::mutex> l(mu_);
		after_command_ = f;
	}
	std::vector<char> commands()
	{
		std::lock_guard<std::mutex> l(mu_);
		return cmds_;
	}

private:
	void run()
	{
		std::string got;
		while (!stop_) {
			pollfd p{ fd_, POLLIN, 0 };
			if (poll(&p, 1, 20) > 0) {
				char buf[64];
				ssize_t n = read(fd_, buf, sizeof buf);
				if (n > 0)
					got.append(buf, (size_t)n);
			}
			size_t at;
			while ((at = got.find('\x1b')) != std::string::npos && at + 1 < got.size()) {
				char c = got[at + 1];
				got.erase(0, at + 2);
				std::string r;
				{
					std::lock_guard<std::mutex> l(mu_);
					cmds_.push_back(c);
					if (c != 'P' && !after_command_.empty())
						frame_ = after_command_;
					r = c == 'P' ? frame_ : "";
				}
				if (!r.empty())
					(void)!write(fd_, r.data(), r.size());
			}
		}
	}
	int fd_;
	std::atomic<bool> stop_{ false };
	std::mutex mu_;
	std::string frame_, after_command_;
	std::vector<char> cmds_;
	std::thread th_;
};

class SbiDriver : public ::testing::Test {
protected:
	void SetUp() override { start(""); }
	void start(const std::string &extra)
	{
		dir_ = make_temp_dir();
		pty_ = std::make_unique<PtyPair>(dir_);
		bal_ = std::make_unique<SbiBalance>(pty_->b());
		std::string y = std::string("name: b\ndevices:\n  - { name: scale, class: balance, uri: \"serial://") + pty_->a() +
				"?baud=9600\", protocol: sbi, timeout_ms: 300" + extra + " }\n";
		mtb_errbuf eb{};
		ASSERT_EQ(MTB_OK, mtb_bench_cfg_parse(y.data(), y.size(), "b.yaml", &cfg_, &eb)) << eb.msg;
		clk_ = mtb_clock_manual_make(&man_);
		mtb_hal_opts o{};
		o.clock = &clk_;
		ASSERT_EQ(MTB_OK, mtb_hal_create(&hal_, cfg_, &o, &eb)) << eb.msg;
		d_ = mtb_hal_device(hal_, "scale");
	}
	void stop()
	{
		mtb_hal_destroy(hal_);
		mtb_bench_cfg_destroy(cfg_);
		hal_ = nullptr;
		cfg_ = nullptr;
	}
	void TearDown() override
	{
		stop();
		bal_.reset();
		pty_.reset();
		std::string cmd = "rm -rf '" + dir_ + "'";
		(void)!system(cmd.c_str());
	}
	int read(int64_t *mg, bool *stable, mtb_errbuf *eb) { return mtb_balance_read_mg(d_, mg, stable, nullptr, eb); }
	std::string dir_;
	std::unique_ptr<PtyPair> pty_;
	std::unique_ptr<SbiBalance> bal_;
	mtb_bench_cfg *cfg_ = nullptr;
	mtb_hal *hal_ = nullptr;
	mtb_device *d_ = nullptr;
	mtb_clock_manual man_{ 4242 };
	mtb_clock clk_{};
};

TEST_F(SbiDriver, StableAndMovingFrames)
{
	mtb_errbuf eb{};
	int64_t mg = 0, t = 0;
	bool stable = true;
	// moving before any stable frame: the unit is unknown, nothing is read
	bal_->set_frame(frame('+', "3000.0", ""));
	EXPECT_EQ(MTB_ERR_REFUSED, read(&mg, &stable, &eb));
	EXPECT_NE(std::string::npos, std::string(eb.msg).find("no stable frame yet")) << eb.msg;
	bal_->set_frame(frame('+', "3000.0", "g"));
	ASSERT_EQ(MTB_OK, mtb_balance_read_mg(d_, &mg, &stable, &t, &eb)) << eb.msg;
	EXPECT_EQ(3000000, mg);
	EXPECT_TRUE(stable);
	EXPECT_EQ(4242, t);
	// moving: the value in the stable frame's unit, not stable
	bal_->set_frame(frame('+', "3996.3", ""));
	ASSERT_EQ(MTB_OK, read(&mg, &stable, &eb)) << eb.msg;
	EXPECT_EQ(3996300, mg);
	EXPECT_FALSE(stable);
	// moving with other decimals than the stable frame (another unit or resolution): refused
	bal_->set_frame(frame('+', "3.9963", ""));
	EXPECT_EQ(MTB_ERR_REFUSED, read(&mg, &stable, &eb));
	EXPECT_NE(std::string::npos, std::string(eb.msg).find("other decimals")) << eb.msg;
	// the 22-character form, in kg
	bal_->set_frame(frame('-', "0.5000", "kg", "N     "));
	ASSERT_EQ(MTB_OK, read(&mg, &stable, &eb)) << eb.msg;
	EXPECT_EQ(-500000, mg);
	EXPECT_TRUE(stable);
	std::vector<char> c = bal_->commands();
	ASSERT_FALSE(c.empty());
	EXPECT_EQ('P', c.back());
}

TEST_F(SbiDriver, OverloadErrorsSilenceAndJunk)
{
	mtb_errbuf eb{};
	int64_t mg = 77;
	bool stable = true;
	bal_->set_frame(frame(' ', "H", ""));
	EXPECT_EQ(MTB_ERR_RANGE, read(&mg, &stable, &eb));
	EXPECT_STREQ("scale: overload (frame '         H    ')", eb.msg);
	bal_->set_frame(frame(' ', "LL", ""));
	EXPECT_EQ(MTB_ERR_RANGE, read(&mg, &stable, &eb));
	bal_->set_frame(frame(' ', "Err 54", ""));
	EXPECT_EQ(MTB_ERR_REFUSED, read(&mg, &stable, &eb));
	bal_->set_frame(frame(' ', "C", ""));
	EXPECT_EQ(MTB_ERR_REFUSED, read(&mg, &stable, &eb));
	bal_->set_frame("S S     12.345 kg\r\n");   // an MT-SICS balance on an SBI bench
	EXPECT_EQ(MTB_ERR_PROTO, read(&mg, &stable, &eb));
	bal_->set_frame("");
	EXPECT_EQ(MTB_ERR_TIMEOUT, read(&mg, &stable, &eb));
	EXPECT_STREQ("scale: no reply within 300 ms", eb.msg);
	EXPECT_EQ(77, mg);   // untouched by every failure
}

TEST_F(SbiDriver, TareAndZeroConfirmedByPrinting)
{
	mtb_errbuf eb{};
	bal_->set_frame(frame('+', "3000.0", "g"));
	bal_->set_after_command(frame('+', "0.0", "g"));
	ASSERT_EQ(MTB_OK, mtb_balance_tare(d_, &eb)) << eb.msg;
	ASSERT_EQ(MTB_OK, mtb_balance_zero(d_, &eb)) << eb.msg;
	std::vector<char> c = bal_->commands();
	std::string seen(c.begin(), c.end());
	EXPECT_NE(std::string::npos, seen.find("UP")) << seen;   // tare, then a print that shows zero
	EXPECT_NE(std::string::npos, seen.find("VP")) << seen;
	// a balance that does not carry it out: refused after the device's timeout, with what it shows
	bal_->set_frame(frame('+', "3000.0", "g"));
	bal_->set_after_command("");
	EXPECT_EQ(MTB_ERR_REFUSED, mtb_balance_tare(d_, &eb));
	EXPECT_NE(std::string::npos, std::string(eb.msg).find("tare not confirmed within 300 ms (the balance shows 3000000 mg)"))
		<< eb.msg;
	bal_->set_frame(frame(' ', "H", ""));
	EXPECT_EQ(MTB_ERR_RANGE, mtb_balance_zero(d_, &eb));
}

// The bench file's unit reads moving frames before any stable one (a run resumed on a can that
// is still draining); a stable frame's unit and decimals take over from then on.
TEST_F(SbiDriver, BenchFileUnitReadsMovingFramesBeforeAStableOne)
{
	stop();
	start(", unit: g");
	ASSERT_STREQ("g", cfg_->devices[0].unit);
	mtb_errbuf eb{};
	int64_t mg = 0;
	bool stable = true;
	bal_->set_frame(frame('+', "12345.6", ""));
	ASSERT_EQ(MTB_OK, read(&mg, &stable, &eb)) << eb.msg;
	EXPECT_EQ(12345600, mg);
	EXPECT_FALSE(stable);
	bal_->set_frame(frame('+', "12.3450", "kg"));
	ASSERT_EQ(MTB_OK, read(&mg, &stable, &eb)) << eb.msg;
	EXPECT_TRUE(stable);
	bal_->set_frame(frame('+', "12345.6", ""));   // now the kg frame's 4 decimals rule
	EXPECT_EQ(MTB_ERR_REFUSED, read(&mg, &stable, &eb));
}

}  // namespace
