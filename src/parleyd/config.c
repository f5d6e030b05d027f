/* parleyd.conf: strict `key = value` parsing over documented defaults. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <parley/box.h>
#include <parley/encoding.h>
#include <parley/record.h>

#include "banned.h"

#define CONF_LINE_MAX 1024

enum conf_type {
	CONF_U32,
	CONF_U64,
	CONF_ORIGIN,
	CONF_LISTEN,
	CONF_LINE,
	CONF_WITNESS,
	CONF_AUDITORS,
	CONF_PUBLIC_LINES,
	CONF_ADDRS,
};

/* One key of parleyd.conf: where it lands in the struct and its range. */
struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset;
	uint64_t min, max;
};

#define EXO(f) (offsetof(struct pl_parleyd_config, ex) + offsetof(struct pl_exchange_options, f))
#define CFO(f) offsetof(struct pl_parleyd_config, f)

static const struct conf_key conf_keys[] = {
        {"origin", CONF_ORIGIN, CFO(origin), 0, 0},
        {"listen", CONF_LISTEN, CFO(listen), 0, 0},
        {"batch_max", CONF_U32, EXO(batch_max), 1, 65536},
        {"batch_age_us", CONF_U32, EXO(batch_age_us), 0, 1000000},
        {"batch_idle_us", CONF_U32, EXO(batch_idle_us), 1, 1000000},
        {"time_tolerance", CONF_U32, EXO(time_tolerance_s), 1, 86400},
        {"timer_interval_ms", CONF_U32, EXO(timer_interval_ms), 10, 3600000},
        {"payload_max", CONF_U64, EXO(payload_max), 1024, PL_BOX_MAX_BYTES},
        {"payload_retention", CONF_U32, EXO(payload_retention_s), 60, 31536000},
        {"payload_unreferenced_max", CONF_U64, EXO(payload_unreferenced_max), 1024,
         UINT64_C(1) << 40},
        {"readers", CONF_U32, EXO(readers), 1, 256},
        {"http_threads", CONF_U32, CFO(http_threads), 1, 256},
        {"http_nice", CONF_U32, CFO(http_nice), 0, 19},
        {"max_connections", CONF_U32, CFO(max_connections), 1, 65536},
        {"max_per_ip", CONF_U32, CFO(max_per_ip), 1, 65536},
        {"connection_timeout", CONF_U32, CFO(connection_timeout), 1, 3600},
        {"header_timeout", CONF_U32, CFO(header_timeout), 1, 3600},
        {"max_headers", CONF_U32, CFO(max_headers), 8, 1024},
        {"header_max", CONF_U32, CFO(header_max), 1024, 1u << 20},
        {"record_max", CONF_U32, CFO(record_max), 1024, PL_RECORD_MAX_BYTES},
        {"rate", CONF_U32, CFO(rate), 1, 1000000},
        {"rate_burst", CONF_U32, CFO(rate_burst), 1, 10000000},
        {"auth_window", CONF_U32, CFO(auth_window), 1, 3600},
        {"nonce_max", CONF_U32, CFO(nonce_max), 16, 1u << 24},
        {"nonce_per_key", CONF_U32, CFO(nonce_per_key), 16, 1u << 24},
        {"poll_timeout", CONF_U32, CFO(poll_timeout), 1, PL_HTTP_POLL_MAX_SECONDS},
        {"sse_max", CONF_U32, CFO(sse_max), 1, 65536},
        {"upload_per_key", CONF_U64, CFO(upload_per_key), 1024, 1ull << 40},
        {"upload_budget", CONF_U64, CFO(upload_budget), 1024, 1ull << 40},
        {"sse_per_key", CONF_U32, CFO(sse_per_key), 1, 65536},
        {"line", CONF_LINE, EXO(lines), 0, 0},
        {"witness", CONF_WITNESS, CFO(witnesses), 0, 0},
        {"witness_interval_ms", CONF_U32, CFO(witness_interval_ms), 100, 3600000},
        {"auditors", CONF_AUDITORS, EXO(auditors), 0, 0},
        {"public_lines", CONF_PUBLIC_LINES, CFO(public_lines), 0, 0},
        {"metrics_allow", CONF_ADDRS, CFO(metrics_allow), 0, 0},
        {"health_checkpoint_age", CONF_U32, CFO(health_checkpoint_age), 0, 31536000},
        {"health_witness_age", CONF_U32, CFO(health_witness_age), 0, 31536000},
};

