/* meterbench bench: the records of verification sessions in one SQLite file (WAL).
 *
 * Everything a result stands on is kept: the session (plan text, reference and certificate,
 * operator), the meters, every point with its raw reference samples and dial readings, evidence
 * images stored by content hash, and an append-only audit log whose entries are chained by
 * SHA-256 so that any later alteration of a recorded point or of the log itself is detected
 * (`meterbench audit verify`). Each point is committed in one transaction together with its
 * audit entry: a crash loses at most the point in progress.
 *
 * The interface is the records layer of the bench: the backend (SQLite now) can change behind it. */
#ifndef MTB_BENCH_RECORDS_H
#define MTB_BENCH_RECORDS_H

#include "core/err.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtb_records;

#define MTB_SESSION_ID_LEN 32   /* "20261123T010518Z-3f9a1c2b" fits with room */

struct mtb_session_info {
	const char *plan_name;
	const char *plan_text;          /* the plan file as run, kept verbatim */
	const char *bench_name;
	const char *standard;           /* "OIML R49:2013" */
	const char *mode;               /* verification | in-service | dispute */
	const char *reading;            /* camera | manual */
	const char *operator_name;
	const char *reference_name;
	const char *reference_serial;
	const char *cert_number;
	const char *cert_valid_until;   /* YYYY-MM-DD */
	const char *reference_yaml;     /* the certificate file as used, kept verbatim */
	const char *rule_set;           /* "r49-2013" */
	const char *jurisdiction;       /* in-service limits used (in-service and dispute modes) */
	const char *customer;           /* dispute appraisals only */
	const char *utility;
	const char *case_number;
	int64_t started_unix_s;
};

struct mtb_meter_record {
	int position;
	const char *serial;
	const char *type_name;
};

struct mtb_sample_record {          /* one reference-meter sample */
	int64_t t_mono_us;
	int64_t totaliser_ul;
	double flow_lph;
	int32_t temp_mdegc;
	int32_t pressure_pa;
};

struct mtb_reading_record {         /* one dial reading of one meter */
	int position;
	const char *phase;              /* "start" | "end" */
	int64_t t_mono_us;
	int64_t volume_ul;
	double confidence;
	const char *image_sha256;       /* evidence image, stored with mtb_records_evidence_put; or NULL */
	const void *image;              /* or the image itself, stored as evidence in the point's own
					 * transaction (image_sha256 then NULL); NULL: none */
	size_t image_len;
	const char *image_mime;         /* "image/jpeg" ... */
};

struct mtb_point_record {           /* the result of one test point for one meter */
	int point_index;                /* order in the plan, 0-based */
	const char *point_name;         /* "Q1" */
	int position;
	double flow_lph;
	int64_t actual_ul;
	int64_t indicated_ul;
	int64_t error_ppm;
	int32_t mpe_ppm;
	int32_t u_exp_ppm;
	const char *zone;
	const char *verdict;
	const char *start_method;       /* flying | standing */
	const char *budget_json;        /* the uncertainty budget, one JSON object */
	const char *corrections_json;   /* reference factor, temperature and pressure corrections */
};

/* Opens (creating if needed) a records file: WAL journal, foreign keys, schema. */
int mtb_records_open(const char *path, struct mtb_records **out, struct mtb_errbuf *eb);
void mtb_records_close(struct mtb_records *r);

/* Starts a session; writes its id (also its audit log's first entry). */
int mtb_records_session_begin(struct mtb_records *r, const struct mtb_session_info *info,
			      const struct mtb_meter_record *meters, int n_meters,
			      char id[MTB_SESSION_ID_LEN + 1], struct mtb_errbuf *eb);

/* Stores bytes by their SHA-256 (idempotent); writes the hex digest. */
int mtb_records_evidence_put(struct mtb_records *r, const void *data, size_t len, const char *mime,
			     char sha256_hex[65], struct mtb_errbuf *eb);

/* Commits one test point of a session atomically: the per-meter results, the reference samples
 * and the readings behind them, and one audit entry. Refused (MTB_ERR_STATE) when that point
 * index is already recorded or the session is not running. */
int mtb_records_point_commit(struct mtb_records *r, const char *session_id, int point_index,
			     const struct mtb_point_record *results, int n_results,
			     const struct mtb_sample_record *samples, int n_samples,
			     const struct mtb_reading_record *readings, int n_readings, struct mtb_errbuf *eb);

/* Number of points of a session already committed (a resumed run carries on from there), or a
 * negative error; MTB_ERR_NOTFOUND for an unknown session. */
int mtb_records_points_done(struct mtb_records *r, const char *session_id, struct mtb_errbuf *eb);

/* Reopens an interrupted session (running after a crash, or aborted) to carry on: status back
 * to running, an audit entry "session-resume". Returns the points already recorded (the next
 * point index) or a negative error; a complete session cannot be resumed (MTB_ERR_STATE). */
