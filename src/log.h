/*
 * log.h - the daemon's log: the journal with structured fields when
 * stderr is connected to it (systemd sets JOURNAL_STREAM), plain lines on
 * stderr otherwise.  Each kind of event has a fixed MESSAGE_ID, so that
 * `journalctl MESSAGE_ID=...` finds every certificate change or failed
 * reload whatever its wording.
 */
#pragma once

#include <stdarg.h>
#include <syslog.h>

enum log_kind {
	LOG_KIND_NONE,              /* an ordinary message */
	LOG_KIND_CERT_CHANGED,      /* the certificate on disk changed */
	LOG_KIND_RELOAD_STARTED,
	LOG_KIND_RELOAD_VERIFIED,
	LOG_KIND_RELOAD_FAILED,
	LOG_KIND_SERVICE_PAUSED,
	LOG_KIND_RENEWAL_OVERDUE,
	LOG_KIND_DISK_INVALID,
	LOG_KIND_DANE_HELD,         /* a reload is held for DANE records or pins */
	LOG_KIND_DANE_RELEASED,     /* ... and no longer */
	_LOG_KIND_MAX,
};

/* Chooses the journal or stderr, once, at start. */
void log_setup(void);

/*
 * Logs one message.  fields: "KEY=value" strings (journal field names:
 * upper case), NULL-terminated, or NULL.  On stderr they follow the
 * message in brackets.
 */
__attribute__((format(printf, 4, 5)))
void log_full(int priority, enum log_kind kind, const char *const *fields, const char *fmt, ...);

#define log_info(...)    log_full(LOG_INFO, LOG_KIND_NONE, NULL, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, LOG_KIND_NONE, NULL, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, LOG_KIND_NONE, NULL, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, LOG_KIND_NONE, NULL, __VA_ARGS__)

/* The MESSAGE_ID of a kind, 32 hex digits, or NULL for LOG_KIND_NONE. */
const char *log_kind_message_id(enum log_kind kind);