#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

/*
 * The keys a running parleyd takes on a reload (SIGHUP): what no pool,
 * thread or socket was sized or made from. Any other key is fixed at start.
 */
static const char *const conf_live[] = {"line", "witness",    "witness_interval_ms", "auditors",
                                        "rate", "rate_burst", "poll_timeout"};

void pl_parleyd_config_default(struct pl_parleyd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:%d", PL_PARLEYD_DEFAULT_PORT);
	pl_exchange_options_default(&c->ex);
	c->http_threads = 2;
	c->http_nice = PL_PARLEYD_DEFAULT_HTTP_NICE;
	c->max_connections = PL_HTTP_CONNECTIONS_MAX;
	c->max_per_ip = PL_HTTP_PER_IP_MAX;
	c->connection_timeout = PL_HTTP_TIMEOUT_SECONDS;
	c->header_timeout = PL_HTTP_HEADER_SECONDS;
	c->max_headers = PL_HTTP_HEADERS_MAX;
	c->header_max = PL_HTTP_CONN_MEMORY / 4;
	c->record_max = PL_RECORD_MAX_BYTES;
	c->rate = PL_HTTP_RATE_PER_KEY;
	c->rate_burst = PL_HTTP_BURST_PER_KEY;
	c->auth_window = PL_AUTH_WINDOW_SECONDS;
	c->nonce_max = PL_AUTH_NONCES_MAX;
	c->nonce_per_key = PL_AUTH_NONCES_PER_KEY;
	c->poll_timeout = 30;
	c->sse_max = PL_HTTP_STREAMS_MAX;
	c->sse_per_key = PL_HTTP_STREAMS_PER_KEY;
	c->upload_per_key = PL_PARLEYD_UPLOAD_PER_KEY_FACTOR * c->ex.payload_max;
	c->upload_budget = PL_PARLEYD_UPLOAD_BUDGET_FACTOR * c->ex.payload_max;
	c->witness_interval_ms = PL_PARLEYD_WITNESS_INTERVAL_MS;
	/* /metrics tells traffic by kind and volume, which is itself what a hotline's parties
	 * keep to themselves: only this host reads it unless the operator says otherwise. */
	c->nmetrics_allow = 2;
	c->metrics_allow[0].family = AF_INET;
	(void)inet_pton(AF_INET, "127.0.0.1", c->metrics_allow[0].bytes);
	c->metrics_allow[1].family = AF_INET6;
	(void)inet_pton(AF_INET6, "::1", c->metrics_allow[1].bytes);
}

/* host:port with a decimal port 1..65535 and a host of printable characters. */
static bool conf_listen_is_valid(const char *s, size_t len)
{
	const char *colon = NULL;
	uint64_t port;

	for (size_t i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] > '~')
			return false;
		if (s[i] == ':')
			colon = s + i;
	}
	if (!colon || colon == s)
		return false;
	return pl_parse_u64(&port, colon + 1, len - (size_t)(colon + 1 - s), 65535) == 0 &&
	       port > 0;
}

static void conf_err(struct pl_buf *err, unsigned line, const char *what, const char *key)
{
	if (err)
		(void)!pl_buf_addf(err, "line %u: %s%s%s", line, what, key ? ": " : "",
		                   key ? key : "");
}

/* Reports that key's value at line does not parse (why, if said); returns ret. */
static int conf_bad_value(struct pl_buf *err, unsigned line, const char *key, int ret,
                          const char *why)
{
	if (err)
		(void)!pl_buf_addf(err, "line %u: %s: %s", line, key, why ? why : "malformed");
	return ret;
}

