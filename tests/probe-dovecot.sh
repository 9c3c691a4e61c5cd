#!/bin/sh
# A private Dovecot 2.3: for every kind of listener it has (imap and pop3
# with STARTTLS, imaps and pop3s, managesieve, lmtp over TCP), certwatch
# must report the fingerprint openssl s_client sees.
. "$TESTS_SRCDIR/lib.sh"

server_test 2 dovecot openssl

ca_leaves 60 mail.test mail
fp=$(leaf_fp mail)

dovecot_start "$TEST_TMP/mail.fullchain.pem" "$TEST_TMP/mail.key" ||
	bail_out "dovecot did not start"

# listener port s_client's -starttls (- for implicit TLS) certwatch's --starttls
for row in "imap $dc_imap imap imap" "imaps $dc_imaps - -" \
	"pop3 $dc_pop3 pop3 pop3" "pop3s $dc_pop3s - -" \
	"sieve $dc_sieve sieve sieve" "lmtp $dc_lmtp lmtp lmtp"; do
	# shellcheck disable=SC2086
	set -- $row
	what=$1 port=$2 ref_proto=$3 cw_proto=$4
	if [ "$cw_proto" = - ]; then
		kind="implicit TLS"
		set -- check --connect "127.0.0.1:$port" --name mail.test --json
		want_proto=tls
	else
		kind="STARTTLS"
		set -- check --connect "127.0.0.1:$port" --starttls "$cw_proto" --name mail.test --json
		want_proto=$cw_proto
	fi
	ref=$(served_fp 127.0.0.1 "$port" "$ref_proto" mail.test)
	is "$ref" "$fp" "dovecot $what ($kind): openssl s_client sees the configured certificate"
	cw "$@" --cert "$TEST_TMP/mail.fullchain.pem" --key "$TEST_TMP/mail.key"
	same_fp "$(json_get "$cw_out" endpoints.0.served.sha256)" "$ref" \
		"dovecot $what ($kind): certwatch fingerprint equals openssl s_client's"
	is "$(json_get "$cw_out" endpoints.0.probe.status)" ok "dovecot $what ($kind): probe status ok"
	is "$(json_get "$cw_out" endpoints.0.protocol)" "$want_proto" "dovecot $what: protocol $want_proto"
	is "$(json_get "$cw_out" endpoints.0.state)/$cw_rc" OK/0 \
		"dovecot $what ($kind): served equals disk, state OK, exit 0"
done

# All listeners at once, from one configuration file, probed concurrently.
write_conf "$TEST_TMP/etc/certwatch.conf" <<EOF
service dovecot {
	cert = "$TEST_TMP/mail.fullchain.pem"
	key = "$TEST_TMP/mail.key"
	name = "mail.test"
	address = "127.0.0.1"
	endpoint imap { port = $dc_imap starttls = "imap" }
	endpoint imaps { port = $dc_imaps }
	endpoint pop3 { port = $dc_pop3 starttls = "pop3" }
	endpoint pop3s { port = $dc_pop3s }
	endpoint sieve { port = $dc_sieve starttls = "sieve" }
	endpoint lmtp { port = $dc_lmtp starttls = "lmtp" }
}
EOF
cw check --config "$TEST_TMP/etc/certwatch.conf" --json
is "$cw_rc" 0 "dovecot, six endpoints from one configuration: exit 0"
for ep in imap imaps pop3 pop3s sieve lmtp; do
	is "$(json_endpoint "$cw_out" dovecot $ep served.sha256)/$(json_endpoint "$cw_out" dovecot $ep state)" \
		"$fp/OK" "dovecot $ep from the configuration: the served fingerprint, state OK"
done

# STARTTLS against the implicit-TLS port and vice versa must fail cleanly.
cw check --connect "127.0.0.1:$dc_imaps" --starttls imap --timeout 2s --json
is "$cw_rc" 2 "imap STARTTLS against dovecot's imaps port: exit 2"
is "$(json_get "$cw_out" endpoints.0.probe.status)/$(json_get "$cw_out" endpoints.0.probe.phase)" \
	timeout/starttls "imap STARTTLS against dovecot's imaps port: timeout waiting for the greeting"
cw check --connect "127.0.0.1:$dc_imap" --timeout 3s --json
is "$cw_rc" 2 "implicit TLS against dovecot's plain imap port: exit 2"
like "$(json_get "$cw_out" endpoints.0.probe.status)" '^(tls-failed|protocol-error|tls-alert)$' \
	"implicit TLS against dovecot's plain imap port: a TLS failure, not a timeout"

ok "dovecot's master is still running after every probe" \
	kill -0 "$(cat "$TEST_TMP/dovecot/run/master.pid")"
done_testing
