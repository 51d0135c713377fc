/* Reports drawn from real records: JSON and CSV contents, and a real PDF read back with
 * pdftotext and rendered with pdftoppm (poppler-utils). */
#include "bench/records.h"
#include "bench/report.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace {
std::string slurp(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

std::string run(const std::string &cmd)
{
	std::string out;
	FILE *p = popen(cmd.c_str(), "r");
	if (!p)
		return out;
	std::array<char, 4096> buf;
	size_t n;
	while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
		out.append(buf.data(), n);
	pclose(p);
	return out;
}

struct Fixture {
	std::string dir, db;
	std::string sid;
	Fixture(const char *mode)
	{
		char tmpl[] = "/tmp/mtb-report-XXXXXX";
		dir = mkdtemp(tmpl);
		db = dir + "/records.sqlite";
		struct mtb_records *r;
		struct mtb_errbuf eb = {};
		EXPECT_EQ(mtb_records_open(db.c_str(), &r, &eb), MTB_OK);
		struct mtb_session_info info = {};
		info.plan_name = "demo";
		info.plan_text = "name: demo";
		info.standard = "OIML R49:2013";
		info.rule_set = "r49-2013";
		info.mode = mode;
		info.reading = "camera";
		info.operator_name = "林技士";
		info.reference_name = "sim-ref-em-dn25";
		info.reference_serial = "SIMREF-0001";
		info.cert_number = "CAL-2026-0412";
		info.cert_valid_until = "2027-05-01";
		info.customer = "王小明";
		info.utility = "Taiwan Water Corporation";
		info.case_number = "BSMI-TC-2026-0815";
		info.jurisdiction = "tw";
		info.started_unix_s = 1795392000;
		struct mtb_meter_record meters[] = { { 1, "SIM-0001", "dn15-r160-c2" }, { 2, "SIM-0002", "dn15-r160-c2" } };
		char id[MTB_SESSION_ID_LEN + 1];
		EXPECT_EQ(mtb_records_session_begin(r, &info, meters, 2, id, &eb), MTB_OK) << eb.msg;
		sid = id;
		/* Q1, Q2, Q3; meter 2 fails at Q3 (+2.4 %). */
		const char *names[] = { "Q1", "Q2", "Q3" };
		double flows[] = { 16.40625, 26.25, 2375 };
		const char *zones[] = { "lower", "upper", "upper" };
		int32_t mpes[] = { 50000, 20000, 20000 };
		for (int k = 0; k < 3; k++) {
			struct mtb_point_record res[2] = {};
			for (int i = 0; i < 2; i++) {
				res[i].point_index = k;
				res[i].point_name = names[k];
				res[i].position = i + 1;
				res[i].flow_lph = flows[k];
				res[i].actual_ul = 10000000;
				res[i].error_ppm = (i == 1 && k == 2) ? 24000 : -30000 / (k + 1);
				res[i].indicated_ul = res[i].actual_ul + res[i].error_ppm * 10;
				res[i].mpe_ppm = mpes[k];
				res[i].u_exp_ppm = 2500;
				res[i].zone = zones[k];
				res[i].verdict = (i == 1 && k == 2) ? "fail" : "pass";
				res[i].start_method = "flying";
			}
			EXPECT_EQ(mtb_records_point_commit(r, id, k, res, 2, nullptr, 0, nullptr, 0, &eb), MTB_OK) << eb.msg;
		}
		EXPECT_EQ(mtb_records_session_finish(r, id, "complete", 612.44, &eb), MTB_OK);
		mtb_records_close(r);
	}
	~Fixture() { std::system(("rm -rf " + dir).c_str()); }

	void write_all()
	{
		struct mtb_records *r;
		struct mtb_errbuf eb = {};
		ASSERT_EQ(mtb_records_open(db.c_str(), &r, &eb), MTB_OK);
		struct mtb_session_view *s;
		ASSERT_EQ(mtb_records_session_load(r, sid.c_str(), &s, &eb), MTB_OK) << eb.msg;
		mtb_records_close(r);
		ASSERT_EQ(mtb_report_write_all(s, dir.c_str(), &eb), MTB_OK) << eb.msg;
		free(s);
	}
};
} // namespace

