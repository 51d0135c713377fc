/* The replay of a recorded point (meterbench serve): readings in the order they were taken, each
 * followed by its own evidence image, and the reference volume counting from the start instant
 * to the stop instant and no further, at the values the point was computed from. Records are
 * written here by hand with known samples and frame instants, so every expected value is
 * worked out from the numbers below. */
#include "bench/live.h"
#include "bench/records.h"
#include "core/image.h"
#include "vision/vision.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

/* A real JPEG, different for every n. */
std::vector<unsigned char> jpeg_of(int n)
{
	struct mtb_image *img;
	EXPECT_EQ(mtb_image_create(&img, 64, 48, 3), MTB_OK);
	for (int y = 0; y < 48; y++)
		for (int x = 0; x < 64 * 3; x++)
			mtb_image_row(img, y)[x] = (uint8_t)((x + 7 * y + 31 * n) & 0xff);
	unsigned char *jpg;
	size_t len;
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_image_encode_jpeg(img, 80, &jpg, &len, &eb), MTB_OK) << eb.msg;
	std::vector<unsigned char> v(jpg, jpg + len);
	free(jpg);
	mtb_image_destroy(img);
	return v;
}

/* A JSON member's raw text ("key":VALUE -> VALUE). */
std::string member(const std::string &json, const std::string &key)
{
	size_t p = json.find("\"" + key + "\":");
	if (p == std::string::npos)
		return "";
	p += key.size() + 3;
	size_t e = json.find_first_of(",}", p);
	std::string v = json.substr(p, e - p);
	if (v.size() >= 2 && v[0] == '"')
		v = v.substr(1, v.size() - 2);
	return v;
}

/* Litres as written in an event -> microlitres, exactly (no more than 6 decimals). */
int64_t ul_of(const std::string &litres)
{
	size_t dot = litres.find('.');
	std::string whole = litres.substr(0, dot), frac = dot == std::string::npos ? "" : litres.substr(dot + 1);
	EXPECT_LE(frac.size(), 6u) << litres;
	frac.resize(6, '0');
	return std::stoll(whole) * 1000000 + std::stoll(frac);
}

/* Samples every 200 ms from 1.0 s to 6.0 s; interval k (from sample k to k+1) passes 2000 + 100 k
 * microlitres, so the totaliser at 50 ms steps is a whole number of microlitres. */
const int64_t T0_US = 1000000, DT_US = 200000;
const int N_SAMPLES = 26;
int64_t tot_at_sample(int k)
{
	int64_t t = 500000;
	for (int i = 0; i < k; i++)
		t += 2000 + 100 * i;
	return t;
}
/* Linear between samples, at a 50 ms step (exact). */
int64_t tot_at(int64_t t_us)
{
	int k = (int)((t_us - T0_US) / DT_US);
	int64_t into = t_us - T0_US - (int64_t)k * DT_US;
	return tot_at_sample(k) + (2000 + 100 * k) * into / DT_US;
}

struct Recorded {
	std::string dir, db;
	struct mtb_records *rec = nullptr;
	char sid[MTB_SESSION_ID_LEN + 1] = "";
	std::vector<std::string> shas;
	Recorded()
	{
		char tmpl[] = "/tmp/mtb-replay-XXXXXX";
		dir = mkdtemp(tmpl);
		db = dir + "/records.sqlite";
		struct mtb_errbuf eb = {};
		EXPECT_EQ(mtb_records_open(db.c_str(), &rec, &eb), MTB_OK) << eb.msg;
		struct mtb_session_info info = {};
		info.plan_name = "replay";
		info.standard = "OIML R49:2013";
		info.rule_set = "r49-2013";
		info.mode = "dispute";
		info.reading = "camera";
		struct mtb_meter_record m[2] = { { 1, "M-1", "dn15-r160-c2" }, { 2, "M-2", "dn15-r160-c2" } };
		EXPECT_EQ(mtb_records_session_begin(rec, &info, m, 2, sid, &eb), MTB_OK) << eb.msg;

		std::vector<struct mtb_sample_record> sr;
		for (int k = 0; k < N_SAMPLES; k++)
			sr.push_back({ T0_US + k * DT_US, tot_at_sample(k), 36.0 + k, 20000, 400000 });
		/* Frames: start at 1.65, 1.85, 2.05 s; end (after the stop) at 4.45, 4.65, 4.85 s; meter 2
		 * 50 ms after meter 1. Stored meter by meter, as the sequencer stores them. Meter 1's end
		 * frames gave no reading: meter 2 is the first meter read at both ends. */
		const int64_t start_us[3] = { 1650000, 1850000, 2050000 }, end_us[3] = { 4450000, 4650000, 4850000 };
		std::vector<struct mtb_reading_record> rd;
		shas.resize(12);
		int n = 0;
		for (int pos = 1; pos <= 2; pos++)
			for (int ph = 0; ph < 2; ph++)
				for (int f = 0; f < 3; f++, n++) {
					auto j = jpeg_of(n);
					char sha[65];
					EXPECT_EQ(mtb_records_evidence_put(rec, j.data(), j.size(), "image/jpeg", sha, &eb), MTB_OK);
					shas[n] = sha;
					int64_t t = (ph ? end_us[f] : start_us[f]) + (pos - 1) * 50000;
					bool read = !(pos == 1 && ph == 1);
					rd.push_back({ pos, ph ? "end" : "start", t, read ? 1000000 + tot_at(t) : -1, read ? 0.9 : 0.0,
						       nullptr });
				}
		for (int i = 0; i < n; i++)
			rd[i].image_sha256 = shas[i].c_str();
		struct mtb_point_record pr[2] = {
			{ 0, "Q1", 1, 16.0, 0, 0, 0, 0, 0, "lower", "invalid", "flying", nullptr, nullptr },
			{ 0, "Q1", 2, 16.0, 8000, 8000, 0, 100000, 900, "lower", "pass", "flying", nullptr, nullptr },
		};
		EXPECT_EQ(mtb_records_point_commit(rec, sid, 0, pr, 2, sr.data(), (int)sr.size(), rd.data(), (int)rd.size(),
						   &eb), MTB_OK) << eb.msg;
	}
	~Recorded()
	{
		mtb_records_close(rec);
		std::system(("rm -rf " + dir).c_str());
	}
};

} // namespace