/* A `line` directive: one more checked line, its name not taken yet. */
static int conf_line_schedule(struct pl_parleyd_config *c, const char *v, size_t len,
                              unsigned lineno, struct pl_buf *err)
{
	struct pl_line l;
	const char *why = NULL;
	int ret = pl_line_parse(&l, v, len, &why);

	if (ret)
		return conf_bad_value(err, lineno, "line", ret, why);
	if (pl_line_is_zoned(&l)) {
		/* The zone must be in the system's tz database now, not at the first check. */
		struct pl_tz *tz = NULL;
		ret = pl_tz_load(&tz, l.zone, &why);
		pl_tz_free(tz);
		if (ret == PL_ENOTFOUND) {
			conf_err(err, lineno, "unknown time zone (not in the tz database)", l.zone);
			return PL_EMALFORMED;
		}
		if (ret)
			return conf_bad_value(err, lineno, "line", ret, why);
	}
	for (size_t i = 0; i < c->ex.nlines; i++) {
		if (strcmp(c->ex.lines[i].name, l.name) == 0) {
			conf_err(err, lineno, "line named twice", l.name);
			return PL_EMALFORMED;
		}
	}
	if (c->ex.nlines == PL_PARLEYD_LINES_MAX) {
		conf_err(err, lineno, "too many lines", NULL);
		return PL_ETOOBIG;
	}
	c->ex.lines[c->ex.nlines++] = l;
	return 0;
}

/* A `witness` directive: URL and cosignature key of one more witness, not listed yet. */
static int conf_witness(struct pl_parleyd_config *c, const char *v, size_t len, unsigned lineno,
                        struct pl_buf *err)
{
	struct pl_witness_peer p;
	const char *why = NULL;
	int ret = pl_witness_peer_parse(&p, v, len, &why);

	if (ret)
		return conf_bad_value(err, lineno, "witness", ret, why);
	for (size_t i = 0; i < c->nwitnesses; i++) {
		if (strcmp(c->witnesses[i].key.name, p.key.name) == 0 &&
		    memcmp(c->witnesses[i].key.id, p.key.id, PL_KEYID_BYTES) == 0) {
			conf_err(err, lineno, "witness key listed twice", p.key.name);
			return PL_EMALFORMED;
		}
	}
	if (c->nwitnesses == PL_PARLEYD_WITNESSES_MAX) {
		conf_err(err, lineno, "too many witnesses", NULL);
		return PL_ETOOBIG;
	}
	c->witnesses[c->nwitnesses++] = p;
	return 0;
}

/*
 * A list of names `NAME, NAME, ...` (party or line names, docs/records.md §3;
 * never the exchange's reserved name), comma-separated, each once, at most
 * max, into names[0..*n). what names the setting in messages, one the thing
 * named, bad the message for a value that is no name.
 */
static int conf_names(char (*names)[PL_RECORD_NAME_MAX + 1], size_t *n, size_t max, const char *v,
                      size_t len, unsigned lineno, const char *what, const char *one,
                      const char *bad, struct pl_buf *err)
{
	size_t pos = 0, got = 0;

	while (pos <= len) {
		const char *comma = memchr(v + pos, ',', len - pos);
		size_t end = comma ? (size_t)(comma - v) : len, b = pos, e = end;
		while (b < e && (v[b] == ' ' || v[b] == '\t'))
			b++;
		while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (!pl_record_name_is_valid(v + b, e - b) ||
		    (e - b == strlen(PL_EXCHANGE_AUTHOR) &&
		     memcmp(v + b, PL_EXCHANGE_AUTHOR, e - b) == 0)) {
			conf_err(err, lineno, bad, what);
			return PL_EMALFORMED;
		}
		for (size_t i = 0; i < got; i++) {
			if (strlen(names[i]) == e - b && memcmp(names[i], v + b, e - b) == 0) {
				if (err)
					(void)!pl_buf_addf(err, "line %u: %s named twice: %s",
					                   lineno, one, names[i]);
				return PL_EMALFORMED;
			}
		}
		if (got == max) {
			if (err)
				(void)!pl_buf_addf(err, "line %u: too many %ss", lineno, one);
			return PL_ETOOBIG;
		}
		memcpy(names[got], v + b, e - b);
		names[got++][e - b] = '\0';
		pos = end + 1;
	}
	*n = got;
	return 0;
}

