#!/bin/sh
# certwatch must never run out of its own descriptors and blame the
# servers for it.  Under a real `ulimit -n`: 2,000 endpoints (one nginx,
# one port, a name each) with max-probes = 1024 and a limit of 1024 open
# files (soft and hard, so it cannot be raised) are all OK, and check says
# once that fewer probes run at once; with a soft limit of 256 below a
# higher hard one, check and the daemon raise it; and probes that run out
# of descriptors half-way (tests/probe-tool holds them) wait for a socket
# instead of failing.
. "$TESTS_SRCDIR/lib.sh"

server_test 36 nginx openssl
N=2000

ca_leaf "$TEST_TMP/wild" 60 "*.scale.test" || bail_out "cannot make the certificate"
port=$(free_port)
# A backlog that holds the burst; nginx's own limits far above ours.  Its
# one worker does up to 1,024 handshakes at once: on a loaded machine some
# wait longer than nginx's default 60 s for the ClientHello (it then closes
# them without a word, and the server is blamed), so both sides wait 300 s;
# the deadlines only bound a hang.
NGINX_CONNECTIONS=4096 nginx_start "$port" <<EOF || bail_out "nginx did not start"
	server {
		listen 127.0.0.1:$port ssl backlog=4096;
		client_header_timeout 300s;
		ssl_certificate $TEST_TMP/wild.fullchain.pem;
		ssl_certificate_key $TEST_TMP/wild.key;
	}
EOF

conf="$TEST_TMP/etc/certwatch.conf"
{
	printf 'max-probes = 1024\ntimeout = "300s"\nstate-dir = "%s"\n' "$TEST_TMP/state"
	printf 'service scale {\n\taddress = "127.0.0.1"\n'
	printf '\tcert = "%s"\n\tkey = "%s"\n' "$TEST_TMP/wild.fullchain.pem" "$TEST_TMP/wild.key"
	i=1
	while [ "$i" -le "$N" ]; do
		printf '\tendpoint e%d { port = %d name = "e%d.scale.test" }\n' "$i" "$port" "$i"
		i=$((i + 1))
	done
	printf '}\n'
} | write_conf "$conf"

# count_ok JSON: how many endpoints are OK.
count_ok() {
	printf '%s' "$1" | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
bad = [e for e in d["endpoints"] if e["state"] != "OK"]
for e in bad[:3]:
    print("#", e["endpoint"], e["state"], e["probe"]["detail"], file=sys.stderr)
print(len(d["endpoints"]) - len(bad))'
}

# no_sanitizer_report: what the last run wrote to $TEST_TMP/err holds none.
no_sanitizer_report() {
	if grep -Eq 'Sanitizer|runtime error:' "$TEST_TMP/err"; then
		_tap_result 1 "no sanitizer report"
		diag "$(head -40 "$TEST_TMP/err")"
	fi
}

# ---- a limit that cannot be raised ---------------------------------------------

t0=$(now_ms)
out=$(sh -c 'ulimit -Sn 1024 && ulimit -Hn 1024 && exec "$@"' sh \
	"$CERTWATCH" check --config "$conf" --json 2>"$TEST_TMP/err")
rc=$?
no_sanitizer_report
err=$(cat "$TEST_TMP/err")
diag "check of $N endpoints under ulimit -n 1024: $(($(now_ms) - t0)) ms, exit $rc"
is "$(count_ok "$out")" "$N" "with 1024 open files at most, all $N endpoints are OK, none blamed on the server"
is "$rc" 0 "check exits 0"
like "$err" "certwatch: at most [0-9]+ probes run at once, not max-probes = 1024: the limit of open files is 1024 \\(hard limit 1024\\)" \
	"and says once that fewer probes run at once, and why"
is "$(printf '%s\n' "$err" | grep -c 'probes run at once')" 1 "once"

# ---- a soft limit below the hard one -------------------------------------------------

out=$(sh -c 'ulimit -Sn 256 && ulimit -Hn 8192 && exec "$@"' sh \
	"$CERTWATCH" check --config "$conf" --json 2>"$TEST_TMP/err")
rc=$?
no_sanitizer_report
is "$(count_ok "$out")" "$N" "with a soft limit of 256 under a hard one of 8192, all $N are OK"
unlike "$(cat "$TEST_TMP/err")" "probes run at once" "the soft limit was raised: no probe had to wait"

printf 'state-dir = "%s"\nservice one {\n\taddress = "127.0.0.1"\n\tcert = "%s"\n\tkey = "%s"\n\tendpoint e { port = %d name = "e1.scale.test" }\n}\n' \
	"$TEST_TMP/state" "$TEST_TMP/wild.fullchain.pem" "$TEST_TMP/wild.key" "$port" |
	write_conf "$TEST_TMP/one/certwatch.conf"
mark=$(log_mark)
DAEMON_EXEC_PREFIX="$TEST_TMP/soft256"
printf '#!/bin/sh\nulimit -Sn 256 && ulimit -Hn 8192 && exec "$@"\n' >"$DAEMON_EXEC_PREFIX"
chmod 0755 "$DAEMON_EXEC_PREFIX"
daemon_start "$TEST_TMP/one/certwatch.conf"
unset DAEMON_EXEC_PREFIX
wait_log "$mark" "guarding 1 services" 20
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$daemon_pid/limits" 2>/dev/null)
is "$soft" 8192 "the daemon, started with a soft limit of 256, raised it to the hard limit"
daemon_stop_ok

# ---- running out half-way -------------------------------------------------------------

# 300 probes, 100 at once; once the engine is made, probe-tool takes 150
# of the 200 descriptors away: about 40 probes get a socket at a time.
out=$(sh -c 'ulimit -Sn 200 && ulimit -Hn 200 && exec "$@"' sh \
	"$TESTS_BUILDDIR/probe-tool" -n 300 -j 100 -H 150 -t 60s 127.0.0.1 "$port" - e1.scale.test \
	2>"$TEST_TMP/err")
rc=$?
no_sanitizer_report
is "$(printf '%s\n' "$out" | grep -c ' ok done ')" 300 \
	"probes that ran out of descriptors waited for one: all 300 succeed (exit $rc)" ||
	diag "$(printf '%s\n' "$out" | grep -v ' ok done ' | head -3)"
like "$(cat "$TEST_TMP/err")" "notice: certwatch ran out of file descriptors with [0-9]+ probes in flight" \
	"and the engine says so"

daemon_log_clean
done_testing