TEST(LiveReplay, TheWindowIsTheFirstMeterReadAtBothEnds)
{
	Recorded r;
	struct mtb_errbuf eb = {};
	struct mtb_sample_view *sa;
	struct mtb_reading_view *rd;
	int n_sa, n_rd;
	ASSERT_EQ(mtb_records_samples_list(r.rec, r.sid, 0, &sa, &n_sa, &eb), MTB_OK);
	ASSERT_EQ(mtb_records_readings_list(r.rec, r.sid, 0, &rd, &n_rd, &eb), MTB_OK);
	int pos[2] = { 1, 2 };
	struct mtb_live_window w;
	ASSERT_EQ(mtb_live_point_window(sa, n_sa, rd, n_rd, pos, 2, &w), MTB_OK);
	EXPECT_TRUE(w.read);
	EXPECT_EQ(w.position, 2);
	/* meter 2: start frames at 1.70, 1.90, 2.10 s, end frames at 4.50, 4.70, 4.90 s: the medians */
	EXPECT_EQ(w.t_start_us, 1900000);
	EXPECT_EQ(w.t_stop_us, 4700000);
	EXPECT_EQ(w.ref_start_ul, tot_at(1900000));
	EXPECT_EQ(w.ref_stop_ul, tot_at(4700000));
	/* 0 before the start, the totaliser's rise in between, the stop's value ever after */
	EXPECT_EQ(mtb_live_window_volume_ul(&w, sa, n_sa, 1000000), 0);
	EXPECT_EQ(mtb_live_window_volume_ul(&w, sa, n_sa, 3000000), tot_at(3000000) - tot_at(1900000));
	EXPECT_EQ(mtb_live_window_volume_ul(&w, sa, n_sa, 4700000), tot_at(4700000) - tot_at(1900000));
	EXPECT_EQ(mtb_live_window_volume_ul(&w, sa, n_sa, 6000000), tot_at(4700000) - tot_at(1900000));
	free(sa);
	free(rd);
}

TEST(LiveReplay, ReadingsComeInTimeOrderEachWithItsOwnImageAndTheVolumeStopsAtTheStop)
{
	Recorded r;
	struct mtb_errbuf eb = {};
	struct mtb_session_view *s;
	ASSERT_EQ(mtb_records_session_load(r.rec, r.sid, &s, &eb), MTB_OK) << eb.msg;
	struct mtb_live_step *st;
	int n;
	ASSERT_EQ(mtb_live_replay_point(r.rec, s, 0, 1, 0.0, &st, &n, &eb), MTB_OK) << eb.msg;
	const int64_t total_ul = tot_at(4700000) - tot_at(1900000);
	/* precondition: the samples go on after the stop (a replay that followed them would run past) */
	ASSERT_GT(tot_at_sample(N_SAMPLES - 1) - tot_at(1900000), total_ul);

	int readings = 0, frames = 0, flows = 0, forming = 0;
	int64_t last_vol = -1, last_t = INT64_MIN;
	bool judged = false;
	std::vector<std::string> reading_order;
	for (int i = 0; i < n; i++) {
		EXPECT_GE(st[i].t_us, last_t) << "step " << i << " goes back in time";
		last_t = st[i].t_us;
		if (st[i].kind == MTB_LIVE_STEP_FRAME) {
			frames++;
			continue;
		}
		std::string j = st[i].json;
		std::string type = member(j, "type");
		if (type == "reading") {
			readings++;
			reading_order.push_back(member(j, "position") + member(j, "phase"));
			/* the frame shown with a reading is that very reading's evidence image */
			ASSERT_LT(i + 1, n);
			ASSERT_EQ(st[i + 1].kind, MTB_LIVE_STEP_FRAME) << "a reading without its image right after it";
			EXPECT_EQ(st[i + 1].image_sha256, member(j, "image_sha256"));
			EXPECT_EQ(std::to_string(st[i + 1].position), member(j, "position"));
			EXPECT_EQ(st[i + 1].t_us, std::stoll(member(j, "t_mono_us")));
		} else if (type == "flow" && !judged) {
			flows++;
			int64_t v = ul_of(member(j, "ref_volume_l"));
			EXPECT_GE(v, last_vol) << "the reference volume went down";
			EXPECT_LE(v, total_ul) << "the reference volume ran past the stop";
			if (v > 0 && v < total_ul)
				forming++;
			last_vol = v;
		} else if (type == "state" && member(j, "state") == "judge") {
			judged = true;
		}
	}
	EXPECT_EQ(readings, 12);
	EXPECT_EQ(frames, 12);
	EXPECT_TRUE(judged);
	EXPECT_GT(forming, 5) << "the volume forms between the start and the stop";
	EXPECT_EQ(last_vol, total_ul) << "the replay ends the point at the stop's reference volume";
	/* taken alternately, meter 1 then meter 2, though stored meter by meter */
	ASSERT_EQ(reading_order.size(), 12u);
	EXPECT_EQ(reading_order[0], "1start");
	EXPECT_EQ(reading_order[1], "2start");
	EXPECT_EQ(reading_order[6], "1end");
	EXPECT_EQ(reading_order[7], "2end");
	mtb_live_steps_free(st, n);
	free(s);
}
