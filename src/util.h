/*
 * util.h - the few helpers every module shares: cleanup attributes, time,
 * escaping of untrusted bytes, hex fingerprints and duration parsing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define USEC_PER_SEC  UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) { free(*(void **)p); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_  _cleanup_(closep)

/* Monotonic and wall clocks, in microseconds. */
uint64_t now_monotonic_usec(void);
uint64_t now_realtime_usec(void);

/*
 * The clock of the daemon's timers and deadlines: CLOCK_BOOTTIME, which no
 * step of the wall clock moves and which goes on during a suspend, shifted
 * by BOOT_CLOCK_OFFSET_USEC so that a moment up to a day before this boot
 * is still a positive time (a reload history carried across a reboot).
 * sd-event's CLOCK_BOOTTIME sources take at - BOOT_CLOCK_OFFSET_USEC.
 */
#define BOOT_CLOCK_OFFSET_USEC (UINT64_C(86400) * USEC_PER_SEC)
uint64_t now_boot_usec(void);

/*
 * Writes a printable rendering of untrusted bytes into out (always
 * NUL-terminated, at most outlen-1 bytes): printable ASCII as is, \r \n \t "
 * and \\ and others as C escapes, and "..." when the input did not fit.
 */
void escape_bytes(const void *in, size_t inlen, char *out, size_t outlen);

/*
 * The same for a line of text shown as it is, not quoted (a command's
 * output in the log): quotes and backslashes kept, only control bytes and
 * bytes outside ASCII escaped.
 */
void escape_text(const void *in, size_t inlen, char *out, size_t outlen);

/*
 * FNV-1a, 64 bits: n bytes at p folded into h (start from FNV1A_OFFSET).
 * A digest to tell records apart cheaply, not one an adversary cannot
 * collide: keys of caches and of "has this changed" only.
 */
#define FNV1A_OFFSET UINT64_C(0xcbf29ce484222325)
uint64_t fnv1a(uint64_t h, const void *p, size_t n);

/* Hex of a SHA-256 digest: 64 lowercase digits and a NUL. */
#define SHA256_LEN     32
#define SHA256_HEX_LEN (SHA256_LEN * 2 + 1)
void sha256_to_hex(const uint8_t digest[SHA256_LEN], char out[SHA256_HEX_LEN]);

/* The short form people are shown: the first 12 hex digits and a NUL. */
#define SHA256_SHORT_HEX_LEN 13
void sha256_to_short_hex(const uint8_t digest[SHA256_LEN], char out[SHA256_SHORT_HEX_LEN]);

/*
 * Parses a duration: a non-negative integer followed by an optional unit
 * (ms, s, m, h, d; no unit means seconds), for example "500ms", "2s", "1h".
 * Returns 0 and sets *ret_usec, or -EINVAL / -ERANGE.
 */
int parse_duration(const char *s, uint64_t *ret_usec);

/*
 * Replaces path atomically: writes through write() into a temporary file
 * beside it (the same file system), with mode, fsyncs it and renames it
 * over path.  A reader sees the old file or the new one, never a part.
 * Returns 0 or a negative errno; the temporary file is gone either way.
 */
int write_file_atomic(const char *path, mode_t mode,
		      void (*write)(FILE *f, const void *data), const void *data);

/*
 * Opens path for reading so that the open can never block: with
 * O_NONBLOCK (a FIFO nobody writes to would otherwise hang the caller
 * forever), then refuses anything that is not a regular file, then clears
 * O_NONBLOCK again.  extra_flags are or-ed in (O_NOFOLLOW, say); O_RDONLY,
 * O_CLOEXEC and O_NOCTTY are always set.  What fstat() said of the file
 * goes to *ret_st when ret_st is not NULL.  Returns the descriptor, or
 * -EISDIR for a directory, -ENXIO for a FIFO, socket or device (see
 * file_type_name() for the message), or the open's negative errno.
 */
int open_regular(const char *path, int extra_flags, struct stat *ret_st);

/* "a FIFO", "a directory", "a socket", ... for the type bits of st_mode. */
const char *file_type_name(mode_t mode);
/*
 * What open_regular() refused at path (-EISDIR, -ENXIO), for a message:
 * file_type_name() of what stands there now, or "something else" when
 * that cannot be told (it changed since, or it is gone).
 */
const char *path_type_name(const char *path);

/*
 * Why s is no host name as certificates and SNI carry them, in words that
 * follow the value ("is in Unicode: ..."); NULL when nothing says so.  A
 * name in Unicode is written in certificates and sent as SNI as its
 * A-label ("xn--..."); a wildcard is a pattern that covers names, not one
 * to send.  Other characters are the caller's to judge.
 */
const char *host_name_problem(const char *s);

/* The index of s in names[0..n), or -EINVAL: the names of an enum, read back. */
int name_index(const char *const *names, size_t n, const char *s);

/* Formats a duration the way parse_duration() reads it, e.g. "90s", "1h". */
void format_duration(uint64_t usec, char *out, size_t outlen);
