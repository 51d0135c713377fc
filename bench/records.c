#include "bench/records.h"

#include "core/sha256.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct mtb_records {
	sqlite3 *db;
};

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS sessions ("
	"  id TEXT PRIMARY KEY, started_unix_s INTEGER NOT NULL, plan_name TEXT NOT NULL,"
	"  plan_text TEXT NOT NULL, bench_name TEXT, standard TEXT NOT NULL, mode TEXT NOT NULL,"
	"  reading TEXT NOT NULL, operator TEXT, reference_name TEXT, reference_serial TEXT,"
	"  cert_number TEXT, cert_valid_until TEXT, reference_yaml TEXT, rule_set TEXT, jurisdiction TEXT,"
	"  customer TEXT, utility TEXT, case_number TEXT,"
	"  status TEXT NOT NULL DEFAULT 'running', finished_unix_s INTEGER, bench_time_s REAL);"
	"CREATE TABLE IF NOT EXISTS meters ("
	"  session_id TEXT NOT NULL REFERENCES sessions(id), position INTEGER NOT NULL,"
	"  serial TEXT NOT NULL, type TEXT NOT NULL, PRIMARY KEY (session_id, position));"
	"CREATE TABLE IF NOT EXISTS points ("
	"  session_id TEXT NOT NULL REFERENCES sessions(id), point_index INTEGER NOT NULL,"
	"  position INTEGER NOT NULL, name TEXT NOT NULL, flow_lph REAL NOT NULL,"
	"  actual_ul INTEGER NOT NULL, indicated_ul INTEGER NOT NULL, error_ppm INTEGER NOT NULL,"
	"  mpe_ppm INTEGER NOT NULL, u_exp_ppm INTEGER NOT NULL, zone TEXT NOT NULL,"
	"  verdict TEXT NOT NULL, start_method TEXT NOT NULL, budget_json TEXT, corrections_json TEXT,"
	"  PRIMARY KEY (session_id, point_index, position),"
	"  FOREIGN KEY (session_id, position) REFERENCES meters(session_id, position));"
	"CREATE TABLE IF NOT EXISTS samples ("
	"  session_id TEXT NOT NULL REFERENCES sessions(id), point_index INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL, t_mono_us INTEGER NOT NULL, totaliser_ul INTEGER NOT NULL,"
	"  flow_lph REAL NOT NULL, temp_mdegc INTEGER NOT NULL, pressure_pa INTEGER NOT NULL,"
	"  PRIMARY KEY (session_id, point_index, seq));"
	"CREATE TABLE IF NOT EXISTS readings ("
	"  session_id TEXT NOT NULL REFERENCES sessions(id), point_index INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL, position INTEGER NOT NULL, phase TEXT NOT NULL,"
	"  t_mono_us INTEGER NOT NULL, volume_ul INTEGER NOT NULL, confidence REAL NOT NULL,"
	"  image_sha256 TEXT REFERENCES evidence(sha256), PRIMARY KEY (session_id, point_index, seq));"
	"CREATE TABLE IF NOT EXISTS evidence ("
	"  sha256 TEXT PRIMARY KEY, mime TEXT NOT NULL, bytes BLOB NOT NULL);"
	/* measuring cans (records.h): runs, the balance replies and neck frames behind them */
	"CREATE TABLE IF NOT EXISTS can_runs ("
	"  session_id TEXT NOT NULL REFERENCES sessions(id), run_index INTEGER NOT NULL,"
	"  full_mg INTEGER NOT NULL, empty_mg INTEGER NOT NULL, level_div REAL NOT NULL,"
	"  water_c REAL NOT NULL, air_c REAL NOT NULL, p_hpa REAL NOT NULL, rh_pct REAL NOT NULL,"
	"  PRIMARY KEY (session_id, run_index));"
	"CREATE TABLE IF NOT EXISTS balance_readings ("
	"  session_id TEXT NOT NULL REFERENCES sessions(id), run_index INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL, t_mono_us INTEGER NOT NULL, rc INTEGER NOT NULL, mass_mg INTEGER NOT NULL,"
	"  stable INTEGER NOT NULL, PRIMARY KEY (session_id, run_index, seq));"
	"CREATE TABLE IF NOT EXISTS meniscus_readings ("
	"  session_id TEXT NOT NULL REFERENCES sessions(id), run_index INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL, t_mono_us INTEGER NOT NULL, ok INTEGER NOT NULL, level_div REAL,"
	"  confidence REAL NOT NULL, reason TEXT, image_sha256 TEXT REFERENCES evidence(sha256),"
	"  PRIMARY KEY (session_id, run_index, seq));"
	"CREATE TABLE IF NOT EXISTS can_fill_steps ("
	"  session_id TEXT NOT NULL REFERENCES sessions(id), run_index INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL, t_mono_us INTEGER NOT NULL, kind TEXT NOT NULL, open_us INTEGER NOT NULL,"
	"  mass_mg INTEGER NOT NULL, level_div REAL, aim_div REAL, PRIMARY KEY (session_id, run_index, seq));"
	"CREATE TABLE IF NOT EXISTS can_results ("
	"  session_id TEXT PRIMARY KEY REFERENCES sessions(id), vessel TEXT NOT NULL, n_runs INTEGER NOT NULL,"
	"  mean_v_ref_ul REAL NOT NULL, s_error_ul REAL NOT NULL, error_ul INTEGER NOT NULL,"
	"  u_exp_ul INTEGER NOT NULL, mpe_ul INTEGER NOT NULL, verdict TEXT NOT NULL, budget_json TEXT);"
	"CREATE TABLE IF NOT EXISTS audit ("
	"  seq INTEGER PRIMARY KEY, session_id TEXT NOT NULL, t_unix_s INTEGER NOT NULL,"
	"  kind TEXT NOT NULL, point_index INTEGER, payload TEXT NOT NULL,"
	"  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	/* The log is append-only for this software; the hash chain detects what others do. */
	"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;";

static const char GENESIS[] = "0000000000000000000000000000000000000000000000000000000000000000";

static int db_err(struct mtb_records *r, struct mtb_errbuf *eb, const char *what)
{
	return mtb_errbuf_set(eb, MTB_ERR_IO, "records: %s: %s", what, sqlite3_errmsg(r->db));
}

int mtb_records_open(const char *path, struct mtb_records **out, struct mtb_errbuf *eb)
{
	*out = NULL;
	struct mtb_records *r = calloc(1, sizeof *r);
	if (!r)
		return MTB_ERR_NOMEM;
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		int rc = mtb_errbuf_set(eb, MTB_ERR_IO, "records: %s: %s", path, r->db ? sqlite3_errmsg(r->db) : "cannot open");
		sqlite3_close(r->db);
		free(r);
		return rc;
	}
	sqlite3_busy_timeout(r->db, 5000);
	char *msg = NULL;
	/* WAL: readers (the live view, an auditor) never block the run; synchronous=FULL so that a
	 * committed point survives power loss, not just a crash of the process. */
	const char *pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
	if (sqlite3_exec(r->db, pragmas, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(r->db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = mtb_errbuf_set(eb, MTB_ERR_IO, "records: %s: %s", path, msg ? msg : "schema");
		sqlite3_free(msg);
		sqlite3_close(r->db);
		free(r);
		return rc;
	}
	*out = r;
	return MTB_OK;
}

void mtb_records_close(struct mtb_records *r)
{
	if (!r)
		return;
	sqlite3_close(r->db);
	free(r);
}

/* ---- a growable text buffer for canonical records ------------------------------------- */

struct text {
	char *s;
	size_t len, cap;
	bool failed;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	if (t->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->len + (size_t)n + 1 > t->cap) {
		size_t cap = (t->cap ? t->cap * 2 : 1024) + (size_t)n;
		char *s = realloc(t->s, cap);
		if (!s) {
			t->failed = true;
			return;
		}
		t->s = s;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* Text fields are written length-prefixed so that no content can forge a field boundary. */
static void text_field(struct text *t, const char *key, const char *v)
{
	v = v ? v : "";
	text_add(t, "%s=%zu:%s\n", key, strlen(v), v);
}

/* Doubles with 17 significant digits: they read back bit for bit. */
static void canon_point(struct text *t, const char *sid, int idx, sqlite3_stmt *st)
{
	/* st columns: position, name, flow_lph, actual_ul, indicated_ul, error_ppm, mpe_ppm,
	 * u_exp_ppm, zone, verdict, start_method, budget_json, corrections_json */
	text_add(t, "point %s %d %d\n", sid, idx, sqlite3_column_int(st, 0));
	text_field(t, "name", (const char *)sqlite3_column_text(st, 1));
	text_add(t, "flow_lph=%.17g\nactual_ul=%lld\nindicated_ul=%lld\nerror_ppm=%lld\nmpe_ppm=%d\nu_exp_ppm=%d\n",
		 sqlite3_column_double(st, 2), (long long)sqlite3_column_int64(st, 3),
		 (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
		 sqlite3_column_int(st, 6), sqlite3_column_int(st, 7));
	text_field(t, "zone", (const char *)sqlite3_column_text(st, 8));
	text_field(t, "verdict", (const char *)sqlite3_column_text(st, 9));
	text_field(t, "start", (const char *)sqlite3_column_text(st, 10));
	text_field(t, "budget", (const char *)sqlite3_column_text(st, 11));
	text_field(t, "corrections", (const char *)sqlite3_column_text(st, 12));
}

/* The canonical text of everything recorded for one point of a session, derived from the
 * tables: what the point's audit entry seals, and what verification re-derives. */
static int canon_point_all(struct mtb_records *r, const char *sid, int idx, struct text *t)
{
	static const char *const Q[] = {
		"SELECT position, name, flow_lph, actual_ul, indicated_ul, error_ppm, mpe_ppm, u_exp_ppm,"
		" zone, verdict, start_method, budget_json, corrections_json FROM points"
		" WHERE session_id=?1 AND point_index=?2 ORDER BY position",
		"SELECT seq, t_mono_us, totaliser_ul, flow_lph, temp_mdegc, pressure_pa FROM samples"
		" WHERE session_id=?1 AND point_index=?2 ORDER BY seq",
		"SELECT seq, position, phase, t_mono_us, volume_ul, confidence, image_sha256 FROM readings"
		" WHERE session_id=?1 AND point_index=?2 ORDER BY seq",
	};
	for (int q = 0; q < 3; q++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(r->db, Q[q], -1, &st, NULL) != SQLITE_OK)
			return MTB_ERR_IO;
		sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, idx);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (q == 0) {
				canon_point(t, sid, idx, st);
			} else if (q == 1) {
				text_add(t, "sample %d t=%lld tot=%lld flow=%.17g temp=%d p=%d\n", sqlite3_column_int(st, 0),
					 (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2),
					 sqlite3_column_double(st, 3), sqlite3_column_int(st, 4), sqlite3_column_int(st, 5));
			} else {
				text_add(t, "reading %d pos=%d t=%lld vol=%lld conf=%.17g\n", sqlite3_column_int(st, 0),
					 sqlite3_column_int(st, 1), (long long)sqlite3_column_int64(st, 3),
					 (long long)sqlite3_column_int64(st, 4), sqlite3_column_double(st, 5));
				text_field(t, "phase", (const char *)sqlite3_column_text(st, 2));
				text_field(t, "image", (const char *)sqlite3_column_text(st, 6));
			}
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return MTB_ERR_IO;
	}
	return t->failed ? MTB_ERR_NOMEM : MTB_OK;
}

/* Which observations of a can run an audit entry sealed: the rows of that run whose seq lies in
 * [b0, b1) (balance) and [m0, m1) (meniscus). An interrupted attempt at a run and the attempt
 * that completes it are sealed separately, each with its own rows; entries written before runs
 * could be resumed sealed every row of the run (all). */
struct can_rows {
	bool all;
	int b0, b1, m0, m1;
	int s0, s1;   /* the fill's steps [s0, s1): stated only when there are any */
};

/* The range an entry's payload states on its first line ("can-run SID IDX balance=B0-B1
 * meniscus=M0-M1"); none stated: every row of the run. The payload is sealed by the chain, so
 * the range it names is the range that was sealed. */
static struct can_rows can_rows_of(const char *payload)
{
	struct can_rows k = { .all = true };
	const char *nl = payload ? strchr(payload, '\n') : NULL;
	const char *b = payload ? strstr(payload, " balance=") : NULL;
	if (b && (!nl || b < nl) && sscanf(b, " balance=%d-%d meniscus=%d-%d", &k.b0, &k.b1, &k.m0, &k.m1) == 4)
		k.all = false;
	const char *st = payload ? strstr(payload, " steps=") : NULL;
	if (!k.all && st && (!nl || st < nl) && sscanf(st, " steps=%d-%d", &k.s0, &k.s1) != 2)
		k.s0 = k.s1 = 0;
	return k;
}

/* The canonical text of a can run (kind "can-run": its row, then every balance reply and neck
 * frame committed with it; "can-attempt": the observations of an attempt that did not complete
 * the run, no row), derived from the tables like canon_point_all. */
static int canon_can_run(struct mtb_records *r, const char *sid, int idx, const char *kind, struct can_rows k,
			 struct text *t)
{
	static const char *const Q[] = {
		"SELECT full_mg, empty_mg, level_div, water_c, air_c, p_hpa, rh_pct FROM can_runs"
		" WHERE session_id=?1 AND run_index=?2",
		"SELECT seq, t_mono_us, rc, mass_mg, stable FROM balance_readings"
		" WHERE session_id=?1 AND run_index=?2 AND seq >= ?3 AND seq < ?4 ORDER BY seq",
		"SELECT seq, t_mono_us, ok, level_div, confidence, reason, image_sha256 FROM meniscus_readings"
		" WHERE session_id=?1 AND run_index=?2 AND seq >= ?3 AND seq < ?4 ORDER BY seq",
		"SELECT seq, t_mono_us, kind, open_us, mass_mg, level_div, aim_div FROM can_fill_steps"
		" WHERE session_id=?1 AND run_index=?2 AND seq >= ?3 AND seq < ?4 ORDER BY seq",
	};
	bool attempt = strcmp(kind, "can-attempt") == 0;
	if (k.all)
		text_add(t, "%s %s %d\n", kind, sid, idx);
	else if (k.s1 > k.s0)
		text_add(t, "%s %s %d balance=%d-%d meniscus=%d-%d steps=%d-%d\n", kind, sid, idx, k.b0, k.b1, k.m0, k.m1,
			 k.s0, k.s1);
	else
		text_add(t, "%s %s %d balance=%d-%d meniscus=%d-%d\n", kind, sid, idx, k.b0, k.b1, k.m0, k.m1);
	for (int q = attempt ? 1 : 0; q < 4; q++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(r->db, Q[q], -1, &st, NULL) != SQLITE_OK)
			return MTB_ERR_IO;
		sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, idx);
		if (q > 0) {
			sqlite3_bind_int(st, 3, k.all ? INT32_MIN : q == 1 ? k.b0 : q == 2 ? k.m0 : k.s0);
			sqlite3_bind_int(st, 4, k.all ? INT32_MAX : q == 1 ? k.b1 : q == 2 ? k.m1 : k.s1);
		}
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (q == 0)
				text_add(t, "run full_mg=%lld empty_mg=%lld level_div=%.17g water_c=%.17g air_c=%.17g p_hpa=%.17g rh_pct=%.17g\n",
					 (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
					 sqlite3_column_double(st, 2), sqlite3_column_double(st, 3), sqlite3_column_double(st, 4),
					 sqlite3_column_double(st, 5), sqlite3_column_double(st, 6));
			else if (q == 1)
				text_add(t, "balance %d t=%lld rc=%d mg=%lld stable=%d\n", sqlite3_column_int(st, 0),
					 (long long)sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2),
					 (long long)sqlite3_column_int64(st, 3), sqlite3_column_int(st, 4));
			else if (q == 3) {
				/* the fill's steps (records from before they were kept have none: their text
				 * is unchanged) */
				text_add(t, "step %d t=%lld open_us=%lld mg=%lld\n", sqlite3_column_int(st, 0),
					 (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 3),
					 (long long)sqlite3_column_int64(st, 4));
				text_field(t, "kind", (const char *)sqlite3_column_text(st, 2));
				for (int c = 5; c <= 6; c++) {
					if (sqlite3_column_type(st, c) == SQLITE_NULL)
						text_add(t, "%s=null\n", c == 5 ? "level" : "aim");
					else
						text_add(t, "%s=%.17g\n", c == 5 ? "level" : "aim", sqlite3_column_double(st, c));
				}
			} else {
				text_add(t, "meniscus %d t=%lld ok=%d conf=%.17g\n", sqlite3_column_int(st, 0),
					 (long long)sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2), sqlite3_column_double(st, 4));
				if (sqlite3_column_type(st, 3) == SQLITE_NULL)
					text_add(t, "level=null\n");
				else
					text_add(t, "level=%.17g\n", sqlite3_column_double(st, 3));
				text_field(t, "reason", (const char *)sqlite3_column_text(st, 5));
				text_field(t, "image", (const char *)sqlite3_column_text(st, 6));
			}
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return MTB_ERR_IO;
	}
	return t->failed ? MTB_ERR_NOMEM : MTB_OK;
}