int mtb_records_session_resume(struct mtb_records *r, const char *session_id, struct mtb_errbuf *eb);

/* Ends a session: status "complete" or "aborted"; bench_time_s is added to what earlier runs of
 * the same (resumed) session recorded. */
int mtb_records_session_finish(struct mtb_records *r, const char *session_id, const char *status,
			       double bench_time_s, struct mtb_errbuf *eb);

/* ---- reading a session back (reports, resume, live-view replay) ------------------------ */

#define MTB_VIEW_MAX_METERS 32
#define MTB_VIEW_MAX_POINTS 16

struct mtb_point_view {
	int point_index;
	char name[16];
	double flow_lph;
	int64_t actual_ul, indicated_ul, error_ppm;
	int32_t mpe_ppm, u_exp_ppm;
	char zone[16], verdict[16], start_method[16];
};

struct mtb_meter_view {
	int position;
	char serial[64];
	char type_name[64];
	int n_points;
	struct mtb_point_view points[MTB_VIEW_MAX_POINTS];
};

struct mtb_session_view {
	char id[MTB_SESSION_ID_LEN + 1];
	char plan_name[64], bench_name[64], standard[64], rule_set[32], mode[16], reading[16];
	char operator_name[64], jurisdiction[64];
	char reference_name[64], reference_serial[64], cert_number[64], cert_valid_until[16];
	char customer[128], utility[128], case_number[64];
	char status[16];
	int64_t started_unix_s;
	double bench_time_s;         /* < 0 while running */
	int n_meters;
	struct mtb_meter_view meters[MTB_VIEW_MAX_METERS];
};

/* Loads a session with its meters and points (allocated; free with free()). */
int mtb_records_session_load(struct mtb_records *r, const char *session_id, struct mtb_session_view **out,
			     struct mtb_errbuf *eb);

/* One stored dial reading, as read back (mtb_records_readings_list). */
struct mtb_reading_view {
	int point_index;
	int seq;
	int position;
	char phase[8];                 /* "start" | "end" */
	int64_t t_mono_us;
	int64_t volume_ul;             /* -1: the frame gave no reading */
	double confidence;
	char image_sha256[65];         /* "" when no image was kept */
};

/* The readings of a session in recorded order (point, then sequence), all points when
 * point_index < 0 (allocated array, free with free(); *n = 0 and *out = NULL when none). */
int mtb_records_readings_list(struct mtb_records *r, const char *session_id, int point_index,
			      struct mtb_reading_view **out, int *n, struct mtb_errbuf *eb);

/* One stored reference sample, as read back (mtb_records_samples_list). */
struct mtb_sample_view {
	int point_index;
	int seq;
	int64_t t_mono_us;
	int64_t totaliser_ul;
	double flow_lph;
	int32_t temp_mdegc;
	int32_t pressure_pa;
};

/* The reference samples of a session in recorded order, like mtb_records_readings_list. */
int mtb_records_samples_list(struct mtb_records *r, const char *session_id, int point_index,
			     struct mtb_sample_view **out, int *n, struct mtb_errbuf *eb);

/* An evidence blob by its SHA-256 hex digest (bytes malloc'd, free with free(); mime into a
 * buffer of 64). MTB_ERR_NOTFOUND when no such blob is stored. */
int mtb_records_evidence_get(struct mtb_records *r, const char *sha256_hex, unsigned char **data, size_t *len,
			     char mime[64], struct mtb_errbuf *eb);

/* The newest session's id, for tools that default to "the last run". MTB_ERR_NOTFOUND if none. */
int mtb_records_last_session(struct mtb_records *r, char id[MTB_SESSION_ID_LEN + 1], struct mtb_errbuf *eb);

/* ---- measuring cans (bench/can_procedure.h) -------------------------------------------
 * A can session is a session (its one "meter" is the vessel: position 1, its serial, the
 * vessel type) whose records are runs, not points: each run is committed with every balance
 * reply and every meniscus frame taken since the previous commit (the original observations),
 * and one audit entry "can-run"; the series' result is one "can-result" entry. An aborted run's
 * observations are committed without a run row. */

struct mtb_can_balance_record {     /* one balance reply */
	int64_t t_mono_us;
	int rc;                         /* MTB_OK, or what went wrong (silent, overload ...) */
	int64_t mass_mg;
	int stable;
};

struct mtb_can_meniscus_record {    /* one neck frame and what the reader made of it */
	int64_t t_mono_us;
	int ok;                         /* 0: refused (reason) */
	double level_div;
	double confidence;
	const char *reason;
	const char *image_sha256;       /* evidence (mtb_records_evidence_put) or NULL */
};

