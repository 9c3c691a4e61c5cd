#!/bin/sh
# Who ended a failed handshake, and a certificate that came before the end
# (tests/peer.py): a server that closes without a word, a chain larger
# than certwatch accepts (certwatch's own alert, not the server's), a
# server that refuses certwatch's key type (the server's alert), and a TLS
# 1.2 server that requires a client certificate, whose own certificate has
# arrived before its alert and is judged.
. "$TESTS_SRCDIR/lib.sh"

server_test 40 openssl

ca_leaves 60 peer.test peer
fp=$(leaf_fp peer)

# probe MODE [PEER-ARGS...]: a peer on a port of its own, checked ad hoc
# against the peer's files; the JSON in $cw_out.  PROBE_TIMEOUT: the
# probe's deadline (5s), which only bounds a hang: each case ends by itself.
probe() {
	_p_mode=$1
	shift
	_p_port=$(free_port)
	peer "$_p_mode" "$_p_port" --key "$TEST_TMP/peer.key" "$@"
	cw check --connect "127.0.0.1:$_p_port" --name peer.test --timeout "${PROBE_TIMEOUT:-5s}" \
		--cert "$TEST_TMP/peer.fullchain.pem" --key "$TEST_TMP/peer.key" --json
}
detail() {
	json_get "$cw_out" endpoints.0.probe.detail
}

# ---- the server closes without a word ----------------------------------------

probe close-silently --cert "$TEST_TMP/peer.fullchain.pem"
is "$(json_get "$cw_out" endpoints.0.probe.status)/$cw_rc" tls-failed/2 \
	"a server that closes after the ClientHello: tls-failed, exit 2"
like "$(detail)" "closed the connection without a word" "it is said to have closed without a word"
unlike "$(detail)" "sent TLS alert" "no alert is put in its mouth (certwatch's own decode error is not the server's)"

# ---- a chain larger than certwatch accepts ---------------------------------------

# About 1.2 MB: the peer's certificate, then its root over and over.
cp "$TEST_TMP/peer.fullchain.pem" "$TEST_TMP/huge.pem"
i=0
while [ $i -lt 1800 ]; do
	cat "$CA_DIR/root.pem"
	i=$((i + 1))
done >>"$TEST_TMP/huge.pem"
# The peer reads its 1,800 certificates again for each connection: seconds
# on a loaded machine (a 5 s deadline timed out under two suites at once).
PROBE_TIMEOUT=50s
probe tls --cert "$TEST_TMP/huge.pem"
unset PROBE_TIMEOUT
is "$(json_get "$cw_out" endpoints.0.probe.status)/$cw_rc" tls-failed/2 \
	"a 1.2 MB chain: tls-failed (certwatch refused it), exit 2"
like "$(detail)" "larger than certwatch accepts.*certwatch ended the handshake with TLS alert illegal parameter" \
	"it says certwatch refused the message and sent the alert itself"
unlike "$(detail)" "the server sent TLS alert" "the alert is not said to be the server's"

# ---- an alert the server does send -----------------------------------------------

probe tls --cert "$TEST_TMP/peer.fullchain.pem"
cw check --connect "127.0.0.1:$_p_port" --name peer.test --key-type rsa --json
is "$(json_get "$cw_out" endpoints.0.probe.status)" tls-alert \
	"an ECDSA-only server asked for RSA: tls-alert"
like "$(detail)" "^the server sent TLS alert handshake failure" "the server's own alert is said as the server's"

# ---- a server that requires a client certificate -----------------------------------

probe tls --cert "$TEST_TMP/peer.fullchain.pem" --tls12 --require-client-cert
is "$(json_get "$cw_out" endpoints.0.state)/$cw_rc" OK/0 \
	"TLS 1.2, client certificate required: the server's certificate is judged, OK, exit 0"
is "$(json_get "$cw_out" endpoints.0.served.sha256)" "$fp" "the served certificate is the one that arrived before the alert"
like "$(detail)" "asked for a client certificate.*alert handshake failure after sending its own" \
	"the probe says the server asked for a client certificate and ended with an alert"
probe tls --cert "$TEST_TMP/peer.fullchain.pem" --require-client-cert
is "$(json_get "$cw_out" endpoints.0.state)/$(json_get "$cw_out" endpoints.0.served.sha256)" "OK/$fp" \
	"TLS 1.3, client certificate required: OK with the server's certificate"

done_testing