/* `auditors = NAME, ...`: at most PL_EXCHANGE_AUDITORS_MAX parties. */
static int conf_auditors(struct pl_parleyd_config *c, const char *v, size_t len, unsigned lineno,
                         struct pl_buf *err)
{
	return conf_names(c->ex.auditors, &c->ex.nauditors, PL_EXCHANGE_AUDITORS_MAX, v, len,
	                  lineno, "auditors", "auditor", "not a party name", err);
}

/* `public_lines = NAME, ...`: the lines the explorer shows, at most PL_EXPLORER_LINES_MAX. */
static int conf_public_lines(struct pl_parleyd_config *c, const char *v, size_t len,
                             unsigned lineno, struct pl_buf *err)
{
	return conf_names(c->public_lines, &c->npublic_lines, PL_EXPLORER_LINES_MAX, v, len, lineno,
	                  "public_lines", "line", "not a line name", err);
}

/*
 * `metrics_allow = ADDR ...`: IPv4 or IPv6 addresses (no names, no masks),
 * separated by spaces or tabs, each once, at most PL_PARLEYD_METRICS_ALLOW_MAX;
 * or `none`.
 */
static int conf_addrs(struct pl_parleyd_config *c, const char *v, size_t len, unsigned lineno,
                      struct pl_buf *err)
{
	struct pl_parleyd_addr got[PL_PARLEYD_METRICS_ALLOW_MAX];
	size_t n = 0, pos = 0;

	if (len == 4 && memcmp(v, "none", 4) == 0) {
		c->nmetrics_allow = 0;
		return 0;
	}
	while (pos < len) {
		char text[INET6_ADDRSTRLEN + 1];
		size_t end = pos;
		while (end < len && v[end] != ' ' && v[end] != '\t')
			end++;
		if (end - pos > INET6_ADDRSTRLEN) {
			conf_err(err, lineno, "not an IP address", "metrics_allow");
			return PL_EMALFORMED;
		}
		memcpy(text, v + pos, end - pos);
		text[end - pos] = '\0';
		if (n == PL_PARLEYD_METRICS_ALLOW_MAX) {
			conf_err(err, lineno, "too many addresses", "metrics_allow");
			return PL_ETOOBIG;
		}
		memset(&got[n], 0, sizeof(got[n]));
		got[n].family = strchr(text, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(got[n].family, text, got[n].bytes) != 1) {
			conf_err(err, lineno, "not an IP address", "metrics_allow");
			return PL_EMALFORMED;
		}
		for (size_t i = 0; i < n; i++) {
			if (got[i].family == got[n].family &&
			    memcmp(got[i].bytes, got[n].bytes, sizeof(got[n].bytes)) == 0) {
				conf_err(err, lineno, "address listed twice", "metrics_allow");
				return PL_EMALFORMED;
			}
		}
		n++;
		pos = end;
		while (pos < len && (v[pos] == ' ' || v[pos] == '\t'))
			pos++;
	}
	memcpy(c->metrics_allow, got, n * sizeof(got[0]));
	c->nmetrics_allow = n;
	return 0;
}

