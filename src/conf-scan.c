/*
 * conf-scan.c - blanks the comments out of a configuration file before
 * libconfuse parses it, and notes where sections begin.
 *
 * libconfuse 3.3 counts each comment's line two or three times, so its
 * line numbers drift after the first comment, and it cannot parse a
 * comment inside a list.  So conf.c reads each file into memory, this
 * scanner, which follows libconfuse's own lexer, blanks the comments out,
 * and libconfuse parses the rest, where its line numbers are exact.  A
 * parsed section only knows the line of its closing brace, so the same
 * scanner notes where each service and endpoint begins, and where a
 * string is left open: it takes the rest of the file, braces and all, so
 * the section around it looks unclosed while a quote is what is missing.
 * It never fails on bad syntax: libconfuse reports that, at the right
 * line.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conf-int.h"
#include "conf-scan.h"

enum tok { TOK_NONE, TOK_STR, TOK_OPEN, TOK_CLOSE, TOK_EQ, TOK_OTHER };

struct token {
	enum tok kind;
	const char *text;
	size_t len;
	unsigned line;
};

void conf_scan_free(struct conf_scan *sc)
{
	free(sc->services);
	free(sc->endpoints);
	*sc = (struct conf_scan) { 0 };
}

static int scan_push(struct conf_scan_header **v, size_t *n, unsigned line, size_t service)
{
	struct conf_scan_header *nv = reallocarray(*v, *n + 1, sizeof(**v));

	if (!nv)
		return -ENOMEM;
	nv[*n] = (struct conf_scan_header) { line, service };
	*v = nv;
	(*n)++;
	return 0;
}

/* What ends an unquoted word in libconfuse's lexer. */
static bool is_delim(char c)
{
	return c == '\0' || strchr(" #\"'\t\n\r={}()+,*", c) != NULL;
}

static size_t word_len(const char *p, size_t len)
{
	size_t n = 0;

	while (n < len && !is_delim(p[n]))
		n++;
	return n;
}

/* How many times c repeats at p; never reads past len (buf has no NUL at its end). */
static size_t run_of(const char *p, size_t len, char c)
{
	size_t n = 0;

	while (n < len && p[n] == c)
		n++;
	return n;
}

static bool tok_is(const struct token *t, const char *s)
{
	return t->kind == TOK_STR && t->len == strlen(s) && memcmp(t->text, s, t->len) == 0;
}

/* Skips "${NAME}" at p[i], as libconfuse substitutes it; 0 if there is none. */
static size_t skip_env(const char *p, size_t len, size_t i, unsigned *line)
{
	const char *close;

	if (i + 1 >= len || p[i] != '$' || p[i + 1] != '{')
		return 0;
	close = memchr(p + i + 2, '}', len - i - 2);
	if (!close)
		return 0;
	for (const char *q = p + i; q < close; q++)
		*line += *q == '\n';
	return (size_t)(close - p) + 1;
}

/*
 * Returns the index just past the string opened by the quote at p[i], or
 * len with *ret_closed false when no quote closes it.
 */
static size_t skip_string(const char *p, size_t len, size_t i, unsigned *line, bool *ret_closed)
{
	char quote = p[i];

	*ret_closed = true;

	for (i++; i < len; i++) {
		size_t env;

		if (p[i] == '\\' && i + 1 < len) {
			i++;
			*line += p[i] == '\n';
		} else if (p[i] == quote) {
			return i + 1;
		} else if (p[i] == '\n') {
			(*line)++;
		} else if (quote == '"' && (env = skip_env(p, len, i, line)) > 0) {
			i = env - 1;
		}
	}
	*ret_closed = false;
	return len;
}

/*
 * A string the lexer would take to the end of the file swallows every '}'
 * after it: what is missing is a quote, not a brace.  Notes where it
 * begins, and where the first string running over a line end begins,
 * where a quote left out is most likely missing.
 */
static void note_string(struct conf_scan *sc, const struct token *t, char quote, bool closed,
			unsigned end_line)
{
	if (!closed && !sc->open_string_line) {
		sc->open_string_line = t->line;
		sc->open_string_quote = quote;
	}
	if (end_line > t->line && !sc->multiline_string_line) {
		sc->multiline_string_line = t->line;
		sc->multiline_string_quote = quote;
	}
}

/* Blanks a comment from p[i] up to end (exclusive), keeping its newlines. */
static void blank(char *p, size_t i, size_t end, unsigned *line)
{
	for (; i < end; i++) {
		if (p[i] == '\n')
			(*line)++;
		else
			p[i] = ' ';
	}
}

