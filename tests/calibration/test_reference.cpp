#include "calibration/date.h"
#include "calibration/reference.h"
#include "calibration/uncertainty.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

TEST(Date, ParsesAndFormatsCivilDates)
{
	int32_t d;
	ASSERT_EQ(mtb_date_parse("1970-01-01", &d), MTB_OK);
	EXPECT_EQ(d, 0);
	ASSERT_EQ(mtb_date_parse("2000-03-01", &d), MTB_OK);
	EXPECT_EQ(d, 11017);
	ASSERT_EQ(mtb_date_parse("2024-02-29", &d), MTB_OK);   /* leap year */
	char buf[11];
	mtb_date_format(d, buf);
	EXPECT_STREQ(buf, "2024-02-29");
	ASSERT_EQ(mtb_date_parse("2026-11-23", &d), MTB_OK);
	EXPECT_EQ(d, mtb_date_from_unix(1795392000 + 3600));    /* 2026-11-23T01:00Z */
	for (const char *bad : { "2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "1900-02-29",
				 "26-01-01", "2026-1-01", "2026/01/01", "2026-01-01x", "", "1899-12-31" })
		EXPECT_NE(mtb_date_parse(bad, &d), MTB_OK) << bad;
	ASSERT_EQ(mtb_date_parse("2000-02-29", &d), MTB_OK);
}

namespace {
const char *GOOD = "name: r\nkind: electromagnetic\nserial: S1\ncertificate:\n  number: C-1\n"
		   "  issued_by: lab\n  issued: 2026-05-01\n  valid_until: 2027-05-01\n"
		   "error_curve:\n  - [10, 0.12, 0.08]\n  - [100, 0.05, 0.06]\n  - [1000, 0.02, 0.05]\n";

std::string error_of(const std::string &text)
{
	struct mtb_reference r;
	struct mtb_errbuf eb = {};
	EXPECT_NE(mtb_reference_parse(text.data(), text.size(), "ref.yaml", &r, &eb), MTB_OK) << text;
	return eb.msg;
}

std::string replace(std::string s, const std::string &from, const std::string &to)
{
	size_t at = s.find(from);
	EXPECT_NE(at, std::string::npos) << from;
	return s.replace(at, from.size(), to);
}
} // namespace

TEST(Reference, LoadsTheSimulatedBenchReference)
{
	struct mtb_reference r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_reference_load("sim-ref-em-dn25", &r, &eb), MTB_OK) << eb.msg;
	EXPECT_STREQ(r.cert_number, "CAL-2026-0412");
	EXPECT_EQ(r.n_points, 4);
	char d[11];
	mtb_date_format(r.cert_valid_until_day, d);
	EXPECT_STREQ(d, "2027-05-01");
}

TEST(Reference, ErrorCurveIsLinearBetweenPointsAndFlatOutside)
{
	struct mtb_reference r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_reference_parse(GOOD, strlen(GOOD), "ref.yaml", &r, &eb), MTB_OK) << eb.msg;
	double e, u;
	mtb_reference_error_at(&r, 5, &e, &u);          /* below the first point: flat */
	EXPECT_DOUBLE_EQ(e, 0.0012);
	EXPECT_DOUBLE_EQ(u, 0.0008);
	mtb_reference_error_at(&r, 55, &e, &u);         /* halfway 10..100: 0.085 % */
	EXPECT_NEAR(e, 0.00085, 1e-12);
	EXPECT_DOUBLE_EQ(u, 0.0008);                    /* the larger neighbour */
	mtb_reference_error_at(&r, 1000, &e, &u);
	EXPECT_DOUBLE_EQ(e, 0.0002);
	mtb_reference_error_at(&r, 50000, &e, &u);      /* above the last point: flat */
	EXPECT_DOUBLE_EQ(e, 0.0002);
	EXPECT_DOUBLE_EQ(u, 0.0005);
}

TEST(Reference, ExpiredCertificateIsRefusedWithItsDate)
{
	struct mtb_reference r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_reference_parse(GOOD, strlen(GOOD), "ref.yaml", &r, &eb), MTB_OK);
	int32_t day;
	ASSERT_EQ(mtb_date_parse("2027-05-01", &day), MTB_OK);
	EXPECT_EQ(mtb_reference_check_valid(&r, day, &eb), MTB_OK);   /* the last day is valid */
	EXPECT_EQ(mtb_reference_check_valid(&r, day + 1, &eb), MTB_ERR_STATE);
	EXPECT_EQ(std::string(eb.msg), "certificate C-1 of reference r expired on 2027-05-01");
	ASSERT_EQ(mtb_date_parse("2026-04-30", &day), MTB_OK);
	EXPECT_EQ(mtb_reference_check_valid(&r, day, &eb), MTB_ERR_STATE);
}