static int canon_can_result(struct mtb_records *r, const char *sid, struct text *t)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT vessel, n_runs, mean_v_ref_ul, s_error_ul, error_ul, u_exp_ul, mpe_ul,"
				      " verdict, budget_json FROM can_results WHERE session_id=?1", -1, &st, NULL) != SQLITE_OK)
		return MTB_ERR_IO;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return MTB_ERR_NOTFOUND;
	}
	text_add(t, "can-result %s\n", sid);
	text_field(t, "vessel", (const char *)sqlite3_column_text(st, 0));
	text_add(t, "n_runs=%d\nmean_v_ref_ul=%.17g\ns_error_ul=%.17g\nerror_ul=%lld\nu_exp_ul=%lld\nmpe_ul=%lld\n",
		 sqlite3_column_int(st, 1), sqlite3_column_double(st, 2), sqlite3_column_double(st, 3),
		 (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
		 (long long)sqlite3_column_int64(st, 6));
	text_field(t, "verdict", (const char *)sqlite3_column_text(st, 7));
	text_field(t, "budget", (const char *)sqlite3_column_text(st, 8));
	sqlite3_finalize(st);
	return t->failed ? MTB_ERR_NOMEM : MTB_OK;
}

static int canon_session(struct mtb_records *r, const char *sid, struct text *t)
{
	sqlite3_stmt *st;
	const char *q = "SELECT started_unix_s, plan_name, plan_text, bench_name, standard, mode, reading, operator,"
			" reference_name, reference_serial, cert_number, cert_valid_until, reference_yaml,"
			" rule_set, jurisdiction, customer, utility, case_number FROM sessions WHERE id=?1";
	if (sqlite3_prepare_v2(r->db, q, -1, &st, NULL) != SQLITE_OK)
		return MTB_ERR_IO;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return MTB_ERR_NOTFOUND;
	}
	static const char *const names[] = { NULL, "plan", "plan_text", "bench", "standard", "mode", "reading",
					     "operator", "reference", "reference_serial", "cert", "cert_valid_until",
					     "reference_yaml", "rule_set", "jurisdiction", "customer", "utility",
					     "case_number" };
	text_add(t, "session %s started=%lld\n", sid, (long long)sqlite3_column_int64(st, 0));
	for (int i = 1; i <= 17; i++)
		text_field(t, names[i], (const char *)sqlite3_column_text(st, i));
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(r->db, "SELECT position, serial, type FROM meters WHERE session_id=?1 ORDER BY position",
			       -1, &st, NULL) != SQLITE_OK)
		return MTB_ERR_IO;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		text_add(t, "meter %d\n", sqlite3_column_int(st, 0));
		text_field(t, "serial", (const char *)sqlite3_column_text(st, 1));
		text_field(t, "type", (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	return t->failed ? MTB_ERR_NOMEM : MTB_OK;
}

static int chain_hash(int64_t seq, const char *sid, const char *kind, const char *payload, const char *prev,
		      char hex[65])
{
	char head[160];
	int n = snprintf(head, sizeof head, "%lld|%s|%s|", (long long)seq, sid, kind);
	const void *parts[] = { prev, "|", head, payload };
	size_t lens[] = { strlen(prev), 1, (size_t)n, strlen(payload) };
	return mtb_sha256_hex_parts(parts, lens, 4, hex);
}

/* Appends one audit entry (inside the caller's transaction). */
static int audit_append(struct mtb_records *r, const char *sid, const char *kind, int point_index,
			const char *payload, struct mtb_errbuf *eb)
{
	sqlite3_stmt *st;
	char prev[65] = "";
	int64_t seq = 1;
	if (sqlite3_prepare_v2(r->db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "audit");
	if (sqlite3_step(st) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0) + 1;
		snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 1));
	} else {
		snprintf(prev, sizeof prev, "%s", GENESIS);
	}
	sqlite3_finalize(st);
	char hash[65];
	if (chain_hash(seq, sid, kind, payload, prev, hash) != MTB_OK)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "records: hashing failed");
	if (sqlite3_prepare_v2(r->db, "INSERT INTO audit (seq, session_id, t_unix_s, kind, point_index, payload,"
				      " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "audit");
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, sid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
	if (point_index >= 0)
		sqlite3_bind_int(st, 5, point_index);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_text(st, 6, payload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? MTB_OK : db_err(r, eb, "audit");
	sqlite3_finalize(st);
	return rc;
}

static int begin(struct mtb_records *r, struct mtb_errbuf *eb)
{
	return sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? MTB_OK : db_err(r, eb, "begin");
}

static int finish_tx(struct mtb_records *r, int rc, struct mtb_errbuf *eb)
{
	if (rc == MTB_OK) {
		if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
			return MTB_OK;
		rc = db_err(r, eb, "commit");
	}
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Runs one prepared INSERT with its parameters bound by the caller's callback. */
#define STEP_OR_FAIL(st, what) \
	do { \
		int s_ = sqlite3_step(st); \
		sqlite3_finalize(st); \
		if (s_ != SQLITE_DONE) \
			return db_err(r, eb, what); \
	} while (0)

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static int insert_session(struct mtb_records *r, const char *sid, const struct mtb_session_info *in,
			  const struct mtb_meter_record *meters, int n_meters, struct mtb_errbuf *eb)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "INSERT INTO sessions (id, started_unix_s, plan_name, plan_text, bench_name,"
				      " standard, mode, reading, operator, reference_name, reference_serial, cert_number,"
				      " cert_valid_until, reference_yaml, rule_set, jurisdiction, customer, utility, case_number)"
				      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "session");
	bind_text(st, 1, sid);
	sqlite3_bind_int64(st, 2, in->started_unix_s);
	bind_text(st, 3, in->plan_name ? in->plan_name : "");
	bind_text(st, 4, in->plan_text ? in->plan_text : "");
	bind_text(st, 5, in->bench_name);
	bind_text(st, 6, in->standard ? in->standard : "");
	bind_text(st, 7, in->mode ? in->mode : "");
	bind_text(st, 8, in->reading ? in->reading : "");
	bind_text(st, 9, in->operator_name);
	bind_text(st, 10, in->reference_name);
	bind_text(st, 11, in->reference_serial);
	bind_text(st, 12, in->cert_number);
	bind_text(st, 13, in->cert_valid_until);
	bind_text(st, 14, in->reference_yaml);
	bind_text(st, 15, in->rule_set);
	bind_text(st, 16, in->jurisdiction);
	bind_text(st, 17, in->customer);
	bind_text(st, 18, in->utility);
	bind_text(st, 19, in->case_number);
	STEP_OR_FAIL(st, "session");
	for (int i = 0; i < n_meters; i++) {
		if (sqlite3_prepare_v2(r->db, "INSERT INTO meters (session_id, position, serial, type) VALUES (?1,?2,?3,?4)",
				       -1, &st, NULL) != SQLITE_OK)
			return db_err(r, eb, "meter");
		bind_text(st, 1, sid);
		sqlite3_bind_int(st, 2, meters[i].position);
		bind_text(st, 3, meters[i].serial ? meters[i].serial : "");
		bind_text(st, 4, meters[i].type_name ? meters[i].type_name : "");
		STEP_OR_FAIL(st, "meter");
	}
	return MTB_OK;
}

int mtb_records_session_begin(struct mtb_records *r, const struct mtb_session_info *info,
			      const struct mtb_meter_record *meters, int n_meters,
			      char id[MTB_SESSION_ID_LEN + 1], struct mtb_errbuf *eb)
{
	unsigned char rnd[4] = { 0 };
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return mtb_errbuf_set(eb, MTB_ERR_IO, "records: no randomness for a session id");
	time_t now = (time_t)info->started_unix_s;
	struct tm tm;
	gmtime_r(&now, &tm);
	snprintf(id, MTB_SESSION_ID_LEN + 1, "%04d%02d%02dT%02d%02d%02dZ-%02x%02x%02x%02x", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rnd[0], rnd[1], rnd[2], rnd[3]);
	int rc = begin(r, eb);
	if (rc != MTB_OK)
		return rc;
	rc = insert_session(r, id, info, meters, n_meters, eb);
	if (rc == MTB_OK) {
		struct text t = { 0 };
		rc = canon_session(r, id, &t);
		if (rc == MTB_OK)
			rc = audit_append(r, id, "session-begin", -1, t.s, eb);
		else
			mtb_errbuf_set(eb, rc, "records: cannot read back the session");
		free(t.s);
	}
	return finish_tx(r, rc, eb);
}

/* In whatever transaction is open (none: its own). */
int mtb_records_evidence_put(struct mtb_records *r, const void *data, size_t len, const char *mime,
			     char sha256_hex[65], struct mtb_errbuf *eb)
{
	if (mtb_sha256_hex(data, len, sha256_hex) != MTB_OK)
		return mtb_errbuf_set(eb, MTB_ERR_NOMEM, "records: hashing failed");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "INSERT OR IGNORE INTO evidence (sha256, mime, bytes) VALUES (?1, ?2, ?3)", -1,
			       &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "evidence");
	sqlite3_bind_text(st, 1, sha256_hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, mime ? mime : "application/octet-stream", -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob64(st, 3, data, len, SQLITE_STATIC);
	STEP_OR_FAIL(st, "evidence");
	return MTB_OK;
}

static int session_status(struct mtb_records *r, const char *sid, char *status, size_t n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT status FROM sessions WHERE id=?1", -1, &st, NULL) != SQLITE_OK)
		return MTB_ERR_IO;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	int rc = MTB_ERR_NOTFOUND;
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(status, n, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = MTB_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int insert_point_rows(struct mtb_records *r, const char *sid, int idx, const struct mtb_point_record *res,
			     int n_res, const struct mtb_sample_record *sam, int n_sam,
			     const struct mtb_reading_record *rd, int n_rd, struct mtb_errbuf *eb)
{
	sqlite3_stmt *st;
	for (int i = 0; i < n_res; i++) {
		const struct mtb_point_record *p = &res[i];
		if (sqlite3_prepare_v2(r->db, "INSERT INTO points (session_id, point_index, position, name, flow_lph,"
					      " actual_ul, indicated_ul, error_ppm, mpe_ppm, u_exp_ppm, zone, verdict,"
					      " start_method, budget_json, corrections_json)"
					      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)", -1, &st, NULL) != SQLITE_OK)
			return db_err(r, eb, "point");
		bind_text(st, 1, sid);
		sqlite3_bind_int(st, 2, idx);
		sqlite3_bind_int(st, 3, p->position);
		bind_text(st, 4, p->point_name ? p->point_name : "");
		sqlite3_bind_double(st, 5, p->flow_lph);
		sqlite3_bind_int64(st, 6, p->actual_ul);
		sqlite3_bind_int64(st, 7, p->indicated_ul);
		sqlite3_bind_int64(st, 8, p->error_ppm);
		sqlite3_bind_int(st, 9, p->mpe_ppm);
		sqlite3_bind_int(st, 10, p->u_exp_ppm);
		bind_text(st, 11, p->zone ? p->zone : "");
		bind_text(st, 12, p->verdict ? p->verdict : "");
		bind_text(st, 13, p->start_method ? p->start_method : "");
		bind_text(st, 14, p->budget_json);
		bind_text(st, 15, p->corrections_json);
		STEP_OR_FAIL(st, "point");
	}
	for (int i = 0; i < n_sam; i++) {
		if (sqlite3_prepare_v2(r->db, "INSERT INTO samples (session_id, point_index, seq, t_mono_us, totaliser_ul,"
					      " flow_lph, temp_mdegc, pressure_pa) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)", -1, &st,
				       NULL) != SQLITE_OK)
			return db_err(r, eb, "sample");
		bind_text(st, 1, sid);
		sqlite3_bind_int(st, 2, idx);
		sqlite3_bind_int(st, 3, i);
		sqlite3_bind_int64(st, 4, sam[i].t_mono_us);
		sqlite3_bind_int64(st, 5, sam[i].totaliser_ul);
		sqlite3_bind_double(st, 6, sam[i].flow_lph);
		sqlite3_bind_int(st, 7, sam[i].temp_mdegc);
		sqlite3_bind_int(st, 8, sam[i].pressure_pa);
		STEP_OR_FAIL(st, "sample");
	}
	for (int i = 0; i < n_rd; i++) {
		/* The image first, in this transaction: a reading never names an image that is not
		 * stored, and a point lost to a crash leaves no image behind either. */
		char sha[65];
		const char *image_sha256 = rd[i].image_sha256;
		if (!image_sha256 && rd[i].image && rd[i].image_len) {
			int rc = mtb_records_evidence_put(r, rd[i].image, rd[i].image_len, rd[i].image_mime, sha, eb);
			if (rc != MTB_OK)
				return rc;
			image_sha256 = sha;
		}
		if (sqlite3_prepare_v2(r->db, "INSERT INTO readings (session_id, point_index, seq, position, phase, t_mono_us,"
					      " volume_ul, confidence, image_sha256) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)", -1,
				       &st, NULL) != SQLITE_OK)
			return db_err(r, eb, "reading");
		bind_text(st, 1, sid);
		sqlite3_bind_int(st, 2, idx);
		sqlite3_bind_int(st, 3, i);
		sqlite3_bind_int(st, 4, rd[i].position);
		bind_text(st, 5, rd[i].phase ? rd[i].phase : "");
		sqlite3_bind_int64(st, 6, rd[i].t_mono_us);
		sqlite3_bind_int64(st, 7, rd[i].volume_ul);
		sqlite3_bind_double(st, 8, rd[i].confidence);
		bind_text(st, 9, image_sha256);
		STEP_OR_FAIL(st, "reading");
	}
	return MTB_OK;
}

int mtb_records_point_commit(struct mtb_records *r, const char *sid, int point_index,
			     const struct mtb_point_record *results, int n_results,
			     const struct mtb_sample_record *samples, int n_samples,
			     const struct mtb_reading_record *readings, int n_readings, struct mtb_errbuf *eb)
{
	int rc = begin(r, eb);
	if (rc != MTB_OK)
		return rc;
	char status[32];
	rc = session_status(r, sid, status, sizeof status);
	if (rc == MTB_ERR_NOTFOUND)
		rc = mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "records: no session %s", sid);
	else if (rc == MTB_OK && strcmp(status, "running") != 0)
		rc = mtb_errbuf_set(eb, MTB_ERR_STATE, "records: session %s is %s", sid, status);
	else if (rc == MTB_OK) {
		int done = mtb_records_points_done(r, sid, eb);
		if (done < 0)
			rc = done;
		else if (point_index != done)
			rc = mtb_errbuf_set(eb, MTB_ERR_STATE, "records: session %s has %d points, cannot record point %d",
					    sid, done, point_index);
	}
	if (rc == MTB_OK)
		rc = insert_point_rows(r, sid, point_index, results, n_results, samples, n_samples, readings, n_readings, eb);
	if (rc == MTB_OK) {
		struct text t = { 0 };
		rc = canon_point_all(r, sid, point_index, &t);
		if (rc == MTB_OK)
			rc = audit_append(r, sid, "point", point_index, t.s ? t.s : "", eb);
		else
			mtb_errbuf_set(eb, rc, "records: cannot read back point %d", point_index);
		free(t.s);
	}
	return finish_tx(r, rc, eb);
}

/* The session must be running (inside the caller's transaction). */
static int running(struct mtb_records *r, const char *sid, struct mtb_errbuf *eb)
{
	char status[32];
	int rc = session_status(r, sid, status, sizeof status);
	if (rc == MTB_ERR_NOTFOUND)
		return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "records: no session %s", sid);
	if (rc != MTB_OK)
		return db_err(r, eb, "session");
	if (strcmp(status, "running") != 0)
		return mtb_errbuf_set(eb, MTB_ERR_STATE, "records: session %s is %s", sid, status);
	return MTB_OK;
}

static int count_where(struct mtb_records *r, const char *sql, const char *sid, int idx, int *n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return MTB_ERR_IO;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, idx);
	int rc = sqlite3_step(st) == SQLITE_ROW ? MTB_OK : MTB_ERR_IO;
	*n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

static int insert_can_rows(struct mtb_records *r, const char *sid, int idx, const struct mtb_can_run_record *run,
			   const struct mtb_can_balance_record *b, int nb, const struct mtb_can_meniscus_record *m, int nm,
			   int b0, int m0, struct mtb_errbuf *eb)
{
	sqlite3_stmt *st;
	if (run) {
		if (sqlite3_prepare_v2(r->db, "INSERT INTO can_runs (session_id, run_index, full_mg, empty_mg, level_div,"
					      " water_c, air_c, p_hpa, rh_pct) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
				       -1, &st, NULL) != SQLITE_OK)
			return db_err(r, eb, "can run");
		bind_text(st, 1, sid);
		sqlite3_bind_int(st, 2, idx);
		sqlite3_bind_int64(st, 3, run->full_mg);
		sqlite3_bind_int64(st, 4, run->empty_mg);
		sqlite3_bind_double(st, 5, run->level_div);
		sqlite3_bind_double(st, 6, run->water_temp_c);
		sqlite3_bind_double(st, 7, run->air_temp_c);
		sqlite3_bind_double(st, 8, run->p_hpa);
		sqlite3_bind_double(st, 9, run->rh_pct);
		STEP_OR_FAIL(st, "can run");
	}
	if (sqlite3_prepare_v2(r->db, "INSERT INTO balance_readings (session_id, run_index, seq, t_mono_us, rc, mass_mg,"
				      " stable) VALUES (?1,?2,?3,?4,?5,?6,?7)", -1, &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "balance reading");
	for (int i = 0; i < nb; i++) {
		sqlite3_reset(st);
		bind_text(st, 1, sid);
		sqlite3_bind_int(st, 2, idx);
		sqlite3_bind_int(st, 3, b0 + i);
		sqlite3_bind_int64(st, 4, b[i].t_mono_us);
		sqlite3_bind_int(st, 5, b[i].rc);
		sqlite3_bind_int64(st, 6, b[i].mass_mg);
		sqlite3_bind_int(st, 7, b[i].stable ? 1 : 0);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return db_err(r, eb, "balance reading");
		}
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(r->db, "INSERT INTO meniscus_readings (session_id, run_index, seq, t_mono_us, ok, level_div,"
				      " confidence, reason, image_sha256) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)", -1, &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "meniscus reading");
	for (int i = 0; i < nm; i++) {
		sqlite3_reset(st);
		bind_text(st, 1, sid);
		sqlite3_bind_int(st, 2, idx);
		sqlite3_bind_int(st, 3, m0 + i);
		sqlite3_bind_int64(st, 4, m[i].t_mono_us);
		sqlite3_bind_int(st, 5, m[i].ok ? 1 : 0);
		if (m[i].ok)
			sqlite3_bind_double(st, 6, m[i].level_div);
		else
			sqlite3_bind_null(st, 6);
		sqlite3_bind_double(st, 7, m[i].confidence);
		bind_text(st, 8, m[i].reason);
		bind_text(st, 9, m[i].image_sha256 && m[i].image_sha256[0] ? m[i].image_sha256 : NULL);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return db_err(r, eb, "meniscus reading");
		}
	}
	sqlite3_finalize(st);
	return MTB_OK;
}

static void bind_real_or_null(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static int insert_can_steps(struct mtb_records *r, const char *sid, int idx, const struct mtb_can_step_record *s,
			    int ns, int seq0, struct mtb_errbuf *eb)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "INSERT INTO can_fill_steps (session_id, run_index, seq, t_mono_us, kind, open_us,"
				      " mass_mg, level_div, aim_div) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)", -1, &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "fill step");
	for (int i = 0; i < ns; i++) {
		sqlite3_reset(st);
		bind_text(st, 1, sid);
		sqlite3_bind_int(st, 2, idx);
		sqlite3_bind_int(st, 3, seq0 + i);
		sqlite3_bind_int64(st, 4, s[i].t_mono_us);
		bind_text(st, 5, s[i].kind ? s[i].kind : "");
		sqlite3_bind_int64(st, 6, s[i].open_us);
		sqlite3_bind_int64(st, 7, s[i].mass_mg);
		bind_real_or_null(st, 8, s[i].level_div);
		bind_real_or_null(st, 9, s[i].aim_div);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return db_err(r, eb, "fill step");
		}
	}
	sqlite3_finalize(st);
	return MTB_OK;
}

