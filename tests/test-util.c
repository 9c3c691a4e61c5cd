/*
 * test-util.c - durations, escaping of untrusted bytes, hex fingerprints,
 * opening files that can never block, and messages sized to what they say.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "hostname.h"
#include "msg.h"
#include "tap.h"
#include "util.h"

static void durations(void)
{
	static const struct {
		const char *in;
		int r;
		uint64_t usec;
	} rows[] = {
		{ "2s", 0, 2 * USEC_PER_SEC },
		{ "2", 0, 2 * USEC_PER_SEC },
		{ "500ms", 0, 500 * USEC_PER_MSEC },
		{ "5m", 0, 300 * USEC_PER_SEC },
		{ "1h", 0, 3600 * USEC_PER_SEC },
		{ "1d", 0, 86400 * USEC_PER_SEC },
		{ "0s", 0, 0 },
		{ "", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "2 s", -EINVAL, 0 },
		{ "-1s", -EINVAL, 0 },
		{ "1w", -EINVAL, 0 },
		{ "99999999999999999999s", -ERANGE, 0 },
		{ "9999999999999999d", -ERANGE, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
		uint64_t v = 12345;
		int r = parse_duration(rows[i].in, &v);

		ok(r == rows[i].r && (r < 0 ? v == 12345 : v == rows[i].usec),
		   "parse_duration(\"%s\") = %d", rows[i].in, rows[i].r);
	}
}

static void duration_round_trip(void)
{
	static const uint64_t values[] = {
		0, 500 * USEC_PER_MSEC, 2 * USEC_PER_SEC, 90 * USEC_PER_SEC,
		3600 * USEC_PER_SEC, 86400 * USEC_PER_SEC, 1500 * USEC_PER_MSEC,
	};

	for (size_t i = 0; i < ELEMENTSOF(values); i++) {
		char buf[32];
		uint64_t back = 1;

		format_duration(values[i], buf, sizeof(buf));
		ok(parse_duration(buf, &back) == 0 && back == values[i],
		   "format_duration then parse_duration keeps %llu us (\"%s\")",
		   (unsigned long long)values[i], buf);
	}
}

static void escaping(void)
{
	char out[16];

	escape_bytes("abc", 3, out, sizeof(out));
	is_str(out, "abc", "printable bytes are kept");
	escape_bytes("a\r\n\x01\\", 5, out, sizeof(out));
	is_str(out, "a\\r\\n\\x01\\\\", "control bytes and backslashes are escaped");
	escape_bytes("say \"hi\"", 8, out, sizeof(out));
	is_str(out, "say \\\"hi\\\"", "double quotes are escaped, so quoted peer text is unambiguous");
	escape_bytes("a\0b", 3, out, sizeof(out));
	is_str(out, "a\\x00b", "a NUL byte is shown, not a terminator");
	escape_bytes("0123456789abcdefghij", 20, out, sizeof(out));
	is_str(out, "0123456789ab...", "long input is cut with an ellipsis within the buffer");
	ok(strlen(out) == sizeof(out) - 1, "the cut output fills the buffer exactly");
	escape_bytes("\xff\xff\xff\xff\xff", 5, out, 8);
	is_str(out, "\\xff...", "escapes are never cut in the middle");
	escape_bytes("0123456789abcde", 15, out, sizeof(out));
	is_str(out, "0123456789abcde", "input that fits exactly is not cut");
}

/* A command's output line in the log reads as it was written. */
static void escaping_text_keeps_quotes(void)
{
	char out[64];

	escape_text("the file \"/x\" is ok \\o/", 23, out, sizeof(out));
	is_str(out, "the file \"/x\" is ok \\o/", "text keeps its quotes and backslashes");
	escape_text("a\tb\x1b[2J\xc3", 8, out, sizeof(out));
	is_str(out, "a\\tb\\x1b[2J\\xc3", "and escapes control bytes and bytes outside ASCII");
}

static void hex(void)
{
	uint8_t d[SHA256_LEN];
	char h[SHA256_HEX_LEN];

	for (size_t i = 0; i < SHA256_LEN; i++)
		d[i] = (uint8_t)(i * 8 + 1);
	sha256_to_hex(d, h);
	is_str(h, "0109111921293139414951596169717981899199a1a9b1b9c1c9d1d9e1e9f1f9",
	       "sha256_to_hex writes 64 lowercase digits");
}