TEST(Reference, MalformedFilesNameTheField)
{
	EXPECT_NE(error_of(replace(GOOD, "2027-05-01", "2027-02-30")).find("field 'valid_until': not a date"), std::string::npos);
	EXPECT_NE(error_of(replace(GOOD, "2027-05-01", "2025-05-01")).find("before the issue date"), std::string::npos);
	EXPECT_NE(error_of(replace(GOOD, "[100, 0.05, 0.06]", "[100, abc, 0.06]")).find("row 2: [flow_lph, error_pct, u_exp_pct] must be numbers"), std::string::npos);
	EXPECT_NE(error_of(replace(GOOD, "[100, 0.05, 0.06]", "[5, 0.05, 0.06]")).find("row 2: flows must increase"), std::string::npos);
	EXPECT_NE(error_of(replace(GOOD, "[100, 0.05, 0.06]", "[100, 0.05, 0]")).find("u_exp_pct must be > 0"), std::string::npos);
	EXPECT_NE(error_of(replace(GOOD, "[100, 0.05, 0.06]", "[100, 0.05]")).find("ref.yaml"), std::string::npos);
	EXPECT_NE(error_of(replace(GOOD, "  number: C-1\n", "")).find("missing field 'number'"), std::string::npos);
	EXPECT_NE(error_of(replace(GOOD, "error_curve:\n", "error_curve: []\nx:\n")).find("ref.yaml"), std::string::npos);
	EXPECT_NE(error_of("").find("file is empty"), std::string::npos);
}

TEST(Uncertainty, DistributionsConvertToStandardUncertainties)
{
	struct mtb_u_budget b = {};
	EXPECT_DOUBLE_EQ(mtb_u_budget_add(&b, "k2", 0.002, MTB_U_EXPANDED_K2, 1), 0.001);
	EXPECT_DOUBLE_EQ(mtb_u_budget_add(&b, "rect", std::sqrt(3.0), MTB_U_RECT, 1), 1.0);
	EXPECT_DOUBLE_EQ(mtb_u_budget_add(&b, "tri", std::sqrt(6.0), MTB_U_TRIANGULAR, -2), 2.0);
	mtb_u_budget_combine(&b, 2);
	EXPECT_NEAR(b.u_c, std::sqrt(0.001 * 0.001 + 1 + 4), 1e-12);
	EXPECT_NEAR(b.u_exp, 2 * b.u_c, 1e-15);
}

TEST(Uncertainty, PointBudgetAtQ1WithTheFactsheetsNumbers)
{
	/* Standards-factsheet 5: reference U = 0.1 % (u = 0.05 %); two readings of a 0.05 L dial on
	 * 20 L: u = 0.05/sqrt(6)/20 = 0.1021 %; combined sqrt(0.05^2 + 0.1021^2) = 0.1137 %,
	 * U = 0.2273 % (the factsheet's "about 0.25 %"). */
	struct mtb_point_u_in in = {};
	in.volume_l = 20;
	in.ref_cert_u_exp = 0.001;
	in.reading_start_l = 0.05;
	in.reading_end_l = 0.05;
	in.flow_lph = 16;
	struct mtb_u_budget b;
	mtb_point_u_budget(&in, &b);
	EXPECT_NEAR(b.u_c * 100, 0.11365, 0.00005);
	EXPECT_NEAR(b.u_exp * 100, 0.2273, 0.0001);
	/* Reading to a tenth of the division cuts the reading terms tenfold. */
	in.reading_start_l = in.reading_end_l = 0.005;
	mtb_point_u_budget(&in, &b);
	EXPECT_NEAR(b.u_exp * 100, std::sqrt(0.05 * 0.05 + 0.01021 * 0.01021) * 2, 0.0001);
}

TEST(Uncertainty, TimingAndTemperatureTerms)
{
	/* 10 ms at 2500 L/h on 100 L: 2500/3600 x 0.01 / 100 = 0.00694 % half-width, rectangular,
	 * at start and at stop; 0.2 K half-width x 2.07e-4 /K. */
	struct mtb_point_u_in in = {};
	in.volume_l = 100;
	in.ref_cert_u_exp = 0;
	in.reading_start_l = in.reading_end_l = 0;
	in.sync_dt_s = 0.010;
	in.flow_lph = 2500;
	in.temp_diff_u_k = 0.2;
	in.beta_per_k = 2.07e-4;
	struct mtb_u_budget b;
	mtb_point_u_budget(&in, &b);
	double sync = 2500.0 / 3600 * 0.01 / 100 / std::sqrt(3.0);
	double temp = 0.2 * 2.07e-4 / std::sqrt(3.0);
	EXPECT_NEAR(b.u_c, std::sqrt(2 * sync * sync + temp * temp), 1e-12);
}