int mtb_records_can_run_commit(struct mtb_records *r, const char *sid, int run_index,
			       const struct mtb_can_run_record *run, const struct mtb_can_balance_record *balance,
			       int n_balance, const struct mtb_can_meniscus_record *meniscus, int n_meniscus,
			       struct mtb_errbuf *eb)
{
	return mtb_records_can_run_commit_steps(r, sid, run_index, run, balance, n_balance, meniscus, n_meniscus, NULL, 0, eb);
}

int mtb_records_can_run_commit_steps(struct mtb_records *r, const char *sid, int run_index,
				     const struct mtb_can_run_record *run, const struct mtb_can_balance_record *balance,
				     int n_balance, const struct mtb_can_meniscus_record *meniscus, int n_meniscus,
				     const struct mtb_can_step_record *steps, int n_steps, struct mtb_errbuf *eb)
{
	if (run_index < 0 || n_balance < 0 || n_meniscus < 0 || n_steps < 0)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "records: bad can run %d", run_index);
	int rc = begin(r, eb);
	if (rc != MTB_OK)
		return rc;
	rc = running(r, sid, eb);
	int n = 0;
	if (rc == MTB_OK) {
		if (count_where(r, "SELECT COUNT(*) FROM audit WHERE session_id=?1 AND kind='can-run' AND point_index=?2", sid,
				run_index, &n) != MTB_OK)
			rc = db_err(r, eb, "can run");
		else if (n)
			rc = mtb_errbuf_set(eb, MTB_ERR_STATE, "records: session %s already has run %d", sid, run_index);
	}
	/* the rows continue after those of earlier attempts at the same run */
	struct can_rows k = { 0 };
	if (rc == MTB_OK &&
	    (count_where(r, "SELECT COALESCE(MAX(seq) + 1, 0) FROM balance_readings WHERE session_id=?1 AND run_index=?2",
			 sid, run_index, &k.b0) != MTB_OK ||
	     count_where(r, "SELECT COALESCE(MAX(seq) + 1, 0) FROM meniscus_readings WHERE session_id=?1 AND run_index=?2",
			 sid, run_index, &k.m0) != MTB_OK))
		rc = db_err(r, eb, "can run");
	if (rc == MTB_OK &&
	    count_where(r, "SELECT COALESCE(MAX(seq) + 1, 0) FROM can_fill_steps WHERE session_id=?1 AND run_index=?2", sid,
			run_index, &k.s0) != MTB_OK)
		rc = db_err(r, eb, "can run");
	k.b1 = k.b0 + n_balance;
	k.m1 = k.m0 + n_meniscus;
	k.s1 = k.s0 + n_steps;
	if (rc == MTB_OK)
		rc = insert_can_rows(r, sid, run_index, run, balance, n_balance, meniscus, n_meniscus, k.b0, k.m0, eb);
	if (rc == MTB_OK && n_steps > 0)
		rc = insert_can_steps(r, sid, run_index, steps, n_steps, k.s0, eb);
	if (rc == MTB_OK) {
		const char *kind = run ? "can-run" : "can-attempt";
		struct text t = { 0 };
		rc = canon_can_run(r, sid, run_index, kind, k, &t);
		if (rc == MTB_OK)
			rc = audit_append(r, sid, kind, run_index, t.s ? t.s : "", eb);
		else
			mtb_errbuf_set(eb, rc, "records: cannot read back can run %d", run_index);
		free(t.s);
	}
	return finish_tx(r, rc, eb);
}

