// Balance: the SICS and generic line parsers on good and malformed replies, and the driver on a
// socat pseudo-terminal with a scripted balance on the other end (reply, busy, silence, junk).
#include "fault_server.h"

#include "hal/balance_parse.h"
#include "hal/devices.h"
#include "hal/hal.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

namespace {

int sics(const char *s, mtb_balance_reading *r, const char **why = nullptr)
{
	return mtb_balance_parse_sics(s, strlen(s), r, why);
}
int line(const char *s, mtb_balance_reading *r, const char **why = nullptr)
{
	return mtb_balance_parse_line(s, strlen(s), r, why);
}

TEST(BalanceParse, Sics)
{
	mtb_balance_reading r{};
	ASSERT_EQ(MTB_OK, sics("S S     12.345 kg\r\n", &r));
	EXPECT_EQ(12345000, r.mass_mg);
	EXPECT_TRUE(r.stable);
	ASSERT_EQ(MTB_OK, sics("S D    -0.020 g", &r));
	EXPECT_EQ(-20, r.mass_mg);
	EXPECT_FALSE(r.stable);
	ASSERT_EQ(MTB_OK, sics("S S   1500 mg\n", &r));
	EXPECT_EQ(1500, r.mass_mg);
	ASSERT_EQ(MTB_OK, sics("S S  100.0004 g", &r));   // below 1 mg: rounded half away from zero
	EXPECT_EQ(100000, r.mass_mg);
	const char *why = nullptr;
	EXPECT_EQ(MTB_ERR_REFUSED, sics("S I", &r, &why));
	EXPECT_STREQ("balance busy (S I)", why);
	EXPECT_EQ(MTB_ERR_RANGE, sics("S +\r\n", &r, &why));
	EXPECT_EQ(MTB_ERR_RANGE, sics("S -", &r));
	EXPECT_EQ(MTB_ERR_REFUSED, sics("ES", &r, &why));
	EXPECT_STREQ("syntax error (ES)", why);
	EXPECT_EQ(MTB_ERR_REFUSED, sics("EL", &r));
	// Malformed.
	const char *bad[] = { "", "S", "S ", "S X  1.0 g", "SS 1.0 g", "S S", "S S1.0 g", "S S     12.345",
			      "S S     12.345 lb", "S S     12.3.4 kg", "S S     . kg", "S S  --1 g", "S S  1 g extra",
			      "X S 1.0 g", "S S 99999999999999999999 kg", "S S  1.0 g\r\nS S 2.0 g" };
	for (const char *b : bad) {
		why = nullptr;
		EXPECT_EQ(MTB_ERR_PROTO, sics(b, &r, &why)) << "'" << b << "'";
		EXPECT_NE(nullptr, why) << b;
	}
	EXPECT_EQ(MTB_ERR_PROTO, mtb_balance_parse_sics("S S 1\0 g", 8, &r, &why));
}

TEST(BalanceParse, SicsTareAndZero)
{
	int64_t tare = 0;
	const char *why = nullptr;
	ASSERT_EQ(MTB_OK, mtb_balance_parse_sics_tare("T S     3000.0 g\r\n", 18, &tare, &why)) << why;
	EXPECT_EQ(3000000, tare);
	EXPECT_EQ(MTB_ERR_REFUSED, mtb_balance_parse_sics_tare("T I", 3, &tare, &why));
	EXPECT_STREQ("not stable: tare not taken (T I)", why);
	EXPECT_EQ(MTB_ERR_RANGE, mtb_balance_parse_sics_tare("T +", 3, &tare, &why));
	EXPECT_EQ(MTB_ERR_RANGE, mtb_balance_parse_sics_tare("T -\r\n", 5, &tare, &why));
	EXPECT_EQ(MTB_ERR_REFUSED, mtb_balance_parse_sics_tare("EL", 2, &tare, &why));
	EXPECT_STREQ("logical error (EL)", why);
	EXPECT_EQ(MTB_OK, mtb_balance_parse_sics_zero("Z A\r\n", 5, &why));
	EXPECT_EQ(MTB_ERR_REFUSED, mtb_balance_parse_sics_zero("Z I", 3, &why));
	EXPECT_EQ(MTB_ERR_RANGE, mtb_balance_parse_sics_zero("Z +", 3, &why));
	EXPECT_EQ(MTB_ERR_RANGE, mtb_balance_parse_sics_zero("Z -", 3, &why));
	EXPECT_EQ(MTB_ERR_REFUSED, mtb_balance_parse_sics_zero("ES", 2, &why));
	for (const char *b : { "", "T", "T S", "T S 1.0", "T X 1.0 g", "S S 1.0 g", "Z", "Z A extra", "Z X", "T S 1.0 g\nT" }) {
		why = nullptr;
		EXPECT_EQ(MTB_ERR_PROTO, mtb_balance_parse_sics_tare(b, strlen(b), &tare, &why)) << b;
		EXPECT_NE(nullptr, why) << b;
		why = nullptr;
		EXPECT_EQ(MTB_ERR_PROTO, mtb_balance_parse_sics_zero(b, strlen(b), &why)) << b;
		EXPECT_NE(nullptr, why) << b;
	}
}

TEST(BalanceParse, GenericLine)
{
	mtb_balance_reading r{};
	ASSERT_EQ(MTB_OK, line("ST,GS,+0012.345 kg\r\n", &r));
	EXPECT_EQ(12345000, r.mass_mg);
	EXPECT_TRUE(r.stable);
	ASSERT_EQ(MTB_OK, line("US,NT,-0000.50 g", &r));
	EXPECT_EQ(-500, r.mass_mg);
	EXPECT_FALSE(r.stable);
	ASSERT_EQ(MTB_OK, line("   -1.20 g", &r));
	EXPECT_EQ(-1200, r.mass_mg);
	EXPECT_TRUE(r.stable);
	ASSERT_EQ(MTB_OK, line("+ 0.500 kg", &r));
	EXPECT_EQ(500000, r.mass_mg);
	ASSERT_EQ(MTB_OK, line("ST,+2 mg", &r));
	EXPECT_EQ(2, r.mass_mg);
	EXPECT_EQ(MTB_ERR_RANGE, line("OL,GS,+9999.999 kg", &r));
	const char *bad[] = { "", "kg", "ST,GS,", "XX,GS,+1.0 g", "ST,GS,+1.0", "1.0kg", "+1.0 oz", "ST GS +1.0 g",
			      "ST,GS,+1.0 g junk", "ST,GS,+1.0.0 g", "+ g" };
	for (const char *b : bad) {
		const char *why = nullptr;
		EXPECT_NE(MTB_OK, line(b, &r, &why)) << "'" << b << "'";
		EXPECT_NE(nullptr, why) << b;
	}
}

// The balance side of the line: answers SI with whatever `reply` holds ("" = silence).
class ScriptedBalance {
public:
	explicit ScriptedBalance(const std::string &dev, bool stream = false) : stream_(stream)
	{
		fd_ = open(dev.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
		termios t{};
		tcgetattr(fd_, &t);
		cfmakeraw(&t);
		tcsetattr(fd_, TCSANOW, &t);
		th_ = std::thread([this] { run(); });
	}
	~ScriptedBalance()
	{
		stop_ = true;
		th_.join();
		close(fd_);
	}
	void set_reply(const std::string &r)
	{
		std::lock_guard<std::mutex> l(mu_);
		reply_ = r;
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
			std::string r;
			{
				std::lock_guard<std::mutex> l(mu_);
				r = reply_;
			}
			if (stream_) {
				if (!r.empty())
					(void)!write(fd_, r.data(), r.size());
				continue;
			}
			size_t at;
			while ((at = got.find("SI\r\n")) != std::string::npos) {
				got.erase(0, at + 4);
				if (!r.empty())
					(void)!write(fd_, r.data(), r.size());
			}
		}
	}
	int fd_;
	bool stream_;
	std::atomic<bool> stop_{ false };
	std::mutex mu_;
	std::string reply_;
	std::thread th_;
};

class BalanceDriver : public ::testing::Test {
protected:
	void SetUp() override
	{
		dir_ = make_temp_dir();
		pty_ = std::make_unique<PtyPair>(dir_);
	}
	void TearDown() override
	{
		pty_.reset();
		std::string cmd = "rm -rf '" + dir_ + "'";
		(void)!system(cmd.c_str());
	}
	mtb_bench_cfg *cfg(const char *protocol)
	{
		std::string y = std::string("name: b\ndevices:\n  - { name: scale, class: balance, uri: \"serial://") + pty_->a() +
				"?baud=9600\", protocol: " + protocol + ", timeout_ms: 300 }\n";
		mtb_bench_cfg *c = nullptr;
		mtb_errbuf eb{};
		EXPECT_EQ(MTB_OK, mtb_bench_cfg_parse(y.data(), y.size(), "b.yaml", &c, &eb)) << eb.msg;
		return c;
	}
	std::string dir_;
	std::unique_ptr<PtyPair> pty_;
};

TEST_F(BalanceDriver, SicsOverAPty)
{
	ScriptedBalance bal(pty_->b());
	mtb_bench_cfg *c = cfg("sics");
	mtb_hal *hal = nullptr;
	mtb_errbuf eb{};
	mtb_clock_manual man{ 777 };
	mtb_clock clk = mtb_clock_manual_make(&man);
	mtb_hal_opts o{};
	o.clock = &clk;
	ASSERT_EQ(MTB_OK, mtb_hal_create(&hal, c, &o, &eb)) << eb.msg;
	mtb_device *d = mtb_hal_device(hal, "scale");
	int64_t mg = 0, t = 0;
	bool stable = false;
	bal.set_reply("S S     12.345 kg\r\n");
	ASSERT_EQ(MTB_OK, mtb_balance_read_mg(d, &mg, &stable, &t, &eb)) << eb.msg;
	EXPECT_EQ(12345000, mg);
	EXPECT_TRUE(stable);
	EXPECT_EQ(777, t);
	bal.set_reply("S I\r\n");
	EXPECT_EQ(MTB_ERR_REFUSED, mtb_balance_read_mg(d, &mg, &stable, &t, &eb));
	EXPECT_STREQ("scale: balance busy (S I) (reply 'S I')", eb.msg);
	bal.set_reply("");
	EXPECT_EQ(MTB_ERR_TIMEOUT, mtb_balance_read_mg(d, &mg, &stable, &t, &eb));
	EXPECT_STREQ("scale: no reply within 300 ms", eb.msg);
	bal.set_reply("\x01garbage\r\n");
	EXPECT_EQ(MTB_ERR_PROTO, mtb_balance_read_mg(d, &mg, &stable, &t, &eb));
	// A second program cannot open the same line meanwhile.
	mtb_hal *other = nullptr;
	EXPECT_EQ(MTB_ERR_IO, mtb_hal_create(&other, c, &o, &eb));
	EXPECT_NE(std::string::npos, std::string(eb.msg).find("in use")) << eb.msg;
	bal.set_reply("S D      0.100 kg\r\n");
	ASSERT_EQ(MTB_OK, mtb_balance_read_mg(d, &mg, &stable, &t, &eb)) << eb.msg;
	EXPECT_EQ(100000, mg);
	EXPECT_FALSE(stable);
	mtb_hal_destroy(hal);
	mtb_bench_cfg_destroy(c);
}

TEST_F(BalanceDriver, StreamingLineProtocol)
{
	ScriptedBalance bal(pty_->b(), true);
	bal.set_reply("ST,GS,+0001.250 kg\r\n");
	mtb_bench_cfg *c = cfg("line");
	mtb_hal *hal = nullptr;
	mtb_errbuf eb{};
	ASSERT_EQ(MTB_OK, mtb_hal_create(&hal, c, nullptr, &eb)) << eb.msg;
	int64_t mg = 0;
	bool stable = false;
	ASSERT_EQ(MTB_OK, mtb_balance_read_mg(mtb_hal_device(hal, "scale"), &mg, &stable, nullptr, &eb)) << eb.msg;
	EXPECT_EQ(1250000, mg);
	EXPECT_TRUE(stable);
	EXPECT_EQ(MTB_ERR_NOTSUP, mtb_pump_set_run(mtb_hal_device(hal, "scale"), true, &eb));
	mtb_hal_destroy(hal);
	mtb_bench_cfg_destroy(c);
}

}  // namespace
