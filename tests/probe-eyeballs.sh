#!/bin/sh
# A name with two addresses whose first drops every SYN (a dead host, a
# firewall): the probe must not spend its deadline on it.  As RFC 8305
# (Happy Eyeballs v2) says, the second address is tried 250 ms later, the
# attempts race, and the first to connect is kept: the endpoint is OK,
# through the second address, in about a quarter of a second.  The same
# for IPv6 first (as getaddrinfo orders ::1 before 127.0.0.x, RFC 6724)
# and IPv4 behind it, and back.
#
# The name is the test's own: /etc/hosts is replaced by a file of the
# test's in a private mount namespace of certwatch's run alone; the
# blackhole is a listener whose accept queue is full (tests/peer.py).
. "$TESTS_SRCDIR/lib.sh"

server_test 35 openssl unshare
ca_leaves 60 he.test peer
port=$(free_port)

# listener MODE HOST: tests/peer.py in MODE on HOST:$port; waits until it listens.
listener() {
	_ready="$TEST_TMP/ready-$1-$2"
	start_bg "peer-$1-$2" "$PYTHON" "$TESTS_SRCDIR/peer.py" --mode "$1" --host "$2" \
		--port "$port" --cert "$TEST_TMP/peer.fullchain.pem" --key "$TEST_TMP/peer.key" \
		--ready-file "$_ready"
	wait_for 10 test -e "$_ready" || bail_out "peer.py --mode $1 on $2 did not start"
}

# seconds_within S LOW HIGH: LOW <= S < HIGH (the probe's own time, which
# a loaded machine's process start-up does not count in).
seconds_within() {
	"$PYTHON" -c 'import sys; s, lo, hi = map(float, sys.argv[1:]); sys.exit(0 if lo <= s < hi else 1)' \
		"$1" "$2" "$3"
}

# check_name NAME [TIMEOUT]: certwatch check of NAME:$port with the test's
# /etc/hosts, in a mount namespace of its own.
check_name() {
	cw_out=$(timeout -k 5 60 unshare --mount --propagation private sh -c \
		'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh "$TEST_TMP/hosts" \
		"$CERTWATCH" check --connect "$1:$port" --name he.test --timeout "${2:-5s}" --json \
		2>"$TEST_TMP/cw.err")
	cw_rc=$?
	if grep -Eq 'Sanitizer|runtime error:' "$TEST_TMP/cw.err"; then
		_tap_result 1 "certwatch check of $1: no sanitizer report"
		diag "$(cat "$TEST_TMP/cw.err")"
	fi
}

cat >"$TEST_TMP/hosts" <<EOF
127.0.0.1 localhost
127.0.0.2 he.test
127.0.0.3 he.test
EOF
listener blackhole 127.0.0.2
listener tls 127.0.0.3

check_name he.test
is "$(json_get "$cw_out" endpoints.0.probe.status)" ok \
	"he.test, first address blackholed: the probe succeeds (exit $cw_rc)" ||
	diag "$cw_out" "$(cat "$TEST_TMP/cw.err")"
is "$(json_get "$cw_out" endpoints.0.probe.peer)" "127.0.0.3:$port" "through the second address"
is "$(json_get "$cw_out" endpoints.0.served.subject | sed 's/.*CN=//')" he.test \
	"and reports the certificate served there"
seconds=$(json_get "$cw_out" endpoints.0.probe.seconds)
ok "within half the 5 s deadline: the second attempt starts 250 ms after the first (${seconds} s)" \
	seconds_within "$seconds" 0.2 2.5

# Both blackholed: the deadline, and a message that names both addresses.
cat >"$TEST_TMP/hosts" <<EOF
127.0.0.2 both.test
127.0.0.4 both.test
EOF
listener blackhole 127.0.0.4
check_name both.test 2s
is "$(json_get "$cw_out" endpoints.0.probe.status)" timeout "two blackholed addresses: a timeout"
like "$(json_get "$cw_out" endpoints.0.probe.detail)" \
	"no answer within 2s while connecting to 127\\.0\\.0\\.[24]:$port and 127\\.0\\.0\\.[24]:$port" \
	"the message names both addresses it waited for"

# A refused first address: the next one at once, not after 250 ms.
cat >"$TEST_TMP/hosts" <<EOF
127.0.0.5 refused.test
127.0.0.3 refused.test
EOF
check_name refused.test
is "$(json_get "$cw_out" endpoints.0.probe.peer)" "127.0.0.3:$port" \
	"a refused first address: the second one is used"

if have_ipv6_loopback; then
	cat >"$TEST_TMP/hosts" <<EOF
::1 six.test
127.0.0.3 six.test
EOF
	listener blackhole ::1
	check_name six.test
	is "$(json_get "$cw_out" endpoints.0.probe.peer)" "127.0.0.3:$port" \
		"IPv6 first (RFC 6724), blackholed: IPv4 wins the race"
	seconds=$(json_get "$cw_out" endpoints.0.probe.seconds)
	ok "within half the deadline (${seconds} s)" seconds_within "$seconds" 0.2 2.5
else
	skip "no IPv6 loopback"
	skip "no IPv6 loopback"
fi

done_testing
