/*
 * log.c - journal or stderr; see log.h.
 *
 * The journal is used only when systemd says stderr goes to it
 * (JOURNAL_STREAM names stderr's device and inode), as sd-journal's own
 * documentation recommends; a terminal or a redirected file gets text.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "util.h"

#define LOG_MAX_FIELDS 16

static bool to_journal;

static const char *const message_ids[_LOG_KIND_MAX] = {
	[LOG_KIND_NONE]            = NULL,
	[LOG_KIND_CERT_CHANGED]    = "baa59047cb964f439d045ba924bf7433",
	[LOG_KIND_RELOAD_STARTED]  = "38c4c1c013b44a9f8db648622e1dba81",
	[LOG_KIND_RELOAD_VERIFIED] = "9deea229ec4149a7ba3cdabd898206f1",
	[LOG_KIND_RELOAD_FAILED]   = "a8d8873649984b77a0e765d0aa6e14fa",
	[LOG_KIND_SERVICE_PAUSED]  = "2647bc4205a74889b11667cab74c4e4d",
	[LOG_KIND_RENEWAL_OVERDUE] = "545bd7746957491c8c63cc87911187b4",
	[LOG_KIND_DISK_INVALID]    = "72570e8a5e9b404cb7499f1b05f3e5c5",
	[LOG_KIND_DANE_HELD]       = "841b8875e62b431eac1e0944ebc87f0e",
	[LOG_KIND_DANE_RELEASED]   = "432de364ccfb40f08ba5ff796d8023a5",
};

const char *log_kind_message_id(enum log_kind kind)
{
	return (unsigned)kind < _LOG_KIND_MAX ? message_ids[kind] : NULL;
}

void log_setup(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	to_journal = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 &&
		fstat(STDERR_FILENO, &st) == 0 &&
		(unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static void log_journal(int priority, enum log_kind kind, const char *const *fields,
			const char *msg)
{
	struct iovec iov[LOG_MAX_FIELDS + 4];
	char m[1100], p[16], id[48];
	size_t n = 0;

	snprintf(m, sizeof(m), "MESSAGE=%s", msg);
	snprintf(p, sizeof(p), "PRIORITY=%d", priority);
	iov[n++] = (struct iovec) { m, strlen(m) };
	iov[n++] = (struct iovec) { p, strlen(p) };
	if (message_ids[kind]) {
		snprintf(id, sizeof(id), "MESSAGE_ID=%s", message_ids[kind]);
		iov[n++] = (struct iovec) { id, strlen(id) };
	}
	for (size_t i = 0; fields && fields[i] && i < LOG_MAX_FIELDS; i++)
		iov[n++] = (struct iovec) { (void *)fields[i], strlen(fields[i]) };
	sd_journal_sendv(iov, (int)n);
}

void log_full(int priority, enum log_kind kind, const char *const *fields, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((unsigned)kind >= _LOG_KIND_MAX)
		kind = LOG_KIND_NONE;
	if (to_journal) {
		log_journal(priority, kind, fields, msg);
		return;
	}
	fprintf(stderr, "certwatch: %s", msg);
	for (size_t i = 0; fields && fields[i] && i < LOG_MAX_FIELDS; i++)
		fprintf(stderr, "%s%s", i ? " " : " [", fields[i]);
	fputs(fields && fields[0] ? "]\n" : "\n", stderr);
}