int mtb_records_can_result_commit(struct mtb_records *r, const char *sid, const struct mtb_can_result_record *res,
				  struct mtb_errbuf *eb)
{
	int rc = begin(r, eb);
	if (rc != MTB_OK)
		return rc;
	rc = running(r, sid, eb);
	sqlite3_stmt *st;
	if (rc == MTB_OK &&
	    sqlite3_prepare_v2(r->db, "INSERT INTO can_results (session_id, vessel, n_runs, mean_v_ref_ul, s_error_ul,"
				      " error_ul, u_exp_ul, mpe_ul, verdict, budget_json) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
			       -1, &st, NULL) != SQLITE_OK)
		rc = db_err(r, eb, "can result");
	if (rc == MTB_OK) {
		bind_text(st, 1, sid);
		bind_text(st, 2, res->vessel ? res->vessel : "");
		sqlite3_bind_int(st, 3, res->n_runs);
		sqlite3_bind_double(st, 4, res->mean_v_ref_ul);
		sqlite3_bind_double(st, 5, res->s_error_ul);
		sqlite3_bind_int64(st, 6, res->error_ul);
		sqlite3_bind_int64(st, 7, res->u_exp_ul);
		sqlite3_bind_int64(st, 8, res->mpe_ul);
		bind_text(st, 9, res->verdict ? res->verdict : "");
		bind_text(st, 10, res->budget_json);
		int s_ = sqlite3_step(st);
		sqlite3_finalize(st);
		if (s_ != SQLITE_DONE)
			rc = db_err(r, eb, "can result");
	}
	if (rc == MTB_OK) {
		struct text t = { 0 };
		rc = canon_can_result(r, sid, &t);
		if (rc == MTB_OK)
			rc = audit_append(r, sid, "can-result", -1, t.s ? t.s : "", eb);
		else
			mtb_errbuf_set(eb, rc, "records: cannot read back the can result");
		free(t.s);
	}
	return finish_tx(r, rc, eb);
}

