/*
 * fuzz-starttls.c - libFuzzer harness for the STARTTLS drivers: arbitrary
 * server bytes, cut into arbitrary reads, are fed to every driver through
 * starttls_feed() the way the probe engine does (unconsumed bytes are fed
 * again with the next read).  It aborts when a driver breaks its contract:
 * consuming more than it was given, queueing more than STARTTLS_MAX_OUT,
 * leaving bytes after READY, failing without a printable detail.
 *
 * The first two input bytes seed the read sizes; the rest is the server.
 * FUZZ_STARTTLS_DRIVER=name restricts the run to one driver.  make check
 * replays tests/corpus/starttls (real servers' sides of the dialogue, and
 * what once broke a driver); how to fuzz: tests/fuzz-replay.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "starttls.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void run(int proto, const uint8_t *data, size_t size, uint32_t seed)
{
	static uint8_t buf[STARTTLS_MAX_PREAMBLE + 512];
	struct starttls_session s;
	enum starttls_result r;
	size_t len = 0, off = 0, used;

	starttls_session_init(&s, proto, "mail.example.com", "probe.example.net");
	r = starttls_feed(&s, NULL, 0, &used);
	for (;;) {
		check(r < _STARTTLS_RESULT_MAX && used <= len);
		check(s.out_len <= STARTTLS_MAX_OUT && s.received <= STARTTLS_MAX_PREAMBLE);
		if (r != STARTTLS_CONTINUE)
			break;
		memmove(buf, buf + used, len - used);
		len -= used;
		s.out_len = 0;
		if (off == size)
			return;
		/* A read of 1 to 256 bytes, as the seed's sequence says. */
		seed = seed * 1103515245u + 12345u;
		size_t n = 1 + (seed >> 16) % 256;
		if (n > size - off)
			n = size - off;
		if (n > sizeof(buf) - len)
			n = sizeof(buf) - len;
		memcpy(buf + len, data + off, n);
		len += n;
		off += n;
		r = starttls_feed(&s, buf, len, &used);
	}
	if (r == STARTTLS_READY) {
		check(used == len);
		return;
	}
	check(memchr(s.detail, '\0', sizeof(s.detail)) != NULL && s.detail[0] != '\0');
	for (const char *p = s.detail; *p; p++)
		check(*p >= 0x20 && *p < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int only = -2;
	uint32_t seed;

	if (only == -2) {
		const char *name = getenv("FUZZ_STARTTLS_DRIVER");

		only = name ? starttls_lookup(name) : -1;
	}
	if (size < 2)
		return 0;
	seed = (uint32_t)data[0] << 8 | data[1];
	for (size_t i = 0; i < starttls_n_drivers; i++)
		if (only < 0 || (size_t)only == i)
			run((int)i, data + 2, size - 2, seed);
	return 0;
}
