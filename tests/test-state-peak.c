/*
 * test-state-peak.c - the memory a save of the daemon's state writer
 * takes beyond the state it writes: the pass that changes every record of
 * 10,000 endpoints must not build their text in memory (megabytes, at the
 * moment the daemon's memory peaks) to find it too large to append.
 *
 * The program replaces malloc, calloc, realloc and free (as glibc allows)
 * to count the bytes in use and their peak; under AddressSanitizer, whose
 * allocator cannot be replaced, it skips.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "tap.h"

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#else
#define COUNTING 1

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static size_t in_use, peak;

static void *counted(void *p)
{
	if (p) {
		in_use += malloc_usable_size(p);
		if (in_use > peak)
			peak = in_use;
	}
	return p;
}

void *malloc(size_t n)
{
	return counted(__libc_malloc(n));
}

void *calloc(size_t n, size_t size)
{
	return counted(__libc_calloc(n, size));
}

void *realloc(void *p, size_t n)
{
	size_t was = p ? malloc_usable_size(p) : 0;
	void *q = __libc_realloc(p, n);

	if (!q && n)
		return NULL;          /* p is left as it was */
	in_use -= was;
	return counted(q);
}

void free(void *p)
{
	if (p)
		in_use -= malloc_usable_size(p);
	__libc_free(p);
}
#endif

static char dir[] = "/tmp/certwatch-test-state-peak.XXXXXX";

/* The most bytes in use above those in use before, over a save of s. */
static size_t save_peak(struct state_writer *w, const struct state *s, const size_t *some,
			size_t n_some, int *ret)
{
#if COUNTING
	size_t before = in_use;

	peak = in_use;
	*ret = some ? state_writer_save_some(w, s, some, n_some) : state_writer_save(w, s);
	return peak - before;
#else
	*ret = some ? state_writer_save_some(w, s, some, n_some) : state_writer_save(w, s);
	return 0;
#endif
}

int main(void)
{
	enum { N = 10000 };
	struct state_endpoint *eps = calloc(N, sizeof(*eps));
	char (*names)[16] = calloc(N, sizeof(*names));
	size_t *all = calloc(N, sizeof(*all));
	struct state s = { .pid = 7, .endpoints = eps, .n_endpoints = N }, back;
	struct state_writer *w;
	unsigned long appends, wholes;
	size_t most;
	struct stat st;
	char path[256], err[256];
	int r;

	if (!COUNTING) {
		printf("1..0 # SKIP the allocator of AddressSanitizer cannot be counted\n");
		return 0;
	}
	if (!mkdtemp(dir) || !eps || !names || !all)
		return 1;
	snprintf(path, sizeof(path), "%s/state", dir);
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "vh%zu", i);
		eps[i].service = (char *)"bench";
		eps[i].endpoint = names[i];
		snprintf(eps[i].state, sizeof(eps[i].state), "PENDING");
		eps[i].reason = (char *)"not probed yet";
		all[i] = i;
	}
	w = state_writer_new(dir);
	r = w ? state_writer_save(w, &s) : -ENOMEM;
	if (r == 0 && stat(path, &st) < 0)
		r = -errno;
	ok(r == 0, "the first save writes the file whole (%lld bytes)",
	   (long long)st.st_size);

	/* The end of a first pass: every record changes, its text longer. */
	for (size_t i = 0; i < N; i++) {
		snprintf(eps[i].state, sizeof(eps[i].state), "OK");
		snprintf(eps[i].served, sizeof(eps[i].served), "%064zx", i);
		snprintf(eps[i].disk, sizeof(eps[i].disk), "%064zx", i);
		eps[i].reason = (char *)"the service serves the certificate on disk";
	}
	most = save_peak(w, &s, all, N, &r);
	state_writer_counts(w, &appends, &wholes);
	ok(r == 0 && appends == 0 && wholes == 2,
	   "a change of every record is written whole, not appended");
	ok(most < 256 * 1024, "it took %zu bytes beyond the state (the file is %lld): "
	   "less than 256 KiB", most, (long long)st.st_size);

	/* A renewal: two records change, appended. */
	snprintf(eps[17].state, sizeof(eps[17].state), "STALE");
	snprintf(eps[9001].state, sizeof(eps[9001].state), "STALE");
	most = save_peak(w, &s, (size_t[]) { 17, 9001 }, 2, &r);
	state_writer_counts(w, &appends, &wholes);
	ok(r == 0 && appends == 1 && wholes == 2, "a change of two records is appended");
	ok(most < 128 * 1024, "it took %zu bytes: less than 128 KiB", most);
	ok(state_load(dir, &back, err, sizeof(err)) == 0 && back.n_endpoints == N &&
	   strcmp(state_find_endpoint(&back, "bench", "vh9001")->state, "STALE") == 0 &&
	   strcmp(state_find_endpoint(&back, "bench", "vh9002")->state, "OK") == 0,
	   "the file reads back with both changes and the rest");
	state_done(&back);

	state_writer_free(w);
	unlink(path);
	rmdir(dir);
	free(eps);
	free(names);
	free(all);
	return tap_done();
}
