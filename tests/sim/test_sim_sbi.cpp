// The simulated balance's Sartorius SBI side (pure): command framing, frames for stable, moving,
// overload and underload, tare and zero held until stable, and the bench's SBI parser reading
// back exactly what the balance says.
#include "hal/balance_sbi.h"
#include "sim/sim_sbi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::vector<std::string> feed(const std::string &bytes)
{
	mtb_sim_sbi_rx rx = {};
	std::vector<std::string> cmds;
	char cmd[32];
	for (char c : bytes)
		if (mtb_sim_sbi_feed(&rx, c, cmd, sizeof cmd))
			cmds.push_back(cmd);
	return cmds;
}

std::string reply(const char *cmd, const mtb_sim_balance_now &now, mtb_sim_sbi_state &st, bool id = false)
{
	char out[64];
	size_t n = mtb_sim_sbi_reply(cmd, &now, &st, id, out, sizeof out);
	EXPECT_EQ(n, strlen(out));
	return std::string(out, n);
}

TEST(SimSbi, CommandFraming)
{
	EXPECT_EQ(feed("\x1bP\r\n"), std::vector<std::string>{ "P" });
	EXPECT_EQ(feed("\x1bP\x1bU\x1bP"), (std::vector<std::string>{ "P", "U", "P" }));   // CR LF is optional
	EXPECT_EQ(feed("\x1bx1_\r\n\x1bP"), (std::vector<std::string>{ "x1_", "P" }));      // format 2
	EXPECT_EQ(feed("P\r\nSI\r\n"), std::vector<std::string>{});                           // no ESC: nothing
	EXPECT_EQ(feed("\x1b" "1P\x1bk123456789012345678901234_\x1bV"), std::vector<std::string>{ "V" });   // junk, too long
}

TEST(SimSbi, FramesStableMovingOverloadUnderload)
{
	mtb_sim_balance_now now = { 123560, true, 5e6, 10 };
	mtb_sim_sbi_state st = {};
	EXPECT_EQ(reply("P", now, st), "+   123.56 g  ");
	EXPECT_EQ(reply("P", now, st, true), "G#    +   123.56 g  ");
	now.stable = false;
	EXPECT_EQ(reply("P", now, st), "+   123.56    ");   // moving: no unit
	now = { -20, true, 5e6, 10 };
	EXPECT_EQ(reply("P", now, st), "-     0.02 g  ");
	now = { -4, true, 5e6, 10 };
	EXPECT_EQ(reply("P", now, st), "+     0.00 g  ");   // rounds to zero: no minus
	now = { 23456789, true, 5e7, 100 };
	EXPECT_EQ(reply("P", now, st), "+  23456.8 g  ");
	now = { 123456789, true, 5e8, 1 };
	EXPECT_EQ(reply("P", now, st), "+ 123.4568 kg ");   // grams would not fit 8 columns
	now = { 5e6 + 1, true, 5e6, 10 };
	EXPECT_EQ(reply("P", now, st), "         H    ");
	now = { -2e5, true, 5e6, 10 };
	EXPECT_EQ(reply("P", now, st), "         L    ");
	EXPECT_EQ(reply("x1_", now, st), "");   // ignored
}

TEST(SimSbi, TareAndZeroWaitForStability)
{
	mtb_sim_balance_now now = { 3000000, false, 5e7, 100 };
	mtb_sim_sbi_state st = {};
	EXPECT_EQ(reply("U", now, st), "");   // not answered; held while moving
	EXPECT_EQ(reply("P", now, st), "+   3000.0    ");
	now.stable = true;
	EXPECT_EQ(reply("P", now, st), "+      0.0 g  ");   // carried out once stable
	EXPECT_EQ(reply("P", now, st, true), "N     +      0.0 g  ");
	now.gross_mg = 4000000;
	EXPECT_EQ(reply("P", now, st), "+   1000.0 g  ");
	EXPECT_EQ(reply("S", now, st), "");   // restart clears the tare
	EXPECT_EQ(reply("P", now, st), "+   4000.0 g  ");
	EXPECT_EQ(reply("V", now, st), "");   // zero
	EXPECT_EQ(reply("P", now, st), "+      0.0 g  ");
	now.gross_mg = 4500000;
	EXPECT_EQ(reply("T", now, st), "");   // the TARE key: 1 % of the capacity from zero -> zero
	EXPECT_EQ(reply("P", now, st, true), "G#    +      0.0 g  ");
	now.gross_mg = 9000000;
	EXPECT_EQ(reply("T", now, st), "");   // 9 %: tare
	EXPECT_EQ(reply("P", now, st, true), "N     +      0.0 g  ");
}

// Whatever the simulated balance prints, the bench's parser reads the same mass, and a moving
// frame carries no unit.
TEST(SimSbi, BenchParserReadsWhatTheBalanceSays)
{
	for (int64_t step : { 1, 10, 100, 1000 })
		for (double g : { 0.0, 0.4, 12.3456, 999.99, 23456.789, -5.5 })
			for (bool id : { false, true }) {
				if (step == 1 && std::fabs(g) >= 10000)
					continue;   // 8 columns: a 1 mg balance does not show 10 kg
				mtb_sim_balance_now now = { g * 1000, (int)(g * 10) % 2 == 0, 1e9, step };
				mtb_sim_sbi_state st = {};
				std::string r = reply("P", now, st, id) + "\r\n";
				ASSERT_EQ(r.size(), id ? 22u : 16u) << r;
				mtb_sbi_frame f;
				const char *why = nullptr;
				ASSERT_EQ(mtb_balance_sbi_frame(r.c_str(), r.size(), &f, &why), MTB_OK) << r << ": " << why;
				EXPECT_EQ(f.unit[0] != '\0', now.stable) << r;
				int64_t mg = 0;
				ASSERT_EQ(mtb_balance_sbi_mass_mg(&f, now.stable ? f.unit : "g", &mg), MTB_OK) << r;
				EXPECT_EQ(mg, std::llround(g * 1000 / (double)step) * step) << r;
			}
}

}  // namespace