bool pl_parleyd_config_metrics_allowed(const struct pl_parleyd_config *c, const struct sockaddr *sa)
{
	const uint8_t *b = NULL;
	uint8_t mapped[4];
	int family = sa ? sa->sa_family : AF_UNSPEC;

	if (family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		b = (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		/* An IPv4 client of a dual-stack socket comes as ::ffff:a.b.c.d. */
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)b)) {
			memcpy(mapped, b + 12, 4);
			b = mapped;
			family = AF_INET;
		}
	}
	for (size_t i = 0; b && i < c->nmetrics_allow; i++)
		if (c->metrics_allow[i].family == family &&
		    memcmp(c->metrics_allow[i].bytes, b, family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

/* Parses one line s[0..len) (no newline) into c; seen marks the keys already set. */
static int conf_line(struct pl_parleyd_config *c, bool seen[static CONF_NKEYS], const char *s,
                     size_t len, unsigned lineno, struct pl_buf *err)
{
	size_t i = 0, kb, ke, vb, ve;
	const struct conf_key *k = NULL;
	char name[64];
	uint64_t v;
	size_t ki;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] == '#')
		return 0;
	kb = i;
	while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
		i++;
	ke = i;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (ke == kb || i == len || s[i] != '=') {
		conf_err(err, lineno, "expected `key = value`", NULL);
		return PL_EMALFORMED;
	}
	i++;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	vb = i;
	ve = len;
	while (ve > vb && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
		ve--;
	if (ke - kb >= sizeof(name)) {
		conf_err(err, lineno, "unknown key", NULL);
		return PL_EMALFORMED;
	}
	memcpy(name, s + kb, ke - kb);
	name[ke - kb] = '\0';
	for (ki = 0; ki < CONF_NKEYS; ki++) {
		if (strcmp(conf_keys[ki].name, name) == 0) {
			k = &conf_keys[ki];
			break;
		}
	}
	if (!k) {
		conf_err(err, lineno, "unknown key", name);
		return PL_EMALFORMED;
	}
	if (seen[ki] && k->type != CONF_LINE && k->type != CONF_WITNESS) {
		conf_err(err, lineno, "key set twice", name);
		return PL_EMALFORMED;
	}
	seen[ki] = true;
	if (ve == vb) {
		conf_err(err, lineno, "empty value", name);
		return PL_EMALFORMED;
	}
	switch (k->type) {
	case CONF_U32:
	case CONF_U64:
		if (pl_parse_u64(&v, s + vb, ve - vb, UINT64_MAX) != 0) {
			conf_err(err, lineno, "not a decimal number", name);
			return PL_EMALFORMED;
		}
		if (v < k->min || v > k->max) {
			conf_err(err, lineno, "value out of range", name);
			return PL_ERANGE;
		}
		if (k->type == CONF_U32)
			*(uint32_t *)((char *)c + k->offset) = (uint32_t)v;
		else
			*(uint64_t *)((char *)c + k->offset) = v;
		break;
	case CONF_ORIGIN:
		if (!pl_record_origin_is_valid(s + vb, ve - vb)) {
			conf_err(err, lineno, "not a valid origin", name);
			return PL_EMALFORMED;
		}
		memcpy(c->origin, s + vb, ve - vb);
		c->origin[ve - vb] = '\0';
		break;
	case CONF_LISTEN:
		if (ve - vb > PL_PARLEYD_LISTEN_MAX || !conf_listen_is_valid(s + vb, ve - vb)) {
			conf_err(err, lineno, "not host:port", name);
			return PL_EMALFORMED;
		}
		memcpy(c->listen, s + vb, ve - vb);
		c->listen[ve - vb] = '\0';
		break;
	case CONF_LINE:
		return conf_line_schedule(c, s + vb, ve - vb, lineno, err);
	case CONF_WITNESS:
		return conf_witness(c, s + vb, ve - vb, lineno, err);
	case CONF_AUDITORS:
		return conf_auditors(c, s + vb, ve - vb, lineno, err);
	case CONF_PUBLIC_LINES:
		return conf_public_lines(c, s + vb, ve - vb, lineno, err);
	case CONF_ADDRS:
		return conf_addrs(c, s + vb, ve - vb, lineno, err);
	}
	return 0;
}

/* The index of a key in conf_keys (which holds it). */
static size_t conf_key_index(const char *name)
{
	size_t i = 0;

	while (i < CONF_NKEYS - 1 && strcmp(conf_keys[i].name, name) != 0)
		i++;
	return i;
}

/*
 * The upload allowances: when not set, they follow payload_max (so that a
 * file raising payload_max raises them too); a key's allowance must hold
 * one largest payload and the whole budget one key's allowance.
 */
static int conf_uploads(struct pl_parleyd_config *c, const bool seen[static CONF_NKEYS],
                        unsigned lineno, struct pl_buf *err)
{
	if (!seen[conf_key_index("upload_per_key")])
		c->upload_per_key = PL_PARLEYD_UPLOAD_PER_KEY_FACTOR * c->ex.payload_max;
	if (!seen[conf_key_index("upload_budget")])
		c->upload_budget = PL_PARLEYD_UPLOAD_BUDGET_FACTOR * c->ex.payload_max;
	if (c->upload_per_key < c->ex.payload_max) {
		conf_err(err, lineno, "upload_per_key is smaller than payload_max", NULL);
		return PL_ERANGE;
	}
	if (c->upload_budget < c->upload_per_key) {
		conf_err(err, lineno, "upload_budget is smaller than upload_per_key", NULL);
		return PL_ERANGE;
	}
	return 0;
}

int pl_parleyd_config_parse(struct pl_parleyd_config *c, const char *text, size_t len,
                            struct pl_buf *err)
{
	struct pl_parleyd_config *tmp;
	bool seen[CONF_NKEYS] = {false};
	size_t pos = 0;
	unsigned lineno = 0;
	int ret = 0;

	if (!c || (!text && len))
		return PL_EINVAL;
	if (len > PL_PARLEYD_CONF_MAX) {
		conf_err(err, 0, "file too large", NULL);
		return PL_ETOOBIG;
	}
	if (!pl_utf8_is_valid(text, len)) {
		conf_err(err, 0, "not UTF-8", NULL);
		return PL_EMALFORMED;
	}
	tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return PL_ENOMEM;
	*tmp = *c;
	while (pos < len && !ret) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		lineno++;
		if (end - pos > CONF_LINE_MAX) {
			conf_err(err, lineno, "line too long", NULL);
			ret = PL_ETOOBIG;
			break;
		}
		for (size_t i = pos; i < end && !ret; i++) {
			unsigned char ch = (unsigned char)text[i];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				conf_err(err, lineno, "control character", NULL);
				ret = PL_EMALFORMED;
			}
		}
		if (!ret)
			ret = conf_line(tmp, seen, text + pos, end - pos, lineno, err);
		pos = end + 1;
	}
	if (!ret && tmp->rate_burst < tmp->rate) {
		conf_err(err, lineno, "rate_burst is smaller than rate", NULL);
		ret = PL_ERANGE;
	}
	if (!ret)
		ret = conf_uploads(tmp, seen, lineno, err);
	if (!ret)
		*c = *tmp;
	free(tmp);
	return ret;
}

