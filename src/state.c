/*
 * state.c - the state file; see state.h.
 *
 * One record a line, "KIND key=value ...", every value percent-encoded
 * so that names and reasons can hold anything.  The reader and the writer
 * share one table of fields per record kind, so a field cannot be written
 * without being read back.  Unknown keys are ignored (an older certwatch
 * reads a newer file); a damaged line is an error with its number, and the
 * daemon then starts from a clean state.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "state.h"
#include "util.h"

#define STATE_MAX_LINE 8192
#define STATE_VERSION  "certwatch-state 1"
#define USEC_PER_HOUR  (3600 * USEC_PER_SEC)

enum field_type {
	FIELD_STRING,     /* char *, allocated */
	FIELD_BUFFER,     /* char[size] */
	FIELD_U64,
	FIELD_UINT,
	FIELD_BOOL,
	FIELD_I64,
	FIELD_RELOADS,    /* struct state_service's reload ring: one key per entry */
};

struct field {
	const char *key;
	enum field_type type;
	size_t offset, size;
	bool required;
};

#define F(rec, type, member, key, req) \
	{ key, type, offsetof(struct rec, member), sizeof(((struct rec *)0)->member), req }

static const struct field service_fields[] = {
	F(state_service, FIELD_STRING,  name,           "name",           true),
	F(state_service, FIELD_BUFFER,  phase,          "phase",          false),
	F(state_service, FIELD_UINT,    failures,       "failures",       false),
	F(state_service, FIELD_BOOL,    paused,         "paused",         false),
	F(state_service, FIELD_U64,     next_attempt,   "next_attempt",   false),
	F(state_service, FIELD_U64,     last_reload,    "last_reload",    false),
	F(state_service, FIELD_BOOL,    last_reload_ok, "last_reload_ok", false),
	F(state_service, FIELD_U64,     last_verified,  "last_verified",  false),
	F(state_service, FIELD_BUFFER,  last_result,    "last_result",    false),
	F(state_service, FIELD_BUFFER,  held,           "held",           false),
	F(state_service, FIELD_U64,     reloads_ok,     "reloads_ok",     false),
	F(state_service, FIELD_U64,     reloads_failed, "reloads_failed", false),
	F(state_service, FIELD_RELOADS, reloads,        "reload",         false),
};

static const struct field endpoint_fields[] = {
	F(state_endpoint, FIELD_STRING, service,          "service",          true),
	F(state_endpoint, FIELD_STRING, endpoint,         "name",             true),
	F(state_endpoint, FIELD_BUFFER, served,           "served",           false),
	F(state_endpoint, FIELD_BUFFER, disk,             "disk",             false),
	F(state_endpoint, FIELD_BUFFER, state,            "state",            false),
	F(state_endpoint, FIELD_BUFFER, severity,         "severity",         false),
	F(state_endpoint, FIELD_I64,    served_not_after, "served_not_after", false),
	F(state_endpoint, FIELD_STRING, reason,           "reason",           false),
};

/* The header lines: "KEY VALUE" each, fields of struct state. */
static const struct field header_fields[] = {
	F(state, FIELD_I64,    written,          "written",  false),
	F(state, FIELD_BUFFER, clock.boot_id,    "boot",     false),
	F(state, FIELD_U64,    clock.boottime,   "boottime", false),
	F(state, FIELD_U64,    clock.realtime,   "realtime", false),
};

#undef F

/* ---- writing ------------------------------------------------------------------ */

static void put_encoded(FILE *f, const char *value)
{
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p <= ' ' || *p == '%' || *p == '=' || *p >= 0x7f)
			fprintf(f, "%%%02X", *p);
		else
			fputc(*p, f);
	}
	if (!*value)
		fputs("%00", f);   /* an empty value still takes a token */
}

static void put_value(FILE *f, const struct field *fd, const void *rec)
{
	const char *p = (const char *)rec + fd->offset;

	switch (fd->type) {
	case FIELD_STRING:
		put_encoded(f, *(char *const *)p ? *(char *const *)p : "");
		break;
	case FIELD_BUFFER:
		put_encoded(f, p);
		break;
	case FIELD_U64:
		fprintf(f, "%" PRIu64, *(const uint64_t *)p);
		break;
	case FIELD_UINT:
		fprintf(f, "%u", *(const unsigned *)p);
		break;
	case FIELD_BOOL:
		fputc(*(const bool *)p ? '1' : '0', f);
		break;
	case FIELD_I64:
		fprintf(f, "%" PRId64, *(const int64_t *)p);
		break;
	case FIELD_RELOADS:
		break;   /* written by put_record, one key per entry */
	}
}