int mtb_records_can_tare(struct mtb_records *r, const char *sid, int64_t dry_mg, struct mtb_errbuf *eb)
{
	int rc = begin(r, eb);
	if (rc != MTB_OK)
		return rc;
	rc = running(r, sid, eb);
	if (rc == MTB_OK) {
		char payload[64];
		snprintf(payload, sizeof payload, "dry_mg=%lld\n", (long long)dry_mg);
		rc = audit_append(r, sid, "can-tare", -1, payload, eb);
	}
	return finish_tx(r, rc, eb);
}

int mtb_records_can_counts(struct mtb_records *r, const char *sid, int *runs, int *balance, int *meniscus,
			   struct mtb_errbuf *eb)
{
	if (count_where(r, "SELECT COUNT(*) FROM can_runs WHERE session_id=?1 AND ?2=?2", sid, 0, runs) != MTB_OK ||
	    count_where(r, "SELECT COUNT(*) FROM balance_readings WHERE session_id=?1 AND ?2=?2", sid, 0, balance) != MTB_OK ||
	    count_where(r, "SELECT COUNT(*) FROM meniscus_readings WHERE session_id=?1 AND ?2=?2", sid, 0, meniscus) != MTB_OK)
		return db_err(r, eb, "can counts");
	return MTB_OK;
}

