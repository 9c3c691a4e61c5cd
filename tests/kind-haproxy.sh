#!/bin/sh
# kind = "haproxy" against a real, private HAProxy (Debian's package):
#  - what certwatch's probe sees is what openssl s_client sees;
#  - a certbot-style renewal of a certificate on a bind line and of one in
#    a crt-list is taken through the runtime API on the admin socket (set
#    ssl cert, commit ssl cert): verified, the same worker process serving
#    before and after (nothing was reloaded), a keep-alive connection
#    opened before the renewal still answering after it;
#  - without an admin socket the kind falls back on reloading
#    haproxy.service (fake-systemd runs the master's reload), says why,
#    and verifies that too.
. "$TESTS_SRCDIR/lib.sh"

server_test 50 haproxy openssl dbus-daemon

ca_leaves 60 web.test w0 w1 w2
ca_leaves 60 list.test l0 l1
mkdir -p "$TEST_TMP/etc/live"
live_w="$TEST_TMP/etc/live/web.test"
live_l="$TEST_TMP/etc/live/list.test"
disk_install certbot "$live_w" "$TEST_TMP/w0" || bail_out "cannot lay out web.test's files"
disk_install certbot "$live_l" "$TEST_TMP/l0" || bail_out "cannot lay out list.test's files"
# HAProxy finds a certificate's key in FILE.key when FILE holds none.
ln -s privkey.pem "$live_w/fullchain.pem.key"
ln -s privkey.pem "$live_l/fullchain.pem.key"
port=$(free_port)
port_list=$(free_port)
echo "$live_l/fullchain.pem list.test" >"$TEST_TMP/crt.list"

haproxy_start <<EOF || bail_out "haproxy did not start"
	bind 127.0.0.1:$port ssl crt $live_w/fullchain.pem
	bind 127.0.0.1:$port_list ssl crt-list $TEST_TMP/crt.list
EOF
fake_systemd_start
fake_unit haproxy.service reload kill -USR2 "$haproxy_pid"

# ---- the probe sees what s_client sees ---------------------------------------------

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	conf_service ha web.test "$live_w" 'kind = "haproxy"' "control-socket = \"$HAPROXY_SOCK\"" \
		"endpoint https { port = $port }" \
		"endpoint list { port = $port_list name = \"list.test\" cert = \"$live_l/fullchain.pem\" key = \"$live_l/privkey.pem\" }"
} | write_conf "$conf"

cw --config "$conf" check --json
is "$cw_rc" 0 "certwatch check: both endpoints OK"
same_fp "$(json_endpoint "$cw_out" ha https served.sha256)" "$(served_fp 127.0.0.1 "$port" - web.test)" \
	"the probe's fingerprint of a bind line's certificate is s_client's"
same_fp "$(json_endpoint "$cw_out" ha list served.sha256)" \
	"$(served_fp 127.0.0.1 "$port_list" - list.test)" \
	"the probe's fingerprint of a crt-list's certificate is s_client's"
cw --config "$conf" --test-config
like "$cw_out" "# reload settings from kind haproxy: HAProxy's runtime API, reload-unit, reload-check; set here: control-socket" \
	"--test-config shows the recipe and where it came from"

# ---- a renewal through the runtime API ------------------------------------------------

worker() {
	pgrep -P "$haproxy_pid" -x haproxy | head -n 1
}
worker_before=$(worker)
ok "HAProxy runs a worker process" test -n "$worker_before"

# A client that keeps one connection open across the renewal.
"$PYTHON" - "$port" "$TEST_TMP/keepalive" <<'PY' &
import socket, ssl, sys, time, os
port, out = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="web.test")
def ask():
    s.sendall(b"GET / HTTP/1.1\r\nHost: web.test\r\n\r\n")
    data = b""
    while b"\r\n\r\nok" not in data:
        b = s.recv(4096)
        if not b:
            return "closed"
        data += b
    return "answered"
first = ask()
open(out + ".ready", "w").close()
while not os.path.exists(out + ".go"):
    time.sleep(0.05)
try:
    second = ask()
except OSError as e:
    second = "error: %s" % e
open(out, "w").write("%s %s\n" % (first, second))
PY
keepalive=$!
wait_for 10 test -e "$TEST_TMP/keepalive.ready" || diag "the keep-alive client did not connect"

mark=$(log_mark)
daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf"
mark=$(log_mark)
disk_renew certbot "$live_w" "$TEST_TMP/w1"
disk_renew certbot "$live_l" "$TEST_TMP/l1"
ok "the renewal is verified" wait_log "$mark" "ha: reload verified" 30 || diag "$(log_since "$mark")"
same_fp "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp w1)" \
	"s_client sees the new certificate on the bind line"
same_fp "$(served_fp 127.0.0.1 "$port_list" - list.test)" "$(leaf_fp l1)" \
	"s_client sees the new certificate of the crt-list"
is "$(worker)" "$worker_before" "the same worker process serves: HAProxy was not reloaded"
is "$(grep -c . "$FAKE_UNITS_LOG")" 0 "haproxy.service was not reloaded"
status_all_ok "$conf"
like "$(json_service "$cw_out" ha last_result)" "reload: ok \(HAProxy took 2 certificates through its runtime API on $HAPROXY_SOCK\)" \
	"the result names the runtime API and the certificates it took"
touch "$TEST_TMP/keepalive.go"
wait "$keepalive"
is "$(cat "$TEST_TMP/keepalive" 2>/dev/null)" "answered answered" \
	"a keep-alive connection opened before the renewal still answers after it"
daemon_stop_ok

# ---- no admin socket: a reload instead --------------------------------------------------

{
	daemon_conf
	conf_service ha web.test "$live_w" 'kind = "haproxy"' \
		"control-socket = \"$TEST_TMP/haproxy/none.sock\"" "endpoint https { port = $port }"
} | write_conf "$conf"
mark=$(log_mark)
daemon_start "$conf"
ok "the daemon starts again with every endpoint OK" wait_for 30 status_all_ok "$conf"
mark=$(log_mark)
disk_renew certbot "$live_w" "$TEST_TMP/w2"
ok "without an admin socket the renewal is verified too" wait_log "$mark" "ha: reload verified" 30 ||
	diag "$(log_since "$mark")"
is "$(cat "$FAKE_UNITS_LOG")" "ReloadUnit haproxy.service replace" "haproxy.service was reloaded"
same_fp "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp w2)" "s_client sees the new certificate"
status_all_ok "$conf"
like "$(json_service "$cw_out" ha last_result)" "no runtime API \(cannot connect to $TEST_TMP/haproxy/none.sock: No such file or directory\), reloaded instead; systemd reloaded haproxy.service" \
	"the result says why it reloaded"
daemon_stop_ok
daemon_log_clean

done_testing