static void put_record(FILE *f, const char *kind, const struct field *fields, size_t n,
		       const void *rec)
{
	fputs(kind, f);
	for (size_t i = 0; i < n; i++) {
		if (fields[i].type == FIELD_RELOADS) {
			const struct state_service *s = rec;

			for (unsigned k = 0; k < s->n_reloads; k++)
				fprintf(f, " %s=%" PRIu64, fields[i].key, s->reloads[k]);
			continue;
		}
		fprintf(f, " %s=", fields[i].key);
		put_value(f, &fields[i], rec);
	}
	fputc('\n', f);
}

void state_write_header(FILE *f, const struct state *s)
{
	fprintf(f, "pid %ld\n", (long)s->pid);
	for (size_t i = 0; i < ELEMENTSOF(header_fields); i++) {
		fprintf(f, "%s ", header_fields[i].key);
		put_value(f, &header_fields[i], s);
		fputc('\n', f);
	}
}

void state_write_service(FILE *f, const struct state_service *rec)
{
	put_record(f, "service", service_fields, ELEMENTSOF(service_fields), rec);
}

void state_write_endpoint(FILE *f, const struct state_endpoint *rec)
{
	put_record(f, "endpoint", endpoint_fields, ELEMENTSOF(endpoint_fields), rec);
}

void state_write(FILE *f, const struct state *s)
{
	fprintf(f, "%s\n", STATE_VERSION);
	state_write_header(f, s);
	for (size_t i = 0; i < s->n_services; i++)
		state_write_service(f, &s->services[i]);
	for (size_t i = 0; i < s->n_endpoints; i++)
		state_write_endpoint(f, &s->endpoints[i]);
}

static void write_state(FILE *f, const void *data)
{
	state_write(f, data);
}

int state_save(const char *dir, const struct state *s)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE_NAME) >= sizeof(path))
		return -ENAMETOOLONG;
	return write_file_atomic(path, 0600, write_state, s);
}

/* ---- what the writer of appends needs (state-writer.c) --------------------- */

/* A digest of a record's fields, through the table the file is written with. */
static uint64_t record_sum(const struct field *fields, size_t n, const void *rec)
{
	uint64_t h = FNV1A_OFFSET;

	for (size_t i = 0; i < n; i++) {
		const char *p = (const char *)rec + fields[i].offset;

		switch (fields[i].type) {
		case FIELD_STRING:
			p = *(char *const *)p ? *(char *const *)p : "";
			h = fnv1a(h, p, strlen(p) + 1);
			break;
		case FIELD_BUFFER:
			h = fnv1a(fnv1a(h, p, strnlen(p, fields[i].size)), "", 1);
			break;
		case FIELD_RELOADS: {
			const struct state_service *sv = rec;

			h = fnv1a(h, &sv->n_reloads, sizeof(sv->n_reloads));
			h = fnv1a(h, sv->reloads, sv->n_reloads * sizeof(sv->reloads[0]));
			break;
		}
		default:
			h = fnv1a(h, p, fields[i].size);
			break;
		}
	}
	return h;
}

uint64_t state_service_sum(const struct state_service *rec)
{
	return record_sum(service_fields, ELEMENTSOF(service_fields), rec);
}

uint64_t state_endpoint_sum(const struct state_endpoint *rec)
{
	return record_sum(endpoint_fields, ELEMENTSOF(endpoint_fields), rec);
}

/* ---- reading ------------------------------------------------------------------ */

/* Decodes a percent-encoded value in place. */
static int decode(char *v)
{
	char *o = v;

	for (char *p = v; *p; p++) {
		unsigned x;

		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		if (!p[1] || !p[2] || sscanf(p + 1, "%2x", &x) != 1)
			return -EBADMSG;
		if (x != 0)
			*o++ = (char)x;
		p += 2;
	}
	*o = '\0';
	return 0;
}

static int parse_u64(const char *v, uint64_t *ret)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -EBADMSG;
	errno = 0;
	*ret = strtoull(v, &end, 10);
	return errno || *end ? -EBADMSG : 0;
}

static int parse_i64(const char *v, int64_t *ret)
{
	char *end;

	errno = 0;
	*ret = strtoll(v, &end, 10);
	return errno || end == v || *end ? -EBADMSG : 0;
}

