/*
 * msg.h - a human message kept by the struct it describes, sized to what
 * it says.  Every endpoint keeps several (a probe's detail, a pair's,
 * a verdict's reason) that are short or empty almost always: a buffer of
 * the longest each might be, per endpoint, was most of what a daemon of
 * thousands of endpoints held.
 *
 * A message is a char * its struct owns: NULL when there is nothing to
 * say (never ""), else a string on the heap that the struct's done
 * function frees.  A struct copied by value hands its messages over; the
 * copy it came from is forgotten, not freed.  Each message keeps the
 * bound of the buffer it used to be (room, the NUL included): a longer
 * one is cut there, as snprintf() cuts.  Out of memory, a message is
 * left whole or empty, never half written.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

/* The text of a message: "" for none, so that readers print and test it alike. */
static inline const char *msg_text(const char *msg)
{
	return msg ? msg : "";
}

/*
 * Replaces *msg with the formatted text (NULL when it is empty), cut to
 * room - 1 bytes.  The arguments may be *msg itself: it is freed after.
 * Returns 0, or -ENOMEM with *msg freed and NULL.
 */
__attribute__((format(printf, 3, 4)))
int msg_set(char **msg, size_t room, const char *fmt, ...);
__attribute__((format(printf, 3, 0)))
int msg_vset(char **msg, size_t room, const char *fmt, va_list ap);

/*
 * Appends the formatted text to *msg, the whole cut to room - 1 bytes.
 * Returns 0, or -ENOMEM with *msg as it was.
 */
__attribute__((format(printf, 3, 4)))
int msg_append(char **msg, size_t room, const char *fmt, ...);

/* Frees *msg and makes it NULL. */
void msg_clear(char **msg);
