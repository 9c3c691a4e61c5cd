/*
 * util.c - shared helpers; see util.h.  Nothing here prints or allocates
 * behind the caller's back.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

uint64_t now_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_boot_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000 +
		BOOT_CLOCK_OFFSET_USEC;
}

/*
 * The escaped form of one byte; returns its length (1 to 4).  Text (a
 * command's output line for the log) keeps its quotes and backslashes.
 */
static size_t escape_one(unsigned char c, bool text, char tmp[4])
{
	static const char hex[] = "0123456789abcdef";

	if (text && (c == '"' || c == '\\')) {
		tmp[0] = (char)c;
		return 1;
	}
	switch (c) {
	case '\\': memcpy(tmp, "\\\\", 2); return 2;
	case '\r':  memcpy(tmp, "\\r", 2); return 2;
	case '\n':  memcpy(tmp, "\\n", 2); return 2;
	case '\t':  memcpy(tmp, "\\t", 2); return 2;
	case '"':   memcpy(tmp, "\\\"", 2); return 2;   /* quoted text stays unambiguous */
	}
	if (c >= 0x20 && c < 0x7f) {
		tmp[0] = (char)c;
		return 1;
	}
	tmp[0] = '\\';
	tmp[1] = 'x';
	tmp[2] = hex[c >> 4];
	tmp[3] = hex[c & 15];
	return 4;
}

static void escape_into(const void *in, size_t inlen, bool text, char *out, size_t outlen)
{
	const unsigned char *p = in;
	size_t o = 0, total = 0, room;
	char tmp[4];

	if (outlen == 0)
		return;
	for (size_t i = 0; i < inlen && total < outlen; i++)
		total += escape_one(p[i], text, tmp);
	/* When it does not all fit, keep room for "..." (if there is any). */
	room = total < outlen ? outlen - 1 : (outlen >= 4 ? outlen - 4 : outlen - 1);
	for (size_t i = 0; i < inlen; i++) {
		size_t n = escape_one(p[i], text, tmp);

		if (o + n > room)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	if (total >= outlen && outlen >= 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

void escape_bytes(const void *in, size_t inlen, char *out, size_t outlen)
{
	escape_into(in, inlen, false, out, outlen);
}

void escape_text(const void *in, size_t inlen, char *out, size_t outlen)
{
	escape_into(in, inlen, true, out, outlen);
}

uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	for (const unsigned char *b = p; n > 0; n--, b++)
		h = (h ^ *b) * UINT64_C(0x100000001b3);
	return h;
}

void sha256_to_hex(const uint8_t digest[SHA256_LEN], char out[SHA256_HEX_LEN])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[SHA256_HEX_LEN - 1] = '\0';
}

void sha256_to_short_hex(const uint8_t digest[SHA256_LEN], char out[SHA256_SHORT_HEX_LEN])
{
	char hex[SHA256_HEX_LEN];

	sha256_to_hex(digest, hex);
	memcpy(out, hex, SHA256_SHORT_HEX_LEN - 1);
	out[SHA256_SHORT_HEX_LEN - 1] = '\0';
}

static const struct {
	const char *suffix;
	uint64_t usec;
} duration_units[] = {
	{ "ms", USEC_PER_MSEC },
	{ "s",  USEC_PER_SEC },
	{ "",   USEC_PER_SEC },
	{ "m",  60 * USEC_PER_SEC },
	{ "h",  3600 * USEC_PER_SEC },
	{ "d",  86400 * USEC_PER_SEC },
};

int parse_duration(const char *s, uint64_t *ret_usec)
{
	uint64_t n = 0;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	for (size_t i = 0; i < ELEMENTSOF(duration_units); i++) {
		if (strcmp(p, duration_units[i].suffix) != 0)
			continue;
		if (n > UINT64_MAX / duration_units[i].usec)
			return -ERANGE;
		*ret_usec = n * duration_units[i].usec;
		return 0;
	}
	return -EINVAL;
}

int write_file_atomic(const char *path, mode_t mode,
		      void (*write)(FILE *f, const void *data), const void *data)
{
	const char *slash = strrchr(path, '/');
	char tmp[PATH_MAX];
	FILE *f;
	int fd, r = 0;

	/* ".NAME.<six random characters>" beside NAME, and no suffix a reader would take. */
	if (!slash || (size_t)snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX", (int)(slash - path),
				       path, slash + 1) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0 || !(f = fdopen(fd, "w"))) {
		r = -errno;
		close(fd);
		goto out;
	}
	errno = 0;
	write(f, data);
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
		r = errno ? -errno : -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
out:
	if (r < 0)
		unlink(tmp);
	return r;
}

void format_duration(uint64_t usec, char *out, size_t outlen)
{
	/* The largest unit that divides the value exactly. */
	for (size_t i = ELEMENTSOF(duration_units); i-- > 0;) {
		uint64_t u = duration_units[i].usec;

		if (duration_units[i].suffix[0] == '\0')
			continue;
		if (usec % u == 0 && (usec > 0 || u == USEC_PER_SEC)) {
			snprintf(out, outlen, "%" PRIu64 "%s", usec / u, duration_units[i].suffix);
			return;
		}
	}
	snprintf(out, outlen, "%" PRIu64 "ms", usec / USEC_PER_MSEC);
}

int open_regular(const char *path, int extra_flags, struct stat *ret_st)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | extra_flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -ENXIO;
		goto fail;
	}
	/* Of the flags F_SETFL changes, the open set O_NONBLOCK alone. */
	if (fcntl(fd, F_SETFL, 0) < 0) {
		r = -errno;
		goto fail;
	}
	if (ret_st)
		*ret_st = st;
	return fd;
fail:
	close(fd);
	return r;
}

const char *file_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:  return "a regular file";
	case S_IFDIR:  return "a directory";
	case S_IFIFO:  return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFCHR:  return "a character device";
	case S_IFBLK:  return "a block device";
	case S_IFLNK:  return "a symbolic link";
	default:       return "not a regular file";
	}
}

const char *path_type_name(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || S_ISREG(st.st_mode))
		return "something else";
	return file_type_name(st.st_mode);
}

const char *host_name_problem(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		if (*p >= 0x80)
			return "is in Unicode: write its A-label (\"xn--...\", as idn2 prints it), the "
			       "form certificates and SNI carry";
	if (s && strchr(s, '*'))
		return "is a wildcard: write a name it covers, such as \"www.example.com\" for "
		       "\"*.example.com\"";
	return NULL;
}

int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (names[i] && strcmp(s, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}