static int take_value(const struct field *fd, void *rec, const char *v)
{
	char *p = (char *)rec + fd->offset;
	uint64_t n = 0;

	switch (fd->type) {
	case FIELD_STRING: {
		char *copy = strdup(v);

		if (!copy)
			return -ENOMEM;
		free(*(char **)p);   /* a repeated key: the last one counts */
		*(char **)p = copy;
		return 0;
	}
	case FIELD_BUFFER:
		snprintf(p, fd->size, "%s", v);
		return 0;
	case FIELD_I64:
		return parse_i64(v, (int64_t *)p);
	default:
		break;
	}
	if (parse_u64(v, &n) < 0)
		return -EBADMSG;
	if (fd->type == FIELD_U64)
		*(uint64_t *)p = n;
	else if (fd->type == FIELD_UINT)
		*(unsigned *)p = n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
	else if (fd->type == FIELD_BOOL)
		*(bool *)p = n != 0;
	else {
		/* The newest entries are last in the file: keep the newest that fit. */
		struct state_service *s = rec;

		if (s->n_reloads == POLICY_MAX_RELOADS_PER_HOUR) {
			memmove(s->reloads, s->reloads + 1, sizeof(s->reloads) - sizeof(s->reloads[0]));
			s->n_reloads--;
		}
		s->reloads[s->n_reloads++] = n;
	}
	return 0;
}

static const struct field *find_field(const struct field *fields, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].key, key) == 0)
			return &fields[i];
	return NULL;   /* a newer certwatch's key */
}

static bool has_required(const struct field *fields, size_t n, const void *rec)
{
	for (size_t i = 0; i < n; i++)
		if (fields[i].required && fields[i].type == FIELD_STRING &&
		    !*(char *const *)((const char *)rec + fields[i].offset))
			return false;
	return true;
}

/*
 * Appends a zeroed record to *array; returns it, or NULL without memory.
 * The room doubles whenever n reaches a power of two, so a file of many
 * records (an appended one repeats them) is read in linear time.
 */
static void *grow(void **array, size_t *n, size_t size)
{
	char *p = *array;

	if ((*n & (*n - 1)) == 0) {   /* 0, 1, 2, 4, ...: full */
		p = reallocarray(p, *n ? 2 * *n : 1, size);
		if (!p)
			return NULL;
		*array = p;
	}
	memset(p + *n * size, 0, size);
	return p + (*n)++ * size;
}

/* "key=value key=value ..." into rec, through the record kind's table. */
static int parse_fields(char *save, const struct field *fields, size_t n, void *rec)
{
	char *tok;
	int r = 0;

	while (r == 0 && (tok = strtok_r(NULL, " \n", &save))) {
		char *eq = strchr(tok, '=');
		const struct field *fd;

		if (!eq)
			return -EBADMSG;
		*eq = '\0';
		r = decode(eq + 1);
		fd = find_field(fields, n, tok);
		if (r == 0 && fd)
			r = take_value(fd, rec, eq + 1);
	}
	if (r == 0 && !has_required(fields, n, rec))
		r = -EBADMSG;
	return r;
}

static int parse_header(struct state *s, const char *kind, char *save)
{
	const struct field *fd = find_field(header_fields, ELEMENTSOF(header_fields), kind);
	char *tok = strtok_r(NULL, " \n", &save);
	uint64_t pid;

	if (!tok)
		return -EBADMSG;
	if (strcmp(kind, "pid") == 0) {
		if (parse_u64(tok, &pid) < 0 || pid > INT32_MAX)
			return -EBADMSG;
		s->pid = (pid_t)pid;
		return 0;
	}
	if (decode(tok) < 0)
		return -EBADMSG;
	return fd ? take_value(fd, s, tok) : 0;
}

/* One line, the lineno-th: a header, or "KIND key=value ...". */
static int parse_line(struct state *s, char *line, unsigned lineno)
{
	char *save = NULL, *kind = strtok_r(line, " \n", &save);
	void *rec;

	if (!kind)
		return 0;
	if (strcmp(kind, "service") == 0) {
		rec = grow((void **)&s->services, &s->n_services, sizeof(*s->services));
		if (rec)
			s->services[s->n_services - 1].line = lineno;
		return rec ? parse_fields(save, service_fields, ELEMENTSOF(service_fields), rec) :
			-ENOMEM;
	}
	if (strcmp(kind, "endpoint") == 0) {
		rec = grow((void **)&s->endpoints, &s->n_endpoints, sizeof(*s->endpoints));
		if (rec)
			s->endpoints[s->n_endpoints - 1].line = lineno;
		return rec ? parse_fields(save, endpoint_fields, ELEMENTSOF(endpoint_fields), rec) :
			-ENOMEM;
	}
	if (strcmp(kind, "pid") == 0 || find_field(header_fields, ELEMENTSOF(header_fields), kind))
		return parse_header(s, kind, save);
	return 0;   /* a newer certwatch's record */
}

static int cmp_service(const void *a, const void *b)
{
	return strcmp(((const struct state_service *)a)->name,
		      ((const struct state_service *)b)->name);
}