struct mtb_can_step_record {        /* one step of a fill (bench/can_procedure.h) */
	int64_t t_mono_us;
	const char *kind;               /* coarse | fine | top-up | stop | unread */
	int64_t open_us;                /* the fill valve open this long */
	int64_t mass_mg;                /* the balance after it */
	double level_div;               /* the meniscus reading that decided it (NAN: by mass) */
	double aim_div;                 /* the line aimed at (NAN: none) */
};

struct mtb_can_run_record {         /* a completed run */
	int64_t full_mg, empty_mg;
	double level_div;
	double water_temp_c, air_temp_c, p_hpa, rh_pct;
};

struct mtb_can_result_record {      /* the series */
	const char *vessel;
	int n_runs;
	double mean_v_ref_ul, s_error_ul;
	int64_t error_ul, u_exp_ul, mpe_ul;
	const char *verdict;            /* pass | fail | invalid */
	const char *budget_json;
};

/* Commits run `run_index` (run NULL: the observations of an attempt that did not complete it)
 * with its observations and one audit entry ("can-run", or "can-attempt" without a run),
 * atomically. The observations' sequence numbers continue after those of earlier attempts at the
 * same run (a resumed session redoes the run an abort interrupted), and each entry names the
 * range it seals. MTB_ERR_STATE when the session is not running or that run is already
 * recorded. */
int mtb_records_can_run_commit(struct mtb_records *r, const char *session_id, int run_index,
			       const struct mtb_can_run_record *run, const struct mtb_can_balance_record *balance,
			       int n_balance, const struct mtb_can_meniscus_record *meniscus, int n_meniscus,
			       struct mtb_errbuf *eb);

/* Seals the dry vessel's weight (a to-contain vessel, weighed before its first fill) in the audit
 * log (entry "can-tare"), so that a session interrupted before its first run completed keeps
 * its I_E when resumed. */
int mtb_records_can_tare(struct mtb_records *r, const char *session_id, int64_t dry_mg, struct mtb_errbuf *eb);

/* The same with the steps of the run's fill (table can_fill_steps, in the run's audit entry). */
int mtb_records_can_run_commit_steps(struct mtb_records *r, const char *session_id, int run_index,
				     const struct mtb_can_run_record *run, const struct mtb_can_balance_record *balance,
				     int n_balance, const struct mtb_can_meniscus_record *meniscus, int n_meniscus,
				     const struct mtb_can_step_record *steps, int n_steps, struct mtb_errbuf *eb);

/* Commits the series' result (once per session). */
int mtb_records_can_result_commit(struct mtb_records *r, const char *session_id,
				  const struct mtb_can_result_record *res, struct mtb_errbuf *eb);

/* Counts of what a can session recorded: completed runs, balance replies, meniscus frames. */
int mtb_records_can_counts(struct mtb_records *r, const char *session_id, int *runs, int *balance, int *meniscus,
			   struct mtb_errbuf *eb);

/* A can session read back (meterbench report): the session, the completed runs in order, the
 * neck frame each run's level was read from, and the series' results.json as it was recorded
 * (NULL when the session has no series). Free with mtb_records_can_view_free. */
#define MTB_VIEW_MAX_CAN_RUNS 32

struct mtb_can_view {
	char status[16], operator_name[64], serial[64], vessel[64];
	int64_t started_unix_s;
	double bench_time_s;        /* < 0 while running */
	char *plan_text;            /* the plan as it was run */
	int n_runs;
	struct mtb_can_run_record runs[MTB_VIEW_MAX_CAN_RUNS];
	char evidence_sha256[MTB_VIEW_MAX_CAN_RUNS][65];   /* "" when the frame was not kept */
	char *result_json;
	int n_sealed_runs;          /* "can-run" audit entries (n_runs unless an earlier version sealed
				     * an aborted run's observations as a run) */
	int have_dry;               /* a "can-tare" entry: the dry vessel's weight before the first fill */
	int64_t dry_mg;
};

/* MTB_ERR_NOTFOUND for an unknown session; MTB_ERR_PROTO when the runs are not 0..n-1. */
int mtb_records_can_load(struct mtb_records *r, const char *session_id, struct mtb_can_view **out,
			 struct mtb_errbuf *eb);
void mtb_records_can_view_free(struct mtb_can_view *v);

struct mtb_audit_report {
	int64_t entries;          /* audit entries checked */
	int64_t points;           /* point rows checked against their audit entries */
	int64_t can_records;      /* can runs and results checked against their audit entries */
	int64_t evidence;         /* evidence blobs re-hashed */
	int64_t first_bad_seq;    /* 0 when everything verifies */
	char problem[256];        /* what is wrong at first_bad_seq, or "" */
};

/* Re-walks the hash chain, re-derives each point's canonical record from the tables and compares
 * it with what its audit entry sealed, and re-hashes every evidence blob. MTB_OK and
 * first_bad_seq == 0 when nothing was altered; MTB_ERR_PROTO with the first problem otherwise. */
int mtb_records_audit_verify(struct mtb_records *r, struct mtb_audit_report *rep, struct mtb_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