int pl_parleyd_config_load(struct pl_parleyd_config *c, const char *path, struct pl_buf *err)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (err)
			(void)!pl_buf_addf(err, "%s", strerror(errno));
		return errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
	}
	buf = malloc(PL_PARLEYD_CONF_MAX + 1);
	if (!buf) {
		close(fd);
		return PL_ENOMEM;
	}
	while ((n = read(fd, buf + len, PL_PARLEYD_CONF_MAX + 1 - len)) > 0) {
		len += (size_t)n;
		if (len > PL_PARLEYD_CONF_MAX)
			break;
	}
	if (n < 0) {
		ret = PL_EIO;
		if (err)
			(void)!pl_buf_addf(err, "%s", strerror(errno));
	} else {
		ret = pl_parleyd_config_parse(c, buf, len, err);
	}
	close(fd);
	free(buf);
	return ret;
}

int pl_parleyd_config_format(const struct pl_parleyd_config *c, struct pl_buf *out)
{
	int ret = pl_buf_adds(out, "# parleyd.conf(5): key = value; every key is optional.\n");

	if (!ret && c->origin[0])
		ret = pl_buf_addf(out, "origin = %s\n", c->origin);
	if (!ret)
		ret = pl_buf_addf(
		        out,
		        "listen = %s\n"
		        "\n# Sequencer: flush a batch at batch_max records, when its oldest has\n"
		        "# waited batch_age_us, or when none arrived for batch_idle_us.\n"
		        "batch_max = %u\nbatch_age_us = %u\nbatch_idle_us = %u\n"
		        "time_tolerance = %u\ntimer_interval_ms = %u\n"
		        "payload_max = %llu\nreaders = %u\n"
		        "\n# HTTP limits.\n"
		        "http_threads = %u\nhttp_nice = %u\nmax_connections = %u\nmax_per_ip = %u\n"
		        "connection_timeout = %u\nheader_timeout = %u\nmax_headers = %u\n"
		        "header_max = %u\nrecord_max = %u\nrate = %u\nrate_burst = %u\n"
		        "auth_window = %u\nnonce_max = %u\nnonce_per_key = %u\npoll_timeout = %u\n"
		        "sse_max = %u\nsse_per_key = %u\n"
		        "upload_per_key = %llu\nupload_budget = %llu\n",
		        c->listen, c->ex.batch_max, c->ex.batch_age_us, c->ex.batch_idle_us,
		        c->ex.time_tolerance_s, c->ex.timer_interval_ms,
		        (unsigned long long)c->ex.payload_max, c->ex.readers, c->http_threads,
		        c->http_nice, c->max_connections, c->max_per_ip, c->connection_timeout,
		        c->header_timeout, c->max_headers, c->header_max, c->record_max, c->rate,
		        c->rate_burst, c->auth_window, c->nonce_max, c->nonce_per_key,
		        c->poll_timeout, c->sse_max, c->sse_per_key,
		        (unsigned long long)c->upload_per_key,
		        (unsigned long long)c->upload_budget);
	if (!ret)
		ret = pl_buf_addf(
		        out,
		        "\n# Payloads no record refers to: deleted after payload_retention\n"
		        "# seconds; each uploader may hold payload_unreferenced_max bytes\n"
		        "# of them (unset: %u times payload_max).\n"
		        "payload_retention = %u\n",
		        PL_EXCHANGE_UNREFERENCED_PER_PAYLOAD_MAX, c->ex.payload_retention_s);
	if (!ret && c->ex.payload_unreferenced_max)
		ret = pl_buf_addf(out, "payload_unreferenced_max = %llu\n",
		                  (unsigned long long)c->ex.payload_unreferenced_max);
	if (!ret && c->ex.nlines)
		ret = pl_buf_adds(
		        out, "\n# Checked lines: NAME END END every|at ... window DURATION.\n");
	for (size_t i = 0; !ret && i < c->ex.nlines; i++) {
		ret = pl_buf_adds(out, "line = ");
		if (!ret)
			ret = pl_line_format(&c->ex.lines[i], out);
		if (!ret)
			ret = pl_buf_adds(out, "\n");
	}
	if (!ret)
		ret = pl_buf_adds(out,
		                  "\n# Auditors: parties that read every record and entry bundle\n"
		                  "# (auditors = NAME, NAME); none when unset.\n");
	for (size_t i = 0; !ret && i < c->ex.nauditors; i++)
		ret = pl_buf_addf(out, "%s%s", i ? ", " : "auditors = ", c->ex.auditors[i]);
	if (!ret && c->ex.nauditors)
		ret = pl_buf_adds(out, "\n");
	if (!ret)
		ret = pl_buf_adds(out, "\n# Lines whose availability the explorer shows to anyone\n"
		                       "# (public_lines = NAME, NAME); none when unset.\n");
	for (size_t i = 0; !ret && i < c->npublic_lines; i++)
		ret = pl_buf_addf(out, "%s%s", i ? ", " : "public_lines = ", c->public_lines[i]);
	if (!ret && c->npublic_lines)
		ret = pl_buf_adds(out, "\n");
	if (!ret)
		ret = pl_buf_addf(
		        out,
		        "\n# Operators: who reads /metrics (metrics_allow = ADDR ... or\n"
		        "# none), and the ages in seconds past which /health answers 503\n"
		        "# (0: not checked).\nhealth_checkpoint_age = %u\n"
		        "health_witness_age = %u\nmetrics_allow =",
		        c->health_checkpoint_age, c->health_witness_age);
	for (size_t i = 0; !ret && i < c->nmetrics_allow; i++) {
		char text[INET6_ADDRSTRLEN + 1];
		if (!inet_ntop(c->metrics_allow[i].family, c->metrics_allow[i].bytes, text,
		               sizeof(text)))
			ret = PL_EINVAL;
		else
			ret = pl_buf_addf(out, " %s", text);
	}
	if (!ret)
		ret = pl_buf_adds(out, c->nmetrics_allow ? "\n" : " none\n");
	if (!ret)
		ret = pl_buf_addf(
		        out,
		        "\n# Witnesses: witness = URL VKEY (repeatable), each updated at most\n"
		        "# once per witness_interval_ms.\nwitness_interval_ms = %u\n",
		        c->witness_interval_ms);
	for (size_t i = 0; !ret && i < c->nwitnesses; i++) {
		ret = pl_buf_adds(out, "witness = ");
		if (!ret)
			ret = pl_witness_peer_format(&c->witnesses[i], out);
		if (!ret)
			ret = pl_buf_adds(out, "\n");
	}
	return ret;
}

