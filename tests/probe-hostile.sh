#!/bin/sh
# Hostile and broken servers (tests/peer.py): every probe must end by its
# own deadline with a named error, exit 2 (CRITICAL) and no crash.  The
# clock on the wall only guards against a hang (the peers hold on for a
# minute): how long a run takes on a loaded machine is not the point, that
# the probe ended for the reason and in the phase expected is.
. "$TESTS_SRCDIR/lib.sh"

server_test 5 openssl

ca_leaves 60 peer.test peer

timeout_s=4
hang_ms=$(((timeout_s + 15) * 1000))

# hostile DESCRIPTION MODE STARTTLS(-: none) WANT-STATUS WANT-PHASE(-: any)
#   [DETAIL-REGEX [PEER-ARGS...]]
hostile() {
	h_desc=$1 h_mode=$2 h_proto=$3 h_status=$4 h_phase=$5
	h_detail=${6:-.}
	shift 5
	[ $# -gt 0 ] && shift
	h_port=$(free_port)
	peer "$h_mode" "$h_port" --cert "$TEST_TMP/peer.fullchain.pem" \
		--key "$TEST_TMP/peer.key" "$@"
	set -- check --connect "127.0.0.1:$h_port" --name peer.test --timeout "${timeout_s}s" --json
	[ "$h_proto" != - ] && set -- "$@" --starttls "$h_proto"
	h_n=$((h_n + 1))
	h_endpoints="$h_endpoints	endpoint h$h_n { port = $h_port"
	[ "$h_proto" != - ] && h_endpoints="$h_endpoints starttls = \"$h_proto\""
	h_endpoints="$h_endpoints }
"
	h_t0=$(now_ms)
	cw "$@"
	h_ms=$(($(now_ms) - h_t0))
	ok "$h_desc: certwatch does not hang (${h_ms} ms, deadline ${timeout_s} s)" \
		test "$h_ms" -lt "$hang_ms"
	ok "$h_desc: no crash (exit $cw_rc < 128)" test "$cw_rc" -lt 128
	is "$cw_rc" 2 "$h_desc: exit 2 (CRITICAL)"
	h_got=$(json_get "$cw_out" endpoints.0.probe.status)
	like "$h_got" "^($h_status)\$" "$h_desc: probe status $h_status"
	if [ "$h_phase" != - ]; then
		is "$(json_get "$cw_out" endpoints.0.probe.phase)" "$h_phase" "$h_desc: ended in phase $h_phase"
	fi
	like "$(json_get "$cw_out" endpoints.0.probe.detail)" "$h_detail" \
		"$h_desc: the detail says what happened"
	is "$(json_get "$cw_out" endpoints.0.state)" UNREACHABLE "$h_desc: state UNREACHABLE"
}

h_n=0
h_endpoints=""
hostile "endless 220- banner, flooding" endless-banner smtp \
	protocol-error starttls '[Pp]reamble|too long|[Bb]ound|bytes'
hostile "endless 220- banner, trickling" endless-banner smtp \
	timeout starttls "within ${timeout_s}s" --interval 0.05
hostile "100000-byte banner without a newline" long-line smtp \
	protocol-error starttls '[Ll]ine'
hostile "HTTP 400 answer to the ClientHello" garbage-tls - \
	tls-failed handshake .
hostile "random bytes answering the ClientHello" garbage-tls - \
	tls-failed handshake . --random
hostile "server reads the ClientHello and never answers" stall-handshake - \
	timeout handshake "within ${timeout_s}s"
hostile "server accepts and never sends its banner" stall-banner smtp \
	timeout starttls "within ${timeout_s}s"
hostile "AUTH TLS accepted, then silence in the handshake" ftp ftp \
	timeout handshake "within ${timeout_s}s" --stall-tls
hostile "a listener that drops every SYN (its accept queue full)" blackhole - \
	timeout connect "no answer within ${timeout_s}s while connecting to 127\\.0\\.0\\.1:[0-9]+"

# All of them at once, beside a healthy server, from one configuration:
# the probes run concurrently, so the whole check takes one deadline, and
# the hostile endpoints do not spoil the healthy one.
good=$(free_port)
peer tls "$good" --cert "$TEST_TMP/peer.fullchain.pem" --key "$TEST_TMP/peer.key"
write_conf "$TEST_TMP/etc/certwatch.conf" <<CONF
timeout = "${timeout_s}s"
service hostile {
	address = "127.0.0.1"
	name = "peer.test"
	cert = "$TEST_TMP/peer.fullchain.pem"
	key = "$TEST_TMP/peer.key"
$h_endpoints	endpoint good { port = $good }
}
CONF
t0=$(now_ms)
cw check --config "$TEST_TMP/etc/certwatch.conf" --json
ms=$(($(now_ms) - t0))
# One after another the four that run into the deadline would take 4 x 4 s.
serial_ms=$((4 * timeout_s * 1000))
ok "$h_n hostile endpoints and a healthy one are probed concurrently: less than the four deadlines one after another (${ms} ms < ${serial_ms} ms)" \
	test "$ms" -lt "$serial_ms"
is "$cw_rc" 2 "hostile endpoints in a configuration: exit 2"
is "$(json_endpoint "$cw_out" hostile good state)" OK "the healthy endpoint beside the hostile ones is OK"
is "$(json_endpoint "$cw_out" hostile good served.sha256)" "$(leaf_fp peer)" \
	"the healthy endpoint beside the hostile ones reports its certificate"
n_unreach=0
i=1
while [ $i -le "$h_n" ]; do
	[ "$(json_endpoint "$cw_out" hostile h$i state)" = UNREACHABLE ] && n_unreach=$((n_unreach + 1))
	i=$((i + 1))
done
is "$n_unreach" "$h_n" "every hostile endpoint in the configuration is UNREACHABLE"

done_testing
