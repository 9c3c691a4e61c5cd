#!/bin/sh
# kind = "prosody" against a real, private Prosody 0.12 (Debian's
# package), its configuration, data and pid file in $TEST_TMP:
#  - the probe's fingerprint over XMPP STARTTLS is openssl s_client
#    -starttls xmpp's;
#  - a certbot-style renewal is reloaded through the kind's recipe
#    (prosody.service, whose reload fake-systemd carries out as Debian's
#    unit does: SIGHUP to the main process) and verified, the same
#    process serving.
. "$TESTS_SRCDIR/lib.sh"

server_test 55 openssl prosody dbus-daemon

ca_leaves 60 xmpp.test x0 x1
live="$TEST_TMP/disk/live/xmpp"
disk_install certbot "$live" "$TEST_TMP/x0" || bail_out "cannot lay out the files"

P="$TEST_TMP/prosody"
mkdir -p "$P/data" "$P/certs"
port=$(free_port)
cat >"$P/prosody.cfg.lua" <<EOF
run_as_root = true
daemonize = false
pidfile = "$P/prosody.pid"
data_path = "$P/data"
certificates = "$P/certs"
log = { info = "$P/prosody.log" }
interfaces = { "127.0.0.1" }
c2s_ports = { $port }
modules_enabled = { "tls"; "saslauth"; "disco"; "posix" }
modules_disabled = { "s2s" }
VirtualHost "xmpp.test"
	ssl = { certificate = "$live/fullchain.pem"; key = "$live/privkey.pem" }
EOF
start_bg prosody prosody --config "$P/prosody.cfg.lua" -F
prosody_pid=$bg_pid
wait_port 127.0.0.1 "$port" 20 "$prosody_pid" && wait_for 10 test -s "$P/prosody.pid" ||
	{ cat "$TEST_TMP/prosody.log" "$P/prosody.log" >&2; bail_out "prosody did not start"; }
main_pid=$(cat "$P/prosody.pid")

fake_systemd_start
fake_unit prosody.service reload kill -HUP "$main_pid"

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	conf_service xmpp xmpp.test "$live" 'kind = "prosody"' "endpoint xmpp { port = $port }"
} | write_conf "$conf"

cw --config "$conf" check --json
is "$cw_rc" 0 "certwatch check: Prosody's endpoint is OK"
same_fp "$(json_endpoint "$cw_out" xmpp xmpp served.sha256)" \
	"$(served_fp 127.0.0.1 "$port" xmpp xmpp.test -xmpphost xmpp.test)" \
	"the probe sees what s_client -starttls xmpp sees"

daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf"
mark=$(log_mark)
disk_renew certbot "$live" "$TEST_TMP/x1" || bail_out "cannot renew"
ok "the renewal is reloaded through prosody.service and verified" \
	wait_log "$mark" "certwatch: xmpp: reload verified" 30 || diag "$(log_since "$mark")"
is "$(cat "$FAKE_UNITS_LOG")" "ReloadUnit prosody.service replace" "prosody.service was reloaded"
same_fp "$(served_fp 127.0.0.1 "$port" xmpp xmpp.test -xmpphost xmpp.test)" "$(leaf_fp x1)" \
	"s_client sees the new certificate"
is "$(cat "$P/prosody.pid")" "$main_pid" "the same Prosody serves: it was reloaded, not restarted"
daemon_stop_ok
daemon_log_clean

done_testing
