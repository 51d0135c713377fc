/* Water density (Tanaka 2001) against the factsheet's table, and the standard-meter
 * correction of the reference volume. */
#include "calibration/water.h"

#include <gtest/gtest.h>

#include <cmath>

static double round4(double v) { return std::round(v * 1e4) / 1e4; }

TEST(WaterDensity, TanakaAt20CToFourDecimals)
{
	EXPECT_DOUBLE_EQ(round4(mtb_water_density_kgm3(20.0)), 998.2067);
}

TEST(WaterDensity, MatchesTheTableFrom10To40C)
{
	const struct { double t, rho; } table[] = {
		{ 10, 999.7027 }, { 15, 999.1026 }, { 18, 998.5984 }, { 22, 997.7730 }, { 25, 997.0470 },
		{ 28, 996.2353 }, { 30, 995.6488 }, { 35, 994.0326 }, { 40, 992.2152 },
	};
	for (auto &e : table)
		EXPECT_DOUBLE_EQ(round4(mtb_water_density_kgm3(e.t)), e.rho) << e.t << " C";
	/* Maximum density near 3.98 C. */
	EXPECT_GT(mtb_water_density_kgm3(3.983035), mtb_water_density_kgm3(3.0));
	EXPECT_GT(mtb_water_density_kgm3(3.983035), mtb_water_density_kgm3(5.0));
}

TEST(WaterDensity, AirSaturationAndCompressibility)
{
	/* -4.612e-3 + 0.106e-3 x 20 = -0.002492 kg/m3 at 20 C. */
	EXPECT_NEAR(mtb_water_density_air_saturated_kgm3(20) - mtb_water_density_kgm3(20), -0.002492, 1e-9);
	/* k(20) = (50.74 - 6.52 + 0.01664) e-11 = 44.23664e-11 ... factsheet: kappa ~ 4.6e-10 at 20 C. */
	EXPECT_NEAR(mtb_water_compressibility_per_pa(20), 4.588e-10, 1e-13);
	EXPECT_DOUBLE_EQ(mtb_water_density_tp_kgm3(20, MTB_P_STD_KPA), mtb_water_density_kgm3(20));
}

TEST(ReferenceCorrection, OneKelvinWarmerAtTheMeterUnderTest)
{
	/* 100 L counted by the reference at 20 C pass the meter under test at 21 C. From the
	 * densities 998.2067 and 997.9950 kg/m3: Va = 100 x 998.2067/997.9950 = 100.02121 L
	 * (beta ~ 2.1e-4 /K, factsheet 1.11: 1 K -> 0.021 %). */
	struct mtb_water_state ref = { 20.0, MTB_P_STD_KPA }, mut = { 21.0, MTB_P_STD_KPA };
	int64_t va = mtb_water_actual_volume_ul(100000000, 0.0, &ref, &mut);
	EXPECT_NEAR((double)va, 100021212.0, 10.0);
}

TEST(ReferenceCorrection, PressureAndCertificateError)
{
	/* Reference 0.5 MPa above the meter under test: factsheet 1.11 gives 0.023 %. */
	struct mtb_water_state ref = { 20.0, MTB_P_STD_KPA + 500.0 }, mut = { 20.0, MTB_P_STD_KPA };
	int64_t va = mtb_water_actual_volume_ul(100000000, 0.0, &ref, &mut);
	EXPECT_NEAR((double)va, 100022942.0, 5.0);
	/* A reference reading 0.2 % high: V_ref,corr = 100 / 1.002 = 99.800399 L. */
	struct mtb_water_state same = { 20.0, MTB_P_STD_KPA };
	EXPECT_EQ(mtb_water_actual_volume_ul(100000000, 0.002, &same, &same), 99800399);
	/* Same conditions, perfect reference: the volume is unchanged to the microlitre. */
	EXPECT_EQ(mtb_water_actual_volume_ul(123456789, 0.0, &same, &same), 123456789);
}
