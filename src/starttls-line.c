/*
 * starttls-line.c - the engine of the line protocols: one line reader, one
 * reply reader, and the loop that hands each complete reply to the
 * protocol's judge (starttls-line.h).  A reply (one line, an SMTP-style
 * "250-" block, a POP3 list ending in ".", IMAP untagged lines up to the
 * tagged one) is consumed only once it is complete, so a verdict can quote
 * all of it.  Each line is bounded by STARTTLS_MAX_LINE, the whole preamble
 * by STARTTLS_MAX_PREAMBLE (enforced by starttls_feed()).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "starttls-drivers.h"
#include "starttls-line.h"

/* ---- lines and words -------------------------------------------------------- */

bool line_has_prefix(const uint8_t *p, size_t n, const char *word)
{
	size_t wl = strlen(word);

	return n >= wl && strncasecmp((const char *)p, word, wl) == 0;
}

static bool is_sep(uint8_t c)
{
	return c != '\0' && strchr(" \t\r\n[]()=", c) != NULL;
}

bool line_is_word(const uint8_t *p, size_t n, const char *word)
{
	size_t wl = strlen(word);

	return line_has_prefix(p, n, word) && (n == wl || is_sep(p[wl]));
}

/*
 * The one line reader: finds the line starting at *pos, strips LF and an
 * optional CR (bare LF is accepted, as real clients do).  Returns 1 and
 * advances *pos past the line, 0 if the line is not complete yet, or -1
 * if it is longer than STARTTLS_MAX_LINE; s may be NULL when the text was
 * already bounded.
 */
static int next_line(struct starttls_session *s, const uint8_t *in, size_t len,
		     size_t *pos, const uint8_t **ret_line, size_t *ret_n)
{
	size_t avail = len - *pos, scan = avail, n;
	const uint8_t *p, *lf;

	if (avail == 0)
		return 0;
	p = in + *pos;
	if (scan > STARTTLS_MAX_LINE + 2)
		scan = STARTTLS_MAX_LINE + 2;
	lf = memchr(p, '\n', scan);
	/* Without a LF, 4096 bytes and a CR may still become a valid line. */
	if (!lf && avail <= STARTTLS_MAX_LINE + 1)
		return 0;
	n = lf ? (size_t)(lf - p) : avail;
	if (lf && n > 0 && p[n - 1] == '\r')
		n--;
	if (n > STARTTLS_MAX_LINE) {
		if (s)
			starttls_fail(s, STARTTLS_TOO_LONG, p, 64,
				      "the server sent a line longer than %d bytes:",
				      STARTTLS_MAX_LINE);
		return -1;
	}
	*pos += (size_t)(lf - p) + 1;
	*ret_line = p;
	*ret_n = n;
	return 1;
}

enum starttls_result line_send(struct starttls_session *s, int next_state, const char *fmt, ...)
{
	char line[STARTTLS_MAX_OUT];
	enum starttls_result r;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	/* A name carrying CR or LF would smuggle a second command. */
	if (n < 0 || (size_t)n >= sizeof(line) - 2 || strpbrk(line, "\r\n"))
		return starttls_fail(s, STARTTLS_PROTOCOL, line, strlen(line),
				     "cannot send a command with a line break or too long:");
	memcpy(line + n, "\r\n", 2);
	r = starttls_queue(s, line, (size_t)n + 2);
	if (r == STARTTLS_CONTINUE)
		s->state = next_state;
	return r;
}

/* ---- replies ------------------------------------------------------------------ */

static bool is_code(const uint8_t *p, size_t n)
{
	return n >= 3 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
	       p[2] >= '0' && p[2] <= '9';
}

static bool ends_reply(const struct line_shape *sh, const uint8_t *line, size_t n,
		       size_t index)
{
	switch (sh->kind) {
	case LINE_REPLY_CODED:
		/* Text lines inside an FTP multi-line reply need not carry a code. */
		if (!is_code(line, n))
			return index == 0;
		return n == 3 || line[3] != '-';
	case LINE_REPLY_DOTTED:
		if (index == 0)
			return !line_has_prefix(line, n, sh->key);
		return n == 1 && line[0] == '.';
	case LINE_REPLY_PREFIXED:
		return !line_has_prefix(line, n, sh->key);
	case LINE_REPLY_ONE:
	default:
		return true;
	}
}

