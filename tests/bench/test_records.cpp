/* Records in a real SQLite file: lifecycle, resume, tamper detection, kill -9. */
#include "bench/records.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {
struct TmpDb {
	std::string dir, path;
	TmpDb()
	{
		char tmpl[] = "/tmp/mtb-records-XXXXXX";
		dir = mkdtemp(tmpl);
		path = dir + "/records.sqlite";
	}
	~TmpDb() { std::system(("rm -rf " + dir).c_str()); }
};

const struct mtb_meter_record METERS[] = { { 1, "SIM-0001", "dn15-r160-c2" }, { 2, "SIM-0002", "dn15-r160-c2" } };

std::string begin_session(struct mtb_records *r)
{
	struct mtb_session_info info = {};
	info.plan_name = "demo";
	info.plan_text = "name: demo\n";
	info.standard = "OIML R49:2013";
	info.mode = "verification";
	info.reading = "camera";
	info.operator_name = "王";
	info.reference_name = "sim-ref-em-dn25";
	info.cert_number = "CAL-2026-0412";
	info.cert_valid_until = "2027-05-01";
	info.started_unix_s = 1795392000;
	char id[MTB_SESSION_ID_LEN + 1];
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_records_session_begin(r, &info, METERS, 2, id, &eb), MTB_OK) << eb.msg;
	return id;
}

int commit_point(struct mtb_records *r, const std::string &sid, int idx, const char *sha = nullptr)
{
	struct mtb_point_record res[2] = {};
	for (int i = 0; i < 2; i++) {
		res[i].point_index = idx;
		res[i].point_name = "Q1";
		res[i].position = i + 1;
		res[i].flow_lph = 16.40625;
		res[i].actual_ul = 1000000 + idx;
		res[i].indicated_ul = 970000 + i;
		res[i].error_ppm = -30000;
		res[i].mpe_ppm = 50000;
		res[i].u_exp_ppm = 4000;
		res[i].zone = "lower";
		res[i].verdict = "pass";
		res[i].start_method = "flying";
		res[i].budget_json = "{\"u_c_pct\":0.2}";
	}
	struct mtb_sample_record sam[2] = { { 10, 0, 16.4, 20000, 300000 }, { 20, 1000000, 16.41, 20010, 300100 } };
	struct mtb_reading_record rd[2] = { { 1, "start", 12, 5000, 0.99, sha }, { 1, "end", 19, 975000, 0.98, nullptr } };
	struct mtb_errbuf eb = {};
	return mtb_records_point_commit(r, sid.c_str(), idx, res, 2, sam, 2, rd, 2, &eb);
}

void exec(const std::string &path, const char *sql)
{
	sqlite3 *db;
	ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
	char *msg = nullptr;
	EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &msg), SQLITE_OK) << (msg ? msg : "") << " in " << sql;
	sqlite3_free(msg);
	sqlite3_close(db);
}

struct mtb_audit_report verify(const std::string &path, int expect_rc)
{
	struct mtb_records *r;
	struct mtb_errbuf eb = {};
	struct mtb_audit_report rep = {};
	EXPECT_EQ(mtb_records_open(path.c_str(), &r, &eb), MTB_OK);
	EXPECT_EQ(mtb_records_audit_verify(r, &rep, &eb), expect_rc) << eb.msg;
	mtb_records_close(r);
	return rep;
}
} // namespace

