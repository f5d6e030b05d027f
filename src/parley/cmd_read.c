/* The verbs that read: inbox, show, parties, log checkpoint. Each checks what it reads. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include <parley/box.h>
#include <parley/encoding.h>
#include <parley/member.h>
#include <parley/timestamp.h>

#include "banned.h"

/* Arguments common to the read verbs. */
struct read_args {
	const char *profile;
	bool json;
	bool all;
	uint64_t wait;
	const char *id;
};

/* One inbox line: INDEX ID TIME AUTHOR KIND DESCRIPTION. */
static int print_line(const struct pl_session_record *r)
{
	char t[PL_TIMESTAMP_LEN + 1], sid[17];
	struct pl_buf d;
	int ret = PL_EXIT_OK;

	pl_buf_init(&d, 4096);
	session_short_id(sid, r->id);
	if (pl_timestamp_format(t, r->rec->time) != 0 || session_record_summary(r->rec, &d) != 0) {
		cli_error("record %s: cannot describe it", sid);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	printf("%llu %s %s %s %s %.*s\n", (unsigned long long)r->index, sid, t, r->rec->author,
	       pl_record_kind_name(r->rec->kind), (int)d.len, d.data ? d.data : "");
out:
	pl_buf_release(&d);
	return ret;
}

static int run_inbox(const struct read_args *a)
{
	struct pl_session s;
	struct pl_client_list l;
	json_t *arr = NULL;
	uint64_t cursor = 0;
	unsigned wait = (unsigned)a->wait;
	int ret, err;

	memset(&l, 0, sizeof(l));
	ret = session_open(&s, "inbox", a->profile);
	if (ret)
		goto out;
	if (a->json && !(arr = json_array())) {
		cli_error("out of memory");
		ret = PL_EXIT_USAGE;
		goto out;
	}
	if (!a->all && pl_state_cursor_get(s.state, SESSION_CURSOR_INBOX, &cursor) != 0) {
		cli_error("local state %s: cannot read the inbox cursor", s.profile.state);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	/* Pages of at most 1,000 records; a log has finitely many, and each page moves on. */
	for (;;) {
		pl_client_list_release(&l);
		memset(&l, 0, sizeof(l));
		err = pl_client_inbox(s.client, cursor, wait, &l);
		if (err) {
			ret = session_client_failed(&s, "the inbox", err);
			goto out;
		}
		wait = 0;
		for (size_t i = 0; i < l.n; i++) {
			struct pl_session_record r;

			memset(&r, 0, sizeof(r));
			ret = session_verify_entry(&s, &l.v[i], &r);
			if (!ret && arr) {
				if (json_array_append_new(arr, pl_member_record_json(r.rec, r.index,
				                                                     r.text,
				                                                     r.len)) != 0) {
					cli_error("out of memory");
					ret = PL_EXIT_USAGE;
				}
			} else if (!ret) {
				ret = print_line(&r);
			}
			pl_session_record_release(&r);
			if (ret)
				goto out;
		}
		if (l.n == 0 || l.next <= cursor)
			break;
		cursor = l.next;
		if (pl_state_cursor_put(s.state, SESSION_CURSOR_INBOX, cursor) != 0) {
			cli_error("local state %s: cannot move the inbox cursor", s.profile.state);
			ret = PL_EXIT_USAGE;
			goto out;
		}
	}
	if (arr)
		ret = cli_print_json(arr, "the answer");
out:
	json_decref(arr);
	pl_client_list_release(&l);
	session_close(&s);
	return ret;
}

/* True when a plaintext can go to a terminal as it is: UTF-8 and no control but LF and TAB. */
static bool is_printable(const uint8_t *p, size_t n)
{
	if (!pl_utf8_is_valid((const char *)p, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f)
			return false;
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0) /* C1 controls */
			return false;
	}
	return true;
}

static int run_show(const struct read_args *a)
{
	struct pl_session s;
	struct pl_session_record r;
	struct pl_checkpoint cp;
	uint8_t *plain = NULL, salt[PL_BOX_SALT_BYTES];
	size_t plain_len = 0;
	bool readable = false;
	int ret, proof_ret, pay_ret = PL_EXIT_OK;
	json_t *j = NULL;

	memset(&r, 0, sizeof(r));
	ret = session_open(&s, "show", a->profile);
	if (ret)
		goto out;
	ret = session_resolve(&s, a->id, &r);
	if (ret)
		goto out;
	proof_ret = session_prove(&s, &r, &cp);
	if (proof_ret != PL_EXIT_OK && proof_ret != PL_EXIT_FAIL) {
		ret = proof_ret;
		goto out;
	}
	if (r.rec->has & PL_RECORD_HAS_PAYLOAD) {
		pay_ret = session_payload(&s, &r, &plain, &plain_len, salt);
		readable = pay_ret == PL_EXIT_OK && plain;
		if (pay_ret != PL_EXIT_OK && pay_ret != PL_EXIT_FAIL) {
			ret = pay_ret;
			goto out;
		}
	}
	if (a->json) {
		char root[PL_B64_LEN(PL_HASH_BYTES) + 1], sb[PL_B64_LEN(PL_BOX_SALT_BYTES) + 1];

		j = pl_member_record_json(r.rec, r.index, r.text, r.len);
		if (j && proof_ret == PL_EXIT_OK) {
			pl_b64_encode(root, cp.root, PL_HASH_BYTES);
			json_object_set_new(j, "proof",
			                    json_pack("{s:b, s:I, s:s}", "holds", 1, "tree_size",
			                              (json_int_t)cp.size, "root", root));
		} else if (j) {
			json_object_set_new(j, "proof", json_pack("{s:b}", "holds", 0));
		}
		if (j && readable) {
			pl_b64_encode(sb, salt, PL_BOX_SALT_BYTES);
			json_object_set_new(j, "salt", json_string(sb));
			if (pl_utf8_is_valid((const char *)plain, plain_len))
				json_object_set_new(j, "content",
				                    json_stringn((const char *)plain, plain_len));
			else {
				char *b = malloc(PL_B64_LEN(plain_len) + 1);
				if (b) {
					pl_b64_encode(b, plain, plain_len);
					json_object_set_new(j, "content_base64", json_string(b));
					free(b);
				}
			}
		}
		if (j && (r.rec->has & PL_RECORD_HAS_PAYLOAD))
			json_object_set_new(j, "readable", json_boolean(readable));
		ret = cli_print_json(j, "the answer");
		if (ret)
			goto out;
	} else {
		printf("record %s\nindex %llu\n", r.hex, (unsigned long long)r.index);
		if (proof_ret == PL_EXIT_OK)
			printf("proof included in the log at tree size %llu, consistent with the "
			       "checkpoints seen\n",
			       (unsigned long long)cp.size);
		else
			printf("proof DOES NOT HOLD\n");
		printf("\n%s", r.text);
		if (r.rec->has & PL_RECORD_HAS_PAYLOAD) {
			if (pay_ret != PL_EXIT_OK)
				printf("\ncontent DOES NOT MATCH the record's commitment\n");
			else if (!readable)
				printf("\ncontent sealed; %s is not one of its readers\n",
				       s.profile.party);
			else if (!is_printable(plain, plain_len))
				printf("\ncontent %zu bytes, not text (--json gives it in "
				       "base64)\n",
				       plain_len);
			else
				printf("\ncontent (%zu bytes, opened, matches the record's "
				       "commitment):\n%.*s%s",
				       plain_len, (int)plain_len, (const char *)plain,
				       plain_len && plain[plain_len - 1] == '\n' ? "" : "\n");
		}
	}
	ret = proof_ret != PL_EXIT_OK ? proof_ret : pay_ret;
out:
	json_decref(j);
	pl_state_plaintext_free(plain, plain_len);
	sodium_memzero(salt, sizeof(salt));
	pl_session_record_release(&r);
	session_close(&s);
	return ret;
}

static int run_parties(const struct read_args *a)
{
	struct pl_session s;
	struct pl_buf vk;
	json_t *arr = NULL;
	int ret;

	pl_buf_init(&vk, 1024);
	ret = session_open(&s, "parties", a->profile);
	if (ret)
		goto out;
	ret = session_directory(&s, false);
	if (ret)
		goto out;
	if (a->json && !(arr = json_array())) {
		ret = PL_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < s.nparties; i++) {
		const struct pl_client_party *p = &s.parties[i];
		char hex[PL_RECORD_ID_HEX_LEN + 1], kid[2 * PL_KEYID_BYTES + 1];

		pl_buf_reset(&vk);
		if (pl_vkey_format(&p->vkey, &vk) != 0) {
			ret = PL_EXIT_USAGE;
			goto out;
		}
		pl_record_id_format(hex, p->register_id);
		pl_hex_encode(kid, p->vkey.id, PL_KEYID_BYTES);
		if (arr) {
			json_t *o = json_pack("{s:s, s:s#, s:s, s:I, s:s, s:b}", "name", p->name,
			                      "vkey", vk.data, (int)vk.len, "enc_key", p->enc_key,
			                      "register_index", (json_int_t)p->register_index,
			                      "register_id", hex, "revoked", (int)p->revoked);
			if (o && p->revoked)
				json_object_set_new(o, "revoke_index",
				                    json_integer((json_int_t)p->revoke_index));
			if (!o || json_array_append_new(arr, o) != 0) {
				ret = PL_EXIT_USAGE;
				goto out;
			}
		} else {
			printf("%s key %s registered at %llu%s\n", p->name, kid,
			       (unsigned long long)p->register_index, p->revoked ? " revoked" : "");
		}
	}
	if (arr)
		ret = cli_print_json(arr, "the answer");
out:
	json_decref(arr);
	pl_buf_release(&vk);
	session_close(&s);
	return ret;
}

static int run_checkpoint(const struct read_args *a)
{
	struct pl_session s;
	struct pl_state_checkpoint old;
	struct pl_checkpoint cp;
	struct pl_buf note;
	char root[PL_B64_LEN(PL_HASH_BYTES) + 1], newest[PL_B64_LEN(PL_HASH_BYTES) + 1];
	bool had_old, older;
	int ret;

	memset(&old, 0, sizeof(old));
	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	ret = session_open(&s, "log checkpoint", a->profile);
	if (ret)
		goto out;
	had_old = pl_state_checkpoint_get(s.state, &old) == 0;
	ret = session_refresh(&s, &cp, &note);
	if (ret)
		goto out;
	pl_b64_encode(root, cp.root, PL_HASH_BYTES);
	/*
	 * A served checkpoint may be older than one this client already saw (with
	 * witnesses, the exchange serves the newest cosigned one, which can lag a
	 * receipt's). It was checked to be a prefix of that one, which stays pinned:
	 * say so, and name the newest, rather than "consistent with" a larger size.
	 */
	older = had_old && cp.size < old.size;
	if (older)
		pl_b64_encode(newest, old.root, PL_HASH_BYTES);
	if (a->json) {
		json_t *j = json_pack("{s:s, s:I, s:s, s:s#}", "origin", cp.origin, "size",
		                      (json_int_t)cp.size, "root", root, "checkpoint", note.data,
		                      (int)note.len);
		if (j && had_old)
			json_object_set_new(j, "consistent_with",
			                    json_integer((json_int_t)old.size));
		if (j && had_old)
			json_object_set_new(j, "older_than_seen", json_boolean(older));
		if (j && older)
			json_object_set_new(j, "newest_seen",
			                    json_pack("{s:I, s:s}", "size", (json_int_t)old.size,
			                              "root", newest));
		ret = cli_print_json(j, "the answer");
		json_decref(j);
	} else {
		printf("origin %s\nsize %llu\nroot %s\n", cp.origin, (unsigned long long)cp.size,
		       root);
		if (older)
			printf("older than the checkpoint of size %llu seen before, and consistent "
			       "with "
			       "it (a prefix of its tree): the exchange served one that lags, such "
			       "as "
			       "the newest its witnesses cosigned\nnewest seen: size %llu, root "
			       "%s\n",
			       (unsigned long long)old.size, (unsigned long long)old.size, newest);
		else if (had_old && cp.size == old.size)
			printf("the same as the checkpoint seen before\n");
		else if (had_old)
			printf("consistent with size %llu seen before\n",
			       (unsigned long long)old.size);
	}
out:
	pl_state_checkpoint_release(&old);
	pl_buf_release(&note);
	session_close(&s);
	return ret;
}

/* The read verbs, as bits of cli_opt.only. */
enum { V_INBOX = 1u << 0, V_SHOW = 1u << 1, V_PARTIES = 1u << 2, V_CHECKPOINT = 1u << 3 };

static const struct cli_verb verbs[] = {
        {"inbox", "[--all] [--wait SECONDS] [--profile DIR] [--json]",
         "Lists the records this party should see that are new since the last call: the\n"
         "sends and consultations addressed to it (as recipient, intermediary or ally),\n"
         "what others and the exchange did about its own records, and public\n"
         "statements. Every record is checked (its id, its author's signature against\n"
         "the exchange's directory) before it is listed. One line per record:\n"
         "\n"
         "  INDEX ID TIME AUTHOR KIND DESCRIPTION\n"
         "\n"
         "with the first 16 hex digits of the id. Then the cursor moves past them.\n",
         NULL, NULL, V_INBOX, false},
        {"show", "ID [--profile DIR] [--json]",
         "Shows record ID (a full id or a unique prefix of at least 8 hex digits): its\n"
         "log index, whether its inclusion proof holds under a checkpoint signed by the\n"
         "pinned log key and consistent with the checkpoints seen before, the signed\n"
         "record itself, and, when the record carries an encrypted payload this party\n"
         "can read, the content, opened with this party's key and checked against the\n"
         "record's commitment (a copy is kept in the local state).\n",
         "Exit status: 0 the record and its proof hold; 1 the proof, a signature or the\n"
         "content's commitment does not hold; 2 usage or I/O; 3 the exchange refused\n"
         "(an unknown or ambiguous ID).\n",
         "record ID", V_SHOW, false},
        {"parties", "[--profile DIR] [--json]",
         "Lists the exchange's directory: every party with its signing key and the\n"
         "index of its register record, each checked against that record's signature\n"
         "by the pinned log key.\n",
         NULL, NULL, V_PARTIES, false},
        {"log checkpoint", "[--profile DIR] [--json]",
         "Fetches the exchange's latest checkpoint, verifies its signature with the\n"
         "pinned log key, checks that it is consistent with the last checkpoint this\n"
         "client saw (a consistency proof from the exchange; the same size must have\n"
         "the same root), keeps it as the last seen, and prints the origin, the tree\n"
         "size and the root hash. If the exchange shows two histories it says so,\n"
         "prints both checkpoints, and exits 1.\n",
         NULL, NULL, V_CHECKPOINT, false},
};

/* Parses the arguments of read verb i and runs it with run. */
static int read_verb(size_t i, int argc, char **argv, int (*run)(const struct read_args *))
{
	struct read_args a = {0};
	const struct cli_opt opts[] = {
	        {'a', "all", CLI_FLAG, &a.all, NULL,
	         "list from the start of the log, not from the cursor", .only = V_INBOX},
	        {'w', "wait", CLI_UINT, &a.wait, "SECONDS",
	         "wait up to SECONDS (at most 60) for a record to arrive\n"
	         "when there is none (default 0: do not wait)",
	         .max = PL_HTTP_POLL_MAX_SECONDS, .only = V_INBOX},
	        CLI_OPT_PROFILE(&a.profile),
	        CLI_OPT_JSON(&a.json, i == 0   ? "print a JSON array of the records"
	                              : i == 2 ? "print a JSON array"
	                                       : "print a JSON object"),
	        {0},
	};
	int ret = cli_parse(&verbs[i], opts, argc, argv, &a.id);

	return ret >= 0 ? ret : run(&a);
}

int cmd_inbox(int argc, char **argv)
{
	return read_verb(0, argc, argv, run_inbox);
}

int cmd_show(int argc, char **argv)
{
	return read_verb(1, argc, argv, run_show);
}

int cmd_parties(int argc, char **argv)
{
	return read_verb(2, argc, argv, run_parties);
}

int cmd_log_checkpoint(int argc, char **argv)
{
	return read_verb(3, argc, argv, run_checkpoint);
}