int pl_parleyd_config_write(const struct pl_parleyd_config *c, const char *path)
{
	struct pl_buf b;
	int fd, ret;

	pl_buf_init(&b, PL_PARLEYD_CONF_MAX);
	ret = pl_parleyd_config_format(c, &b);
	if (ret)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = errno == EEXIST ? PL_EEXIST : PL_EIO;
		goto out;
	}
	if (write(fd, b.data, b.len) != (ssize_t)b.len || fsync(fd) != 0)
		ret = PL_EIO;
	if (close(fd) != 0)
		ret = PL_EIO;
out:
	pl_buf_release(&b);
	return ret;
}

const char *pl_parleyd_config_fixed_change(const struct pl_parleyd_config *run,
                                           const struct pl_parleyd_config *next)
{
	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		const char *a = (const char *)run + k->offset, *b = (const char *)next + k->offset;
		bool live = false, differ = false;
		for (size_t j = 0; j < sizeof(conf_live) / sizeof(conf_live[0]) && !live; j++)
			live = strcmp(conf_live[j], k->name) == 0;
		if (live)
			continue;
		switch (k->type) {
		case CONF_U32:
			differ = memcmp(a, b, sizeof(uint32_t)) != 0;
			break;
		case CONF_U64:
			differ = memcmp(a, b, sizeof(uint64_t)) != 0;
			break;
		case CONF_ORIGIN:
			differ = b[0] && strcmp(a, b) != 0; /* unset: the store's */
			break;
		case CONF_LISTEN:
			differ = strcmp(a, b) != 0;
			break;
		case CONF_LINE:
		case CONF_WITNESS:
		case CONF_AUDITORS:
			break;
		case CONF_PUBLIC_LINES:
			/* Fixed: what the explorer publishes changes with a restart, on purpose. */
			differ = run->npublic_lines != next->npublic_lines ||
			         memcmp(run->public_lines, next->public_lines,
			                run->npublic_lines * sizeof(run->public_lines[0])) != 0;
			break;
		case CONF_ADDRS:
			differ = run->nmetrics_allow != next->nmetrics_allow ||
			         memcmp(run->metrics_allow, next->metrics_allow,
			                run->nmetrics_allow * sizeof(run->metrics_allow[0])) != 0;
			break;
		}
		if (differ)
			return k->name;
	}
	return NULL;
}
