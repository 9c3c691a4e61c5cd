/*
 * fakeclock.c - a test seam for the wall clock of one process, loaded with
 * LD_PRELOAD: CLOCK_REALTIME (clock_gettime), time() and gettimeofday() are
 * moved by the number of seconds in the file named by $FAKECLOCK_FILE,
 * read again at every call, so a test can step the clock of a running
 * daemon back and forth.  Every other clock, and every timer, is the
 * kernel's: libfaketime, which would do the first part, also moves the
 * deadlines of timerfd timers on CLOCK_BOOTTIME, which is exactly what the
 * tests must see untouched.  Nothing kernel-wide is changed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int clock_gettime(clockid_t id, struct timespec *ts);
time_t time(time_t *t);
int gettimeofday(struct timeval *restrict tv, void *restrict tz);

static long offset_seconds(void)
{
	const char *path = getenv("FAKECLOCK_FILE");
	char buf[32];
	ssize_t n;
	int fd;

	if (!path || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static int real_clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);

	if (!real)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	return real(id, ts);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	int r = real_clock_gettime(id, ts);

	if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		ts->tv_sec += offset_seconds();
	return r;
}

time_t time(time_t *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void)tz;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (tv) {
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return 0;
}