/*
 * A FIFO nobody writes to, a directory and a socket are refused at once
 * (a plain open() of the FIFO would block forever); a regular file opens
 * in blocking mode.
 */
static void regular_files(void)
{
	char dir[] = "/tmp/test-util.XXXXXX", path[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, sock;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ok(mkfifo(path, 0600) == 0 && open_regular(path, 0, NULL) == -ENXIO,
	   "a FIFO without a writer is refused without blocking");
	ok(strcmp(file_type_name(S_IFIFO), "a FIFO") == 0, "and named a FIFO");
	unlink(path);
	ok(open_regular(dir, 0, NULL) == -EISDIR, "a directory is refused");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	ok(sock >= 0 && bind(sock, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	   open_regular(sa.sun_path, 0, NULL) == -ENXIO, "a socket is refused");
	if (sock >= 0)
		close(sock);
	unlink(sa.sun_path);
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	fd = open_regular(path, 0, NULL);
	ok(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK), "a regular file opens, blocking");
	if (fd >= 0)
		close(fd);
	ok(open_regular(path, O_DIRECTORY, NULL) == -ENOTDIR, "extra flags are passed on");
	unlink(path);
	ok(open_regular(path, 0, NULL) == -ENOENT, "a missing file is -ENOENT");
	rmdir(dir);
}

/* The default EHLO name: fully qualified, made of host-name characters only. */
static void hostnames(void)
{
	static const struct {
		const char *node, *canonical, *want;
	} cases[] = {
		{ "mx1.example.com", "other.example.net", "mx1.example.com" },
		{ "mx1", "mx1.example.com", "mx1.example.com" },
		{ "mx1", NULL, "mx1.localdomain" },
		{ "mx1", "mx1", "mx1.localdomain" },
		{ "mx1", "mx1.", "mx1.localdomain" },
		{ "mx1.", NULL, "localhost.localdomain" },
		{ "", NULL, "localhost.localdomain" },
		{ NULL, NULL, "localhost.localdomain" },
		{ "mx 1", "mx1.example.com evil", "localhost.localdomain" },
		{ "-x", NULL, "localhost.localdomain" },
	};
	char out[HOSTNAME_MAX + 1];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char what[128];

		snprintf(what, sizeof(what), "host name \"%s\", canonical \"%s\": the EHLO name is %s",
			 cases[i].node ? cases[i].node : "", cases[i].canonical ? cases[i].canonical : "",
			 cases[i].want);
		hostname_choose(cases[i].node, cases[i].canonical, out);
		is_str(out, cases[i].want, "%s", what);
	}
	ok(strchr(hostname_fqdn(), '.') != NULL, "this host's own name has a dot: %s",
	   hostname_fqdn());
}

static void messages(void)
{
	char *m = NULL;

	ok(msg_set(&m, 16, "%s", "") == 0 && m == NULL, "an empty message is no allocation");
	is_str(msg_text(m), "", "no message reads as \"\"");
	msg_set(&m, 16, "%s %d", "it is", 42);
	is_str(m, "it is 42", "a message is formatted");
	msg_set(&m, 16, "(%s)", m);
	is_str(m, "(it is 42)", "a message may be formatted from itself");
	msg_append(&m, 16, "; %s", "and more");
	is_str(m, "(it is 42); and", "an appended message is cut where its buffer was (15 bytes)");
	msg_append(&m, 16, "%s", "x");
	is_str(m, "(it is 42); and", "nothing is appended to a full message");
	msg_set(&m, 8, "0123456789");
	is_str(m, "0123456", "a message is cut to room - 1 bytes, as snprintf() cuts");
	msg_clear(&m);
	ok(m == NULL, "a cleared message is NULL");
	msg_append(&m, 16, "%s", "first");
	is_str(m, "first", "appending to no message starts one");
	msg_clear(&m);
}

int main(void)
{
	durations();
	duration_round_trip();
	escaping();
	escaping_text_keeps_quotes();
	hex();
	regular_files();
	hostnames();
	messages();
	return tap_done();
}
