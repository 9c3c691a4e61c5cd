/*
 * fdlimit.c - certwatch's own file descriptors; see fdlimit.h.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/resource.h>

#include "fdlimit.h"

static struct rlimit started;     /* as certwatch was started; rlim_cur 0: not raised */

void fdlimit_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	started = rl;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		started.rlim_cur = 0;
}

void fdlimit_restore(void)
{
	if (started.rlim_cur > 0)
		(void)setrlimit(RLIMIT_NOFILE, &started);
}

/* Descriptors open now, or 0 when /proc cannot say. */
static unsigned open_now(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n > 3 ? n - 3 : 0;   /* ".", "..", and the directory's own */
}

unsigned fdlimit_probes(unsigned wanted, char *why, size_t len)
{
	struct rlimit rl;
	rlim_t used = open_now() + FDLIMIT_RESERVE, room;

	why[0] = '\0';
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return wanted;
	room = rl.rlim_cur > used ? rl.rlim_cur - used : 1;
	if (room >= wanted)
		return wanted;
	snprintf(why, len, "at most %llu probes run at once, not max-probes = %u: the limit of "
		 "open files is %llu (hard limit %llu) and %llu are kept for the rest; raise it "
		 "(LimitNOFILE= in the unit, ulimit -n) or lower max-probes",
		 (unsigned long long)room, wanted, (unsigned long long)rl.rlim_cur,
		 (unsigned long long)rl.rlim_max, (unsigned long long)used);
	return (unsigned)room;
}
