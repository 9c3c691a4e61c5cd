#!/bin/sh
# STARTTLS dialogues of servers that are not installed here, played by
# tests/peer.py (ftp, xmpp, xmpp-server, ldap, postgres, mysql, nntp,
# irc): certwatch's fingerprint must equal openssl s_client -starttls's.
# And a server that does not offer STARTTLS must be reported as such,
# with what it said.
. "$TESTS_SRCDIR/lib.sh"

server_test 4 openssl

ca_leaves 60 peer.test peer
fp=$(leaf_fp peer)
tls="--cert $TEST_TMP/peer.fullchain.pem --key $TEST_TMP/peer.key"

for proto in ftp xmpp xmpp-server ldap postgres mysql nntp irc; do
	port=$(free_port)
	# shellcheck disable=SC2086
	peer "$proto" "$port" $tls
	extra=""
	case $proto in
	xmpp*) extra="-xmpphost peer.test" ;;
	esac
	# shellcheck disable=SC2086
	ref=$(served_fp 127.0.0.1 "$port" "$proto" peer.test $extra)
	is "$ref" "$fp" "$proto STARTTLS peer: openssl s_client -starttls $proto sees the certificate"
	cw check --connect "127.0.0.1:$port" --starttls "$proto" --name peer.test --timeout 5s --json
	same_fp "$(json_get "$cw_out" endpoints.0.served.sha256)" "$ref" \
		"$proto STARTTLS: certwatch fingerprint equals openssl s_client's"
	is "$(json_get "$cw_out" endpoints.0.probe.status)/$(json_get "$cw_out" endpoints.0.protocol)" \
		"ok/$proto" "$proto STARTTLS: probe status ok, protocol $proto"
	[ "$(json_get "$cw_out" endpoints.0.probe.status)" = ok ] ||
		diag "$(json_get "$cw_out" endpoints.0.probe.detail)"
done

# Without STARTTLS: the probe ends in the STARTTLS phase with the server's
# own words in the reason, so the administrator sees what it offers.
port=$(free_port)
peer smtp-no-starttls "$port" --name mx.test
cw check --connect "127.0.0.1:$port" --starttls smtp --name mx.test --timeout 5s --json
is "$cw_rc" 2 "smtp server without STARTTLS: exit 2"
is "$(json_get "$cw_out" endpoints.0.probe.status)" starttls-refused \
	"smtp server without STARTTLS: probe status starttls-refused"
is "$(json_get "$cw_out" endpoints.0.probe.phase)" starttls \
	"smtp server without STARTTLS: ended in phase starttls"
like "$(json_get "$cw_out" endpoints.0.reason)" 'PIPELINING|8BITMIME|502' \
	"smtp server without STARTTLS: the reason quotes the server's capabilities"
is "$(json_get "$cw_out" endpoints.0.state)" UNREACHABLE "smtp server without STARTTLS: state UNREACHABLE"

port=$(free_port)
peer imap-no-starttls "$port" --name mail.test
cw check --connect "127.0.0.1:$port" --starttls imap --name mail.test --timeout 5s --json
is "$(json_get "$cw_out" endpoints.0.probe.status)/$cw_rc" starttls-refused/2 \
	"imap server without STARTTLS: starttls-refused, exit 2"
like "$(json_get "$cw_out" endpoints.0.reason)" 'IMAP4rev1|CAPABILITY|BAD' \
	"imap server without STARTTLS: the reason quotes the server's capabilities"

port=$(free_port)
peer ftp-no-starttls "$port" --name ftp.test
cw check --connect "127.0.0.1:$port" --starttls ftp --name ftp.test --timeout 5s --json
is "$(json_get "$cw_out" endpoints.0.probe.status)/$cw_rc" starttls-refused/2 \
	"ftp server without AUTH TLS: starttls-refused, exit 2"
like "$(json_get "$cw_out" endpoints.0.reason)" '500|530|Features|MDTM|AUTH' \
	"ftp server without AUTH TLS: the reason quotes what the server said"

# ---- lifetimes of the served certificate, over a real handshake -----------

ca_leaves -5 peer.test expired
CA_NOT_BEFORE=$((-70 * 86400)) ca_leaf "$TEST_TMP/overdue" 20 peer.test ||
	bail_out "cannot make a certificate"
fresh="--cert $TEST_TMP/peer.fullchain.pem --key $TEST_TMP/peer.key"

port=$(free_port)
peer tls "$port" --cert "$TEST_TMP/expired.fullchain.pem" --key "$TEST_TMP/expired.key"
cw check --connect "127.0.0.1:$port" --name peer.test --json
is "$(json_get "$cw_out" endpoints.0.state)/$cw_rc" EXPIRED/2 \
	"a server serving an expired certificate: EXPIRED, exit 2"
like "$(json_get "$cw_out" endpoints.0.served.days_left)" '^-' \
	"a server serving an expired certificate: negative days left"
cw check --connect "127.0.0.1:$port" --name peer.test \
	--cert "$TEST_TMP/expired.fullchain.pem" --key "$TEST_TMP/expired.key" --json
is "$(json_get "$cw_out" endpoints.0.state)/$(json_get "$cw_out" endpoints.0.disk.status)/$cw_rc" \
	EXPIRED/expired/2 "expired certificate served and on disk: EXPIRED, disk expired, exit 2"
# shellcheck disable=SC2086
cw check --connect "127.0.0.1:$port" --name peer.test $fresh --json
is "$(json_get "$cw_out" endpoints.0.state)" STALE \
	"expired certificate served while a valid renewal is on disk: STALE (a reload fixes it)"
like "$cw_rc" '^[12]$' "expired served, renewal on disk: exit non-zero"

port=$(free_port)
peer tls "$port" --cert "$TEST_TMP/overdue.fullchain.pem" --key "$TEST_TMP/overdue.key"
cw check --connect "127.0.0.1:$port" --name peer.test \
	--cert "$TEST_TMP/overdue.fullchain.pem" --key "$TEST_TMP/overdue.key" --json
is "$(json_get "$cw_out" endpoints.0.state)/$cw_rc" RENEWAL-OVERDUE/1 \
	"90-day certificate with 20 days left, the same on disk: RENEWAL-OVERDUE, exit 1"
# shellcheck disable=SC2086
cw check --connect "127.0.0.1:$port" --name peer.test $fresh --json
is "$(json_get "$cw_out" endpoints.0.state)" STALE \
	"90-day certificate with 20 days left served, a renewal on disk: STALE"

done_testing