TEST(Report, JsonFollowsTheContract)
{
	Fixture fx("verification");
	fx.write_all();
	std::string j = slurp(fx.dir + "/results.json");
	EXPECT_EQ(j.rfind("{\"session_id\":\"" + fx.sid + "\",\"standard\":\"OIML R49:2013\"", 0), 0u) << j;
	EXPECT_NE(j.find("\"mode\":\"verification\",\"reading\":\"camera\",\"bench_time_s\":612.4"), std::string::npos) << j;
	EXPECT_NE(j.find("{\"position\":1,\"serial\":\"SIM-0001\",\"type\":\"dn15-r160-c2\",\"verdict\":\"pass\",\"points\":["
			 "{\"name\":\"Q1\",\"flow_lph\":16.406,\"actual_l\":10.0,\"indicated_l\":9.7,\"error_pct\":-3.0,"
			 "\"mpe_pct\":5.0,\"u_exp_pct\":0.25,\"zone\":\"lower\",\"verdict\":\"pass\",\"start\":\"flying\"}"),
		  std::string::npos) << j;
	EXPECT_NE(j.find("\"serial\":\"SIM-0002\",\"type\":\"dn15-r160-c2\",\"verdict\":\"fail\""), std::string::npos) << j;
	EXPECT_EQ(j.find("\"dispute\""), std::string::npos);
	std::string c = slurp(fx.dir + "/results.csv");
	EXPECT_EQ(c.rfind("session_id,position,serial,type,point,flow_lph,", 0), 0u);
	EXPECT_NE(c.find(",2,SIM-0002,dn15-r160-c2,Q3,2375.000,10.0,10.24,2.4,2.0,0.25,upper,fail,flying,fail\n"),
		  std::string::npos) << c;
}

TEST(Report, PdfReadsBackInBothLanguages)
{
	Fixture fx("verification");
	fx.write_all();
	std::string pdf = fx.dir + "/report.pdf";
	std::string txt = run("pdftotext -layout '" + pdf + "' - 2>&1");
	for (const char *want : { "水量計檢定報告", "Water meter verification report", "SIM-0001", "SIM-0002",
				  "CAL-2026-0412", "2027-05-01", "不合格", "FAIL", "合格", "PASS", "-3.00", "2.40", "林技士" })
		EXPECT_NE(txt.find(want), std::string::npos) << "missing '" << want << "' in:\n" << txt;
	std::string info = run("pdfinfo '" + pdf + "' 2>&1");
	size_t at = info.find("Pages:");
	ASSERT_NE(at, std::string::npos) << info;
	EXPECT_EQ(std::atoi(info.c_str() + at + 6), 2) << info;
	std::string fonts = run("pdffonts '" + pdf + "' 2>&1");
	EXPECT_NE(fonts.find("NotoSansCJK"), std::string::npos) << fonts;
	EXPECT_NE(fonts.find("yes yes yes"), std::string::npos) << "fonts must be embedded and have ToUnicode:\n" << fonts;
	/* Renders without errors, to a page that is not blank. */
	std::string png = fx.dir + "/page";
	EXPECT_EQ(std::system(("pdftoppm -r 40 -png -f 1 -l 1 '" + pdf + "' '" + png + "'").c_str()), 0);
	std::string img = slurp(png + "-1.png");
	EXPECT_GT(img.size(), 3000u);
	/* Kept for a person to look at: build/test-artifacts/report-page1.png */
	std::system("mkdir -p " MTB_BINARY_DIR "/test-artifacts");
	std::system(("pdftoppm -r 90 -png -f 1 -l 1 -singlefile '" + pdf + "' " MTB_BINARY_DIR "/test-artifacts/report-page1").c_str());
}

