#!/bin/sh
# A service reloaded through systemd (reload-unit) on a machine where the
# system bus cannot be reached (a container, no systemd): the reload fails
# with a message naming the unit, the system bus and what to use instead,
# not a bare "No such file or directory"; it counts as a failed reload, so
# the log says the failures in a row and when the next attempt comes.
. "$TESTS_SRCDIR/lib.sh"

server_test 73 nginx openssl

ca_leaves 60 web.test w0 w1
web_fixture certbot web.test=w0

# No system bus here, whatever the machine has.
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$TEST_TMP/no-such-bus"
export DBUS_SYSTEM_BUS_ADDRESS

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	web_service web web.test 'reload-unit = "certwatch-trial-nginx.service"'
} | write_conf "$conf"

daemon_start "$conf"
ok "the daemon settles" wait_for 30 status_all_ok "$conf"

mark=$(log_mark)
disk_renew certbot "$(web_live web.test)" "$TEST_TMP/w1"
ok "the reload fails" wait_log "$mark" "web: reload failed" 30
diag "$log_line"
unlike "$log_line" "could not start: No such file or directory;" \
	"the failure is more than a bare strerror"
like "$log_line" "certwatch-trial-nginx.service" "it names the unit"
like "$log_line" "cannot reach systemd on the system bus \\(unix:path=$TEST_TMP/no-such-bus\\)" \
	"it says systemd could not be reached on the system bus, and at which address"
like "$log_line" "use reload-command or reload-signal" "and what to use without systemd"
like "$log_line" "failures in a row: 1.*next attempt at" "and that it counts as a failure, backed off"

daemon_stop_ok
done_testing
