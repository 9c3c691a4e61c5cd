# lib-servers.sh - what the tests of one more Debian server each
# (tests/server-*.sh) share, sourced after lib.sh: a fingerprint compared
# with openssl s_client's, a count of a server's log lines, and a
# certbot-style renewal that the daemon must see served.

# server_fp_same WHAT PORT S_CLIENT-PROTO|- CW-PROTO|- NAME: one test that
# `certwatch check` sees on 127.0.0.1:PORT the fingerprint openssl s_client
# sees, and one that the probe is ok; the check's JSON is in $cw_out.
server_fp_same() {
	_sf_ref=$(served_fp 127.0.0.1 "$2" "$3" "$5")
	if [ "$4" = - ]; then
		cw check --connect "127.0.0.1:$2" --name "$5" --json
	else
		cw check --connect "127.0.0.1:$2" --starttls "$4" --name "$5" --json
	fi
	same_fp "$(json_get "$cw_out" endpoints.0.served.sha256)" "$_sf_ref" \
		"$1: certwatch's fingerprint equals openssl s_client's" ||
		diag "s_client: $(tail -n 5 "$TEST_TMP/s_client.err")"
	is "$(json_get "$cw_out" endpoints.0.probe.status)" ok "$1: probe status ok" ||
		diag "$(json_get "$cw_out" endpoints.0.probe.detail)"
}

# dialogue_fp PORT NAME STEP...: the fingerprint of the leaf a small
# reference client gets where openssl s_client cannot speak the dialogue
# (INN's MODE READER, InspIRCd's notices before 670): each STEP is
# "COMMAND|REGEX", the line sent (none when empty), then lines read until
# one matches; then a TLS handshake (Python's ssl) with SNI NAME.  Empty
# on failure, the reason in $TEST_TMP/reference.err.
dialogue_fp() {
	"$PYTHON" - "$@" <<'EOF' 2>"$TEST_TMP/reference.err"
import hashlib, re, socket, ssl, sys
port, name, steps = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
for step in steps:
    cmd, want = step.split("|", 1)
    if cmd:
        s.sendall(cmd.encode() + b"\r\n")
    while True:
        line = f.readline()
        if not line:
            sys.exit("the server closed the connection after %r" % cmd)
        if re.search(want.encode(), line):
            break
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname=name)
print(hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest())
t.unwrap()
EOF
}

# lines_matching FILE REGEX: how many lines of FILE match (0 when absent).
lines_matching() {
	if [ -e "$1" ]; then
		grep -Ec -- "$2" "$1"
	else
		echo 0
	fi
}

# probes_quiet WHAT LOG NOISE CLOSED N CHECK-ARG...: runs `certwatch check
# CHECK-ARG...` N times, waits until the server's LOG has N more lines
# matching CLOSED (its record of a session's end), then one test that LOG
# gained no line matching NOISE (what the server says of a client that
# left rudely).
probes_quiet() {
	_pq_what=$1 _pq_log=$2 _pq_noise=$3 _pq_closed=$4 _pq_n=$5
	shift 5
	_pq_before=$(lines_matching "$_pq_log" "$_pq_noise")
	_pq_closed0=$(lines_matching "$_pq_log" "$_pq_closed")
	_pq_i=0
	while [ "$_pq_i" -lt "$_pq_n" ]; do
		cw check "$@"
		_pq_i=$((_pq_i + 1))
	done
	wait_for 20 _pq_all_closed ||
		diag "$_pq_what: the server logged $(($(lines_matching "$_pq_log" "$_pq_closed") - \
			_pq_closed0)) of $_pq_n sessions closed"
	is "$(($(lines_matching "$_pq_log" "$_pq_noise") - _pq_before))" 0 \
		"$_pq_what: $_pq_n probes leave no \"$_pq_noise\" in the server's log"
}
_pq_all_closed() {
	[ "$(($(lines_matching "$_pq_log" "$_pq_closed") - _pq_closed0))" -ge "$_pq_n" ]
}