TEST(Records, SessionPointsAndAVerifiedChain)
{
	TmpDb tmp;
	struct mtb_records *r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_records_open(tmp.path.c_str(), &r, &eb), MTB_OK) << eb.msg;
	std::string sid = begin_session(r);
	EXPECT_EQ(sid.rfind("20261123T000000Z-", 0), 0u) << sid;
	char sha[65];
	ASSERT_EQ(mtb_records_evidence_put(r, "\xff\xd8 jpeg", 7, "image/jpeg", sha, &eb), MTB_OK);
	ASSERT_EQ(mtb_records_evidence_put(r, "\xff\xd8 jpeg", 7, "image/jpeg", sha, &eb), MTB_OK);  /* idempotent */
	EXPECT_EQ(commit_point(r, sid, 0, sha), MTB_OK);
	EXPECT_EQ(commit_point(r, sid, 1), MTB_OK);
	EXPECT_EQ(mtb_records_points_done(r, sid.c_str(), &eb), 2);
	/* A point cannot be recorded twice or out of order. */
	EXPECT_EQ(commit_point(r, sid, 1), MTB_ERR_STATE);
	EXPECT_EQ(commit_point(r, sid, 5), MTB_ERR_STATE);
	ASSERT_EQ(mtb_records_session_finish(r, sid.c_str(), "complete", 612.4, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(commit_point(r, sid, 2), MTB_ERR_STATE);
	EXPECT_EQ(mtb_records_session_finish(r, sid.c_str(), "complete", 1, &eb), MTB_ERR_STATE);
	EXPECT_EQ(mtb_records_points_done(r, "nope", &eb), MTB_ERR_NOTFOUND);
	mtb_records_close(r);

	auto rep = verify(tmp.path, MTB_OK);
	EXPECT_EQ(rep.entries, 4);   /* begin, two points, end */
	EXPECT_EQ(rep.points, 2);
	EXPECT_EQ(rep.evidence, 1);
	EXPECT_EQ(rep.first_bad_seq, 0);
}

TEST(Records, AlteringARecordedResultIsDetected)
{
	TmpDb tmp;
	struct mtb_records *r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_records_open(tmp.path.c_str(), &r, &eb), MTB_OK);
	std::string sid = begin_session(r);
	ASSERT_EQ(commit_point(r, sid, 0), MTB_OK);
	ASSERT_EQ(commit_point(r, sid, 1), MTB_OK);
	mtb_records_close(r);
	verify(tmp.path, MTB_OK);

	exec(tmp.path, "UPDATE points SET verdict='fail' WHERE point_index=1 AND position=2");
	auto rep = verify(tmp.path, MTB_ERR_PROTO);
	EXPECT_EQ(rep.first_bad_seq, 3);
	EXPECT_NE(std::string(rep.problem).find("differs from what was sealed"), std::string::npos);
	exec(tmp.path, "UPDATE points SET verdict='pass' WHERE point_index=1 AND position=2");
	verify(tmp.path, MTB_OK);

	exec(tmp.path, "UPDATE readings SET volume_ul=volume_ul+1 WHERE point_index=0 AND seq=1");
	EXPECT_EQ(verify(tmp.path, MTB_ERR_PROTO).first_bad_seq, 2);
	exec(tmp.path, "UPDATE readings SET volume_ul=volume_ul-1 WHERE point_index=0 AND seq=1");

	exec(tmp.path, "UPDATE sessions SET cert_number='CAL-OTHER'");
	EXPECT_EQ(verify(tmp.path, MTB_ERR_PROTO).first_bad_seq, 1);
	exec(tmp.path, "UPDATE sessions SET cert_number='CAL-2026-0412'");
	verify(tmp.path, MTB_OK);
}

TEST(Records, TheAuditLogIsAppendOnlyAndItsChainHolds)
{
	TmpDb tmp;
	struct mtb_records *r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_records_open(tmp.path.c_str(), &r, &eb), MTB_OK);
	std::string sid = begin_session(r);
	ASSERT_EQ(commit_point(r, sid, 0), MTB_OK);
	ASSERT_EQ(commit_point(r, sid, 1), MTB_OK);
	mtb_records_close(r);

	/* The triggers refuse edits through SQL ... */
	sqlite3 *db;
	ASSERT_EQ(sqlite3_open(tmp.path.c_str(), &db), SQLITE_OK);
	EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit WHERE seq=2", nullptr, nullptr, nullptr), SQLITE_OK);
	EXPECT_NE(sqlite3_exec(db, "UPDATE audit SET payload='x' WHERE seq=2", nullptr, nullptr, nullptr), SQLITE_OK);
	sqlite3_close(db);
	/* ... and someone who drops them is caught by the chain. */
	exec(tmp.path, "DROP TRIGGER audit_no_update; UPDATE audit SET payload=replace(payload, '-30000', '-10000') WHERE seq=3");
	auto rep = verify(tmp.path, MTB_ERR_PROTO);
	EXPECT_EQ(rep.first_bad_seq, 3);
	EXPECT_NE(std::string(rep.problem).find("hash does not match"), std::string::npos);
}

