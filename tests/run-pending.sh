#!/bin/sh
# An endpoint the daemon has not checked yet is PENDING, never OK: right
# after the start, and after a SIGHUP that adds it, while its first probe
# stalls on a peer that accepts and never answers the ClientHello
# (tests/peer.py stall-handshake), `certwatch status` shows it PENDING,
# UNKNOWN, with no served certificate, exits 3 (2 once another endpoint
# is critical: a problem known outranks one not known yet), and the
# metrics leave it out.  A state file an older daemon wrote with such an
# endpoint as OK, served 64 zeros, is read as PENDING too.
. "$TESTS_SRCDIR/lib.sh"

server_test 47 openssl

ca_leaves 60 web.test a
live="$TEST_TMP/live/web"
mkdir -p "$live" && cp "$TEST_TMP/a.fullchain.pem" "$live/fullchain.pem" &&
	cp "$TEST_TMP/a.key" "$live/privkey.pem" && chmod 0600 "$live/privkey.pem" ||
	bail_out "cannot lay out the files"

port_fast=$(free_port)
peer tls "$port_fast" --cert "$live/fullchain.pem" --key "$live/privkey.pem"
port_slow=$(free_port)
peer stall-handshake "$port_slow"
slow_pid=$(cat "$TEST_TMP/peer-$port_slow.ready")

metrics="$TEST_TMP/certwatch.prom"
conf="$TEST_TMP/etc/certwatch.conf"
# web_conf ENDPOINT-LINE...: the configuration, the probe deadline long
# enough that only the peer's end ends a stalled probe.
web_conf() {
	{
		daemon_conf
		printf 'timeout = "2m"\nmetrics-file = "%s"\n' "$metrics"
		conf_service web web.test "$live" "$@"
	} | write_conf "$conf"
}
web_conf "endpoint fast { port = $port_fast }" "endpoint slow { port = $port_slow }"

# status_is ENDPOINT=STATE...: `certwatch status --json` (in $cw_out, its
# exit in $cw_rc) has each endpoint in that state; quiet while the state
# file is not there.
status_is() {
	cw_out=$(timeout -k 5 60 "$CERTWATCH" --config "$conf" status --json \
		2>"$TEST_TMP/status.err")
	cw_rc=$?
	if grep -Eq 'Sanitizer|runtime error:' "$TEST_TMP/status.err"; then
		_tap_result 1 "certwatch status: no sanitizer report"
		diag "$(cat "$TEST_TMP/status.err")"
	fi
	for _si in "$@"; do
		[ "$(json_endpoint "$cw_out" web "${_si%%=*}" state 2>/dev/null)" = "${_si#*=}" ] ||
			return 1
	done
}

daemon_start "$conf"
ok "the daemon writes the endpoint it checked: fast is OK" wait_for 30 status_is fast=OK ||
	diag "$cw_out" "$(cat "$DAEMON_LOG")"
ok "its probe of slow has not ended: the peer holds the handshake" kill -0 "$slow_pid"
is "$(json_endpoint "$cw_out" web slow state)" PENDING "slow, not checked yet, is PENDING, not OK"
is "$(json_endpoint "$cw_out" web slow severity)" UNKNOWN "its severity is UNKNOWN"
is "$(json_endpoint "$cw_out" web slow served_sha256)" null \
	"it has no served fingerprint (not 64 zeros)"
like "$(json_endpoint "$cw_out" web slow reason)" "not checked yet" \
	"the reason says it was not checked yet"
is "$cw_rc" 3 "certwatch status exits 3 (UNKNOWN), not 0: the host is not known healthy"
cw --config "$conf" status
like "$cw_out" "^web +slow +- +- +PENDING " \
	"the table shows slow PENDING, with no served or disk certificate"
ok "the metrics file is written" wait_for 10 test -s "$metrics"
contains "$(cat "$metrics")" 'endpoint="fast",state="OK"} 1' "the metrics say fast is OK"
unlike "$(cat "$metrics")" 'endpoint="slow"' "and leave slow out"

# The peer goes: the probe ends, and slow has a verdict.
stop_pid "$slow_pid"
ok "once its probe ends slow is UNREACHABLE" wait_for 30 status_is fast=OK slow=UNREACHABLE ||
	diag "$cw_out"
is "$cw_rc" 2 "and certwatch status exits 2 (CRITICAL)"

# ---- a SIGHUP adds an endpoint ----------------------------------------------------

port_late=$(free_port)
peer stall-handshake "$port_late"
web_conf "endpoint fast { port = $port_fast }" "endpoint slow { port = $port_slow }" \
	"endpoint late { port = $port_late }"
mark=$(log_mark)
kill -HUP "$daemon_pid"
ok "SIGHUP: the configuration is re-read" wait_log "$mark" "configuration re-read" 30 ||
	diag "$(log_since "$mark")"
ok "the new setup writes its endpoints: fast OK, slow UNREACHABLE, late there" \
	wait_for 30 status_is fast=OK slow=UNREACHABLE late=PENDING || diag "$cw_out"
is "$(json_endpoint "$cw_out" web late served_sha256)" null "late has no served fingerprint"
is "$cw_rc" 2 "certwatch status exits 2: slow's CRITICAL outranks late's UNKNOWN"
ok "the metrics file leaves late out" wait_for 10 eval \
	"grep -q 'endpoint=\"slow\"' '$metrics' && ! grep -q 'endpoint=\"late\"' '$metrics'"

daemon_stop_ok
daemon_log_clean

# ---- a state file of an older daemon ------------------------------------------------

old="$TEST_TMP/old-state"
mkdir -m 0700 "$old" || bail_out "cannot make $old"
zeros=0000000000000000000000000000000000000000000000000000000000000000
fp=$(cert_fp "$live/fullchain.pem")
# Its pid is this script's, alive: the daemon that wrote it counts as running.
{
	printf 'certwatch-state 1\npid %s\nwritten %s\n' "$$" "$(date +%s)"
	printf 'service name=web phase=probing\n'
	printf 'endpoint service=web name=fast served=%s disk=%s state=OK severity=OK ' "$fp" "$fp"
	printf 'served_not_after=1900000000 reason=valid\n'
	printf 'endpoint service=web name=slow served=%s disk=%%00 state=OK severity=OK ' "$zeros"
	printf 'served_not_after=0 reason=%%00\n'
} >"$old/state"
chmod 0600 "$old/state"
old_conf="$TEST_TMP/old-etc/certwatch.conf"
{
	printf 'state-dir = "%s"\n' "$old"
	conf_service web web.test "$live" "endpoint fast { port = $port_fast }"
} | write_conf "$old_conf"
cw --config "$old_conf" status --json
is "$(json_endpoint "$cw_out" web slow state)/$(json_endpoint "$cw_out" web slow served_sha256)" \
	PENDING/null "an older daemon's OK with 64 zeros served is read as PENDING, no served"
like "$(json_endpoint "$cw_out" web slow reason)" "not checked yet" \
	"and it says why, as the new daemon's record does"
is "$(json_endpoint "$cw_out" web fast state)" OK "its judged endpoint is read as it was"
is "$cw_rc" 3 "certwatch status exits 3 for it, not 0"

done_testing
