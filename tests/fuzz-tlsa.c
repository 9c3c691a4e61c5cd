/*
 * fuzz-tlsa.c - libFuzzer harness for the TLSA and pin parsers: what DNS
 * sends (RDATA) and what a configuration says (presentation form, pins).
 * The first input byte picks the parser, the rest is its input.  RDATA
 * that parses is matched against a chain made at start-up (every path of
 * tlsa_match_chain(), the DANE-TA key-from-record one included); text
 * that parses must print back to a record that parses to the same one.
 * It aborts when a contract breaks: a record with no data, a detail that
 * is not printable, a round trip that differs.
 *
 * make check replays tests/corpus/tlsa (a record of each usage, in both
 * forms, and pins); how to fuzz: tests/fuzz-replay.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki.h"
#include "tlsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_printable(const char *s)
{
	for (; *s; s++)
		check(*s >= 0x20 && *s < 0x7f);
}

static void fuzz_rdata(const uint8_t *data, size_t size)
{
	X509 *chains[][3] = { { leaf, inter, root }, { leaf_next, NULL, NULL },
			      { leaf_forged, inter, NULL } };
	size_t lens[] = { 3, 1, 2 };
	struct tlsa_record r;
	struct tlsa_match m;

	if (tlsa_record_from_rdata(data, size, &r) < 0)
		return;
	check(r.len > 0 && r.len == size - 3);
	for (size_t i = 0; i < ELEMENTSOF(chains); i++) {
		check(tlsa_match_chain(&r, 1, chains[i], lens[i], "mx.example.com", time(NULL), &m) == 0);
		check(m.status < _TLSA_MATCH_STATUS_MAX);
		check_printable(m.detail);
	}
	tlsa_record_done(&r);
}

static void fuzz_text(const char *text)
{
	struct tlsa_record r, again;
	char err[256] = "";
	char *printed = NULL;

	if (tlsa_record_parse(text, &r, err, sizeof(err)) < 0) {
		check(err[0] != '\0');
		check_printable(err);
		return;
	}
	check(r.len > 0);
	check(tlsa_record_to_text(&r, &printed) == 0);
	check(tlsa_record_parse(printed, &again, err, sizeof(err)) == 0);
	check(tlsa_record_equal(&r, &again));
	free(printed);
	tlsa_record_done(&r);
	tlsa_record_done(&again);
}

static void fuzz_pin(const char *text)
{
	struct tlsa_pin p;
	char err[256] = "", printed[TLSA_PIN_TEXT_LEN];

	if (tlsa_pin_parse(text, &p, err, sizeof(err)) < 0) {
		check_printable(err);
		return;
	}
	tlsa_pin_to_text(&p, printed);
	check(strcmp(printed, text) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char *text;

	if (!ready) {
		pki_make();
		atexit(pki_free);
		ready = 1;
	}
	if (size < 1)
		return 0;
	if (data[0] % 3 == 0) {
		fuzz_rdata(data + 1, size - 1);
		return 0;
	}
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] % 3 == 1)
		fuzz_text(text);
	else
		fuzz_pin(text);
	free(text);
	return 0;
}
