/*
 * starttls-line.h - the engine of the line protocols (SMTP, LMTP, IMAP,
 * POP3, ManageSieve, FTP, NNTP, IRC).  A protocol is a line_dialogue: the
 * shape of the reply it awaits in each state, and one function that judges
 * each complete reply, sending the next command or giving the verdict.
 * The engine reads lines and replies, bounded, and keeps peer text out of
 * messages unescaped.  Not an API: see starttls.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "starttls.h"

enum line_reply_kind {
	LINE_REPLY_ONE,       /* one line */
	LINE_REPLY_CODED,     /* "250-" lines up to "250 " (SMTP, FTP, NNTP) */
	LINE_REPLY_DOTTED,    /* if the first line starts with key, lines up to "." */
	LINE_REPLY_PREFIXED,  /* lines starting with key, then one that does not */
};

struct line_shape {
	enum line_reply_kind kind;
	const char *key;
};

/* A complete reply, as the judge sees it. */
struct line_reply {
	const uint8_t *p;     /* the whole reply, line ends included */
	size_t n;
	const uint8_t *last;  /* its final line, without CR LF */
	size_t last_n;
};

struct line_dialogue {
	const char *proto;               /* as named in messages */
	const char *verb;                /* EHLO or LHLO */
	const char *opening;             /* what the client says first, if it does */
	struct line_shape shape[5];      /* how the reply awaited in each state ends */
	/*
	 * Judges a complete reply in s->state: returns STARTTLS_CONTINUE
	 * having queued the next command and moved on (line_send()), or
	 * having stayed to await another reply of the same shape; or the
	 * verdict.
	 */
	enum starttls_result (*on_reply)(struct starttls_session *s,
					 const struct line_dialogue *d, const struct line_reply *r);
};

/* The step function of a line protocol. */
enum starttls_result line_run(const struct line_dialogue *d, struct starttls_session *s,
			      const uint8_t *in, size_t len, size_t *consumed);

/* Queues one command line, refusing a CR or LF in it, and moves to next_state. */
__attribute__((format(printf, 3, 4)))
enum starttls_result line_send(struct starttls_session *s, int next_state,
			       const char *fmt, ...);

/* Whether p[0..n) starts with word, ignoring case. */
bool line_has_prefix(const uint8_t *p, size_t n, const char *word);

/* Whether p[0..n) starts with word followed by the end or a separator. */
bool line_is_word(const uint8_t *p, size_t n, const char *word);

/* The reply's three-digit code, or -1. */
int line_reply_code(const struct line_reply *r);

/*
 * Whether a line of the reply starts with word after skip bytes (an SMTP
 * "250-" prefix), or, with skip < 0, carries it as any token (IMAP).
 */
bool line_reply_has(const struct line_reply *r, int skip, const char *word);

/* The verdicts, each quoting the reply: "the IMAP server refused STARTTLS:". */
enum starttls_result line_refused(struct starttls_session *s, const struct line_dialogue *d,
				  const struct line_reply *r, const char *command);
enum starttls_result line_answered(struct starttls_session *s, const struct line_dialogue *d,
				   const struct line_reply *r, const char *command);
enum starttls_result line_not_offered(struct starttls_session *s,
				      const struct line_dialogue *d, const struct line_reply *r);
/* what: "greeted with", "closed the connection:". */
enum starttls_result line_unexpected(struct starttls_session *s, const struct line_dialogue *d,
				     const struct line_reply *r, const char *what);
/* The go-ahead is the code go_ahead; 4xx and 5xx refuse (SMTP, FTP, NNTP). */
enum starttls_result line_coded_verdict(struct starttls_session *s,
					const struct line_dialogue *d,
					const struct line_reply *r, int go_ahead,
					const char *command);