int mtb_records_points_done(struct mtb_records *r, const char *sid, struct mtb_errbuf *eb)
{
	char status[32];
	int rc = session_status(r, sid, status, sizeof status);
	if (rc == MTB_ERR_NOTFOUND)
		return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "records: no session %s", sid);
	if (rc != MTB_OK)
		return db_err(r, eb, "session");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT COUNT(*) FROM audit WHERE session_id=?1 AND kind='point'", -1, &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "points");
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return n >= 0 ? n : db_err(r, eb, "points");
}

int mtb_records_session_finish(struct mtb_records *r, const char *sid, const char *status, double bench_time_s,
			       struct mtb_errbuf *eb)
{
	if (strcmp(status, "complete") != 0 && strcmp(status, "aborted") != 0)
		return mtb_errbuf_set(eb, MTB_ERR_ARG, "records: status must be complete or aborted, got '%s'", status);
	int rc = begin(r, eb);
	if (rc != MTB_OK)
		return rc;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "UPDATE sessions SET status=?2, finished_unix_s=?3,"
				      " bench_time_s=COALESCE(bench_time_s, 0) + ?4 WHERE id=?1 AND status='running'", -1, &st,
			       NULL) != SQLITE_OK)
		return finish_tx(r, db_err(r, eb, "finish"), eb);
	bind_text(st, 1, sid);
	bind_text(st, 2, status);
	sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
	sqlite3_bind_double(st, 4, bench_time_s);
	rc = sqlite3_step(st) == SQLITE_DONE ? MTB_OK : db_err(r, eb, "finish");
	sqlite3_finalize(st);
	if (rc == MTB_OK && sqlite3_changes(r->db) != 1)
		rc = mtb_errbuf_set(eb, MTB_ERR_STATE, "records: session %s is not running", sid);
	if (rc == MTB_OK) {
		char payload[128];
		snprintf(payload, sizeof payload, "status=%s\nbench_time_s=%.17g\n", status, bench_time_s);
		rc = audit_append(r, sid, "session-end", -1, payload, eb);
	}
	return finish_tx(r, rc, eb);
}

int mtb_records_session_resume(struct mtb_records *r, const char *sid, struct mtb_errbuf *eb)
{
	int rc = begin(r, eb);
	if (rc != MTB_OK)
		return rc;
	char status[32];
	rc = session_status(r, sid, status, sizeof status);
	if (rc == MTB_ERR_NOTFOUND)
		rc = mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "records: no session %s", sid);
	else if (rc != MTB_OK)
		rc = db_err(r, eb, "session");
	else if (strcmp(status, "complete") == 0)
		rc = mtb_errbuf_set(eb, MTB_ERR_STATE, "records: session %s is complete", sid);
	if (rc == MTB_OK && strcmp(status, "running") != 0) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(r->db, "UPDATE sessions SET status='running' WHERE id=?1", -1, &st, NULL) != SQLITE_OK)
			rc = db_err(r, eb, "resume");
		else {
			bind_text(st, 1, sid);
			rc = sqlite3_step(st) == SQLITE_DONE ? MTB_OK : db_err(r, eb, "resume");
			sqlite3_finalize(st);
		}
	}
	int done = 0;
	if (rc == MTB_OK) {
		done = mtb_records_points_done(r, sid, eb);
		rc = done < 0 ? done : MTB_OK;
	}
	int can_runs = 0;
	if (rc == MTB_OK && count_where(r, "SELECT COUNT(*) FROM can_runs WHERE session_id=?1 AND ?2=?2", sid, 0, &can_runs) != MTB_OK)
		rc = db_err(r, eb, "resume");
	if (rc == MTB_OK) {
		char payload[96];
		int n = snprintf(payload, sizeof payload, "from_status=%s\npoints_done=%d\n", status, done);
		if (can_runs > 0)   /* a can session: the runs it carries on after */
			snprintf(payload + n, sizeof payload - (size_t)n, "can_runs_done=%d\n", can_runs);
		rc = audit_append(r, sid, "session-resume", -1, payload, eb);
	}
	rc = finish_tx(r, rc, eb);
	return rc == MTB_OK ? done : rc;
}

static int verify_fail(struct mtb_audit_report *rep, struct mtb_errbuf *eb, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int verify_fail(struct mtb_audit_report *rep, struct mtb_errbuf *eb, int64_t seq, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->problem, sizeof rep->problem, fmt, ap);
	va_end(ap);
	rep->first_bad_seq = seq;
	return mtb_errbuf_set(eb, MTB_ERR_PROTO, "audit entry %lld: %s", (long long)seq, rep->problem);
}

