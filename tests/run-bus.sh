#!/bin/sh
# The systemd reload method end to end.  Stand-ins: a private dbus-daemon
# is the system bus (DBUS_SYSTEM_BUS_ADDRESS), tests/fake-systemd is
# systemd's manager on it, and a loop in this script plays the part of the
# unit's ExecReload=: when fake-systemd records a ReloadUnit of ok.service,
# it runs `nginx -s reload` on the real, private nginx.  So the daemon's
# whole path is real except systemd itself: ReloadUnit over D-Bus, waiting
# for the job's JobRemoved, then verifying with probes that nginx serves
# the renewed certificate.  A second service names fail.service, whose job
# ends "failed": the daemon must log the failure and back off.
. "$TESTS_SRCDIR/lib.sh"

server_test 21 nginx openssl dbus-daemon

ca_leaves 60 web.test a0 a1
ca_leaves 60 web2.test b0 b1
web_fixture k8s web.test=a0 web2.test=b0
live=$(web_live web.test)
live2=$(web_live web2.test)
port=$(web_port web.test)
port2=$(web_port web2.test)

# ---- the system bus and systemd, stand-ins ---------------------------------------------

fake_systemd_start
units=$FAKE_UNITS_LOG

# ok.service's ExecReload=.
(
	seen=0
	while :; do
		n=$(grep -c 'ReloadUnit ok.service' "$units")
		if [ "$n" -gt "$seen" ]; then
			nginx -p "$NGINX_DIR/" -e "$NGINX_DIR/logs/error.log" -c "$NGINX_CONF" -s reload
			seen=$n
		fi
		sleep 0.1
	done
) >"$TEST_TMP/exec-reload.log" 2>&1 &
at_exit "stop_pid $!"

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	web_service web web.test 'reload-unit = "ok.service"' 'reload-timeout = "10s"'
	web_service web2 web2.test 'reload-unit = "fail.service"' 'reload-timeout = "10s"'
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf"

mark=$(log_mark)
disk_renew k8s "$live" "$TEST_TMP/a1"
ok "a renewal of web: the daemon reloads ok.service over D-Bus and verifies" \
	wait_log "$mark" "web: reload verified" 20 || diag "$(log_since "$mark")"
is "$(cat "$units")" "ReloadUnit ok.service replace" \
	"systemd (fake) got exactly one ReloadUnit(ok.service, replace)"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp a1)" "nginx serves the renewed certificate (openssl s_client)"
cw status --config "$conf" --json
like "$(json_service "$cw_out" web last_result)" "systemd reloaded ok.service" \
	"status: web's last result names the unit systemd reloaded"

mark=$(log_mark)
disk_renew k8s "$live2" "$TEST_TMP/b1"
ok "a renewal of web2: the failed reload job is logged and the daemon backs off" \
	wait_log "$mark" "web2: reload failed \\(failures in a row: 1\\): .*fail.service ended with result .failed..*next attempt at" 20 ||
	diag "$(log_since "$mark")"
cw status --config "$conf" --json
is "$(json_service "$cw_out" web2 phase)/$(json_service "$cw_out" web2 failures)" backoff/1 \
	"status: web2 backs off after one failure"
is "$(served_fp 127.0.0.1 "$port2" - web2.test)" "$(leaf_fp b0)" "nginx still serves web2's old certificate"

daemon_stop_ok
daemon_log_clean
done_testing