static int cmp_endpoint(const void *a, const void *b)
{
	const struct state_endpoint *x = a, *y = b;
	int c = strcmp(x->service, y->service);

	return c ? c : strcmp(x->endpoint, y->endpoint);
}

static int cmp_service_line(const void *a, const void *b)
{
	const struct state_service *x = a, *y = b;
	int c = cmp_service(a, b);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int cmp_endpoint_line(const void *a, const void *b)
{
	const struct state_endpoint *x = a, *y = b;
	int c = cmp_endpoint(a, b);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static void drop_service(void *rec)
{
	free(((struct state_service *)rec)->name);
}

static void drop_endpoint(void *rec)
{
	struct state_endpoint *e = rec;

	free(e->service);
	free(e->endpoint);
	free(e->reason);
}

/*
 * Sorts n records by name and line; keeps of each name the last read (an
 * append's) and returns how many are left.
 */
static size_t keep_last(void *array, size_t n, size_t size,
			int (*cmp_name)(const void *, const void *),
			int (*cmp_name_line)(const void *, const void *), void (*drop)(void *))
{
	char *a = array;
	size_t kept = 0;

	if (n > 1)
		qsort(a, n, size, cmp_name_line);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && cmp_name(a + i * size, a + (i + 1) * size) == 0) {
			drop(a + i * size);
			continue;
		}
		if (kept != i)
			memcpy(a + kept * size, a + i * size, size);
		kept++;
	}
	return kept;
}

int state_read(FILE *f, const char *path, struct state *ret, char *err, size_t errlen)
{
	_cleanup_free_ char *line = NULL;
	struct state s = {};
	unsigned lineno = 0;
	size_t cap = 0;
	ssize_t n;
	int r = 0;

	while (r == 0 && (n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] != '\n') {
			/* The last bytes, without their newline: an append under way, or
			 * what a crash left of one (a record cut anywhere, zeros). */
			r = lineno == 1 ? -EBADMSG : 0;
			break;
		}
		if ((size_t)n > STATE_MAX_LINE || memchr(line, '\0', (size_t)n))
			r = -EBADMSG;   /* too long, or a NUL byte inside */
		else if (lineno == 1)
			r = strcmp(line, STATE_VERSION "\n") ? -EBADMSG : 0;
		else
			r = parse_line(&s, line, lineno);
	}
	if (r == 0 && ferror(f))
		r = -EIO;
	if (r == 0 && lineno == 0)
		r = -EBADMSG;
	if (r < 0) {
		snprintf(err, errlen, "%s:%u: damaged state file (%s)", path, lineno, strerror(-r));
		state_done(&s);
		return r;
	}
	s.n_services = keep_last(s.services, s.n_services, sizeof(*s.services), cmp_service,
				 cmp_service_line, drop_service);
	s.n_endpoints = keep_last(s.endpoints, s.n_endpoints, sizeof(*s.endpoints), cmp_endpoint,
				  cmp_endpoint_line, drop_endpoint);
	*ret = s;
	return 0;
}

int state_load(const char *dir, struct state *ret, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	FILE *f;
	int fd, r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE_NAME) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open_regular(path, O_NOFOLLOW, NULL);
	if (fd < 0)
		return fd;
	r = fstat(fd, &st) < 0 ? -errno : state_file_check(path, &st, err, errlen);
	if (r < 0) {
		close(fd);
		return r;
	}
	f = fdopen(fd, "r");
	if (!f) {
		r = -errno;
		close(fd);
		return r;
	}
	r = state_read(f, path, ret, err, errlen);
	fclose(f);
	return r;
}

void state_index(struct state *s)
{
	if (s->n_services > 1)
		qsort(s->services, s->n_services, sizeof(*s->services), cmp_service);
	if (s->n_endpoints > 1)
		qsort(s->endpoints, s->n_endpoints, sizeof(*s->endpoints), cmp_endpoint);
}

struct state_service *state_find_service(const struct state *s, const char *name)
{
	struct state_service key = { .name = (char *)name };

	if (!s->n_services)
		return NULL;
	return bsearch(&key, s->services, s->n_services, sizeof(key), cmp_service);
}

struct state_endpoint *state_find_endpoint(const struct state *s, const char *service,
					   const char *endpoint)
{
	struct state_endpoint key = { .service = (char *)service, .endpoint = (char *)endpoint };

	if (!s->n_endpoints)
		return NULL;
	return bsearch(&key, s->endpoints, s->n_endpoints, sizeof(key), cmp_endpoint);
}

void state_done(struct state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_services; i++)
		drop_service(&s->services[i]);
	for (size_t i = 0; i < s->n_endpoints; i++)
		drop_endpoint(&s->endpoints[i]);
	free(s->services);
	free(s->endpoints);
	memset(s, 0, sizeof(*s));
}