TEST(Records, RemovedAuditEntryAndAlteredEvidenceAreDetected)
{
	TmpDb tmp;
	struct mtb_records *r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_records_open(tmp.path.c_str(), &r, &eb), MTB_OK);
	std::string sid = begin_session(r);
	char sha[65];
	ASSERT_EQ(mtb_records_evidence_put(r, "frame", 5, "image/jpeg", sha, &eb), MTB_OK);
	ASSERT_EQ(commit_point(r, sid, 0, sha), MTB_OK);
	ASSERT_EQ(commit_point(r, sid, 1), MTB_OK);
	mtb_records_close(r);
	exec(tmp.path, "UPDATE evidence SET bytes=X'00'");
	EXPECT_NE(std::string(verify(tmp.path, MTB_ERR_PROTO).problem).find("evidence"), std::string::npos);
	exec(tmp.path, "UPDATE evidence SET bytes=CAST('frame' AS BLOB)");
	verify(tmp.path, MTB_OK);
	exec(tmp.path, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq=2");
	EXPECT_NE(std::string(verify(tmp.path, MTB_ERR_PROTO).problem).find("sequence gap"), std::string::npos);
}

TEST(Records, KillNineLosesAtMostThePointInProgress)
{
	/* A child commits points as fast as it can and is killed with SIGKILL at some moment;
	 * whatever it committed must be complete, verified, and resumable. Repeated at several
	 * moments so that the kill lands inside transactions too. */
	for (int trial = 0; trial < 5; trial++) {
		TmpDb tmp;
		std::string sid;
		{
			struct mtb_records *r;
			struct mtb_errbuf eb = {};
			ASSERT_EQ(mtb_records_open(tmp.path.c_str(), &r, &eb), MTB_OK);
			sid = begin_session(r);
			mtb_records_close(r);
		}
		/* The child says when its first point is in, so the kill never lands before any
		 * commit however slow the disk; then it is killed a little later, at varying moments. */
		int ready[2];
		ASSERT_EQ(pipe(ready), 0);
		pid_t pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0) {
			close(ready[0]);
			struct mtb_records *r;
			struct mtb_errbuf eb = {};
			if (mtb_records_open(tmp.path.c_str(), &r, &eb) != MTB_OK)
				_exit(3);
			for (int i = 0;; i++) {
				if (commit_point(r, sid, i) != MTB_OK)
					_exit(4);
				if (i == 0 && write(ready[1], "x", 1) != 1)
					_exit(5);
			}
		}
		close(ready[1]);
		char byte;
		ASSERT_EQ(read(ready[0], &byte, 1), 1) << "the child never committed a point";
		close(ready[0]);
		usleep(trial * 7000);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself: " << status;

		struct mtb_records *r;
		struct mtb_errbuf eb = {};
		ASSERT_EQ(mtb_records_open(tmp.path.c_str(), &r, &eb), MTB_OK);
		int done = mtb_records_points_done(r, sid.c_str(), &eb);
		EXPECT_GT(done, 0);
		struct mtb_audit_report rep;
		EXPECT_EQ(mtb_records_audit_verify(r, &rep, &eb), MTB_OK) << eb.msg;
		EXPECT_EQ(rep.points, done);
		/* Resume: the next point is accepted where the run stopped. */
		EXPECT_EQ(commit_point(r, sid, done), MTB_OK);
		mtb_records_close(r);
	}
}