/*
 * Finds the complete reply at in[start..len).  Returns 1 and sets *ret,
 * 0 if more bytes are needed, -1 (s->detail set) if a line is too long.
 */
static int read_reply(struct starttls_session *s, const uint8_t *in, size_t len,
		      size_t start, const struct line_shape *sh, struct line_reply *ret)
{
	size_t pos = start;

	for (size_t index = 0;; index++) {
		const uint8_t *line;
		size_t n;
		int k = next_line(s, in, len, &pos, &line, &n);

		if (k <= 0)
			return k;
		if (ends_reply(sh, line, n, index)) {
			*ret = (struct line_reply) {
				.p = in + start, .n = pos - start, .last = line, .last_n = n,
			};
			return 1;
		}
	}
}

/* The reply for messages: without its final line end. */
static size_t text_len(const struct line_reply *r)
{
	return (size_t)(r->last - r->p) + r->last_n;
}

int line_reply_code(const struct line_reply *r)
{
	if (!is_code(r->p, r->n))
		return -1;
	return (r->p[0] - '0') * 100 + (r->p[1] - '0') * 10 + (r->p[2] - '0');
}

bool line_reply_has(const struct line_reply *r, int skip, const char *word)
{
	const uint8_t *line;
	size_t pos = 0, n;

	while (next_line(NULL, r->p, r->n, &pos, &line, &n) > 0) {
		if (skip >= 0) {
			if (n >= (size_t)skip &&
			    line_is_word(line + skip, n - (size_t)skip, word))
				return true;
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if ((i == 0 || is_sep(line[i - 1])) && line_is_word(line + i, n - i, word))
				return true;
	}
	return false;
}

/* ---- the dialogue ------------------------------------------------------------- */

enum starttls_result line_run(const struct line_dialogue *d, struct starttls_session *s,
			      const uint8_t *in, size_t len, size_t *consumed)
{
	enum starttls_result r = STARTTLS_CONTINUE;
	size_t pos = 0;

	if (s->state == 0 && d->opening)
		r = line_send(s, 1, "%s", d->opening);
	while (r == STARTTLS_CONTINUE && (size_t)s->state < ELEMENTSOF(d->shape)) {
		struct line_reply rep;
		int k = read_reply(s, in, len, pos, &d->shape[s->state], &rep);

		if (k < 0)
			r = STARTTLS_TOO_LONG;
		if (k <= 0)
			break;
		pos += rep.n;
		r = d->on_reply(s, d, &rep);
	}
	*consumed = pos;
	return r;
}

enum starttls_result line_refused(struct starttls_session *s, const struct line_dialogue *d,
				  const struct line_reply *r, const char *command)
{
	return starttls_fail(s, STARTTLS_REFUSED, r->p, text_len(r),
			     "the %s server refused %s:", d->proto, command);
}

enum starttls_result line_answered(struct starttls_session *s, const struct line_dialogue *d,
				   const struct line_reply *r, const char *command)
{
	return starttls_fail(s, STARTTLS_PROTOCOL, r->p, text_len(r),
			     "the %s server answered %s with", d->proto, command);
}

enum starttls_result line_not_offered(struct starttls_session *s,
				      const struct line_dialogue *d, const struct line_reply *r)
{
	return starttls_fail(s, STARTTLS_REFUSED, r->p, text_len(r),
			     "the %s server does not offer STARTTLS; its capabilities:",
			     d->proto);
}

enum starttls_result line_unexpected(struct starttls_session *s, const struct line_dialogue *d,
				     const struct line_reply *r, const char *what)
{
	return starttls_fail(s, STARTTLS_PROTOCOL, r->p, text_len(r),
			     "the %s server %s", d->proto, what);
}

enum starttls_result line_coded_verdict(struct starttls_session *s,
					const struct line_dialogue *d,
					const struct line_reply *r, int go_ahead,
					const char *command)
{
	int code = line_reply_code(r);

	if (code == go_ahead)
		return STARTTLS_READY;
	if (code >= 400)
		return line_refused(s, d, r, command);
	return line_answered(s, d, r, command);
}
