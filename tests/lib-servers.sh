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