# service_serves CONF SERVICE FP: the daemon's status shows every endpoint
# of SERVICE OK and serving the certificate of fingerprint FP.
service_serves() {
	"$CERTWATCH" --config "$1" status --json 2>/dev/null | "$PYTHON" -c '
import json, sys
svc, fp = sys.argv[1], sys.argv[2]
eps = [e for e in json.load(sys.stdin)["endpoints"] if e.get("service") == svc]
sys.exit(0 if eps and all(e["state"] == "OK" and e.get("served_sha256") == fp
                          for e in eps) else 1)
' "$2" "$3"
}

# renewal_served CONF SERVICE LIVE PREFIX WHAT: renews the pair in LIVE as
# certbot does with PREFIX's, then one test that the running daemon finds
# every endpoint of SERVICE serving it, OK, within 60 s.  RENEW_HOOK, when
# set, is run after the renewal, as certbot runs a deploy hook.  The daemon's
# lines since the renewal are then in log_since "$rs_mark".
renewal_served() {
	rs_mark=$(log_mark)
	_rs_fp=$(cert_fp "$4.crt")
	disk_renew certbot "$3" "$4" || bail_out "cannot renew $2's files the certbot way"
	if [ -n "${RENEW_HOOK:-}" ]; then
		$RENEW_HOOK || bail_out "the renewal's hook $RENEW_HOOK failed"
	fi
	ok "$5: after a certbot renewal, every endpoint serves the new certificate, OK" \
		wait_for 60 service_serves "$1" "$2" "$_rs_fp" ||
		diag "$(log_since "$rs_mark")" "$("$CERTWATCH" --config "$1" status 2>&1)"
}

# server_pairs NAME DNSNAME N: N certificates for DNSNAME, made at
# $TEST_TMP/certs/NAME-0 to NAME-(N-1) (CA_KEY is honoured), and the
# first laid out as certbot does in LIVE=$TEST_TMP/disk/live/NAME, then
# RENEW_HOOK run when set.  Sets LIVE and LAST (the prefix of the last).
server_pairs() {
	LIVE="$TEST_TMP/disk/live/$1"
	mkdir -p "$TEST_TMP/certs"
	_sp_g=0
	while [ "$_sp_g" -lt "$3" ]; do
		ca_leaf "$TEST_TMP/certs/$1-$_sp_g" $((60 + _sp_g)) "$2" ||
			bail_out "cannot make a certificate"
		LAST="$TEST_TMP/certs/$1-$_sp_g"
		_sp_g=$((_sp_g + 1))
	done
	disk_install certbot "$LIVE" "$TEST_TMP/certs/$1-0" || bail_out "cannot lay out the files"
	if [ -n "${RENEW_HOOK:-}" ]; then
		$RENEW_HOOK || bail_out "the hook $RENEW_HOOK failed"
	fi
}

# server_guarded SERVICE NAME RELOADS LINE...: `certwatch run` guarding
# the pair in LIVE for NAME as SERVICE, with the LINEs (kind, reload
# settings, endpoints); tests that it settles OK, that a certbot renewal
# to LAST's pair is served (renewal_served) after RELOADS reloads verified
# (0: none was run, the server loads it by itself), and that the daemon
# stops cleanly.
server_guarded() {
	_sg_service=$1 _sg_name=$2 _sg_reloads=$3
	shift 3
	_sg_conf="$TEST_TMP/etc/certwatch.conf"
	{
		daemon_conf
		conf_service "$_sg_service" "$_sg_name" "$LIVE" "$@"
	} | write_conf "$_sg_conf"
	daemon_start "$_sg_conf"
	ok "$_sg_service: the daemon settles with every endpoint OK" \
		wait_for 30 status_all_ok "$_sg_conf" || diag "$(log_since 0)"
	renewal_served "$_sg_conf" "$_sg_service" "$LIVE" "$LAST" "$_sg_service"
	if [ "$_sg_reloads" -eq 0 ]; then
		is "$(log_count "$rs_mark" 'reloading')" 0 \
			"$_sg_service: no reload was needed, none was run"
	else
		# Served and OK comes with the first pass of the verification, its
		# line after the last.
		wait_log "$rs_mark" "^[0-9]+ certwatch: $_sg_service: reload verified" 30
		is "$(log_count "$rs_mark" "^certwatch: $_sg_service: reload verified")" \
			"$_sg_reloads" "$_sg_service: the renewal is reloaded and verified"
	fi
	daemon_stop_ok
	daemon_log_clean
}
