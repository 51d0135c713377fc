#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

void mtb_log_msg(const struct mtb_log *log, enum mtb_log_level level, const char *tag,
		 const char *fmt, ...)
{
	if (!log || !log->sink || level > log->max_level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log->sink(log->user, level, tag, msg);
}

void mtb_log_sink_stderr(void *user, enum mtb_log_level level, const char *tag, const char *msg)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	(void)user;
	fprintf(stderr, "%s %s: %s\n", names[level], tag, msg);
}