int mtb_records_audit_verify(struct mtb_records *r, struct mtb_audit_report *rep, struct mtb_errbuf *eb)
{
	memset(rep, 0, sizeof *rep);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT seq, session_id, kind, point_index, payload, prev_hash, hash FROM audit"
				      " ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "audit");
	char prev[65];
	snprintf(prev, sizeof prev, "%s", GENESIS);
	int64_t expect_seq = 1;
	int64_t sealed_obs = 0;   /* can observations (balance replies, neck frames, fill steps) the entries seal */
	int rc = MTB_OK;
	while (rc == MTB_OK && sqlite3_step(st) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const char *sid = (const char *)sqlite3_column_text(st, 1);
		const char *kind = (const char *)sqlite3_column_text(st, 2);
		const char *payload = (const char *)sqlite3_column_text(st, 4);
		const char *prev_hash = (const char *)sqlite3_column_text(st, 5);
		const char *hash = (const char *)sqlite3_column_text(st, 6);
		char h[65];
		rep->entries++;
		if (seq != expect_seq) {
			rc = verify_fail(rep, eb, seq, "sequence gap: expected %lld (an entry was removed)", (long long)expect_seq);
			break;
		}
		if (!prev_hash || strcmp(prev_hash, prev) != 0) {
			rc = verify_fail(rep, eb, seq, "does not chain to the entry before it");
			break;
		}
		if (chain_hash(seq, sid ? sid : "", kind ? kind : "", payload ? payload : "", prev, h) != MTB_OK ||
		    !hash || strcmp(h, hash) != 0) {
			rc = verify_fail(rep, eb, seq, "its hash does not match its content (the entry was altered)");
			break;
		}
		/* The tables must still say what the entry sealed. */
		struct text t = { 0 };
		int crc = MTB_OK;
		if (kind && strcmp(kind, "point") == 0) {
			crc = canon_point_all(r, sid, sqlite3_column_int(st, 3), &t);
			rep->points++;
		} else if (kind && (strcmp(kind, "can-run") == 0 || strcmp(kind, "can-attempt") == 0)) {
			struct can_rows k = can_rows_of(payload);
			crc = canon_can_run(r, sid, sqlite3_column_int(st, 3), kind, k, &t);
			rep->can_records++;
			if (k.all) {   /* an entry from before ranges: every row of its run */
				int nb = 0, nm = 0;
				count_where(r, "SELECT COUNT(*) FROM balance_readings WHERE session_id=?1 AND run_index=?2", sid,
					    sqlite3_column_int(st, 3), &nb);
				count_where(r, "SELECT COUNT(*) FROM meniscus_readings WHERE session_id=?1 AND run_index=?2", sid,
					    sqlite3_column_int(st, 3), &nm);
				sealed_obs += nb + nm;
			} else {
				sealed_obs += (k.b1 - k.b0) + (k.m1 - k.m0) + (k.s1 - k.s0);
			}
		} else if (kind && strcmp(kind, "can-result") == 0) {
			crc = canon_can_result(r, sid, &t);
			rep->can_records++;
		} else if (kind && strcmp(kind, "session-begin") == 0) {
			crc = canon_session(r, sid, &t);
		}
		if (crc != MTB_OK)
			rc = verify_fail(rep, eb, seq, "the recorded %s cannot be read back", kind);
		else if (t.s && strcmp(t.s, payload ? payload : "") != 0)
			rc = verify_fail(rep, eb, seq, "the recorded %s of session %s differs from what was sealed", kind, sid);
		free(t.s);
		snprintf(prev, sizeof prev, "%s", hash);
		expect_seq++;
	}
	sqlite3_finalize(st);
	if (rc != MTB_OK)
		return rc;
	/* Every can observation (balance reply, neck frame, fill step) is sealed by one entry: a
	 * row added outside every sealed range (which no entry re-derives) is found by counting. */
	int n_obs = 0;
	if (count_where(r, "SELECT (SELECT COUNT(*) FROM balance_readings) + (SELECT COUNT(*) FROM meniscus_readings)"
			   " + (SELECT COUNT(*) FROM can_fill_steps) WHERE ?1 = ?1 AND ?2 = ?2", "", 0, &n_obs) != MTB_OK)
		return db_err(r, eb, "can observations");
	if (n_obs != sealed_obs) {
		snprintf(rep->problem, sizeof rep->problem, "%lld can observations (balance replies, neck frames, fill steps) are sealed by no audit entry",
			 (long long)(n_obs - sealed_obs));
		rep->first_bad_seq = -1;
		return mtb_errbuf_set(eb, MTB_ERR_PROTO, "%s", rep->problem);
	}
	/* Evidence is stored by content: re-hash every blob. */
	if (sqlite3_prepare_v2(r->db, "SELECT sha256, bytes FROM evidence", -1, &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "evidence");
	while (rc == MTB_OK && sqlite3_step(st) == SQLITE_ROW) {
		char h[65];
		const char *sha = (const char *)sqlite3_column_text(st, 0);
		const void *b = sqlite3_column_blob(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		rep->evidence++;
		if (mtb_sha256_hex(b ? b : "", n, h) != MTB_OK || !sha || strcmp(h, sha) != 0) {
			snprintf(rep->problem, sizeof rep->problem, "evidence %s: content does not match its hash", sha ? sha : "?");
			rep->first_bad_seq = -1;
			rc = mtb_errbuf_set(eb, MTB_ERR_PROTO, "%s", rep->problem);
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static void col_copy(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	snprintf(dst, n, "%s", v ? (const char *)v : "");
}

int mtb_records_session_load(struct mtb_records *r, const char *sid, struct mtb_session_view **out,
			     struct mtb_errbuf *eb)
{
	*out = NULL;
	struct mtb_session_view *v = calloc(1, sizeof *v);
	if (!v)
		return MTB_ERR_NOMEM;
	sqlite3_stmt *st;
	const char *q = "SELECT id, plan_name, bench_name, standard, rule_set, mode, reading, operator, jurisdiction,"
			" reference_name, reference_serial, cert_number, cert_valid_until, customer, utility,"
			" case_number, status, started_unix_s, bench_time_s FROM sessions WHERE id=?1";
	if (sqlite3_prepare_v2(r->db, q, -1, &st, NULL) != SQLITE_OK) {
		free(v);
		return db_err(r, eb, "session");
	}
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		free(v);
		return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "records: no session %s", sid);
	}
	col_copy(v->id, sizeof v->id, st, 0);
	col_copy(v->plan_name, sizeof v->plan_name, st, 1);
	col_copy(v->bench_name, sizeof v->bench_name, st, 2);
	col_copy(v->standard, sizeof v->standard, st, 3);
	col_copy(v->rule_set, sizeof v->rule_set, st, 4);
	col_copy(v->mode, sizeof v->mode, st, 5);
	col_copy(v->reading, sizeof v->reading, st, 6);
	col_copy(v->operator_name, sizeof v->operator_name, st, 7);
	col_copy(v->jurisdiction, sizeof v->jurisdiction, st, 8);
	col_copy(v->reference_name, sizeof v->reference_name, st, 9);
	col_copy(v->reference_serial, sizeof v->reference_serial, st, 10);
	col_copy(v->cert_number, sizeof v->cert_number, st, 11);
	col_copy(v->cert_valid_until, sizeof v->cert_valid_until, st, 12);
	col_copy(v->customer, sizeof v->customer, st, 13);
	col_copy(v->utility, sizeof v->utility, st, 14);
	col_copy(v->case_number, sizeof v->case_number, st, 15);
	col_copy(v->status, sizeof v->status, st, 16);
	v->started_unix_s = sqlite3_column_int64(st, 17);
	v->bench_time_s = sqlite3_column_type(st, 18) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 18);
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(r->db, "SELECT position, serial, type FROM meters WHERE session_id=?1 ORDER BY position",
			       -1, &st, NULL) != SQLITE_OK) {
		free(v);
		return db_err(r, eb, "meters");
	}
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && v->n_meters < MTB_VIEW_MAX_METERS) {
		struct mtb_meter_view *m = &v->meters[v->n_meters++];
		m->position = sqlite3_column_int(st, 0);
		col_copy(m->serial, sizeof m->serial, st, 1);
		col_copy(m->type_name, sizeof m->type_name, st, 2);
	}
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(r->db, "SELECT position, point_index, name, flow_lph, actual_ul, indicated_ul, error_ppm,"
				      " mpe_ppm, u_exp_ppm, zone, verdict, start_method FROM points WHERE session_id=?1"
				      " ORDER BY point_index, position", -1, &st, NULL) != SQLITE_OK) {
		free(v);
		return db_err(r, eb, "points");
	}
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int pos = sqlite3_column_int(st, 0);
		for (int i = 0; i < v->n_meters; i++) {
			struct mtb_meter_view *m = &v->meters[i];
			if (m->position != pos || m->n_points >= MTB_VIEW_MAX_POINTS)
				continue;
			struct mtb_point_view *p = &m->points[m->n_points++];
			p->point_index = sqlite3_column_int(st, 1);
			col_copy(p->name, sizeof p->name, st, 2);
			p->flow_lph = sqlite3_column_double(st, 3);
			p->actual_ul = sqlite3_column_int64(st, 4);
			p->indicated_ul = sqlite3_column_int64(st, 5);
			p->error_ppm = sqlite3_column_int64(st, 6);
			p->mpe_ppm = sqlite3_column_int(st, 7);
			p->u_exp_ppm = sqlite3_column_int(st, 8);
			col_copy(p->zone, sizeof p->zone, st, 9);
			col_copy(p->verdict, sizeof p->verdict, st, 10);
			col_copy(p->start_method, sizeof p->start_method, st, 11);
		}
	}
	sqlite3_finalize(st);
	*out = v;
	return MTB_OK;
}

int mtb_records_last_session(struct mtb_records *r, char id[MTB_SESSION_ID_LEN + 1], struct mtb_errbuf *eb)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT id FROM sessions ORDER BY started_unix_s DESC, rowid DESC LIMIT 1", -1,
			       &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "sessions");
	int rc = mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "records: no session recorded");
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(id, MTB_SESSION_ID_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = MTB_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The rows of a session's point (all points when point_index < 0) that sql selects, one
 * elem_size element each, filled by fill; into an allocated array (NULL when none). */
static int list_rows(struct mtb_records *r, const char *sql, const char *what, const char *sid, int point_index,
		     size_t elem_size, void (*fill)(sqlite3_stmt *st, void *elem), void **out, int *n,
		     struct mtb_errbuf *eb)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(r, eb, what);
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, point_index);
	unsigned char *v = NULL;
	int cap = 0, rc = MTB_OK, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			int ncap = cap ? cap * 2 : 64;
			unsigned char *nv = realloc(v, elem_size * (size_t)ncap);
			if (!nv) {
				rc = mtb_errbuf_set(eb, MTB_ERR_NOMEM, "records: out of memory");
				break;
			}
			v = nv;
			cap = ncap;
		}
		unsigned char *x = v + elem_size * (size_t)(*n)++;
		memset(x, 0, elem_size);
		fill(st, x);
	}
	if (rc == MTB_OK && step != SQLITE_DONE)
		rc = db_err(r, eb, what);
	sqlite3_finalize(st);
	if (rc != MTB_OK) {
		free(v);
		*n = 0;
		return rc;
	}
	*out = v;
	return MTB_OK;
}

