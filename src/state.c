/*
 * state.c - the state file; see state.h.
 *
 * One record a line, "KIND key=value ...", every value percent-encoded
 * so that names and reasons can hold anything.  Unknown keys are ignored
 * (an older certwatch reads a newer file); a damaged line is an error
 * with its number, and the daemon then starts from a clean state.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "state.h"
#include "util.h"

#define STATE_MAX_LINE 8192
#define STATE_VERSION  "certwatch-state 1"

static void put(FILE *f, const char *key, const char *value)
{
	fprintf(f, " %s=", key);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p <= ' ' || *p == '%' || *p == '=' || *p >= 0x7f)
			fprintf(f, "%%%02X", *p);
		else
			fputc(*p, f);
	}
	if (!*value)
		fputs("%00", f);   /* an empty value still takes a token */
}

static void put_u64(FILE *f, const char *key, uint64_t v)
{
	fprintf(f, " %s=%" PRIu64, key, v);
}

static void write_service(FILE *f, const struct state_service *s)
{
	const struct policy_state *p = &s->policy;
	unsigned kept = p->n_reloads < POLICY_MAX_RELOADS_PER_HOUR ?
		p->n_reloads : POLICY_MAX_RELOADS_PER_HOUR;

	fputs("service", f);
	put(f, "name", s->name);
	put(f, "phase", policy_phase_to_string(p->phase));
	put_u64(f, "failures", p->failures);
	put_u64(f, "paused", p->paused);
	put_u64(f, "next_attempt", p->next_attempt);
	put_u64(f, "last_reload", p->last_reload);
	put_u64(f, "last_reload_ok", p->last_reload_ok);
	put_u64(f, "last_verified", p->last_verified);
	put(f, "last_result", s->last_result);
	put_u64(f, "reloads_ok", s->reloads_ok);
	put_u64(f, "reloads_failed", s->reloads_failed);
	for (unsigned i = 0; i < kept; i++)
		put_u64(f, "reload", p->reloads[(p->n_reloads - kept + i) % POLICY_MAX_RELOADS_PER_HOUR]);
	fputc('\n', f);
}

static void write_endpoint(FILE *f, const struct state_endpoint *e)
{
	fputs("endpoint", f);
	put(f, "service", e->service);
	put(f, "name", e->endpoint);
	put(f, "served", e->served);
	put(f, "disk", e->disk);
	put(f, "state", e->state);
	put(f, "severity", e->severity);
	put_u64(f, "served_not_after", (uint64_t)e->served_not_after);
	put(f, "reason", e->reason);
	fputc('\n', f);
}

int state_dir_for(const char *base, const char *only_service, char *out, size_t outlen)
{
	int n = only_service ? snprintf(out, outlen, "%s/%s", base, only_service) :
		snprintf(out, outlen, "%s", base);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

static void write_state(FILE *f, const void *data)
{
	const struct state *s = data;

	fprintf(f, "%s\npid %ld\nwritten %" PRId64 "\n", STATE_VERSION, (long)s->pid, s->written);
	for (size_t i = 0; i < s->n_services; i++)
		write_service(f, &s->services[i]);
	for (size_t i = 0; i < s->n_endpoints; i++)
		write_endpoint(f, &s->endpoints[i]);
}

int state_save(const char *dir, const struct state *s)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE_NAME) >= sizeof(path))
		return -ENAMETOOLONG;
	return write_file_atomic(path, 0600, write_state, s);
}

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
		if (sscanf(p + 1, "%2x", &x) != 1 || !p[1] || !p[2])
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

	errno = 0;
	*ret = strtoull(v, &end, 10);
	return errno || end == v || *end ? -EBADMSG : 0;
}

static void copy(char *dst, size_t dstlen, const char *v)
{
	snprintf(dst, dstlen, "%s", v);
}

static int service_field(struct state_service *s, const char *k, const char *v)
{
	static const char *const numeric[] = {
		"failures", "paused", "next_attempt", "last_reload", "last_reload_ok",
		"last_verified", "reload", "reloads_ok", "reloads_failed",
	};
	struct policy_state *p = &s->policy;
	uint64_t n = 0;
	size_t i;

	if (strcmp(k, "name") == 0)
		return (s->name = strdup(v)) ? 0 : -ENOMEM;
	if (strcmp(k, "last_result") == 0) {
		copy(s->last_result, sizeof(s->last_result), v);
		return 0;
	}
	if (strcmp(k, "phase") == 0) {
		for (int ph = 0; ph < _PHASE_MAX; ph++)
			if (strcmp(v, policy_phase_to_string(ph)) == 0)
				p->phase = ph;
		return 0;
	}
	for (i = 0; i < ELEMENTSOF(numeric) && strcmp(k, numeric[i]) != 0; i++)
		;
	if (i == ELEMENTSOF(numeric))
		return 0;   /* a newer certwatch's key */
	if (parse_u64(v, &n) < 0)
		return -EBADMSG;
	switch (i) {
	case 0: p->failures = (unsigned)n; break;
	case 1: p->paused = n != 0; break;
	case 2: p->next_attempt = n; break;
	case 3: p->last_reload = n; break;
	case 4: p->last_reload_ok = n != 0; break;
	case 5: p->last_verified = n; break;
	case 6: p->reloads[p->n_reloads++ % POLICY_MAX_RELOADS_PER_HOUR] = n; break;
	case 7: s->reloads_ok = n; break;
	case 8: s->reloads_failed = n; break;
	}
	return 0;
}