static int scan_token(struct conf_scan *sc, const struct token *t, const struct token prev[2],
		      unsigned *depth)
{
	int r = 0;

	switch (t->kind) {
	case TOK_OPEN:
		if (*depth == 0)
			sc->open_line = t->line;
		if (prev[0].kind == TOK_STR && prev[1].kind == TOK_STR) {
			if (*depth == 0 && tok_is(&prev[1], "service"))
				r = scan_push(&sc->services, &sc->n_services, prev[1].line, 0);
			else if (*depth == 1 && sc->n_services > 0 && tok_is(&prev[1], "endpoint"))
				r = scan_push(&sc->endpoints, &sc->n_endpoints, prev[1].line,
					      sc->n_services - 1);
		}
		(*depth)++;
		break;
	case TOK_CLOSE:
		if (*depth > 0)
			(*depth)--;
		break;
	case TOK_EQ:
		if (*depth == 0 && tok_is(&prev[0], "warn-days"))
			sc->warn_days_line = prev[0].line;
		if (*depth == 0 && tok_is(&prev[0], "crit-days"))
			sc->crit_days_line = prev[0].line;
		if (*depth == 0 && tok_is(&prev[0], "include-dir"))
			sc->include_dir_line = prev[0].line;
		if (*depth == 0 && tok_is(&prev[0], "metrics-file"))
			sc->metrics_file_line = prev[0].line;
		break;
	default:
		break;
	}
	return r;
}

/*
 * If a comment starts at buf[i], blanks it and returns the index past it;
 * 0 otherwise.  The rules of libconfuse 3.3's lexer.l: "#" or a run of "/"
 * (unless the word it starts is longer) to the end of the line, and "/" "*"
 * to "*" "/" or the end of the file.
 */
static size_t blank_comment(char *buf, size_t len, size_t i, unsigned *line)
{
	size_t end = len;

	if (buf[i] == '#' || (buf[i] == '/' && i + 1 < len && buf[i + 1] == '/' &&
			      word_len(buf + i, len - i) == run_of(buf + i, len - i, '/'))) {
		const char *nl = memchr(buf + i, '\n', len - i);

		if (nl)
			end = (size_t)(nl - buf);
	} else if (buf[i] == '/' && i + 1 < len && buf[i + 1] == '*') {
		for (size_t j = i + 2; j + 1 < len; j++)
			if (buf[j] == '*' && buf[j + 1] == '/') {
				end = j + 2;
				break;
			}
	} else
		return 0;
	blank(buf, i, end, line);
	return end;
}

/* Blanks every comment in buf and notes where sections begin. */
int conf_scan_config(char *buf, size_t len, struct conf_scan *ret)
{
	struct token prev[2] = { { TOK_NONE, NULL, 0, 0 }, { TOK_NONE, NULL, 0, 0 } };
	struct conf_scan sc = { 0 };
	unsigned line = 1, depth = 0;
	size_t i = 0;
	int r = 0;

	while (i < len) {
		struct token t = { TOK_OTHER, buf + i, 1, line };
		char c = buf[i];
		size_t end, n;

		if (c == '\n' || c == ' ' || c == '\t' || c == '\r' || c == '*' ||
		    (c == '+' && (i + 1 >= len || buf[i + 1] != '='))) {
			line += c == '\n';
			i++;
			continue;
		}
		if ((end = blank_comment(buf, len, i, &line)) > 0) {
			i = end;
			continue;
		}
		if (c == '"' || c == '\'') {
			bool closed;

			end = skip_string(buf, len, i, &line, &closed);
			t = (struct token) { TOK_STR, buf + i + 1, end - i - 1 - closed, t.line };
			note_string(&sc, &t, c, closed, line);
		} else if ((end = skip_env(buf, len, i, &line)) > 0) {
			t = (struct token) { TOK_STR, buf + i, end - i, t.line };
		} else if (c == '{' || c == '}' || c == '=' || c == '+') {
			t.kind = c == '{' ? TOK_OPEN : c == '}' ? TOK_CLOSE : TOK_EQ;
			end = i + (c == '+' ? 2 : 1);
		} else if (c == '(' || c == ')' || c == ',' || c == '\0') {
			/*
			 * A NUL ends a word but starts none: it is a token of its
			 * own, or the scan would stand still on it.  The loader
			 * refuses NUL bytes; the scanner does not rely on that.
			 */
			end = i + 1;
		} else {
			n = word_len(buf + i, len - i);
			t = (struct token) { TOK_STR, buf + i, n, t.line };
			end = i + n;
		}
		r = scan_token(&sc, &t, prev, &depth);
		if (r < 0)
			goto out;
		prev[1] = prev[0];
		prev[0] = t;
		i = end;
	}
	/* libconfuse 3.3 takes the end of the file as the end of an open section. */
	if (depth > 0)
		sc.unclosed_line = sc.open_line;
	*ret = sc;
	sc = (struct conf_scan) { 0 };
out:
	conf_scan_free(&sc);
	return r;
}

/*
 * A string left open takes the rest of the file, braces and all: the
 * quote is what is missing.  Where a string before it runs over a line
 * end, the quote is most likely missing there, at the end of its line.
 */
void conf_scan_report_open_string(const struct conf_scan *sc, struct conf_errors *e,
				  const char *file)
{
	if (sc->multiline_string_line && sc->multiline_string_line < sc->open_string_line)
		conf_error(e, -EINVAL, file, sc->multiline_string_line, "the string that "
			   "begins here runs over the end of its line, and the one that begins "
			   "at line %u is still open at the end of the file: a closing quote (%c) "
			   "is missing, most likely at the end of this line",
			   sc->open_string_line, sc->multiline_string_quote);
	else
		conf_error(e, -EINVAL, file, sc->open_string_line, "the string that begins "
			   "here is not closed: a closing quote (%c) is missing before the end of "
			   "the file", sc->open_string_quote);
}