static void reading_fill(sqlite3_stmt *st, void *elem)
{
	struct mtb_reading_view *x = elem;
	x->point_index = sqlite3_column_int(st, 0);
	x->seq = sqlite3_column_int(st, 1);
	x->position = sqlite3_column_int(st, 2);
	col_copy(x->phase, sizeof x->phase, st, 3);
	x->t_mono_us = sqlite3_column_int64(st, 4);
	x->volume_ul = sqlite3_column_int64(st, 5);
	x->confidence = sqlite3_column_double(st, 6);
	col_copy(x->image_sha256, sizeof x->image_sha256, st, 7);
}

int mtb_records_readings_list(struct mtb_records *r, const char *sid, int point_index, struct mtb_reading_view **out,
			      int *n, struct mtb_errbuf *eb)
{
	void *v;
	int rc = list_rows(r,
			   "SELECT point_index, seq, position, phase, t_mono_us, volume_ul, confidence, image_sha256"
			   " FROM readings WHERE session_id=?1 AND (?2 < 0 OR point_index=?2) ORDER BY point_index, seq",
			   "readings", sid, point_index, sizeof **out, reading_fill, &v, n, eb);
	*out = v;
	return rc;
}

int mtb_records_evidence_get(struct mtb_records *r, const char *sha, unsigned char **data, size_t *len, char mime[64],
			     struct mtb_errbuf *eb)
{
	*data = NULL;
	*len = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT mime, bytes FROM evidence WHERE sha256=?1", -1, &st, NULL) != SQLITE_OK)
		return db_err(r, eb, "evidence");
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
	int rc = mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "records: no evidence %.64s", sha);
	if (sqlite3_step(st) == SQLITE_ROW) {
		col_copy(mime, 64, st, 0);
		int n = sqlite3_column_bytes(st, 1);
		const void *b = sqlite3_column_blob(st, 1);
		unsigned char *copy = malloc(n > 0 ? (size_t)n : 1);
		if (!copy) {
			rc = mtb_errbuf_set(eb, MTB_ERR_NOMEM, "records: out of memory");
		} else {
			if (n > 0)
				memcpy(copy, b, (size_t)n);
			*data = copy;
			*len = (size_t)n;
			rc = MTB_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static void sample_fill(sqlite3_stmt *st, void *elem)
{
	struct mtb_sample_view *x = elem;
	x->point_index = sqlite3_column_int(st, 0);
	x->seq = sqlite3_column_int(st, 1);
	x->t_mono_us = sqlite3_column_int64(st, 2);
	x->totaliser_ul = sqlite3_column_int64(st, 3);
	x->flow_lph = sqlite3_column_double(st, 4);
	x->temp_mdegc = sqlite3_column_int(st, 5);
	x->pressure_pa = sqlite3_column_int(st, 6);
}

int mtb_records_samples_list(struct mtb_records *r, const char *sid, int point_index, struct mtb_sample_view **out,
			     int *n, struct mtb_errbuf *eb)
{
	void *v;
	int rc = list_rows(r,
			   "SELECT point_index, seq, t_mono_us, totaliser_ul, flow_lph, temp_mdegc, pressure_pa"
			   " FROM samples WHERE session_id=?1 AND (?2 < 0 OR point_index=?2) ORDER BY point_index, seq",
			   "samples", sid, point_index, sizeof **out, sample_fill, &v, n, eb);
	*out = v;
	return rc;
}

static char *col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	return v ? strdup((const char *)v) : NULL;
}

void mtb_records_can_view_free(struct mtb_can_view *v)
{
	if (!v)
		return;
	free(v->plan_text);
	free(v->result_json);
	free(v);
}

int mtb_records_can_load(struct mtb_records *r, const char *sid, struct mtb_can_view **out, struct mtb_errbuf *eb)
{
	*out = NULL;
	struct mtb_can_view *v = calloc(1, sizeof *v);
	if (!v)
		return MTB_ERR_NOMEM;
	sqlite3_stmt *st;
	int rc = MTB_OK;
	if (sqlite3_prepare_v2(r->db, "SELECT s.status, s.operator, s.started_unix_s, s.bench_time_s, s.plan_text,"
				      " m.serial, m.type FROM sessions s LEFT JOIN meters m ON m.session_id = s.id"
				      " AND m.position = 1 WHERE s.id=?1", -1, &st, NULL) != SQLITE_OK) {
		mtb_records_can_view_free(v);
		return db_err(r, eb, "session");
	}
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		mtb_records_can_view_free(v);
		return mtb_errbuf_set(eb, MTB_ERR_NOTFOUND, "records: no session %s", sid);
	}
	col_copy(v->status, sizeof v->status, st, 0);
	col_copy(v->operator_name, sizeof v->operator_name, st, 1);
	v->started_unix_s = sqlite3_column_int64(st, 2);
	v->bench_time_s = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 3);
	v->plan_text = col_dup(st, 4);
	col_copy(v->serial, sizeof v->serial, st, 5);
	col_copy(v->vessel, sizeof v->vessel, st, 6);
	sqlite3_finalize(st);
	if (!v->plan_text) {
		mtb_records_can_view_free(v);
		return MTB_ERR_NOMEM;
	}

	if (sqlite3_prepare_v2(r->db, "SELECT run_index, full_mg, empty_mg, level_div, water_c, air_c, p_hpa, rh_pct"
				      " FROM can_runs WHERE session_id=?1 ORDER BY run_index", -1, &st, NULL) != SQLITE_OK) {
		mtb_records_can_view_free(v);
		return db_err(r, eb, "can runs");
	}
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	while (rc == MTB_OK && sqlite3_step(st) == SQLITE_ROW) {
		int idx = sqlite3_column_int(st, 0);
		if (idx != v->n_runs || idx >= MTB_VIEW_MAX_CAN_RUNS) {
			rc = mtb_errbuf_set(eb, MTB_ERR_PROTO, "records: session %s: can run %d recorded after %d runs", sid,
					    idx, v->n_runs);
			break;
		}
		struct mtb_can_run_record *u = &v->runs[v->n_runs++];
		u->full_mg = sqlite3_column_int64(st, 1);
		u->empty_mg = sqlite3_column_int64(st, 2);
		u->level_div = sqlite3_column_double(st, 3);
		u->water_temp_c = sqlite3_column_double(st, 4);
		u->air_temp_c = sqlite3_column_double(st, 5);
		u->p_hpa = sqlite3_column_double(st, 6);
		u->rh_pct = sqlite3_column_double(st, 7);
	}
	sqlite3_finalize(st);

	/* The frame a run's level came from: the last frame of that run read at exactly that level. */
	if (rc == MTB_OK && sqlite3_prepare_v2(r->db, "SELECT image_sha256 FROM meniscus_readings WHERE session_id=?1"
						      " AND run_index=?2 AND ok=1 AND level_div=?3 ORDER BY seq DESC LIMIT 1",
					       -1, &st, NULL) == SQLITE_OK) {
		for (int i = 0; i < v->n_runs; i++) {
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 2, i);
			sqlite3_bind_double(st, 3, v->runs[i].level_div);
			if (sqlite3_step(st) == SQLITE_ROW)
				col_copy(v->evidence_sha256[i], sizeof v->evidence_sha256[i], st, 0);
		}
		sqlite3_finalize(st);
	} else if (rc == MTB_OK) {
		rc = db_err(r, eb, "meniscus readings");
	}

	if (rc == MTB_OK && count_where(r, "SELECT COUNT(*) FROM audit WHERE session_id=?1 AND kind='can-run' AND ?2=?2", sid, 0,
					&v->n_sealed_runs) != MTB_OK)
		rc = db_err(r, eb, "can runs");
	/* the dry vessel's weight, sealed in the audit log before the first fill (to contain) */
	if (rc == MTB_OK && sqlite3_prepare_v2(r->db, "SELECT payload FROM audit WHERE session_id=?1 AND kind='can-tare'"
						      " ORDER BY seq LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
		long long dry;
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
		    sscanf((const char *)sqlite3_column_text(st, 0), "dry_mg=%lld", &dry) == 1) {
			v->have_dry = 1;
			v->dry_mg = dry;
		}
		sqlite3_finalize(st);
	} else if (rc == MTB_OK) {
		rc = db_err(r, eb, "can tare");
	}

	if (rc == MTB_OK && sqlite3_prepare_v2(r->db, "SELECT budget_json FROM can_results WHERE session_id=?1", -1, &st,
					       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
		    !(v->result_json = col_dup(st, 0)))
			rc = MTB_ERR_NOMEM;
		sqlite3_finalize(st);
	} else if (rc == MTB_OK) {
		rc = db_err(r, eb, "can results");
	}
	if (rc != MTB_OK) {
		mtb_records_can_view_free(v);
		return rc;
	}
	*out = v;
	return MTB_OK;
}
