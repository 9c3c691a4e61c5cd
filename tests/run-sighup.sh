#!/bin/sh
# SIGHUP re-reads the configuration.  A broken one is logged and the
# running configuration kept (a later renewal is still handled); a good
# one that adds a second service is applied, and the new service's
# renewal is handled too, while the first keeps its history.
. "$TESTS_SRCDIR/lib.sh"

require_root
require_cmd nginx openssl
require_certwatch_check
port_range 11

ca_init || bail_out "cannot make the test CA"
for c in a0 a1; do
	ca_leaf "$TEST_TMP/$c" 60 a.test || bail_out "cannot make a certificate"
done
for c in b0 b1; do
	ca_leaf "$TEST_TMP/$c" 60 b.test || bail_out "cannot make a certificate"
done
fp() {
	cert_fp "$TEST_TMP/$1.crt"
}
live_a="$TEST_TMP/live/a.test"
live_b="$TEST_TMP/live/b.test"
disk_install rename "$live_a" "$TEST_TMP/a0" &&
	disk_install rename "$live_b" "$TEST_TMP/b0" || bail_out "cannot lay out the files"

port_a=$(free_port)
port_b=$(free_port)
nginx_start "$port_a" <<NGINX || bail_out "nginx did not start"
	server {
		listen 127.0.0.1:$port_a ssl;
		ssl_certificate $live_a/fullchain.pem;
		ssl_certificate_key $live_a/privkey.pem;
	}
	server {
		listen 127.0.0.1:$port_b ssl;
		ssl_certificate $live_b/fullchain.pem;
		ssl_certificate_key $live_b/privkey.pem;
	}
NGINX

conf="$TEST_TMP/etc/certwatch.conf"
global="interval = \"1h\"
settle = \"1s\"
state-dir = \"$TEST_TMP/state\""
service_a="service a {
	cert = \"$live_a/fullchain.pem\"
	key = \"$live_a/privkey.pem\"
	name = \"a.test\"
	address = \"127.0.0.1\"
	reload-command = $(nginx_reload_argv)
	endpoint https { port = $port_a }
}"
service_b="service b {
	cert = \"$live_b/fullchain.pem\"
	key = \"$live_b/privkey.pem\"
	name = \"b.test\"
	address = \"127.0.0.1\"
	reload-command = $(nginx_reload_argv)
	endpoint https { port = $port_b }
}"
printf '%s\n%s\n' "$global" "$service_a" | write_conf "$conf"

daemon_start "$conf"
ok "the daemon starts and settles guarding service a" wait_for 30 status_all_ok "$conf"

# ---- a broken configuration --------------------------------------------------------------

printf '%s\n%s\nservice b {\n\tcert = "relative.pem"\n}\n' "$global" "$service_a" | write_conf "$conf"
mark=$(log_mark)
kill -HUP "$daemon_pid"
ok "SIGHUP with a broken configuration: the daemon says it keeps the running one" \
	wait_log "$mark" "SIGHUP: .*certwatch.conf is not valid, keeping the running configuration: .*certwatch.conf:[0-9]+" 20 ||
	diag "$(log_since "$mark")"
ok "and it is still running" kill -0 "$daemon_pid"

mark=$(log_mark)
disk_renew rename "$live_a" "$TEST_TMP/a1"
ok "a renewal after the broken SIGHUP is still handled: a's reload is verified" \
	wait_log "$mark" "a: reload verified" 20 || diag "$(log_since "$mark")"
is "$(served_fp 127.0.0.1 "$port_a" - a.test)" "$(fp a1)" "nginx serves a's renewed certificate (openssl s_client)"

# ---- a good configuration with a second service -------------------------------------------------

# The usual way to add a service: a file of its own in conf.d.
printf '%s\n' "$service_b" >"$TEST_TMP/etc/conf.d/b.conf" &&
	chmod 0600 "$TEST_TMP/etc/conf.d/b.conf"
printf '%s\n%s\n' "$global" "$service_a" | write_conf "$conf"
mark=$(log_mark)
kill -HUP "$daemon_pid"
ok "SIGHUP with a good configuration adds the second service" \
	wait_log "$mark" "configuration re-read: 2 services, 2 endpoints" 20 || diag "$(log_since "$mark")"
ok "the daemon settles guarding both services" wait_for 20 status_all_ok "$conf"
is "$(json_service "$cw_out" a last_reload_ok)" true "service a keeps its reload history across SIGHUP"
is "$(json_service "$cw_out" b phase)" idle "service b is in the status"

mark=$(log_mark)
disk_renew rename "$live_b" "$TEST_TMP/b1"
ok "the added service's renewal is handled: b's reload is verified" \
	wait_log "$mark" "b: reload verified" 20 || diag "$(log_since "$mark")"
is "$(served_fp 127.0.0.1 "$port_b" - b.test)" "$(fp b1)" "nginx serves b's renewed certificate (openssl s_client)"
is "$(log_count "$mark" 'a: reloading')" 0 "service a is not reloaded for b's renewal"

daemon_stop
is "$daemon_rc" 0 "the daemon stops on SIGTERM with status 0"
daemon_log_clean
done_testing
