/* meterbench core: logging through a sink carried by a context, never a global.
 * Libraries log where a decision is made, with a per-file tag; they never printf. */
#ifndef MTB_CORE_LOG_H
#define MTB_CORE_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum mtb_log_level { MTB_LOG_ERROR = 0, MTB_LOG_WARN, MTB_LOG_INFO, MTB_LOG_DEBUG };

struct mtb_log {
	/* Called with a formatted, newline-free message; NULL sink drops everything. */
	void (*sink)(void *user, enum mtb_log_level level, const char *tag, const char *msg);
	void *user;
	enum mtb_log_level max_level;   /* messages above this level are dropped */
};

/* Logs through log (which may be NULL). */
void mtb_log_msg(const struct mtb_log *log, enum mtb_log_level level, const char *tag,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A sink that writes "level tag: msg" lines to stderr; user is ignored. */
void mtb_log_sink_stderr(void *user, enum mtb_log_level level, const char *tag, const char *msg);

#ifdef __cplusplus
}
#endif
#endif