TEST(Report, DisputeMakesACopyForEachParty)
{
	Fixture fx("dispute");
	fx.write_all();
	std::string j = slurp(fx.dir + "/results.json");
	EXPECT_NE(j.find("\"dispute\":{\"case_number\":\"BSMI-TC-2026-0815\",\"customer\":\"王小明\""), std::string::npos) << j;
	std::string cust = run("pdftotext '" + fx.dir + "/report-customer.pdf' - 2>&1");
	std::string util = run("pdftotext '" + fx.dir + "/report-utility.pdf' - 2>&1");
	EXPECT_NE(cust.find("糾紛鑑定報告"), std::string::npos) << cust;
	EXPECT_NE(cust.find("Copy for"), std::string::npos);
	EXPECT_NE(cust.find("王小明"), std::string::npos);
	EXPECT_NE(util.find("Taiwan Water Corporation"), std::string::npos);
	EXPECT_NE(util.find("BSMI-TC-2026-0815"), std::string::npos);
}

TEST(Report, MeterVerdictRules)
{
	struct mtb_meter_view m = {};
	EXPECT_STREQ(mtb_report_meter_verdict(&m, "r49-2013"), "incomplete");
	m.n_points = 3;
	const int64_t errs[] = { 30000, 15000, 12000 };   /* all positive, none within half the MPE */
	const int32_t mpes[] = { 50000, 20000, 20000 };
	for (int i = 0; i < 3; i++) {
		m.points[i].error_ppm = errs[i];
		m.points[i].mpe_ppm = mpes[i];
		snprintf(m.points[i].verdict, sizeof m.points[i].verdict, "pass");
	}
	EXPECT_STREQ(mtb_report_meter_verdict(&m, "r49-2013"), "fail");   /* same-sign rule */
	EXPECT_STREQ(mtb_report_meter_verdict(&m, "r49-2024"), "pass");
	snprintf(m.points[1].verdict, sizeof m.points[1].verdict, "invalid");
	EXPECT_STREQ(mtb_report_meter_verdict(&m, "r49-2024"), "invalid");
	snprintf(m.points[2].verdict, sizeof m.points[2].verdict, "fail");
	EXPECT_STREQ(mtb_report_meter_verdict(&m, "r49-2024"), "fail");
}

TEST(Report, AFailedWriteLeavesThePreviousFilesWhole)
{
	/* Outputs are written beside their name and renamed over it when complete: a write that
	 * fails (here the temporary name is taken by a directory, as a full disk or a crash would
	 * stop it) leaves the previous results in place, whole, and names the file. */
	Fixture fx("verification");
	fx.write_all();
	std::string json = slurp(fx.dir + "/results.json"), csv = slurp(fx.dir + "/results.csv");
	ASSERT_FALSE(csv.empty());
	ASSERT_EQ(mkdir((fx.dir + "/results.csv.tmp").c_str(), 0755), 0);
	struct mtb_records *r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_records_open(fx.db.c_str(), &r, &eb), MTB_OK);
	struct mtb_session_view *s;
	ASSERT_EQ(mtb_records_session_load(r, fx.sid.c_str(), &s, &eb), MTB_OK) << eb.msg;
	mtb_records_close(r);
	EXPECT_EQ(mtb_report_write_all(s, fx.dir.c_str(), &eb), MTB_ERR_IO);
	EXPECT_NE(std::string(eb.msg).find("results.csv"), std::string::npos) << eb.msg;
	free(s);
	EXPECT_EQ(slurp(fx.dir + "/results.csv"), csv);
	EXPECT_EQ(slurp(fx.dir + "/results.json"), json);
	/* A complete write leaves no temporary file behind. */
	rmdir((fx.dir + "/results.csv.tmp").c_str());
	fx.write_all();
	struct stat st;
	EXPECT_NE(stat((fx.dir + "/results.json.tmp").c_str(), &st), 0);
	EXPECT_NE(stat((fx.dir + "/report.pdf.tmp").c_str(), &st), 0);
}