TEST(Records, AnAbortedSessionResumesAndAddsItsBenchTime)
{
	TmpDb tmp;
	struct mtb_records *r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_records_open(tmp.path.c_str(), &r, &eb), MTB_OK);
	std::string sid = begin_session(r);
	ASSERT_EQ(commit_point(r, sid, 0), MTB_OK);
	ASSERT_EQ(mtb_records_session_finish(r, sid.c_str(), "aborted", 100.5, &eb), MTB_OK);
	EXPECT_EQ(commit_point(r, sid, 1), MTB_ERR_STATE);
	EXPECT_EQ(mtb_records_session_resume(r, sid.c_str(), &eb), 1);
	ASSERT_EQ(commit_point(r, sid, 1), MTB_OK);
	ASSERT_EQ(mtb_records_session_finish(r, sid.c_str(), "complete", 50.25, &eb), MTB_OK);
	EXPECT_EQ(mtb_records_session_resume(r, sid.c_str(), &eb), MTB_ERR_STATE);
	EXPECT_EQ(mtb_records_session_resume(r, "nope", &eb), MTB_ERR_NOTFOUND);
	struct mtb_session_view *v;
	ASSERT_EQ(mtb_records_session_load(r, sid.c_str(), &v, &eb), MTB_OK);
	EXPECT_DOUBLE_EQ(v->bench_time_s, 150.75);
	EXPECT_STREQ(v->status, "complete");
	free(v);
	struct mtb_audit_report rep;
	EXPECT_EQ(mtb_records_audit_verify(r, &rep, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(rep.entries, 6);   /* begin, point, end, resume, point, end */
	mtb_records_close(r);
}

TEST(Records, ReadingsSamplesAndEvidenceReadBackInRecordedOrder)
{
	TmpDb tmp;
	struct mtb_records *r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_records_open(tmp.path.c_str(), &r, &eb), MTB_OK) << eb.msg;
	std::string sid = begin_session(r);
	char sha[65];
	ASSERT_EQ(mtb_records_evidence_put(r, "\xff\xd8\x00 jpeg", 8, "image/jpeg", sha, &eb), MTB_OK);
	ASSERT_EQ(commit_point(r, sid, 0, sha), MTB_OK);
	ASSERT_EQ(commit_point(r, sid, 1), MTB_OK);

	struct mtb_reading_view *v = nullptr;
	int n = -1;
	ASSERT_EQ(mtb_records_readings_list(r, sid.c_str(), -1, &v, &n, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(n, 4);
	EXPECT_EQ(v[0].point_index, 0);
	EXPECT_STREQ(v[0].phase, "start");
	EXPECT_EQ(v[0].volume_ul, 5000);
	EXPECT_DOUBLE_EQ(v[0].confidence, 0.99);
	EXPECT_STREQ(v[0].image_sha256, sha);
	EXPECT_STREQ(v[1].phase, "end");
	EXPECT_EQ(v[1].t_mono_us, 19);
	EXPECT_STREQ(v[1].image_sha256, "");
	EXPECT_EQ(v[2].point_index, 1);
	free(v);
	ASSERT_EQ(mtb_records_readings_list(r, sid.c_str(), 1, &v, &n, &eb), MTB_OK);
	EXPECT_EQ(n, 2);
	EXPECT_EQ(v[0].point_index, 1);
	free(v);
	ASSERT_EQ(mtb_records_readings_list(r, "nope", -1, &v, &n, &eb), MTB_OK);
	EXPECT_EQ(n, 0);
	EXPECT_EQ(v, nullptr);

	struct mtb_sample_view *sv = nullptr;
	ASSERT_EQ(mtb_records_samples_list(r, sid.c_str(), 1, &sv, &n, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(n, 2);
	EXPECT_EQ(sv[0].point_index, 1);
	EXPECT_EQ(sv[0].t_mono_us, 10);
	EXPECT_EQ(sv[1].totaliser_ul, 1000000);
	EXPECT_DOUBLE_EQ(sv[1].flow_lph, 16.41);
	EXPECT_EQ(sv[1].temp_mdegc, 20010);
	EXPECT_EQ(sv[1].pressure_pa, 300100);
	free(sv);
	ASSERT_EQ(mtb_records_samples_list(r, sid.c_str(), -1, &sv, &n, &eb), MTB_OK);
	EXPECT_EQ(n, 4);
	free(sv);

	unsigned char *data = nullptr;
	size_t len = 0;
	char mime[64];
	ASSERT_EQ(mtb_records_evidence_get(r, sha, &data, &len, mime, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(len, 8u);   /* the NUL inside survives: bytes, not text */
	EXPECT_EQ(memcmp(data, "\xff\xd8\x00 jpeg", 8), 0);
	EXPECT_STREQ(mime, "image/jpeg");
	free(data);
	EXPECT_EQ(mtb_records_evidence_get(r, "00", &data, &len, mime, &eb), MTB_ERR_NOTFOUND);
	EXPECT_EQ(data, nullptr);
	mtb_records_close(r);
}

/* The steps of a can run's fill (the coarse fill, the openings by mass, each meniscus reading
 * of the top-up and the opening it decided) are sealed with the run: an altered step is found. */
TEST(Records, CanFillStepsAreSealedWithTheRun)
{
	TmpDb tmp;
	struct mtb_records *r;
	struct mtb_errbuf eb = {};
	ASSERT_EQ(mtb_records_open(tmp.path.c_str(), &r, &eb), MTB_OK);
	std::string sid = begin_session(r);
	struct mtb_can_run_record run = { 23000000, 3000000, 9.97, 24.0, 22.0, 1003.0, 60.0 };
	struct mtb_can_balance_record bal[1] = { { 1000, 0, 23000000, 1 } };
	struct mtb_can_meniscus_record men[1] = { { 2000, 1, 9.97, 0.93, "", nullptr } };
	struct mtb_can_step_record steps[4] = {
		{ 500, "coarse", 170000000, 22900000, NAN, NAN },
		{ 600, "fine", 1400000, 22960000, NAN, 10.0 },
		{ 700, "top-up", 3300000, 23005000, 9.48, 10.0 },
		{ 800, "stop", 0, 23005000, 9.97, 10.0 },
	};
	/* an interrupted attempt at run 0 first (a resumed session): its steps are sealed with it,
	 * the redo's continue after them */
	ASSERT_EQ(mtb_records_can_run_commit_steps(r, sid.c_str(), 0, nullptr, bal, 1, men, 1, steps, 2, &eb), MTB_OK) << eb.msg;
	ASSERT_EQ(mtb_records_can_run_commit_steps(r, sid.c_str(), 0, &run, bal, 1, men, 1, steps, 4, &eb), MTB_OK) << eb.msg;
	mtb_records_close(r);
	EXPECT_EQ(verify(tmp.path, MTB_OK).can_records, 2);

	exec(tmp.path, "UPDATE can_fill_steps SET level_div=9.95 WHERE run_index=0 AND seq=4");
	auto rep = verify(tmp.path, MTB_ERR_PROTO);
	EXPECT_EQ(rep.first_bad_seq, 3);   /* the run's entry (begin, attempt, run) */
	exec(tmp.path, "UPDATE can_fill_steps SET level_div=9.48 WHERE run_index=0 AND seq=4");
	verify(tmp.path, MTB_OK);
	exec(tmp.path, "UPDATE can_fill_steps SET open_us=1 WHERE run_index=0 AND seq=1");
	EXPECT_EQ(verify(tmp.path, MTB_ERR_PROTO).first_bad_seq, 2);   /* the attempt's */
	exec(tmp.path, "UPDATE can_fill_steps SET open_us=1400000 WHERE run_index=0 AND seq=1");
	verify(tmp.path, MTB_OK);
	exec(tmp.path, "DELETE FROM can_fill_steps WHERE run_index=0 AND seq=5");
	EXPECT_EQ(verify(tmp.path, MTB_ERR_PROTO).first_bad_seq, 3);
}