static int endpoint_field(struct state_endpoint *e, const char *k, const char *v)
{
	uint64_t n;

	if (strcmp(k, "service") == 0)
		return (e->service = strdup(v)) ? 0 : -ENOMEM;
	if (strcmp(k, "name") == 0)
		return (e->endpoint = strdup(v)) ? 0 : -ENOMEM;
	if (strcmp(k, "served") == 0)
		copy(e->served, sizeof(e->served), v);
	else if (strcmp(k, "disk") == 0)
		copy(e->disk, sizeof(e->disk), v);
	else if (strcmp(k, "state") == 0)
		copy(e->state, sizeof(e->state), v);
	else if (strcmp(k, "severity") == 0)
		copy(e->severity, sizeof(e->severity), v);
	else if (strcmp(k, "reason") == 0)
		copy(e->reason, sizeof(e->reason), v);
	else if (strcmp(k, "served_not_after") == 0) {
		if (parse_u64(v, &n) < 0)
			return -EBADMSG;
		e->served_not_after = (int64_t)n;
	}
	return 0;
}

static void *grow(void *array, size_t n, size_t size)
{
	void *p = realloc(array, (n + 1) * size);

	if (p)
		memset((char *)p + n * size, 0, size);
	return p;
}

/* One "KIND key=value ..." line. */
static int parse_line(struct state *s, char *line)
{
	char *save = NULL, *kind = strtok_r(line, " \n", &save), *tok;
	int r = 0;

	if (!kind)
		return 0;
	if (strcmp(kind, "pid") == 0 || strcmp(kind, "written") == 0) {
		uint64_t n;

		tok = strtok_r(NULL, " \n", &save);
		if (!tok || parse_u64(tok, &n) < 0)
			return -EBADMSG;
		if (kind[0] == 'p')
			s->pid = (pid_t)n;
		else
			s->written = (int64_t)n;
		return 0;
	}
	if (strcmp(kind, "service") == 0) {
		void *p = grow(s->services, s->n_services, sizeof(*s->services));

		if (!p)
			return -ENOMEM;
		s->services = p;
		s->n_services++;
	} else if (strcmp(kind, "endpoint") == 0) {
		void *p = grow(s->endpoints, s->n_endpoints, sizeof(*s->endpoints));

		if (!p)
			return -ENOMEM;
		s->endpoints = p;
		s->n_endpoints++;
	} else
		return 0;
	while (r == 0 && (tok = strtok_r(NULL, " \n", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq)
			return -EBADMSG;
		*eq = '\0';
		r = decode(eq + 1);
		if (r == 0 && kind[0] == 's')
			r = service_field(&s->services[s->n_services - 1], tok, eq + 1);
		else if (r == 0)
			r = endpoint_field(&s->endpoints[s->n_endpoints - 1], tok, eq + 1);
	}
	if (r == 0 && kind[0] == 's' && !s->services[s->n_services - 1].name)
		r = -EBADMSG;
	if (r == 0 && kind[0] == 'e' && (!s->endpoints[s->n_endpoints - 1].service ||
					 !s->endpoints[s->n_endpoints - 1].endpoint))
		r = -EBADMSG;
	return r;
}

int state_load(const char *dir, struct state *ret, char *err, size_t errlen)
{
	_cleanup_free_ char *line = NULL;
	struct state s = {};
	char path[4096];
	unsigned lineno = 0;
	FILE *f;
	int fd, r = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE_NAME) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		r = -errno;
		close(fd);
		return r;
	}
	line = malloc(STATE_MAX_LINE);
	if (!line)
		r = -ENOMEM;
	while (r == 0 && fgets(line, STATE_MAX_LINE, f)) {
		lineno++;
		if (lineno == 1)
			r = strncmp(line, STATE_VERSION "\n", sizeof(STATE_VERSION)) ? -EBADMSG : 0;
		else if (!strchr(line, '\n') && !feof(f))
			r = -EBADMSG;
		else
			r = parse_line(&s, line);
	}
	if (r == 0 && lineno == 0)
		r = -EBADMSG;
	fclose(f);
	if (r < 0) {
		snprintf(err, errlen, "%s:%u: damaged state file (%s)", path, lineno, strerror(-r));
		state_done(&s);
		return r;
	}
	*ret = s;
	return 0;
}

struct state_service *state_find_service(struct state *s, const char *name)
{
	for (size_t i = 0; i < s->n_services; i++)
		if (strcmp(s->services[i].name, name) == 0)
			return &s->services[i];
	return NULL;
}

void state_done(struct state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_services; i++)
		free(s->services[i].name);
	for (size_t i = 0; i < s->n_endpoints; i++) {
		free(s->endpoints[i].service);
		free(s->endpoints[i].endpoint);
	}
	free(s->services);
	free(s->endpoints);
	memset(s, 0, sizeof(*s));
}
