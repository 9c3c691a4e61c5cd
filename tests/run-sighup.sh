#!/bin/sh
# SIGHUP re-reads the configuration.  A broken one is logged and the
# running configuration kept (a later renewal is still handled); a good
# one that adds a second service is applied, and the new service's
# renewal is handled too, while the first keeps its history.  A SIGHUP
# during a reload lets the reload finish and be verified first.
. "$TESTS_SRCDIR/lib.sh"

server_test 11 nginx openssl

ca_leaves 60 a.test a0 a1
ca_leaves 60 b.test b0 b1
web_fixture rename a.test=a0 b.test=b0
live_a=$(web_live a.test)
live_b=$(web_live b.test)
port_a=$(web_port a.test)
port_b=$(web_port b.test)

conf="$TEST_TMP/etc/certwatch.conf"
global=$(daemon_conf)
service_a=$(web_service a a.test "reload-command = $(nginx_reload_argv)")
service_b=$(web_service b b.test "reload-command = $(nginx_reload_argv)")
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
is "$(served_fp 127.0.0.1 "$port_a" - a.test)" "$(leaf_fp a1)" "nginx serves a's renewed certificate (openssl s_client)"

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
is "$(served_fp 127.0.0.1 "$port_b" - b.test)" "$(leaf_fp b1)" "nginx serves b's renewed certificate (openssl s_client)"
is "$(reloads_started "$mark" a)" 0 "service a is not reloaded for b's renewal"

# ---- SIGHUP while a reload is running ----------------------------------------------------------

# A reload command that reloads nginx, then takes 3 s more before it exits,
# and says when it got to its end: a SIGHUP in those 3 s must not kill it.
slow="$TEST_TMP/slow-reload"
cat >"$slow" <<EOF
#!/bin/sh
nginx -p "$NGINX_DIR/" -e "$NGINX_DIR/logs/error.log" -c "$NGINX_CONF" -s reload || exit 1
sleep 3
echo done >>"$TEST_TMP/slow-reload.done"
EOF
chmod 0755 "$slow"
service_a=$(web_service a a.test "reload-command = {\"$slow\"}")
printf '%s\n%s\n' "$global" "$service_a" | write_conf "$conf"
mark=$(log_mark)
kill -HUP "$daemon_pid"
ok "SIGHUP: service a now reloads through a slow command" \
	wait_log "$mark" "configuration re-read: 2 services, 2 endpoints" 20 || diag "$(log_since "$mark")"
ok "the daemon settles again" wait_for 20 status_all_ok "$conf"

ca_leaves 60 a.test a2
mark=$(log_mark)
disk_renew rename "$live_a" "$TEST_TMP/a2"
ok "a's renewal starts the slow reload" wait_log "$mark" "a: .*reloading to serve" 20 ||
	diag "$(log_since "$mark")"
kill -HUP "$daemon_pid"
ok "SIGHUP during the reload: the new configuration waits for it" \
	wait_log "$mark" "SIGHUP: the new configuration is valid; it takes over once the reload in progress" 20 ||
	diag "$(log_since "$mark")"
ok "the reload runs to its end and is verified" wait_log "$mark" "a: reload verified" 20 ||
	diag "$(log_since "$mark")"
ok "then the new configuration takes over" \
	wait_log "$mark" "configuration re-read: 2 services, 2 endpoints" 20 || diag "$(log_since "$mark")"
is "$(cat "$TEST_TMP/slow-reload.done" 2>/dev/null)" done "the reload command was not killed by the SIGHUP"
is "$(served_fp 127.0.0.1 "$port_a" - a.test)" "$(leaf_fp a2)" "nginx serves a's second renewal (openssl s_client)"

daemon_stop_ok
daemon_log_clean
done_testing
