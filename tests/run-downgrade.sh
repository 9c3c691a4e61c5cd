#!/bin/sh
# A "renewal" whose certificate expires before the one the service serves
# would downgrade it (OLDER-ON-DISK): the daemon does not reload for it,
# unless allow-downgrade = true.  The change on disk alone must not reload
# either: a renewal a reload has not loaded yet is reloaded (old Postfix
# processes may still hold the old pair, run-verify.sh), but only when its
# verdict wants the certificate on disk served.
. "$TESTS_SRCDIR/lib.sh"

server_test 75 nginx openssl

ca_leaves 60 web.test long
ca_leaves 30 web.test short
web_fixture certbot web.test=long
port=$(web_port web.test)

conf="$TEST_TMP/etc/certwatch.conf"
write_web() {    # EXTRA: the service's extra lines
	{ daemon_conf; web_service web web.test "reload-command = $(nginx_reload_argv)" "$@"; } |
		write_conf "$conf"
}
write_web
daemon_start "$conf"
ok "the daemon starts and settles" wait_for 30 status_all_ok "$conf" ||
	bail_out "the daemon did not settle"

# ---- a shorter-lived certificate on disk -------------------------------------------

mark=$(log_mark)
disk_renew certbot "$(web_live web.test)" "$TEST_TMP/short"
ok "the shorter-lived certificate on disk is OLDER-ON-DISK" \
	wait_log "$mark" "web/https: OLDER-ON-DISK: .*no reload, it would downgrade" 30
# sync returns once the daemon has looked and is at rest: a reload it
# decided on would have begun by then (and sync would wait for it).
cw --config "$conf" sync web
is "$cw_rc" 1 "sync: exit 1, the downgrade is a warning"
like "$cw_out" "web: idle" "sync says the service is at rest"
is "$(reloads_started "$mark" web)" 0 "no reload for a certificate that would downgrade"
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp long)" \
	"nginx still serves the certificate that expires later (openssl s_client)"

# ---- allow-downgrade = true --------------------------------------------------------

mark=$(log_mark)
write_web 'allow-downgrade = true'
kill -HUP "$daemon_pid"
ok "with allow-downgrade = true the daemon reloads" \
	wait_log "$mark" "web: reload verified" 60
is "$(served_fp 127.0.0.1 "$port" - web.test)" "$(leaf_fp short)" \
	"and nginx serves the certificate on disk"

daemon_stop_ok
done_testing
